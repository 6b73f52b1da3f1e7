"""The Slurm launcher tests run on a real single-node Slurm cluster (`.ci/services/slurm start`,
which `.ci/run` starts) and reuse the ablation tests' helpers (tests/ablation/sweep_helpers.py).
Where the script says Slurm cannot start here, they are skipped with its one-line reason."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ablation"))

from sweep_helpers import tiny_data_dir, train_overrides  # noqa: E402,F401

SERVICE = Path(__file__).resolve().parents[2] / ".ci" / "services" / "slurm"


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    """A running cluster: started here if it is not yet (idempotent), else the reason it cannot."""
    started = subprocess.run(["bash", str(SERVICE), "start"], capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        pytest.skip(started.stderr.strip().splitlines()[-1] if started.stderr.strip() else "slurm: cannot start")
