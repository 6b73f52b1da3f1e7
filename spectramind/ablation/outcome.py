"""The outcome of the last sweep in this process, for entry points to turn into an exit status.

Hydra calls ``on_multirun_end`` callbacks (the leaderboard) only when the sweeper returns
normally, so the sweeper never raises for failed runs; instead it records them here and
``python -m spectramind.train`` / ``spectramind ablate`` exit non-zero afterwards. Any other
Hydra app that selects the sweeper gets the same from a Hydra callback the sweeper runs after
every other ``on_multirun_end`` callback (``hydra_plugins.spectramind_ablation.exit_status``): it
exits with status 1 and :func:`unreported_failure`'s line, unless an entry point that reports
the status itself is running (:func:`reporting`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spectramind.sweep_layout import MANIFEST_FILE, UNSUCCESSFUL_STATUSES

_last: dict[str, Any] = {}
_entry_points_reporting = 0


def reset(sweep_dir: str | Path) -> None:
    _last.clear()
    _last["sweep_dir"] = str(sweep_dir)


def record(sweep_dir: str | Path, counts: dict[str, int], stop_reason: str | None) -> None:
    _last.update(sweep_dir=str(sweep_dir), counts=dict(counts), stop_reason=stop_reason)


def exit_status() -> int:
    """1 when the last sweep left failed or diverged runs, else 0."""
    counts = _last.get("counts", {})
    return 1 if any(counts.get(status) for status in UNSUCCESSFUL_STATUSES) else 0


@contextmanager
def reporting() -> Iterator[None]:
    """While this is open, the caller turns the outcome into the exit status itself (spectramind's
    entry points: ``--allow-failed-runs`` may want 0), so the sweep does not exit on its own."""
    global _entry_points_reporting
    _entry_points_reporting += 1
    try:
        yield
    finally:
        _entry_points_reporting -= 1


def unreported_failure() -> str | None:
    """The error line for a sweep that left failed or diverged runs when no spectramind entry
    point will report it (see the module docstring), else None."""
    if _entry_points_reporting or not exit_status():
        return None
    counts = _last.get("counts", {})
    unsuccessful = ", ".join(f"{counts[s]} {s}" for s in UNSUCCESSFUL_STATUSES if counts.get(s))
    return f"error: {unsuccessful} of {sum(counts.values())} runs; see {_last.get('sweep_dir')}/{MANIFEST_FILE}"
