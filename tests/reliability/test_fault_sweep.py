"""Faults during a parallel sweep (joblib, 2 workers, 5 runs): a run that raises, a run whose loss
turns NaN, and a run whose worker process is SIGKILLed, all armed by an environment variable; then
the sweep resumed without them. Nothing completed may be lost or trained again, every other run
must still train, and the statuses, records and leaderboard must say what happened."""

from __future__ import annotations

import json

from sweep_helpers import explain, manifest, run_events, run_record, sweep_events

from .battery import assert_record_intact, by_fault, fault_of, run_starts

EXPECTED_FIRST = {
    "Healthy": "completed",
    "Healthy-lr": "completed",
    "RaiseAtEpoch": "failed",
    "PoisonWeights": "diverged",
    "KillProcessAtEpoch": "failed",
}


def test_each_fault_gives_its_status_and_the_sweep_exits_1(fault_sweep):
    """Fault: exception / NaN loss / SIGKILL of the run's process. Expected: failed / diverged /
    failed, both healthy runs completed, exit status 1, and one stderr line per unsuccessful run
    naming its error."""
    first = fault_sweep["first"]
    assert first.returncode == 1, explain(first)
    runs = {fault_of(entry): entry for entry in fault_sweep["after_first"]["manifest"]["runs"]}
    assert {fault: entry["status"] for fault, entry in runs.items()} == EXPECTED_FIRST
    assert runs["RaiseAtEpoch"]["error"]["message"] == "injected fault at epoch 1"
    assert runs["PoisonWeights"]["error"]["type"] == "TrainingDiverged"
    assert runs["KillProcessAtEpoch"]["error"]["type"] == "TerminatedWorkerError"
    for fault in ("RaiseAtEpoch", "PoisonWeights", "KillProcessAtEpoch"):
        entry = runs[fault]
        line = f"[ablation] {entry['status']}: {entry['run_id']}: {entry['error']['type']}: {entry['error']['message']}"
        assert line in first.stderr.splitlines(), explain(first)
    assert "Traceback" not in first.stderr, explain(first)


def test_a_killed_worker_costs_only_its_own_run(fault_sweep):
    """Fault: SIGKILL of one worker, which makes loky stop the whole pool and lose the batch.
    Expected: the runs that were running are relaunched one at a time (so the crash names its
    run), the runs that never started are relaunched as usual; only the killed run ends failed."""
    after = fault_sweep["after_first"]["manifest"]
    runs = {fault_of(entry): entry for entry in after["runs"]}
    lost = sweep_events(fault_sweep["sweep_dir"]).of("batch_lost")
    assert lost, "the sweep events record the lost batch"
    killed = runs["KillProcessAtEpoch"]["run_id"]
    suspects = set(lost[0]["suspects"])
    assert killed in suspects and set(lost[0]["relaunched"]) >= suspects
    assert len(lost) == 1  # relaunched alone, the killed run lost no other run's results
    # a run that was running when the pool died started twice (then alone); any other run once
    assert {entry["run_id"]: entry["attempts"] for entry in after["runs"]} == {
        entry["run_id"]: 2 if entry["run_id"] in suspects else 1 for entry in after["runs"]
    }


def test_every_completed_run_keeps_an_intact_record(fault_sweep):
    sweep_dir = fault_sweep["sweep_dir"]
    for entry in fault_sweep["after_first"]["manifest"]["runs"]:
        if entry["status"] == "completed":
            assert fault_sweep["after_first"]["records"][entry["run_id"]]["status"] == "completed"
    for entry in manifest(sweep_dir)["runs"]:
        assert_record_intact(sweep_dir, entry["run_id"])


def test_the_leaderboard_is_built_after_the_faults_and_after_the_resume(fault_sweep):
    sweep_dir = fault_sweep["sweep_dir"]
    first = fault_sweep["after_first"]["leaderboard"]
    assert first is not None, "leaderboard.json after the faulty sweep"
    assert (first["n_completed"], first["n_failed"], first["n_diverged"]) == (2, 2, 1)
    assert (sweep_dir / "leaderboard.md").is_file() and (sweep_dir / "leaderboard.html").is_file()
    final = json.loads((sweep_dir / "leaderboard.json").read_text())
    assert final["n_completed"] == 5 and final["warnings"] == []


def test_resume_trains_the_rest_and_never_a_completed_run_again(fault_sweep):
    """Expected: the resumed sweep (faults no longer armed) completes the failed, diverged and
    killed runs; the runs completed before keep their record (``started`` included) and have no
    new run_start event."""
    sweep_dir, resumed = fault_sweep["sweep_dir"], fault_sweep["resumed"]
    before = fault_sweep["after_first"]
    assert resumed.returncode == 0, explain(resumed)
    assert "2 already completed, 3 to launch" in resumed.stdout
    assert [run["status"] for run in manifest(sweep_dir)["runs"]] == ["completed"] * 5
    starts = run_starts(sweep_dir)
    for entry in before["manifest"]["runs"]:
        run_id = entry["run_id"]
        if entry["status"] == "completed":
            assert run_record(sweep_dir, run_id) == before["records"][run_id]
            assert starts[run_id] == before["run_starts"][run_id]
        else:
            assert starts[run_id] == before["run_starts"][run_id] + 1
    killed = by_fault(sweep_dir)["KillProcessAtEpoch"]["run_id"]
    resume_events = run_events(sweep_dir, killed).of("resume")
    assert resume_events and "resuming interrupted run" in resume_events[-1]["message"]


def test_a_lost_batch_is_split_into_suspects_and_bystanders_by_the_runs_own_records(tmp_path):
    """The rule behind the relaunch: records written since the launch decide. A finished run keeps
    its outcome, a run still ``running`` is a suspect, a run without a record (or with only an
    earlier attempt's record) never started in this batch."""
    from spectramind.ablation.plan import split_lost_batch
    from spectramind.tracking.record import write_json_atomic

    launched = "2026-01-01T00:00:10.000000Z"
    for run_id, status, started in (
        ("done", "completed", "2026-01-01T00:00:11.000000Z"),
        ("crashed", "running", "2026-01-01T00:00:12.000000Z"),
        ("earlier", "failed", "2026-01-01T00:00:01.000000Z"),
    ):
        write_json_atomic(
            tmp_path / "runs" / run_id / "run.json", {"run_id": run_id, "status": status, "started": started}
        )
    suspects, bystanders = split_lost_batch(tmp_path, ["done", "crashed", "earlier", "unstarted"], since=launched)
    assert (suspects, bystanders) == (["crashed"], ["earlier", "unstarted"])
