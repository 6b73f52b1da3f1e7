"""Simulator throughput and memory for the default ``SimulationConfig``.

``python -m bench.simulator OUT_DIR`` simulates the default data set into OUT_DIR in a fresh
process and prints one JSON line: the wall time of ``simulate_dataset`` and the process's peak
resident set size (``getrusage`` maxrss) after the imports and at the end, so the simulation's own
share of the peak can be told from numpy/pandas/batman's.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    from spectramind.data.sim.config import SimulationConfig
    from spectramind.data.sim.writer import simulate_dataset

    out = Path(sys.argv[1])
    after_imports = _maxrss_mib()
    config = SimulationConfig()
    started = time.perf_counter()
    simulate_dataset(out, config)
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "n_planets": config.n_planets,
                "n_time": config.n_time,
                "seconds": elapsed,
                "maxrss_after_imports_mib": after_imports,
                "maxrss_peak_mib": _maxrss_mib(),
                "dataset_mib": size / 2**20,
            }
        )
    )


def simulator(work: Path) -> dict:
    from bench.timing import bench_env, python_command, timed_run

    _, result = timed_run(python_command("-m", "bench.simulator", str(work / "simulated-default")), env=bench_env())
    run = json.loads(result.stdout.strip().splitlines()[-1])
    rate = run["n_planets"] / run["seconds"]
    figures = {
        "planets_per_s": round(rate, 1),
        "seconds": round(run["seconds"], 3),
        "n_planets": run["n_planets"],
        "n_time": run["n_time"],
        "peak_rss_mib": round(run["maxrss_peak_mib"], 1),
        "rss_after_imports_mib": round(run["maxrss_after_imports_mib"], 1),
        "peak_rss_above_imports_mib": round(run["maxrss_peak_mib"] - run["maxrss_after_imports_mib"], 1),
        "dataset_on_disk_mib": round(run["dataset_mib"], 1),
    }
    return {
        "title": "Simulator (default SimulationConfig)",
        "what": "`simulate_dataset(dir, SimulationConfig())` in a fresh process; peak RSS from getrusage",
        "figures": figures,
        "headline": (
            f"{rate:.0f} planets/s ({run['n_planets']} planets x {run['n_time']} samples in "
            f"{run['seconds']:.1f} s); peak RSS {figures['peak_rss_mib']:.0f} MiB "
            f"({figures['peak_rss_above_imports_mib']:.0f} MiB above imports)"
        ),
        "target": "none (reported)",
        "met": None,
    }


if __name__ == "__main__":
    main()
