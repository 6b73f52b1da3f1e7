"""The leaderboard page's per-wavelength diagnostics, drawn from the runs' own predictions.

The best run, the baseline's and the classical fit's (``model=transit_fit``, where the sweep has
one) are read back from their ``predictions.parquet`` and drawn per wavelength of the data set
they trained on: residual, predicted σ against the actual error, Gaussian log-likelihood,
coverage calibration and the z-scores against N(0, 1). Unlike the study figures
(:mod:`spectramind.leaderboard.study_figures`), which read the collated tables only, these read
run files, and load the predictions' reader (torch) only once there is a run to diagnose. A run
whose predictions are missing or unreadable gets a note instead of a curve: a bad file must not
take the page down. Every string from the sweep that goes into a figure is escaped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from spectramind.data.layout import read_wavelengths
from spectramind.errors import DatasetError
from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.plotly_json import BASELINE_COLOR, BEST_COLOR, CLASSICAL_COLOR, figure_layout, json_numbers
from spectramind.leaderboard.stats import LeaderboardStats, best_run_of
from spectramind.spectrum import N_WAVELENGTHS
from spectramind.sweep_layout import COMPLETED, PREDICTIONS_FILE, RESOLVED_CONFIG_FILE

CALIBRATION_LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
# The classical baseline (docs/quality.md): its runs are diagnosed beside the best one when a sweep has them.
CLASSICAL_MODEL_OVERRIDE = "model=transit_fit"
Z_EDGES = np.linspace(-5.0, 5.0, 41)


def diagnostics_figures(table: SweepTable, stats: LeaderboardStats) -> tuple[list[dict[str, Any]], list[str]]:
    """Residual, sigma vs error, per-wavelength GLL, coverage calibration and z-scores of the best
    and baseline runs, and of the classical fit's run where the sweep has one."""
    loaded, notes = _read_diagnosed_predictions(table, _diagnosed_runs(table, stats))
    if not loaded:
        return [], notes or ["No run to diagnose."]
    wavelengths = _run_wavelengths(table.run_dir(loaded[0][1]))
    x = json_numbers(wavelengths) if wavelengths is not None else list(range(1, N_WAVELENGTHS + 1))
    x_title = "wavelength (µm)" if wavelengths is not None else "wavelength index (1 = FGS1, 2–283 = AIRS-CH0)"
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for role, run_id, color, y, mu, sigma in loaded:
        notes.append(f"{role}: run {run_id}.")
        for kind, run_traces in _run_traces(x, role, color, y, mu, sigma).items():
            traces[kind] += run_traces
    return _diagnostic_figures(traces, x_title), notes


def _run_traces(
    x: list[Any], name: str, color: str, y: np.ndarray, mu: np.ndarray, sigma: np.ndarray
) -> dict[str, list[dict[str, Any]]]:
    """One run's traces for each diagnostic figure (by kind: residual, spread, gll, calibration,
    z_scores), in the run's colour."""
    from spectramind.metrics.diagnostics import calibration_curve, per_wavelength_gll

    error_ppm = (mu - y) * 1e6
    nominal, observed = calibration_curve(y, mu, sigma, CALIBRATION_LEVELS)
    z = ((mu - y) / sigma).ravel()
    density, _ = np.histogram(z[np.isfinite(z)], bins=Z_EDGES, density=True)
    return {
        "residual": [_spectrum_line(x, error_ppm.mean(axis=0), name, color)],
        "spread": [
            _spectrum_line(x, np.sqrt((error_ppm**2).mean(axis=0)), f"{name}: RMS(μ − y)", color, dash="dot"),
            _spectrum_line(x, (sigma * 1e6).mean(axis=0), f"{name}: mean σ", color),
        ],
        "gll": [_spectrum_line(x, per_wavelength_gll(y, mu, sigma).numpy(), name, color)],
        "calibration": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": json_numbers(nominal.numpy()),
                "y": json_numbers(observed.numpy()),
                "name": name,
                "line": {"color": color},
            }
        ],
        "z_scores": [
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hvh", "color": color},
                "x": json_numbers((Z_EDGES[:-1] + Z_EDGES[1:]) / 2),
                "y": json_numbers(density),
                "name": name,
            }
        ],
    }


def _diagnostic_figures(traces: dict[str, list[dict[str, Any]]], x_title: str) -> list[dict[str, Any]]:
    """The five figures from every run's traces, with the ideal calibration and N(0, 1) as dashed
    references."""
    ideal = {
        "type": "scatter",
        "mode": "lines",
        "x": [0, 1],
        "y": [0, 1],
        "name": "ideal",
        "line": {"color": "#999", "dash": "dash"},
        "hoverinfo": "skip",
    }
    normal = {
        "type": "scatter",
        "mode": "lines",
        "x": json_numbers(Z_EDGES),
        "name": "N(0, 1)",
        "y": json_numbers(np.exp(-(Z_EDGES**2) / 2) / math.sqrt(2 * math.pi)),
        "line": {"color": "#999", "dash": "dash"},
        "hoverinfo": "skip",
    }
    gll_title = "Per-wavelength Gaussian log-likelihood (mean over planets)"
    return [
        {"data": traces["residual"], "layout": figure_layout("Mean residual μ − y per wavelength", x_title, "ppm")},
        {"data": traces["spread"], "layout": figure_layout("Predicted σ vs actual error", x_title, "ppm")},
        {"data": traces["gll"], "layout": figure_layout(gll_title, x_title, "GLL")},
        {
            "data": [*traces["calibration"], ideal],
            "layout": figure_layout(
                "Calibration: observed vs nominal coverage of μ ± z·σ",
                "nominal coverage",
                "observed coverage",
                xaxis={"range": [0, 1]},
                yaxis={"range": [0, 1]},
            ),
        },
        {
            "data": [*traces["z_scores"], normal],
            "layout": figure_layout("z-scores (μ − y)/σ over all cells: calibrated σ follows N(0, 1)", "z", "density"),
        },
    ]


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


def _spectrum_line(x: list[Any], y: np.ndarray, name: str, color: str, dash: str = "solid") -> dict[str, Any]:
    """A per-wavelength curve: FGS1 (column 1) as a marker, the AIRS columns as a line, with a gap
    between them (they are different instruments, and 0.7 um is far from AIRS' 1.95 um)."""
    values = json_numbers(y)
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [x[0], None, *x[1:]],
        "y": [values[0], None, *values[1:]],
        "name": name,
        "line": {"color": color, "dash": dash, "width": 1.5},
        "marker": {"color": color, "size": [7] + [0] * len(values)},
    }
