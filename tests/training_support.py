"""Helpers shared by the training tests (a module with a unique name, importable from any test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Small enough to train in a couple of seconds, large enough for a 3-way split.
TINY_SIMULATION = {"n_planets": 40, "n_time": 64, "seed": 7}


def tiny_overrides(data_dir: Path) -> list[str]:
    """Overrides that point a training at the tiny dataset and keep it short."""
    return [
        f"data.data_dir={data_dir}",
        *(f"+data.simulation.{k}={v}" for k, v in TINY_SIMULATION.items() if k != "seed"),
        f"data.simulation.seed={TINY_SIMULATION['seed']}",
        "training.epochs=2",
    ]


def run_module(args: list[str], cwd: Path, timeout: float = 300, **env: str):
    """Run ``python -m <args>`` as a user would; return the CompletedProcess."""
    environment = {**os.environ, "PYTHONWARNINGS": "ignore", **env}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment
    )
