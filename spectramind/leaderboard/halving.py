"""Successive halving as the leaderboard reads it: the rung each configuration reached and what it
reported at the end of each rung.

Why apart: a halving sweep (``design=halving``, :mod:`spectramind.ablation.halving`) trains its
configurations for different numbers of epochs. Most stop at an early rung and only a few are
promoted to the last, so their final scores compare only within a rung, and what each one reported
at each rung's end is the record of why it was promoted or stopped. Both come from ``sweep.json``
alone: its ``halving`` block (the options and the rung plan) and, per run entry, ``rung`` (the last
rung the run was launched at) and ``rung_values`` (rung -> the number it reported at that rung's
end: the task's validation score, unclipped). Read as tolerantly as the rest of the sweep: a field
of the wrong type is reported in the warnings and ignored, never fatal.

What the tables get, for a halving sweep only (other designs are collated exactly as before):

- ``runs`` and ``configs``: ``rung`` (a run's last rung; a configuration's highest over its runs,
  a run that failed at rung k reached k) and ``rung_<k>_value`` per rung of the plan (a
  configuration's: the mean over its seeds, NaN unless every seed reported a finite number there,
  as promotion reads it);
- `Halving`: the plan, the highest rung reached and the epochs trained against the full grid's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spectramind.ablation.halving import Rung
from spectramind.leaderboard.paired import COMPARISON_COLUMNS
from spectramind.leaderboard.reader import SweepFiles, error_one_line
from spectramind.sweep_layout import MANIFEST_FILE

RUNG_COLUMN = "rung"


def value_column(index: int) -> str:
    """The column of what a run (a configuration: the mean over its seeds) reported at rung ``index``."""
    return f"rung_{index}_value"


@dataclass
class Halving:
    """The halving block of ``sweep.json`` and what the runs made of it.

    ``eta``/``min_epochs``/``max_epochs``/``higher_is_better``: as recorded (None where unreadable);
    ``top_rung``: the highest rung any configuration reached (None before any launch);
    ``epochs_trained``: the runs' epochs in all, from their run.json's ``epochs_trained`` where any
    recorded it (``epochs_from_records``), else from the plan (each run to its rung's epochs);
    ``full_grid_epochs``: every run trained to the last rung's epochs, what the grid would cost;
    ``n_reached``: per rung, how many configurations reached it (or a later one).
    """

    rungs: list[Rung]
    eta: int | None
    min_epochs: int | None
    max_epochs: int | None
    higher_is_better: bool | None
    top_rung: int | None = None
    epochs_trained: int = 0
    epochs_from_records: bool = False
    full_grid_epochs: int = 0
    n_reached: dict[int, int] = field(default_factory=dict)  # rung -> configurations that reached it

    @property
    def last_rung(self) -> int:
        return self.rungs[-1].index

    def epochs_at(self, index: int | None) -> int | None:
        """Epochs trained in all at the end of rung ``index`` (None for no rung)."""
        return next((r.epochs for r in self.rungs if r.index == index), None)

    def document(self) -> dict[str, Any]:
        """The plan and the totals, as leaderboard.json writes them (the configurations beside)."""
        return {
            "eta": self.eta,
            "min_epochs": self.min_epochs,
            "max_epochs": self.max_epochs,
            "higher_is_better": self.higher_is_better,
            "rungs": [{"index": r.index, "epochs": r.epochs, "n_configs": r.n_configs} for r in self.rungs],
            "top_rung": self.top_rung,
            "epochs_trained": self.epochs_trained,
            "epochs_from_records": self.epochs_from_records,
            "full_grid_epochs": self.full_grid_epochs,
            "n_reached": {str(index): n for index, n in self.n_reached.items()},
        }


def _as_int(value: Any) -> int | None:
    """An integer from an int or an integral float (never a bool); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _shown(value: Any) -> str:
    """A value from the file as a warning quotes it: its repr, on one line, truncated."""
    return error_one_line(repr(value))


def _as_float(value: Any) -> float | None:
    """A float from a number (never a bool; an integer beyond float's range is none); else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def read_halving(manifest: dict[str, Any] | None, warnings: list[str]) -> Halving | None:
    """The ``halving`` block of ``sweep.json``; None for other designs or a block without a usable
    rung (reported: the sweep is then shown as a flat one)."""
    manifest = manifest or {}
    block = manifest.get("halving")
    if block is None:
        if manifest.get("design") == "halving":
            warnings.append(f"{MANIFEST_FILE}: design is halving but there is no 'halving' block; rungs not shown")
        return None
    if not isinstance(block, dict):
        warnings.append(f"{MANIFEST_FILE}: 'halving' is not an object; rungs not shown")
        return None
    rungs = _plan_rungs(block.get("rungs"), warnings)
    if not rungs:
        warnings.append(f"{MANIFEST_FILE}: the 'halving' block has no valid rung; rungs not shown")
        return None
    fields = {}
    for key in ("eta", "min_epochs", "max_epochs"):
        fields[key] = _as_int(block.get(key))
        if fields[key] is None:
            warnings.append(f"{MANIFEST_FILE}: halving {key} {_shown(block.get(key))} is not an integer; ignored")
    better = block.get("higher_is_better")
    return Halving(rungs=rungs, higher_is_better=better if isinstance(better, bool) else None, **fields)


def _plan_rungs(raw: Any, warnings: list[str]) -> list[Rung]:
    """The valid rungs of the plan, by index (a malformed or repeated one reported and left out)."""
    if not isinstance(raw, list):
        return []
    rungs: dict[int, Rung] = {}
    for item in raw:
        numbers = [_as_int(item.get(k)) if isinstance(item, dict) else None for k in ("index", "epochs", "n_configs")]
        index, epochs, n_configs = numbers
        if None in numbers or index < 0 or epochs < 1 or n_configs < 0 or index in rungs:
            warnings.append(f"{MANIFEST_FILE}: ignoring a malformed halving rung {_shown(item)}")
            continue
        rungs[index] = Rung(index, epochs, n_configs)
    return [rungs[index] for index in sorted(rungs)]


def run_rung(run_id: str, entry: dict[str, Any], known: set[int], warnings: list[str]) -> tuple[int | None, dict]:
    """(the rung a run reached, rung -> the finite number it reported there) from its sweep.json
    entry. A rung it reported at counts as reached even where ``rung`` is missing or stale."""
    raw_rung = entry.get("rung")
    rung = _as_int(raw_rung)
    if raw_rung is not None and rung not in known:
        warnings.append(
            f"{MANIFEST_FILE}: {run_id}: rung {_shown(raw_rung)} is not a rung of the halving plan; ignored"
        )
        rung = None
    raw_values = entry.get("rung_values")
    if raw_values is not None and not isinstance(raw_values, dict):
        warnings.append(f"{MANIFEST_FILE}: {run_id}: rung_values is not an object; ignored")
    values = {}
    for key, value in (raw_values if isinstance(raw_values, dict) else {}).items():
        index = int(key) if isinstance(key, str) and key.isdecimal() else None
        number = _as_float(value)
        if index not in known or number is None:
            warnings.append(f"{MANIFEST_FILE}: {run_id}: ignoring rung_values entry {_shown(key)}: {_shown(value)}")
            continue
        values[index] = number if math.isfinite(number) else math.nan
    reached = max([r for r in (rung, *values) if r is not None], default=None)
    return reached, values


def collate_halving(
    sweep: SweepFiles, runs: pd.DataFrame, configs: pd.DataFrame
) -> tuple[Halving | None, pd.DataFrame, pd.DataFrame]:
    """(the halving plan, runs, configs) with the rung columns (module docstring) for a halving
    sweep; the tables unchanged and None for any other."""
    halving = read_halving(sweep.manifest, sweep.warnings)
    if halving is None:
        return None, runs, configs
    known = {r.index for r in halving.rungs}
    per_run = {run_id: run_rung(run_id, entry, known, sweep.warnings) for run_id, entry in sweep.planned.items()}
    reached = [per_run.get(run_id, (None, {})) for run_id in runs["run_id"]]
    run_columns = {RUNG_COLUMN: pd.array([rung for rung, _ in reached], dtype="Int64")}
    for rung in halving.rungs:
        run_columns[value_column(rung.index)] = [values.get(rung.index, math.nan) for _, values in reached]
    runs = pd.concat([runs, pd.DataFrame(run_columns, index=runs.index)], axis=1)
    by_config = runs.groupby("config_id", sort=False)
    config_columns = {RUNG_COLUMN: configs["config_id"].map(by_config[RUNG_COLUMN].max()).astype("Int64")}
    for rung in halving.rungs:
        column = by_config[value_column(rung.index)]
        every_seed = column.count() == column.size()  # promotion's rule: a seed without a number stops it
        mean = column.mean().where(every_seed)
        config_columns[value_column(rung.index)] = configs["config_id"].map(mean).astype(float)
    configs = pd.concat([configs, pd.DataFrame(config_columns, index=configs.index)], axis=1)
    top = configs[RUNG_COLUMN].max()
    halving.top_rung = None if pd.isna(top) else int(top)
    halving.n_reached = {r.index: int((configs[RUNG_COLUMN] >= r.index).fillna(False).sum()) for r in halving.rungs}
    _count_epochs(halving, sweep, runs)
    return halving, runs, configs


def _count_epochs(halving: Halving, sweep: SweepFiles, runs: pd.DataFrame) -> None:
    """The epochs the sweep trained (run.json's ``epochs_trained`` summed where recorded, else each
    run's rung's epochs) and those of the full grid (every run to the last rung)."""
    recorded = [_as_int((files.record or {}).get("epochs_trained")) for files in sweep.files.values()]
    recorded = [epochs for epochs in recorded if epochs is not None]
    halving.epochs_from_records = bool(recorded)
    if recorded:
        halving.epochs_trained = sum(recorded)
    else:
        halving.epochs_trained = sum(halving.epochs_at(int(rung)) or 0 for rung in runs[RUNG_COLUMN].dropna())
    halving.full_grid_epochs = len(runs) * halving.rungs[-1].epochs


def within_rung(comparison: pd.DataFrame, configs: pd.DataFrame, baseline: str | None) -> pd.DataFrame:
    """The comparison with the baseline (by config_id) kept only for the configurations that reached
    the baseline's rung: between rungs, Δ would measure the epochs trained as much as the levels."""
    rungs = configs.set_index("config_id")[RUNG_COLUMN]
    if baseline is None or baseline not in rungs.index:
        return comparison
    elsewhere = (rungs.reindex(comparison.index) != rungs[baseline]).fillna(True).astype(bool)
    comparison = comparison.copy()
    comparison.loc[elsewhere, [c for c in COMPARISON_COLUMNS if c != "n_pairs"]] = math.nan
    comparison.loc[elsewhere, "n_pairs"] = 0
    return comparison


def rung_cells(row: dict[str, Any], halving: Halving) -> list[tuple[float, bool]]:
    """A configuration's (value, promoted) at each rung of the plan: promoted where it went on to a
    later rung (what the pages highlight)."""
    reached = row.get(RUNG_COLUMN)
    reached = None if reached is None or pd.isna(reached) else int(reached)
    return [
        (row.get(value_column(rung.index), math.nan), reached is not None and reached > rung.index)
        for rung in halving.rungs
    ]


def halving_configs(ranked: pd.DataFrame, halving: Halving) -> list[dict[str, Any]]:
    """leaderboard.json's per-configuration halving table, in the ranking's order."""
    entries = []
    for row in ranked.to_dict("records"):
        rung = row.get(RUNG_COLUMN)
        rung = None if rung is None or pd.isna(rung) else int(rung)
        cells = rung_cells(row, halving)
        entries.append(
            {
                "config_id": row["config_id"],
                "label": row["label"],
                "rung": rung,
                "epochs": halving.epochs_at(rung),
                "values": {str(r.index): value for r, (value, _) in zip(halving.rungs, cells)},
                "promoted_from": [r.index for r, (_, promoted) in zip(halving.rungs, cells) if promoted],
            }
        )
    return entries
