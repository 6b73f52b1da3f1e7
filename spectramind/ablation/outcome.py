"""The outcome of the last sweep in this process, for entry points to turn into an exit status.

Hydra calls ``on_multirun_end`` callbacks (the leaderboard) only when the sweeper returns
normally, so the sweeper never raises for failed runs; instead it records them here and
``python -m spectramind.train`` / ``spectramind ablate`` exit non-zero afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_last: dict[str, Any] = {}

UNSUCCESSFUL = ("failed", "diverged")


def reset(sweep_dir: str | Path) -> None:
    _last.clear()
    _last["sweep_dir"] = str(sweep_dir)


def record(sweep_dir: str | Path, counts: dict[str, int], stop_reason: str | None) -> None:
    _last.update(sweep_dir=str(sweep_dir), counts=dict(counts), stop_reason=stop_reason)


def exit_status() -> int:
    """1 when the last sweep left failed or diverged runs, else 0."""
    counts = _last.get("counts", {})
    return 1 if any(counts.get(status) for status in UNSUCCESSFUL) else 0


def last() -> dict[str, Any]:
    return dict(_last)
