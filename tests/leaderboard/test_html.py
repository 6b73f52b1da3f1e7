"""leaderboard.html as a string: self-contained, offline, every sweep value escaped."""

from __future__ import annotations

import html
import json
import re

import pytest

from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.escaping import script_json
from spectramind.leaderboard.html import render_html
from spectramind.leaderboard.stats import compute_stats

from .figures import figure_blocks, figure_strings
from .synthetic_sweep import HOSTILE_ERROR, HOSTILE_LEVEL, FakeRun


@pytest.fixture
def page(mixed_sweep) -> str:
    table = collate_runs(mixed_sweep.dir)
    return render_html(table, compute_stats(table), mixed_sweep.dir)


def _outside_plotly(page: str) -> str:
    """The page without the embedded plotly.js bundle (which contains URLs in its own strings)."""
    start = page.index("<script>") + len("<script>")
    end = page.index("</script>", start)
    assert "plotly.js" in page[start : start + 200]
    return page[:start] + page[end:]


def test_plotly_is_embedded_exactly_once(page):
    assert page.count("plotly.js v") == 1
    assert len(re.findall(r"<script[^>]*\bsrc=", page)) == 0


def test_no_network_reference_outside_plotly(page):
    rest = _outside_plotly(page)
    assert not re.search(r"(src|href)\s*=\s*['\"]?\s*(https?:)?//", rest, re.I)
    assert "<link" not in rest.lower()
    assert "http://" not in rest and "https://" not in rest


def test_hostile_values_never_appear_raw(page):
    rest = _outside_plotly(page)
    assert HOSTILE_LEVEL not in rest
    assert "<img" not in rest
    assert "onerror=" not in rest.replace("onerror=&quot;", "")  # only in its escaped, inert form
    assert html.escape(HOSTILE_LEVEL, quote=True) in rest  # shown as text in the table
    # exactly the page's own script elements (plotly.js, figure data, the page script): none injected
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts.count("<script>") == 2
    assert all(s == "<script>" or re.fullmatch(r"<script type='application/json' id='figure-\d+'>", s) for s in scripts)


def test_figure_json_cannot_close_its_script_element(page):
    blocks = figure_blocks(page)
    assert blocks, "the page has figures"
    for block in blocks:
        assert "<" not in block and ">" not in block and "&" not in block
        json.loads(block)  # still valid JSON


def test_plot_text_from_config_values_is_escaped(page):
    strings = figure_strings(page)
    # plotly parses titles, labels, names and category values as markup: they must be escaped.
    # parcoords tick text is set as a plain text node (never parsed), so it carries the raw level.
    markup = [s for key, s in strings if "window.__pwned" in s and key != "ticktext"]
    assert markup and all("<" not in s for s in markup)


def test_error_message_escaped_in_failed_table(page):
    assert html.escape(HOSTILE_ERROR.split("\n")[0], quote=True) in page


def test_tables_list_every_row(page, mixed_sweep):
    ranking = page.split("id='ranking-table'", 1)[1].split("</table>", 1)[0]
    assert ranking.count("<tr") == 1 + len({r.config_id for r in mixed_sweep.runs})
    runs = page.split("id='runs-table'", 1)[1].split("</table>", 1)[0]
    assert runs.count("<tr") == 1 + len(mixed_sweep.runs)


def test_sweep_without_predictions_or_scores_still_renders(sweep_factory):
    sweep = sweep_factory({"f": ["a", "b"]}, [FakeRun({"f": "a"}, 0, status="running"), FakeRun({"f": "b"}, 0)])
    table = collate_runs(sweep.dir)
    text = render_html(table, compute_stats(table), sweep.dir)
    assert "No predictions.parquet for the best run" in text
    assert text.rstrip().endswith("</html>")


def test_script_json_escapes_markup_characters():
    text = script_json({"a": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><b>&"}


def test_the_classical_fit_is_diagnosed_beside_the_best_run_with_z_scores(sweep_factory):
    runs = [
        FakeRun(
            {"model": model},
            seed,
            predictions=True,
            is_baseline=model == "cnn1d",
            metrics={"adc2025": score + seed / 100, "adc2025_unclipped": score + seed / 100},
        )
        for model, score in (("cnn1d", 0.40), ("spectral_prior", 0.53), ("transit_fit", 0.48))
        for seed in (0, 1)
    ]
    sweep = sweep_factory({"model": ["cnn1d", "spectral_prior", "transit_fit"]}, runs, baseline={"model": "cnn1d"})
    table = collate_runs(sweep.dir)
    page = render_html(table, compute_stats(table), sweep.dir)
    figures = [json.loads(block) for block in figure_blocks(page)]
    z_figure = next(f for f in figures if f["layout"]["title"]["text"].startswith("z-scores"))
    assert [trace["name"] for trace in z_figure["data"]] == ["best", "baseline", "classical fit", "N(0, 1)"]
    density = z_figure["data"][0]
    assert sum(density["y"]) * 0.25 == pytest.approx(1.0, abs=0.05)  # a density over bins of width 0.25
    error = next(f for f in figures if f["layout"]["title"]["text"] == "Predicted σ vs actual error")
    assert "classical fit: RMS(μ − y)" in [trace["name"] for trace in error["data"]]
    transit_fit_seed1 = next(r.run_id for r in runs if r.factors["model"] == "transit_fit" and r.seed == 1)
    assert f"classical fit: run {transit_fit_seed1}." in html.unescape(page)  # the best run's seed
