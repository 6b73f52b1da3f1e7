"""Fixtures writing synthetic sweep directories (the writers live in synthetic_sweep.py)."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .synthetic_sweep import FakeRun, SyntheticSweep, mixed_runs, write_sweep


@pytest.fixture
def sweep_factory(tmp_path: Path) -> Callable[..., SyntheticSweep]:
    """``sweep_factory(factors, runs, **write_sweep_options)`` writes a sweep under tmp_path."""
    counter = itertools.count()

    def make(factors: dict[str, list[str]], runs: list[FakeRun], **options: Any) -> SyntheticSweep:
        return write_sweep(tmp_path / f"sweep{next(counter)}", factors, runs, **options)

    return make


@pytest.fixture(scope="session")
def _mixed_sweep_template(tmp_path_factory: pytest.TempPathFactory) -> SyntheticSweep:
    factors, baseline, runs = mixed_runs()
    return write_sweep(
        tmp_path_factory.mktemp("template") / "mixed", factors, runs, baseline=baseline, wall_time_s=5400.0
    )


@pytest.fixture
def mixed_sweep(_mixed_sweep_template: SyntheticSweep, tmp_path: Path) -> SyntheticSweep:
    """mixed_runs() written to disk: a private copy per test, so a test may alter its files."""
    copy = tmp_path / "mixed"
    shutil.copytree(_mixed_sweep_template.dir, copy)
    return dataclasses.replace(_mixed_sweep_template, dir=copy)
