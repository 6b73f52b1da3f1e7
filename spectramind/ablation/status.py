"""``spectramind ablate status``: runs by status, progress and ETA, read from ``sweep.json``."""

from __future__ import annotations

from pathlib import Path

from spectramind.ablation.manifest import load_manifest
from spectramind.errors import SpectramindError
from spectramind.sweep_layout import COMPLETED, MANIFEST_FILE, TERMINAL_STATUSES, UNSUCCESSFUL_STATUSES
from spectramind.timestamps import seconds_between


def sweep_status(sweep_dir: str | Path) -> str:
    manifest = load_manifest(sweep_dir)
    if manifest is None:
        raise SpectramindError(f"{Path(sweep_dir) / MANIFEST_FILE} not found or unreadable")
    runs = manifest["runs"]
    counts: dict[str, int] = {}
    for run in runs:
        counts[run["status"]] = counts.get(run["status"], 0) + 1
    done = sum(counts.get(s, 0) for s in TERMINAL_STATUSES)
    durations = [d for d in (seconds_between(r.get("started"), r.get("ended"))
                             for r in runs if r["status"] == COMPLETED) if d is not None]
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
            lines.append(f"  {run['status']}: {run['run_id']}: {run['error'].get('type')}: {run['error'].get('message')}")
    return "\n".join(lines)
