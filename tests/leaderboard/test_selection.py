"""Selection on validation, test held out: a sweep whose validation and test rankings disagree is
ranked, differenced, tested and exported on validation, with the test score beside it; a sweep
whose runs recorded no validation metrics is still ranked (on test) and says so."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats

from spectramind.leaderboard.build import build_leaderboard
from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.markdown import markdown_cell
from spectramind.leaderboard.stats import compute_stats
from spectramind.leaderboard.text import format_number

from .synthetic_sweep import FakeRun, split_metrics

SEEDS = (0, 1, 2)
# adc2025 per seed. On validation b > a > c; on test the order is reversed: c > a > b. Within b the
# best seed on validation is 2, on test 1.
VAL = {"a": [0.50, 0.53, 0.49], "b": [0.61, 0.58, 0.64], "c": [0.40, 0.44, 0.39]}
TEST = {"a": [0.52, 0.50, 0.55], "b": [0.45, 0.47, 0.44], "c": [0.66, 0.70, 0.68]}


def _runs(without_validation=()) -> list[FakeRun]:
    """Every (configuration, seed) with today's metrics.json; those in ``without_validation`` as
    older runs wrote it, without the val_ scores."""
    runs = []
    for level in VAL:
        for seed in SEEDS:
            metrics = split_metrics(TEST[level][seed], VAL[level][seed])
            if (level, seed) in without_validation:
                metrics = {k: v for k, v in metrics.items() if not k.startswith("val_")}
            runs.append(FakeRun({"f": level}, seed, metrics=metrics, is_baseline=level == "a"))
    return runs


def _sweep(sweep_factory, runs: list[FakeRun]):
    return sweep_factory({"f": list(VAL)}, runs, baseline={"f": "a"}, design="ofat")


def _ranking_rows(markdown: str) -> list[list[str]]:
    body = markdown.split("## Ranking\n", 1)[1].split("\n## ", 1)[0]
    return [
        [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        for line in body.splitlines()
        if line.startswith("|")
    ]


def test_ranking_differences_tests_and_effects_use_validation(sweep_factory):
    sweep = _sweep(sweep_factory, _runs())
    stats = compute_stats(collate_runs(sweep.dir))
    assert stats.ranks_on_validation and stats.runs_without_validation == 0
    assert (stats.selection_metric, stats.ranking_metric, stats.held_out_metric) == (
        "val_adc2025",
        "val_adc2025_unclipped",
        "adc2025_unclipped",
    )
    assert list(stats.ranked["label"]) == ["f=b", "f=a", "f=c"]  # on test it would be c, a, b
    ranked = stats.ranked.set_index("label")
    assert ranked.loc["f=b", "delta"] == pytest.approx(np.mean(VAL["b"]) - np.mean(VAL["a"]))
    assert ranked.loc["f=b", "p_ttest"] == pytest.approx(scipy_stats.ttest_rel(VAL["b"], VAL["a"]).pvalue)
    assert ranked.loc["f=c", stats.held_out_mean_column] == pytest.approx(np.mean(TEST["c"]))
    effects = stats.main_effects.set_index(["factor", "level"])
    assert effects.loc[("f", "c"), "delta_vs_baseline"] == pytest.approx(np.mean(VAL["c"]) - np.mean(VAL["a"]))
    assert stats.best_run_id == sweep.run(f="b", seed=2).run_id  # b's best seed on validation


def test_pages_json_and_export_rank_on_validation_with_test_beside(sweep_factory):
    sweep = _sweep(sweep_factory, _runs())
    paths = build_leaderboard(sweep.dir, top_n=1)
    markdown = paths["markdown"].read_text()
    assert "Ranked on validation" in markdown.split("## Ranking")[0]
    header, _, *rows = _ranking_rows(markdown)
    score = header.index(markdown_cell("val_adc2025_unclipped mean ± std (n)"))
    held_out = header.index(markdown_cell("test adc2025_unclipped mean (held out)"))
    assert [row[1] for row in rows] == ["b", "a", "c"]
    assert rows[0][score].startswith(format_number(np.mean(VAL["b"])))
    assert rows[0][held_out] == format_number(np.mean(TEST["b"]))
    assert markdown_cell("test gll") in header  # secondary metrics are the test split's, and say so

    page = paths["html"].read_text()
    assert "Ranked on validation" in page and "test adc2025_unclipped mean (held out)" in page

    document = json.loads(paths["json"].read_text())
    b = sweep.run(f="b", seed=0).config_id
    assert document["ranks_on_validation"] is True and document["best_config_id"] == b
    assert document["best_val_adc2025"] == pytest.approx(np.mean(VAL["b"]))
    assert document["best_adc2025"] == pytest.approx(np.mean(TEST["b"]))  # the held-out score of the choice

    index = json.loads((paths["top"] / "index.json").read_text())
    [exported] = index["configs"]
    assert exported["config_id"] == b and exported["best_run_id"] == sweep.run(f="b", seed=2).run_id
    assert exported["held_out_mean"] == pytest.approx(np.mean(TEST["b"]))
    assert "Ranked on validation" in (paths["top"] / "index.md").read_text()


def test_a_sweep_without_validation_metrics_is_ranked_on_test_with_a_note(sweep_factory):
    every = [(level, seed) for level in VAL for seed in SEEDS]
    paths = build_leaderboard(_sweep(sweep_factory, _runs(without_validation=every)).dir, top_n=0)
    markdown = paths["markdown"].read_text()
    note = "Ranked on test: 9 of 9 completed runs recorded no validation metrics"
    assert note in markdown.split("## Ranking")[0] and note in paths["html"].read_text()
    header, _, *rows = _ranking_rows(markdown)
    assert [row[1] for row in rows] == ["c", "a", "b"]
    assert not any("held out" in cell for cell in header) and markdown_cell("gll") in header
    assert json.loads(paths["json"].read_text())["ranks_on_validation"] is False


def test_one_run_without_validation_metrics_ranks_the_sweep_on_test(sweep_factory):
    """Ranking on validation would leave that run out of its configuration's mean and tests."""
    stats = compute_stats(collate_runs(_sweep(sweep_factory, _runs(without_validation=[("c", 0)])).dir))
    assert not stats.ranks_on_validation and stats.runs_without_validation == 1
    assert stats.ranking_metric == "adc2025_unclipped" and stats.held_out_metric is None
    assert list(stats.ranked["label"]) == ["f=c", "f=a", "f=b"]
