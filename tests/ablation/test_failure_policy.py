"""Failure policy: a run that raises is `failed`, one whose loss turns NaN is `diverged` (error type,
message and traceback tail in run.json and in the events); the sweep carries on, honours
max_retries and fail_fast, still runs the on_multirun_end callbacks (the leaderboard), and exits 1."""

from __future__ import annotations

import json

import pytest
from sweep_helpers import explain, manifest, run_events, run_record, run_sweep, runs_by_id, sweep_events

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

FAULT = "+callbacks.fault._target_"
MARK_END = "+hydra.callbacks.mark_end._target_=sweep_callbacks.MarkMultirunEnd"


def by_fault(sweep_dir):
    """fault class name -> manifest entry."""
    found = {}
    for entry in runs_by_id(sweep_dir).values():
        fault = next(o.split("=", 1)[1] for o in entry["overrides"] if o.startswith(FAULT))
        found.setdefault(fault.split(".")[-1], []).append(entry)
    return found


@pytest.fixture(scope="module")
def faulty_sweep(tmp_path_factory, train_overrides):
    cwd = tmp_path_factory.mktemp("faults")
    sweep_dir = cwd / "sweep"
    faults = ",".join(f"faults.{name}" for name in ("Healthy", "RaiseAtEpoch", "PoisonWeights", "FailOnce"))
    result = run_sweep(
        cwd,
        *train_overrides,
        f"{FAULT}={faults}",
        "hydra.sweeper.max_retries=1",
        MARK_END,
        f"hydra.sweep.dir={sweep_dir}",
    )
    return sweep_dir, result


def test_the_sweep_finishes_every_run_and_exits_1(faulty_sweep):
    sweep_dir, result = faulty_sweep
    assert result.returncode == 1, explain(result)
    runs = by_fault(sweep_dir)
    assert {name: [e["status"] for e in entries] for name, entries in runs.items()} == {
        "Healthy": ["completed"],
        "RaiseAtEpoch": ["failed"],
        "PoisonWeights": ["diverged"],
        "FailOnce": ["completed"],
    }
    assert sweep_events(sweep_dir).of("sweep_end")[0]["counts"] == {"completed": 2, "failed": 1, "diverged": 1}


def test_failed_and_diverged_runs_record_the_error(faulty_sweep):
    sweep_dir, _ = faulty_sweep
    runs = by_fault(sweep_dir)
    failed, diverged = runs["RaiseAtEpoch"][0], runs["PoisonWeights"][0]
    for entry, kind, message, raised_in in (
        (failed, "RuntimeError", "injected fault at epoch 1", "faults.py"),
        (diverged, "TrainingDiverged", "training loss became nan", "module.py"),
    ):
        record = run_record(sweep_dir, entry["run_id"])
        assert record["error"]["type"] == kind and message in record["error"]["message"]
        traceback = record["error"]["traceback"].splitlines()
        assert traceback[-1].endswith(f"{kind}: {record['error']['message']}")
        assert any(raised_in in line for line in traceback[-6:])
        assert entry["error"] == record["error"]
        run_end = [e for e in sweep_events(sweep_dir).of("run_end") if e["run_id"] == entry["run_id"]][-1]
        assert run_end["status"] == entry["status"] and run_end["error"]["type"] == kind
        assert (
            run_events(sweep_dir, entry["run_id"]).of("run_end")[-1]["error"]["message"] == record["error"]["message"]
        )


def test_failed_runs_are_retried_max_retries_times_and_diverged_ones_are_not(faulty_sweep):
    sweep_dir, _ = faulty_sweep
    attempts = {name: entries[0]["attempts"] for name, entries in by_fault(sweep_dir).items()}
    assert attempts == {"Healthy": 1, "RaiseAtEpoch": 2, "PoisonWeights": 1, "FailOnce": 2}
    transient = by_fault(sweep_dir)["FailOnce"][0]["run_id"]
    assert len(run_events(sweep_dir, transient).of("run_start")) == 2


def test_on_multirun_end_callbacks_still_run(faulty_sweep):
    sweep_dir, _ = faulty_sweep
    seen = json.loads((sweep_dir / "multirun_end.json").read_text())["statuses"]
    assert seen == {run_id: entry["status"] for run_id, entry in runs_by_id(sweep_dir).items()}
    assert (sweep_dir / "leaderboard.md").is_file()  # spectramind's leaderboard callback ran too


def test_fail_fast_stops_at_the_first_failure(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(
        tmp_path,
        *train_overrides,
        f"{FAULT}=faults.RaiseAtEpoch,faults.Healthy",
        "model=mlp,cnn1d",
        "hydra.sweeper.fail_fast=true",
        MARK_END,
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 1, explain(result)
    statuses = [run["status"] for run in manifest(sweep_dir)["runs"]]
    assert statuses == ["failed", "pending", "pending", "pending"]
    assert "fail_fast" in sweep_events(sweep_dir).of("sweep_end")[0]["stopped"]
    assert (sweep_dir / "multirun_end.json").is_file()
