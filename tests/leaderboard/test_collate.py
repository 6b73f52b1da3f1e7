"""collate_runs reads every run back from disk, whatever state it is in, and drops nothing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from spectramind.errors import DatasetError
from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.reader import error_one_line

from .synthetic_sweep import HOSTILE_LEVEL, FakeRun, grid_runs


def test_every_run_is_a_row_with_its_status(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    statuses = dict(zip(table.runs["run_id"], table.runs["status"]))
    assert len(table.runs) == len(mixed_sweep.runs)
    for run in mixed_sweep.runs:
        assert statuses[run.run_id] == run.status


def test_failed_run_error_is_one_line(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    failed = table.runs[table.runs["status"] == "failed"].iloc[0]
    assert "\n" not in failed["error"]
    assert failed["error"].startswith("RuntimeError: bad | value line two")
    assert "Traceback" in failed["error_traceback"]


def test_torn_event_line_is_skipped_and_reported(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    running = next(r for r in mixed_sweep.runs if r.status == "running")
    assert any(running.run_id in w and "torn" in w for w in table.warnings)
    row = table.runs[table.runs["run_id"] == running.run_id].iloc[0]
    assert row["epochs"] == 1  # the complete epoch_end line before the torn one still counts
    assert math.isnan(row["adc2025"])


def test_pending_run_without_directory_is_listed(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    pending = next(r for r in mixed_sweep.runs if not r.has_dir)
    row = table.runs[table.runs["run_id"] == pending.run_id].iloc[0]
    assert row["status"] == "pending"
    assert row["model"] == pending.factors["model"]


def test_factor_and_metric_columns(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    assert table.factors == ["model", "optimizer.lr"]
    assert table.factor_levels["optimizer.lr"] == ["0.001", HOSTILE_LEVEL, "0.1"]
    run = mixed_sweep.runs[0]
    row = table.runs[table.runs["run_id"] == run.run_id].iloc[0]
    for key, value in run.metrics.items():
        assert row[key] == pytest.approx(value)
    assert row["optimizer.lr"] == run.factors["optimizer.lr"]
    assert row["seed"] == run.seed
    assert row["n_params"] == 1234
    assert row["git_commit"] == "abc123def456"
    assert row["dataset_hash"] == "data0123"
    assert row["dataset_dvc_md5"] == "dvc0123.dir"


def test_config_aggregates_use_completed_runs_only(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    for config_id in {r.config_id for r in mixed_sweep.runs}:
        values = [
            r.metrics["adc2025"] for r in mixed_sweep.runs if r.config_id == config_id and r.status == "completed"
        ]
        row = table.configs[table.configs["config_id"] == config_id].iloc[0]
        assert row["adc2025_n"] == len(values)
        if values:
            assert row["adc2025_mean"] == pytest.approx(np.mean(values))
            assert row["adc2025_std"] == pytest.approx(np.std(values, ddof=1))
        else:
            assert math.isnan(row["adc2025_mean"])


def test_meta_counts_statuses_and_wall_time(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    assert table.meta["status_counts"] == {"completed": 8, "failed": 1, "diverged": 1, "running": 1, "pending": 1}
    assert table.meta["wall_time_s"] == pytest.approx(mixed_sweep.wall_time_s)
    assert table.meta["finished"] is True
    assert table.meta["design"] == "grid"
    assert table.meta["study"] == "default"
    assert table.meta["dataset_hash"] == "data0123"
    assert table.meta["dataset_dvc_md5"] == "dvc0123.dir"


def test_baseline_is_the_config_marked_is_baseline(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    marked = {r.config_id for r in mixed_sweep.runs if r.is_baseline}
    assert {table.baseline_config_id} == marked


def test_grid_without_baseline_has_none(sweep_factory):
    factors = {"model": ["a", "b"]}
    sweep = sweep_factory(factors, grid_runs(factors, [0]), baseline=None)
    assert collate_runs(sweep.dir).baseline_config_id is None


def test_without_sweep_json_factors_come_from_overrides(sweep_factory):
    factors = {"model": ["mlp", "cnn1d"], "loss": ["gll"]}
    runs = grid_runs(factors, [0, 1])
    sweep = sweep_factory(factors, runs, manifest=False, sweep_events=False)
    table = collate_runs(sweep.dir)
    assert table.factors == ["model"]  # 'loss' never varies, seed is not a factor
    assert sorted(table.factor_levels["model"]) == ["cnn1d", "mlp"]
    assert sorted(table.runs["seed"].tolist()) == [0, 0, 1, 1]
    assert table.configs["config_id"].nunique() == 2
    assert set(table.configs["adc2025_n"]) == {2}
    assert table.meta["design"] is None
    # no sweep events: wall time from the runs' own timestamps (first start to last end)
    assert table.meta["wall_time_s"] == pytest.approx(33.0)


def test_manifest_running_but_process_died(sweep_factory):
    """The sweeper marked a run failed while its run.json still says running (a killed process)."""
    factors = {"model": ["a"]}
    run = FakeRun(factors={"model": "a"}, seed=0, status="running")
    sweep = sweep_factory(factors, [run])
    manifest = json.loads((sweep.dir / "sweep.json").read_text())
    manifest["runs"][0]["status"] = "failed"
    manifest["runs"][0]["error"] = {"type": "WorkerLost", "message": "killed by signal 9"}
    (sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    row = collate_runs(sweep.dir).runs.iloc[0]
    assert row["status"] == "failed"
    assert row["error"] == "WorkerLost: killed by signal 9"


def test_torn_json_files_are_reported_not_fatal(sweep_factory):
    factors = {"model": ["a", "b"]}
    sweep = sweep_factory(factors, grid_runs(factors, [0]))
    run_dir = sweep.dir / "runs" / sweep.runs[0].run_id
    (run_dir / "metrics.json").write_text('{"adc2025": 0.5, "gll"')
    (sweep.dir / "events.jsonl").open("a").write('{"event": "sweep_e')
    table = collate_runs(sweep.dir)
    assert len(table.runs) == 2
    assert any("metrics.json: unreadable" in w for w in table.warnings)
    assert any(w.startswith("events.jsonl: line") for w in table.warnings)


def test_unsafe_run_id_in_manifest_is_ignored(sweep_factory, tmp_path):
    factors = {"model": ["a"]}
    sweep = sweep_factory(factors, grid_runs(factors, [0]))
    manifest = json.loads((sweep.dir / "sweep.json").read_text())
    manifest["runs"].append({**manifest["runs"][0], "run_id": "../../outside"})
    (sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    table = collate_runs(sweep.dir)
    assert "../../outside" not in set(table.runs["run_id"])
    assert any("unsafe" in w for w in table.warnings)


def test_run_dir_missing_from_manifest_is_kept_and_reported(sweep_factory):
    factors = {"model": ["a", "b"]}
    sweep = sweep_factory(factors, grid_runs(factors, [0]))
    manifest = json.loads((sweep.dir / "sweep.json").read_text())
    dropped = manifest["runs"].pop()
    (sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    table = collate_runs(sweep.dir)
    assert dropped["run_id"] in set(table.runs["run_id"])
    assert table.runs.loc[table.runs["run_id"] == dropped["run_id"], "model"].iloc[0] == dropped["factors"]["model"]
    assert any(dropped["run_id"] in w and "not listed" in w for w in table.warnings)


def test_missing_sweep_dir_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="nowhere"):
        collate_runs(tmp_path / "nowhere")


def test_error_one_line_folds_and_truncates():
    text = error_one_line({"type": "ValueError", "message": "a\nb\r\n  c" + "x" * 1000})
    assert text.startswith("ValueError: a b c")
    assert "\n" not in text and len(text) <= 300


def test_seed_declared_as_a_factor_is_not_a_factor(sweep_factory):
    """A plain `seed=0,1` sweep may list the seed among the manifest's factors: it stays the
    replicate index (pairing key), and its runs group into one configuration per model."""
    factors = {"model": ["a", "b"]}
    sweep = sweep_factory(factors, grid_runs(factors, [0, 1]))
    manifest = json.loads((sweep.dir / "sweep.json").read_text())
    manifest["factors"]["seed"] = ["0", "1"]
    manifest["seeds"] = []
    for entry in manifest["runs"]:
        entry["factors"]["seed"] = str(entry["seed"])
        entry["seed"] = None
    (sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    table = collate_runs(sweep.dir)
    assert table.factors == ["model"]
    assert sorted(table.runs["seed"].tolist()) == [0, 0, 1, 1]  # from run.json
    assert set(table.configs["adc2025_n"]) == {2}
    assert table.meta["seeds"] == [0, 1]
