"""``ablation_results/``: the N best configurations, packaged for reuse or submission.

For each of the N best configurations (by the leaderboard's ranking: the mean primary metric on
the validation split where the runs recorded it, the test split's shown beside as the held-out
figure) a folder ``<rank>_<config_id>/``
holds the resolved config of its best seed, its metrics (aggregate and per seed), that seed's
``submission.csv`` and a ``checkpoint.json`` pointer to the checkpoint (checkpoints are large:
they are referenced, never copied). ``index.json`` and ``index.md`` list them.

The folder is assembled in a staging directory and swapped in whole, so a reader never sees a
half-written export and a configuration that dropped out of the top N leaves no stale folder.
Folder names are sanitised and every destination is checked to lie inside the sweep directory:
an id like ``../../x`` from a tampered manifest cannot write elsewhere.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.markdown import markdown_cell
from spectramind.leaderboard.reader import is_safe_name, path_inside
from spectramind.leaderboard.stats import LeaderboardStats, best_run_of
from spectramind.leaderboard.text import (
    format_delta,
    format_number,
    format_p_value,
    format_score,
    held_out_label,
    selection_note,
)
from spectramind.sweep_layout import (
    BEST_CHECKPOINT,
    COMPLETED,
    RESOLVED_CONFIG_FILE,
    RESOLVED_CONFIGS_DIR,
    RUN_RECORD_FILE,
    SUBMISSION_FILE,
)
from spectramind.tracking.identity import safe_name

EXPORT_DIR = "ablation_results"


def json_ready(value: Any) -> Any:
    """Plain JSON types: numpy/pandas scalars unwrapped, NaN/inf/NA -> None (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value


def export_top(table: SweepTable, stats: LeaderboardStats, sweep_dir: str | os.PathLike, n: int) -> Path:
    """Write ``<sweep_dir>/ablation_results/`` for the ``n`` best configurations; return its path."""
    root = Path(sweep_dir).resolve()
    target = root / EXPORT_DIR
    staging = root / f".{EXPORT_DIR}-staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        completed = table.runs[table.runs["status"] == COMPLETED]
        scored = stats.ranked[stats.ranked["rank"].notna()].head(max(n, 0))
        entries = [
            _export_config(row, table, stats, completed, root, staging, target) for row in scored.to_dict("records")
        ]
        index = {
            "primary_metric": stats.primary_metric,
            "selection_metric": stats.selection_metric,
            "ranking_metric": stats.ranking_metric,
            "held_out_metric": stats.held_out_metric,
            "ranks_on_validation": stats.ranks_on_validation,
            "higher_is_better": stats.higher_is_better,
            "baseline_config_id": stats.baseline_config_id,
            "n_requested": n,
            "configs": entries,
        }
        (staging / "index.json").write_text(json.dumps(json_ready(index), indent=2))
        (staging / "index.md").write_text(_index_markdown(entries, stats))
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _export_config(
    row: dict[str, Any],
    table: SweepTable,
    stats: LeaderboardStats,
    completed: pd.DataFrame,
    root: Path,
    staging: Path,
    target: Path,
) -> dict[str, Any]:
    metric, config_id = stats.ranking_metric, row["config_id"]
    folder_name = f"{int(row['rank']):02d}_{safe_name(config_id, 'config')}"
    best_run = best_run_of(completed, config_id, metric, stats.higher_is_better, seed=None)
    recorded = table.run_dirs.get(best_run) if best_run and is_safe_name(best_run) else None
    folder = path_inside(staging, folder_name)
    run_dir = path_inside(root, recorded) if recorded else None
    if folder is None or (recorded and run_dir is None):
        raise ValueError(f"refusing to export {config_id!r}: {folder_name!r} or {recorded!r} leaves the sweep folder")
    folder.mkdir()
    copied = _copy_run_files(root, run_dir, best_run, folder)
    metrics = {
        "rank": int(row["rank"]),
        "config_id": config_id,
        "label": row["label"],
        "factors": {key: row[column] for key, column in table.factor_columns.items()},
        "primary_metric": stats.primary_metric,
        "selection_metric": stats.selection_metric,
        "ranking_metric": metric,
        "held_out_metric": stats.held_out_metric,
        "higher_is_better": stats.higher_is_better,
        "best_run_id": best_run,
        "delta_vs_baseline": row["delta"],
        "n_pairs": row["n_pairs"],
        "p_ttest": row["p_ttest"],
        "p_wilcoxon": row["p_wilcoxon"],
        "aggregate": {
            m: {"mean": row[f"{m}_mean"], "std": row[f"{m}_std"], "n": row[f"{m}_n"]} for m in table.metric_names
        },
        "per_seed": [
            {
                "run_id": r["run_id"],
                "seed": r["seed"],
                "status": r["status"],
                "metrics": {m: r[m] for m in table.metric_names},
            }
            for r in completed[completed["config_id"] == config_id].to_dict("records")
        ],
    }
    (folder / "metrics.json").write_text(json.dumps(json_ready(metrics), indent=2))
    checkpoint = _checkpoint_pointer(root, run_dir, best_run, target / folder_name)
    (folder / "checkpoint.json").write_text(json.dumps(checkpoint, indent=2))
    return _index_entry(row, stats, metrics, folder_name, copied, checkpoint)


def _copy_run_files(root: Path, run_dir: Path | None, run_id: str | None, folder: Path) -> set[str]:
    """Copy the best run's resolved config (its own, else the sweep's copy) and submission into
    ``folder``; the names copied."""
    copied: set[str] = set()
    if run_dir is None:
        return copied
    for source, name in (
        (run_dir / RESOLVED_CONFIG_FILE, RESOLVED_CONFIG_FILE),
        (root / RESOLVED_CONFIGS_DIR / f"{run_id}.yaml", RESOLVED_CONFIG_FILE),
        (run_dir / SUBMISSION_FILE, SUBMISSION_FILE),
    ):
        if name not in copied and source.is_file():
            shutil.copyfile(source, folder / name)
            copied.add(name)
    return copied


def _index_entry(
    row: dict[str, Any],
    stats: LeaderboardStats,
    metrics: dict[str, Any],
    folder_name: str,
    copied: set[str],
    checkpoint: dict[str, Any],
) -> dict[str, Any]:
    """The export index's line for one exported configuration."""
    metric, best_run = stats.ranking_metric, metrics["best_run_id"]
    return {
        "rank": int(row["rank"]),
        "config_id": row["config_id"],
        "label": row["label"],
        "folder": folder_name,
        "factors": metrics["factors"],
        "mean": row[f"{metric}_mean"],
        "std": row[f"{metric}_std"],
        "n": row[f"{metric}_n"],
        "held_out_mean": row[stats.held_out_mean_column] if stats.held_out_mean_column else None,
        "delta_vs_baseline": row["delta"],
        "p_ttest": row["p_ttest"],
        "p_wilcoxon": row["p_wilcoxon"],
        "best_run_id": best_run,
        "has_config": RESOLVED_CONFIG_FILE in copied,
        "has_submission": SUBMISSION_FILE in copied,
        "checkpoint_exists": checkpoint["exists"],
    }


def _checkpoint_pointer(root: Path, run_dir: Path | None, run_id: str | None, final_folder: Path) -> dict[str, Any]:
    """Where the best checkpoint is, relative to the export folder and to the sweep directory.
    The path comes from run.json's ``checkpoints.best`` if it stays inside the run directory."""
    if run_dir is None or run_id is None:
        return {"run_id": run_id, "checkpoint": None, "from_sweep_dir": None, "exists": False}
    relative = BEST_CHECKPOINT
    try:
        record = json.loads((run_dir / RUN_RECORD_FILE).read_text())
        declared = (record.get("checkpoints") or {}).get("best")
        if isinstance(declared, str) and declared and path_inside(run_dir, declared) is not None:
            relative = declared
    except (OSError, ValueError, AttributeError):
        pass
    checkpoint = run_dir / relative
    return {
        "run_id": run_id,
        "checkpoint": os.path.relpath(checkpoint, final_folder),
        "from_sweep_dir": os.path.relpath(checkpoint, root),
        "exists": checkpoint.is_file(),
    }


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` with renames only (no half-written state is visible)."""
    retired = None
    if target.exists():
        retired = target.with_name(f".{target.name}-old-{os.getpid()}")
        shutil.rmtree(retired, ignore_errors=True)
        os.replace(target, retired)
    os.replace(staging, target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _index_markdown(entries: list[dict[str, Any]], stats: LeaderboardStats) -> str:
    metric = markdown_cell(stats.ranking_metric)
    held_out = (
        [f"{markdown_cell(held_out_label(stats, stats.held_out_metric))} mean (held out)"]
        if stats.held_out_metric
        else []
    )
    note = selection_note(stats)
    lines = [
        f"# Top {len(entries)} configurations by {metric}",
        "",
        *([markdown_cell(note), ""] if note else []),
        "| "
        + " | ".join(
            [
                "Rank",
                "Configuration",
                f"{metric} mean ± std (n)",
                *held_out,
                "Δ vs baseline",
                "p (paired t)",
                "Folder",
                "Best run",
            ]
        )
        + " |",
        "| ---: | --- | ---: | " + "---: | " * len(held_out) + "---: | ---: | --- | --- |",
    ]
    for e in entries:
        cells = [
            str(e["rank"]),
            markdown_cell(e["label"]),
            format_score(e["mean"], e["std"], e["n"]),
            *([format_number(e["held_out_mean"])] if held_out else []),
            format_delta(e["delta_vs_baseline"]),
            format_p_value(e["p_ttest"]),
            markdown_cell(e["folder"]),
            markdown_cell(e["best_run_id"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if not entries:
        lines.append("")
        lines.append("No configuration has a completed run yet.")
    return "\n".join(lines) + "\n"
