"""The data sets and the 8-run study shared by the sweep benchmarks.

The study is a 2 x 2 x 2 grid (backbone x loss x learning rate), one seed: 8 runs. The same
override lists feed the sweeper (as comma-separated sweeps on its command line) and the direct
loop (one list per run, in the grid's order), so both sides train exactly the same 8 configs.
Data sets are generated once, before anything is timed, so no side pays for simulation.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from bench.timing import bench_env, python_command, timed_run

# Small enough that per-run orchestration is visible next to training (tests/training_support.py
# trains on the same size).
TINY_SIMULATION = {"n_planets": 40, "n_time": 48, "seed": 7}
# conf/data/simulated.yaml's own simulation (seed 0, SimulationConfig's sizes): CPU-bound runs.
DEFAULT_SIMULATION = {"seed": 0}

GRID = {"model": ["mlp", "cnn1d"], "loss": ["gll", "mse"], "optimizer.lr": ["0.001", "0.003"]}


@dataclass(frozen=True)
class Study:
    """Fixed overrides (data, epochs) plus the grid; everything a sweep or a loop needs."""

    data_dir: Path
    simulation: dict
    epochs: int

    def fixed_overrides(self) -> list[str]:
        sizes = [f"+data.simulation.{k}={v}" for k, v in self.simulation.items() if k != "seed"]
        return [
            f"data.data_dir={self.data_dir}",
            *sizes,
            f"data.simulation.seed={self.simulation['seed']}",
            f"training.epochs={self.epochs}",
        ]

    def sweep_overrides(self) -> list[str]:
        """The command-line sweeps the ablation sweeper expands into the 8 runs."""
        return [*self.fixed_overrides(), *(f"{key}={','.join(levels)}" for key, levels in GRID.items())]

    def run_overrides(self) -> list[list[str]]:
        """One override list per run, in the grid's order (the order the sweeper launches them)."""
        keys = list(GRID)
        return [
            [*self.fixed_overrides(), *(f"{k}={v}" for k, v in zip(keys, levels))]
            for levels in itertools.product(*GRID.values())
        ]

    def sweep_command(self, sweep_dir: Path, *extra: str) -> list[str]:
        return python_command(
            "-m", "spectramind.train", "--multirun", f"hydra.sweep.dir={sweep_dir}", *self.sweep_overrides(), *extra
        )

    def loop_command(self, out_dir: Path) -> list[str]:
        return python_command(
            "-m", "bench.direct_loop", "--out", str(out_dir), "--runs", json.dumps(self.run_overrides())
        )


def ensure_data(data_dir: Path, simulation: dict) -> Path:
    """Generate the data set in a subprocess (this process stays free of numpy-heavy imports)."""
    code = (
        "import sys, json; from spectramind.data.sim.config import SimulationConfig; "
        "from spectramind.data.sim.writer import ensure_dataset; "
        "ensure_dataset(sys.argv[1], SimulationConfig(**json.loads(sys.argv[2])))"
    )
    timed_run(python_command("-c", code, str(data_dir), json.dumps(simulation)), env=bench_env())
    return data_dir


def run_records(runs_root: Path) -> dict[str, dict]:
    """run.json of every run directory under ``runs_root``, by run id."""
    records = {}
    for path in sorted(runs_root.glob("*/run.json")):
        record = json.loads(path.read_text())
        records[record["run_id"]] = record
    return records


def check_completed(runs_root: Path, expected: int) -> dict[str, dict]:
    """The run records, after checking that exactly ``expected`` runs completed."""
    records = run_records(runs_root)
    statuses = [r["status"] for r in records.values()]
    if len(records) != expected or any(s != "completed" for s in statuses):
        raise RuntimeError(f"{runs_root}: expected {expected} completed runs, found {statuses}")
    return records
