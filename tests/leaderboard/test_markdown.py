"""leaderboard.md: valid GFM tables whatever the values contain."""

from __future__ import annotations

import re

import pytest

from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.markdown import markdown_cell, render_markdown
from spectramind.leaderboard.stats import compute_stats
from spectramind.leaderboard.text import format_p_value


def _section(text: str, title: str) -> list[str]:
    body = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in body.splitlines() if line.startswith("|")]


def _cells(row: str) -> list[str]:
    """Split a GFM row on unescaped pipes, as a GFM renderer does."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


@pytest.fixture
def rendered(mixed_sweep):
    table = collate_runs(mixed_sweep.dir)
    stats = compute_stats(table)
    return table, stats, render_markdown(table, stats)


def test_ranking_has_one_row_per_configuration(rendered):
    table, stats, text = rendered
    rows = _section(text, "Ranking")
    assert len(rows) == 2 + len(table.configs)  # header + separator + configs
    widths = {len(_cells(r)) for r in rows}
    assert len(widths) == 1, "every row must have as many cells as the header"


def test_best_config_first_with_mean_std_n_and_delta(rendered):
    table, stats, text = rendered
    first = _cells(_section(text, "Ranking")[2])
    best = stats.ranked.iloc[0]
    assert first[0] == "1"
    score = next(c for c in first if "±" in c)
    assert score.startswith(f"{best['adc2025_mean']:.4f}"[:6]) and score.endswith("(2)")
    assert any(c.startswith("+") for c in first)  # Δ vs baseline of a better config


def test_failed_runs_table_escapes_pipes_and_newlines(rendered):
    table, stats, text = rendered
    rows = _section(text, "Failed and diverged runs")
    assert len(rows) == 2 + 2  # failed + diverged
    header_width = len(_cells(rows[0]))
    assert all(len(_cells(r)) == header_width for r in rows)
    assert "bad \\| value line two" in text
    assert "<img" not in text and "<script" not in text  # raw HTML never reaches a renderer


def test_pending_and_metadata_sections(rendered, mixed_sweep):
    table, stats, text = rendered
    unfinished = text.split("## Unfinished runs\n", 1)[1].split("\n## ", 1)[0]
    assert "1 pending, 1 running" in unfinished
    meta = text.split("## Sweep\n", 1)[1]
    for expected in (
        "**Study**: default",
        "**Design**: grid",
        "**Runs**: 12",
        "1h 30m 00s",
        "abc123def456",
        "data0123 (DVC md5 dvc0123.dir)",
    ):
        assert expected in meta


def test_missing_p_values_show_a_dash(rendered):
    table, stats, text = rendered
    baseline_row = next(r for r in _section(text, "Ranking") if "(baseline)" in r)
    assert "—" in _cells(baseline_row)
    assert format_p_value(float("nan")) == "—"
    assert format_p_value(0.00001) == "<0.0001"


def test_markdown_cell_is_one_safe_line():
    cell = markdown_cell("a|b\nc <b>d</b> *e* `f`")
    assert "\n" not in cell
    assert _cells(f"| {cell} |") == [cell]
    assert "<" not in cell and "`f`" not in cell


def test_effects_against_a_grand_mean_only_for_a_balanced_grid(sweep_factory):
    from .synthetic_sweep import FakeRun

    ofat = [FakeRun({"model": "cnn1d", "lr": "1"}, s, is_baseline=True) for s in (0, 1, 2)]
    ofat += [FakeRun({"model": "mlp", "lr": "1"}, s) for s in (0, 1, 2)]
    ofat += [FakeRun({"model": "cnn1d", "lr": "2"}, s) for s in (0, 1, 2)]
    sweep = sweep_factory(
        {"model": ["cnn1d", "mlp"], "lr": ["1", "2"]}, ofat, baseline={"model": "cnn1d", "lr": "1"}, design="ofat"
    )
    text = render_markdown(table := collate_runs(sweep.dir), compute_stats(table))
    assert "## Effect of each level (others at baseline)" in text and "Effect vs grand mean" not in text
    assert "95 % CI (seeds)" in text and "ranked, differenced and tested on adc2025\\_unclipped" in text.lower()
    grid = ofat + [FakeRun({"model": "mlp", "lr": "2"}, s) for s in (0, 1, 2)]
    sweep = sweep_factory({"model": ["cnn1d", "mlp"], "lr": ["1", "2"]}, grid, baseline={"model": "cnn1d", "lr": "1"})
    text = render_markdown(table := collate_runs(sweep.dir), compute_stats(table))
    assert "## Main effects" in text and "Effect vs grand mean" in text


def test_the_references_and_each_configurations_share_of_the_pooled_one(sweep_factory, tmp_path):
    from spectramind.leaderboard.html import render_html

    from .synthetic_sweep import FakeRun

    means = {"a": 0.45, "b": 0.30}
    references = {
        "ref_per_channel_adc2025": 0.40,
        "ref_per_channel_adc2025_fgs1": 0.35,
        "ref_per_channel_adc2025_airs": 0.41,
    }
    runs = [
        FakeRun(
            {"f": f},
            seed,
            metrics={
                "adc2025": m + 0.01 * seed,
                "adc2025_unclipped": m + 0.01 * seed,
                **references,
                "ref_pooled_adc2025": 0.6 + 0.01 * seed,
            },
            is_baseline=f == "a",
        )
        for f, m in means.items()
        for seed in (0, 1)
    ]
    sweep = sweep_factory({"f": ["a", "b"]}, runs, baseline={"f": "a"})
    table = collate_runs(sweep.dir)
    stats = compute_stats(table)
    assert stats.references == pytest.approx({"per_channel": 0.40, "pooled": 0.605})
    assert stats.reference_detectors["per_channel"] == pytest.approx({"fgs1": 0.35, "airs": 0.41})
    ranked = stats.ranked.set_index("label")
    assert ranked.loc["f=a", "fraction_of_reference"] == pytest.approx(0.455 / 0.605)
    text = render_markdown(table, stats)
    assert "per-channel reference = 0.4000 (FGS1 0.3500; AIRS 0.4100)" in text
    assert "pooled reference = 0.6050" in text and "% of pooled reference" in text
    assert f"{100 * 0.455 / 0.605:.1f} %" in text and f"{100 * 0.305 / 0.605:.1f} %" in text
    page = render_html(table, stats, sweep.dir)
    assert "Pooled reference" in page and "Per-channel reference" in page
    without = compute_stats(collate_runs(sweep_factory({"f": ["a"]}, [FakeRun({"f": "a"}, 0)]).dir))
    assert without.references == {} and "% of" not in render_markdown(
        collate_runs(sweep_factory({"f": ["a"]}, [FakeRun({"f": "a"}, 0)]).dir), without
    )


def test_an_older_sweeps_information_limit_reads_as_the_per_channel_reference(sweep_factory):
    from .synthetic_sweep import FakeRun

    runs = [
        FakeRun({"f": "a"}, seed, metrics={"adc2025": 0.4, "adc2025_unclipped": 0.4, "limit_adc2025": 0.5})
        for seed in (0, 1)
    ]
    table = collate_runs(sweep_factory({"f": ["a"]}, runs).dir)
    stats = compute_stats(table)
    assert stats.references == {"per_channel": 0.5}
    assert "% of per-channel reference" in render_markdown(table, stats)
