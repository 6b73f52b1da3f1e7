"""Paired comparisons of each configuration with the baseline, seed by seed.

Why paired: the seeds share data splits and initialisation streams, so a variant's run and the
baseline's run of the same seed differ by the variant alone plus noise; pairing removes the
seed-to-seed variance an unpaired test would have to overcome. The conventions (which seeds
count, when each test runs, the confidence interval) are stats.py's module docstring.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

MIN_PAIRS_TTEST = 2
MIN_PAIRS_WILCOXON = 6
CONFIDENCE_LEVEL = 0.95
COMPARISON_COLUMNS = (
    "delta",
    "n_pairs",
    "mean_paired_difference",
    "ci_low",
    "ci_high",
    "t_statistic",
    "p_ttest",
    "p_wilcoxon",
)


def seed_matrix(completed_runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """config_id x seed matrix of a metric (runs without a seed cannot be paired and are left out)."""
    seeded = completed_runs.dropna(subset=["seed"])
    if seeded.empty:
        return pd.DataFrame(dtype=float)
    return seeded.pivot_table(index="config_id", columns="seed", values=metric, aggfunc="mean", dropna=False)


def paired_tests(baseline_by_seed: pd.Series, variants_by_seed: pd.DataFrame) -> pd.DataFrame:
    """Paired t-test and Wilcoxon test of each variant row against the baseline, paired by seed.

    ``baseline_by_seed``: metric per seed; ``variants_by_seed``: one row per variant, one column
    per seed. Returns one row per variant with n_pairs, mean_paired_difference (variant -
    baseline), t_statistic, p_ttest, p_wilcoxon (NaN where the module docstring says so).
    Variants are tested in groups that share the same set of usable seeds, one scipy call each.
    """
    seeds = variants_by_seed.columns
    baseline = baseline_by_seed.reindex(seeds).to_numpy(dtype=float)
    variants = variants_by_seed.to_numpy(dtype=float)
    usable = np.isfinite(variants) & np.isfinite(baseline)[None, :]
    result = pd.DataFrame(
        {
            "n_pairs": usable.sum(axis=1),
            "mean_paired_difference": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "t_statistic": math.nan,
            "p_ttest": math.nan,
            "p_wilcoxon": math.nan,
        },
        index=variants_by_seed.index,
    )
    patterns: dict[bytes, list[int]] = {}
    for row, mask in enumerate(usable):
        patterns.setdefault(mask.tobytes(), []).append(row)
    for rows in patterns.values():
        mask = usable[rows[0]]
        n_pairs = int(mask.sum())
        if n_pairs == 0:
            continue
        variant = variants[np.ix_(rows, mask)]
        reference = np.broadcast_to(baseline[mask], variant.shape)
        differences = variant - reference
        index = variants_by_seed.index[rows]
        result.loc[index, "mean_paired_difference"] = differences.mean(axis=1)
        if n_pairs >= MIN_PAIRS_TTEST:
            _test_group(result, index, variant, reference, differences)
    return result


def _test_group(
    result: pd.DataFrame, index: pd.Index, variant: np.ndarray, reference: np.ndarray, differences: np.ndarray
) -> None:
    """Fill ``result``'s interval and p-value columns for variants sharing one set of >= 2 seeds."""
    n_pairs = differences.shape[1]
    half_width = (
        scipy_stats.t.ppf(0.5 + CONFIDENCE_LEVEL / 2, n_pairs - 1)
        * differences.std(axis=1, ddof=1)
        / math.sqrt(n_pairs)
    )
    result.loc[index, "ci_low"] = differences.mean(axis=1) - half_width
    result.loc[index, "ci_high"] = differences.mean(axis=1) + half_width
    spread = np.ptp(differences, axis=1)
    scale = np.max(np.abs(differences), axis=1)
    varying = spread > 1e-12 * scale  # differences not all equal (up to float rounding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t = scipy_stats.ttest_rel(variant, reference, axis=1)
    result.loc[index, "t_statistic"] = np.where(varying, t.statistic, math.nan)
    result.loc[index, "p_ttest"] = np.where(varying, t.pvalue, math.nan)
    if n_pairs >= MIN_PAIRS_WILCOXON:
        nonzero = scale > 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            w = scipy_stats.wilcoxon(differences, axis=1)
        result.loc[index, "p_wilcoxon"] = np.where(nonzero, w.pvalue, math.nan)


def compare_to_baseline(config_means: pd.Series, by_seed: pd.DataFrame, baseline_config_id: str | None) -> pd.DataFrame:
    """Per config: delta of means vs the baseline and the paired tests (all NaN without a baseline)."""
    result = pd.DataFrame(index=config_means.index, columns=list(COMPARISON_COLUMNS), dtype=float)
    result["n_pairs"] = 0
    if baseline_config_id is None or baseline_config_id not in config_means.index:
        return result
    result["delta"] = config_means - config_means[baseline_config_id]
    if baseline_config_id in by_seed.index:
        tests = paired_tests(by_seed.loc[baseline_config_id], by_seed)
        for column in tests.columns:
            result.loc[tests.index, column] = tests[column]
    result.loc[baseline_config_id, ["ci_low", "ci_high", "t_statistic", "p_ttest", "p_wilcoxon"]] = math.nan
    result["n_pairs"] = result["n_pairs"].fillna(0).astype(int)
    return result
