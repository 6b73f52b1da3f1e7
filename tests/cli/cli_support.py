"""Running the installed ``spectramind`` console script the way a user does (shared by tests/cli)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SPECTRAMIND = Path(sys.executable).parent / "spectramind"


def spectramind(*args: str | os.PathLike, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``spectramind ARGS`` in ``cwd``, with a non-terminal stdout/stderr as in CI; never raises."""
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [str(SPECTRAMIND), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment
    )


def single_error_line(result: subprocess.CompletedProcess) -> str:
    """Assert the result is a usage/expected error as the CLI promises; return its message."""
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0][len("error: ") :]
