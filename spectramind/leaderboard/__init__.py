"""spectramind.leaderboard: collate an ablation sweep from disk and report it.

    collate.collate_runs(sweep_dir) -> SweepTable          runs / configs / curves DataFrames, meta, warnings
        reader.read_sweep -> rows.build_runs -> aggregate   (the steps collate_runs composes)
    stats.compute_stats(table, primary_metric, higher_is_better) -> LeaderboardStats
    markdown.render_markdown(table, stats) -> str          leaderboard.md
    html.render_html(table, stats, sweep_dir) -> str        leaderboard.html (offline, interactive)
        html_tables, study_figures, figures -> plotly_json  (the page's tables and figures)
    export.export_top(table, stats, sweep_dir, n) -> Path   ablation_results/
    build.build_leaderboard(sweep_dir, ...) -> dict         all of the above, written atomically
    callback.LeaderboardCallback                            Hydra callback (on_multirun_end)

This package's ``__init__`` imports nothing heavy: Hydra imports ``callback`` at the start of every
run, and that import goes through here. The names below are resolved on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "SweepTable": "collate",
    "collate_runs": "collate",
    "LeaderboardStats": "stats",
    "compute_stats": "stats",
    "render_markdown": "markdown",
    "render_html": "html",
    "export_top": "export",
    "build_leaderboard": "build",
    "LeaderboardCallback": "callback",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
