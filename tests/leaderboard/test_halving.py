"""A successive-halving sweep on the leaderboard: rungs read from sweep.json, the last rung ranked,
the others listed as stopped, the rungs table and figure, leaderboard.json's halving block."""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pytest

from spectramind.leaderboard.build import build_leaderboard
from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.markdown import markdown_cell
from spectramind.leaderboard.stats import compute_stats

from .figures import figure_blocks, figure_strings
from .synthetic_sweep import HOSTILE_LEVEL, FakeRun, grid_runs, split_metrics

FACTORS = {"model": ["a", "b"], "optimizer.lr": ["0.001", HOSTILE_LEVEL]}
CONFIGS = {
    "top": {"model": "a", "optimizer.lr": "0.001"},
    "failed_at_1": {"model": "a", "optimizer.lr": HOSTILE_LEVEL},
    "low_at_0": {"model": "b", "optimizer.lr": "0.001"},
    "high_at_0": {"model": "b", "optimizer.lr": HOSTILE_LEVEL},
}
# what each seed reported at the end of each rung it was launched at (None: it failed in that rung)
REPORTED = {
    "top": [{0: 0.50, 1: 0.60, 2: 0.70}, {0: 0.52, 1: 0.62, 2: 0.74}],
    "failed_at_1": [{0: 0.45, 1: 0.55}, {0: 0.47, 1: None}],
    "low_at_0": [{0: 0.30}, {0: 0.32}],
    "high_at_0": [{0: 0.20}, {0: 0.24}],
}
# each run's final validation score in metrics.json: a stopped configuration can score above the
# one of the last rung (here high_at_0), which must not lift it above the last rung in the ranking
FINAL_VAL = {"top": [0.70, 0.74], "failed_at_1": [0.55, None], "low_at_0": [0.30, 0.32], "high_at_0": [0.85, 0.87]}
RUNGS = [{"index": 0, "epochs": 1, "n_configs": 4}, {"index": 1, "epochs": 2, "n_configs": 2}]
RUNGS += [{"index": 2, "epochs": 4, "n_configs": 1}]
PLAN = {"eta": 2, "min_epochs": 1, "max_epochs": 4, "higher_is_better": True, "rungs": RUNGS}


def _name(factors: dict[str, str]) -> str:
    return next(name for name, levels in CONFIGS.items() if levels == factors)


def _halving_runs(baseline: str | None = None) -> list[FakeRun]:
    runs = grid_runs(FACTORS, [0, 1])
    for run in runs:
        name = _name(run.factors)
        value = FINAL_VAL[name][run.seed]
        run.is_baseline = name == baseline
        if value is None:
            run.status, run.metrics = "failed", None
            run.error = {"type": "RuntimeError", "message": "boom in rung 1", "traceback": ""}
        else:
            run.metrics = split_metrics(test=value - 0.1, val=value)
    return runs


def _write_halving(sweep_factory, baseline: str | None = None, epochs_trained: bool = False):
    """A grid sweep rewritten as successive halving did it: the plan, and each run's rung and values."""
    sweep = sweep_factory(FACTORS, _halving_runs(baseline), baseline=CONFIGS.get(baseline))
    manifest = json.loads((sweep.dir / "sweep.json").read_text())
    manifest.update(design="halving", halving=PLAN)
    for entry, run in zip(manifest["runs"], sweep.runs):
        reported = REPORTED[_name(run.factors)][run.seed]
        values = {str(rung): value for rung, value in reported.items() if value is not None}
        entry.update(rung=max(reported), rung_values=values, value=values.get(str(max(reported))))
        if epochs_trained:
            record_path = sweep.dir / "runs" / run.run_id / "run.json"
            record = json.loads(record_path.read_text())
            record["epochs_trained"] = RUNGS[max(reported)]["epochs"] + 1  # not the plan's: read from here
            record_path.write_text(json.dumps(record))
    (sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    return sweep


def _expected_value(name: str, rung: int) -> float:
    """A configuration's value at a rung: the mean over its seeds, NaN unless every seed reported."""
    values = [seed.get(rung) for seed in REPORTED[name]]
    return float(np.mean(values)) if all(v is not None for v in values) else math.nan


@pytest.fixture
def halving_sweep(sweep_factory):
    return _write_halving(sweep_factory)


def _ids(sweep) -> dict[str, str]:
    return {_name(run.factors): run.config_id for run in sweep.runs}


def _markdown_rows(text: str, title: str) -> list[list[str]]:
    """A section's table of leaderboard.md, as cells (split on unescaped pipes, as GFM does)."""
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in section.splitlines() if "|" in line]


def test_every_configuration_carries_its_rung_and_its_mean_at_each_rung(halving_sweep):
    table = collate_runs(halving_sweep.dir)
    assert table.halving is not None and [r.epochs for r in table.halving.rungs] == [1, 2, 4]
    configs = table.configs.set_index("config_id")
    for name, config_id in _ids(halving_sweep).items():
        assert configs.loc[config_id, "rung"] == max(max(seed) for seed in REPORTED[name])
        for rung in range(3):
            expected = _expected_value(name, rung)
            actual = configs.loc[config_id, f"rung_{rung}_value"]
            assert (math.isnan(expected) and math.isnan(actual)) or actual == pytest.approx(expected)
    assert configs.loc[_ids(halving_sweep)["failed_at_1"], "rung"] == 1  # reached rung 1, no value there
    assert table.halving.top_rung == 2
    assert not [w for w in table.warnings if "halving" in w or "rung" in w]


def test_the_last_rung_is_ranked_and_the_others_follow_by_rung_then_score(halving_sweep):
    table = collate_runs(halving_sweep.dir)
    stats = compute_stats(table)
    ids = _ids(halving_sweep)
    assert stats.ranking_metric == "val_adc2025_unclipped"
    assert list(stats.ranked["config_id"]) == [ids["top"], ids["failed_at_1"], ids["high_at_0"], ids["low_at_0"]]
    assert stats.ranked["rank"].iloc[0] == 1 and stats.ranked["rank"].iloc[1:].isna().all()
    assert stats.best_config_id == ids["top"]
    assert stats.main_effects.empty and stats.trends.empty  # epochs differ between configurations


def test_markdown_ranking_says_where_each_configuration_stopped(halving_sweep):
    text = build_leaderboard(halving_sweep.dir, top_n=0)["markdown"].read_text()
    rows = _markdown_rows(text, "Ranking")
    rung = rows[0].index("Rung")
    assert [(row[0], row[rung]) for row in rows[2:]] == [
        ("1", "2 (last)"),
        ("—", "stopped at rung 1"),
        ("—", "stopped at rung 0"),
        ("—", "stopped at rung 0"),
    ]
    assert "## Successive halving" in text and "## Main effects" not in text
    assert "## Effects\n\nNot computed for successive halving" in text


def test_markdown_rungs_table_has_the_means_and_bolds_the_promoted(halving_sweep):
    text = build_leaderboard(halving_sweep.dir, top_n=0)["markdown"].read_text()
    section = text.split("## Successive halving\n", 1)[1].split("\n## ", 1)[0]
    rows = _markdown_rows(text, "Successive halving")
    header = rows[0]
    assert header[header.index("Rung reached") :][:5] == [
        "Rung reached",
        "Epochs",
        "rung 0 (1 ep)",
        "rung 1 (2 ep)",
        "rung 2 (4 ep)",
    ]
    by_id = {row[-1]: row for row in rows[2:]}
    first = header.index("rung 0 (1 ep)")
    for name, config_id in _ids(halving_sweep).items():
        row = by_id[markdown_cell(config_id)]
        reached = max(max(seed) for seed in REPORTED[name])
        assert row[header.index("Epochs")] == str(RUNGS[reached]["epochs"])
        for rung in range(3):
            cell, expected = row[first + rung], _expected_value(name, rung)
            assert (cell == "—") == math.isnan(expected), (name, rung, cell)
            if not math.isnan(expected):
                assert float(cell.strip("*")) == pytest.approx(expected, rel=1e-3)
                assert cell.startswith("**") == (rung < reached), (name, rung, cell)  # promoted from it
    # no run.json recorded epochs_trained: each run's rung's epochs, against 8 runs x 4 epochs
    assert "Epochs trained: 16 (from the rung plan) of 32" in section
    assert "4 configurations × 2 seeds × 4 epochs" in section


def test_failed_seed_stops_its_configuration_at_that_rung(halving_sweep):
    text = build_leaderboard(halving_sweep.dir, top_n=0)["markdown"].read_text()
    header, _, *rows = _markdown_rows(text, "Successive halving")
    row = next(row for row in rows if row[-1] == markdown_cell(_ids(halving_sweep)["failed_at_1"]))
    assert row[header.index("Rung reached")] == "stopped at rung 1"
    assert row[header.index("rung 1 (2 ep)")] == "—"  # one of its seeds reported nothing there
    assert row[header.index("rung 0 (1 ep)")].startswith("**")  # yet it was promoted from rung 0


def test_html_has_the_rungs_table_the_highlighted_values_and_the_figure(halving_sweep):
    page = build_leaderboard(halving_sweep.dir, top_n=0)["html"].read_text()
    section = page.split("<section id='halving'>", 1)[1].split("</section>", 1)[0]
    table = section.split("id='halving-table'", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 1 + len(CONFIGS)
    # promoted from rung 0: top and failed_at_1; from rung 1: top
    assert table.count("class='num promoted'") == 3
    assert "td.promoted{" in page
    ranking = page.split("id='ranking-table'", 1)[1].split("</table>", 1)[0]
    assert ranking.count(">stopped at rung 0<") == 2 and ranking.count(">2 (last)<") == 1
    assert HOSTILE_LEVEL not in section and html.escape(HOSTILE_LEVEL, quote=True) in section
    figures = [json.loads(block) for block in figure_blocks(page)]
    figure = next(f for f in figures if "Successive halving" in f["layout"]["title"]["text"])
    assert f"id='{section.split('data-figure=', 1)[1][1:].split(chr(39), 1)[0]}'" in page  # its div is here
    thick = [trace for trace in figure["data"] if trace["line"]["width"] > 1]
    assert len(thick) == 1 and thick[0]["x"] == [1, 2, 4]
    assert thick[0]["y"] == pytest.approx([_expected_value("top", rung) for rung in range(3)])
    assert len(figure["data"]) == len(CONFIGS)
    assert all("<" not in text for key, text in figure_strings(page) if "pwned" in text and key != "ticktext")


def test_leaderboard_json_has_the_halving_block(halving_sweep):
    document = json.loads(build_leaderboard(halving_sweep.dir, top_n=0)["json"].read_text())
    block = document["halving"]
    assert block["eta"] == 2 and [r["epochs"] for r in block["rungs"]] == [1, 2, 4]
    assert block["top_rung"] == 2 and block["full_grid_epochs"] == 8 * 4
    entries = {entry["config_id"]: entry for entry in block["configs"]}
    for name, config_id in _ids(halving_sweep).items():
        entry = entries[config_id]
        assert entry["rung"] == max(max(seed) for seed in REPORTED[name])
        for rung in range(3):
            expected = _expected_value(name, rung)
            assert entry["values"][str(rung)] == (None if math.isnan(expected) else pytest.approx(expected))


def test_epochs_trained_are_read_from_run_records_when_they_have_them(sweep_factory):
    sweep = _write_halving(sweep_factory, epochs_trained=True)
    table = collate_runs(sweep.dir)
    expected = sum(RUNGS[max(reported)]["epochs"] + 1 for seeds in REPORTED.values() for reported in seeds)
    assert table.halving.epochs_from_records and table.halving.epochs_trained == expected


def test_difference_to_the_baseline_only_within_its_rung(sweep_factory):
    sweep = _write_halving(sweep_factory, baseline="low_at_0")
    stats = compute_stats(collate_runs(sweep.dir))
    ranked = stats.ranked.set_index("config_id")
    ids = _ids(sweep)
    assert ranked.loc[ids["high_at_0"], "delta"] == pytest.approx(np.mean([0.85, 0.87]) - np.mean([0.30, 0.32]))
    assert np.isnan(ranked.loc[ids["top"], "delta"]) and np.isnan(ranked.loc[ids["failed_at_1"], "delta"])


def test_unreadable_halving_fields_are_warnings_never_errors(halving_sweep):
    manifest = json.loads((halving_sweep.dir / "sweep.json").read_text())
    manifest["halving"]["eta"] = "two"
    manifest["halving"]["rungs"].append({"index": "3", "epochs": 8})
    manifest["runs"][0]["rung"] = "two"
    manifest["runs"][1]["rung_values"] = ["0.5"]
    manifest["runs"][2]["rung_values"] = {"zero": 0.3, "0": "high", "7": 0.1}
    (halving_sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    table = collate_runs(halving_sweep.dir)
    assert table.halving is not None and table.halving.eta is None and len(table.halving.rungs) == 3
    assert len([w for w in table.warnings if "halving" in w or "rung" in w]) == 1 + 1 + 1 + 1 + 3
    build_leaderboard(halving_sweep.dir, top_n=0)  # still renders every page
    manifest["halving"] = "not a block"
    (halving_sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    table = collate_runs(halving_sweep.dir)
    assert table.halving is None and "rung" not in table.configs
    assert any("'halving' is not an object" in w for w in table.warnings)


def test_other_designs_have_no_halving_section(sweep_factory):
    sweep = sweep_factory(FACTORS, grid_runs(FACTORS, [0, 1]))
    paths = build_leaderboard(sweep.dir, top_n=0)
    table = collate_runs(sweep.dir)
    assert table.halving is None and "rung" not in table.configs and "rung" not in table.runs
    assert "Successive halving" not in paths["markdown"].read_text()
    page = paths["html"].read_text()
    assert "id='halving'" not in page and "promoted" not in page and "Successive halving" not in page
    assert "halving" not in json.loads(paths["json"].read_text())


def test_an_interrupted_study_ranks_the_highest_rung_it_reached(halving_sweep):
    manifest = json.loads((halving_sweep.dir / "sweep.json").read_text())
    for entry in manifest["runs"]:  # killed before rung 2: its runs are back at rung 1
        if entry["rung"] == 2:
            entry["rung"] = 1
            del entry["rung_values"]["2"]
    (halving_sweep.dir / "sweep.json").write_text(json.dumps(manifest))
    text = build_leaderboard(halving_sweep.dir, top_n=0)["markdown"].read_text()
    header, _, *rows = _markdown_rows(text, "Ranking")
    ids = [markdown_cell(config_id) for config_id in _ids(halving_sweep).values()]
    ranked = [(row[0], row[header.index("Rung")], ids.index(row[-1])) for row in rows]
    # top (0.72) and failed_at_1 (0.55, its one completed seed) reached rung 1, the last reached
    assert ranked[:2] == [("1", "1", 0), ("2", "1", 1)]
    assert [rung for _, rung, _ in ranked[2:]] == ["stopped at rung 0"] * 2
