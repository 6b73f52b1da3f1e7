"""``leaderboard.html``: one self-contained, offline, interactive page for an ablation sweep.

Layout (top to bottom): headline cards; the ranked configuration table (click a header to sort,
type in the box to filter); for successive halving, each configuration's value at each rung (a
table and a figure); score by configuration; ablation trends (metric vs each factor's
levels, error bars = std over seeds); heatmaps for every crossed pair of factors; parallel
coordinates of factors vs score; training curves (val/loss per epoch); per-wavelength
diagnostics and calibration of the best and the baseline run; main effects; failed runs with
their tracebacks; all runs; sweep metadata and collation warnings.

This module assembles the page (its head, the plots section, the static CSS and script) from the
tables and cards of :mod:`spectramind.leaderboard.html_tables` and the figures of
:mod:`spectramind.leaderboard.study_figures` and, per wavelength, :mod:`spectramind.leaderboard.figures`.

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
from pathlib import Path
from typing import Any

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.escaping import escape, script_json
from spectramind.leaderboard.figures import diagnostics_figures
from spectramind.leaderboard.html_tables import (
    cards_section,
    effects_section,
    failed_section,
    halving_section,
    meta_section,
    ranking_section,
    runs_section,
)
from spectramind.leaderboard.plotly_json import PLOT_HEIGHT
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.leaderboard.study_figures import (
    CURVE_METRIC,
    MAX_BAR_CONFIGS,
    halving_figure,
    heatmap_figures,
    parallel_coordinates_figure,
    score_bar_figure,
    training_curves_figure,
    trend_figures,
)
from spectramind.leaderboard.text import direction_text, halving_note, ranking_note, reference_note, selection_note
from spectramind.timestamps import MISSING

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
            for note in (
                selection_note(stats),
                ranking_note(stats),
                reference_note(stats),
                halving_note(table.halving, stats.baseline_config_id is not None) if table.halving else "",
            )
            if note
        )
        + "</header>",
        cards_section(table, stats),
        ranking_section(table, stats),
        _halving_section(page, table, stats),
        _plots_section(page, table, stats),
        effects_section(stats, halving=table.halving is not None),
        failed_section(table),
        runs_section(table, stats),
        meta_section(table),
        f"<footer>Generated {escape(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))} "
        "by spectramind.leaderboard. Works offline; plots are interactive "
        "(zoom, hover, double-click to reset).</footer>",
    ]
    return "".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>Leaderboard: {escape(title)}</title><style>{_CSS}{_HALVING_CSS if table.halving else ''}</style>",
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


# ---- figures ----


def _halving_section(page: _Page, table: SweepTable, stats: LeaderboardStats) -> str:
    """The rungs of successive halving and their figure ("" for other designs)."""
    if table.halving is None:
        return ""
    figure = halving_figure(table, stats)
    return halving_section(table, stats, page.plot(figure) if figure else "")


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

_HALVING_CSS = """
td.promoted{font-weight:700;background:#e3edfb}tr.stopped td{color:var(--muted)}td.rung{white-space:nowrap}
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
