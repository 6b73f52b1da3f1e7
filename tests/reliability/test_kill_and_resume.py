"""The whole sweep killed: SIGKILL to the sweep's process group (sweeper and joblib workers) while
two runs are mid-training, a writer killed mid-line in the sweep's event log, one interrupted run's
checkpoint truncated; then ``hydra.sweeper.resume=true``. Its factor values and study name are
path-like (``../../escape``): nothing may be written outside the sweep directory.

Expected: the resumed sweep completes every run; the runs completed before the kill are not
trained again; the interrupted run with a whole checkpoint continues from it and ends with exactly
the metrics of an uninterrupted run; the one with a truncated checkpoint trains from scratch and
says so; the torn event line is skipped and reported, never fatal."""

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
    run_training,
    runs_by_id,
    sweep_env,
    sweep_events,
)

from spectramind.tracking.events import read_events

from .battery import (
    FAULT_ENV,
    JOBLIB,
    RESUME,
    assert_record_intact,
    battery_overrides,
    files_outside,
    kill_writer_mid_line,
    metrics_without_timing,
)

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

STUDY = "../../study_escape"
SWEEP = [
    "training.epochs=3",
    "+callbacks.hold._target_=faults.Healthy,faults.HoldAtEpoch",
    f"+callbacks.hold.when_env={FAULT_ENV}",
    "+tag=../../escape,../../../../escape",
    f"hydra.sweeper.study={STUDY}",
]


@pytest.fixture(scope="module")
def killed_sweep(tmp_path_factory, train_overrides):
    work = tmp_path_factory.mktemp("killed")
    cwd = work / "a" / "b"
    cwd.mkdir(parents=True)
    sweep_dir = cwd / "sweep"
    overrides = [o for o in battery_overrides(train_overrides) if not o.startswith("training.epochs=")]
    args = [*overrides, *SWEEP, *JOBLIB, f"hydra.sweep.dir={sweep_dir}"]

    def two_completed_and_two_holding() -> bool:
        """The two healthy runs completed; the two others parked at epoch 1, epoch 0's checkpoint
        written (the hold is armed by FAULT_ENV: the resumed sweep, started without it, goes on)."""
        try:
            runs = list(runs_by_id(sweep_dir).values())
        except (OSError, ValueError, KeyError):
            return False
        return (
            len(runs) == 4
            and [r["status"] for r in runs[:2]] == ["completed", "completed"]
            and all((sweep_dir / "runs" / r["run_id"] / "holding.marker").is_file() for r in runs[2:])
        )

    kill_sweep_when(
        cwd,
        args,
        two_completed_and_two_holding,
        "two completed runs and two mid-training",
        env=sweep_env(**{FAULT_ENV: "1"}),
    )
    runs = manifest(sweep_dir)["runs"]
    completed, (whole, truncated) = [r["run_id"] for r in runs[:2]], [r["run_id"] for r in runs[2:]]
    before = {run_id: run_record(sweep_dir, run_id) for run_id in completed}
    interrupted = {run_id: run_record(sweep_dir, run_id)["status"] for run_id in (whole, truncated)}
    torn_line = kill_writer_mid_line(sweep_dir / "events.jsonl")
    checkpoint = sweep_dir / "runs" / truncated / "checkpoints" / "last.ckpt"
    checkpoint.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])

    resumed = run_sweep(cwd, *args, RESUME)
    return {
        "work": work,
        "cwd": cwd,
        "sweep_dir": sweep_dir,
        "completed": completed,
        "whole": whole,
        "truncated": truncated,
        "before": before,
        "interrupted": interrupted,
        "torn_line": torn_line,
        "resumed": resumed,
    }


def test_resume_completes_every_run_after_the_kill(killed_sweep):
    sweep_dir, resumed = killed_sweep["sweep_dir"], killed_sweep["resumed"]
    assert killed_sweep["interrupted"] == {killed_sweep["whole"]: "running", killed_sweep["truncated"]: "running"}
    assert resumed.returncode == 0, explain(resumed)
    assert "2 already completed, 2 to launch" in resumed.stdout
    assert [run["status"] for run in manifest(sweep_dir)["runs"]] == ["completed"] * 4
    for run in manifest(sweep_dir)["runs"]:
        assert_record_intact(sweep_dir, run["run_id"])
    assert (sweep_dir / "leaderboard.md").is_file()


def test_runs_completed_before_the_kill_are_not_trained_again(killed_sweep):
    sweep_dir = killed_sweep["sweep_dir"]
    for run_id in killed_sweep["completed"]:
        assert run_record(sweep_dir, run_id) == killed_sweep["before"][run_id]  # `started` included
        assert len(run_events(sweep_dir, run_id).of("run_start")) == 1


def test_an_interrupted_run_continues_from_its_checkpoint_to_the_uninterrupted_result(killed_sweep):
    """Fault: the process killed after epoch 0's checkpoint. Expected: the resumed run starts at
    epoch 1 and its metrics are bit-identical to those of the same config trained without a break
    (the checkpoint carries the random state; see spectramind/tracking/random_state.py)."""
    sweep_dir, run_id = killed_sweep["sweep_dir"], killed_sweep["whole"]
    record = run_record(sweep_dir, run_id)
    assert record["resumed_from"].endswith("checkpoints/last.ckpt")
    epochs = [e["epoch"] for e in run_events(sweep_dir, run_id).of("epoch_end")]
    assert epochs.count(0) == 1 and sorted(set(epochs)) == [0, 1, 2]
    reference = killed_sweep["work"] / "reference"
    manifest_entry = runs_by_id(sweep_dir)[run_id]
    result = run_training(killed_sweep["cwd"], *manifest_entry["overrides"], f"hydra.run.dir={reference}")
    assert result.returncode == 0, explain(result)
    assert json.loads((reference / "run.json").read_text())["num_threads"] == record["num_threads"]
    assert metrics_without_timing(reference / "metrics.json") == metrics_without_timing(
        sweep_dir / "runs" / run_id / "metrics.json"
    )


def test_a_truncated_checkpoint_means_training_from_scratch_and_saying_so(killed_sweep):
    sweep_dir, run_id, resumed = killed_sweep["sweep_dir"], killed_sweep["truncated"], killed_sweep["resumed"]
    checkpoint = sweep_dir / "runs" / run_id / "checkpoints" / "last.ckpt"
    record = run_record(sweep_dir, run_id)
    assert record["resumed_from"] is None
    notes = [e["message"] for e in run_events(sweep_dir, run_id).of("resume")]
    assert len(notes) == 1 and notes[0].startswith(f"checkpoint {checkpoint} is unreadable (")
    assert notes[0].endswith("); training from scratch")
    assert f"[spectramind] {notes[0]}" in resumed.stderr.splitlines()
    epochs = [e["epoch"] for e in run_events(sweep_dir, run_id).of("epoch_end")]
    assert epochs.count(0) == 2  # epoch 0 trained before the kill and again after it


def test_a_torn_line_in_the_sweep_log_is_skipped_and_reported(killed_sweep):
    """Fault: a writer killed mid-line in the sweep's events.jsonl. Expected: the resumed sweep
    appends on a fresh line; readers skip the torn line and report it; the leaderboard lists it."""
    sweep_dir, torn = killed_sweep["sweep_dir"], killed_sweep["torn_line"]
    log = sweep_events(sweep_dir)
    assert log.skipped_lines == [torn]
    names = [e["event"] for e in log.events]
    assert names.count("sweep_start") == 2 and names[-1] == "sweep_end"
    warnings = json.loads((sweep_dir / "leaderboard.json").read_text())["warnings"]
    assert f"events.jsonl: line {torn} is torn or not JSON; skipped" in warnings
    assert read_events(sweep_dir / "runs" / killed_sweep["completed"][0] / "events.jsonl").skipped_lines == []


def test_path_like_values_never_write_outside_the_sweep_directory(killed_sweep):
    """Input: factor levels ``../../escape`` and ``../../../../escape``, study ``../../study_escape``.
    Expected: run directories named by safe ids, every file inside the sweep directory, the values
    kept verbatim in the records."""
    sweep_dir, work = killed_sweep["sweep_dir"], killed_sweep["work"]
    assert files_outside(work, sweep_dir, work / "reference") == []
    for run in manifest(sweep_dir)["runs"]:
        assert (sweep_dir / "runs" / run["run_id"]).is_dir()
        assert "/" not in run["run_id"] and ".." not in run["run_id"]
    assert manifest(sweep_dir)["study"] == STUDY
    assert manifest(sweep_dir)["factors"]["tag"] == ["../../escape", "../../../../escape"]
