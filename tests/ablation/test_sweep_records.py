"""A default-grid sweep end to end: the plan it prints, stable run ids and directories,
configs_resolved/, sweep.json and events.jsonl, then the same sweep extended by one level."""

from __future__ import annotations

import pytest
import yaml
from sweep_helpers import explain, manifest, run_events, run_record, run_sweep, runs_by_id, sweep_events

from spectramind.tracking.identity import run_identity

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

GRID = ["model=mlp,cnn1d", "optimizer.lr=1e-3,1e-2"]


def planned_ids(train_overrides: list[str], models, lrs) -> dict[str, list[str]]:
    """run_id -> overrides, computed independently of the sweeper (BasicSweeper's order)."""
    ids = {}
    for model in models:
        for lr in lrs:
            overrides = [*train_overrides, f"model={model}", f"optimizer.lr={lr}"]
            ids[run_identity(overrides).run_id] = overrides
    return ids


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory, train_overrides):
    cwd = tmp_path_factory.mktemp("grid")
    sweep_dir = cwd / "sweep"
    result = run_sweep(cwd, *train_overrides, *GRID, f"hydra.sweep.dir={sweep_dir}")
    assert result.returncode == 0, explain(result)
    snapshot = {run_id: run_record(sweep_dir, run_id) for run_id in runs_by_id(sweep_dir)}
    return cwd, sweep_dir, result, snapshot


def test_without_a_study_the_design_is_the_full_grid(grid_sweep, train_overrides):
    _, sweep_dir, result, _ = grid_sweep
    expected = planned_ids(train_overrides, ["mlp", "cnn1d"], ["0.001", "0.01"])
    assert "design=grid: 4 runs" in result.stdout and "0 already completed" in result.stdout
    plan = manifest(sweep_dir)
    assert plan["design"] == "grid"
    assert plan["factors"] == {"model": ["mlp", "cnn1d"], "optimizer.lr": ["0.001", "0.01"]}
    assert [r["run_id"] for r in plan["runs"]] == list(expected)
    assert all(r["overrides"] == expected[r["run_id"]] for r in plan["runs"])


def test_each_run_lives_in_runs_run_id_with_its_resolved_config(grid_sweep):
    _, sweep_dir, _, _ = grid_sweep
    run_dirs = sorted(p.name for p in (sweep_dir / "runs").iterdir())
    assert run_dirs == sorted(runs_by_id(sweep_dir))
    for run_id, entry in runs_by_id(sweep_dir).items():
        record = run_record(sweep_dir, run_id)
        assert record["run_id"] == run_id == run_identity(record["overrides"]).run_id
        snapshot = (sweep_dir / "configs_resolved" / f"{run_id}.yaml").read_text()
        assert snapshot == (sweep_dir / "runs" / run_id / "config_resolved.yaml").read_text()
        backbone = yaml.safe_load(snapshot)["model"]["backbone"]["_target_"]
        expected = {"model=mlp": "MLPBackbone", "model=cnn1d": "CNN1dBackbone"}
        assert [backbone.endswith(expected[o]) for o in record["overrides"] if o in expected] == [True]
        assert entry["run_dir"] == f"runs/{run_id}"


def test_the_manifest_lists_every_run_with_its_outcome(grid_sweep):
    _, sweep_dir, _, _ = grid_sweep
    for run_id, entry in runs_by_id(sweep_dir).items():
        record = run_record(sweep_dir, run_id)
        assert entry["status"] == record["status"] == "completed"
        assert entry["config_hash"] == record["config_hash"]  # pre-flight hash == the run's own
        assert entry["attempts"] == 1
        assert entry["started"] == record["started"] and entry["ended"] == record["ended"]
        assert entry["error"] is None


def test_sweep_events_record_start_plan_each_run_end_and_end(grid_sweep):
    _, sweep_dir, _, _ = grid_sweep
    log = sweep_events(sweep_dir)
    assert log.skipped_lines == []
    names = [e["event"] for e in log.events]
    assert names[:2] == ["sweep_start", "plan"] and names[-1] == "sweep_end"
    assert log.of("plan")[0]["n_runs"] == 4 and len(log.of("plan")[0]["to_launch"]) == 4
    ends = log.of("run_end")
    assert sorted(e["run_id"] for e in ends) == sorted(runs_by_id(sweep_dir))
    for event in ends:
        assert event["status"] == "completed" and event["duration_s"] > 0
        assert set(event["metrics"]) >= {"adc2025", "gll"}
    assert log.of("sweep_end")[0]["counts"] == {"completed": 4}


def test_rerunning_into_a_finished_sweep_without_resume_is_refused(grid_sweep, train_overrides):
    cwd, sweep_dir, _, snapshot = grid_sweep
    result = run_sweep(cwd, *train_overrides, *GRID, f"hydra.sweep.dir={sweep_dir}")
    assert result.returncode != 0
    assert "sweep.json already exists" in result.stderr and "resume=true" in result.stderr
    assert {run_id: run_record(sweep_dir, run_id) for run_id in snapshot} == snapshot


def test_extending_a_sweep_reuses_its_finished_runs(grid_sweep, train_overrides):
    cwd, sweep_dir, _, snapshot = grid_sweep
    result = run_sweep(
        cwd,
        *train_overrides,
        "model=mlp,cnn1d",
        "optimizer.lr=1e-3,1e-2,3e-3",
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.sweeper.resume=true",
    )
    assert result.returncode == 0, explain(result)
    assert "design=grid: 6 runs" in result.stdout and "4 already completed, 2 to launch" in result.stdout
    expected = planned_ids(train_overrides, ["mlp", "cnn1d"], ["0.001", "0.01", "0.003"])
    runs = runs_by_id(sweep_dir)
    assert set(runs) == set(expected) and all(r["status"] == "completed" for r in runs.values())
    for run_id, before in snapshot.items():  # never trained again, never overwritten
        assert run_record(sweep_dir, run_id) == before
        assert len(run_events(sweep_dir, run_id).of("run_start")) == 1
    new = set(expected) - set(snapshot)
    assert len(new) == 2 and all(runs[i]["attempts"] == 1 for i in new)
    plan_events = sweep_events(sweep_dir).of("plan")
    assert len(plan_events) == 2 and sorted(plan_events[1]["completed"]) == sorted(snapshot)
    assert sorted(plan_events[1]["to_launch"]) == sorted(new)
