"""Shared fixtures: a tiny simulated dataset generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_support import TINY_SIMULATION


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory) -> Path:
    from spectramind.data.sim.config import SimulationConfig
    from spectramind.data.sim.writer import ensure_dataset

    path = tmp_path_factory.mktemp("data") / "tiny"
    ensure_dataset(path, SimulationConfig(**TINY_SIMULATION))
    return path
