"""The leaderboard page's study figures: the whole sweep at a glance, drawn from its tables.

Score by configuration, each factor's trend, heatmaps of crossed factors, parallel coordinates,
training curves and the rungs of successive halving: each builder reads the collated table and
statistics only (never a run's files; the per-wavelength diagnostics, which read predictions, are
in :mod:`spectramind.leaderboard.figures`) and returns figure dicts that
:mod:`spectramind.leaderboard.html` places in the page. Every string from the sweep that goes into
a figure is escaped here, because plotly renders text as HTML-like markup.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pandas as pd

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.escaping import escape
from spectramind.leaderboard.halving import RUNG_COLUMN, rung_cells
from spectramind.leaderboard.plotly_json import (
    BASELINE_COLOR,
    BEST_COLOR,
    OTHER_COLOR,
    PALETTE,
    PLOT_HEIGHT,
    figure_layout,
    json_numbers,
)
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.leaderboard.text import REFERENCE_LABELS, rung_text, seed_text

CURVE_METRIC = "val/loss"
MAX_BAR_CONFIGS = 30
MAX_HEATMAPS = 6
MAX_CURVE_CONFIGS = 6


def score_bar_figure(stats: LeaderboardStats) -> dict[str, Any]:
    """The best configurations' means as bars (error bars: std over seeds), the held-out test means
    beside them where the ranking is on validation, and dotted lines at naive (0) and the references."""
    metric = stats.ranking_metric
    top = stats.ranked[stats.ranked["rank"].notna()].head(MAX_BAR_CONFIGS)
    labels = [f"{int(rank)}. {escape(label)}" for rank, label in zip(top["rank"], top["label"])]
    traces = [_score_bars(stats, top, labels)]
    if stats.held_out_mean_column:  # the references are the test split's: show the held-out means beside them
        traces.append(_held_out_markers(stats, top, labels))
    height = max(PLOT_HEIGHT, 28 * len(top) + 120)
    shapes, notes = _reference_marks(stats)
    return {
        "data": traces,
        "layout": figure_layout(
            f"{escape(metric)} by configuration (green: best, red: baseline"
            + ("; diamonds: test, held out)" if len(traces) > 1 else ")"),
            f"{escape(metric)} mean",
            "",
            height=height,
            yaxis={"autorange": "reversed", "type": "category"},
            margin={"l": 20},
            shapes=shapes,
            annotations=notes,
        ),
    }


def _score_bars(stats: LeaderboardStats, top: pd.DataFrame, labels: list[str]) -> dict[str, Any]:
    """One horizontal bar per configuration: best green, baseline red, the others grey."""
    metric, mean = stats.ranking_metric, stats.mean_column
    colors = [
        BASELINE_COLOR if c == stats.baseline_config_id else (BEST_COLOR if c == stats.best_config_id else OTHER_COLOR)
        for c in top["config_id"]
    ]
    return {
        "type": "bar",
        "orientation": "h",
        "name": f"{escape(metric)} mean",
        "x": json_numbers(top[mean]),
        "y": labels,
        "error_x": {"type": "data", "array": json_numbers(top[f"{metric}_std"].fillna(0)), "visible": True},
        "marker": {"color": colors},
        "customdata": [[int(n)] for n in top[f"{metric}_n"]],
        "hovertemplate": "%{y}<br>mean %{x:.5g} (n=%{customdata[0]})<extra></extra>",
    }


def _held_out_markers(stats: LeaderboardStats, top: pd.DataFrame, labels: list[str]) -> dict[str, Any]:
    """A diamond at each configuration's mean on the held-out test split."""
    return {
        "type": "scatter",
        "mode": "markers",
        "x": json_numbers(top[stats.held_out_mean_column]),
        "y": labels,
        "name": f"test {escape(stats.held_out_metric)} (held out)",
        "marker": {"symbol": "diamond", "color": "#222", "size": 8},
        "hovertemplate": "%{y}<br>test %{x:.5g}<extra></extra>",
    }


def _reference_marks(stats: LeaderboardStats) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shapes, annotations): a dotted vertical line, and its label above the plot, at the naive
    score (0) and at each reference."""
    references = [(0.0, "naive")] + [(value, REFERENCE_LABELS[name]) for name, value in stats.references.items()]
    shapes = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#555", "dash": "dot", "width": 1},
        }
        for x, _ in references
    ]
    notes = [
        {
            "xref": "x",
            "yref": "paper",
            "x": x,
            "y": 1,
            "yanchor": "bottom",
            "showarrow": False,
            "text": f"{name} {x:.3g}",
            "font": {"size": 10, "color": "#555"},
        }
        for x, name in references
    ]
    return shapes, notes


def trend_figures(table: SweepTable, stats: LeaderboardStats) -> list[dict[str, Any]]:
    figures, metric = [], stats.ranking_metric
    for factor, trend in stats.trends.groupby("factor", sort=False):
        baseline_level = None
        if stats.baseline_config_id is not None:
            row = table.configs[table.configs["config_id"] == stats.baseline_config_id]
            baseline_level = row[trend["column"].iloc[0]].iloc[0] if len(row) else None
        levels = [escape(level) for level in trend["level"]]
        colors = [BASELINE_COLOR if level == baseline_level else PALETTE[0] for level in trend["level"]]
        trace = {
            "type": "scatter",
            "mode": "lines+markers",
            "x": levels,
            "y": json_numbers(trend["mean"]),
            "error_y": {"type": "data", "array": json_numbers(trend["std"].fillna(0)), "visible": True},
            "marker": {"size": 10, "color": colors},
            "line": {"color": PALETTE[0]},
            "customdata": [[int(n)] for n in trend["n"]],
            "hovertemplate": "%{x}<br>mean %{y:.5g} (n seeds=%{customdata[0]})<extra></extra>",
        }
        scope = trend["scope"].iloc[0]
        figures.append(
            {
                "data": [trace],
                "layout": figure_layout(
                    f"{escape(metric)} vs {escape(factor)}<br><sub>{escape(scope)}; red = baseline level</sub>",
                    escape(factor),
                    escape(metric),
                    xaxis={"type": "category"},
                ),
            }
        )
    return figures


def heatmap_figures(table: SweepTable, stats: LeaderboardStats) -> list[dict[str, Any]]:
    """One heatmap per pair of factors whose levels are fully crossed among scored configs."""
    scored = stats.ranked[stats.ranked["rank"].notna()]
    mean = stats.mean_column
    figures = []
    for (key_x, col_x), (key_y, col_y) in itertools.combinations(table.factor_columns.items(), 2):
        if len(figures) >= MAX_HEATMAPS:
            break
        levels_x = [level for level in table.factor_levels[key_x] if level in set(scored[col_x])]
        levels_y = [level for level in table.factor_levels[key_y] if level in set(scored[col_y])]
        if len(levels_x) < 2 or len(levels_y) < 2:
            continue
        grid = scored.groupby([col_y, col_x])[mean].mean().unstack(col_x).reindex(index=levels_y, columns=levels_x)
        if grid.isna().any().any():  # not crossed (e.g. OFAT): a heatmap would be mostly holes
            continue
        z = [json_numbers(row) for row in grid.to_numpy()]
        reverse = not stats.higher_is_better
        figures.append(
            {
                "data": [
                    {
                        "type": "heatmap",
                        "x": [escape(level) for level in levels_x],
                        "y": [escape(level) for level in levels_y],
                        "z": z,
                        "colorscale": "Viridis",
                        "reversescale": reverse,
                        "texttemplate": "%{z:.4g}",
                        "hovertemplate": f"{escape(key_x)}=%{{x}}<br>{escape(key_y)}=%{{y}}"
                        "<br>mean %{z:.5g}<extra></extra>",
                        "colorbar": {"title": {"text": escape(stats.ranking_metric)}},
                    }
                ],
                "layout": figure_layout(
                    f"{escape(stats.ranking_metric)}: {escape(key_y)} × {escape(key_x)}",
                    escape(key_x),
                    escape(key_y),
                    xaxis={"type": "category"},
                    yaxis={"type": "category"},
                ),
            }
        )
    return figures


def parallel_coordinates_figure(table: SweepTable, stats: LeaderboardStats) -> dict[str, Any] | None:
    scored = stats.ranked[stats.ranked["rank"].notna()]
    if not table.factor_columns or len(scored) < 2:
        return None
    # Tick labels of parcoords are set as plain text nodes (unlike titles, they are not parsed as
    # markup), so they take the raw level: escaping would print the entities literally.
    dimensions = []
    for key, column in table.factor_columns.items():
        levels = [level for level in table.factor_levels[key] if level in set(scored[column])]
        codes = {level: index for index, level in enumerate(levels)}
        dimensions.append(
            {
                "label": escape(key),
                "values": [codes[v] for v in scored[column]],
                "tickvals": list(range(len(levels))),
                "ticktext": list(levels),
                "range": [-0.25, max(len(levels) - 1, 0) + 0.25],
            }
        )
    scores = json_numbers(scored[stats.mean_column])
    dimensions.append({"label": escape(stats.ranking_metric), "values": scores})
    return {
        "data": [
            {
                "type": "parcoords",
                "dimensions": dimensions,
                "line": {
                    "color": scores,
                    "colorscale": "Viridis",
                    "reversescale": not stats.higher_is_better,
                    "showscale": True,
                    "colorbar": {"title": {"text": escape(stats.ranking_metric)}},
                },
            }
        ],
        "layout": {
            "height": PLOT_HEIGHT + 60,
            "margin": {"l": 80, "r": 80, "t": 100, "b": 30},
            "title": {
                "text": f"Factors vs {escape(stats.ranking_metric)} (one line per configuration)",
                "font": {"size": 14},
            },
        },
    }


def training_curves_figure(table: SweepTable, stats: LeaderboardStats) -> dict[str, Any] | None:
    """val/loss per epoch of every seed of the best configurations and of the baseline."""
    curves = table.curves
    if curves.empty or CURVE_METRIC not in curves:
        return None
    scored = stats.ranked[stats.ranked["rank"].notna()]
    chosen = list(scored["config_id"].head(MAX_CURVE_CONFIGS))
    if stats.baseline_config_id is not None and stats.baseline_config_id not in chosen:
        chosen.append(stats.baseline_config_id)
    labels = dict(zip(stats.ranked["config_id"], stats.ranked["label"]))
    runs = table.runs[table.runs["config_id"].isin(chosen)][["run_id", "config_id", "seed"]]
    curves = curves[curves["run_id"].isin(runs["run_id"])].merge(runs, on="run_id").sort_values(["run_id", "epoch"])
    traces = []
    for index, config_id in enumerate(chosen):
        color = {stats.baseline_config_id: BASELINE_COLOR, stats.best_config_id: BEST_COLOR}.get(
            config_id, PALETTE[index % len(PALETTE)]
        )
        name = ("baseline: " if config_id == stats.baseline_config_id else f"#{index + 1}: ") + escape(
            _shorten(labels[config_id])
        )
        for position, (run_id, run_curve) in enumerate(
            curves[curves["config_id"] == config_id].groupby("run_id", sort=False)
        ):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": json_numbers(run_curve["epoch"]),
                    "y": json_numbers(run_curve[CURVE_METRIC]),
                    "name": name,
                    "legendgroup": escape(config_id),
                    "showlegend": position == 0,
                    "line": {"color": color},
                    "marker": {"size": 4},
                    "text": f"{escape(run_id)} (seed {seed_text(run_curve['seed'].iloc[0])})",
                    "hovertemplate": "%{text}<br>epoch %{x}: %{y:.5g}<extra></extra>",
                }
            )
    if not traces:
        return None
    last_epoch = float(curves["epoch"].max()) if curves["epoch"].notna().any() else 0.0
    return {
        "data": traces,
        "layout": figure_layout(
            f"{CURVE_METRIC} per epoch (each line one seed)",
            "epoch",
            CURVE_METRIC,
            xaxis={"tick0": 0, "dtick": max(1, math.ceil(last_epoch / 10))},
        ),
    }


def halving_figure(table: SweepTable, stats: LeaderboardStats) -> dict[str, Any] | None:
    """Successive halving: each configuration's value at the end of each rung it completed against
    the epochs trained, one line per configuration; those of the highest rung reached drawn thick
    and in colour (the best green), the ones stopped earlier thin and grey, behind them."""
    halving = table.halving
    if halving is None:
        return None
    top_traces, stopped_traces = [], []
    for row in stats.ranked.to_dict("records"):
        points = [(r.epochs, v) for r, (v, _) in zip(halving.rungs, rung_cells(row, halving)) if pd.notna(v)]
        if not points:
            continue
        at_top = pd.notna(row[RUNG_COLUMN]) and row[RUNG_COLUMN] == halving.top_rung
        color = OTHER_COLOR
        if at_top:
            color = BEST_COLOR if row["config_id"] == stats.best_config_id else PALETTE[len(top_traces) % len(PALETTE)]
        trace = {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [x for x, _ in points],
            "y": json_numbers(y for _, y in points),
            "name": escape(_shorten(row["label"])) if at_top else "stopped earlier",
            "legendgroup": escape(row["config_id"]) if at_top else "stopped",
            "showlegend": at_top or not stopped_traces,
            "line": {"color": color, "width": 3 if at_top else 1},
            "marker": {"color": color, "size": 8 if at_top else 5},
            "opacity": 1.0 if at_top else 0.7,
            "text": f"{escape(row['label'])} ({escape(rung_text(row[RUNG_COLUMN], halving))})",
            "hovertemplate": "%{text}<br>%{x} epochs: %{y:.5g}<extra></extra>",
        }
        (top_traces if at_top else stopped_traces).append(trace)
    if not top_traces and not stopped_traces:
        return None
    epochs = [r.epochs for r in halving.rungs]
    return {
        "data": stopped_traces + top_traces,  # the highlighted lines drawn last, on top
        "layout": figure_layout(
            "Successive halving: value reported at each rung's end (one line per configuration)"
            f"<br><sub>highlighted: reached rung {halving.top_rung}; grey: stopped at an earlier rung</sub>",
            "epochs trained (log scale)",
            "value (validation score, unclipped)",
            xaxis={"type": "log", "tickmode": "array", "tickvals": epochs, "ticktext": [str(e) for e in epochs]},
        ),
    }


def _shorten(text: str, limit: int = 48) -> str:
    """Legend entries stay readable; the full label is in the ranking table."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
