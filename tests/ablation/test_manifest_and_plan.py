"""sweep.json under parallel writers, and the pure planning / reconciling functions of resume."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from spectramind.ablation.design import Factor, Level, expand_design
from spectramind.ablation.manifest import load_manifest, record_run_status, save_manifest
from spectramind.ablation.plan import next_job_number, plan_sweep, reconcile_runs
from spectramind.timestamps import utc_now
from spectramind.tracking.events import read_events
from spectramind.tracking.record import write_json_atomic

STUDY = {"study": None, "design": "grid", "factors": {}, "seeds": [], "seed_key": "seed"}


def specs(n: int):
    lr = Factor("optimizer.lr", tuple(Level(f"optimizer.lr={i}e-4", i * 1e-4) for i in range(1, n + 1)))
    return expand_design([lr])


def hashes_of(planned, changed: str | None = None):
    return {s.run_id: ("changed" if s.run_id == changed else f"hash-{s.run_id}") for s in planned}


def write_record(sweep_dir: Path, run_id: str, status: str, config_hash: str, started: str | None = None):
    write_json_atomic(
        sweep_dir / "runs" / run_id / "run.json",
        {
            "run_id": run_id,
            "status": status,
            "config_hash": config_hash,
            "started": started or utc_now(),
            "ended": None if status == "running" else utc_now(),
            "error": {"type": "RuntimeError", "message": "boom", "traceback": ""} if status == "failed" else None,
        },
    )


# ---------------------------------------------------------------- parallel writers
def _worker(sweep_dir: str, run_ids: list[str]) -> None:
    for run_id in run_ids:
        record = {"run_id": run_id, "status": "running", "started": utc_now(), "ended": None}
        record_run_status(sweep_dir, record)
        record.update(status="completed", ended=utc_now(), durations={"total_s": 0.1})
        record_run_status(sweep_dir, record, metrics={"adc2025": 0.5, "gll": 1.0, "not_headline": 2.0})


def test_parallel_workers_lose_no_update_and_no_event_line(tmp_path):
    planned = specs(48)
    plan = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None)
    save_manifest(tmp_path, plan.manifest)
    ids = [s.run_id for s in planned]
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker, args=(str(tmp_path), ids[i::4])) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    runs = load_manifest(tmp_path)["runs"]
    assert [(r["status"], r["attempts"]) for r in runs] == [("completed", 1)] * 48
    log = read_events(tmp_path / "events.jsonl")
    assert log.skipped_lines == []
    assert sorted(e["run_id"] for e in log.of("run_end")) == sorted(ids)
    assert all(e["metrics"] == {"adc2025": 0.5, "gll": 1.0} and e["duration_s"] == 0.1 for e in log.of("run_end"))


# ---------------------------------------------------------------- planning
def test_a_fresh_plan_launches_everything_even_over_old_records(tmp_path):
    planned = specs(3)
    write_record(tmp_path, planned[0].run_id, "completed", f"hash-{planned[0].run_id}")
    plan = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None)
    assert [s.run_id for s in plan.to_launch] == [s.run_id for s in planned] and plan.completed == []


def test_resume_skips_only_runs_completed_with_the_same_config(tmp_path):
    planned = specs(5)
    ids = [s.run_id for s in planned]
    first = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None)
    write_record(tmp_path, ids[0], "completed", f"hash-{ids[0]}")
    write_record(tmp_path, ids[1], "completed", f"hash-{ids[1]}")  # its config changes below
    write_record(tmp_path, ids[2], "failed", f"hash-{ids[2]}")
    write_record(tmp_path, ids[3], "running", f"hash-{ids[3]}")  # interrupted
    plan = plan_sweep(
        planned, hashes_of(planned, changed=ids[1]), tmp_path, study=STUDY, previous=first.manifest, budget_runs=None
    )
    assert plan.completed == [ids[0]]
    assert [s.run_id for s in plan.to_launch] == ids[1:]
    assert [r["status"] for r in plan.manifest["runs"]] == ["completed"] + ["pending"] * 4
    assert "5 runs" in plan.summary() and "1 already completed, 4 to launch" in plan.summary()


def test_a_run_budget_leaves_the_rest_pending(tmp_path):
    planned = specs(5)
    plan = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=2)
    assert [s.run_id for s in plan.to_launch] == [s.run_id for s in planned[:2]]
    assert plan.over_budget == [s.run_id for s in planned[2:]]
    assert "3 left pending by max_runs" in plan.summary()


def test_runs_without_a_record_resume_from_the_manifest_when_their_directory_exists(tmp_path):
    planned = specs(3)
    first = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None)
    for number, entry in enumerate(first.manifest["runs"]):
        entry.update(status="completed", job_num=number, run_dir=str(number))
    (tmp_path / "0").mkdir()
    (tmp_path / "2").mkdir()
    plan = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=first.manifest, budget_runs=None)
    assert plan.completed == [planned[0].run_id, planned[2].run_id]
    assert next_job_number(plan.manifest) == 3  # numbers already handed out are never reused


def test_job_numbers_continue_after_runs_that_left_the_plan(tmp_path):
    planned = specs(4)
    first = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None)
    first.manifest["runs"][3]["job_num"] = 7
    first.manifest["next_job_num"] = 8
    plan = plan_sweep(planned[:2], hashes_of(planned), tmp_path, study=STUDY, previous=first.manifest, budget_runs=None)
    assert next_job_number(plan.manifest) == 8


# ---------------------------------------------------------------- reconciling a launched batch
@pytest.mark.parametrize(
    "record_status, job_error, expected_status, attempts_added, sweeper_logs_end",
    [
        ("completed", None, "completed", 0, False),
        ("failed", {"type": "RuntimeError", "message": "boom", "traceback": ""}, "failed", 0, False),
        ("running", None, "failed", 0, True),  # the run's process died without recording an outcome
        (None, None, "completed", 1, True),  # a task function that keeps no run.json
        (None, {"type": "KeyError", "message": "'x'", "traceback": "tb"}, "failed", 1, True),
    ],
)
def test_reconcile_a_batch(tmp_path, record_status, job_error, expected_status, attempts_added, sweeper_logs_end):
    planned = specs(1)
    run_id = planned[0].run_id
    manifest = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None).manifest
    if record_status is not None:
        write_record(tmp_path, run_id, record_status, f"hash-{run_id}")
    statuses, unreported = reconcile_runs(tmp_path, manifest, [run_id], {run_id: job_error})
    entry = manifest["runs"][0]
    assert statuses == {run_id: expected_status} and entry["status"] == expected_status
    assert entry["attempts"] == attempts_added
    assert (run_id in unreported) is sweeper_logs_end
    if expected_status == "failed":
        assert entry["error"]["type"] in ("RuntimeError", "KeyError", "ProcessDied")
    if record_status == "running":
        assert entry["error"]["type"] == "ProcessDied"


def test_the_latest_attempt_of_a_run_wins_when_it_has_several_directories(tmp_path):
    planned = specs(1)
    run_id = planned[0].run_id
    manifest = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None).manifest
    write_json_atomic(
        tmp_path / "0" / "run.json",
        {
            "run_id": run_id,
            "status": "failed",
            "started": "2025-01-01T00:00:00Z",
            "error": {"type": "RuntimeError", "message": "", "traceback": ""},
        },
    )
    write_json_atomic(
        tmp_path / "3" / "run.json",
        {"run_id": run_id, "status": "completed", "started": "2025-01-02T00:00:00Z", "error": None},
    )
    statuses, _ = reconcile_runs(tmp_path, manifest, [run_id], {run_id: None})
    assert statuses[run_id] == "completed"


def test_the_plan_line_counts_seeds_swept_as_an_override(tmp_path):
    """`seed=0,1 model=mlp,cnn1d`: the seed factor groups runs into configurations, and the plan line
    says so (it used to count only the study's `seeds` list: "2 configurations x 1 seeds")."""
    model = Factor("model", (Level("model=mlp", "mlp"), Level("model=cnn1d", "cnn1d")))
    seed = Factor("seed", (Level("seed=0", 0), Level("seed=1", 1)))
    planned = expand_design([model, seed])
    plan = plan_sweep(planned, hashes_of(planned), tmp_path, study=STUDY, previous=None, budget_runs=None)
    assert "4 runs (2 configurations x 2 seeds)" in plan.summary()
