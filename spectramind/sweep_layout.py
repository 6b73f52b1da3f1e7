"""The sweep directory's contract: the names of its files and folders, and the statuses of its runs.

A sweep is written by several parties (the sweeper, each run's recorder, possibly on other hosts)
and read by others (resume, ``ablate status``, the leaderboard, exports), so what they agree on is
defined here, once, and nowhere else::

    <sweep_dir>/
      sweep.json            the plan and every run's live status   (MANIFEST_FILE, under MANIFEST_LOCK_FILE)
      events.jsonl          the sweep's event log                  (EVENTS_FILE)
      multirun.yaml         Hydra's record of a multirun           (HYDRA_MULTIRUN_FILE)
      configs_resolved/     <run_id>.yaml per run                  (RESOLVED_CONFIGS_DIR)
      runs/<run_id>/        one run                                (RUNS_DIR)
        run.json  events.jsonl  metrics.json  config_resolved.yaml
        predictions.parquet  submission.csv  checkpoints/{best,last}.ckpt

This module imports nothing from spectramind, so every package can depend on it without cycles.
"""

from __future__ import annotations

MANIFEST_FILE = "sweep.json"
MANIFEST_LOCK_FILE = ".sweep.lock"
EVENTS_FILE = "events.jsonl"  # the sweep's log and each run's (same format: tracking.events)
HYDRA_MULTIRUN_FILE = "multirun.yaml"  # Hydra's own record of a multirun: a sweep whatever its sweeper
RESOLVED_CONFIGS_DIR = "configs_resolved"
RUNS_DIR = "runs"

RUN_RECORD_FILE = "run.json"
METRICS_FILE = "metrics.json"
RESOLVED_CONFIG_FILE = "config_resolved.yaml"
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
