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
import math
from pathlib import Path
from typing import Any

import pandas as pd

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.escaping import escape, script_json
from spectramind.leaderboard.figures import (
    CURVE_METRIC,
    MAX_BAR_CONFIGS,
    PLOT_HEIGHT,
    diagnostics_figures,
    heatmap_figures,
    parallel_coordinates_figure,
    score_bar_figure,
    training_curves_figure,
    trend_figures,
)
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.leaderboard.text import (
    REFERENCE_LABELS,
    SECONDARY_METRICS,
    dataset_summary,
    direction_text,
    effects_note,
    effects_title,
    format_delta,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    held_out_label,
    ranking_note,
    reference_column,
    reference_note,
    seed_text,
    selection_note,
    status_summary,
)
from spectramind.sweep_layout import UNSUCCESSFUL_STATUSES
from spectramind.timestamps import MISSING, format_duration

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)


def render_html(table: SweepTable, stats: LeaderboardStats, sweep_dir: str | Path) -> str:
    """The whole page (see the module docstring)."""
    from plotly.offline import get_plotlyjs

    page = _Page()
    title = table.meta.get("study") or Path(sweep_dir).name
    body = [
        f"<header><h1>Ablation leaderboard: {escape(title)}</h1>",
        f"<p class='sub'>Primary metric <b>{escape(stats.primary_metric)}</b> "
        f"({direction_text(stats.higher_is_better)}) · design {escape(table.meta.get('design') or MISSING)} · "
        f"{escape(Path(sweep_dir))}</p>"
        + "".join(
            f"<p class='sub'>{escape(note)}</p>"
            for note in (selection_note(stats), ranking_note(stats), reference_note(stats))
            if note
        )
        + "</header>",
        _cards(table, stats),
        _ranking_section(table, stats),
        _plots_section(page, table, stats),
        _effects_section(stats),
        _failed_section(table),
        _runs_section(table, stats),
        _meta_section(table),
        f"<footer>Generated {escape(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))} "
        "by spectramind.leaderboard. Works offline; plots are interactive "
        "(zoom, hover, double-click to reset).</footer>",
    ]
    return "".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>Leaderboard: {escape(title)}</title><style>{_CSS}</style>",
            f"<script>{_inline_safe_js(get_plotlyjs())}</script></head><body>",
            *body,
            *page.figure_scripts,
            f"<script>{_JS}</script></body></html>",
        ]
    )


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
        self.figure_scripts.append(
            f"<script type='application/json' id='figure-{index}'>{script_json(figure)}</script>"
        )
        return f"<div class='plot' id='plot-{index}' data-figure='figure-{index}' style='height:{height}px'></div>"


# ---- tables ----


def _cards(table: SweepTable, stats: LeaderboardStats) -> str:
    ranked, mean = stats.ranked, stats.mean_column
    cards = []
    if stats.best_config_id is not None:
        best = ranked.iloc[0]
        clipped = (
            f" ({stats.selection_metric} {format_number(best[stats.clipped_mean_column])})"
            if stats.clipped_mean_column
            else ""
        )
        title = "Best on validation" if stats.ranks_on_validation else "Best configuration"
        cards.append((title, format_number(best[mean]) + clipped, best["label"]))
        if stats.held_out_mean_column:
            cards.append(
                (
                    "Best on test (held out)",
                    format_number(best[stats.held_out_mean_column]),
                    f"{stats.held_out_metric} of the configuration chosen on validation",
                )
            )
        if stats.baseline_config_id is not None:
            cards.append(
                ("Δ best vs baseline", format_delta(best["delta"]), f"p (paired t) = {format_p_value(best['p_ttest'])}")
            )
    if stats.baseline_config_id is not None:
        baseline = ranked[ranked["config_id"] == stats.baseline_config_id].iloc[0]
        cards.append(("Baseline", format_number(baseline[mean]), baseline["label"]))
    for name, value in stats.references.items():
        fraction = ranked.iloc[0][stats.test_mean_column] / value if stats.best_config_id is not None else math.nan
        cards.append(
            (
                REFERENCE_LABELS[name].capitalize(),
                format_number(value),
                f"best on test at {format_percent(fraction)} of it; naive = 0",
            )
        )
    meta = table.meta
    cards.append(("Runs", str(meta["n_runs"]), status_summary(meta["status_counts"])))
    cards.append(
        ("Wall time", format_duration(meta.get("wall_time_s")), "finished" if meta.get("finished") else "not finished")
    )
    return (
        "<section class='cards'>"
        + "".join(
            f"<div class='card'><div class='k'>{escape(k)}</div><div class='v'>{escape(v)}</div>"
            f"<div class='d'>{escape(d)}</div></div>"
            for k, v, d in cards
        )
        + "</section>"
    )


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
    metric, clipped, held_out = stats.ranking_metric, stats.clipped_mean_column, stats.held_out_mean_column
    factor_columns = list(table.factor_columns.values())
    secondary = [
        m for m in SECONDARY_METRICS if m not in (metric, stats.primary_metric) and f"{m}_mean" in stats.ranked
    ]
    headers = [
        ("Rank", "num"),
        *[(c, "text") for c in factor_columns or ["configuration"]],
        (f"{metric} mean", "num"),
        ("std", "num"),
        ("n", "num"),
        *([(f"{stats.selection_metric} mean", "num")] if clipped else []),
        *([(f"{held_out_label(stats, stats.held_out_metric)} mean (held out)", "num")] if held_out else []),
        *([(reference_column(stats), "num")] if stats.references else []),
        ("Δ vs baseline", "num"),
        ("95 % CI (seeds)", "text"),
        ("p (paired t)", "num"),
        ("p (Wilcoxon)", "num"),
        *[(held_out_label(stats, m), "num") for m in secondary],
        ("completed", "num"),
        ("failed", "num"),
        ("unfinished", "num"),
        ("config id", "text"),
    ]
    rows = []
    for row in stats.ranked.to_dict("records"):
        css = (
            "baseline"
            if row["config_id"] == stats.baseline_config_id
            else ("best" if row["config_id"] == stats.best_config_id else "")
        )
        rank = MISSING if pd.isna(row["rank"]) else str(int(row["rank"]))
        cells = [
            _cell(
                rank + (" (baseline)" if css == "baseline" else ""), row["rank"] if pd.notna(row["rank"]) else math.nan
            )
        ]
        cells += [_cell(row[c]) for c in factor_columns] or [_cell(row["label"])]
        cells += [
            _cell(format_number(row[stats.mean_column]), row[stats.mean_column], "num"),
            _cell(format_number(row[stats.std_column]), row[stats.std_column], "num"),
            _cell(row[stats.n_column], row[stats.n_column], "num"),
            *([_cell(format_number(row[clipped]), row[clipped], "num")] if clipped else []),
            *([_cell(format_number(row[held_out]), row[held_out], "num")] if held_out else []),
            *(
                [_cell(format_percent(row["fraction_of_reference"]), row["fraction_of_reference"], "num")]
                if stats.references
                else []
            ),
            _cell(format_delta(row["delta"]), row["delta"], "num"),
            _cell(format_interval(row["ci_low"], row["ci_high"]), css="num"),
            _cell(format_p_value(row["p_ttest"]), row["p_ttest"], "num"),
            _cell(format_p_value(row["p_wilcoxon"]), row["p_wilcoxon"], "num"),
            *[_cell(format_number(row[f"{m}_mean"]), row[f"{m}_mean"], "num") for m in secondary],
            _cell(row["n_completed"], row["n_completed"], "num"),
            _cell(row["n_failed"], row["n_failed"], "num"),
            _cell(row["n_unfinished"], row["n_unfinished"], "num"),
            _cell(row["config_id"], css="id"),
        ]
        rows.append(f"<tr class='{css}'>{''.join(cells)}</tr>")
    note = (
        "mean ± sample std over completed seeds; Δ = mean − baseline mean, with the 95 % CI of the difference "
        "paired by seed; p-values from tests paired by seed (paired t-test from 2 pairs, Wilcoxon signed-rank "
        "from 6); — = not computable."
    )
    return (
        f"<section id='ranking'><h2>Ranking ({len(stats.ranked)} configurations)</h2>"
        + _sortable_table("ranking-table", headers, rows)
        + f"<p class='note'>{escape(note)}</p></section>"
    )


def _effects_section(stats: LeaderboardStats) -> str:
    if stats.main_effects.empty:
        return ""
    grand = stats.balanced_grid
    rows = [
        "<tr>"
        + _cell(r.factor)
        + _cell(r.level)
        + _cell(r.n_configs, r.n_configs, "num")
        + _cell(format_number(r.mean), r.mean, "num")
        + (_cell(format_delta(r.effect), r.effect, "num") if grand else "")
        + _cell(format_delta(r.delta_vs_baseline), r.delta_vs_baseline, "num")
        + _cell(format_interval(r.ci_low, r.ci_high), css="num")
        + "</tr>"
        for r in stats.main_effects.itertuples(index=False)
    ]
    mean = f"mean {stats.ranking_metric}" + ("" if grand else " (others at baseline)")
    headers = [
        ("factor", "text"),
        ("level", "text"),
        ("configs", "num"),
        (mean, "num"),
        *([("effect vs grand mean", "num")] if grand else []),
        ("Δ vs baseline (others at baseline)", "num"),
        ("95 % CI (seeds)", "text"),
    ]
    return (
        f"<section id='effects'><h2>{escape(effects_title(stats))}</h2>"
        + _sortable_table("effects-table", headers, rows)
        + f"<p class='note'>{escape(effects_note(stats))}</p></section>"
    )


def _failed_section(table: SweepTable) -> str:
    failed = table.runs[table.runs["status"].isin(UNSUCCESSFUL_STATUSES)]
    if failed.empty:
        return "<section id='failed'><h2>Failed and diverged runs</h2><p>None.</p></section>"
    items = []
    for row in failed.to_dict("records"):
        traceback = (
            f"<details><summary>traceback</summary><pre>{escape(row['error_traceback'])}</pre></details>"
            if row["error_traceback"]
            else ""
        )
        items.append(
            f"<tr><td class='id'>{escape(row['run_id'])}</td><td>{escape(row['status'])}</td>"
            f"<td class='num'>{escape(seed_text(row['seed']))}</td>"
            f"<td>{escape(row['error'] or MISSING)}{traceback}</td></tr>"
        )
    return (
        "<section id='failed'><h2>Failed and diverged runs</h2><div class='scroll'><table id='failed-table'>"
        "<thead><tr><th>run</th><th>status</th><th>seed</th><th>error</th></tr></thead><tbody>"
        + "".join(items)
        + "</tbody></table></div></section>"
    )


def _runs_section(table: SweepTable, stats: LeaderboardStats) -> str:
    runs = table.runs
    factor_columns = list(table.factor_columns.values())
    # the score selection reads, then the held-out test score when they differ
    metrics = list(dict.fromkeys([stats.selection_metric, stats.primary_metric]))
    labels = [metrics[0], *[held_out_label(stats, m) for m in metrics[1:]]]
    headers = [
        ("run id", "text"),
        *[(c, "text") for c in factor_columns],
        ("seed", "num"),
        ("status", "text"),
        *[(label, "num") for label in labels],
        ("epochs", "num"),
        ("train time (s)", "num"),
        ("error", "text"),
    ]
    rows = []
    for row in runs.to_dict("records"):
        values = [row[m] if m in runs else math.nan for m in metrics]
        cells = [
            _cell(row["run_id"], css="id"),
            *[_cell(row[c]) for c in factor_columns],
            _cell(seed_text(row["seed"]), row["seed"] if pd.notna(row["seed"]) else math.nan, "num"),
            _cell(row["status"], css=f"status-{escape(row['status'])}"),
            *[_cell(format_number(value), value, "num") for value in values],
            _cell(format_number(row["epochs"]), row["epochs"], "num"),
            _cell(format_number(row["train_time_s"]), row["train_time_s"], "num"),
            _cell(row["error"]),
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<section id='runs'><details><summary><h2>All runs ({len(runs)})</h2></summary>"
        + _sortable_table("runs-table", headers, rows)
        + "</details></section>"
    )


def _meta_section(table: SweepTable) -> str:
    meta = table.meta
    items = [
        ("study", meta.get("study") or MISSING),
        ("design", meta.get("design") or "unknown (no sweep.json)"),
        ("runs", f"{meta['n_runs']} in {meta['n_configs']} configurations ({status_summary(meta['status_counts'])})"),
        ("seeds", ", ".join(map(str, meta.get("seeds") or [])) or MISSING),
        ("wall time", format_duration(meta.get("wall_time_s")) + ("" if meta.get("finished") else " (not finished)")),
        ("started", meta.get("started") or MISSING),
        ("ended", meta.get("ended") or MISSING),
        ("git commit", (meta.get("git_commit") or MISSING) + (" (dirty)" if meta.get("git_dirty") else "")),
        ("dataset hash", dataset_summary(meta)),
        ("sweep directory", str(table.sweep_dir)),
    ]
    warnings = "".join(f"<li>{escape(w)}</li>" for w in table.warnings)
    return (
        "<section id='meta'><h2>Sweep</h2><dl>"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
        + "</dl>"
        + (
            f"<h3>Collation warnings ({len(table.warnings)})</h3><ul class='warnings'>{warnings}</ul>"
            if warnings
            else ""
        )
        + "</section>"
    )


# ---- figures ----


def _plots_section(page: _Page, table: SweepTable, stats: LeaderboardStats) -> str:
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
    block(
        "Score by configuration",
        [score_bar_figure(stats)],
        f"Best {min(len(scored), MAX_BAR_CONFIGS)} configurations; error bars = std over seeds.",
    )
    trends = trend_figures(table, stats)
    if trends:
        block(
            "Ablation trends", trends, "Primary metric vs each factor's levels; error bars = std over seeds.", grid=True
        )
    heatmaps = heatmap_figures(table, stats)
    if heatmaps:
        block(
            "Interactions",
            heatmaps,
            "Mean primary metric for each pair of crossed factors (averaged over the other factors).",
            grid=True,
        )
    parallel = parallel_coordinates_figure(table, stats)
    if parallel is not None:
        block("Factors vs score", [parallel], "Drag along an axis to select a range.")
    curves = training_curves_figure(table, stats)
    block(
        "Training curves",
        [curves] if curves else [],
        "" if curves else f"No '{CURVE_METRIC}' epoch events were found in the runs' events.jsonl.",
    )
    diagnostics, notes = diagnostics_figures(table, stats)
    block(
        "Best vs baseline (and the classical fit): per-wavelength diagnostics", diagnostics, " ".join(notes), grid=True
    )
    parts.append("</section>")
    return "".join(parts)


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
