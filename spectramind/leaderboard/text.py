"""The text of the leaderboard's numbers and notes, shared by leaderboard.md and leaderboard.html.

Both pages print a score, a difference, a p-value, an interval or a note from the same function,
so they can never disagree on a value's text (durations: ``spectramind.timestamps``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from spectramind.ablation.halving import Rung
from spectramind.leaderboard.halving import Halving
from spectramind.leaderboard.paired import CONFIDENCE_LEVEL
from spectramind.leaderboard.stats import LeaderboardStats
from spectramind.sweep_layout import STATUSES, validation_name
from spectramind.timestamps import MISSING

# Metrics shown beside the primary one in the ranking tables.
SECONDARY_METRICS = ("gll", "rmse_ppm", "coverage_1sigma")


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


def format_interval(low: Any, high: Any) -> str:
    """``[-0.1204, -0.0911]``; the missing mark when either end is unknown."""
    if any(v is None or v is pd.NA or not math.isfinite(float(v)) for v in (low, high)):
        return MISSING
    return f"[{format_number(low)}, {format_number(high)}]"


def selection_note(stats: LeaderboardStats) -> str:
    """Which split the configurations are selected on, said plainly on every page."""
    if stats.ranks_on_validation:
        held_out = (
            (
                f"; the test split's {stats.held_out_metric} is shown beside it as the held-out figure, "
                "which selects nothing"
            )
            if stats.held_out_metric
            else ""
        )
        return (
            f"Ranked on validation: the ranking, Δ, p-values and effects use {stats.selection_metric}, each "
            f"run's best checkpoint scored on the validation planets{held_out}."
        )
    if stats.runs_without_validation:
        return (
            f"Ranked on test: {stats.runs_without_validation} of {stats.n_scored_runs} completed runs recorded no "
            f"validation metrics ({validation_name(stats.primary_metric)}; records written before runs kept them), "
            "so the configurations are selected on the split that also measures them, and the best one's "
            "score is optimistic."
        )
    return ""


def ranking_note(stats: LeaderboardStats) -> str:
    """What the ranking is computed on, when it is not the selection metric as printed."""
    if stats.ranking_metric == stats.selection_metric:
        return ""
    return (
        f"Ranked, differenced and tested on {stats.ranking_metric} (the score before clipping to [0, 1], "
        f"which would tie every configuration below the naive baseline at 0); the clipped "
        f"{stats.selection_metric} is shown beside it."
    )


def secondary_metrics(stats: LeaderboardStats) -> list[str]:
    """The SECONDARY_METRICS a ranking table shows: those the sweep has, but not the one it ranks on
    or the primary one (which have their own columns)."""
    return [
        m
        for m in SECONDARY_METRICS
        if m not in (stats.ranking_metric, stats.primary_metric) and f"{m}_mean" in stats.ranked
    ]


def held_out_label(stats: LeaderboardStats, metric: str) -> str:
    """A test-split metric's column name: ``test gll`` when the ranking is on validation, so that a
    held-out figure is never read as the one the configurations were selected on."""
    return f"test {metric}" if stats.ranks_on_validation else metric


def format_percent(value: Any) -> str:
    """``0.9603`` -> ``96.0 %``; the missing mark for None or NaN."""
    if value is None or value is pd.NA or not math.isfinite(float(value)):
        return MISSING
    return f"{100 * float(value):.1f} %"


REFERENCE_LABELS = {"per_channel": "per-channel reference", "pooled": "pooled reference"}
DETECTOR_LABELS = {"fgs1": "FGS1", "airs": "AIRS"}


def reference_column(stats: LeaderboardStats) -> str | None:
    """The ranking tables' "% of <top reference>" header; None without references."""
    if not stats.references:
        return None
    return f"% of {REFERENCE_LABELS[next(reversed(stats.references))]}"


def _detector_text(values: dict[str, float]) -> str:
    return "; ".join(f"{DETECTOR_LABELS[d]} {format_number(v)}" for d, v in values.items())


def reference_note(stats: LeaderboardStats) -> str:
    """The scale the scores sit on: the naive baseline and, with noise truth, the references."""
    if not stats.references:
        return ""
    parts = []
    for name, value in stats.references.items():
        detectors = stats.reference_detectors.get(name) or {}
        parts.append(
            f"{REFERENCE_LABELS[name]} = {format_number(value)}"
            + (f" ({_detector_text(detectors)})" if detectors else "")
        )
    explained = {
        "per_channel": "each channel measured alone as well as its light curve allows (white noise and "
        "the jitter's share, from the noise truth; a model that pools channels can pass it)",
        "pooled": "those measurements through a Gaussian prior over spectra fitted on the training "
        "labels, the best a method with a Gaussian picture of the spectra can do",
    }
    return (
        f"References on the same test split: naive = 0, {', '.join(parts)}. The "
        + "; the ".join(f"{REFERENCE_LABELS[name]}: {explained[name]}" for name in stats.references)
        + f". {reference_column(stats)} = each configuration's test mean over it (docs/quality.md)."
    )


def effects_title(stats: LeaderboardStats) -> str:
    return "Main effects" if stats.balanced_grid else "Effect of each level (others at baseline)"


def effects_note(stats: LeaderboardStats) -> str:
    base = (
        "Δ vs baseline: the configuration that changes only this factor, minus the baseline; "
        f"{int(100 * CONFIDENCE_LEVEL)} % CI of the difference paired by seed."
    )
    if stats.balanced_grid:
        return (
            base + " Effect vs grand mean: mean of the configurations at this level minus the mean of all"
            " (a balanced full-factorial grid)."
        )
    return (
        base + " Effects against a grand mean are shown only for balanced full-factorial grids: in this design"
        " they would mix in whichever other levels ran with each level."
    )


def format_score(mean: Any, std: Any, n: Any) -> str:
    """``0.5437 ± 0.0098 (2)``; without a completed run, the missing mark."""
    if mean is None or mean is pd.NA or not math.isfinite(float(mean)):
        return MISSING
    spread = f" ± {format_number(std)}" if std is not None and pd.notna(std) else ""
    return f"{format_number(mean)}{spread} ({int(n)})"


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


def seed_text(seed: Any) -> str:
    """A run's seed as shown in tables: an integer, or the missing mark."""
    return MISSING if seed is None or pd.isna(seed) else str(int(seed))


HALVING_TABLE_NOTE = (
    "Value at a rung: the mean over a configuration's seeds of what each run reported at that rung's end "
    "(its validation score, unclipped: the number promotion compares); — where a seed reported none "
    "(failed, diverged or not run there). Highlighted: the values that promoted a configuration to the next rung."
)
HALVING_EFFECTS_NOTE = (
    "Not computed for successive halving: its configurations were trained for different numbers of epochs "
    "(most stopped at an early rung), so an average over them would mix the epochs trained with the levels."
)


def rung_header(rung: Rung) -> str:
    """A rung's column: ``rung 1 (6 ep)``."""
    return f"rung {rung.index} ({rung.epochs} ep)"


def rung_text(rung: Any, halving: Halving) -> str:
    """A configuration's rung in the ranking tables: ``2 (last)`` at the plan's last rung, the bare
    number at the highest rung an unfinished study reached, else ``stopped at rung 0`` (— before
    any launch)."""
    if rung is None or pd.isna(rung):
        return MISSING
    if int(rung) == halving.top_rung:
        return f"{int(rung)} (last)" if int(rung) == halving.last_rung else str(int(rung))
    return f"stopped at rung {int(rung)}"


def epochs_text(halving: Halving, rung: Any) -> str:
    """The epochs a configuration trained in all: those of the rung it reached (— before any)."""
    epochs = halving.epochs_at(None if rung is None or pd.isna(rung) else int(rung))
    return MISSING if epochs is None else str(epochs)


def halving_note(halving: Halving, has_baseline: bool) -> str:
    """What the ranking of a successive-halving sweep covers, said under the title of both pages."""
    if halving.top_rung is None:
        return "Successive halving: no run has recorded a rung yet."
    return (
        f"Successive halving: only the {halving.n_reached[halving.top_rung]} configuration(s) of rung "
        f"{halving.top_rung}, the highest reached, are ranked; the others, trained for fewer epochs, follow "
        "unranked as stopped at their rung (by rung, then score)."
        + (" Δ and p-values compare only configurations of the baseline's rung." if has_baseline else "")
    )


def halving_plan_text(halving: Halving, n_configs: int, n_runs: int) -> str:
    """The rung plan and what it saved: ``eta 3, 2 to 18 epochs; configurations per rung: rung 0 (2
    ep): 9 planned, 9 reached; ... Epochs trained: 120 (...) of 324 for the full grid (...), 37.0 %.``"""

    def known(value: Any) -> str:
        return MISSING if value is None else str(value)

    rungs = "; ".join(
        f"{rung_header(r)}: {r.n_configs} planned, {halving.n_reached.get(r.index, 0)} reached" for r in halving.rungs
    )
    seeds = n_runs // n_configs if n_configs and n_runs % n_configs == 0 else None
    grid = f"{n_configs} configurations × {seeds} seeds" if seeds else f"{n_runs} runs"
    source = "run.json's epochs_trained summed" if halving.epochs_from_records else "from the rung plan"
    share = halving.epochs_trained / halving.full_grid_epochs if halving.full_grid_epochs else math.nan
    return (
        f"eta {known(halving.eta)}, {known(halving.min_epochs)} to {known(halving.max_epochs)} epochs; "
        f"configurations per rung: {rungs}. "
        f"Epochs trained: {halving.epochs_trained} ({source}) of {halving.full_grid_epochs} for the full grid "
        f"({grid} × {halving.rungs[-1].epochs} epochs), {format_percent(share)}."
    )
