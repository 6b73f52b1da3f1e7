"""Shared by the ablation sweeper tests (tests/ablation, tests/ablation_ray): a tiny simulated
dataset, and sweeps run the way a user runs them (``python -m spectramind.train --multirun ...`` in
a subprocess). A uniquely named module rather than conftest.py, so that test modules import it
unambiguously; the conftest files re-export its fixtures."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spectramind.ablation.manifest import record_run_status
from spectramind.tracking.events import EventLog, read_events
from spectramind.tracking.identity import RunIdentity
from spectramind.tracking.record import RunRecorder

HERE = Path(__file__).resolve().parent
TINY_SIMULATION = {"n_planets": 40, "n_time": 64}
SWEEP_TIMEOUT_S = 240


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-planet dataset generated once per test session and shared by every run."""
    from spectramind.data.sim.config import SimulationConfig
    from spectramind.data.sim.writer import ensure_dataset

    data_dir = tmp_path_factory.mktemp("data") / "tiny"
    ensure_dataset(data_dir, SimulationConfig(seed=0, **TINY_SIMULATION))
    return data_dir


# Torch's default of one thread per core slows a model this small down several times over when
# other processes share the machine; tests that check how threads are set leave this out.
SINGLE_THREAD = "num_threads=1"


@pytest.fixture(scope="session")
def train_overrides(tiny_data_dir: Path) -> list[str]:
    """Overrides that make a training take about a second: the tiny dataset, two epochs, one thread."""
    return [
        f"data.data_dir={tiny_data_dir}",
        *(f"+data.simulation.{key}={value}" for key, value in TINY_SIMULATION.items()),
        "training.epochs=2",
        SINGLE_THREAD,
    ]


def sweep_env(**extra: str) -> dict[str, str]:
    """The subprocess environment: this folder importable (fault callbacks), full Hydra errors off."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def run_sweep(cwd: Path, *args: str, timeout: float = SWEEP_TIMEOUT_S, **env: str) -> subprocess.CompletedProcess:
    """``python -m spectramind.train --multirun ARGS`` in ``cwd``; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "spectramind.train", "--multirun", *args],
        cwd=cwd,
        env=sweep_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def sweep_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "spectramind.train", "--multirun", *args]


def run_training(cwd: Path, *args: str, timeout: float = SWEEP_TIMEOUT_S, **env: str) -> subprocess.CompletedProcess:
    """``python -m spectramind.train ARGS`` (one run, no --multirun) in ``cwd``, like ``run_sweep``."""
    return subprocess.run(
        [sys.executable, "-m", "spectramind.train", *args],
        cwd=cwd,
        env=sweep_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds (e.g. a sweep reached the state a test kills it in)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def kill_sweep_when(
    cwd: Path,
    args: list[str],
    predicate: Callable[[], bool],
    what: str,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> None:
    """Start ``python -m spectramind.train --multirun ARGS`` in its own process group and SIGKILL
    the whole group (sweep and any workers) once ``predicate`` holds: a crash at a chosen state."""
    process = subprocess.Popen(
        sweep_command(*args),
        cwd=cwd,
        env=env or sweep_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(predicate, timeout=timeout, what=what)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def manifest(sweep_dir: Path) -> dict[str, Any]:
    return json.loads((sweep_dir / "sweep.json").read_text())


def runs_by_id(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    return {run["run_id"]: run for run in manifest(sweep_dir)["runs"]}


def run_record(sweep_dir: Path, run_id: str) -> dict[str, Any]:
    return json.loads((sweep_dir / "runs" / run_id / "run.json").read_text())


def sweep_events(sweep_dir: Path) -> EventLog:
    return read_events(sweep_dir / "events.jsonl")


def run_events(sweep_dir: Path, run_id: str) -> EventLog:
    return read_events(sweep_dir / "runs" / run_id / "events.jsonl")


def explain(result: subprocess.CompletedProcess) -> str:
    """The tail of a sweep's output, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-5000:]}"


def sweep_run_recorder(sweep_dir: Path, spec) -> RunRecorder:
    """A real run record for a planned run (``spec``), mirrored into ``sweep.json`` as a run of the
    sweep mirrors it: what an in-process launch function keeps for each job it "trains"."""
    return RunRecorder(
        sweep_dir / "runs" / spec.run_id,
        identity=RunIdentity(spec.run_id, spec.config_id, spec.label),
        overrides=list(spec.overrides),
        config_yaml="{}\n",
        config_hash=f"hash-{spec.run_id}",
        dataset_hash=None,
        seed=spec.seed,
        device="cpu",
        sweep_dir=sweep_dir,
        on_status=functools.partial(record_run_status, sweep_dir),
    )
