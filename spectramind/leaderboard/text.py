"""The text of the leaderboard's numbers and notes, shared by leaderboard.md and leaderboard.html.

Both pages print a score, a difference, a p-value, an interval or a note from the same function,
so they can never disagree on a value's text (durations: ``spectramind.timestamps``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from spectramind.leaderboard.stats import CONFIDENCE_LEVEL, LeaderboardStats
from spectramind.sweep_layout import STATUSES
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


def ranking_note(stats: LeaderboardStats) -> str:
    """What the ranking is computed on, when it is not the primary metric as printed."""
    if stats.ranking_metric == stats.primary_metric:
        return ""
    return (f"Ranked, differenced and tested on {stats.ranking_metric} (the score before clipping to [0, 1], "
            f"which would tie every configuration below the naive baseline at 0); the clipped "
            f"{stats.primary_metric} is shown beside it.")


def format_percent(value: Any) -> str:
    """``0.9603`` -> ``96.0 %``; the missing mark for None or NaN."""
    if value is None or value is pd.NA or not math.isfinite(float(value)):
        return MISSING
    return f"{100 * float(value):.1f} %"


def reference_note(stats: LeaderboardStats) -> str:
    """The scale the scores sit on: the naive baseline and, with noise truth, the information limit."""
    if stats.limit_reference is None:
        return ""
    return (f"Reference on the same test split: naive = 0, per-channel information limit = "
            f"{format_number(stats.limit_reference)} (the data set's noise truth); % of limit = each "
            f"configuration's mean over that limit.")


def effects_title(stats: LeaderboardStats) -> str:
    return "Main effects" if stats.balanced_grid else "Effect of each level (others at baseline)"


def effects_note(stats: LeaderboardStats) -> str:
    base = ("Δ vs baseline: the configuration that changes only this factor, minus the baseline; "
            f"{int(100 * CONFIDENCE_LEVEL)} % CI of the difference paired by seed.")
    if stats.balanced_grid:
        return base + " Effect vs grand mean: mean of the configurations at this level minus the mean of all (a balanced full-factorial grid)."
    return base + " Effects against a grand mean are shown only for balanced full-factorial grids: in this design they would mix in whichever other levels ran with each level."


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
