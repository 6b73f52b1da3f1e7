"""``sweep.json``: the plan of an ablation sweep and the live status of every run in it.

The sweeper writes the plan; each run's recorder (possibly in another process or host) updates its
own entry when it starts and ends. Every read-modify-write happens under an exclusive ``flock``
on ``.sweep.lock`` and every write is atomic, so parallel workers never lose an update and a
killed process never leaves a torn manifest. Run directories stay the source of truth: the
sweeper reconciles the manifest from ``runs/<id>/run.json`` after each batch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spectramind.sweep_layout import EVENTS_FILE, MANIFEST_FILE, RUNNING, TERMINAL_STATUSES, sweep_lock
from spectramind.timestamps import utc_now
from spectramind.tracking.events import append_event
from spectramind.tracking.record import read_json, write_json_atomic

# The test metrics copied into the sweep's run_end events (the rest stay in each run's metrics.json).
HEADLINE_METRICS = ("adc2025", "adc2024", "gll", "rmse_ppm", "coverage_1sigma")


def load_manifest(sweep_dir: str | os.PathLike) -> dict[str, Any] | None:
    return read_json(Path(sweep_dir) / MANIFEST_FILE)


def save_manifest(sweep_dir: str | os.PathLike, manifest: dict[str, Any]) -> None:
    manifest["updated"] = utc_now()
    write_json_atomic(Path(sweep_dir) / MANIFEST_FILE, manifest)


def find_run(manifest: dict[str, Any], run_id: str) -> dict[str, Any] | None:
    return next((run for run in manifest.get("runs", []) if run["run_id"] == run_id), None)


def headline(metrics: dict[str, Any] | None) -> dict[str, Any]:
    return {k: metrics[k] for k in HEADLINE_METRICS if metrics and k in metrics}


def record_run_status(
    sweep_dir: str | os.PathLike, run_record: dict[str, Any], metrics: dict[str, Any] | None = None
) -> None:
    """Mirror a run's status into the manifest; log ``run_end`` to the sweep events when it ends."""
    status = run_record["status"]
    with sweep_lock(sweep_dir):
        manifest = load_manifest(sweep_dir)
        entry = find_run(manifest, run_record["run_id"]) if manifest else None
        if entry is not None:
            if status == RUNNING:
                entry["attempts"] = entry.get("attempts", 0) + 1
                entry["started"] = run_record["started"]
                entry["ended"] = None
            else:
                entry["ended"] = run_record["ended"]
            entry["status"] = status
            entry["error"] = run_record.get("error")
            save_manifest(sweep_dir, manifest)
    if status in TERMINAL_STATUSES:
        append_event(
            Path(sweep_dir) / EVENTS_FILE,
            "run_end",
            run_id=run_record["run_id"],
            status=status,
            duration_s=run_record.get("durations", {}).get("total_s"),
            metrics=headline(metrics),
            error=run_record.get("error"),
        )
