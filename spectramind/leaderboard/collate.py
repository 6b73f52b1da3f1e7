"""Read every run of a sweep back from disk into one table, whatever state the sweep is in.

The leaderboard is rebuilt from files only (``sweep.json``, ``runs/<id>/{run.json, metrics.json,
events.jsonl}``, the sweep's ``events.jsonl``), so it is the same whichever launcher ran the jobs
and can be rebuilt while a sweep is still running. Every file may be missing, half written or
torn: nothing is dropped silently. A run that failed, diverged, is still running or was never
started is still a row, with its status and a one-line error, and every file or line that could
not be read is reported in ``SweepTable.warnings``.

`collate_runs` composes three steps, each in its own module: `reader` (the tolerant reading of
the folder), `rows` (one row per run, from a declarative column table) and `aggregate` (per
configuration and per sweep); `halving` adds the rungs of a successive-halving sweep. Only small
JSON files are read (predictions and checkpoints are read later, and only for the runs that are
plotted or exported), so a sweep of 1,000 runs collates in a fraction of a second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spectramind.leaderboard.aggregate import aggregate_configs, baseline_config, sweep_meta
from spectramind.leaderboard.halving import Halving, collate_halving
from spectramind.leaderboard.reader import read_sweep, read_sweep_events
from spectramind.leaderboard.rows import build_runs


@dataclass
class SweepTable:
    """Everything the leaderboard knows about a sweep, as read from disk.

    ``runs`` has one row per run (planned, running or finished); ``configs`` one row per
    configuration with ``<metric>_mean``, ``<metric>_std`` (over seeds, ddof=1) and ``<metric>_n``
    computed from its *completed* runs only; ``curves`` one row per (run, epoch) with the
    ``epoch_end`` metrics. ``factor_columns`` maps a factor key (``optimizer.lr``) to its column
    in both tables; ``factor_levels`` lists each factor's levels in the sweep's order. A
    successive-halving sweep adds to ``runs`` and ``configs`` the rung reached and the value
    reported at each rung, and ``halving`` holds its plan (:mod:`spectramind.leaderboard.halving`).
    """

    sweep_dir: Path
    runs: pd.DataFrame
    configs: pd.DataFrame
    curves: pd.DataFrame
    factor_levels: dict[str, list[str]]
    factor_columns: dict[str, str]
    metric_names: list[str]
    baseline_config_id: str | None
    seed_key: str
    meta: dict[str, Any]
    run_dirs: dict[str, str] = field(default_factory=dict)  # run_id -> its folder, relative to sweep_dir
    warnings: list[str] = field(default_factory=list)
    halving: Halving | None = None  # successive halving's plan (halving.py); None for other designs

    @property
    def factors(self) -> list[str]:
        return list(self.factor_levels)

    def run_dir(self, run_id: str) -> Path | None:
        """The folder a run wrote (None for a run that never started)."""
        return self.sweep_dir / self.run_dirs[run_id] if run_id in self.run_dirs else None


def collate_runs(sweep_dir: str | os.PathLike) -> SweepTable:
    """Collate every run of ``sweep_dir`` into a `SweepTable` (see the module docstring)."""
    sweep = read_sweep(sweep_dir)
    table = build_runs(sweep)
    configs = aggregate_configs(table.runs, list(table.factor_columns.values()), table.metric_names)
    halving, runs, configs = collate_halving(sweep, table.runs, configs)
    baseline = baseline_config(runs, configs, sweep.manifest, table.factor_columns, sweep.warnings)
    events = read_sweep_events(sweep.root, sweep.warnings)
    return SweepTable(
        sweep_dir=sweep.root,
        runs=runs,
        configs=configs,
        curves=table.curves,
        factor_levels=table.factor_levels,
        factor_columns=table.factor_columns,
        metric_names=table.metric_names,
        baseline_config_id=baseline,
        seed_key=sweep.seed_key,
        meta=sweep_meta(sweep.root, sweep.manifest, runs, events, sweep.warnings),
        run_dirs=sweep.run_dirs,
        warnings=sweep.warnings,
        halving=halving,
    )
