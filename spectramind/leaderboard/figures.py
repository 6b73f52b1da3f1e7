"""The leaderboard page's figures, as plain plotly JSON built from the collated sweep.

Each builder takes the collated table and statistics (and, for the per-wavelength diagnostics,
the sweep folder, from which it reads the best and baseline runs' predictions) and returns
figure dicts that :mod:`spectramind.leaderboard.html` places in the page. Every string from the
sweep that goes into a figure is escaped here, because plotly renders text as HTML-like markup.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.data.layout import read_wavelengths
from spectramind.errors import DatasetError
from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.escaping import escape
from spectramind.leaderboard.stats import LeaderboardStats, best_run_of
from spectramind.leaderboard.text import REFERENCE_LABELS, seed_text
from spectramind.spectrum import N_WAVELENGTHS
from spectramind.sweep_layout import COMPLETED, PREDICTIONS_FILE, RESOLVED_CONFIG_FILE

CURVE_METRIC = "val/loss"
CALIBRATION_LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
MAX_BAR_CONFIGS = 30
MAX_HEATMAPS = 6
MAX_CURVE_CONFIGS = 6
PLOT_HEIGHT = 380
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")  # no best/baseline hues
BEST_COLOR, BASELINE_COLOR, OTHER_COLOR, CLASSICAL_COLOR = "#2ca02c", "#d62728", "#7f8fa6", "#1f77b4"
# The classical baseline (docs/quality.md): its runs are diagnosed beside the best one when a sweep has them.
CLASSICAL_MODEL_OVERRIDE = "model=transit_fit"
Z_EDGES = np.linspace(-5.0, 5.0, 41)


def _values(values: Iterable[Any]) -> list[Any]:
    """Plain JSON numbers; NaN/inf become null (plotly draws a gap)."""
    out = []
    for value in values:
        number = float(value) if value is not None and value is not pd.NA else math.nan
        out.append(number if math.isfinite(number) else None)
    return out


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "height": PLOT_HEIGHT,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True},
        "hovermode": "closest",
    }
    for key, value in extra.items():
        layout[key] = (
            {**layout[key], **value} if isinstance(layout.get(key), dict) and isinstance(value, dict) else value
        )
    return layout


def score_bar_figure(stats: LeaderboardStats) -> dict[str, Any]:
    metric, mean = stats.ranking_metric, stats.mean_column
    top = stats.ranked[stats.ranked["rank"].notna()].head(MAX_BAR_CONFIGS)
    colors = [
        BASELINE_COLOR if c == stats.baseline_config_id else (BEST_COLOR if c == stats.best_config_id else OTHER_COLOR)
        for c in top["config_id"]
    ]
    labels = [f"{int(rank)}. {escape(label)}" for rank, label in zip(top["rank"], top["label"])]
    trace = {
        "type": "bar",
        "orientation": "h",
        "name": f"{escape(metric)} mean",
        "x": _values(top[mean]),
        "y": labels,
        "error_x": {"type": "data", "array": _values(top[f"{metric}_std"].fillna(0)), "visible": True},
        "marker": {"color": colors},
        "customdata": [[int(n)] for n in top[f"{metric}_n"]],
        "hovertemplate": "%{y}<br>mean %{x:.5g} (n=%{customdata[0]})<extra></extra>",
    }
    traces = [trace]
    if stats.held_out_mean_column:  # the references are the test split's: show the held-out means beside them
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": _values(top[stats.held_out_mean_column]),
                "y": labels,
                "name": f"test {escape(stats.held_out_metric)} (held out)",
                "marker": {"symbol": "diamond", "color": "#222", "size": 8},
                "hovertemplate": "%{y}<br>test %{x:.5g}<extra></extra>",
            }
        )
    height = max(PLOT_HEIGHT, 28 * len(top) + 120)
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
    return {
        "data": traces,
        "layout": _layout(
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
            "y": _values(trend["mean"]),
            "error_y": {"type": "data", "array": _values(trend["std"].fillna(0)), "visible": True},
            "marker": {"size": 10, "color": colors},
            "line": {"color": PALETTE[0]},
            "customdata": [[int(n)] for n in trend["n"]],
            "hovertemplate": "%{x}<br>mean %{y:.5g} (n seeds=%{customdata[0]})<extra></extra>",
        }
        scope = trend["scope"].iloc[0]
        figures.append(
            {
                "data": [trace],
                "layout": _layout(
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
        z = [_values(row) for row in grid.to_numpy()]
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
                "layout": _layout(
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
    scores = _values(scored[stats.mean_column])
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
                    "x": _values(run_curve["epoch"]),
                    "y": _values(run_curve[CURVE_METRIC]),
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
        "layout": _layout(
            f"{CURVE_METRIC} per epoch (each line one seed)",
            "epoch",
            CURVE_METRIC,
            xaxis={"tick0": 0, "dtick": max(1, math.ceil(last_epoch / 10))},
        ),
    }


def diagnostics_figures(table: SweepTable, stats: LeaderboardStats) -> tuple[list[dict[str, Any]], list[str]]:
    """Residual, sigma vs error, per-wavelength GLL, coverage calibration and z-scores of the best
    and baseline runs, and of the classical fit's run where the sweep has one."""
    loaded, notes = _read_diagnosed_predictions(table, _diagnosed_runs(table, stats))
    if not loaded:
        return [], notes or ["No run to diagnose."]

    from spectramind.metrics.diagnostics import calibration_curve, per_wavelength_gll

    wavelengths = _run_wavelengths(table.run_dir(loaded[0][1]))
    x = _values(wavelengths) if wavelengths is not None else list(range(1, N_WAVELENGTHS + 1))
    x_title = "wavelength (µm)" if wavelengths is not None else "wavelength index (1 = FGS1, 2–283 = AIRS-CH0)"
    residual, spread, gll, calibration, z_scores = [], [], [], [], []
    for role, run_id, color, y, mu, sigma in loaded:
        notes.append(f"{role}: run {run_id}.")
        name = role
        error_ppm = (mu - y) * 1e6
        residual.append(_spectrum_line(x, error_ppm.mean(axis=0), name, color))
        spread.append(_spectrum_line(x, np.sqrt((error_ppm**2).mean(axis=0)), f"{name}: RMS(μ − y)", color, dash="dot"))
        spread.append(_spectrum_line(x, (sigma * 1e6).mean(axis=0), f"{name}: mean σ", color))
        gll.append(_spectrum_line(x, per_wavelength_gll(y, mu, sigma).numpy(), name, color))
        nominal, observed = calibration_curve(y, mu, sigma, CALIBRATION_LEVELS)
        calibration.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": _values(nominal.numpy()),
                "y": _values(observed.numpy()),
                "name": name,
                "line": {"color": color},
            }
        )
        z = ((mu - y) / sigma).ravel()
        density, _ = np.histogram(z[np.isfinite(z)], bins=Z_EDGES, density=True)
        z_scores.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hvh", "color": color},
                "x": _values((Z_EDGES[:-1] + Z_EDGES[1:]) / 2),
                "y": _values(density),
                "name": name,
            }
        )
    calibration.append(
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 1],
            "y": [0, 1],
            "name": "ideal",
            "line": {"color": "#999", "dash": "dash"},
            "hoverinfo": "skip",
        }
    )
    figures = [
        {"data": residual, "layout": _layout("Mean residual μ − y per wavelength", x_title, "ppm")},
        {"data": spread, "layout": _layout("Predicted σ vs actual error", x_title, "ppm")},
        {"data": gll, "layout": _layout("Per-wavelength Gaussian log-likelihood (mean over planets)", x_title, "GLL")},
        {
            "data": calibration,
            "layout": _layout(
                "Calibration: observed vs nominal coverage of μ ± z·σ",
                "nominal coverage",
                "observed coverage",
                xaxis={"range": [0, 1]},
                yaxis={"range": [0, 1]},
            ),
        },
        {
            "data": [
                *z_scores,
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": _values(Z_EDGES),
                    "name": "N(0, 1)",
                    "y": _values(np.exp(-(Z_EDGES**2) / 2) / math.sqrt(2 * math.pi)),
                    "line": {"color": "#999", "dash": "dash"},
                    "hoverinfo": "skip",
                },
            ],
            "layout": _layout("z-scores (μ − y)/σ over all cells: calibrated σ follows N(0, 1)", "z", "density"),
        },
    ]
    return figures, notes


def _diagnosed_runs(table: SweepTable, stats: LeaderboardStats) -> list[tuple[str, str | None, str]]:
    """(role, run_id, color) of the runs worth a diagnosis: the best, the baseline and the
    classical fit's, each once (a run that is both best and baseline is shown as the best)."""
    chosen = [("best", stats.best_run_id, BEST_COLOR)]
    if stats.baseline_run_id is not None and stats.baseline_run_id != stats.best_run_id:
        chosen.append(("baseline", stats.baseline_run_id, BASELINE_COLOR))
    classical = classical_fit_run(table, stats)
    if classical is not None and classical not in (stats.best_run_id, stats.baseline_run_id):
        chosen.append(("classical fit", classical, CLASSICAL_COLOR))
    return chosen


def _read_diagnosed_predictions(
    table: SweepTable, chosen: list[tuple[str, str | None, str]]
) -> tuple[list[Any], list[str]]:
    """(role, run_id, color, y, mu, sigma) of every chosen run whose predictions could be read, and
    a note for each one that could not: a bad file must not take the page down."""
    from spectramind.tracking.artifacts import read_predictions  # torch: only once there is a run to diagnose

    loaded, notes = [], []
    for role, run_id, color in chosen:
        if run_id is None:
            continue
        run_dir = table.run_dir(run_id)
        path = run_dir / PREDICTIONS_FILE if run_dir is not None else None
        if path is None or not path.is_file():
            notes.append(f"No {PREDICTIONS_FILE} for the {role} run {run_id}.")
            continue
        try:
            y, mu, sigma = read_predictions(path)
        except Exception as error:  # noqa: BLE001 - a bad file must not take the page down; it is reported
            notes.append(f"The {role} run's predictions could not be read: {error}")
            continue
        loaded.append((role, run_id, color, y, mu, sigma))
    return loaded, notes


def classical_fit_run(table: SweepTable, stats: LeaderboardStats) -> str | None:
    """The run of the best-ranked configuration that selected the classical fit (``model=transit_fit``),
    of the best run's seed where it has one."""
    runs = table.runs[table.runs["status"] == COMPLETED]
    selected = runs[runs["overrides"].str.split().apply(lambda lines: CLASSICAL_MODEL_OVERRIDE in lines)]
    if selected.empty or stats.ranking_metric not in selected:
        return None
    order = [c for c in stats.ranked["config_id"] if c in set(selected["config_id"])]
    best_seed = runs.loc[runs["run_id"] == stats.best_run_id, "seed"]
    return best_run_of(
        selected,
        order[0],
        stats.ranking_metric,
        stats.higher_is_better,
        seed=best_seed.iloc[0] if len(best_seed) else None,
    )


def _run_wavelengths(run_dir: Path) -> np.ndarray | None:
    """The channel wavelengths (um) of the data set the run trained on (its resolved config's
    ``data.data_dir``), or None when that data set or its wavelengths.csv is gone."""
    import yaml

    try:
        config = yaml.safe_load((run_dir / RESOLVED_CONFIG_FILE).read_text())
        return read_wavelengths(str(config["data"]["data_dir"]))
    except (OSError, KeyError, TypeError, yaml.YAMLError, DatasetError):
        return None


def _shorten(text: str, limit: int = 48) -> str:
    """Legend entries stay readable; the full label is in the ranking table."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _spectrum_line(x: list[Any], y: np.ndarray, name: str, color: str, dash: str = "solid") -> dict[str, Any]:
    """A per-wavelength curve: FGS1 (column 1) as a marker, the AIRS columns as a line, with a gap
    between them (they are different instruments, and 0.7 um is far from AIRS' 1.95 um)."""
    values = _values(y)
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [x[0], None, *x[1:]],
        "y": [values[0], None, *values[1:]],
        "name": name,
        "line": {"color": color, "dash": dash, "width": 1.5},
        "marker": {"color": color, "size": [7] + [0] * len(values)},
    }
