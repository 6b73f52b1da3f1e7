"""The tables and cards of ``leaderboard.html``: every section of the page that is markup, not a plot.

Headline cards, the ranked configurations, the rungs of successive halving, main effects, failed
and diverged runs with their tracebacks, all runs, and the sweep's metadata with the collation
warnings: each function returns one ``<section>`` that :mod:`spectramind.leaderboard.html` places
in the page. Every string from the sweep is HTML-escaped where it enters the markup. The ranking,
rungs, effects and runs tables are sortable and filterable by the page's script: a numeric cell
carries its raw value in ``data-sort``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.escaping import escape
from spectramind.leaderboard.halving import RUNG_COLUMN, Halving, rung_cells
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.leaderboard.text import (
    HALVING_EFFECTS_NOTE,
    HALVING_TABLE_NOTE,
    REFERENCE_LABELS,
    dataset_summary,
    effects_note,
    effects_title,
    epochs_text,
    format_delta,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    halving_plan_text,
    held_out_label,
    reference_column,
    rung_header,
    rung_text,
    secondary_metrics,
    seed_text,
    status_summary,
)
from spectramind.sweep_layout import UNSUCCESSFUL_STATUSES
from spectramind.timestamps import MISSING, format_duration

_RANKING_NOTE = (
    "mean ± sample std over completed seeds; Δ = mean − baseline mean, with the 95 % CI of the difference "
    "paired by seed; p-values from tests paired by seed (paired t-test from 2 pairs, Wilcoxon signed-rank "
    "from 6); — = not computable."
)


def cards_section(table: SweepTable, stats: LeaderboardStats) -> str:
    """The headline cards: best and baseline scores, the references, the runs and the wall time."""
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


def ranking_section(table: SweepTable, stats: LeaderboardStats) -> str:
    """The ranked configurations, one row each (the best and the baseline highlighted)."""
    factor_columns = list(table.factor_columns.values())
    secondary = secondary_metrics(stats)
    halving = table.halving
    rows = [_ranking_row(row, stats, factor_columns, secondary, halving) for row in stats.ranked.to_dict("records")]
    return (
        f"<section id='ranking'><h2>Ranking ({len(stats.ranked)} configurations)</h2>"
        + _sortable_table("ranking-table", _ranking_headers(stats, factor_columns, secondary, halving), rows)
        + f"<p class='note'>{escape(_RANKING_NOTE)}</p></section>"
    )


def _ranking_headers(
    stats: LeaderboardStats, factor_columns: list[str], secondary: list[str], halving: Halving | None = None
) -> list[tuple[str, str]]:
    """(name, sort type) of the ranking table's columns, in the order of _ranking_row's cells."""
    return [
        ("Rank", "num"),
        *[(c, "text") for c in factor_columns or ["configuration"]],
        *([("Rung", "num")] if halving else []),
        (f"{stats.ranking_metric} mean", "num"),
        ("std", "num"),
        ("n", "num"),
        *([(f"{stats.selection_metric} mean", "num")] if stats.clipped_mean_column else []),
        *(
            [(f"{held_out_label(stats, stats.held_out_metric)} mean (held out)", "num")]
            if stats.held_out_mean_column
            else []
        ),
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


def _ranking_row(
    row: dict[str, Any],
    stats: LeaderboardStats,
    factor_columns: list[str],
    secondary: list[str],
    halving: Halving | None = None,
) -> str:
    """One configuration's row of the ranking table (for successive halving, a configuration that
    stopped at an earlier rung is greyed)."""
    clipped, held_out = stats.clipped_mean_column, stats.held_out_mean_column
    css = (
        "baseline"
        if row["config_id"] == stats.baseline_config_id
        else ("best" if row["config_id"] == stats.best_config_id else "")
    )
    rank = MISSING if pd.isna(row["rank"]) else str(int(row["rank"]))
    cells = [
        _cell(rank + (" (baseline)" if css == "baseline" else ""), row["rank"] if pd.notna(row["rank"]) else math.nan)
    ]
    cells += [_cell(row[c]) for c in factor_columns] or [_cell(row["label"])]
    if halving is not None:
        rung = row[RUNG_COLUMN]
        cells.append(_cell(rung_text(rung, halving), math.nan if pd.isna(rung) else rung, "rung"))
        css = css or ("" if pd.notna(rung) and rung == halving.top_rung else "stopped")
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
    return f"<tr class='{css}'>{''.join(cells)}</tr>"


def halving_section(table: SweepTable, stats: LeaderboardStats, figure: str) -> str:
    """Successive halving: the rung plan, per configuration (in the ranking's order) the rung it
    reached, the epochs it trained and its value at each rung (the promoted ones highlighted), and
    ``figure`` (the plot's div) below."""
    halving, factor_columns = table.halving, list(table.factor_columns.values())
    headers = [
        *[(c, "text") for c in factor_columns or ["configuration"]],
        ("rung reached", "num"),
        ("epochs", "num"),
        *[(rung_header(rung), "num") for rung in halving.rungs],
        ("config id", "text"),
    ]
    rows = []
    for row in stats.ranked.to_dict("records"):
        rung = row[RUNG_COLUMN]
        cells = [_cell(row[c]) for c in factor_columns] or [_cell(row["label"])]
        cells += [
            _cell(rung_text(rung, halving), math.nan if pd.isna(rung) else rung, "rung"),
            _cell(epochs_text(halving, rung), halving.epochs_at(None if pd.isna(rung) else int(rung)), "num"),
            *[
                _cell(format_number(value), value, "num promoted" if promoted else "num")
                for value, promoted in rung_cells(row, halving)
            ],
            _cell(row["config_id"], css="id"),
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    plan = halving_plan_text(halving, table.meta["n_configs"], table.meta["n_runs"])
    return (
        f"<section id='halving'><h2>Successive halving</h2><p>Rungs: {escape(plan)}</p>"
        + _sortable_table("halving-table", headers, rows)
        + f"<p class='note'>{escape(HALVING_TABLE_NOTE)}</p>{figure}</section>"
    )


def effects_section(stats: LeaderboardStats, halving: bool = False) -> str:
    """Each factor level's mean and difference from the baseline ("" when there are no effects;
    for successive halving, why there are none)."""
    if halving:
        return f"<section id='effects'><h2>Effects</h2><p class='note'>{escape(HALVING_EFFECTS_NOTE)}</p></section>"
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


def failed_section(table: SweepTable) -> str:
    """The failed and diverged runs, each with its error and, folded, its traceback."""
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


def runs_section(table: SweepTable, stats: LeaderboardStats) -> str:
    """Every run, folded: factors, seed, status, scores, epochs, training time and error."""
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


def meta_section(table: SweepTable) -> str:
    """The sweep's metadata and the warnings its collation raised."""
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
