"""Wall-clock timing of subprocesses, and of several commands interleaved.

Interleaving (A B A B ...) rather than batching (A A B B) spreads any change in the machine's
load over both sides of a ratio instead of landing on one of them.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.machine import REPO


class BenchCommandFailed(RuntimeError):
    """A measured command exited non-zero: its figure would be meaningless."""


def bench_env(**extra: str) -> dict[str, str]:
    """The environment every measured subprocess gets: the repo importable, warnings quiet."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def python_command(*args: str) -> list[str]:
    """``python <args>`` with the interpreter running this benchmark (the project's venv)."""
    return [sys.executable, *args]


def timed_run(
    command: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 600
) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``command`` to completion; return (wall seconds from spawn to exit, the result)."""
    started = time.perf_counter()
    result = subprocess.run(
        list(command), env=dict(env or bench_env()), cwd=cwd or REPO, capture_output=True, text=True, timeout=timeout
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BenchCommandFailed(f"{' '.join(command)} exited {result.returncode}:\n{tail}")
    return wall, result


def interleaved(
    commands: Mapping[str, Sequence[str]], repeats: int, *, env: Mapping[str, str] | None = None, warmup: bool = True
) -> dict[str, list[float]]:
    """Wall times of each named command, run round-robin ``repeats`` times (after one untimed
    round that warms the page cache when ``warmup``)."""
    if warmup:
        for command in commands.values():
            timed_run(command, env=env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(timed_run(command, env=env)[0])
    return times


def children_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process's finished subprocesses and theirs
    (a sweep's joblib workers included): the difference around :func:`timed_run` is what the
    command cost the machine's cores, next to what it cost in wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rounded(values: Sequence[float], digits: int = 3) -> list[float]:
    return [round(v, digits) for v in values]
