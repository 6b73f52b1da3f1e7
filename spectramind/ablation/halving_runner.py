"""The launch loop of successive halving: one batch of launches per rung, promotion in between.

Why apart from ``runner.py``: a flat design launches each run once; halving launches the same run
again at every rung it is promoted to, each time with ``++<budget_key>=<the rung's epochs>``, and
the run continues from its own last checkpoint (spectramind's task does: ``budget_epochs``). The
run keeps its id, folder and record across rungs, and within a rung the flat design's policy
applies unchanged (:func:`spectramind.ablation.runner.launch_all`: batches, lost batches, retries,
``fail_fast``).

What is decided, and where it is kept (``sweep.json``, so a killed study resumes exactly):

- each run's entry holds ``rung`` (the last rung it was launched at) and ``rung_values`` (rung ->
  the number it reported at that rung's end);
- promotion (:func:`spectramind.ablation.halving.promote`) is recomputed from those values, so a
  resumed study promotes the same configurations, launches no rung a run has finished, and a run
  killed inside a rung continues from its last checkpoint (no finished epoch is trained again);
- the time budget is checked between rungs (a rung is whole or not started: promotion needs it
  whole); what was not launched keeps the rung it reached.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from spectramind.ablation.design import RunSpec
from spectramind.ablation.halving import Rung, launch_spec, promote
from spectramind.ablation.manifest import find_run, load_manifest, save_manifest
from spectramind.ablation.runner import LaunchFunction, RunnerPolicy, SweepOutcome, finish_sweep, launch_all
from spectramind.ablation.study import StudyOptions
from spectramind.sweep_layout import COMPLETED, EVENTS_FILE, sweep_lock
from spectramind.tracking.events import append_event


def run_halving(
    sweep_dir: str | Path,
    specs: Sequence[RunSpec],
    launch: LaunchFunction,
    policy: RunnerPolicy,
    options: StudyOptions,
    clock: Callable[[], float] = time.monotonic,
) -> SweepOutcome:
    """Train ``specs`` (every planned run, in plan order) rung by rung until the last rung or a stop."""
    sweep_dir = Path(sweep_dir)
    t0, cpu0 = clock(), time.process_time()
    by_config: dict[str, list[RunSpec]] = {}
    for spec in specs:
        by_config.setdefault(spec.config_id, []).append(spec)
    rungs = options.rungs(len(by_config))
    within_rung = dataclasses.replace(policy, time_budget_s=None)  # the budget is checked between rungs
    active, stop_reason = list(by_config), None
    for rung in rungs:
        if rung.index > 0:
            active = _promoted(sweep_dir, rung, active, by_config, options.higher_is_better)
            if not active:
                stop_reason = f"no configuration completed rung {rung.index - 1}"
                break
        reported = {run["run_id"]: run.get("rung_values") or {} for run in load_manifest(sweep_dir)["runs"]}
        # a run that reported at this rung's end is not launched for it again (a resumed study)
        todo = [s for config_id in active for s in by_config[config_id] if str(rung.index) not in reported[s.run_id]]
        if not todo:  # a resumed study: this rung was finished before
            continue
        if policy.time_budget_s is not None and clock() - t0 >= policy.time_budget_s:
            stop_reason = f"time budget of {policy.time_budget_s} s spent before rung {rung.index}"
            break
        stop_reason = _launch_rung(sweep_dir, rung, todo, launch, within_rung, options.budget_key, clock)
        if stop_reason:
            break
    return finish_sweep(sweep_dir, round(clock() - t0, 3), stop_reason, time.process_time() - cpu0)


def _launch_rung(
    sweep_dir: Path,
    rung: Rung,
    todo: list[RunSpec],
    launch: LaunchFunction,
    policy: RunnerPolicy,
    budget_key: str,
    clock: Callable[[], float],
) -> str | None:
    """Launch a rung's unfinished runs to its epochs and keep what each reported; why the flat
    loop stopped early (fail_fast), or None."""
    with sweep_lock(sweep_dir):  # which rung each run is in, and no stale number from an earlier rung
        manifest = load_manifest(sweep_dir)
        for spec in todo:
            find_run(manifest, spec.run_id).update(rung=rung.index, value=None)
        save_manifest(sweep_dir, manifest)
    append_event(
        sweep_dir / EVENTS_FILE, "rung_start", rung=rung.index, epochs=rung.epochs, runs=[s.run_id for s in todo]
    )
    print(f"[ablation] rung {rung.index}: {len(todo)} run(s) to {rung.epochs} epochs", flush=True)
    launches = [launch_spec(spec, budget_key, rung.epochs) for spec in todo]
    stop_reason = launch_all(sweep_dir, launches, launch, policy, clock)
    with sweep_lock(sweep_dir):
        manifest = load_manifest(sweep_dir)
        for spec in todo:
            entry = find_run(manifest, spec.run_id)
            if entry.get("status") == COMPLETED and entry.get("value") is not None:
                entry["rung_values"] = {**(entry.get("rung_values") or {}), str(rung.index): entry["value"]}
        save_manifest(sweep_dir, manifest)
    return stop_reason


def _promoted(
    sweep_dir: Path, rung: Rung, previous: list[str], by_config: dict[str, list[RunSpec]], higher_is_better: bool
) -> list[str]:
    """The configurations of ``previous`` (the last rung's) that go on to ``rung``, recorded as an event."""
    runs = {run["run_id"]: run for run in load_manifest(sweep_dir)["runs"]}
    key = str(rung.index - 1)
    values = {
        config_id: [(runs[s.run_id].get("rung_values") or {}).get(key) for s in by_config[config_id]]
        for config_id in previous
    }
    promoted = promote(values, rung.n_configs, higher_is_better)
    stopped = [config_id for config_id in previous if config_id not in promoted]
    append_event(sweep_dir / EVENTS_FILE, "promotion", rung=rung.index, promoted=promoted, stopped=stopped)
    print(f"[ablation] rung {rung.index}: {len(promoted)} of {len(previous)} configuration(s) promoted", flush=True)
    return promoted
