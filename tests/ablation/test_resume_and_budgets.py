"""Resume and budgets end to end: runs left pending by max_runs / time_budget_s are picked up by
`hydra.sweeper.resume=true`, failed runs are retried, and a sweep killed with SIGKILL mid-run ends,
once resumed, with every run completed, the interrupted one continued from its last checkpoint and
no completed run trained again."""

from __future__ import annotations

import json

import pytest
from sweep_helpers import (
    explain,
    kill_sweep_when,
    manifest,
    run_events,
    run_record,
    run_sweep,
    runs_by_id,
    sweep_events,
)

from spectramind.tracking.identity import run_identity

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

RESUME = "hydra.sweeper.resume=true"


def statuses(sweep_dir) -> list[str]:
    return [run["status"] for run in manifest(sweep_dir)["runs"]]


def records(sweep_dir, run_ids) -> dict[str, dict]:
    return {run_id: run_record(sweep_dir, run_id) for run_id in run_ids}


def test_budgets_leave_runs_pending_and_resume_finishes_them(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    args = [*train_overrides, "model=mlp,cnn1d", "loss=gll,mse", f"hydra.sweep.dir={sweep_dir}"]

    first = run_sweep(tmp_path, *args, "hydra.sweeper.max_runs=2")
    assert first.returncode == 0, explain(first)
    assert "2 left pending by max_runs" in first.stdout
    assert statuses(sweep_dir) == ["completed", "completed", "pending", "pending"]
    assert sorted(p.name for p in (sweep_dir / "runs").iterdir()) == sorted(
        r["run_id"] for r in manifest(sweep_dir)["runs"][:2]
    )
    done = records(sweep_dir, [r["run_id"] for r in manifest(sweep_dir)["runs"][:2]])

    # a time budget shorter than one run: the first launch happens, then the sweep stops launching
    second = run_sweep(tmp_path, *args, RESUME, "hydra.sweeper.time_budget_s=0.01")
    assert second.returncode == 0, explain(second)
    assert statuses(sweep_dir) == ["completed", "completed", "completed", "pending"]
    assert "time budget" in sweep_events(sweep_dir).of("sweep_end")[-1]["stopped"]

    third = run_sweep(tmp_path, *args, RESUME)
    assert third.returncode == 0, explain(third)
    assert "3 already completed, 1 to launch" in third.stdout
    assert statuses(sweep_dir) == ["completed"] * 4
    assert records(sweep_dir, done) == done
    assert all(run["attempts"] == 1 for run in manifest(sweep_dir)["runs"])


def test_resume_retries_failed_runs_and_skips_completed_ones(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    args = [
        *train_overrides,
        "+callbacks.fault._target_=faults.Healthy,faults.FailOnce",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    first = run_sweep(tmp_path, *args)
    assert first.returncode == 1, explain(first)
    assert statuses(sweep_dir) == ["completed", "failed"]
    healthy = manifest(sweep_dir)["runs"][0]["run_id"]
    before = run_record(sweep_dir, healthy)

    second = run_sweep(tmp_path, *args, RESUME)
    assert second.returncode == 0, explain(second)
    assert "1 already completed, 1 to launch" in second.stdout
    assert statuses(sweep_dir) == ["completed", "completed"]
    assert [run["attempts"] for run in manifest(sweep_dir)["runs"]] == [1, 2]
    assert run_record(sweep_dir, healthy) == before


def test_a_sigkilled_sweep_resumes_to_the_same_completed_set(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    slow = [
        *(o for o in train_overrides if not o.startswith("training.epochs=")),
        "training.epochs=4",
        "+callbacks.slow._target_=faults.SlowEpochs",
        "+callbacks.slow.seconds=0.3",
    ]
    levels = ["0.001", "0.003", "0.01"]
    args = [*slow, f"optimizer.lr={','.join(levels)}", f"hydra.sweep.dir={sweep_dir}"]
    planned = [run_identity([*slow, f"optimizer.lr={lr}"]).run_id for lr in levels]

    def mid_run() -> bool:
        """One run completed and the next one interrupted after writing a checkpoint."""
        try:
            runs = runs_by_id(sweep_dir)
        except (OSError, ValueError):
            return False
        return (
            runs[planned[0]]["status"] == "completed"
            and (sweep_dir / "runs" / planned[1] / "checkpoints" / "last.ckpt").is_file()
        )

    kill_sweep_when(tmp_path, args, mid_run, "the first run to complete and the second to checkpoint")
    assert run_record(sweep_dir, planned[1])["status"] == "running"
    completed_before = [run_id for run_id, run in runs_by_id(sweep_dir).items() if run["status"] == "completed"]
    before = records(sweep_dir, completed_before)

    result = run_sweep(tmp_path, *args, RESUME)
    assert result.returncode == 0, explain(result)
    assert [run["run_id"] for run in manifest(sweep_dir)["runs"]] == planned
    assert statuses(sweep_dir) == ["completed"] * 3  # the set an uninterrupted sweep ends with
    for run_id in completed_before:  # not trained again
        assert run_record(sweep_dir, run_id) == before[run_id]
        assert len(run_events(sweep_dir, run_id).of("run_start")) == 1
    interrupted = run_record(sweep_dir, planned[1])
    assert interrupted["resumed_from"].endswith("last.ckpt")
    assert run_events(sweep_dir, planned[1]).of("resume")
    metrics = json.loads((sweep_dir / "runs" / planned[1] / "metrics.json").read_text())
    assert metrics["epochs"] == 4  # trained to the end, continuing from the checkpoint
    epochs_run = [e["epoch"] for e in run_events(sweep_dir, planned[1]).of("epoch_end")]
    assert sorted(set(epochs_run)) == [0, 1, 2, 3] and len(epochs_run) < 2 * 4


def test_resume_reruns_runs_whose_record_or_metrics_are_damaged(tmp_path, train_overrides):
    """The sweep's own manifest says completed, but a run's run.json is torn and another's
    metrics.json is garbage: exactly those two are trained again; `status` on the folder, moved,
    names the folder it was given."""
    sweep_dir = tmp_path / "sweep"
    args = [
        *train_overrides,
        "model=mlp,cnn1d",
        "loss=gll,mse",
        "hydra.sweeper.design=ofat",
        "+hydra.sweeper.baseline={model: mlp, loss: gll}",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    first = run_sweep(tmp_path, *args)
    assert first.returncode == 0, explain(first)
    torn, garbage, intact = (run["run_id"] for run in manifest(sweep_dir)["runs"])
    before = run_record(sweep_dir, intact)
    record = sweep_dir / "runs" / torn / "run.json"
    record.write_text(record.read_text()[: len(record.read_text()) // 2])
    (sweep_dir / "runs" / garbage / "metrics.json").write_text("{not json")

    resumed = run_sweep(tmp_path, *args, RESUME)
    assert resumed.returncode == 0, explain(resumed)
    assert "1 already completed, 2 to launch" in resumed.stdout
    assert statuses(sweep_dir) == ["completed"] * 3
    assert run_record(sweep_dir, intact) == before
    for run_id in (torn, garbage):
        assert len(run_events(sweep_dir, run_id).of("run_start")) >= 1
        assert json.loads((sweep_dir / "runs" / run_id / "metrics.json").read_text())["adc2025"] is not None

    moved = tmp_path / "moved"
    sweep_dir.rename(moved)
    from spectramind.ablation.status import sweep_status

    header = sweep_status(moved).splitlines()[0]
    assert header.startswith(f"sweep {moved.resolve()} (recorded at {sweep_dir.resolve()}: moved or copied)")
