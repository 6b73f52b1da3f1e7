"""Live sweep-level progress (runs done/total, failures, ETA) while a sweep's runs train.

Runs update their own entries in ``sweep.json`` when they start and end, from whichever process
or host the launcher put them on, so progress is read from that file rather than from the
launcher: a background thread polls it about once a second. On a terminal the display is one
line rewritten in place (``\\r``); anywhere else (CI logs, files, pipes) it is one plain log
line per finished run, so logs stay readable.

Only runs that end while the display is active count: a resumed sweep's earlier runs are
already done and are not part of ``total``. A run that fails and is retried counts again when
its retry ends; "done" is the number of launched runs whose latest attempt has ended.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from spectramind.ablation.manifest import load_manifest
from spectramind.sweep_layout import RUNNING, TERMINAL_STATUSES, UNSUCCESSFUL_STATUSES
from spectramind.timestamps import format_duration, seconds_between


@dataclass(frozen=True)
class FinishedRun:
    run_id: str
    status: str
    duration_s: float | None


@dataclass(frozen=True)
class ProgressState:
    """What the display shows: counts over the runs launched since the display started."""

    done: int
    total: int
    failures: int
    running: int
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        """Remaining runs at the observed wall-clock rate (so parallel launchers count right)."""
        if self.done == 0 or self.done >= self.total:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)

    def summary(self) -> str:
        text = f"[ablation] {self.done}/{self.total} runs done, {self.failures} failed"
        if self.running:
            text += f", {self.running} running"
        if self.done < self.total:
            eta = self.eta_s
            text += f", ETA {format_duration(eta)}" if eta is not None else ", ETA --"
        return text


class SweepProgress:
    """Context manager showing a sweep's progress on ``stream`` while its body runs.

    ``total`` is the number of runs the sweep launches now. ``interval_s`` is the polling
    period; ``clock`` is injectable for deterministic ETAs in tests.
    """

    def __init__(
        self,
        sweep_dir: str | os.PathLike,
        total: int,
        stream: TextIO | None = None,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.total = int(total)
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self.clock = clock
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        self._already_ended: dict[str, Any] = {}
        self._reported: set[tuple[str, Any]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self._line = ""
        self.state = ProgressState(0, self.total, 0, 0, 0.0)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> SweepProgress:
        manifest = load_manifest(self.sweep_dir) or {}
        self._already_ended = {
            run["run_id"]: run.get("ended")
            for run in manifest.get("runs", [])
            if run.get("status") in TERMINAL_STATUSES
        }
        self._started_at = self.clock()
        if self.total > 0:
            self._thread = threading.Thread(target=self._loop, name="sweep-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.poll()  # the runs that ended since the last tick
            if self.interactive:
                self._write("\n")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()

    # ------------------------------------------------------------------ one tick
    def poll(self) -> ProgressState:
        """Read sweep.json once, update the display and return the new state."""
        manifest = load_manifest(self.sweep_dir)
        if manifest is None:  # not written yet, or being replaced: keep the last state
            return self.state
        finished, running = self._scan(manifest.get("runs", []))
        failures = sum(run.status in UNSUCCESSFUL_STATUSES for run in finished)
        self.state = ProgressState(len(finished), self.total, failures, running, self.clock() - self._started_at)
        if self.interactive:
            self._rewrite_line(self.state.summary())
        else:
            for run in finished:
                if (run.run_id, run.status, run.duration_s) in self._reported:
                    continue
                self._reported.add((run.run_id, run.status, run.duration_s))
                took = f" in {format_duration(run.duration_s)}" if run.duration_s is not None else ""
                self._write(f"{self.state.summary()} | {run.run_id} {run.status}{took}\n")
        return self.state

    def _scan(self, runs: list[dict[str, Any]]) -> tuple[list[FinishedRun], int]:
        finished, running = [], 0
        for run in runs:
            status = run.get("status")
            if status == RUNNING:
                running += 1
            elif status in TERMINAL_STATUSES:
                run_id = run["run_id"]
                if run_id in self._already_ended and self._already_ended[run_id] == run.get("ended"):
                    continue  # ended before this display started (e.g. completed before a resume)
                finished.append(FinishedRun(run_id, status, seconds_between(run.get("started"), run.get("ended"))))
        return finished, running

    # ------------------------------------------------------------------ output
    def _rewrite_line(self, text: str) -> None:
        if text == self._line:
            return
        padding = " " * max(0, len(self._line) - len(text))
        self._line = text
        self._write(f"\r{text}{padding}")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream never breaks the sweep
            pass
