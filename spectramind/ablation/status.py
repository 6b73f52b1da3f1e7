"""``spectramind ablate status``: runs by status, progress and ETA, read from ``sweep.json``, or,
for a plain Hydra multirun (another sweeper: basic, Optuna; no sweep.json), from its runs' own
``run.json`` records."""

from __future__ import annotations

from pathlib import Path

from spectramind.ablation.manifest import load_manifest
from spectramind.errors import SpectramindError
from spectramind.sweep_layout import (
    COMPLETED,
    HYDRA_MULTIRUN_FILE,
    MANIFEST_FILE,
    TERMINAL_STATUSES,
    UNSUCCESSFUL_STATUSES,
    is_sweep_dir,
)
from spectramind.timestamps import seconds_between
from spectramind.tracking.record import index_run_records


def _plain_multirun(sweep_dir: Path) -> dict | None:
    """A manifest-like view of a Hydra multirun without sweep.json: one entry per recorded run."""
    if not is_sweep_dir(sweep_dir):
        return None
    records = index_run_records(sweep_dir)
    runs = [
        {key: record.get(key) for key in ("run_id", "status", "started", "ended", "error")}
        for _, record in sorted(records.values(), key=lambda found: str(found[1].get("started")))
    ]
    return {"runs": runs, "study": None, "design": f"none (a plain Hydra multirun, no {MANIFEST_FILE})"}


def sweep_status(sweep_dir: str | Path) -> str:
    manifest = load_manifest(sweep_dir) or _plain_multirun(Path(sweep_dir))
    if manifest is None:
        raise SpectramindError(
            f"{Path(sweep_dir) / MANIFEST_FILE} not found or unreadable, and no "
            f"{HYDRA_MULTIRUN_FILE} or Hydra job folders: not a sweep directory"
        )
    runs = manifest["runs"]
    counts: dict[str, int] = {}
    for run in runs:
        counts[run["status"]] = counts.get(run["status"], 0) + 1
    done = sum(counts.get(s, 0) for s in TERMINAL_STATUSES)
    durations = [
        d
        for d in (seconds_between(r.get("started"), r.get("ended")) for r in runs if r["status"] == COMPLETED)
        if d is not None
    ]
    remaining = len(runs) - done
    given, recorded = Path(sweep_dir).resolve(), manifest.get("sweep_dir")
    moved = f" (recorded at {recorded}: moved or copied)" if recorded and Path(recorded) != given else ""
    lines = [
        f"sweep {given}{moved}  study={manifest.get('study')}  design={manifest.get('design')}",
        f"progress: {done}/{len(runs)} runs finished ({100 * done / max(1, len(runs)):.0f}%)",
        "by status: " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())),
    ]
    if durations and remaining:
        mean = sum(durations) / len(durations)
        lines.append(f"ETA: ~{mean * remaining:.0f} s sequential ({mean:.1f} s per run x {remaining} runs left)")
    for run in runs:
        if run["status"] in UNSUCCESSFUL_STATUSES and run.get("error"):
            lines.append(
                f"  {run['status']}: {run['run_id']}: {run['error'].get('type')}: {run['error'].get('message')}"
            )
    return "\n".join(lines)
