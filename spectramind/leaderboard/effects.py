"""What each factor and level does: effects against the baseline and the grand mean, and trends.

Apart from the ranking because it reads the factors (the sweep's overrides) rather than the
configurations as wholes; the definitions (one-factor contrast, grand-mean effect only for a
balanced grid) are stats.py's module docstring.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

EFFECT_COLUMNS = ("factor", "level", "n_configs", "mean", "effect", "delta_vs_baseline", "ci_low", "ci_high", "n_pairs")


def is_balanced_grid(configs: pd.DataFrame, factor_columns: dict[str, str], mean_column: str) -> bool:
    """Whether the scored configurations are a full factorial of the levels they use, each
    combination once: the only design in which a level's mean over configurations compares that
    level alone (every other factor's levels are averaged in equally). A level no configuration
    scored (all its runs failed) leaves the grid of the others balanced."""
    if not factor_columns:
        return False
    scored = configs[np.isfinite(configs[mean_column].to_numpy(dtype=float))]
    columns = list(factor_columns.values())
    combinations = scored[columns].astype(str).apply(tuple, axis=1)
    expected = math.prod(scored[column].astype(str).nunique() for column in columns)
    return expected > 1 and len(scored) == expected and combinations.nunique() == expected


def main_effects(
    configs: pd.DataFrame,
    factor_columns: dict[str, str],
    factor_levels: dict[str, list[str]],
    mean_column: str,
    baseline_config_id: str | None,
    balanced_grid: bool,
) -> pd.DataFrame:
    """Per (factor, level), in the sweep's level order: n_configs, ``mean`` (over the level's
    configurations in a balanced grid, else that of the configuration that changes only this
    factor), ``delta_vs_baseline`` with
    its paired confidence interval (``ci_low``, ``ci_high``, ``n_pairs``) and, for a balanced grid
    only, ``effect`` vs the grand mean (definitions in the module docstring). ``configs`` is the
    ranked table (COMPARISON_COLUMNS included). Only configs with a finite mean count; a level
    without any is left out."""
    scored = configs[np.isfinite(configs[mean_column].to_numpy(dtype=float))]
    grand_mean = scored[mean_column].mean() if len(scored) else math.nan
    baseline = scored[scored["config_id"] == baseline_config_id]
    rows = []
    for key, column in factor_columns.items():
        others = [c for c in factor_columns.values() if c != column]
        at_baseline = scored.iloc[0:0]
        if len(baseline):
            at_baseline = scored[(scored[others] == baseline[others].iloc[0]).all(axis=1)] if others else scored
        for level in factor_levels.get(key, []):
            group = scored.loc[scored[column] == level, mean_column]
            if group.empty:
                continue
            contrast = at_baseline[at_baseline[column] == level]
            one = contrast.iloc[0] if len(contrast) == 1 else None  # the configuration that changes only this
            # the level's own mean: over its configurations in a balanced grid; elsewhere that average
            # would mix in other factors' levels, so the configuration that changes only this factor
            mean = group.mean() if balanced_grid else (one[mean_column] if one is not None else math.nan)
            rows.append(
                {
                    "factor": key,
                    "level": level,
                    "n_configs": len(group),
                    "mean": mean,
                    "effect": group.mean() - grand_mean if balanced_grid else math.nan,
                    "delta_vs_baseline": one["delta"] if one is not None else math.nan,
                    "ci_low": one["ci_low"] if one is not None else math.nan,
                    "ci_high": one["ci_high"] if one is not None else math.nan,
                    "n_pairs": int(one["n_pairs"]) if one is not None else 0,
                }
            )
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def factor_trends(
    completed_runs: pd.DataFrame,
    factor_columns: dict[str, str],
    factor_levels: dict[str, list[str]],
    metric: str,
    baseline_levels: dict[str, str] | None,
) -> pd.DataFrame:
    """The metric against each factor's levels, mean/std/n over seeds, for the trend plots.

    With a baseline, a factor's trend is the slice with every *other* factor at its baseline level
    (the ablation reading: change one thing), provided that slice covers >= 2 levels. Otherwise it
    is marginal: per seed, the mean over all configs with that level; then mean/std over seeds.
    """
    rows = []
    for key, column in factor_columns.items():
        others = [c for c in factor_columns.values() if c != column]
        scope, frame = "marginal", completed_runs
        if baseline_levels is not None:
            match = pd.Series(True, index=completed_runs.index)
            for other in others:
                match &= completed_runs[other] == baseline_levels[other]
            sliced = completed_runs[match]
            if sliced[column].nunique() >= 2:
                scope, frame = "others at baseline", sliced
        per_seed = frame.groupby([column, "seed"], sort=False)[metric].mean().reset_index()
        for level in factor_levels.get(key, []):
            values = per_seed.loc[per_seed[column] == level, metric].dropna()
            if len(values):
                rows.append(
                    {
                        "factor": key,
                        "column": column,
                        "level": level,
                        "mean": values.mean(),
                        "std": values.std(ddof=1) if len(values) > 1 else math.nan,
                        "n": len(values),
                        "scope": scope,
                    }
                )
    return pd.DataFrame(rows, columns=["factor", "column", "level", "mean", "std", "n", "scope"])


def baseline_levels(
    configs: pd.DataFrame, baseline_config_id: str | None, factor_columns: list[str]
) -> dict[str, str] | None:
    """The baseline configuration's level of every factor column (None without a baseline)."""
    if baseline_config_id is None:
        return None
    row = configs[configs["config_id"] == baseline_config_id]
    return {column: row[column].iloc[0] for column in factor_columns} if len(row) else None
