"""``leaderboard.md``: the ranking as GitHub-flavoured Markdown, readable in a PR or a terminal.

Sections: ranking (mean ± std (n) of the primary metric, Δ and p-values vs the baseline, a few
secondary metrics), main effects, failed/diverged runs with one-line errors, unfinished runs,
sweep metadata, collation warnings. Every value that comes from a config, a label or an error is
passed through `markdown_cell`, so a ``|`` or a newline can never break a table and raw HTML
never reaches a renderer that would interpret it.

The text forms of numbers (`format_number`, `format_p_value`) are defined here and reused by the
HTML page, so both files print a value identically (durations: `spectramind.timestamps`).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from spectramind.leaderboard.collate import SweepTable
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.sweep_layout import STATUSES, UNFINISHED_STATUSES, UNSUCCESSFUL_STATUSES
from spectramind.timestamps import MISSING, format_duration

SECONDARY_METRICS = ("gll", "rmse_ppm", "coverage_1sigma")
_MAX_LISTED_UNFINISHED = 20
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def format_number(value: Any) -> str:
    """4 significant digits; scientific notation only for very small or large magnitudes."""
    if value is None or value is pd.NA:
        return MISSING
    number = float(value)
    if not math.isfinite(number):
        return MISSING if math.isnan(number) else ("∞" if number > 0 else "-∞")
    if number == 0:
        return "0"
    if abs(number) < 1e-3 or abs(number) >= 1e5:
        return f"{number:.3e}"
    return f"{number:#.4g}" if abs(number) < 1 else f"{number:.{max(0, 3 - int(math.log10(abs(number))))}f}"


def format_delta(value: Any) -> str:
    text = format_number(value)
    return text if text in (MISSING, "0") or text.startswith("-") else f"+{text}"


def format_p_value(value: Any) -> str:
    if value is None or value is pd.NA or not math.isfinite(float(value)):
        return MISSING
    return "<0.0001" if float(value) < 1e-4 else f"{float(value):.2g}"


def format_score(mean: Any, std: Any, n: Any) -> str:
    """``0.5437 ± 0.0098 (2)``; without a completed run, the missing mark."""
    if mean is None or mean is pd.NA or not math.isfinite(float(mean)):
        return MISSING
    spread = f" ± {format_number(std)}" if std is not None and pd.notna(std) else ""
    return f"{format_number(mean)}{spread} ({int(n)})"


def markdown_cell(value: Any) -> str:
    """Text safe inside a GFM table cell: one line, Markdown specials and ``|`` backslash-escaped,
    ``<``/``>``/``&`` as entities (so HTML in a value is shown, never rendered)."""
    text = "" if value is None or value is pd.NA else str(value)
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def direction_text(higher_is_better: bool) -> str:
    return "higher is better" if higher_is_better else "lower is better"


def status_summary(status_counts: dict[str, int]) -> str:
    """``8 completed, 1 failed, 1 pending`` in a fixed order, unknown statuses last."""
    order = list(STATUSES)
    keys = [k for k in order if status_counts.get(k)] + sorted(k for k in status_counts if k not in order)
    return ", ".join(f"{status_counts[k]} {k}" for k in keys) or "no runs"


def dataset_summary(meta: dict[str, Any]) -> str:
    """The runs' data set fingerprint(s), and the hash DVC tracks for it where a DVC file does."""
    def listed(value: Any) -> str | None:
        return ", ".join(value) if isinstance(value, list) else value

    text = listed(meta.get("dataset_hash")) or MISSING
    dvc = listed(meta.get("dataset_dvc_md5"))
    return f"{text} (DVC md5 {dvc})" if dvc else text


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
        f"({status_summary(meta['status_counts'])}); baseline: {baseline_label}.",
        "",
        "## Ranking",
        "",
        *_ranking_table(table, stats),
        "",
        "mean ± sample std over seeds (n completed seeds). Δ = mean − baseline mean; p-values from tests "
        "paired by seed (paired t-test; Wilcoxon signed-rank from 6 pairs); — = not computable.",
    ]
    if len(stats.main_effects):
        lines += ["", "## Main effects", "", *_effects_table(stats)]
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
    metric = stats.primary_metric
    factor_columns = list(table.factor_columns.values())
    secondary = [m for m in SECONDARY_METRICS if m != metric and f"{m}_mean" in stats.ranked]
    header = ["Rank", *([markdown_cell(c) for c in factor_columns] or ["Configuration"]),
              f"{markdown_cell(metric)} mean ± std (n)", "Δ vs baseline", "p (paired t)", "p (Wilcoxon)",
              *[markdown_cell(m) for m in secondary], "Runs", "Config id"]
    align = ["right", *["left"] * max(1, len(factor_columns)), "right", "right", "right", "right",
             *["right"] * len(secondary), "left", "left"]
    rows = []
    for cell in stats.ranked.to_dict("records"):
        rank = MISSING if pd.isna(cell["rank"]) else str(int(cell["rank"]))
        if cell["config_id"] == stats.baseline_config_id:
            rank += " (baseline)"
        identity = [markdown_cell(cell[c]) for c in factor_columns] or [markdown_cell(cell["label"])]
        runs = f"{cell['n_completed']}/{cell['n_runs']} completed"
        if cell["n_failed"]:
            runs += f", {cell['n_failed']} failed"
        if cell["n_unfinished"]:
            runs += f", {cell['n_unfinished']} unfinished"
        rows.append([
            rank, *identity,
            format_score(cell[f"{metric}_mean"], cell[f"{metric}_std"], cell[f"{metric}_n"]),
            format_delta(cell["delta"]), format_p_value(cell["p_ttest"]), format_p_value(cell["p_wilcoxon"]),
            *[format_number(cell[f"{m}_mean"]) for m in secondary], runs, markdown_cell(cell["config_id"]),
        ])
    return _table(header, align, rows)


def _effects_table(stats: LeaderboardStats) -> list[str]:
    header = ["Factor", "Level", "Configs", f"mean {markdown_cell(stats.primary_metric)}",
              "Effect vs grand mean", "Δ vs baseline (others at baseline)"]
    rows = [[markdown_cell(r.factor), markdown_cell(r.level), str(r.n_configs), format_number(r.mean),
             format_delta(r.effect), format_delta(r.delta_vs_baseline)]
            for r in stats.main_effects.itertuples(index=False)]
    return _table(header, ["left", "left", "right", "right", "right", "right"], rows)


def _failed_table(table: SweepTable) -> list[str]:
    failed = table.runs[table.runs["status"].isin(UNSUCCESSFUL_STATUSES)]
    if failed.empty:
        return ["None."]
    rows = [[markdown_cell(r["run_id"]), markdown_cell(r["status"]), seed_text(r["seed"]), markdown_cell(r["error"] or MISSING)]
            for _, r in failed.iterrows()]
    return _table(["Run", "Status", "Seed", "Error"], ["left", "left", "right", "left"], rows)


def _unfinished_text(table: SweepTable) -> str:
    unfinished = table.runs[table.runs["status"].isin(UNFINISHED_STATUSES)]
    if unfinished.empty:
        return "None: every planned run has ended."
    counts = unfinished["status"].value_counts()
    text = ", ".join(f"{counts[s]} {s}" for s in UNFINISHED_STATUSES if s in counts) + "."
    listed = unfinished.head(_MAX_LISTED_UNFINISHED)
    text += "\n\n" + "\n".join(f"- {markdown_cell(r['run_id'])} ({markdown_cell(r['status'])})" for _, r in listed.iterrows())
    if len(unfinished) > len(listed):
        text += f"\n- … and {len(unfinished) - len(listed)} more"
    return text


def seed_text(seed: Any) -> str:
    """A run's seed as shown in tables: an integer, or the missing mark."""
    return MISSING if seed is None or pd.isna(seed) else str(int(seed))


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
