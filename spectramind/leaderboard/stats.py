"""Ablation statistics over collated runs: ranking, paired tests against the baseline, main effects.

Everything here is a pure function of DataFrames (the ``runs`` and ``configs`` tables of a
`SweepTable`), so tests can feed known numbers and compare with scipy directly.

Conventions
-----------
* Selection is on validation: configurations are ranked, differenced, tested and their effects
  estimated on the primary metric of each run's best checkpoint on the validation split
  (``val_adc2025``, recorded by the training beside the test scores). The test split's score is
  shown beside it as the held-out figure and selects nothing, so it stays an unbiased estimate of
  the chosen configuration. Sweeps whose runs did not record validation metrics (records from
  before they were written), or where some completed run lacks them, are ranked on the test split
  instead, and the leaderboard says so.
* Scores are aggregated over *completed* runs only; std is the sample std over seeds (ddof=1).
* Ranking, differences and tests use the **unclipped** score when the primary metric is a clipped
  Ariel score whose unclipped twin the runs recorded (``adc2025`` -> ``adc2025_unclipped``): the
  official score is clipped to [0, 1], so every configuration below the naive baseline ties at 0
  (and its seeds at 0 ± 0), which hides which of them is worse and leaves tests nothing to test.
  The clipped mean is shown beside it.
* ``delta`` = mean(variant) - mean(baseline) of the primary metric (all completed seeds of each);
  its sign is the metric's own, whatever the direction (see ``higher_is_better``).
* Paired tests pair a variant's run with the baseline's run *of the same seed* (the seeds share
  data splits and initialisation streams, so pairing removes seed-to-seed variance). Seeds with a
  missing or non-finite value on either side are dropped. The paired t-test (scipy.stats.ttest_rel)
  needs >= 2 pairs and non-zero variance of the differences; the Wilcoxon signed-rank test
  (scipy.stats.wilcoxon) is only run with >= 6 pairs (below that its smallest attainable two-sided
  p-value exceeds 0.05) and not when every difference is zero. Otherwise the p-value is NaN.
  ``ci_low``/``ci_high``: the 95 % t confidence interval of the mean paired difference (>= 2 pairs).
* The references: when the runs recorded ``ref_per_channel_<primary metric>`` and
  ``ref_pooled_<primary metric>`` (the test split's reference scores, for data sets that carry
  noise truth: :mod:`spectramind.metrics.references`; older records' ``limit_<metric>`` counts as
  the per-channel one), ``references`` holds their means over completed runs and
  ``fraction_of_reference`` each configuration's test mean (of the same split) over its own mean
  of the top reference (pooled when recorded); the naive baseline scores 0 by definition.
* Effects per factor level: ``delta_vs_baseline`` = the mean of the configuration that differs
  from the baseline *only* in this factor, at this level, minus the baseline mean, with the
  paired confidence interval over seeds (the one-factor-at-a-time contrast; defined for OFAT and
  for any grid or random design containing those configurations). ``effect`` = mean of the config
  means having that level - grand mean of all config means (the classical main effect) only for a
  balanced full-factorial grid (every combination of levels scored once); elsewhere averages over
  levels mix in whichever other levels happened to be run with it and mislead (NaN).
* Successive halving (``design=halving``): the configurations were trained for different numbers
  of epochs (most stopped at an early rung), and a score compares only with those of its own rung.
  So the configurations of the highest rung reached are ranked; the others follow with rank <NA>,
  by the rung they stopped at, then by score; Δ and the paired tests are kept only for the
  configurations of the baseline's rung; and no effects or trends are computed (they would
  average over configurations trained for different epochs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectramind.errors import ConfigurationError
from spectramind.leaderboard.effects import baseline_levels, factor_trends, is_balanced_grid, main_effects
from spectramind.leaderboard.halving import RUNG_COLUMN, within_rung
from spectramind.leaderboard.paired import compare_to_baseline, seed_matrix
from spectramind.spectrum import DETECTORS
from spectramind.sweep_layout import (
    COMPLETED,
    LEGACY_LIMIT_PREFIX,
    REFERENCE_PREFIXES,
    UNCLIPPED_SUFFIX,
    VALIDATION_PREFIX,
    validation_name,
)

DEFAULT_PRIMARY_METRIC = "adc2025"
# Metric-name fragments whose metrics are better when smaller; every other metric (scores,
# log-likelihoods) is better when larger. Pass higher_is_better explicitly to override.
LOWER_IS_BETTER_FRAGMENTS = ("rmse", "mae", "loss", "violations", "time_s", "n_params")


def selection_metric_for(primary_metric: str, runs: pd.DataFrame, metric_names) -> tuple[str, int]:
    """(the primary metric as selection reads it, how many completed runs lack its validation twin).

    ``val_<metric>`` when every completed run that scored the primary metric recorded it; else the
    primary metric itself, with the count of runs lacking it (the test split: the page says so). A
    metric without a validation twin in a sweep that records others (``train_time_s``,
    ``best_val_loss``) belongs to no split and is used as it is (nothing lacks).
    """
    validation = validation_name(primary_metric)
    scored = (
        runs[(runs["status"] == COMPLETED) & runs[primary_metric].notna()] if primary_metric in runs else runs.iloc[0:0]
    )
    if validation in runs:
        lacking = int(scored[validation].isna().sum())
        return (primary_metric if lacking else validation), lacking
    records_validation = any(str(name).startswith(VALIDATION_PREFIX) for name in metric_names)
    return primary_metric, 0 if records_validation else len(scored)


def ranking_metric_for(selection_metric: str, metric_names) -> str:
    """The metric to rank, difference and test on: the unclipped twin of a clipped score when the
    runs recorded one, else the selection metric itself (module docstring)."""
    unclipped = f"{selection_metric}{UNCLIPPED_SUFFIX}"
    return unclipped if unclipped in metric_names else selection_metric


def held_out_metric_for(ranking_metric: str, metric_names) -> str | None:
    """The test split's twin of a validation ranking metric (``val_adc2025_unclipped`` ->
    ``adc2025_unclipped``), shown beside it; None when the ranking is not on validation."""
    if not ranking_metric.startswith(VALIDATION_PREFIX):
        return None
    test = ranking_metric[len(VALIDATION_PREFIX) :]
    return test if test in metric_names else None


def default_higher_is_better(metric: str) -> bool:
    """Direction of a metric from its name: errors, losses, violations and costs are lower-better."""
    name = metric.lower()
    return not any(fragment in name for fragment in LOWER_IS_BETTER_FRAGMENTS)


@dataclass
class LeaderboardStats:
    """The statistics every renderer shows.

    ``selection_metric``: the primary metric as selection reads it, ``val_<primary>`` when the runs
    recorded it (``runs_without_validation`` counts the completed runs that did not: then it is
    the test split's); ``ranking_metric``: its unclipped twin where there is one;
    ``held_out_metric``: the test twin of a validation ranking metric, shown beside it.
    ``ranked``: the configs table sorted best first by ``ranking_metric``, with ``rank`` (1-based;
    <NA> for configs without a completed run) and the COMPARISON_COLUMNS against the baseline (NaN
    without one). ``main_effects``: one row per (factor, level); ``balanced_grid`` says whether its
    grand-mean ``effect`` is defined. ``trends``: per (factor, level) the ranking metric's
    mean/std/n over seeds for the ablation trend plots.
    """

    primary_metric: str
    selection_metric: str
    ranking_metric: str
    held_out_metric: str | None
    runs_without_validation: int
    n_scored_runs: int
    higher_is_better: bool
    balanced_grid: bool
    references: dict[str, float]  # reference (REFERENCE_PREFIXES' keys) -> its mean primary-metric score
    reference_detectors: dict[str, dict[str, float]]  # reference -> detector -> mean adc2025 over its cells
    ranked: pd.DataFrame
    main_effects: pd.DataFrame
    trends: pd.DataFrame
    baseline_config_id: str | None
    best_config_id: str | None
    best_run_id: str | None
    baseline_run_id: str | None

    @property
    def mean_column(self) -> str:
        return f"{self.ranking_metric}_mean"

    @property
    def std_column(self) -> str:
        return f"{self.ranking_metric}_std"

    @property
    def n_column(self) -> str:
        return f"{self.ranking_metric}_n"

    @property
    def ranks_on_validation(self) -> bool:
        return self.selection_metric.startswith(VALIDATION_PREFIX)

    @property
    def clipped_mean_column(self) -> str | None:
        """The selection (clipped) score's mean, shown beside the ranking metric when they differ."""
        return f"{self.selection_metric}_mean" if self.ranking_metric != self.selection_metric else None

    @property
    def held_out_mean_column(self) -> str | None:
        """The test split's mean of the ranking metric, shown beside it when ranking on validation."""
        return f"{self.held_out_metric}_mean" if self.held_out_metric else None

    @property
    def test_mean_column(self) -> str:
        """The ranking metric's mean on the test split (the references' split)."""
        return self.held_out_mean_column or self.mean_column


def compute_stats(
    table, primary_metric: str = DEFAULT_PRIMARY_METRIC, higher_is_better: bool | None = None
) -> LeaderboardStats:
    """All statistics of a `SweepTable` for one primary metric (direction from its name if None)."""
    if table.metric_names and primary_metric not in table.metric_names:
        raise ConfigurationError(
            f"primary metric {primary_metric!r} is not in the runs' metrics.json "
            f"(known: {', '.join(table.metric_names)})"
        )
    if higher_is_better is None:
        higher_is_better = default_higher_is_better(primary_metric)
    selection, lacking = selection_metric_for(primary_metric, table.runs, table.metric_names)
    metric = ranking_metric_for(selection, table.metric_names)
    held_out = held_out_metric_for(metric, table.metric_names)
    runs, configs = table.runs, table.configs.copy()
    if metric not in runs:  # nothing has finished yet: every score is unknown
        runs = runs.assign(**{metric: math.nan})
    _add_missing_aggregates(configs, {primary_metric, selection, metric, held_out} - {None})
    mean_column = f"{metric}_mean"
    completed = runs[runs["status"] == COMPLETED]
    baseline, halving = table.baseline_config_id, getattr(table, "halving", None)
    ranked = _ranked(configs, completed, metric, baseline, higher_is_better, halving is not None)
    reference_columns = reference_metrics(completed, primary_metric)
    references, reference_detectors = reference_means(completed, reference_columns)
    if reference_columns:
        # a reference is the test split's: the test mean over it, whatever the ranking is on
        top = reference_columns[next(reversed(reference_columns))]
        ranked["fraction_of_reference"] = ranked[f"{held_out or metric}_mean"] / ranked[f"{top}_mean"]
    # halving: configurations trained for different epochs; averaging across them would mislead
    factor_columns = {} if halving is not None else table.factor_columns
    balanced = is_balanced_grid(ranked, factor_columns, mean_column)
    effects = main_effects(ranked, factor_columns, table.factor_levels, mean_column, baseline, balanced)
    at_baseline = baseline_levels(configs, baseline, list(factor_columns.values()))
    trends = factor_trends(completed, factor_columns, table.factor_levels, metric, at_baseline)
    best_config, best_run, baseline_run = _best_and_baseline_runs(ranked, completed, baseline, metric, higher_is_better)
    n_scored = int(completed[primary_metric].notna().sum()) if primary_metric in completed else 0
    return LeaderboardStats(
        primary_metric=primary_metric,
        selection_metric=selection,
        ranking_metric=metric,
        held_out_metric=held_out,
        runs_without_validation=lacking,
        n_scored_runs=n_scored,
        higher_is_better=bool(higher_is_better),
        balanced_grid=balanced,
        references=references,
        reference_detectors=reference_detectors,
        ranked=ranked,
        main_effects=effects,
        trends=trends,
        baseline_config_id=baseline,
        best_config_id=best_config,
        best_run_id=best_run,
        baseline_run_id=baseline_run,
    )


def _ranked(
    configs: pd.DataFrame,
    completed: pd.DataFrame,
    metric: str,
    baseline: str | None,
    higher_is_better: bool,
    by_rung: bool,
) -> pd.DataFrame:
    """The configurations compared with the baseline and ranked; for successive halving
    (``by_rung``) compared only within a rung and ranked within the highest rung reached."""
    mean_column = f"{metric}_mean"
    comparison = compare_to_baseline(
        configs.set_index("config_id")[mean_column], seed_matrix(completed, metric), baseline
    )
    if by_rung:
        comparison = within_rung(comparison, configs, baseline)
    rank = rank_by_rung if by_rung else rank_configs
    # one block per dtype again: a sweep recording many metrics leaves the joined frame fragmented
    return rank(configs.join(comparison, on="config_id"), mean_column, higher_is_better).copy()


def _add_missing_aggregates(configs: pd.DataFrame, metrics: set[str]) -> None:
    """Give ``configs`` empty mean/std/n columns for metrics no completed run has scored yet."""
    for name in metrics:
        for column, empty in ((f"{name}_mean", math.nan), (f"{name}_std", math.nan), (f"{name}_n", 0)):
            if column not in configs:
                configs[column] = empty


def _best_and_baseline_runs(
    ranked: pd.DataFrame, completed: pd.DataFrame, baseline: str | None, metric: str, higher_is_better: bool
) -> tuple[str | None, str | None, str | None]:
    """(best configuration, its best run, the baseline's run of that run's seed): the runs the
    diagnostics compare."""
    best_config = ranked["config_id"].iloc[0] if len(ranked) and pd.notna(ranked["rank"].iloc[0]) else None
    best_run = best_run_of(completed, best_config, metric, higher_is_better, seed=None)
    best_seed = completed.loc[completed["run_id"] == best_run, "seed"].iloc[0] if best_run else None
    return best_config, best_run, best_run_of(completed, baseline, metric, higher_is_better, seed=best_seed)


def reference_metrics(completed: pd.DataFrame, primary_metric: str) -> dict[str, str]:
    """The references the completed runs recorded for the primary metric: {reference: column}, in
    REFERENCE_PREFIXES' order (the last one, pooled, is the top reference); a record from before
    the references holds ``limit_<metric>``, the per-channel reference without the jitter's share."""
    present = {name: f"{prefix}{primary_metric}" for name, prefix in REFERENCE_PREFIXES.items()}
    present = {
        name: column for name, column in present.items() if column in completed and completed[column].notna().any()
    }
    legacy = f"{LEGACY_LIMIT_PREFIX}{primary_metric}"
    if not present and legacy in completed and completed[legacy].notna().any():
        present = {"per_channel": legacy}
    return present


def reference_means(
    completed: pd.DataFrame, reference_columns: dict[str, str]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Each reference's mean over the completed runs, overall and per detector (the
    ``<column>_<detector>`` twins the runs recorded)."""
    overall = {name: float(completed[column].mean()) for name, column in reference_columns.items()}
    by_detector = {
        name: {
            detector: float(completed[f"{column}_{detector}"].mean())
            for detector in DETECTORS
            if f"{column}_{detector}" in completed
        }
        for name, column in reference_columns.items()
    }
    return overall, by_detector


def rank_configs(configs: pd.DataFrame, mean_column: str, higher_is_better: bool) -> pd.DataFrame:
    """Configs sorted best first by ``mean_column``; those without a value last, rank <NA>."""
    scored = configs[configs[mean_column].notna()].sort_values(
        mean_column, ascending=not higher_is_better, kind="mergesort"
    )
    unscored = configs[configs[mean_column].isna()]
    ranked = pd.concat([scored, unscored], ignore_index=True)
    ranked.insert(0, "rank", pd.array(list(range(1, len(scored) + 1)) + [pd.NA] * len(unscored), dtype="Int64"))
    return ranked


def rank_by_rung(configs: pd.DataFrame, mean_column: str, higher_is_better: bool) -> pd.DataFrame:
    """Successive halving: the configurations of the highest rung reached ranked as `rank_configs`
    ranks them; every other one after them, rank <NA>, by the rung it stopped at (highest first),
    then by ``mean_column`` (its score at that rung's end), configurations never launched last."""
    if configs[RUNG_COLUMN].isna().all():  # no rung recorded yet: nothing to tell apart
        return rank_configs(configs, mean_column, higher_is_better)
    at_top = (configs[RUNG_COLUMN] == configs[RUNG_COLUMN].max()).fillna(False).astype(bool)
    stopped = configs[~at_top].sort_values(
        [RUNG_COLUMN, mean_column], ascending=[False, not higher_is_better], na_position="last", kind="mergesort"
    )
    stopped = stopped.assign(rank=pd.array([pd.NA] * len(stopped), dtype="Int64"))
    ranked = rank_configs(configs[at_top], mean_column, higher_is_better)
    return pd.concat([ranked, stopped[ranked.columns]], ignore_index=True)


def best_run_of(
    completed_runs: pd.DataFrame, config_id: str | None, metric: str, higher_is_better: bool, seed: object | None
) -> str | None:
    """The run of ``config_id`` with ``seed`` if it has a value, else its best-scoring run."""
    if config_id is None or metric not in completed_runs:
        return None
    runs = completed_runs[(completed_runs["config_id"] == config_id) & completed_runs[metric].notna()]
    if runs.empty:
        return None
    if seed is not None and pd.notna(seed):
        same_seed = runs[runs["seed"] == seed]
        if len(same_seed):
            return str(same_seed["run_id"].iloc[0])
    order = runs[metric].to_numpy(dtype=float)
    return str(runs["run_id"].iloc[int(np.argmax(order) if higher_is_better else np.argmin(order))])
