"""Ablation statistics against independent computations (numpy, scipy) on known numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from spectramind.errors import ConfigurationError
from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.paired import paired_tests
from spectramind.leaderboard.stats import compute_stats, default_higher_is_better

from .synthetic_sweep import FakeRun

SEEDS = [0, 1, 2, 3, 4, 5, 6]
BASELINE = [0.50, 0.52, 0.49, 0.51, 0.53, 0.50, 0.48]
BETTER = [0.55, 0.56, 0.52, 0.57, 0.55, 0.56, 0.50]  # seed 6 of this variant failed (see below)
WORSE = [0.47, 0.50, 0.45, 0.49, 0.52, 0.46, 0.47]


def _ofat_sweep(sweep_factory):
    """OFAT over model (cnn1d = baseline, mlp) and lr (0.001 = baseline, 0.01), 7 seeds."""
    factors = {"model": ["cnn1d", "mlp"], "lr": ["0.001", "0.01"]}
    runs = []
    for seed, base, better, worse in zip(SEEDS, BASELINE, BETTER, WORSE):
        runs.append(
            FakeRun(
                {"model": "cnn1d", "lr": "0.001"},
                seed,
                metrics={"adc2025": base, "rmse_ppm": 100 - 100 * base},
                is_baseline=True,
            )
        )
        if seed == 6:
            runs.append(
                FakeRun({"model": "mlp", "lr": "0.001"}, seed, status="failed", error={"type": "E", "message": "boom"})
            )
        else:
            runs.append(
                FakeRun(
                    {"model": "mlp", "lr": "0.001"}, seed, metrics={"adc2025": better, "rmse_ppm": 100 - 100 * better}
                )
            )
        runs.append(
            FakeRun({"model": "cnn1d", "lr": "0.01"}, seed, metrics={"adc2025": worse, "rmse_ppm": 100 - 100 * worse})
        )
    return sweep_factory(factors, runs, baseline={"model": "cnn1d", "lr": "0.001"}, design="ofat")


def test_paired_tests_match_scipy():
    baseline = pd.Series(BASELINE, index=SEEDS)
    variants = pd.DataFrame([BETTER, WORSE], index=["better", "worse"], columns=SEEDS)
    result = paired_tests(baseline, variants)
    for name, values in (("better", BETTER), ("worse", WORSE)):
        t = scipy_stats.ttest_rel(values, BASELINE)
        w = scipy_stats.wilcoxon(np.subtract(values, BASELINE))
        assert result.loc[name, "n_pairs"] == len(SEEDS)
        assert result.loc[name, "p_ttest"] == pytest.approx(t.pvalue, rel=1e-12)
        assert result.loc[name, "t_statistic"] == pytest.approx(t.statistic, rel=1e-12)
        assert result.loc[name, "p_wilcoxon"] == pytest.approx(w.pvalue, rel=1e-12)
        assert result.loc[name, "mean_paired_difference"] == pytest.approx(np.mean(np.subtract(values, BASELINE)))


def test_pairs_are_matched_by_seed_not_position():
    baseline = pd.Series([1.0, 2.0, 4.0], index=[10, 20, 30])
    variant = pd.DataFrame([[4.5, np.nan, 2.5, 9.0]], columns=[30, 40, 20, 10])  # seed 40 has no baseline
    result = paired_tests(baseline, variant).iloc[0]
    expected = scipy_stats.ttest_rel([9.0, 2.5, 4.5], [1.0, 2.0, 4.0])
    assert result["n_pairs"] == 3
    assert result["p_ttest"] == pytest.approx(expected.pvalue)
    assert math.isnan(result["p_wilcoxon"])  # fewer than 6 pairs


def test_p_values_are_nan_with_one_pair_or_zero_variance():
    baseline = pd.Series([0.5, 0.6, 0.7], index=[0, 1, 2])
    variants = pd.DataFrame(
        [[0.9, np.nan, np.nan], [0.6, 0.7, 0.8]], index=["one_pair", "constant_shift"], columns=[0, 1, 2]
    )
    result = paired_tests(baseline, variants)
    assert result.loc["one_pair", "n_pairs"] == 1
    assert math.isnan(result.loc["one_pair", "p_ttest"])
    assert result.loc["constant_shift", "mean_paired_difference"] == pytest.approx(0.1)
    assert math.isnan(result.loc["constant_shift", "p_ttest"])


def test_wilcoxon_from_six_pairs_only():
    rng = np.random.default_rng(3)
    base = rng.normal(size=6)
    shifted = base + rng.normal(0.5, 0.2, size=6)
    five = paired_tests(pd.Series(base[:5]), pd.DataFrame([shifted[:5]]))
    six = paired_tests(pd.Series(base), pd.DataFrame([shifted]))
    assert math.isnan(five.iloc[0]["p_wilcoxon"])
    assert six.iloc[0]["p_wilcoxon"] == pytest.approx(scipy_stats.wilcoxon(shifted - base).pvalue)


def test_compute_stats_delta_and_paired_p_from_disk(sweep_factory):
    sweep = _ofat_sweep(sweep_factory)
    stats = compute_stats(collate_runs(sweep.dir))
    ranked = stats.ranked.set_index("label")
    better = ranked.loc["model=mlp, lr=0.001"]
    # delta of means uses every completed seed of each config; the test only the paired seeds
    assert better["delta"] == pytest.approx(np.mean(BETTER[:6]) - np.mean(BASELINE))
    assert better["n_pairs"] == 6
    expected_t = scipy_stats.ttest_rel(BETTER[:6], BASELINE[:6])
    assert better["p_ttest"] == pytest.approx(expected_t.pvalue)
    assert better["p_wilcoxon"] == pytest.approx(scipy_stats.wilcoxon(np.subtract(BETTER[:6], BASELINE[:6])).pvalue)
    worse = ranked.loc["model=cnn1d, lr=0.01"]
    assert worse["n_pairs"] == 7
    assert worse["p_ttest"] == pytest.approx(scipy_stats.ttest_rel(WORSE, BASELINE).pvalue)
    baseline = ranked.loc["model=cnn1d, lr=0.001"]
    assert baseline["delta"] == 0 and math.isnan(baseline["p_ttest"])


def test_ranking_follows_metric_direction(sweep_factory):
    sweep = _ofat_sweep(sweep_factory)
    table = collate_runs(sweep.dir)
    by_score = compute_stats(table, "adc2025")
    assert by_score.higher_is_better
    assert list(by_score.ranked["label"]) == ["model=mlp, lr=0.001", "model=cnn1d, lr=0.001", "model=cnn1d, lr=0.01"]
    by_error = compute_stats(table, "rmse_ppm")
    assert not by_error.higher_is_better
    assert list(by_error.ranked["rank"]) == [1, 2, 3]
    assert by_error.ranked["rmse_ppm_mean"].is_monotonic_increasing
    reversed_score = compute_stats(table, "adc2025", higher_is_better=False)
    assert list(reversed_score.ranked["label"]) == list(reversed(by_score.ranked["label"]))


def test_best_and_baseline_runs_share_a_seed(sweep_factory):
    sweep = _ofat_sweep(sweep_factory)
    stats = compute_stats(collate_runs(sweep.dir))
    best_seed = int(np.argmax(BETTER[:6]))
    assert stats.best_run_id == next(
        r.run_id for r in sweep.runs if r.factors["model"] == "mlp" and r.seed == best_seed
    )
    assert stats.baseline_run_id == next(r.run_id for r in sweep.runs if r.is_baseline and r.seed == best_seed)


def test_main_effects_on_a_grid(sweep_factory):
    means = {("a", "x"): 0.2, ("a", "y"): 0.4, ("b", "x"): 0.5, ("b", "y"): 0.9}
    runs = [
        FakeRun({"f": f, "g": g}, seed, metrics={"adc2025": value + 0.01 * seed}, is_baseline=(f, g) == ("a", "x"))
        for (f, g), value in means.items()
        for seed in (0, 1)
    ]
    sweep = sweep_factory({"f": ["a", "b"], "g": ["x", "y"]}, runs, baseline={"f": "a", "g": "x"})
    effects = compute_stats(collate_runs(sweep.dir)).main_effects.set_index(["factor", "level"])
    config_means = {k: v + 0.005 for k, v in means.items()}
    grand = np.mean(list(config_means.values()))
    level_b = np.mean([config_means[("b", "x")], config_means[("b", "y")]])
    assert effects.loc[("f", "b"), "effect"] == pytest.approx(level_b - grand)
    assert effects.loc[("f", "b"), "n_configs"] == 2
    # the one-factor contrast: f=b with g at its baseline level x, minus the baseline (a, x)
    assert effects.loc[("f", "b"), "delta_vs_baseline"] == pytest.approx(
        config_means[("b", "x")] - config_means[("a", "x")]
    )
    assert effects.loc[("g", "y"), "delta_vs_baseline"] == pytest.approx(
        config_means[("a", "y")] - config_means[("a", "x")]
    )
    assert list(effects.loc["f"].index) == ["a", "b"]


def test_trends_use_the_baseline_slice_with_std_over_seeds(sweep_factory):
    sweep = _ofat_sweep(sweep_factory)
    trends = compute_stats(collate_runs(sweep.dir)).trends.set_index(["factor", "level"])
    assert set(trends["scope"]) == {"others at baseline"}
    assert trends.loc[("lr", "0.01"), "mean"] == pytest.approx(np.mean(WORSE))
    assert trends.loc[("lr", "0.01"), "std"] == pytest.approx(np.std(WORSE, ddof=1))
    assert trends.loc[("model", "mlp"), "n"] == 6


def test_trends_without_baseline_are_marginal_over_seeds(sweep_factory):
    values = {("a", "x"): [1.0, 2.0], ("a", "y"): [3.0, 6.0], ("b", "x"): [0.0, 0.0], ("b", "y"): [1.0, 1.0]}
    runs = [
        FakeRun({"f": f, "g": g}, seed, metrics={"adc2025": v[seed]}) for (f, g), v in values.items() for seed in (0, 1)
    ]
    sweep = sweep_factory({"f": ["a", "b"], "g": ["x", "y"]}, runs)
    trends = compute_stats(collate_runs(sweep.dir)).trends.set_index(["factor", "level"])
    per_seed_a = [np.mean([1.0, 3.0]), np.mean([2.0, 6.0])]  # seed 0, seed 1 averages over g
    assert trends.loc[("f", "a"), "scope"] == "marginal"
    assert trends.loc[("f", "a"), "mean"] == pytest.approx(np.mean(per_seed_a))
    assert trends.loc[("f", "a"), "std"] == pytest.approx(np.std(per_seed_a, ddof=1))


def test_no_baseline_means_no_deltas(sweep_factory):
    runs = [FakeRun({"f": f}, seed) for f in ("a", "b") for seed in (0, 1)]
    stats = compute_stats(collate_runs(sweep_factory({"f": ["a", "b"]}, runs).dir))
    assert stats.baseline_config_id is None
    assert stats.ranked["delta"].isna().all() and stats.ranked["p_ttest"].isna().all()


def test_unknown_primary_metric_is_a_configuration_error(sweep_factory):
    sweep = _ofat_sweep(sweep_factory)
    with pytest.raises(ConfigurationError, match="adc2099"):
        compute_stats(collate_runs(sweep.dir), "adc2099")


def test_sweep_without_any_completed_run(sweep_factory):
    runs = [FakeRun({"f": "a"}, 0, status="running"), FakeRun({"f": "b"}, 0, status="pending", has_dir=False)]
    stats = compute_stats(collate_runs(sweep_factory({"f": ["a", "b"]}, runs).dir))
    assert stats.best_config_id is None and stats.best_run_id is None
    assert stats.ranked["rank"].isna().all()


@pytest.mark.parametrize(
    "metric, higher",
    [
        ("adc2025", True),
        ("gll", True),
        ("coverage_1sigma", True),
        ("rmse_ppm", False),
        ("mae_ppm", False),
        ("best_val_loss", False),
        ("violations_total", False),
        ("train_time_s", False),
    ],
)
def test_default_direction(metric, higher):
    assert default_higher_is_better(metric) is higher


def test_a_balanced_grid_is_recognised_and_an_incomplete_one_is_not(sweep_factory):
    full = [
        FakeRun({"f": f, "g": g}, seed, metrics={"adc2025": 0.3 + seed / 100}, is_baseline=(f, g) == ("a", "x"))
        for f in ("a", "b")
        for g in ("x", "y")
        for seed in (0, 1)
    ]
    sweep = sweep_factory({"f": ["a", "b"], "g": ["x", "y"]}, full, baseline={"f": "a", "g": "x"})
    assert compute_stats(collate_runs(sweep.dir)).balanced_grid
    holed = [r for r in full if (r.factors["f"], r.factors["g"]) != ("b", "y")]
    sweep = sweep_factory({"f": ["a", "b"], "g": ["x", "y"]}, holed, baseline={"f": "a", "g": "x"})
    stats = compute_stats(collate_runs(sweep.dir))
    assert not stats.balanced_grid
    assert stats.main_effects["effect"].isna().all()  # an average over levels would mislead here


def test_ofat_effects_are_differences_to_the_baseline_with_a_paired_interval(sweep_factory):
    stats = compute_stats(collate_runs(_ofat_sweep(sweep_factory).dir))
    assert not stats.balanced_grid
    effects = stats.main_effects.set_index(["factor", "level"])
    assert effects["effect"].isna().all()
    differences = np.array(BETTER[:6]) - np.array(BASELINE[:6])  # seed 6 of mlp failed: 6 pairs
    low, high = scipy_stats.t.interval(
        0.95, len(differences) - 1, loc=differences.mean(), scale=scipy_stats.sem(differences)
    )
    mlp = effects.loc[("model", "mlp")]
    assert (mlp["ci_low"], mlp["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert mlp["n_pairs"] == 6
    assert mlp["delta_vs_baseline"] == pytest.approx(np.mean(BETTER[:6]) - np.mean(BASELINE))
    worse = np.array(WORSE) - np.array(BASELINE)
    assert effects.loc[("lr", "0.01"), "ci_high"] == pytest.approx(
        scipy_stats.t.interval(0.95, 6, loc=worse.mean(), scale=scipy_stats.sem(worse))[1]
    )
    assert math.isnan(effects.loc[("model", "cnn1d"), "ci_low"])  # the baseline against itself
    # a level's mean is that of the configuration changing only this factor, not an average over
    # configurations that mix in the other factor's levels
    assert effects.loc[("model", "cnn1d"), "mean"] == pytest.approx(np.mean(BASELINE))
    assert effects.loc[("lr", "0.01"), "mean"] == pytest.approx(np.mean(WORSE))


def test_clipped_scores_are_ranked_and_tested_on_their_unclipped_values(sweep_factory):
    """Three configurations below the naive baseline: the official score clips all of them to 0."""
    unclipped = {"a": [-0.10, -0.12, -0.11], "b": [-0.50, -0.45, -0.55], "c": [-0.02, -0.03, -0.01]}
    runs = [
        FakeRun({"f": f}, seed, metrics={"adc2025": 0.0, "adc2025_unclipped": value}, is_baseline=f == "a")
        for f, values in unclipped.items()
        for seed, value in enumerate(values)
    ]
    table = collate_runs(sweep_factory({"f": ["a", "b", "c"]}, runs, baseline={"f": "a"}).dir)
    stats = compute_stats(table, "adc2025")
    assert (stats.primary_metric, stats.ranking_metric) == ("adc2025", "adc2025_unclipped")
    assert list(stats.ranked["label"]) == ["f=c", "f=a", "f=b"]
    ranked = stats.ranked.set_index("label")
    expected = scipy_stats.ttest_rel(unclipped["b"], unclipped["a"]).pvalue
    assert ranked.loc["f=b", "p_ttest"] == pytest.approx(expected)
    assert ranked.loc["f=b", "delta"] == pytest.approx(np.mean(unclipped["b"]) - np.mean(unclipped["a"]))
    assert (ranked["adc2025_mean"] == 0.0).all()  # the clipped score is still there, to show beside it
    assert stats.clipped_mean_column == "adc2025_mean"
    assert compute_stats(table, "adc2025_unclipped").clipped_mean_column is None


def test_a_score_recorded_without_its_unclipped_twin_is_ranked_as_it_is(sweep_factory):
    stats = compute_stats(collate_runs(_ofat_sweep(sweep_factory).dir), "adc2025")
    assert stats.ranking_metric == "adc2025" and stats.clipped_mean_column is None
