"""Planet claims: several calibration processes on one output folder share its planets.

Why: a Slurm job array on a shared file system, or two shells, may run ``spectramind data
calibrate`` into the same output folder; without claims each process would calibrate every planet
(the same output, twice the work). A process claims a planet by holding an exclusive POSIX lock
(``fcntl.lockf``) on ``<out>/.calibration/claims/<planet_id>.lock`` while it calibrates it: another
process that reaches the same planet finds it locked and goes on with the next one. The lock lives
and dies with its process, so a claim whose process was killed (or whose node was lost) is free
again at once: no timeouts to tune and no stale files to clean up. POSIX locks hold across hosts
on the shared file systems clusters use (NFSv4, Lustre, GPFS).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLAIMS_DIR = "claims"


@contextmanager
def planet_claim(claims_dir: Path, planet_id: int) -> Iterator[bool]:
    """Hold ``planet_id``'s claim for the block: True if this process holds it, False if another
    live process does (then the block must leave the planet alone)."""
    claims_dir.mkdir(parents=True, exist_ok=True)
    with open(claims_dir / f"{int(planet_id)}.lock", "ab") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # EAGAIN/EACCES: held by another process
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)
