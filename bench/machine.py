"""What the figures were measured on: cores, CPU model, load, versions, commit.

Load matters as much as the hardware here: the benchmark machine is shared, so every section
records the load average before and after it ran, and the runner can wait for a quiet machine.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_average() -> list[float]:
    """1-, 5- and 15-minute load averages, rounded for the report."""
    return [round(value, 2) for value in os.getloadavg()]


def cpu_model() -> str:
    """The 'model name' line of /proc/cpuinfo (the first CPU's), or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """Short commit, with '+dirty' when tracked files have uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def describe_machine() -> dict:
    """Everything docs/performance.md states about where a figure came from."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": git_commit(),
        "executable": os.path.relpath(sys.executable, REPO) if sys.executable.startswith(str(REPO)) else sys.executable,
    }


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def wait_for_quiet(threshold: float, max_wait_s: float, poll_s: float = 15.0) -> tuple[float, list[float]]:
    """Poll until the 1-minute load average is below ``threshold`` or ``max_wait_s`` has passed.

    Returns (seconds waited, load at the end). Other people's test suites on a 2-core machine
    distort every timing; ratios measured side by side soften that, a quiet machine removes it.
    """
    started = time.monotonic()
    while True:
        load = load_average()
        waited = time.monotonic() - started
        if load[0] < threshold or waited >= max_wait_s:
            return round(waited, 1), load
        print(f"[bench] load {load[0]:.2f} >= {threshold}: waiting ({waited:.0f}/{max_wait_s:.0f} s)", flush=True)
        time.sleep(min(poll_s, max(1.0, max_wait_s - waited)))
