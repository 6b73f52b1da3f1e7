"""The sweep directory's contract: the names of its files and folders, and the statuses of its runs
(which writer's status wins, how runs are counted by status).

A sweep is written by several parties (the sweeper, each run's recorder, possibly on other hosts)
and read by others (resume, ``ablate status``, the leaderboard, exports), so what they agree on is
defined here, once, and nowhere else::

    <sweep_dir>/
      sweep.json            the plan and every run's live status   (MANIFEST_FILE, under MANIFEST_LOCK_FILE)
      events.jsonl          the sweep's event log                  (EVENTS_FILE)
      multirun.yaml         Hydra's record of a multirun           (HYDRA_MULTIRUN_FILE)
      configs_resolved/     <run_id>.yaml per run                  (RESOLVED_CONFIGS_DIR)
      runs/<run_id>/        one run                                (RUNS_DIR)
        run.json  events.jsonl  metrics.json  splits.json  config_resolved.yaml
        predictions.parquet  submission.csv  checkpoints/{best,last}.ckpt

Any other Hydra multirun folder is a sweep too (another sweeper, e.g. basic or Optuna): Hydra's
``multirun.yaml`` and numbered job folders ``<n>/`` with Hydra's ``.hydra/`` record of each job.

This module imports nothing from spectramind, so every package can depend on it without cycles.
"""

from __future__ import annotations

import fcntl
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

MANIFEST_FILE = "sweep.json"
MANIFEST_LOCK_FILE = ".sweep.lock"
EVENTS_FILE = "events.jsonl"  # the sweep's log and each run's (same format: tracking.events)
HYDRA_MULTIRUN_FILE = "multirun.yaml"  # Hydra's own record of a multirun (its basic sweeper writes it)
HYDRA_JOB_RECORD_DIR = ".hydra"  # Hydra's record of one job (its config, overrides), in every job folder
RESOLVED_CONFIGS_DIR = "configs_resolved"
RUNS_DIR = "runs"

RUN_RECORD_FILE = "run.json"
METRICS_FILE = "metrics.json"
RESOLVED_CONFIG_FILE = "config_resolved.yaml"
# Every split's planet ids ({"train": [...], "val": [...], "test": [...]}): which planets a run
# selected on (validation) and which it was measured on (test), checkable after the fact.
SPLITS_FILE = "splits.json"
# Names in metrics.json that the leaderboard relies on: a clipped score's twin before clipping
# (adc2025_unclipped), the reference scores of the run's test split (ref_pooled_adc2025,
# ref_per_channel_adc2025_fgs1: spectramind.metrics.references; records written before them hold
# limit_adc2025, the per-channel reference without the jitter's share) and a score of the best
# checkpoint on the validation split (val_adc2025, val_adc2025_unclipped). The unprefixed scores
# are the test split's, held out: selection (the leaderboard's ranking, a sweeper's objective) uses
# the validation ones.
UNCLIPPED_SUFFIX = "_unclipped"
REFERENCE_PREFIXES = {"per_channel": "ref_per_channel_", "pooled": "ref_pooled_"}
LEGACY_LIMIT_PREFIX = "limit_"
VALIDATION_PREFIX = "val_"
PREDICTIONS_FILE = "predictions.parquet"
SUBMISSION_FILE = "submission.csv"
CHECKPOINTS_DIR = "checkpoints"
BEST_CHECKPOINT = f"{CHECKPOINTS_DIR}/best.ckpt"
LAST_CHECKPOINT = f"{CHECKPOINTS_DIR}/last.ckpt"

# A run's status, in sweep.json and its run.json. A run is planned "pending", "running" while its
# process trains, then ends in one of the terminal statuses; "skipped" is for runs a sweep decided
# not to train.
PENDING = "pending"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
DIVERGED = "diverged"
SKIPPED = "skipped"
STATUSES = (COMPLETED, FAILED, DIVERGED, RUNNING, PENDING, SKIPPED)  # in display order
TERMINAL_STATUSES = (COMPLETED, FAILED, DIVERGED, SKIPPED)
# Ended without results: counted as failures by the exit status, progress and the leaderboard.
UNSUCCESSFUL_STATUSES = (FAILED, DIVERGED)
UNFINISHED_STATUSES = (PENDING, RUNNING)
# Ended as recorded by the run itself (a record still "running" after its job returned means the
# process died).
RUN_OUTCOMES = (COMPLETED, FAILED, DIVERGED)
# How the leaderboard groups a configuration's runs (its n_completed, n_failed, n_unfinished);
# skipped and unknown runs count in no group, only in the total.
STATUS_GROUPS = {"completed": (COMPLETED,), "failed": UNSUCCESSFUL_STATUSES, "unfinished": UNFINISHED_STATUSES}
UNKNOWN = "unknown"  # a run folder whose records say nothing about its state


def resolve_status(
    manifest_status: object, record_status: object, *, has_run_dir: bool, has_metrics: bool, last_event: str | None
) -> str:
    """One run's status from what its writers left, each of which may be stale or missing.

    The run's own record wins once it is final. A crashed run's record may still say ``running``
    while the sweeper, which saw the process die, marked it failed, so the manifest's final status
    beats a non-final record. Metrics on disk mean the run completed (its record was not rewritten
    yet); an event log that has not ended means it is still running. ``has_run_dir``: whether the
    run's folder exists at all (a planned run that never started has none).
    """
    if record_status in TERMINAL_STATUSES:
        return str(record_status)
    if manifest_status in TERMINAL_STATUSES:
        return str(manifest_status)
    if has_metrics:
        return COMPLETED
    if isinstance(record_status, str) and record_status:
        return record_status
    if has_run_dir and last_event not in (None, "run_end"):
        return RUNNING
    if isinstance(manifest_status, str) and manifest_status:
        return manifest_status
    return UNKNOWN if has_run_dir else PENDING


def count_statuses(statuses: Iterable[str]) -> dict[str, int]:
    """Runs per status, the most frequent first (ties in the order first seen): one count for
    every reader of a sweep, so that the leaderboard, ``ablate status`` and the sweep's end agree."""
    return dict(Counter(statuses).most_common())


def count_status_groups(counts: Mapping[str, int]) -> dict[str, int]:
    """``count_statuses``' counts summed by `STATUS_GROUPS` (completed, failed, unfinished)."""
    return {group: sum(counts.get(status, 0) for status in members) for group, members in STATUS_GROUPS.items()}


def validation_name(metric: str) -> str:
    """The name in metrics.json of ``metric`` measured on the validation split (``val_adc2025``)."""
    return f"{VALIDATION_PREFIX}{metric}"


def is_sweep_dir(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep: spectramind's (sweep.json, runs/) or any Hydra multirun
    (multirun.yaml, or a numbered job folder with Hydra's job record, as sweepers such as Optuna's
    leave without a multirun.yaml)."""
    if any((folder / name).exists() for name in (MANIFEST_FILE, HYDRA_MULTIRUN_FILE, RUNS_DIR)):
        return True
    return any(
        job.is_dir() and job.name.isdigit() and (job / HYDRA_JOB_RECORD_DIR).is_dir() for job in folder.iterdir()
    )


@contextmanager
def sweep_lock(sweep_dir: str | Path) -> Iterator[None]:
    """Hold the sweep's exclusive ``flock`` (``.sweep.lock``): every read-modify-write of a file
    that several processes or hosts update (sweep.json, the MLflow parent run's record) happens
    under it."""
    path = Path(sweep_dir) / MANIFEST_LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
