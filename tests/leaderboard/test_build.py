"""build_leaderboard writes every output, parseable, atomically, on finished and unfinished sweeps."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from spectramind.errors import DatasetError
from spectramind.leaderboard.build import OUTPUT_FILES, build_leaderboard

from .synthetic_sweep import FakeRun, grid_runs


def test_all_outputs_exist_and_parse(mixed_sweep):
    paths = build_leaderboard(mixed_sweep.dir)
    assert set(paths) == {*OUTPUT_FILES, "top"}
    for key, name in OUTPUT_FILES.items():
        assert paths[key] == mixed_sweep.dir / name and paths[key].stat().st_size > 0
    configs = pd.read_csv(paths["csv"])
    n_configs = len({r.config_id for r in mixed_sweep.runs})
    assert len(configs) == n_configs
    for column in (
        "rank",
        "config_id",
        "model",
        "optimizer.lr",
        "adc2025_mean",
        "adc2025_std",
        "adc2025_n",
        "delta",
        "p_ttest",
        "p_wilcoxon",
        "n_completed",
        "gll_mean",
    ):
        assert column in configs.columns
    runs = pd.read_csv(paths["runs_csv"])
    assert len(runs) == len(mixed_sweep.runs)
    assert sorted(runs["status"].unique()) == ["completed", "diverged", "failed", "pending", "running"]
    md_rows = [
        line
        for line in paths["markdown"].read_text().split("## Ranking", 1)[1].split("##", 1)[0].splitlines()
        if line.startswith("|")
    ]
    assert len(md_rows) == 2 + n_configs
    assert paths["html"].read_text().rstrip().endswith("</html>")
    assert not list(mixed_sweep.dir.glob(".*.tmp")), "temporary files are renamed away"


def test_json_has_plain_headline_numbers(mixed_sweep):
    document = json.loads(build_leaderboard(mixed_sweep.dir)["json"].read_text())  # strict JSON: no NaN
    completed = [r for r in mixed_sweep.runs if r.status == "completed"]
    by_config: dict[str, list[float]] = {}
    for run in completed:
        by_config.setdefault(run.config_id, []).append(run.metrics["adc2025"])
    best = max(np.mean(v) for v in by_config.values())
    baseline = np.mean([r.metrics["adc2025"] for r in completed if r.is_baseline])
    assert document["best_adc2025"] == pytest.approx(best)
    assert document["baseline_adc2025"] == pytest.approx(baseline)
    assert document["best_delta_vs_baseline"] == pytest.approx(best - baseline)
    assert (document["n_runs"], document["n_completed"], document["n_failed"], document["n_pending"]) == (12, 8, 1, 1)
    assert [c["rank"] for c in document["configs"]][:4] == [1, 2, 3, 4]
    assert document["configs"][-1]["adc2025_mean"] is None
    assert {r["status"] for r in document["runs"]} >= {"failed", "diverged", "running", "pending"}
    assert isinstance(document["wall_time_s"], float)


def test_lower_is_better_primary_metric(mixed_sweep):
    paths = build_leaderboard(mixed_sweep.dir, primary_metric="rmse_ppm", top_n=0)
    assert "top" not in paths
    document = json.loads(paths["json"].read_text())
    assert document["higher_is_better"] is False
    scored = [c["rmse_ppm_mean"] for c in document["configs"] if c["rmse_ppm_mean"] is not None]
    assert scored == sorted(scored) and document["best_rmse_ppm"] == scored[0]


def test_still_running_sweep_without_any_result(sweep_factory):
    runs = [
        FakeRun({"f": "a"}, 0, status="running", torn_events=True),
        FakeRun({"f": "b"}, 0, status="pending", has_dir=False),
    ]
    sweep = sweep_factory({"f": ["a", "b"]}, runs, finished=False)
    paths = build_leaderboard(sweep.dir)
    document = json.loads(paths["json"].read_text())
    assert document["best_adc2025"] is None and document["n_running"] == 1 and document["n_pending"] == 1
    assert document["meta"]["finished"] is False
    assert "not finished" in paths["markdown"].read_text()
    assert json.loads((paths["top"] / "index.json").read_text())["configs"] == []


def test_plain_hydra_multirun_without_sweep_json(sweep_factory):
    factors = {"model": ["mlp", "cnn1d"], "optimizer.lr": ["0.001", "0.01"]}
    sweep = sweep_factory(factors, grid_runs(factors, [0, 1]), manifest=False, sweep_events=False)
    paths = build_leaderboard(sweep.dir)
    configs = pd.read_csv(paths["csv"])
    assert len(configs) == 4 and {"model", "optimizer.lr"} <= set(configs.columns)
    assert configs["delta"].isna().all()  # no baseline declared anywhere


def test_rebuild_overwrites_outputs(mixed_sweep):
    first = build_leaderboard(mixed_sweep.dir)["json"].read_text()
    run = next(r for r in mixed_sweep.runs if r.status == "running")
    run_dir = mixed_sweep.dir / "runs" / run.run_id
    (run_dir / "metrics.json").write_text(
        json.dumps({**mixed_sweep.runs[0].metrics, "adc2025": 0.99, "adc2025_unclipped": 0.99})
    )
    record = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**record, "status": "completed"}))
    second = json.loads(build_leaderboard(mixed_sweep.dir)["json"].read_text())
    assert first != json.dumps(second)
    assert second["best_adc2025"] == pytest.approx(0.99) and second["n_running"] == 0
    assert math.isclose(second["configs"][0]["adc2025_mean"], 0.99)


def test_missing_sweep_dir(tmp_path):
    with pytest.raises(DatasetError):
        build_leaderboard(tmp_path / "absent")


def test_a_folder_that_is_not_a_sweep_is_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("not a sweep")
    (tmp_path / "data").mkdir()
    with pytest.raises(DatasetError, match="not a sweep directory"):
        build_leaderboard(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes.txt"]


def test_empty_sweep_dir_still_gets_every_output(tmp_path):
    (tmp_path / "multirun.yaml").write_text("hydra: {}\n")  # a Hydra multirun with no runs yet
    paths = build_leaderboard(tmp_path)
    document = json.loads(paths["json"].read_text())
    assert document["n_runs"] == 0 and document["best_adc2025"] is None
    assert "0 runs" in paths["markdown"].read_text()
    assert paths["html"].read_text().rstrip().endswith("</html>")
