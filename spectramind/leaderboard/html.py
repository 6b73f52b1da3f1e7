"""``leaderboard.html``: one self-contained, offline, interactive page for an ablation sweep.

Layout (top to bottom): headline cards; the ranked configuration table (click a header to sort,
type in the box to filter); score by configuration; ablation trends (metric vs each factor's
levels, error bars = std over seeds); heatmaps for every crossed pair of factors; parallel
coordinates of factors vs score; training curves (val/loss per epoch); per-wavelength
diagnostics and calibration of the best and the baseline run; main effects; failed runs with
their tracebacks; all runs; sweep metadata and collation warnings.

Offline and safe by construction:
* plotly.js is embedded once, inline; no element references a network URL, and a
  Content-Security-Policy forbids every fetch, so the page works from a USB stick or an
  air-gapped cluster (and a stray reference would fail loudly instead of leaking).
* Figures are plain plotly JSON in ``<script type="application/json">`` blocks, with ``<``, ``>``
  and ``&`` written as ``\\u003c``/``\\u003e``/``\\u0026``: no value can close the script element.
* Every string that comes from the sweep (factor levels, labels, ids, errors) is HTML-escaped
  where it enters markup, and also inside figures, because plotly renders its text as HTML-like
  markup (it decodes the entities back for display, so the text reads unchanged).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from spectramind.leaderboard.collate import RUNS_DIR, SweepTable
from spectramind.leaderboard.markdown import (
    FAILED_STATUSES,
    MISSING,
    SECONDARY_METRICS,
    dataset_summary,
    direction_text,
    format_delta,
    format_duration,
    format_number,
    format_p_value,
    status_summary,
)
from spectramind.leaderboard.stats import LeaderboardStats

N_WAVELENGTHS = 283
PREDICTIONS_FILE = "predictions.parquet"
CURVE_METRIC = "val/loss"
CALIBRATION_LEVELS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
MAX_BAR_CONFIGS = 30
MAX_HEATMAPS = 6
MAX_CURVE_CONFIGS = 6
PLOT_HEIGHT = 380
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")  # no best/baseline hues
BEST_COLOR, BASELINE_COLOR, OTHER_COLOR = "#2ca02c", "#d62728", "#7f8fa6"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)


def escape(value: Any) -> str:
    """HTML-escape any value (quotes included) for markup and for plotly text."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


def script_json(payload: Any) -> str:
    """JSON that is safe inside a <script> element: no ``<``, ``>``, ``&`` characters at all."""
    text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(table: SweepTable, stats: LeaderboardStats, sweep_dir: str | Path) -> str:
    """The whole page (see the module docstring)."""
    from plotly.offline import get_plotlyjs

    page = _Page()
    title = table.meta.get("study") or Path(sweep_dir).name
    body = [
        f"<header><h1>Ablation leaderboard: {escape(title)}</h1>",
        f"<p class='sub'>Primary metric <b>{escape(stats.primary_metric)}</b> "
        f"({direction_text(stats.higher_is_better)}) · design {escape(table.meta.get('design') or MISSING)} · "
        f"{escape(Path(sweep_dir))}</p></header>",
        _cards(table, stats),
        _ranking_section(table, stats),
        _plots_section(page, table, stats, Path(sweep_dir)),
        _effects_section(stats),
        _failed_section(table),
        _runs_section(table, stats),
        _meta_section(table),
        f"<footer>Generated {escape(dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))} "
        "by spectramind.leaderboard. Works offline; plots are interactive (zoom, hover, double-click to reset).</footer>",
    ]
    return "".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Leaderboard: {escape(title)}</title><style>{_CSS}</style>",
        f"<script>{_inline_safe_js(get_plotlyjs())}</script></head><body>",
        *body,
        *page.figure_scripts,
        f"<script>{_JS}</script></body></html>",
    ])


def _inline_safe_js(code: str) -> str:
    """JavaScript that cannot end its inline <script> early: ``</script`` (only possible inside a
    string, regex or comment) becomes ``<\\/script``, which means the same there."""
    return code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


class _Page:
    """Collects the figures of a page: each gets a div and a JSON block rendered by _JS."""

    def __init__(self) -> None:
        self.figure_scripts: list[str] = []

    def plot(self, figure: dict[str, Any]) -> str:
        """The div of a figure. Its height is set on the div, not in the layout: plotly's responsive
        mode sizes a plot to its div, and a div without a height collapses on window resize."""
        index = len(self.figure_scripts)
        height = int(figure["layout"].pop("height", PLOT_HEIGHT))
        self.figure_scripts.append(f"<script type='application/json' id='figure-{index}'>{script_json(figure)}</script>")
        return f"<div class='plot' id='plot-{index}' data-figure='figure-{index}' style='height:{height}px'></div>"


# ---- tables ----


def _cards(table: SweepTable, stats: LeaderboardStats) -> str:
    ranked, mean = stats.ranked, stats.mean_column
    cards = []
    if stats.best_config_id is not None:
        best = ranked.iloc[0]
        cards.append(("Best configuration", format_number(best[mean]), best["label"]))
        if stats.baseline_config_id is not None:
            cards.append(("Δ best vs baseline", format_delta(best["delta"]), f"p (paired t) = {format_p_value(best['p_ttest'])}"))
    if stats.baseline_config_id is not None:
        baseline = ranked[ranked["config_id"] == stats.baseline_config_id].iloc[0]
        cards.append(("Baseline", format_number(baseline[mean]), baseline["label"]))
    meta = table.meta
    cards.append(("Runs", str(meta["n_runs"]), status_summary(meta["status_counts"])))
    cards.append(("Wall time", format_duration(meta.get("wall_time_s")), "finished" if meta.get("finished") else "not finished"))
    return "<section class='cards'>" + "".join(
        f"<div class='card'><div class='k'>{escape(k)}</div><div class='v'>{escape(v)}</div><div class='d'>{escape(d)}</div></div>"
        for k, v, d in cards
    ) + "</section>"


def _cell(text: Any, sort_value: Any = None, css: str = "") -> str:
    """A table cell; numeric cells carry their raw value in data-sort for the sorter."""
    attributes = f" class='{css}'" if css else ""
    if sort_value is not None:
        number = float(sort_value) if sort_value is not pd.NA else math.nan
        attributes += f" data-sort='{repr(number) if math.isfinite(number) else ''}'"
    return f"<td{attributes}>{escape(text)}</td>"


def _sortable_table(table_id: str, headers: list[tuple[str, str]], rows: list[str], caption: str = "") -> str:
    """A table the page script can sort (click a header) and filter (the box above it)."""
    head = "".join(f"<th data-type='{kind}' tabindex='0'>{escape(name)}</th>" for name, kind in headers)
    return (
        f"<div class='tools'><input type='search' class='filter' data-table='{table_id}' "
        f"placeholder='Filter rows…' aria-label='Filter rows'> <span class='count' id='{table_id}-count'></span></div>"
        f"<div class='scroll'><table class='sortable' id='{table_id}'>"
        + (f"<caption>{escape(caption)}</caption>" if caption else "")
        + f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _ranking_section(table: SweepTable, stats: LeaderboardStats) -> str:
    metric, factor_columns = stats.primary_metric, list(table.factor_columns.values())
    secondary = [m for m in SECONDARY_METRICS if m != metric and f"{m}_mean" in stats.ranked]
    headers = [("Rank", "num"), *[(c, "text") for c in factor_columns or ["configuration"]],
               (f"{metric} mean", "num"), ("std", "num"), ("n", "num"), ("Δ vs baseline", "num"),
               ("p (paired t)", "num"), ("p (Wilcoxon)", "num"), *[(m, "num") for m in secondary],
               ("completed", "num"), ("failed", "num"), ("unfinished", "num"), ("config id", "text")]
    rows = []
    for row in stats.ranked.to_dict("records"):
        css = "baseline" if row["config_id"] == stats.baseline_config_id else ("best" if row["config_id"] == stats.best_config_id else "")
        rank = MISSING if pd.isna(row["rank"]) else str(int(row["rank"]))
        cells = [_cell(rank + (" (baseline)" if css == "baseline" else ""), row["rank"] if pd.notna(row["rank"]) else math.nan)]
        cells += [_cell(row[c]) for c in factor_columns] or [_cell(row["label"])]
        cells += [
            _cell(format_number(row[f"{metric}_mean"]), row[f"{metric}_mean"], "num"),
            _cell(format_number(row[f"{metric}_std"]), row[f"{metric}_std"], "num"),
            _cell(row[f"{metric}_n"], row[f"{metric}_n"], "num"),
            _cell(format_delta(row["delta"]), row["delta"], "num"),
            _cell(format_p_value(row["p_ttest"]), row["p_ttest"], "num"),
            _cell(format_p_value(row["p_wilcoxon"]), row["p_wilcoxon"], "num"),
            *[_cell(format_number(row[f"{m}_mean"]), row[f"{m}_mean"], "num") for m in secondary],
            _cell(row["n_completed"], row["n_completed"], "num"), _cell(row["n_failed"], row["n_failed"], "num"),
            _cell(row["n_unfinished"], row["n_unfinished"], "num"), _cell(row["config_id"], css="id"),
        ]
        rows.append(f"<tr class='{css}'>{''.join(cells)}</tr>")
    note = ("mean ± sample std over completed seeds; Δ = mean − baseline mean; p-values from tests paired by seed "
            "(paired t-test from 2 pairs, Wilcoxon signed-rank from 6); — = not computable.")
    return (f"<section id='ranking'><h2>Ranking ({len(stats.ranked)} configurations)</h2>"
            + _sortable_table("ranking-table", headers, rows) + f"<p class='note'>{escape(note)}</p></section>")


def _effects_section(stats: LeaderboardStats) -> str:
    if stats.main_effects.empty:
        return ""
    rows = [
        "<tr>" + _cell(r.factor) + _cell(r.level) + _cell(r.n_configs, r.n_configs, "num")
        + _cell(format_number(r.mean), r.mean, "num") + _cell(format_delta(r.effect), r.effect, "num")
        + _cell(format_delta(r.delta_vs_baseline), r.delta_vs_baseline, "num") + "</tr>"
        for r in stats.main_effects.itertuples(index=False)
    ]
    headers = [("factor", "text"), ("level", "text"), ("configs", "num"), (f"mean {stats.primary_metric}", "num"),
               ("effect vs grand mean", "num"), ("Δ vs baseline (others at baseline)", "num")]
    return "<section id='effects'><h2>Main effects</h2>" + _sortable_table("effects-table", headers, rows) + "</section>"


def _failed_section(table: SweepTable) -> str:
    failed = table.runs[table.runs["status"].isin(FAILED_STATUSES)]
    if failed.empty:
        return "<section id='failed'><h2>Failed and diverged runs</h2><p>None.</p></section>"
    items = []
    for row in failed.to_dict("records"):
        traceback = f"<details><summary>traceback</summary><pre>{escape(row['error_traceback'])}</pre></details>" if row["error_traceback"] else ""
        items.append(f"<tr><td class='id'>{escape(row['run_id'])}</td><td>{escape(row['status'])}</td>"
                     f"<td class='num'>{escape(_seed_text(row['seed']))}</td><td>{escape(row['error'] or MISSING)}{traceback}</td></tr>")
    return ("<section id='failed'><h2>Failed and diverged runs</h2><div class='scroll'><table id='failed-table'>"
            "<thead><tr><th>run</th><th>status</th><th>seed</th><th>error</th></tr></thead><tbody>"
            + "".join(items) + "</tbody></table></div></section>")


def _runs_section(table: SweepTable, stats: LeaderboardStats) -> str:
    runs, metric = table.runs, stats.primary_metric
    factor_columns = list(table.factor_columns.values())
    has_metric = metric in runs
    headers = [("run id", "text"), *[(c, "text") for c in factor_columns], ("seed", "num"), ("status", "text"),
               (metric, "num"), ("epochs", "num"), ("train time (s)", "num"), ("error", "text")]
    rows = []
    for row in runs.to_dict("records"):
        value = row[metric] if has_metric else math.nan
        cells = [_cell(row["run_id"], css="id"), *[_cell(row[c]) for c in factor_columns],
                 _cell(_seed_text(row["seed"]), row["seed"] if pd.notna(row["seed"]) else math.nan, "num"),
                 _cell(row["status"], css=f"status-{escape(row['status'])}"),
                 _cell(format_number(value), value, "num"), _cell(format_number(row["epochs"]), row["epochs"], "num"),
                 _cell(format_number(row["train_time_s"]), row["train_time_s"], "num"), _cell(row["error"])]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<section id='runs'><details><summary><h2>All runs ({len(runs)})</h2></summary>"
            + _sortable_table("runs-table", headers, rows) + "</details></section>")


def _meta_section(table: SweepTable) -> str:
    meta = table.meta
    items = [
        ("study", meta.get("study") or MISSING), ("design", meta.get("design") or "unknown (no sweep.json)"),
        ("runs", f"{meta['n_runs']} in {meta['n_configs']} configurations ({status_summary(meta['status_counts'])})"),
        ("seeds", ", ".join(map(str, meta.get("seeds") or [])) or MISSING),
        ("wall time", format_duration(meta.get("wall_time_s")) + ("" if meta.get("finished") else " (not finished)")),
        ("started", meta.get("started") or MISSING), ("ended", meta.get("ended") or MISSING),
        ("git commit", (meta.get("git_commit") or MISSING) + (" (dirty)" if meta.get("git_dirty") else "")),
        ("dataset hash", dataset_summary(meta)),
        ("sweep directory", str(table.sweep_dir)),
    ]
    warnings = "".join(f"<li>{escape(w)}</li>" for w in table.warnings)
    return ("<section id='meta'><h2>Sweep</h2><dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
            + "</dl>" + (f"<h3>Collation warnings ({len(table.warnings)})</h3><ul class='warnings'>{warnings}</ul>" if warnings else "")
            + "</section>")


def _seed_text(seed: Any) -> str:
    return MISSING if seed is None or pd.isna(seed) else str(int(seed))


# ---- figures ----


def _plots_section(page: _Page, table: SweepTable, stats: LeaderboardStats, sweep_dir: Path) -> str:
    parts = ["<section id='plots'>"]

    def block(title: str, figures: list[dict[str, Any]], note: str = "", grid: bool = False) -> None:
        parts.append(f"<h2>{escape(title)}</h2>")
        if note:
            parts.append(f"<p class='note'>{escape(note)}</p>")
        if figures:
            plots = "".join(page.plot(f) for f in figures)
            parts.append(f"<div class='grid'>{plots}</div>" if grid else plots)

    scored = stats.ranked[stats.ranked["rank"].notna()]
    if scored.empty:
        block("Plots", [], "No configuration has a completed run yet: nothing to plot.")
        parts.append("</section>")
        return "".join(parts)
    block("Score by configuration", [score_bar_figure(stats)],
          f"Best {min(len(scored), MAX_BAR_CONFIGS)} configurations; error bars = std over seeds.")
    trends = trend_figures(table, stats)
    if trends:
        block("Ablation trends", trends, "Primary metric vs each factor's levels; error bars = std over seeds.", grid=True)
    heatmaps = heatmap_figures(table, stats)
    if heatmaps:
        block("Interactions", heatmaps, "Mean primary metric for each pair of crossed factors "
              "(averaged over the other factors).", grid=True)
    parallel = parallel_coordinates_figure(table, stats)
    if parallel is not None:
        block("Factors vs score", [parallel], "Drag along an axis to select a range.")
    curves = training_curves_figure(table, stats)
    block("Training curves", [curves] if curves else [],
          "" if curves else f"No '{CURVE_METRIC}' epoch events were found in the runs' events.jsonl.")
    diagnostics, notes = diagnostics_figures(table, stats, sweep_dir)
    block("Best vs baseline: per-wavelength diagnostics", diagnostics, " ".join(notes), grid=True)
    parts.append("</section>")
    return "".join(parts)


def _values(values: Iterable[Any]) -> list[Any]:
    """Plain JSON numbers; NaN/inf become null (plotly draws a gap)."""
    out = []
    for value in values:
        number = float(value) if value is not None and value is not pd.NA else math.nan
        out.append(number if math.isfinite(number) else None)
    return out


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "font": {"size": 14}}, "height": PLOT_HEIGHT,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True},
        "hovermode": "closest",
    }
    for key, value in extra.items():
        layout[key] = {**layout[key], **value} if isinstance(layout.get(key), dict) and isinstance(value, dict) else value
    return layout


def score_bar_figure(stats: LeaderboardStats) -> dict[str, Any]:
    metric, mean = stats.primary_metric, stats.mean_column
    top = stats.ranked[stats.ranked["rank"].notna()].head(MAX_BAR_CONFIGS)
    colors = [BASELINE_COLOR if c == stats.baseline_config_id else (BEST_COLOR if c == stats.best_config_id else OTHER_COLOR)
              for c in top["config_id"]]
    labels = [f"{int(rank)}. {escape(label)}" for rank, label in zip(top["rank"], top["label"])]
    trace = {
        "type": "bar", "orientation": "h", "x": _values(top[mean]), "y": labels,
        "error_x": {"type": "data", "array": _values(top[f"{metric}_std"].fillna(0)), "visible": True},
        "marker": {"color": colors}, "customdata": [[int(n)] for n in top[f"{metric}_n"]],
        "hovertemplate": "%{y}<br>mean %{x:.5g} (n=%{customdata[0]})<extra></extra>",
    }
    height = max(PLOT_HEIGHT, 28 * len(top) + 120)
    return {"data": [trace], "layout": _layout(
        f"{escape(metric)} by configuration (green: best, red: baseline)", f"{escape(metric)} mean", "",
        height=height, yaxis={"autorange": "reversed", "type": "category"}, margin={"l": 20})}


def trend_figures(table: SweepTable, stats: LeaderboardStats) -> list[dict[str, Any]]:
    figures, metric = [], stats.primary_metric
    for factor, trend in stats.trends.groupby("factor", sort=False):
        baseline_level = None
        if stats.baseline_config_id is not None:
            row = table.configs[table.configs["config_id"] == stats.baseline_config_id]
            baseline_level = row[trend["column"].iloc[0]].iloc[0] if len(row) else None
        levels = [escape(level) for level in trend["level"]]
        colors = [BASELINE_COLOR if level == baseline_level else PALETTE[0] for level in trend["level"]]
        trace = {
            "type": "scatter", "mode": "lines+markers", "x": levels, "y": _values(trend["mean"]),
            "error_y": {"type": "data", "array": _values(trend["std"].fillna(0)), "visible": True},
            "marker": {"size": 10, "color": colors}, "line": {"color": PALETTE[0]},
            "customdata": [[int(n)] for n in trend["n"]],
            "hovertemplate": "%{x}<br>mean %{y:.5g} (n seeds=%{customdata[0]})<extra></extra>",
        }
        scope = trend["scope"].iloc[0]
        figures.append({"data": [trace], "layout": _layout(
            f"{escape(metric)} vs {escape(factor)}<br><sub>{escape(scope)}; red = baseline level</sub>",
            escape(factor), escape(metric), xaxis={"type": "category"})})
    return figures


def heatmap_figures(table: SweepTable, stats: LeaderboardStats) -> list[dict[str, Any]]:
    """One heatmap per pair of factors whose levels are fully crossed among scored configs."""
    scored = stats.ranked[stats.ranked["rank"].notna()]
    mean = stats.mean_column
    figures = []
    for (key_x, col_x), (key_y, col_y) in itertools.combinations(table.factor_columns.items(), 2):
        if len(figures) >= MAX_HEATMAPS:
            break
        levels_x = [l for l in table.factor_levels[key_x] if l in set(scored[col_x])]
        levels_y = [l for l in table.factor_levels[key_y] if l in set(scored[col_y])]
        if len(levels_x) < 2 or len(levels_y) < 2:
            continue
        grid = scored.groupby([col_y, col_x])[mean].mean().unstack(col_x).reindex(index=levels_y, columns=levels_x)
        if grid.isna().any().any():  # not crossed (e.g. OFAT): a heatmap would be mostly holes
            continue
        z = [_values(row) for row in grid.to_numpy()]
        reverse = not stats.higher_is_better
        figures.append({"data": [{
            "type": "heatmap", "x": [escape(l) for l in levels_x], "y": [escape(l) for l in levels_y], "z": z,
            "colorscale": "Viridis", "reversescale": reverse, "texttemplate": "%{z:.4g}",
            "hovertemplate": f"{escape(key_x)}=%{{x}}<br>{escape(key_y)}=%{{y}}<br>mean %{{z:.5g}}<extra></extra>",
            "colorbar": {"title": {"text": escape(stats.primary_metric)}},
        }], "layout": _layout(f"{escape(stats.primary_metric)}: {escape(key_y)} × {escape(key_x)}", escape(key_x),
                              escape(key_y), xaxis={"type": "category"}, yaxis={"type": "category"})})
    return figures


def parallel_coordinates_figure(table: SweepTable, stats: LeaderboardStats) -> dict[str, Any] | None:
    scored = stats.ranked[stats.ranked["rank"].notna()]
    if not table.factor_columns or len(scored) < 2:
        return None
    # Tick labels of parcoords are set as plain text nodes (unlike titles, they are not parsed as
    # markup), so they take the raw level: escaping would print the entities literally.
    dimensions = []
    for key, column in table.factor_columns.items():
        levels = [l for l in table.factor_levels[key] if l in set(scored[column])]
        codes = {level: index for index, level in enumerate(levels)}
        dimensions.append({
            "label": escape(key), "values": [codes[v] for v in scored[column]],
            "tickvals": list(range(len(levels))), "ticktext": list(levels),
            "range": [-0.25, max(len(levels) - 1, 0) + 0.25],
        })
    scores = _values(scored[stats.mean_column])
    dimensions.append({"label": escape(stats.primary_metric), "values": scores})
    return {"data": [{
        "type": "parcoords", "dimensions": dimensions,
        "line": {"color": scores, "colorscale": "Viridis", "reversescale": not stats.higher_is_better,
                 "showscale": True, "colorbar": {"title": {"text": escape(stats.primary_metric)}}},
    }], "layout": {"height": PLOT_HEIGHT + 60, "margin": {"l": 80, "r": 80, "t": 100, "b": 30},
                   "title": {"text": f"Factors vs {escape(stats.primary_metric)} (one line per configuration)", "font": {"size": 14}}}}


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
            config_id, PALETTE[index % len(PALETTE)])
        name = ("baseline: " if config_id == stats.baseline_config_id else f"#{index + 1}: ") + escape(_shorten(labels[config_id]))
        for position, (run_id, run_curve) in enumerate(curves[curves["config_id"] == config_id].groupby("run_id", sort=False)):
            traces.append({
                "type": "scatter", "mode": "lines+markers", "x": _values(run_curve["epoch"]),
                "y": _values(run_curve[CURVE_METRIC]), "name": name, "legendgroup": escape(config_id),
                "showlegend": position == 0, "line": {"color": color}, "marker": {"size": 4},
                "text": f"{escape(run_id)} (seed {_seed_text(run_curve['seed'].iloc[0])})",
                "hovertemplate": "%{text}<br>epoch %{x}: %{y:.5g}<extra></extra>",
            })
    if not traces:
        return None
    last_epoch = float(curves["epoch"].max()) if curves["epoch"].notna().any() else 0.0
    return {"data": traces, "layout": _layout(
        f"{CURVE_METRIC} per epoch (each line one seed)", "epoch", CURVE_METRIC,
        xaxis={"tick0": 0, "dtick": max(1, math.ceil(last_epoch / 10))})}


# ---- per-wavelength diagnostics ----


def read_predictions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mu, sigma) arrays of shape (n_planets, 283) from a run's predictions.parquet."""
    import pyarrow.parquet as pq

    from spectramind.errors import DatasetError

    def block(prefix: str, frame) -> np.ndarray:
        return np.column_stack([frame.column(f"{prefix}_{i}").to_numpy() for i in range(1, N_WAVELENGTHS + 1)]).astype(float)

    columns = [f"{p}_{i}" for p in ("y", "mu", "sigma") for i in range(1, N_WAVELENGTHS + 1)]
    try:
        frame = pq.read_table(path, columns=columns)
    except (OSError, ValueError, KeyError) as error:  # missing columns surface as ArrowInvalid (a ValueError)
        raise DatasetError(f"{path}: unreadable predictions ({type(error).__name__}: {error})") from error
    return block("y", frame), block("mu", frame), block("sigma", frame)


def wavelengths_for_run(sweep_dir: Path, run_id: str) -> np.ndarray | None:
    """Wavelengths in um from ``<data.data_dir>/wavelengths.csv`` of the run's resolved config,
    when that file exists (ADC layout: one row, columns wl_1..wl_283); None otherwise."""
    import yaml

    try:
        config = yaml.safe_load((sweep_dir / RUNS_DIR / run_id / "config_resolved.yaml").read_text())
        data_dir = Path(str(config["data"]["data_dir"]))
        frame = pd.read_csv(data_dir / "wavelengths.csv")
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return None
    columns = [f"wl_{i}" for i in range(1, N_WAVELENGTHS + 1)]
    if not set(columns) <= set(frame.columns) or frame.empty:
        return None
    values = frame[columns].iloc[0].to_numpy(dtype=float)
    return values if np.isfinite(values).all() else None


def diagnostics_figures(table: SweepTable, stats: LeaderboardStats, sweep_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Residual, sigma vs error, per-wavelength GLL and calibration of the best and baseline runs."""
    chosen = [("best", stats.best_run_id, BEST_COLOR)]
    if stats.baseline_run_id is not None and stats.baseline_run_id != stats.best_run_id:
        chosen.append(("baseline", stats.baseline_run_id, BASELINE_COLOR))
    loaded, notes = [], []
    for role, run_id, color in chosen:
        if run_id is None:
            continue
        path = sweep_dir / RUNS_DIR / run_id / PREDICTIONS_FILE
        if not path.is_file():
            notes.append(f"No {PREDICTIONS_FILE} for the {role} run {run_id}.")
            continue
        try:
            y, mu, sigma = read_predictions(path)
        except Exception as error:  # noqa: BLE001 - a bad file must not take the page down; it is reported
            notes.append(f"The {role} run's predictions could not be read: {error}")
            continue
        loaded.append((role, run_id, color, y, mu, sigma))
    if not loaded:
        return [], notes or ["No run to diagnose."]

    from spectramind.metrics.diagnostics import calibration_curve, per_wavelength_gll

    wavelengths = wavelengths_for_run(sweep_dir, loaded[0][1])
    x = _values(wavelengths) if wavelengths is not None else list(range(1, N_WAVELENGTHS + 1))
    x_title = "wavelength (µm)" if wavelengths is not None else "wavelength index (1 = FGS1, 2–283 = AIRS-CH0)"
    residual, spread, gll, calibration = [], [], [], []
    for role, run_id, color, y, mu, sigma in loaded:
        notes.append(f"{role}: run {run_id}.")
        name = role
        error_ppm = (mu - y) * 1e6
        residual.append(_spectrum_line(x, error_ppm.mean(axis=0), name, color))
        spread.append(_spectrum_line(x, np.sqrt((error_ppm ** 2).mean(axis=0)), f"{name}: RMS(μ − y)", color, dash="dot"))
        spread.append(_spectrum_line(x, (sigma * 1e6).mean(axis=0), f"{name}: mean σ", color))
        gll.append(_spectrum_line(x, per_wavelength_gll(y, mu, sigma).numpy(), name, color))
        nominal, observed = calibration_curve(y, mu, sigma, CALIBRATION_LEVELS)
        calibration.append({"type": "scatter", "mode": "lines+markers", "x": _values(nominal.numpy()),
                            "y": _values(observed.numpy()), "name": name, "line": {"color": color}})
    calibration.append({"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "name": "ideal",
                        "line": {"color": "#999", "dash": "dash"}, "hoverinfo": "skip"})
    figures = [
        {"data": residual, "layout": _layout("Mean residual μ − y per wavelength", x_title, "ppm")},
        {"data": spread, "layout": _layout("Predicted σ vs actual error", x_title, "ppm")},
        {"data": gll, "layout": _layout("Per-wavelength Gaussian log-likelihood (mean over planets)", x_title, "GLL")},
        {"data": calibration, "layout": _layout("Calibration: observed vs nominal coverage of μ ± z·σ",
                                                "nominal coverage", "observed coverage",
                                                xaxis={"range": [0, 1]}, yaxis={"range": [0, 1]})},
    ]
    return figures, notes


def _shorten(text: str, limit: int = 48) -> str:
    """Legend entries stay readable; the full label is in the ranking table."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _spectrum_line(x: list[Any], y: np.ndarray, name: str, color: str, dash: str = "solid") -> dict[str, Any]:
    """A per-wavelength curve: FGS1 (column 1) as a marker, the AIRS columns as a line, with a gap
    between them (they are different instruments, and 0.7 um is far from AIRS' 1.95 um)."""
    values = _values(y)
    return {"type": "scatter", "mode": "lines+markers", "x": [x[0], None, *x[1:]], "y": [values[0], None, *values[1:]],
            "name": name, "line": {"color": color, "dash": dash, "width": 1.5},
            "marker": {"color": color, "size": [7] + [0] * len(values)}}


# ---- page assets (static: no sweep data ever goes in here) ----

_CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#dfe3ea;--bg:#f6f7fa;--best:#e8f6ec;--base:#fdecec;--accent:#1f5fbf}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);margin:0;background:var(--bg)}
header,section,footer{max-width:1400px;margin:0 auto;padding:8px 24px}
h1{font-size:22px;margin:18px 0 2px}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub,.note,footer{color:var(--muted)}.note{font-size:12px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:170px;max-width:330px}
.card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}.card .v{font-size:22px;font-weight:600}
.card .d{font-size:12px;color:var(--muted);overflow-wrap:anywhere}
.scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f6;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.id{font-family:ui-monospace,monospace;font-size:12px;white-space:nowrap}
tr.best td{background:var(--best)}tr.baseline td{background:var(--base)}tbody tr:hover td{background:#eef4ff}
.status-failed,.status-diverged{color:#b3261e;font-weight:600}.status-running,.status-pending{color:#8a6d00}
.tools{margin:6px 0}.filter{padding:5px 8px;width:320px;border:1px solid var(--line);border-radius:6px}.count{color:var(--muted);font-size:12px}
.plot{background:#fff;border:1px solid var(--line);border-radius:8px;margin:8px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:10px}.grid .plot{margin:0}
details summary h2{display:inline-block;border:0}pre{white-space:pre-wrap;font-size:12px;background:#f3f3f3;padding:6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.warnings{color:#8a6d00}
"""

_JS = """
(function(){
  function key(cell, numeric){
    if(!numeric) return cell.textContent.trim().toLowerCase();
    var raw = cell.getAttribute('data-sort');
    return raw === null || raw === '' ? null : parseFloat(raw);
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function(th, column){
      function sort(){
        var numeric = th.getAttribute('data-type') === 'num';
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(headers, function(h){ h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(a, b){
          var x = key(a.cells[column], numeric), y = key(b.cells[column], numeric);
          if(x === null && y === null) return 0;
          if(x === null) return 1;
          if(y === null) return -1;
          var order = x < y ? -1 : (x > y ? 1 : 0);
          return ascending ? order : -order;
        });
        rows.forEach(function(row){ body.appendChild(row); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function(e){ if(e.key === 'Enter'){ sort(); } });
    });
  });
  document.querySelectorAll('input.filter').forEach(function(input){
    var table = document.getElementById(input.getAttribute('data-table'));
    var count = document.getElementById(input.getAttribute('data-table') + '-count');
    function apply(){
      var query = input.value.trim().toLowerCase(), shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function(row){
        var match = !query || row.textContent.toLowerCase().indexOf(query) !== -1;
        row.style.display = match ? '' : 'none';
        if(match) shown++;
      });
      count.textContent = shown + ' of ' + rows.length + ' rows';
    }
    input.addEventListener('input', apply);
    apply();
  });
  var config = {displaylogo: false, responsive: true};
  document.querySelectorAll('div[data-figure]').forEach(function(div){
    var figure = JSON.parse(document.getElementById(div.getAttribute('data-figure')).textContent);
    Plotly.newPlot(div, figure.data, figure.layout, config);
  });
})();
"""
