"""From runs to configurations and to the sweep: per-configuration counts and mean/std/n of every
metric, the baseline configuration, and the sweep's metadata (times, counts, git, data set).

These are the descriptive numbers every output shows; the inferential ones (ranking, paired
tests, effects) are `stats`'. Kept apart from `stats` so that each module stays one concern of
readable size: stats.py is about comparisons, this is about summing up what was run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from spectramind.sweep_layout import COMPLETED, MANIFEST_FILE, STATUS_GROUPS, count_status_groups, count_statuses
from spectramind.timestamps import parse_time
from spectramind.tracking.events import EventLog


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
    by_config = runs.groupby("config_id", sort=False)
    configs["is_baseline"] = by_config["is_baseline"].any()
    configs["n_runs"] = by_config.size()
    groups = {config_id: count_status_groups(count_statuses(statuses)) for config_id, statuses in by_config["status"]}
    for group in STATUS_GROUPS:
        configs[f"n_{group}"] = pd.Series([groups[c][group] for c in configs.index], index=configs.index, dtype=int)
    if metric_names:
        configs = pd.concat([configs, _metric_stats(runs, configs.index, metric_names)], axis=1)
    configs.index.name = "config_id"
    return configs.reset_index()


def _metric_stats(runs: pd.DataFrame, config_ids: pd.Index, metric_names: list[str]) -> pd.DataFrame:
    """``<metric>_mean``, ``_std`` and ``_n`` over each configuration's completed runs."""
    grouped = runs[runs["status"] == COMPLETED].groupby("config_id", sort=False)[metric_names]
    parts = {"mean": grouped.mean(), "std": grouped.std(ddof=1), "n": grouped.count()}
    columns = {}
    for metric in metric_names:
        for suffix, frame in parts.items():
            values = frame[metric].reindex(config_ids)
            columns[f"{metric}_{suffix}"] = values.fillna(0).astype(int) if suffix == "n" else values
    return pd.DataFrame(columns, index=config_ids)


def config_labels(frame: pd.DataFrame, factor_columns: list[str]) -> list[str]:
    """``model=mlp, optimizer.lr=0.001`` per row: configurations named by their factor levels
    (by their config_id, the index, when nothing varies)."""
    if not factor_columns:
        return [str(c) for c in frame.index]
    columns = [frame[c].tolist() for c in factor_columns]
    return [", ".join(f"{name}={value}" for name, value in zip(factor_columns, values)) for values in zip(*columns)]


def baseline_config(
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


def sweep_meta(
    root: Path, manifest: dict[str, Any] | None, runs: pd.DataFrame, events: EventLog, warnings: list[str]
) -> dict[str, Any]:
    """Study, design, run counts by status, wall time (from the sweep events), git, dataset hash;
    runs from several commits or data sets are warned about (their scores may not compare)."""
    manifest = manifest or {}
    started, ended, finished = _sweep_times(events, runs)
    git = manifest.get("git") if isinstance(manifest.get("git"), dict) else {}
    commits = [c for c in dict.fromkeys(runs["git_commit"]) if c]
    dataset_hashes = [h for h in dict.fromkeys(runs["dataset_hash"]) if h]
    dvc_hashes = [h for h in dict.fromkeys(runs["dataset_dvc_md5"]) if h]
    if len(dataset_hashes) > 1:
        warnings.append(f"runs were trained on {len(dataset_hashes)} different datasets: {dataset_hashes}")
    if len(commits) > 1:
        warnings.append(f"runs come from {len(commits)} different git commits: {commits}")
    return {
        "sweep_dir": str(root),
        "study": manifest.get("study"),
        "design": manifest.get("design"),
        "has_manifest": bool(manifest),
        "seeds": manifest.get("seeds") or sorted({int(s) for s in runs["seed"].dropna()}),
        "n_runs": int(len(runs)),
        "n_configs": int(runs["config_id"].nunique()),
        "status_counts": count_statuses(runs["status"]),
        "started": started.isoformat() if started else None,
        "ended": ended.isoformat() if ended else None,
        "finished": finished,
        "wall_time_s": (ended - started).total_seconds() if started and ended else math.nan,
        "git_commit": git.get("commit") or (commits[0] if commits else None),
        "git_dirty": git.get("dirty"),
        "dataset_hash": dataset_hashes[0] if len(dataset_hashes) == 1 else (dataset_hashes or None),
        "dataset_dvc_md5": dvc_hashes[0] if len(dvc_hashes) == 1 else (dvc_hashes or None),
        "created": manifest.get("created"),
        "updated": manifest.get("updated"),
    }


def _sweep_times(events: EventLog, runs: pd.DataFrame) -> tuple[Any, Any, bool]:
    """(started, ended, finished): from the sweep_start/sweep_end events, else the span of all
    events, else (no sweep events at all: a plain multirun) the runs' own timestamps."""
    times = [t for t in (parse_time(e.get("time")) for e in events.events) if t is not None]
    starts = [t for t in (parse_time(e.get("time")) for e in events.of("sweep_start")) if t]
    ends = [t for t in (parse_time(e.get("time")) for e in events.of("sweep_end")) if t]
    started = min(starts, default=None) or min(times, default=None)
    ended = max(ends, default=None) or max(times, default=None)
    if started is None:
        run_starts = [t for t in map(parse_time, runs["started"]) if t]
        run_ends = [t for t in map(parse_time, runs["ended"]) if t]
        started, ended = min(run_starts, default=None), max(run_ends, default=None)
    return started, ended, bool(ends)
