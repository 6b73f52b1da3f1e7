"""The runs table: one row per run, whatever its state, from the records `reader` read.

Every column of a row is declared once in a table (`ID_COLUMNS`, `STATE_COLUMNS`,
`RECORD_COLUMNS`) by where its value comes from: dotted paths into the run's records, tried in
order, and how the value found is converted. The records disagree and go stale independently
(the manifest is written by the sweeper, ``run.json`` by the run, possibly on another host, and a
run killed outright updates neither), so which record is believed first is a per-column decision
and reads best side by side. The namespaces a path starts with:

    entry     the run's entry in sweep.json ({} for a run the manifest does not list)
    record    its run.json ({} when missing or unreadable)
    metrics   its metrics.json ({} likewise)
    run       facts derived from all of them: run_id, status (`sweep_layout.resolve_status`),
              error, overrides, seed_override, assignment (the task overrides, key -> value),
              derived_config_id, epochs_logged

Between these fixed columns go the factors (after ``label``) and the metrics (after the state),
whose names depend on the sweep.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from spectramind.leaderboard.reader import RunFiles, SweepFiles, error_one_line
from spectramind.sweep_layout import COMPLETED, METRICS_FILE, resolve_status
from spectramind.tracking.identity import override_key, override_value

UNSET_LEVEL = "(default)"  # the level of a factor that a run's overrides leave alone


def _first_present(*values: Any) -> Any:
    """The first value that is neither None nor empty text (0 and False count: seed 0 is a seed)."""
    return next((v for v in values if v is not None and v != ""), None)


def _first_truthy(*values: Any) -> Any:
    """``a or b or c``: where an empty or zero value means "not recorded here", ask the next record."""
    for value in values[:-1]:
        if value:
            return value
    return values[-1]


def _as_number(value: Any) -> float:
    """A float from a number or numeric text; NaN for anything else, so one bad cell never breaks a
    numeric column."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def _as_seed(value: Any) -> float:
    """A seed is an integer; anything else (``0.5`` from a hand-edited record) reads as unknown
    rather than breaking the integer seed column and with it the whole leaderboard."""
    number = _as_number(value)
    return number if math.isfinite(number) and number.is_integer() else math.nan


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class Column:
    """One column: ``pick`` chooses among the values at ``sources`` (dotted paths into a run's
    records; a path through a missing key or a non-object gives None), ``convert`` makes it a cell."""

    name: str
    sources: tuple[str, ...]
    convert: Callable[[Any], Any] = _as_text
    pick: Callable[..., Any] = _first_present

    def value(self, records: dict[str, Any]) -> Any:
        return self.convert(self.pick(*(_lookup(records, path) for path in self.sources)))


ID_COLUMNS = (
    Column("run_id", ("run.run_id",)),
    Column("config_id", ("entry.config_id", "record.config_id", "run.derived_config_id"), str, _first_truthy),
    Column("label", ("entry.label", "record.label", "run.run_id"), str, _first_truthy),
)
STATE_COLUMNS = (
    Column("seed", ("record.seed", "entry.seed", "run.seed_override"), _as_seed),
    Column("status", ("run.status",)),
    Column("error", ("run.error",), error_one_line),
    Column("is_baseline", ("entry.is_baseline",), bool),
)
RECORD_COLUMNS = (
    Column("epochs", ("metrics.epochs", "record.epochs_trained", "record.epochs", "run.epochs_logged"), _as_number),
    Column("train_time_s", ("metrics.train_time_s", "record.durations.fit_s", "record.durations.total_s"), _as_number),
    Column("n_params", ("record.n_params",), _as_number),
    Column("config_hash", ("record.config_hash", "entry.config_hash"), _as_text, _first_truthy),
    Column("dataset_hash", ("record.dataset_hash",)),
    Column("dataset_dvc_md5", ("record.dataset_dvc.md5",)),
    Column("git_commit", ("record.git.commit",)),
    Column("git_dirty", ("record.git.dirty",), _flag),
    Column("started", ("record.started", "entry.started"), _as_text, _first_truthy),
    Column("ended", ("record.ended", "entry.ended"), _as_text, _first_truthy),
    Column("attempts", ("entry.attempts",), _as_number),
    Column("device", ("record.device",)),
    Column("overrides", ("run.overrides",)),
    Column("error_traceback", ("run.error.traceback",)),
)
# Column names every runs table has, in display order; factor columns go after "label".
RUN_ID_COLUMNS = tuple(column.name for column in ID_COLUMNS)
RUN_STATE_COLUMNS = tuple(column.name for column in STATE_COLUMNS)
RUN_RECORD_COLUMNS = tuple(column.name for column in RECORD_COLUMNS)


@dataclass
class RunsTable:
    """The per-run tables of a sweep and the names their columns were given."""

    runs: pd.DataFrame  # one row per run
    curves: pd.DataFrame  # one row per (run, epoch_end event)
    factor_levels: dict[str, list[str]]  # factor key -> its levels, declared ones first
    factor_columns: dict[str, str]  # factor key -> its column in runs (and in the configs table)
    metric_names: list[str]


def build_runs(sweep: SweepFiles) -> RunsTable:
    """The runs and curves of ``sweep``; a completed run without metrics is reported in its warnings."""
    overrides = {run_id: _overrides_of(sweep.planned.get(run_id), sweep.files.get(run_id)) for run_id in sweep.run_ids}
    factor_levels = _factor_levels(sweep.manifest, overrides, sweep.seed_key)
    metric_names = _metric_names(sweep.files.values())
    factor_columns = _factor_columns(factor_levels, metric_names)
    rows = []
    for run_id in sweep.run_ids:
        entry, files = sweep.planned.get(run_id) or {}, sweep.files.get(run_id)
        records = _run_records(run_id, entry, files, overrides[run_id], sweep.seed_key)
        rows.append(_run_row(records, factor_columns, metric_names))
        if records["run"]["status"] == COMPLETED and files is not None and files.metrics is None:
            sweep.warnings.append(f"{run_id}: status completed but its {METRICS_FILE} is missing or unreadable")
    runs = _runs_frame(rows, factor_columns, metric_names)
    for key, column in factor_columns.items():  # levels a run used that the manifest did not declare
        factor_levels[key] += [v for v in dict.fromkeys(runs[column]) if v not in factor_levels[key]]
    return RunsTable(
        runs=runs,
        curves=_curves_frame(sweep.files),
        factor_levels=factor_levels,
        factor_columns=factor_columns,
        metric_names=metric_names,
    )


def task_assignment(lines: Iterable[str], seed_key: str) -> dict[str, str | None]:
    """Key -> value of the overrides that change what is trained: not hydra.*, not the seed."""
    pairs = ((override_key(line), override_value(line)) for line in lines)
    return {key: value for key, value in pairs if key and key != seed_key and not key.startswith("hydra.")}


def _lookup(records: dict[str, Any], path: str) -> Any:
    node: Any = records
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _run_records(
    run_id: str, entry: dict[str, Any], files: RunFiles | None, overrides: list[str], seed_key: str
) -> dict[str, Any]:
    """The namespaces the column table reads (see the module docstring)."""
    record = (files.record if files else None) or {}
    metrics = (files.metrics if files else None) or {}
    assignment = task_assignment(overrides, seed_key)
    status = resolve_status(
        entry.get("status"),
        record.get("status"),
        has_run_dir=files is not None,
        has_metrics=files is not None and files.metrics is not None,
        last_event=files.last_event if files else None,
    )
    run = {
        "run_id": run_id,
        "status": status,
        "error": record.get("error") or entry.get("error"),
        "overrides": " ".join(overrides),
        "seed_override": {override_key(line): override_value(line) for line in overrides}.get(seed_key),
        "assignment": assignment,
        "derived_config_id": _derived_config_id(assignment),
        "epochs_logged": (len(files.epochs) if files else 0) or None,
    }
    return {"entry": entry, "record": record, "metrics": metrics, "run": run}


def _run_row(records: dict[str, Any], factor_columns: dict[str, str], metric_names: list[str]) -> dict[str, Any]:
    """One run's cells; the record columns are filled last, so they win over a metric of the same
    name (metrics.json holds ``epochs`` and ``train_time_s`` too)."""
    row = {column.name: column.value(records) for column in ID_COLUMNS}
    declared = records["entry"].get("factors")
    declared = declared if isinstance(declared, dict) else {}
    for key, column in factor_columns.items():
        value = declared[key] if key in declared else records["run"]["assignment"].get(key)
        row[column] = UNSET_LEVEL if value is None else str(value)
    row.update({column.name: column.value(records) for column in STATE_COLUMNS})
    row.update({name: _as_number(records["metrics"].get(name)) for name in metric_names})
    row.update({column.name: column.value(records) for column in RECORD_COLUMNS})
    return row


def _derived_config_id(assignment: dict[str, str | None]) -> str:
    """A config id for runs that carry none: a short hash of their non-seed overrides."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(assignment.items(), key=lambda kv: kv[0]))
    return "config-" + hashlib.sha1(text.encode()).hexdigest()[:8]


def _overrides_of(entry: dict[str, Any] | None, files: RunFiles | None) -> list[str]:
    for source in (entry, files.record if files else None):
        overrides = (source or {}).get("overrides")
        if isinstance(overrides, list):
            return [str(o) for o in overrides]
    return []


def _factor_levels(
    manifest: dict[str, Any] | None, overrides_by_run: dict[str, list[str]], seed_key: str
) -> dict[str, list[str]]:
    """Factors and their ordered levels: the manifest's, or else every override key that varies."""
    declared = (manifest or {}).get("factors")
    if isinstance(declared, dict) and declared:  # the seed is the replicate index, never a factor
        return {str(k): [str(v) for v in (levels or [])] for k, levels in declared.items() if str(k) != seed_key}
    values: dict[str, set[str]] = {}
    parsed = [task_assignment(lines, seed_key) for lines in overrides_by_run.values()]
    for assignment in parsed:
        for key in assignment:
            values.setdefault(key, set())
    for assignment in parsed:
        for key in values:
            values[key].add(assignment.get(key) or UNSET_LEVEL)
    return {key: _natural_order(levels) for key, levels in values.items() if len(levels) > 1}


def _natural_order(levels: set[str]) -> list[str]:
    try:
        return sorted(levels, key=float)
    except ValueError:
        return sorted(levels)


def _metric_names(all_files: Iterable[RunFiles]) -> list[str]:
    """Union of metrics.json keys, in first-seen order (so the trainer's order is kept)."""
    names: dict[str, None] = {}
    for files in all_files:
        if files.metrics:
            for key in files.metrics:
                names.setdefault(str(key), None)
    return list(names)


def _factor_columns(factor_levels: dict[str, list[str]], metric_names: list[str]) -> dict[str, str]:
    """Factor key -> column name: the key itself unless it would clash with another column."""
    reserved = set(RUN_ID_COLUMNS) | set(RUN_STATE_COLUMNS) | set(RUN_RECORD_COLUMNS) | set(metric_names)
    return {key: (f"factor:{key}" if key in reserved else key) for key in factor_levels}


def _runs_frame(rows: list[dict[str, Any]], factor_columns: dict[str, str], metric_names: list[str]) -> pd.DataFrame:
    columns = [
        *RUN_ID_COLUMNS,
        *factor_columns.values(),
        *RUN_STATE_COLUMNS,
        *[m for m in metric_names if m not in RUN_RECORD_COLUMNS],
        *RUN_RECORD_COLUMNS,
    ]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if metric_names:
        frame[metric_names] = frame[metric_names].astype(float)
    frame["seed"] = frame["seed"].astype(float).astype("Int64")
    frame["is_baseline"] = frame["is_baseline"].astype(bool)
    return frame


def _curves_frame(files: dict[str, RunFiles]) -> pd.DataFrame:
    """One row per (run, epoch_end event): epoch, duration_s and that epoch's logged metrics."""
    records = []
    for run_id, run_files in files.items():
        for event in run_files.epochs:
            record = {"run_id": run_id, "epoch": event.get("epoch"), "duration_s": event.get("duration_s")}
            metrics = event.get("metrics")
            if isinstance(metrics, dict):
                record.update({str(k): _as_number(v) for k, v in metrics.items()})
            records.append(record)
    if not records:
        return pd.DataFrame(columns=["run_id", "epoch", "duration_s"])
    return pd.DataFrame.from_records(records)
