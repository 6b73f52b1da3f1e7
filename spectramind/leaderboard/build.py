"""Build every leaderboard output of a sweep directory in one call.

``build_leaderboard`` collates the runs from disk, computes the statistics once and writes
``leaderboard.md``, ``leaderboard.html``, ``leaderboard.csv`` (configurations, ranked, with their
statistics), ``leaderboard_runs.csv`` (one row per run, every status), ``leaderboard.json``
(machine-readable; headline numbers at the top level for ``dvc metrics show``) and the top-N
export. It works on a finished, partial or still-running sweep and can be re-run at any time;
each file is written to a temporary name and moved into place, so a reader (a browser, DVC, a
second build) never sees a half-written file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from spectramind.atomic import replacing
from spectramind.leaderboard.collate import SweepTable, collate_runs
from spectramind.leaderboard.export import export_top, json_ready
from spectramind.leaderboard.halving import halving_configs
from spectramind.leaderboard.html import render_html
from spectramind.leaderboard.markdown import render_markdown
from spectramind.leaderboard.paired import COMPARISON_COLUMNS
from spectramind.leaderboard.stats import DEFAULT_PRIMARY_METRIC, LeaderboardStats, compute_stats
from spectramind.sweep_layout import STATUSES

OUTPUT_FILES = {
    "markdown": "leaderboard.md",
    "html": "leaderboard.html",
    "csv": "leaderboard.csv",
    "runs_csv": "leaderboard_runs.csv",
    "json": "leaderboard.json",
}
JSON_SCHEMA = 1


def build_leaderboard(
    sweep_dir: str | os.PathLike,
    primary_metric: str = DEFAULT_PRIMARY_METRIC,
    higher_is_better: bool | None = None,
    top_n: int = 3,
) -> dict[str, Path]:
    """Write all outputs into ``sweep_dir``; return {"markdown", "html", "csv", "runs_csv", "json"
    [, "top"]} -> path. ``higher_is_better=None`` infers the direction from the metric's name."""
    root = Path(sweep_dir)
    table = collate_runs(root)
    stats = compute_stats(table, primary_metric, higher_is_better)
    contents = {
        "markdown": render_markdown(table, stats),
        "html": render_html(table, stats, root),
        "csv": configs_frame(table, stats).to_csv(index=False),
        "runs_csv": runs_frame(table).to_csv(index=False),
        "json": json_text(leaderboard_document(table, stats)),
    }
    paths = {}
    for key, text in contents.items():
        paths[key] = root / OUTPUT_FILES[key]
        write_text_atomic(paths[key], text)
    if top_n > 0:
        paths["top"] = export_top(table, stats, root, top_n)
    return paths


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then move it over ``path``."""
    with replacing(path) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


def json_text(document: dict[str, Any]) -> str:
    """One top-level key per line (the headline numbers read at a glance), each value compact:
    compact values go through json's C encoder, ~5x faster than ``indent=`` on 1,000 runs.
    Strict JSON: NaN and infinities are written as null."""
    lines = [
        f"{json.dumps(key)}: {json.dumps(json_ready(value), allow_nan=False, separators=(',', ':'))}"
        for key, value in document.items()
    ]
    return "{\n  " + ",\n  ".join(lines) + "\n}\n"


def configs_frame(table: SweepTable, stats: LeaderboardStats) -> pd.DataFrame:
    """Ranked configurations: identity, run counts, the ranked-on, selection, held-out and primary
    metrics' stats and the tests, then every other metric's mean/std/n."""
    ranked = stats.ranked
    metrics = dict.fromkeys(
        m for m in (stats.ranking_metric, stats.selection_metric, stats.held_out_metric, stats.primary_metric) if m
    )  # ranked-on first, each once
    leading = [
        "rank",
        "config_id",
        "label",
        *table.factor_columns.values(),
        "is_baseline",
        "n_runs",
        "n_completed",
        "n_failed",
        "n_unfinished",
        *[f"{m}_{s}" for m in metrics for s in ("mean", "std", "n")],
        *COMPARISON_COLUMNS,
    ]
    rest = [c for c in ranked.columns if c not in leading]
    return ranked[leading + rest]


def runs_frame(table: SweepTable) -> pd.DataFrame:
    """Every run (tracebacks left out: they are in run.json and in the HTML page)."""
    return table.runs.drop(columns=["error_traceback"])


def leaderboard_document(table: SweepTable, stats: LeaderboardStats) -> dict[str, Any]:
    """``leaderboard.json``: plain headline numbers first, then meta, ranked configs, effects, runs
    (and, for successive halving, ``halving``: the rung plan and each configuration's rungs).
    ``best_<primary metric>`` is the best configuration's mean of the primary metric as scored
    (clipped), also when the ranking used its unclipped twin (``ranking_metric``): on the test
    split, the held-out score of the configuration chosen on validation (``best_val_<metric>``)
    when ``ranks_on_validation``."""
    metric, ranked = stats.primary_metric, stats.ranked
    best = ranked.iloc[0] if stats.best_config_id is not None else None
    baseline = ranked[ranked["config_id"] == stats.baseline_config_id].iloc[0] if stats.baseline_config_id else None
    counts = table.meta["status_counts"]
    document: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "primary_metric": metric,
        "selection_metric": stats.selection_metric,
        "ranking_metric": stats.ranking_metric,
        "held_out_metric": stats.held_out_metric,
        "ranks_on_validation": stats.ranks_on_validation,
        "runs_without_validation": stats.runs_without_validation,
        "higher_is_better": stats.higher_is_better,
        **{
            f"best_{name}": best[f"{name}_mean"] if best is not None else None
            for name in dict.fromkeys([stats.selection_metric, metric])
        },
        f"best_{metric}_std": best[f"{metric}_std"] if best is not None else None,
        f"baseline_{metric}": baseline[f"{metric}_mean"] if baseline is not None else None,
        "best_delta_vs_baseline": best["delta"] if best is not None else None,
        "best_p_ttest": best["p_ttest"] if best is not None else None,
        "n_runs": table.meta["n_runs"],
        "n_configs": table.meta["n_configs"],
        **{f"n_{status}": counts.get(status, 0) for status in STATUSES},
        "wall_time_s": table.meta.get("wall_time_s"),
        "references": stats.references,
        "reference_detectors": stats.reference_detectors,
        "best_config_id": stats.best_config_id,
        "best_run_id": stats.best_run_id,
        "baseline_config_id": stats.baseline_config_id,
        "meta": table.meta,
        "factors": table.factor_levels,
        "configs": configs_frame(table, stats).to_dict("records"),
        "main_effects": stats.main_effects.to_dict("records"),
        "balanced_grid": stats.balanced_grid,
        "runs": runs_frame(table).to_dict("records"),
        "warnings": table.warnings,
    }
    if table.halving is not None:  # the plan, and per configuration its rung and value at each rung
        document["halving"] = {**table.halving.document(), "configs": halving_configs(ranked, table.halving)}
    return document
