"""Deciding what a sweep still has to run, and reading back what its runs did (Hydra-free).

Before anything launches: ``previous_manifest`` continues the sweep in the folder (resume) or
refuses to start a second sweep over it; ``plan_study`` plans; ``dry_run_lines`` is what a dry run
prints, and ``start_records`` writes the sweep's first records (``multirun.yaml``, ``sweep.json``,
the ``sweep_start`` and ``plan`` events). The sweeper calls them in that order.

Run directories are the source of truth: ``run.json`` is written by the run itself, before and
after training, so it survives a killed launcher. ``plan_sweep`` uses them to skip runs already
completed with the same config hash (resume) and to apply a run budget; ``reconcile_runs`` folds
the outcome of a launched batch back into the manifest, including runs whose process died.
A task function that keeps no run.json is tracked from the manifest alone: its entry's status,
config hash and job directory (``run_dir``), and Hydra job numbers that are never handed out twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spectramind.ablation.design import RunSpec
from spectramind.ablation.halving import rung_plan_lines
from spectramind.ablation.manifest import find_run, load_manifest, save_manifest
from spectramind.ablation.study import OPTION_PREFIX, StudyOptions
from spectramind.errors import ConfigurationError
from spectramind.sweep_layout import (
    COMPLETED,
    EVENTS_FILE,
    FAILED,
    HYDRA_MULTIRUN_FILE,
    MANIFEST_FILE,
    METRICS_FILE,
    PENDING,
    RUN_OUTCOMES,
    RUN_RECORD_FILE,
    RUNNING,
    sweep_lock,
)
from spectramind.timestamps import utc_now
from spectramind.tracking.events import append_event
from spectramind.tracking.record import git_state, index_run_records, read_json

# What a resumed sweep keeps of a run's earlier entry: its job number and folder, and for
# successive halving the rung it reached and what it reported at each rung (halving_runner.py).
_KEPT_ON_RESUME = ("job_num", "run_dir", "rung", "rung_values")


@dataclass
class SweepPlan:
    manifest: dict[str, Any]
    to_launch: list[RunSpec]
    completed: list[str] = field(default_factory=list)
    over_budget: list[str] = field(default_factory=list)
    specs: list[RunSpec] = field(default_factory=list)  # every planned run, in plan order

    def summary(self) -> str:
        m = self.manifest
        per_config = Counter(r["config_id"] for r in m["runs"])
        # Seeds per configuration, whether they come from the study's seeds or a swept seed override.
        n_seeds = max(per_config.values(), default=1)
        text = f"design={m['design']}: {len(m['runs'])} runs ({len(per_config)} configurations x {n_seeds} seeds), "
        if m["design"] == "halving":  # a run completed at one rung may still be promoted to the next
            finished = sum(bool(run.get("rung_values")) for run in m["runs"])
            return text + f"{finished} with a finished rung; the rungs decide what launches"
        text += f"{len(self.completed)} already completed, {len(self.to_launch)} to launch"
        if self.over_budget:
            text += f", {len(self.over_budget)} left pending by max_runs"
        return text


def previous_manifest(sweep_dir: Path, options: StudyOptions) -> dict[str, Any] | None:
    """The manifest of the sweep being resumed; refuses to start a second sweep over a first."""
    if options.resume:
        return load_manifest(sweep_dir)
    if options.run_subdir and not options.dry_run and (sweep_dir / MANIFEST_FILE).exists():
        # runs/<run_id> belongs to one sweep: continue it, never silently train it again. (Without
        # run_subdir, a repeated sweep starts again at job 0, as Hydra's BasicSweeper does.)
        raise ConfigurationError(
            f"{sweep_dir / MANIFEST_FILE} already exists: pass {OPTION_PREFIX}resume=true to continue "
            f"that sweep, or choose another hydra.sweep.dir"
        )
    return None


def runs_left(specs: Sequence[RunSpec], previous: dict[str, Any] | None) -> int:
    """Planned runs the previous manifest does not mark completed: how many workers are worth
    warming before the pre-flight has the config hashes that :func:`plan_study` decides with."""
    completed = {run["run_id"] for run in (previous or {}).get("runs", []) if run.get("status") == COMPLETED}
    return sum(spec.run_id not in completed for spec in specs)


def plan_sweep(
    specs: Sequence[RunSpec],
    config_hashes: dict[str, str],
    sweep_dir: str | Path,
    *,
    study: dict[str, Any],
    previous: dict[str, Any] | None,
    budget_runs: int | None,
) -> SweepPlan:
    """The manifest for ``specs`` and the runs to launch now.

    With ``previous`` (the manifest of the sweep being resumed), runs already completed with the
    same config hash are skipped; without it every run is launched.
    """
    records = index_run_records(sweep_dir) if previous is not None else {}
    runs, to_launch, completed, over_budget = [], [], [], []
    for spec in specs:
        old = find_run(previous, spec.run_id) if previous else None
        entry = {
            **asdict(spec),
            "overrides": list(spec.overrides),
            "config_hash": config_hashes[spec.run_id],
            "status": PENDING,
            "attempts": old.get("attempts", 0) if old else 0,
            "started": None,
            "ended": None,
            "error": None,
            "job_num": None,
            "run_dir": None,
        }
        if old:
            entry.update({k: old[k] for k in _KEPT_ON_RESUME if old.get(k) is not None})
        run_dir, record = records.get(spec.run_id, (None, None))
        if (
            record
            and record.get("status") == COMPLETED
            and record.get("config_hash") == entry["config_hash"]
            and _metrics_readable(run_dir)
        ):
            entry.update(status=COMPLETED, started=record.get("started"), ended=record.get("ended"))
            completed.append(spec.run_id)
        elif record is None and _completed_without_record(old, entry["config_hash"], sweep_dir):
            entry.update(status=COMPLETED, started=old.get("started"), ended=old.get("ended"))
            completed.append(spec.run_id)
        elif budget_runs is not None and len(to_launch) >= budget_runs:
            over_budget.append(spec.run_id)
        else:
            to_launch.append(spec)
        runs.append(entry)
    manifest = {
        "schema": 1,
        **study,
        "sweep_dir": str(Path(sweep_dir).resolve()),
        "created": previous.get("created") if previous else utc_now(),
        "updated": utc_now(),
        "git": git_state(),
        "next_job_num": next_job_number(previous) if previous else 0,
        "runs": runs,
    }
    return SweepPlan(manifest, to_launch, completed, over_budget, list(specs))


def _metrics_readable(run_dir: Path) -> bool:
    """A completed run's metrics.json, where it wrote one, can still be read: a run whose results
    are damaged is run again rather than counted as done."""
    metrics = run_dir / METRICS_FILE
    return not metrics.exists() or read_json(metrics) is not None


def _completed_without_record(old: dict[str, Any] | None, config_hash: str, sweep_dir: str | Path) -> bool:
    """A run of a task function that keeps no run.json: the sweeper's own entry says it completed
    with this config, and its job directory is still there, without a run.json (one that exists
    but cannot be read is a damaged record: that run is run again)."""
    if not old or old.get("status") != COMPLETED or old.get("config_hash") != config_hash:
        return False
    run_dir = old.get("run_dir")
    return (
        bool(run_dir)
        and (Path(sweep_dir) / run_dir).is_dir()
        and not (Path(sweep_dir) / run_dir / RUN_RECORD_FILE).exists()
    )


def plan_study(
    options: StudyOptions,
    specs: Sequence[RunSpec],
    hashes: dict[str, str],
    sweep_dir: Path,
    study: dict[str, Any],
    previous: dict[str, Any] | None,
) -> SweepPlan:
    """The plan of :func:`plan_sweep` for the study's options, announced in one line."""
    plan = plan_sweep(specs, hashes, sweep_dir, study=study, previous=previous, budget_runs=options.run_budget)
    print(f"[ablation] {plan.summary()}", flush=True)
    return plan


def dry_run_lines(specs: Sequence[RunSpec], plan: SweepPlan, options: StudyOptions | None = None) -> list[str]:
    """A dry run's plan, one line per run: ``done`` (a resume skips it) or ``run``, id, overrides;
    for successive halving, the rungs first. A halving run's "done" means done at some rung."""
    lines = []
    if options is not None and options.is_halving:
        n_configs = len({spec.config_id for spec in specs})
        lines += rung_plan_lines(options.rungs(n_configs), n_seeds=max(1, len(specs) // max(1, n_configs)))
    for spec in specs:
        state = "done" if spec.run_id in plan.completed else "run"
        lines.append(f"[ablation]   {state:4s} {spec.run_id}  {' '.join(spec.overrides)}")
    return lines


def start_records(
    sweep_dir: Path,
    plan: SweepPlan,
    study: dict[str, Any],
    *,
    resumed: bool,
    n_runs: int,
    write_multirun: Callable[[Path], None],
) -> None:
    """``multirun.yaml`` (written by ``write_multirun``: the composed config is Hydra's),
    ``sweep.json`` and the sweep's first events, before any launch; a folder that cannot be
    written is one line naming it."""
    events = sweep_dir / EVENTS_FILE
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        write_multirun(sweep_dir / HYDRA_MULTIRUN_FILE)
        with sweep_lock(sweep_dir):
            save_manifest(sweep_dir, plan.manifest)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the sweep directory {sweep_dir}: {exc.strerror or exc} ({exc.filename})"
        ) from None
    append_event(events, "sweep_start", resume=resumed, **{k: study[k] for k in ("study", "design", "launcher")})
    append_event(
        events,
        "plan",
        n_runs=n_runs,
        factors=study["factors"],
        seeds=study["seeds"],
        completed=plan.completed,
        to_launch=[s.run_id for s in plan.to_launch],
        over_budget=plan.over_budget,
    )


def next_job_number(manifest: dict[str, Any]) -> int:
    """The first Hydra job number not yet handed out in this sweep (numbers are never reused,
    so Hydra's ``${hydra.job.num}`` directories of earlier launches are never overwritten)."""
    numbers = [run["job_num"] for run in manifest.get("runs", []) if run.get("job_num") is not None]
    return max(max(numbers, default=-1) + 1, int(manifest.get("next_job_num") or 0))


def _records_since(sweep_dir: str | Path, since: str | None) -> dict[str, tuple[Path, dict[str, Any]]]:
    """``index_run_records``, without the records of attempts started before ``since`` (a run
    retried by a resumed sweep still has its earlier attempt's run.json until it starts again)."""
    records = index_run_records(sweep_dir)
    if since is None:
        return records
    return {run_id: found for run_id, found in records.items() if str(found[1].get("started") or "") >= since}


def split_lost_batch(
    sweep_dir: str | Path, run_ids: Sequence[str], since: str | None = None
) -> tuple[list[str], list[str]]:
    """(suspects, bystanders) of a batch the launcher lost as a whole.

    A parallel launcher loses every result of a batch when one worker process dies (joblib/loky
    then stops the whole pool): one run crashed it, but the error names none. Suspects are the
    runs whose record says they were still ``running`` (the culprit, and the runs stopped with
    it); bystanders never started. Runs that had finished keep their own outcome and are neither.
    """
    records = _records_since(sweep_dir, since)
    suspects, bystanders = [], []
    for run_id in run_ids:
        record = records.get(run_id, (None, None))[1]
        if record is None:
            bystanders.append(run_id)
        elif record.get("status") == RUNNING:
            suspects.append(run_id)
    return suspects, bystanders


def reconcile_runs(
    sweep_dir: str | Path,
    manifest: dict[str, Any],
    run_ids: Iterable[str],
    job_errors: dict[str, dict[str, str] | None],
    since: str | None = None,
) -> tuple[dict[str, str], set[str]]:
    """Update the manifest entries of ``run_ids`` after their batch returned.

    Returns each run's status and the runs whose end the run itself did not log (so the sweeper
    logs it).

    A run's own ``run.json`` wins; without one (a task function that does not record, or a process
    killed before it started) the launcher's job result decides; a run still marked ``running``
    after its batch returned had its process killed, and is recorded as failed. With ``since``
    (when the batch was launched), records of earlier attempts are not taken for this one's.
    """
    records = _records_since(sweep_dir, since)
    statuses: dict[str, str] = {}
    unreported: set[str] = set()
    for run_id in run_ids:
        entry = find_run(manifest, run_id)
        record = records.get(run_id, (None, None))[1]
        error = job_errors.get(run_id)
        if record and record.get("status") in RUN_OUTCOMES:
            status, error = record["status"], record.get("error")
            entry.update(started=record.get("started"), ended=record.get("ended"))
        elif record and record.get("status") == RUNNING:
            status = FAILED
            error = error or {
                "type": "ProcessDied",
                "message": "the run's process ended without recording an outcome",
                "traceback": "",
            }
            entry["ended"] = utc_now()
        elif run_id in job_errors:
            status = FAILED if error else COMPLETED
            entry["ended"] = utc_now()
        else:
            status = PENDING
        if record is None and run_id in job_errors:
            entry["attempts"] = entry.get("attempts", 0) + 1
        if record is None or record.get("status") == RUNNING:
            unreported.add(run_id)
        entry.update(status=status, error=error)
        statuses[run_id] = status
    return statuses, unreported
