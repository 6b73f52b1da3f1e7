"""The sweep runner without Hydra: a real in-process launch function whose runs keep real run
records (``RunRecorder`` mirroring into ``sweep.json``), failing, diverging or killing their
"worker" on demand; the runner's policy (retries, fail_fast, budget, lost batches) is checked
from what it leaves on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import sweep_run_recorder

from spectramind.ablation import outcome
from spectramind.ablation.design import Factor, Level, expand_design
from spectramind.ablation.manifest import load_manifest, save_manifest
from spectramind.ablation.plan import plan_sweep
from spectramind.ablation.runner import JobOutcome, RunnerPolicy, run_sweep
from spectramind.errors import TrainingDiverged
from spectramind.tracking.events import read_events
from spectramind.tracking.record import error_record

STUDY = {"study": None, "design": "grid", "factors": {}, "seeds": [], "seed_key": "seed"}


class WorkerDied(Exception):
    """What a launcher raises when a worker process dies: the whole batch's results are lost."""


class InProcessLauncher:
    """Runs each job in this process with a real RunRecorder.

    ``behaviour[run_id]`` is a list of what successive attempts do: "ok", "fail", "diverge", or
    "kill" (the run starts, its record says running, and the batch is lost as a worker death
    would lose it). Calls are recorded as (first job number, run ids)."""

    def __init__(self, sweep_dir: Path, behaviour: dict[str, list[str]] | None = None) -> None:
        self.sweep_dir = sweep_dir
        self.behaviour = {k: list(v) for k, v in (behaviour or {}).items()}
        self.calls: list[tuple[int, list[str]]] = []

    def __call__(self, batch, first_number: int) -> list[JobOutcome]:
        self.calls.append((first_number, [spec.run_id for spec in batch]))
        results = []
        for spec in batch:
            plan = self.behaviour.get(spec.run_id)
            action = plan.pop(0) if plan else "ok"
            recorder = sweep_run_recorder(self.sweep_dir, spec)
            if action == "kill":
                recorder.start()  # and never finishes: its process is gone
                raise WorkerDied(f"worker running {spec.run_id} died")
            error = None
            try:
                with recorder:
                    if action == "fail":
                        raise RuntimeError(f"{spec.run_id} failed")
                    if action == "diverge":
                        raise TrainingDiverged(f"{spec.run_id} diverged")
            except Exception as exc:
                error = error_record(exc)
            results.append(JobOutcome(error=error, run_dir=f"runs/{spec.run_id}"))
        return results


def start_sweep(sweep_dir: Path, n_runs: int):
    lr = Factor("optimizer.lr", tuple(Level(f"optimizer.lr={i}e-4", i * 1e-4) for i in range(1, n_runs + 1)))
    specs = expand_design([lr])
    plan = plan_sweep(
        specs, {s.run_id: f"hash-{s.run_id}" for s in specs}, sweep_dir, study=STUDY, previous=None, budget_runs=None
    )
    save_manifest(sweep_dir, plan.manifest)
    outcome.reset(sweep_dir)
    return specs


def statuses(sweep_dir: Path) -> dict[str, str]:
    return {run["run_id"]: run["status"] for run in load_manifest(sweep_dir)["runs"]}


def test_every_run_launched_once_with_job_numbers_never_reused(tmp_path):
    specs = start_sweep(tmp_path, 5)
    launcher = InProcessLauncher(tmp_path)
    result = run_sweep(tmp_path, specs, launcher, RunnerPolicy(batch_size=2))
    assert result.counts == {"completed": 5} and result.stop_reason is None
    assert launcher.calls == [
        (0, [s.run_id for s in specs[:2]]),
        (2, [s.run_id for s in specs[2:4]]),
        (4, [specs[4].run_id]),
    ]
    manifest = load_manifest(tmp_path)
    assert [run["job_num"] for run in manifest["runs"]] == [0, 1, 2, 3, 4] and manifest["next_job_num"] == 5
    assert [run["run_dir"] for run in manifest["runs"]] == [f"runs/{s.run_id}" for s in specs]
    end = read_events(tmp_path / "events.jsonl").of("sweep_end")
    assert len(end) == 1 and end[0]["counts"] == {"completed": 5}
    assert outcome.exit_status() == 0


def test_a_failed_run_is_retried_at_the_end_of_the_queue_and_a_diverged_one_is_not(tmp_path):
    specs = start_sweep(tmp_path, 3)
    first, second, third = (s.run_id for s in specs)
    launcher = InProcessLauncher(tmp_path, {first: ["fail", "ok"], second: ["diverge", "ok"]})
    result = run_sweep(tmp_path, specs, launcher, RunnerPolicy(batch_size=1, max_retries=2))
    assert statuses(tmp_path) == {first: "completed", second: "diverged", third: "completed"}
    assert [ids for _, ids in launcher.calls] == [[first], [second], [third], [first]]
    assert {r["run_id"]: r["attempts"] for r in load_manifest(tmp_path)["runs"]}[first] == 2
    assert result.counts == {"completed": 2, "diverged": 1}
    assert outcome.exit_status() == 1  # the diverged run makes the sweep unsuccessful


def test_retries_run_out(tmp_path):
    specs = start_sweep(tmp_path, 1)
    launcher = InProcessLauncher(tmp_path, {specs[0].run_id: ["fail", "fail", "fail"]})
    result = run_sweep(tmp_path, specs, launcher, RunnerPolicy(batch_size=1, max_retries=1))
    assert len(launcher.calls) == 2 and result.counts == {"failed": 1}
    assert load_manifest(tmp_path)["runs"][0]["error"]["message"] == f"{specs[0].run_id} failed"


def test_fail_fast_stops_launching_and_leaves_the_rest_pending(tmp_path):
    specs = start_sweep(tmp_path, 4)
    launcher = InProcessLauncher(tmp_path, {specs[1].run_id: ["fail"]})
    result = run_sweep(tmp_path, specs, launcher, RunnerPolicy(batch_size=1, fail_fast=True))
    assert result.stop_reason == f"fail_fast: run {specs[1].run_id} failed"
    assert list(statuses(tmp_path).values()) == ["completed", "failed", "pending", "pending"]
    assert read_events(tmp_path / "events.jsonl").of("sweep_end")[0]["stopped"] == result.stop_reason


def test_time_budget_stops_between_batches(tmp_path):
    specs = start_sweep(tmp_path, 5)
    now = [0.0]

    def clock() -> float:
        return now[0]

    launcher = InProcessLauncher(tmp_path)

    def slow_launch(batch, first_number):
        now[0] += 10.0  # each batch takes 10 "seconds"
        return launcher(batch, first_number)

    result = run_sweep(tmp_path, specs, slow_launch, RunnerPolicy(batch_size=1, time_budget_s=25), clock=clock)
    assert len(launcher.calls) == 3  # started at 0, 10 and 20 s; at 30 s the budget is spent
    assert result.stop_reason == "time budget of 25 s spent" and result.wall_time_s == 30.0
    assert list(statuses(tmp_path).values()) == ["completed"] * 3 + ["pending"] * 2
    assert outcome.exit_status() == 0  # runs left pending by a budget are not failures


def test_a_lost_batch_costs_only_the_run_that_killed_its_worker(tmp_path):
    specs = start_sweep(tmp_path, 4)
    ids = [s.run_id for s in specs]
    killer = ids[1]
    launcher = InProcessLauncher(tmp_path, {killer: ["kill", "kill"]})
    result = run_sweep(tmp_path, specs, launcher, RunnerPolicy(batch_size=4))
    # the batch: ids[0] finished, the killer was running, the rest never started
    assert launcher.calls[0] == (0, ids)
    assert launcher.calls[1] == (4, [killer])  # the suspect alone: its death now names it
    assert sorted(run_id for _, batch in launcher.calls[2:] for run_id in batch) == sorted(ids[2:])
    assert statuses(tmp_path) == {ids[0]: "completed", killer: "failed", ids[2]: "completed", ids[3]: "completed"}
    assert result.counts == {"completed": 3, "failed": 1}
    lost = read_events(tmp_path / "events.jsonl").of("batch_lost")
    assert lost[0]["settled"] == [ids[0]] and lost[0]["suspects"] == [killer]
    assert load_manifest(tmp_path)["runs"][1]["error"]["type"] == "WorkerDied"


def test_a_batch_lost_before_any_run_started_is_recorded_failed_not_relaunched_forever(tmp_path):
    specs = start_sweep(tmp_path, 3)

    def broken_launcher(batch, first_number):
        raise WorkerDied("the launcher could not start its workers")

    result = run_sweep(tmp_path, specs, broken_launcher, RunnerPolicy(batch_size=3))
    assert result.counts == {"failed": 3}
    runs = load_manifest(tmp_path)["runs"]
    assert {run["error"]["message"] for run in runs} == {"the launcher could not start its workers"}
    assert len(read_events(tmp_path / "events.jsonl").of("run_end")) == 3  # logged for runs that could not


@pytest.mark.parametrize("batch_size", [1, 3])
def test_nothing_to_launch_still_ends_the_sweep(tmp_path, batch_size):
    start_sweep(tmp_path, 2)
    result = run_sweep(tmp_path, [], InProcessLauncher(tmp_path), RunnerPolicy(batch_size=batch_size))
    assert result.counts == {"pending": 2} and result.stop_reason is None
