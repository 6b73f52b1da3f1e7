"""The sweep's launch loop, Hydra-free: batches, job numbers, lost batches, retries, stop rules.

:func:`run_sweep` takes the runs a plan left to launch and a *launch function* that runs one batch
(``launch(batch, first_job_number) -> one JobOutcome per run``, in order); raising means the batch
was lost as a whole. The Hydra sweeper passes a function that calls the configured launcher; tests
pass one that trains nothing. Around it the runner owns the policy:

- **Job numbers** are handed out under the manifest's lock before a batch starts, so a killed
  sweep never hands one out twice and resumed sweeps never reuse a job directory.
- **Lost batches.** A parallel launcher loses every result of a batch when one worker process dies
  (joblib/loky then stops the pool). The runs' own records say which were still running (the
  suspects) and which never started: both are relaunched, the suspects one at a time, so the run
  that kills its process is the only one recorded failed. Without run records (a task that keeps
  none) nothing can be told apart and the batch is recorded failed.
- **Retries**: a failed run is relaunched at the end of the queue up to ``max_retries`` times; a
  diverged one would diverge again and is not.
- **Stop rules**: ``fail_fast`` stops at the first run that failed or diverged for good;
  ``time_budget_s`` stops launching once spent. What was not launched stays ``pending`` in
  ``sweep.json``, for a resume.
- **The end**: a ``sweep_end`` event, one summary line, one line per unsuccessful run, and the
  outcome left in :mod:`spectramind.ablation.outcome` for the entry point's exit status. The
  runner never raises for a failed run, so Hydra's end-of-sweep callbacks (the leaderboard) run.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectramind.ablation import outcome
from spectramind.ablation.design import RunSpec
from spectramind.ablation.manifest import find_run, load_manifest, save_manifest
from spectramind.ablation.plan import next_job_number, reconcile_runs, split_lost_batch
from spectramind.ablation.progress import SweepProgress
from spectramind.errors import first_line
from spectramind.sweep_layout import EVENTS_FILE, FAILED, PENDING, UNSUCCESSFUL_STATUSES, sweep_lock
from spectramind.timestamps import utc_now
from spectramind.tracking.events import append_event
from spectramind.tracking.record import error_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    """What the launcher says of one job: its error record (None if it returned normally), where
    it ran, relative to the sweep directory when inside it (None if unknown), and the number the
    task function returned (None if it returned none; successive halving promotes on it)."""

    error: dict[str, str] | None = None
    run_dir: str | None = None
    value: float | None = None


LaunchFunction = Callable[[Sequence[RunSpec], int], Sequence[JobOutcome]]


@dataclass(frozen=True)
class RunnerPolicy:
    """How the loop launches: runs per launch call, retries and the two stop rules."""

    batch_size: int
    max_retries: int = 0
    fail_fast: bool = False
    time_budget_s: float | None = None


@dataclass(frozen=True)
class SweepOutcome:
    counts: dict[str, int]  # runs of the whole sweep by status, as sweep.json has them at the end
    stop_reason: str | None  # why launching stopped early (budget, fail_fast); None if it did not
    wall_time_s: float


def run_sweep(
    sweep_dir: str | Path,
    to_launch: Sequence[RunSpec],
    launch: LaunchFunction,
    policy: RunnerPolicy,
    clock: Callable[[], float] = time.monotonic,
) -> SweepOutcome:
    """Launch ``to_launch`` (whose entries are in ``sweep_dir``'s manifest) until done or stopped."""
    sweep_dir = Path(sweep_dir)
    t0, cpu0 = clock(), time.process_time()
    stop_reason = launch_all(sweep_dir, to_launch, launch, policy, clock)
    return finish_sweep(sweep_dir, round(clock() - t0, 3), stop_reason, time.process_time() - cpu0)


def launch_all(
    sweep_dir: Path,
    to_launch: Sequence[RunSpec],
    launch: LaunchFunction,
    policy: RunnerPolicy,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """Launch ``to_launch`` in batches with retries and the stop rules (module docstring); why it
    stopped early, or None. The time budget counts from this call."""
    t0 = clock()
    queue = list(to_launch)
    tries = {spec.run_id: 0 for spec in queue}
    isolate: set[str] = set()  # suspects of a lost batch: launched alone, so a crash names its run
    stop_reason = None
    with SweepProgress(sweep_dir, total=len(queue)):  # runs done/total, failures, ETA
        while queue:
            if policy.time_budget_s is not None and clock() - t0 >= policy.time_budget_s:
                stop_reason = f"time budget of {policy.time_budget_s} s spent"
                break
            batch, queue = _next_batch(queue, policy.batch_size, isolate)
            statuses, requeue = _launch_batch(sweep_dir, batch, launch, isolate)
            queue = [spec for spec in batch if spec.run_id in requeue] + queue
            done = [spec for spec in batch if spec.run_id not in requeue]
            for spec in done:
                tries[spec.run_id] += 1
                isolate.discard(spec.run_id)
            retry = [s for s in done if statuses[s.run_id] == FAILED and tries[s.run_id] <= policy.max_retries]
            given_up = [s for s in done if statuses[s.run_id] in UNSUCCESSFUL_STATUSES and s not in retry]
            if given_up and policy.fail_fast:
                stop_reason = f"fail_fast: run {given_up[0].run_id} {statuses[given_up[0].run_id]}"
                break
            queue += retry
    return stop_reason


def _launch_batch(
    sweep_dir: Path, batch: list[RunSpec], launch: LaunchFunction, isolate: set[str]
) -> tuple[dict[str, str], list[str]]:
    """Number, launch and reconcile one batch; (status of each settled run, runs to relaunch)."""
    events = sweep_dir / EVENTS_FILE
    ids = [spec.run_id for spec in batch]
    with sweep_lock(sweep_dir):  # numbers first: a killed sweep never hands one out twice
        manifest = load_manifest(sweep_dir)
        first_number = next_job_number(manifest)
        for offset, run_id in enumerate(ids):
            find_run(manifest, run_id)["job_num"] = first_number + offset
        manifest["next_job_num"] = first_number + len(batch)
        save_manifest(sweep_dir, manifest)
    launched_at = utc_now()
    results: dict[str, JobOutcome] = {}
    lost_error = None
    try:
        results = dict(zip(ids, launch(batch, first_number)))
    except Exception as exc:  # e.g. a worker process killed: the batch's results are lost
        log.error(f"[ablation] launcher failed for {len(batch)} run(s): {type(exc).__name__}: {first_line(exc)}")
        lost_error = error_record(exc)
    job_errors = {run_id: (lost_error if lost_error is not None else results[run_id].error) for run_id in ids}
    requeue: list[str] = []
    suspects: list[str] = []
    if lost_error is not None and len(batch) > 1:
        suspects, bystanders = split_lost_batch(sweep_dir, ids, since=launched_at)
        if len(bystanders) < len(batch):  # something ran: relaunching is progress, not a loop
            requeue = suspects + bystanders
    settled = [run_id for run_id in ids if run_id not in requeue]
    with sweep_lock(sweep_dir):
        manifest = load_manifest(sweep_dir)
        for run_id, result in results.items():
            find_run(manifest, run_id).update(run_dir=result.run_dir, value=result.value)
        statuses, unreported = reconcile_runs(sweep_dir, manifest, settled, job_errors, since=launched_at)
        for run_id in requeue:
            find_run(manifest, run_id).update(status=PENDING, ended=None, error=None)
        save_manifest(sweep_dir, manifest)
    if requeue:
        isolate.update(suspects)
        log.warning(
            f"[ablation] relaunching {len(requeue)} run(s) of the lost batch"
            f" ({len(suspects)} that were running, each alone)"
        )
        append_event(events, "batch_lost", error=lost_error, settled=settled, suspects=suspects, relaunched=requeue)
    for run_id in settled:
        if run_id in unreported:  # the run could not log its own end (no record, or its process died)
            entry = find_run(manifest, run_id)
            append_event(
                events,
                "run_end",
                run_id=run_id,
                status=entry["status"],
                duration_s=None,
                metrics={},
                error=entry["error"],
            )
    return statuses, requeue


def finish_sweep(
    sweep_dir: Path, wall_time_s: float, stop_reason: str | None, launch_cpu_s: float | None = None
) -> SweepOutcome:
    """The sweep_end event, the outcome for the exit status, and the lines a user reads last.
    ``launch_cpu_s``: the CPU time this process spent while the runs were launched (its threads,
    not its workers): near zero unless it polls, which would take a core from the runs."""
    events = sweep_dir / EVENTS_FILE
    manifest = load_manifest(sweep_dir)
    counts: dict[str, int] = {}
    for run in manifest["runs"]:
        counts[run["status"]] = counts.get(run["status"], 0) + 1
    append_event(
        events,
        "sweep_end",
        counts=counts,
        wall_time_s=wall_time_s,
        launch_cpu_s=None if launch_cpu_s is None else round(launch_cpu_s, 3),
        stopped=stop_reason,
    )
    outcome.record(sweep_dir, counts, stop_reason)
    print(
        f"[ablation] sweep finished in {wall_time_s:.1f} s: "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + (f" ({stop_reason})" if stop_reason else ""),
        flush=True,
    )
    for run in manifest["runs"]:  # why each unsuccessful run ended, one line each
        if run["status"] in UNSUCCESSFUL_STATUSES:
            error = run.get("error") or {}
            print(
                f"[ablation] {run['status']}: {run['run_id']}: {error.get('type')}: {error.get('message')}",
                file=sys.stderr,
                flush=True,
            )
    return SweepOutcome(counts, stop_reason, wall_time_s)


def _next_batch(queue: list[Any], size: int, isolate: set[str]) -> tuple[list[Any], list[Any]]:
    """(batch, rest of the queue): up to ``size`` runs from the front, except that a run in
    ``isolate`` is launched alone (a crash of its process then cannot be blamed on another run)."""
    if queue[0].run_id in isolate:
        return queue[:1], queue[1:]
    end = 1
    while end < min(size, len(queue)) and queue[end].run_id not in isolate:
        end += 1
    return queue[:end], queue[end:]
