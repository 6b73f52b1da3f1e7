"""Diagnostics against numpy/scipy, the violation rules on constructed spectra, and the report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import norm

from spectramind.errors import ConfigurationError
from spectramind.metrics.diagnostics import (
    VIOLATION_RULES,
    IntervalCoverage,
    MaePpm,
    PredictiveEntropy,
    RmsePpm,
    SpectrumMetrics,
    SymbolicViolations,
    ZScoreStd,
    calibration_curve,
    evaluate_predictions,
    interval_coverage,
    mae_ppm,
    per_wavelength_gll,
    predictive_entropy,
    rmse_ppm,
    symbolic_violations,
    violation_masks,
    z_score_std,
)
from spectramind.metrics.gll import ariel_score

N_WL = 283
DOCUMENTED_KEYS = [
    "adc2025",
    "adc2025_unclipped",
    "adc2024",
    "adc2024_unclipped",
    "adc2025_fgs1",
    "adc2025_airs",
    "gll",
    "rmse_ppm",
    "mae_ppm",
    "z_std",
    "coverage_1sigma",
    "coverage_2sigma",
    "entropy",
    "violations_total",
    "violations_non_finite",
    "violations_sigma_nonpositive",
    "violations_negative_depth",
    "violations_isolated_spike",
]


def smooth_spectra(rng, n_planets):
    """Plausible noise-free spectra: a depth level, a slope and a few molecular bands (3-40 bins wide)."""
    x = np.linspace(0.0, 1.0, N_WL - 1)
    spectra = np.empty((n_planets, N_WL))
    for i in range(n_planets):
        airs = rng.uniform(3e-3, 1e-2) + rng.uniform(-3e-4, 3e-4) * x
        for _ in range(rng.integers(1, 6)):
            centre, width = rng.uniform(), rng.uniform(3, 40) / (N_WL - 1)
            airs = airs + rng.uniform(-5e-4, 5e-4) * np.exp(-0.5 * ((x - centre) / width) ** 2)
        spectra[i, 1:] = airs
        spectra[i, 0] = airs.mean()
    return spectra


def calibrated_case(seed, n_planets=60):
    rng = np.random.default_rng(seed)
    y = rng.uniform(1e-3, 1e-2, size=(n_planets, N_WL))
    sigma = 10 ** rng.uniform(-5, -3, size=y.shape)
    mu = y + rng.normal(size=y.shape) * sigma
    return y, mu, sigma


@pytest.mark.parametrize("seed", [0, 1])
def test_functional_diagnostics_match_numpy(seed):
    y, mu, sigma = calibrated_case(seed)
    z = (y - mu) / sigma
    assert float(rmse_ppm(y, mu)) == pytest.approx(np.sqrt(np.mean((y - mu) ** 2)) * 1e6, rel=1e-12)
    assert float(mae_ppm(y, mu)) == pytest.approx(np.mean(np.abs(y - mu)) * 1e6, rel=1e-12)
    assert float(z_score_std(y, mu, sigma)) == pytest.approx(np.std(z), rel=1e-10)
    assert float(interval_coverage(y, mu, sigma, 1.0)) == pytest.approx(np.mean(np.abs(z) <= 1.0), abs=1e-15)
    assert float(interval_coverage(y, mu, sigma, 2.0)) == pytest.approx(np.mean(np.abs(z) <= 2.0), abs=1e-15)
    assert float(predictive_entropy(sigma)) == pytest.approx(np.mean(norm.entropy(scale=sigma)), rel=1e-12)
    expected_per_wavelength = norm.logpdf(y, mu, sigma).mean(axis=0)
    np.testing.assert_allclose(per_wavelength_gll(y, mu, sigma).numpy(), expected_per_wavelength, rtol=1e-12)


def test_calibration_curve_matches_numpy_and_is_near_diagonal_when_calibrated():
    y, mu, sigma = calibrated_case(2, n_planets=200)
    levels = [0.2, 0.5, 0.683, 0.9, 0.99]
    nominal, observed = calibration_curve(y, mu, sigma, levels)
    half_widths = norm.ppf(0.5 + np.asarray(levels) / 2)
    expected = [np.mean(np.abs(y - mu) <= k * sigma) for k in half_widths]
    np.testing.assert_allclose(nominal.numpy(), levels)
    np.testing.assert_allclose(observed.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(observed.numpy(), levels, atol=0.01)


def test_calibration_curve_shows_overconfidence():
    y, mu, sigma = calibrated_case(3, n_planets=100)
    _, observed = calibration_curve(y, mu, sigma / 3)
    nominal, calibrated = calibration_curve(y, mu, sigma)
    assert bool((observed < calibrated - 0.05).all())
    assert len(nominal) == len(observed)


def test_calibration_levels_outside_unit_interval_are_rejected():
    y, mu, sigma = calibrated_case(0, n_planets=2)
    with pytest.raises(ConfigurationError, match="1.5"):
        calibration_curve(y, mu, sigma, [0.5, 1.5])


def test_batched_metrics_equal_functional_twins():
    y, mu, sigma = calibrated_case(4, n_planets=45)
    pairs = [
        (RmsePpm(), lambda: rmse_ppm(y, mu)),
        (MaePpm(), lambda: mae_ppm(y, mu)),
        (ZScoreStd(), lambda: z_score_std(y, mu, sigma)),
        (IntervalCoverage(1.0), lambda: interval_coverage(y, mu, sigma, 1.0)),
        (IntervalCoverage(2.0), lambda: interval_coverage(y, mu, sigma, 2.0)),
        (PredictiveEntropy(), lambda: predictive_entropy(sigma)),
    ]
    for metric, functional in pairs:
        for start, stop in [(0, 3), (3, 30), (30, 45)]:
            metric.update(*(torch.from_numpy(a[start:stop]) for a in (y, mu, sigma)))
        assert float(metric.compute()) == pytest.approx(float(functional()), rel=1e-12), type(metric).__name__


# ---- violation rules ----


def test_rule_set_is_named_data():
    assert list(VIOLATION_RULES) == ["non_finite", "sigma_nonpositive", "negative_depth", "isolated_spike"]
    assert all(isinstance(description, str) and description for description in VIOLATION_RULES.values())


def test_clean_and_noisy_plausible_spectra_have_no_violations():
    rng = np.random.default_rng(20)
    clean = smooth_spectra(rng, 300)
    sigma = np.full(clean.shape, 5e-5)
    noise_level = 5e-5 * (1.0 + 3.0 * np.linspace(-1.0, 1.0, N_WL) ** 2)  # noisier towards the band edges
    noisy = clean + rng.normal(size=clean.shape) * noise_level
    for mu in (clean, noisy, clean.astype(np.float32)):
        counts = symbolic_violations(mu, sigma)
        assert {rule: int(count) for rule, count in counts.items()} == dict.fromkeys(VIOLATION_RULES, 0)


def test_each_rule_fires_on_its_constructed_case():
    rng = np.random.default_rng(21)
    mu = smooth_spectra(rng, 4)
    sigma = np.full(mu.shape, 5e-5)
    mu[0, 10] = np.nan
    sigma[1, 20] = np.inf
    sigma[2, 30] = 0.0
    sigma[2, 31] = -1e-5
    mu[3, 0] = -1e-4
    masks = violation_masks(mu, sigma)
    assert [tuple(index) for index in torch.nonzero(masks["non_finite"]).tolist()] == [(0, 10), (1, 20)]
    assert [tuple(index) for index in torch.nonzero(masks["sigma_nonpositive"]).tolist()] == [(2, 30), (2, 31)]
    assert [tuple(index) for index in torch.nonzero(masks["negative_depth"]).tolist()] == [(3, 0)]
    assert {rule: int(count) for rule, count in symbolic_violations(mu, sigma).items()} == {
        "non_finite": 2,
        "sigma_nonpositive": 2,
        "negative_depth": 1,
        "isolated_spike": 0,
    }


@pytest.mark.parametrize("column", [2, 3, 150, 281])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_single_spike_fires_once_on_a_smooth_spectrum(column, sign):
    mu = smooth_spectra(np.random.default_rng(column), 1)
    mu[0, column] += sign * 3e-4
    mask = violation_masks(mu, np.full(mu.shape, 5e-5))["isolated_spike"]
    assert torch.nonzero(mask).tolist() == [[0, column]]


def test_spike_fires_on_a_noisy_spectrum_but_a_step_does_not():
    rng = np.random.default_rng(22)
    noise = 3e-5
    mu = smooth_spectra(rng, 2) + rng.normal(size=(2, N_WL)) * noise
    mu[0, 100] += 40 * noise
    mu[1, 100:] += 40 * noise  # a jump between two levels is not an isolated spike
    mask = violation_masks(mu, np.full(mu.shape, 5e-5))["isolated_spike"]
    assert torch.nonzero(mask).tolist() == [[0, 100]]


def test_fgs1_column_is_not_an_airs_neighbour():
    mu = smooth_spectra(np.random.default_rng(23), 1)
    mu[0, 0] = mu[0, 1] + 2e-3
    assert int(symbolic_violations(mu, np.full(mu.shape, 5e-5))["isolated_spike"]) == 0


def test_violation_metric_accumulates_counts():
    rng = np.random.default_rng(24)
    mu = smooth_spectra(rng, 6)
    sigma = np.full(mu.shape, 5e-5)
    mu[1, 50] += 1e-3
    mu[4, 0] = -1e-5  # FGS1: a negative depth there is not also an AIRS spike
    sigma[5, 9] = 0.0
    metric = SymbolicViolations()
    metric.update(torch.from_numpy(mu[:3]), torch.from_numpy(mu[:3]), torch.from_numpy(sigma[:3]))
    metric.update(torch.from_numpy(mu[3:]), torch.from_numpy(mu[3:]), torch.from_numpy(sigma[3:]))
    counts = {rule: int(count) for rule, count in metric.compute().items()}
    assert counts == {"non_finite": 0, "sigma_nonpositive": 1, "negative_depth": 1, "isolated_spike": 1}


# ---- the aggregate report ----


def test_evaluate_predictions_has_exactly_the_documented_keys_and_values():
    y, mu, sigma = calibrated_case(5)
    mu[0, 40] = -1e-4
    train = np.random.default_rng(5).uniform(1e-3, 1e-2, size=(100, N_WL))
    report = evaluate_predictions(y, mu, sigma, train.mean(), train.std())
    assert list(report) == DOCUMENTED_KEYS
    assert all(isinstance(value, float) for value in report.values())
    z = (y - mu) / sigma
    unclipped_2025 = float(ariel_score(y, mu, sigma, train.mean(), train.std(), "adc2025", clip=False))
    unclipped_2024 = float(ariel_score(y, mu, sigma, train.mean(), train.std(), "adc2024", clip=False))
    assert report["adc2025_unclipped"] == pytest.approx(unclipped_2025, rel=1e-12)
    assert report["adc2025"] == pytest.approx(min(max(unclipped_2025, 0.0), 1.0), rel=1e-12)
    assert report["adc2024_unclipped"] == pytest.approx(unclipped_2024, rel=1e-12)
    # per detector: the mean adc2025 cell score over FGS1's cell and over AIRS's, from scipy's log-pdf
    sigma_true = np.r_[1e-6, np.full(N_WL - 1, 1e-5)]
    naive = norm.logpdf(y, train.mean(), train.std())
    cells = (norm.logpdf(y, mu, sigma) - naive) / (norm.logpdf(y, y, sigma_true * np.ones_like(y)) - naive)
    assert report["adc2025_fgs1"] == pytest.approx(cells[:, 0].mean(), rel=1e-10)
    assert report["adc2025_airs"] == pytest.approx(cells[:, 1:].mean(), rel=1e-10)
    assert (57.846 * report["adc2025_fgs1"] + 282 * report["adc2025_airs"]) / 339.846 == pytest.approx(
        unclipped_2025, rel=1e-10
    )
    assert report["gll"] == pytest.approx(norm.logpdf(y, mu, sigma).mean(), rel=1e-12)
    assert report["rmse_ppm"] == pytest.approx(np.sqrt(np.mean((y - mu) ** 2)) * 1e6, rel=1e-12)
    assert report["mae_ppm"] == pytest.approx(np.mean(np.abs(y - mu)) * 1e6, rel=1e-12)
    assert report["z_std"] == pytest.approx(np.std(z), rel=1e-10)
    assert report["coverage_1sigma"] == pytest.approx(np.mean(np.abs(z) <= 1), abs=1e-15)
    assert report["coverage_2sigma"] == pytest.approx(np.mean(np.abs(z) <= 2), abs=1e-15)
    assert report["entropy"] == pytest.approx(np.mean(norm.entropy(scale=sigma)), rel=1e-12)
    negative = int(np.sum(mu < 0))
    assert report["violations_negative_depth"] == negative >= 1
    assert report["violations_total"] == sum(report[f"violations_{rule}"] for rule in VIOLATION_RULES)


def test_spectrum_metrics_over_batches_equals_evaluate_predictions():
    y, mu, sigma = calibrated_case(6, n_planets=37)
    mu[3, 60] += 5e-3
    naive_mean, naive_std = 5e-3, 2.5e-3
    metrics = SpectrumMetrics(naive_mean, naive_std)
    for start, stop in [(0, 8), (8, 16), (16, 37)]:
        batch = [torch.from_numpy(a[start:stop]).float() for a in (y, mu, sigma)]
        metrics.update(*batch)
    batched = metrics.compute()
    whole = evaluate_predictions(*(torch.from_numpy(a).float() for a in (y, mu, sigma)), naive_mean, naive_std)
    assert list(batched) == DOCUMENTED_KEYS
    for key in DOCUMENTED_KEYS:
        assert batched[key] == pytest.approx(whole[key], rel=1e-12, abs=1e-15), key
    metrics.reset()
    metrics.update(*(torch.from_numpy(a[:5]) for a in (y, mu, sigma)))
    first_five = evaluate_predictions(y[:5], mu[:5], sigma[:5], naive_mean, naive_std)
    assert metrics.compute()["rmse_ppm"] == pytest.approx(first_five["rmse_ppm"], rel=1e-12)


def test_module_wide_dtype_cast_does_not_degrade_the_sums():
    """Lightning's "bf16-true" casts every submodule with .to(dtype); the report must not change."""
    y, mu, sigma = calibrated_case(7, n_planets=10)
    naive_mean, naive_std = 5.123456789e-3, 2.6e-3
    metrics = SpectrumMetrics(naive_mean, naive_std).to(torch.bfloat16)
    metrics.update(*(torch.from_numpy(a) for a in (y, mu, sigma)))
    expected = evaluate_predictions(y, mu, sigma, naive_mean, naive_std)
    for key, value in metrics.compute().items():
        assert value == pytest.approx(expected[key], rel=1e-12, abs=1e-15), key
