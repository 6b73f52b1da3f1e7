"""Read every run of a sweep back from disk into one table, whatever state the sweep is in.

The leaderboard is rebuilt from files only (``sweep.json``, ``runs/<id>/{run.json, metrics.json,
events.jsonl}``, the sweep's ``events.jsonl``), so it is the same whichever launcher ran the jobs
and can be rebuilt while a sweep is still running. Every file may be missing, half written or
torn: nothing is dropped silently. A run that failed, diverged, is still running or was never
started is still a row, with its status and a one-line error, and every file or line that could
not be read is reported in ``SweepTable.warnings``.

Only small JSON files are read here (predictions and checkpoints are read later, and only for the
runs that are plotted or exported), so a sweep of 1,000 runs collates in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spectramind.errors import DatasetError
from spectramind.sweep_layout import (
    COMPLETED, EVENTS_FILE, HYDRA_MULTIRUN_FILE, MANIFEST_FILE, METRICS_FILE, PENDING, RUN_RECORD_FILE, RUNNING,
    RUNS_DIR, TERMINAL_STATUSES, UNFINISHED_STATUSES, UNSUCCESSFUL_STATUSES, is_sweep_dir,
)
from spectramind.timestamps import parse_time
from spectramind.tracking.events import read_events
from spectramind.tracking.record import index_run_records

DEFAULT_SEED_KEY = "seed"
UNSET_LEVEL = "(default)"
_ERROR_MAX_CHARS = 300

# Columns every runs table has, in display order; factor columns go after "label".
RUN_ID_COLUMNS = ("run_id", "config_id", "label")
RUN_STATE_COLUMNS = ("seed", "status", "error", "is_baseline")
RUN_RECORD_COLUMNS = (
    "epochs", "train_time_s", "n_params", "config_hash", "dataset_hash", "dataset_dvc_md5", "git_commit", "git_dirty",
    "started", "ended", "attempts", "device", "overrides", "error_traceback",
)


@dataclass
class SweepTable:
    """Everything the leaderboard knows about a sweep, as read from disk.

    ``runs`` has one row per run (planned, running or finished); ``configs`` one row per
    configuration with ``<metric>_mean``, ``<metric>_std`` (over seeds, ddof=1) and ``<metric>_n``
    computed from its *completed* runs only; ``curves`` one row per (run, epoch) with the
    ``epoch_end`` metrics. ``factor_columns`` maps a factor key (``optimizer.lr``) to its column
    in both tables; ``factor_levels`` lists each factor's levels in the sweep's order.
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

    @property
    def factors(self) -> list[str]:
        return list(self.factor_levels)

    def run_dir(self, run_id: str) -> Path | None:
        """The folder a run wrote (None for a run that never started)."""
        return self.sweep_dir / self.run_dirs[run_id] if run_id in self.run_dirs else None


@dataclass
class _RunFiles:
    """The raw records of one run directory (any of them may be None when absent or unreadable)."""

    record: dict[str, Any] | None
    metrics: dict[str, Any] | None
    epochs: list[dict[str, Any]]
    last_event: str | None


def collate_runs(sweep_dir: str | os.PathLike) -> SweepTable:
    """Collate every run of ``sweep_dir`` into a `SweepTable` (see the module docstring)."""
    root = Path(sweep_dir)
    if not root.is_dir():
        raise DatasetError(f"sweep directory not found: {root}")
    if not is_sweep_dir(root):
        raise DatasetError(f"{root}: not a sweep directory (no {MANIFEST_FILE}, {HYDRA_MULTIRUN_FILE}, "
                           f"{RUNS_DIR}/ or Hydra job folders); nothing written")
    warnings: list[str] = []
    manifest = _load_json(root, MANIFEST_FILE, warnings, required=False)
    if manifest is not None and not isinstance(manifest.get("runs", []), list):
        warnings.append(f"{MANIFEST_FILE}: 'runs' is not a list; ignoring the manifest")
        manifest = None
    seed_key = str((manifest or {}).get("seed_key") or DEFAULT_SEED_KEY)

    planned = _planned_runs(manifest, warnings)
    run_dirs = _locate_runs(root, manifest, planned)
    files = {run_id: _read_run_files(root, run_dir, warnings) for run_id, run_dir in run_dirs.items()}

    ordered_ids = list(planned) + sorted(run_id for run_id in run_dirs if run_id not in planned)
    if manifest is not None:
        for run_id in ordered_ids[len(planned):]:
            warnings.append(f"{run_dirs[run_id]}: run directory is not listed in {MANIFEST_FILE}")

    overrides_by_run = {
        run_id: _overrides_of(planned.get(run_id), files.get(run_id)) for run_id in ordered_ids
    }
    factor_levels = _factor_levels(manifest, overrides_by_run, seed_key)
    metric_names = _metric_names(files.values())
    factor_columns = _factor_columns(factor_levels, metric_names)

    rows = [
        _run_row(run_id, planned.get(run_id), files.get(run_id), overrides_by_run[run_id],
                 factor_levels, factor_columns, metric_names, seed_key, warnings)
        for run_id in ordered_ids
    ]
    runs = _runs_frame(rows, factor_columns, metric_names)
    for key, column in factor_columns.items():  # levels a run used that the manifest did not declare
        factor_levels[key] += [v for v in dict.fromkeys(runs[column]) if v not in factor_levels[key]]
    configs = aggregate_configs(runs, list(factor_columns.values()), metric_names)
    baseline = _baseline_config(runs, configs, manifest, factor_columns, warnings)
    curves = _curves_frame(files)
    meta = _sweep_meta(root, manifest, runs, warnings)
    return SweepTable(
        sweep_dir=root, runs=runs, configs=configs, curves=curves, factor_levels=factor_levels,
        factor_columns=factor_columns, metric_names=metric_names, baseline_config_id=baseline,
        seed_key=seed_key, meta=meta, run_dirs=run_dirs, warnings=warnings,
    )


def aggregate_configs(runs: pd.DataFrame, factor_columns: list[str], metric_names: list[str]) -> pd.DataFrame:
    """One row per config_id: identity, run counts by status, and mean/std/n of each metric.

    Only completed runs enter the statistics (a diverged run's NaN loss is not a score); every
    configuration appears, even one with no completed run (then n = 0 and mean/std are NaN).
    The std is the sample std over seeds (ddof=1), NaN for a single seed.
    """
    first = runs.drop_duplicates("config_id", keep="first").set_index("config_id")
    configs = pd.DataFrame(index=first.index)
    configs["label"] = config_labels(first, factor_columns)
    for column in factor_columns:
        configs[column] = first[column]
    configs["is_baseline"] = runs.groupby("config_id", sort=False)["is_baseline"].any()
    status_counts = runs.groupby(["config_id", "status"], sort=False).size().unstack(fill_value=0)
    configs["n_runs"] = runs.groupby("config_id", sort=False).size()
    for name, statuses in (("n_completed", [COMPLETED]), ("n_failed", UNSUCCESSFUL_STATUSES),
                           ("n_unfinished", UNFINISHED_STATUSES)):
        present = [s for s in statuses if s in status_counts.columns]
        configs[name] = status_counts[present].sum(axis=1) if present else 0
    completed = runs[runs["status"] == COMPLETED]
    if metric_names:
        grouped = completed.groupby("config_id", sort=False)[metric_names]
        parts = {"mean": grouped.mean(), "std": grouped.std(ddof=1), "n": grouped.count()}
        stats_columns = {}
        for metric in metric_names:
            for suffix, frame in parts.items():
                values = frame[metric].reindex(configs.index)
                stats_columns[f"{metric}_{suffix}"] = values.fillna(0).astype(int) if suffix == "n" else values
        configs = pd.concat([configs, pd.DataFrame(stats_columns, index=configs.index)], axis=1)
    configs.index.name = "config_id"
    return configs.reset_index()


def config_labels(frame: pd.DataFrame, factor_columns: list[str]) -> list[str]:
    """``model=mlp, optimizer.lr=0.001`` per row: configurations named by their factor levels
    (by their config_id, the index, when nothing varies)."""
    if not factor_columns:
        return [str(c) for c in frame.index]
    columns = [frame[c].tolist() for c in factor_columns]
    return [", ".join(f"{name}={value}" for name, value in zip(factor_columns, values)) for values in zip(*columns)]


def error_one_line(error: Any) -> str:
    """``Type: message`` on one line (newlines folded), truncated: fits a table cell."""
    if error is None or error == "":
        return ""
    if isinstance(error, dict):
        kind, message = error.get("type") or "", error.get("message") or ""
        text = f"{kind}: {message}" if kind and message else str(kind or message)
    else:
        text = str(error)
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_MAX_CHARS else text[: _ERROR_MAX_CHARS - 1] + "…"


def override_key_value(line: str) -> tuple[str, str | None]:
    """``+optimizer.lr=1e-3`` -> (``optimizer.lr``, ``1e-3``); a deletion ``~key`` has value None."""
    key, sep, value = line.partition("=")
    key = key.strip()
    if key.startswith("~"):
        return key.lstrip("~"), None
    return key.lstrip("+"), value.strip() if sep else None


# ---- reading files ----


def _load_json(root: Path, relative: str, warnings: list[str], required: bool) -> dict[str, Any] | None:
    """Parse the JSON object file ``root/relative``; a missing optional file is silent, a missing
    required one or an unreadable one (torn, not an object) is reported by its relative path."""
    try:
        with open(root / relative, "rb") as handle:
            data = json.loads(handle.read())
    except FileNotFoundError:
        if required:
            warnings.append(f"{relative}: missing")
        return None
    except (OSError, ValueError) as error:
        warnings.append(f"{relative}: unreadable ({type(error).__name__}: {error_one_line(str(error))})")
        return None
    if not isinstance(data, dict):
        warnings.append(f"{relative}: not a JSON object")
        return None
    return data


def _list_run_dirs(runs_root: Path) -> list[str]:
    try:
        entries = list(os.scandir(runs_root))
    except FileNotFoundError:
        return []
    return [entry.name for entry in entries if entry.is_dir() and not entry.name.startswith(".")]


def _planned_runs(manifest: dict[str, Any] | None, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """The manifest's run entries by id, keeping only ids that are a single safe path component."""
    planned: dict[str, dict[str, Any]] = {}
    for entry in (manifest or {}).get("runs", []):
        run_id = entry.get("run_id") if isinstance(entry, dict) else None
        if not isinstance(run_id, str) or not is_safe_name(run_id):
            warnings.append(f"{MANIFEST_FILE}: ignoring a run entry with an unsafe or missing run_id {run_id!r}")
            continue
        planned[run_id] = entry
    return planned


def is_safe_name(name: str) -> bool:
    """True when ``name`` can only ever be a single directory entry (no separators, not . or ..)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def _locate_runs(root: Path, manifest: dict[str, Any] | None, planned: dict[str, dict[str, Any]]) -> dict[str, str]:
    """run_id -> the run's folder relative to the sweep: ``runs/<run_id>`` in spectramind's layout;
    else the job folder the manifest recorded (the sweeper without ``run_subdir``); and for a plain
    Hydra multirun (any sweeper: basic, Optuna...; no sweep.json) every job folder holding a run.json,
    by the run id it records. Only folders inside the sweep are read."""
    located = {run_id: f"{RUNS_DIR}/{run_id}" for run_id in _list_run_dirs(root / RUNS_DIR)}
    for run_id, entry in planned.items():
        recorded = entry.get("run_dir")
        if run_id not in located and isinstance(recorded, str) and _is_inside(root, recorded):
            located[run_id] = recorded
    if manifest is None and not located:
        for run_id, (path, _) in index_run_records(root).items():
            if isinstance(run_id, str) and is_safe_name(run_id):
                located[run_id] = path.relative_to(root).as_posix()
    return located


def _is_inside(root: Path, relative: str) -> bool:
    path = (root / relative).resolve()
    return path != root.resolve() and path.is_relative_to(root.resolve())


def _read_run_files(root: Path, run_dir: str, warnings: list[str]) -> _RunFiles:
    record = _load_json(root, f"{run_dir}/{RUN_RECORD_FILE}", warnings, required=True)
    metrics = _load_json(root, f"{run_dir}/{METRICS_FILE}", warnings, required=False)
    events = _read_events_fast(root / run_dir / EVENTS_FILE)
    if events is None:  # a torn or odd line somewhere: let the tolerant reader find and report it
        log = read_events(root / run_dir / EVENTS_FILE)
        for line in log.skipped_lines:
            warnings.append(f"{run_dir}/{EVENTS_FILE}: line {line} is torn or not JSON; skipped")
        events = log.events
    epochs = []
    last_event = None
    for event in events:
        name = event.get("event")
        last_event = name if isinstance(name, str) else last_event
        if name == "epoch_end":
            epochs.append(event)
    return _RunFiles(record=record, metrics=metrics, epochs=epochs, last_event=last_event)


def _read_events_fast(path: Path) -> list[dict[str, Any]] | None:
    """All events of an intact JSONL file in one C-level ``json.loads`` (an order of magnitude
    faster than a call per line, which matters at 1,000 runs); None when any line is not a JSON
    object, so that the caller falls back to the line-by-line reader that reports it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError):
        return None
    lines = [line for line in text.split("\n") if line.strip()]
    try:
        events = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        return None
    return events if all(isinstance(e, dict) for e in events) else None


# ---- factors and metrics ----


def _overrides_of(entry: dict[str, Any] | None, files: _RunFiles | None) -> list[str]:
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
    parsed = [dict(_task_overrides(lines, seed_key)) for lines in overrides_by_run.values()]
    for assignment in parsed:
        for key in assignment:
            values.setdefault(key, set())
    for assignment in parsed:
        for key in values:
            values[key].add(assignment.get(key) or UNSET_LEVEL)
    return {key: _natural_order(levels) for key, levels in values.items() if len(levels) > 1}


def _task_overrides(lines: list[str], seed_key: str) -> list[tuple[str, str | None]]:
    """(key, value) of overrides that change what is trained: not hydra.*, not the seed."""
    pairs = [override_key_value(line) for line in lines]
    return [(k, v) for k, v in pairs if k and k != seed_key and not k.startswith("hydra.")]


def _natural_order(levels: set[str]) -> list[str]:
    try:
        return sorted(levels, key=float)
    except ValueError:
        return sorted(levels)


def _metric_names(all_files: Any) -> list[str]:
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


# ---- rows ----


def _run_row(
    run_id: str,
    entry: dict[str, Any] | None,
    files: _RunFiles | None,
    overrides: list[str],
    factor_levels: dict[str, list[str]],
    factor_columns: dict[str, str],
    metric_names: list[str],
    seed_key: str,
    warnings: list[str],
) -> dict[str, Any]:
    entry = entry or {}
    record = (files.record if files else None) or {}
    metrics = (files.metrics if files else None) or {}
    assignment = dict(_task_overrides(overrides, seed_key))
    seed_override = dict(override_key_value(line) for line in overrides).get(seed_key)

    status = _resolve_status(entry.get("status"), record.get("status"), files)
    error = record.get("error") or entry.get("error")
    config_id = entry.get("config_id") or record.get("config_id") or _derived_config_id(assignment)

    row: dict[str, Any] = {
        "run_id": run_id,
        "config_id": str(config_id),
        "label": str(entry.get("label") or record.get("label") or run_id),
    }
    manifest_factors = entry.get("factors") if isinstance(entry.get("factors"), dict) else {}
    for key, column in factor_columns.items():
        value = manifest_factors[key] if key in manifest_factors else assignment.get(key)
        row[column] = UNSET_LEVEL if value is None else str(value)
    row["seed"] = _as_seed(_first_present(record.get("seed"), entry.get("seed"), seed_override))
    row["status"] = status
    row["error"] = error_one_line(error)
    row["is_baseline"] = bool(entry.get("is_baseline", False))
    for name in metric_names:
        row[name] = _as_number(metrics.get(name))
    durations = record.get("durations") if isinstance(record.get("durations"), dict) else {}
    epochs_seen = len(files.epochs) if files else 0
    row["epochs"] = _as_number(_first_present(metrics.get("epochs"), record.get("epochs"), epochs_seen or None))
    row["train_time_s"] = _as_number(
        _first_present(metrics.get("train_time_s"), durations.get("fit_s"), durations.get("total_s"))
    )
    row["n_params"] = _as_number(record.get("n_params"))
    git = record.get("git") if isinstance(record.get("git"), dict) else {}
    row["config_hash"] = _as_text(record.get("config_hash") or entry.get("config_hash"))
    row["dataset_hash"] = _as_text(record.get("dataset_hash"))
    dvc = record.get("dataset_dvc") if isinstance(record.get("dataset_dvc"), dict) else {}
    row["dataset_dvc_md5"] = _as_text(dvc.get("md5"))
    row["git_commit"] = _as_text(git.get("commit"))
    row["git_dirty"] = git.get("dirty") if isinstance(git.get("dirty"), bool) else None
    row["started"] = _as_text(record.get("started") or entry.get("started"))
    row["ended"] = _as_text(record.get("ended") or entry.get("ended"))
    row["attempts"] = _as_number(entry.get("attempts"))
    row["device"] = _as_text(record.get("device"))
    row["overrides"] = " ".join(overrides)
    row["error_traceback"] = _as_text(error.get("traceback")) if isinstance(error, dict) else ""
    if status == COMPLETED and files is not None and files.metrics is None:
        warnings.append(f"{run_id}: status completed but its {METRICS_FILE} is missing or unreadable")
    return row


def _resolve_status(manifest_status: Any, record_status: Any, files: _RunFiles | None) -> str:
    """The run's own record wins once it is final; a crashed run's record may still say 'running'
    while the sweeper (which saw the process die) marked it failed, so the manifest's final status
    beats a non-final record; metrics on disk mean the run completed."""
    if record_status in TERMINAL_STATUSES:
        return str(record_status)
    if manifest_status in TERMINAL_STATUSES:
        return str(manifest_status)
    if files is not None and files.metrics is not None:
        return COMPLETED
    if isinstance(record_status, str) and record_status:
        return record_status
    if files is not None and files.last_event not in (None, "run_end"):
        return RUNNING
    if isinstance(manifest_status, str) and manifest_status:
        return manifest_status
    return PENDING if files is None else "unknown"


def _derived_config_id(assignment: dict[str, str | None]) -> str:
    """A config id for runs that carry none: a short hash of their non-seed overrides."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(assignment.items(), key=lambda kv: kv[0]))
    return "config-" + hashlib.sha1(text.encode()).hexdigest()[:8]


def _first_present(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def _as_number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
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


def _runs_frame(rows: list[dict[str, Any]], factor_columns: dict[str, str], metric_names: list[str]) -> pd.DataFrame:
    columns = [*RUN_ID_COLUMNS, *factor_columns.values(), *RUN_STATE_COLUMNS,
               *[m for m in metric_names if m not in RUN_RECORD_COLUMNS], *RUN_RECORD_COLUMNS]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if metric_names:
        frame[metric_names] = frame[metric_names].astype(float)
    frame["seed"] = frame["seed"].astype(float).astype("Int64")
    frame["is_baseline"] = frame["is_baseline"].astype(bool)
    return frame


def _curves_frame(files: dict[str, _RunFiles]) -> pd.DataFrame:
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


# ---- configuration-level facts ----


def _baseline_config(
    runs: pd.DataFrame,
    configs: pd.DataFrame,
    manifest: dict[str, Any] | None,
    factor_columns: dict[str, str],
    warnings: list[str],
) -> str | None:
    """The config whose runs are marked is_baseline; else the config matching the manifest's
    baseline levels on *every* factor; else None (then no deltas are shown)."""
    marked = list(dict.fromkeys(runs.loc[runs["is_baseline"], "config_id"]))
    if len(marked) > 1:
        warnings.append(f"{MANIFEST_FILE}: several configurations are marked as baseline {marked}; using {marked[0]}")
    if marked:
        return marked[0]
    declared = (manifest or {}).get("baseline")
    if not isinstance(declared, dict) or not declared or set(declared) != set(factor_columns):
        return None
    match = pd.Series(True, index=configs.index)
    for key, level in declared.items():
        match &= configs[factor_columns[key]] == str(level)
    matching = configs.loc[match, "config_id"].tolist()
    return matching[0] if matching else None


def _sweep_meta(root: Path, manifest: dict[str, Any] | None, runs: pd.DataFrame, warnings: list[str]) -> dict[str, Any]:
    """Study, design, run counts by status, wall time (from the sweep events), git, dataset hash."""
    manifest = manifest or {}
    log = read_events(root / EVENTS_FILE)
    for line in log.skipped_lines:
        warnings.append(f"{EVENTS_FILE}: line {line} is torn or not JSON; skipped")
    times = [t for t in (parse_time(e.get("time")) for e in log.events) if t is not None]
    starts = [parse_time(e.get("time")) for e in log.of("sweep_start")]
    ends = [parse_time(e.get("time")) for e in log.of("sweep_end")]
    started = min([t for t in starts if t], default=None) or min(times, default=None)
    finished = bool([t for t in ends if t])
    ended = max([t for t in ends if t], default=None) or max(times, default=None)
    if started is None:  # no sweep events: fall back to the runs' own timestamps
        run_starts = [t for t in map(parse_time, runs["started"]) if t]
        run_ends = [t for t in map(parse_time, runs["ended"]) if t]
        started, ended = min(run_starts, default=None), max(run_ends, default=None)
    wall = (ended - started).total_seconds() if started and ended else math.nan

    git = manifest.get("git") if isinstance(manifest.get("git"), dict) else {}
    commits = [c for c in dict.fromkeys(runs["git_commit"]) if c]
    dataset_hashes = [h for h in dict.fromkeys(runs["dataset_hash"]) if h]
    dvc_hashes = [h for h in dict.fromkeys(runs["dataset_dvc_md5"]) if h]
    if len(dataset_hashes) > 1:
        warnings.append(f"runs were trained on {len(dataset_hashes)} different datasets: {dataset_hashes}")
    if len(commits) > 1:
        warnings.append(f"runs come from {len(commits)} different git commits: {commits}")
    counts = runs["status"].value_counts()
    return {
        "sweep_dir": str(root),
        "study": manifest.get("study"),
        "design": manifest.get("design"),
        "has_manifest": bool(manifest),
        "seeds": manifest.get("seeds") or sorted({int(s) for s in runs["seed"].dropna()}),
        "n_runs": int(len(runs)),
        "n_configs": int(runs["config_id"].nunique()),
        "status_counts": {str(k): int(v) for k, v in counts.items()},
        "started": started.isoformat() if started else None,
        "ended": ended.isoformat() if ended else None,
        "finished": finished,
        "wall_time_s": wall,
        "git_commit": git.get("commit") or (commits[0] if commits else None),
        "git_dirty": git.get("dirty"),
        "dataset_hash": dataset_hashes[0] if len(dataset_hashes) == 1 else (dataset_hashes or None),
        "dataset_dvc_md5": dvc_hashes[0] if len(dvc_hashes) == 1 else (dvc_hashes or None),
        "created": manifest.get("created"),
        "updated": manifest.get("updated"),
    }
