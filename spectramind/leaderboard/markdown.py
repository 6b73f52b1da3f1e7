"""``leaderboard.md``: the ranking as GitHub-flavoured Markdown, readable in a PR or a terminal.

Sections: ranking (mean ± std (n) of the primary metric, Δ and p-values vs the baseline, a few
secondary metrics), for successive halving the rungs (each configuration's value at each rung),
main effects, failed/diverged runs with one-line errors, unfinished runs, sweep metadata,
collation warnings. Every value that comes from a config, a label or an error is
passed through `markdown_cell`, so a ``|`` or a newline can never break a table and raw HTML
never reaches a renderer that would interpret it.

Numbers and notes are written by `spectramind.leaderboard.text`, as on the HTML page.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.halving import RUNG_COLUMN, Halving, rung_cells
from spectramind.leaderboard.paired import CONFIDENCE_LEVEL
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.leaderboard.text import (
    HALVING_EFFECTS_NOTE,
    HALVING_TABLE_NOTE,
    dataset_summary,
    direction_text,
    effects_note,
    effects_title,
    epochs_text,
    format_delta,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_score,
    halving_note,
    halving_plan_text,
    held_out_label,
    ranking_note,
    reference_column,
    reference_note,
    rung_header,
    rung_text,
    secondary_metrics,
    seed_text,
    selection_note,
    status_summary,
)
from spectramind.sweep_layout import UNFINISHED_STATUSES, UNSUCCESSFUL_STATUSES
from spectramind.timestamps import MISSING, format_duration

_MAX_LISTED_UNFINISHED = 20
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def markdown_cell(value: Any) -> str:
    """Text safe inside a GFM table cell: one line, Markdown specials and ``|`` backslash-escaped,
    ``<``/``>``/``&`` as entities (so HTML in a value is shown, never rendered)."""
    text = "" if value is None or value is pd.NA else str(value)
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_markdown(table: SweepTable, stats: LeaderboardStats) -> str:
    """The whole ``leaderboard.md`` (see the module docstring for its sections)."""
    meta = table.meta
    title = meta.get("study") or table.sweep_dir.name
    baseline_label = _baseline_label(table, stats)
    lines = [
        f"# Ablation leaderboard: {markdown_cell(title)}",
        "",
        f"Primary metric **{markdown_cell(stats.primary_metric)}** ({direction_text(stats.higher_is_better)}); "
        f"design {markdown_cell(meta.get('design') or MISSING)}; {meta['n_runs']} runs "
        f"({status_summary(meta['status_counts'])}); baseline: {baseline_label}."
        + "".join(
            f" {markdown_cell(note)}"
            for note in (
                selection_note(stats),
                ranking_note(stats),
                reference_note(stats),
                halving_note(table.halving, stats.baseline_config_id is not None) if table.halving else "",
            )
            if note
        ),
        "",
        "## Ranking",
        "",
        *_ranking_table(table, stats),
        "",
        "mean ± sample std over seeds (n completed seeds). Δ = mean − baseline mean; p-values from tests "
        "paired by seed (paired t-test; Wilcoxon signed-rank from 6 pairs); — = not computable.",
    ]
    if table.halving is not None:
        lines += ["", "## Successive halving", "", *_halving_lines(table, stats)]
        lines += ["", "## Effects", "", HALVING_EFFECTS_NOTE]
    if len(stats.main_effects):
        lines += ["", f"## {effects_title(stats)}", "", *_effects_table(stats), "", effects_note(stats)]
    lines += ["", "## Failed and diverged runs", "", *_failed_table(table)]
    lines += ["", "## Unfinished runs", "", _unfinished_text(table)]
    lines += ["", "## Sweep", "", *_meta_lines(table)]
    if table.warnings:
        lines += ["", "## Collation warnings", ""] + [f"- {markdown_cell(w)}" for w in table.warnings]
    return "\n".join(lines) + "\n"


def _baseline_label(table: SweepTable, stats: LeaderboardStats) -> str:
    if stats.baseline_config_id is None:
        return "none declared (no Δ or p-values)"
    row = table.configs[table.configs["config_id"] == stats.baseline_config_id]
    return markdown_cell(row["label"].iloc[0]) if len(row) else MISSING


def _table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    separator = ["---:" if a == "right" else "---" for a in align]
    return ["| " + " | ".join(cells) + " |" for cells in [header, separator, *rows]]


def _ranking_table(table: SweepTable, stats: LeaderboardStats) -> list[str]:
    factor_columns = list(table.factor_columns.values())
    secondary = secondary_metrics(stats)
    columns = _ranking_columns(stats, factor_columns, secondary, table.halving is not None)
    rows = [
        _ranking_row(cell, stats, factor_columns, secondary, table.halving) for cell in stats.ranked.to_dict("records")
    ]
    return _table([name for name, _ in columns], [align for _, align in columns], rows)


def _ranking_columns(
    stats: LeaderboardStats, factor_columns: list[str], secondary: list[str], halving: bool = False
) -> list[tuple[str, str]]:
    """(header, alignment) of the ranking table's columns, in the order of _ranking_row's cells
    (a halving sweep's "Rung" after the identity)."""
    identity = [markdown_cell(c) for c in factor_columns] or ["Configuration"]
    held_out = f"{markdown_cell(held_out_label(stats, stats.held_out_metric))} mean (held out)"
    return [
        ("Rank", "right"),
        *[(name, "left") for name in identity],
        *([("Rung", "left")] if halving else []),
        (f"{markdown_cell(stats.ranking_metric)} mean ± std (n)", "right"),
        *([(f"{markdown_cell(stats.selection_metric)} mean", "right")] if stats.clipped_mean_column else []),
        *([(held_out, "right")] if stats.held_out_mean_column else []),
        *([(reference_column(stats), "right")] if stats.references else []),
        ("Δ vs baseline", "right"),
        ("p (paired t)", "right"),
        ("p (Wilcoxon)", "right"),
        *[(markdown_cell(held_out_label(stats, m)), "right") for m in secondary],
        ("Runs", "left"),
        ("Config id", "left"),
    ]


def _ranking_row(
    cell: dict[str, Any],
    stats: LeaderboardStats,
    factor_columns: list[str],
    secondary: list[str],
    halving: Halving | None = None,
) -> list[str]:
    """One configuration's cells of the ranking table."""
    clipped, held_out = stats.clipped_mean_column, stats.held_out_mean_column
    rank = MISSING if pd.isna(cell["rank"]) else str(int(cell["rank"]))
    if cell["config_id"] == stats.baseline_config_id:
        rank += " (baseline)"
    identity = [markdown_cell(cell[c]) for c in factor_columns] or [markdown_cell(cell["label"])]
    return [
        rank,
        *identity,
        *([rung_text(cell[RUNG_COLUMN], halving)] if halving else []),
        format_score(cell[stats.mean_column], cell[stats.std_column], cell[stats.n_column]),
        *([format_number(cell[clipped])] if clipped else []),
        *([format_number(cell[held_out])] if held_out else []),
        *([format_percent(cell["fraction_of_reference"])] if stats.references else []),
        format_delta(cell["delta"]),
        format_p_value(cell["p_ttest"]),
        format_p_value(cell["p_wilcoxon"]),
        *[format_number(cell[f"{m}_mean"]) for m in secondary],
        _runs_text(cell),
        markdown_cell(cell["config_id"]),
    ]


def _halving_lines(table: SweepTable, stats: LeaderboardStats) -> list[str]:
    """The rung plan, then per configuration (in the ranking's order) the rung it reached, the
    epochs it trained and its value at each rung, the promoted values in bold."""
    halving, factor_columns = table.halving, list(table.factor_columns.values())
    header = [
        *([markdown_cell(c) for c in factor_columns] or ["Configuration"]),
        "Rung reached",
        "Epochs",
        *[rung_header(rung) for rung in halving.rungs],
        "Config id",
    ]
    align = ["left"] * max(len(factor_columns), 1) + ["left", "right"] + ["right"] * len(halving.rungs) + ["left"]
    rows = []
    for cell in stats.ranked.to_dict("records"):
        values = [
            f"**{format_number(value)}**" if promoted else format_number(value)
            for value, promoted in rung_cells(cell, halving)
        ]
        rows.append(
            [
                *([markdown_cell(cell[c]) for c in factor_columns] or [markdown_cell(cell["label"])]),
                rung_text(cell[RUNG_COLUMN], halving),
                epochs_text(halving, cell[RUNG_COLUMN]),
                *values,
                markdown_cell(cell["config_id"]),
            ]
        )
    plan = markdown_cell(halving_plan_text(halving, table.meta["n_configs"], table.meta["n_runs"]))
    return [f"Rungs: {plan}", "", *_table(header, align, rows), "", markdown_cell(HALVING_TABLE_NOTE)]


def _runs_text(cell: dict[str, Any]) -> str:
    """A configuration's runs: ``3/4 completed, 1 failed``."""
    runs = f"{cell['n_completed']}/{cell['n_runs']} completed"
    if cell["n_failed"]:
        runs += f", {cell['n_failed']} failed"
    if cell["n_unfinished"]:
        runs += f", {cell['n_unfinished']} unfinished"
    return runs


def _effects_table(stats: LeaderboardStats) -> list[str]:
    grand = stats.balanced_grid
    mean = f"mean {markdown_cell(stats.ranking_metric)}" + ("" if grand else " (others at baseline)")
    header = [
        "Factor",
        "Level",
        "Configs",
        mean,
        *(["Effect vs grand mean"] if grand else []),
        "Δ vs baseline (others at baseline)",
        f"{int(100 * CONFIDENCE_LEVEL)} % CI (seeds)",
    ]
    rows = [
        [
            markdown_cell(r.factor),
            markdown_cell(r.level),
            str(r.n_configs),
            format_number(r.mean),
            *([format_delta(r.effect)] if grand else []),
            format_delta(r.delta_vs_baseline),
            format_interval(r.ci_low, r.ci_high),
        ]
        for r in stats.main_effects.itertuples(index=False)
    ]
    return _table(header, ["left", "left", "right", "right", *(["right"] if grand else []), "right", "right"], rows)


def _failed_table(table: SweepTable) -> list[str]:
    failed = table.runs[table.runs["status"].isin(UNSUCCESSFUL_STATUSES)]
    if failed.empty:
        return ["None."]
    rows = [
        [
            markdown_cell(r["run_id"]),
            markdown_cell(r["status"]),
            seed_text(r["seed"]),
            markdown_cell(r["error"] or MISSING),
        ]
        for _, r in failed.iterrows()
    ]
    return _table(["Run", "Status", "Seed", "Error"], ["left", "left", "right", "left"], rows)


def _unfinished_text(table: SweepTable) -> str:
    unfinished = table.runs[table.runs["status"].isin(UNFINISHED_STATUSES)]
    if unfinished.empty:
        return "None: every planned run has ended."
    counts = unfinished["status"].value_counts()
    text = ", ".join(f"{counts[s]} {s}" for s in UNFINISHED_STATUSES if s in counts) + "."
    listed = unfinished.head(_MAX_LISTED_UNFINISHED)
    text += "\n\n" + "\n".join(
        f"- {markdown_cell(r['run_id'])} ({markdown_cell(r['status'])})" for _, r in listed.iterrows()
    )
    if len(unfinished) > len(listed):
        text += f"\n- … and {len(unfinished) - len(listed)} more"
    return text


def _meta_lines(table: SweepTable) -> list[str]:
    meta = table.meta
    commit = meta.get("git_commit") or MISSING
    if meta.get("git_dirty"):
        commit = f"{commit} (dirty)"
    dataset_text = dataset_summary(meta)
    state = "finished" if meta.get("finished") else "not finished (still running or interrupted)"
    seeds = ", ".join(str(s) for s in meta.get("seeds") or []) or MISSING
    items = [
        ("Study", meta.get("study") or MISSING),
        ("Design", meta.get("design") or "unknown (no sweep.json)"),
        ("Runs", f"{meta['n_runs']} in {meta['n_configs']} configurations ({status_summary(meta['status_counts'])})"),
        ("Seeds", seeds),
        ("Wall time", f"{format_duration(meta.get('wall_time_s'))} ({state})"),
        ("Started", meta.get("started") or MISSING),
        ("Ended", meta.get("ended") or MISSING),
        ("Git commit", commit),
        ("Dataset hash", dataset_text),
        ("Sweep directory", str(table.sweep_dir)),
    ]
    return [f"- **{name}**: {markdown_cell(value)}" for name, value in items]
