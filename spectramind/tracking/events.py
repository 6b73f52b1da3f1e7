"""Append-only JSONL event logs that survive parallel writers and killed processes.

Every event is one JSON object on one line, written with a single ``os.write`` on a file opened
with ``O_APPEND`` while holding an exclusive ``flock``: concurrent writers (joblib workers, the
sweeper) can never interleave bytes, and a writer killed mid-write can only leave a torn *final*
line, which readers skip and report instead of failing.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectramind.timestamps import utc_now


def append_event(path: str | os.PathLike, event: str, **fields: Any) -> dict[str, Any]:
    """Append one event line ``{"event": event, "time": ..., **fields}`` and return it."""
    record = {"event": event, "time": utc_now(), **fields}
    line = (json.dumps(record, default=str, allow_nan=True) + "\n").encode()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            _ensure_line_boundary(fd)
            os.write(fd, line)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return record


def _ensure_line_boundary(fd: int) -> None:
    """Terminate a torn last line left by a killed writer, so the next event starts a fresh line."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")


@dataclass
class EventLog:
    """What a reader got back from an events file: the parsed events and the lines it skipped."""

    events: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == name]


def read_events(path: str | os.PathLike) -> EventLog:
    """Read an events file, skipping (and reporting by 1-based line number) torn or invalid lines."""
    log = EventLog()
    p = Path(path)
    if not p.exists():
        return log
    with p.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except ValueError:
                log.skipped_lines.append(number)
                continue
            if isinstance(record, dict):
                log.events.append(record)
            else:
                log.skipped_lines.append(number)
    return log
