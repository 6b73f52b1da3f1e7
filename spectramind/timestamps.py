"""The one time format of every record, read back, and durations as numbers and as text.

Records (``run.json``, ``sweep.json``, event logs) are written by processes on any host and read
by others, so they carry ISO-8601 UTC timestamps (:func:`utc_now`); everything that measures a
duration from them (progress, ``ablate status``, the leaderboard) parses them the same way, and
every place that shows a duration prints it the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

MISSING = "—"


def utc_now() -> str:
    """ISO-8601 UTC timestamp with a ``Z`` suffix; the one time format of every record."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: Any) -> dt.datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` or offset; naive means UTC); None when absent or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from ``start`` to ``end`` (timestamps as written by :func:`utc_now`); None if either is missing."""
    begun, ended = parse_time(start), parse_time(end)
    if begun is None or ended is None:
        return None
    return (ended - begun).total_seconds()


def format_duration(seconds: Any) -> str:
    """``1h 30m 05s`` / ``4m 10s`` / ``12.3s``; the missing mark for None or NaN."""
    if seconds is None or not math.isfinite(float(seconds)):
        return MISSING
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"
