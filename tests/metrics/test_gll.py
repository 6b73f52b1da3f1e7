"""The Ariel scores against an independent scipy/numpy implementation, plus their edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import norm

from spectramind.errors import ConfigurationError
from spectramind.metrics.gll import (
    ArielScore,
    GaussianLogLikelihood,
    ariel_score,
    gaussian_log_likelihood,
)

N_WL = 283


def reference_score(y, mu, sigma, naive_mean, naive_std, variant, clip):
    """Written from the challenge definitions with scipy, independently of spectramind."""
    sigma = np.clip(sigma, 1e-15, None)
    naive_mean = np.broadcast_to(naive_mean, y.shape)
    naive_std = np.broadcast_to(naive_std, y.shape)
    if variant == "adc2025":
        sigma_true = np.broadcast_to(np.concatenate([[1e-6], np.full(N_WL - 1, 1e-5)]), y.shape)
    else:
        sigma_true = np.full(y.shape, 1e-5)
    gll_pred = norm.logpdf(y, loc=mu, scale=sigma)
    gll_ideal = norm.logpdf(y, loc=y, scale=sigma_true)
    gll_naive = norm.logpdf(y, loc=naive_mean, scale=naive_std)
    if variant == "adc2025":
        weights = np.broadcast_to(np.concatenate([[57.846], np.ones(N_WL - 1)]), y.shape)
        score = np.average((gll_pred - gll_naive) / (gll_ideal - gll_naive), weights=weights)
    else:
        score = (gll_pred.sum() - gll_naive.sum()) / (gll_ideal.sum() - gll_naive.sum())
    return float(np.clip(score, 0.0, 1.0)) if clip else float(score)


def make_case(seed, n_planets=40, overconfident=False):
    """Realistic scales: depths 1e-3..1e-2, sigma log-uniform in 1e-5..1e-3."""
    rng = np.random.default_rng(seed)
    train = rng.uniform(1e-3, 1e-2, size=(200, N_WL))
    y = rng.uniform(1e-3, 1e-2, size=(n_planets, N_WL))
    sigma = 10 ** rng.uniform(-5, -3, size=y.shape)
    error_scale = 30.0 if overconfident else rng.uniform(0.5, 2.0)
    mu = y + rng.normal(size=y.shape) * sigma * error_scale
    return y, mu, sigma, train


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
@pytest.mark.parametrize("clip", [True, False])
def test_score_matches_independent_implementation(seed, variant, clip):
    y, mu, sigma, train = make_case(seed)
    naive_mean, naive_std = train.mean(), train.std()
    expected = reference_score(y, mu, sigma, naive_mean, naive_std, variant, clip)
    got = ariel_score(*(torch.from_numpy(a) for a in (y, mu, sigma)), naive_mean, naive_std, variant, clip)
    assert got.dtype == torch.float64
    assert float(got) == pytest.approx(expected, rel=1e-12, abs=1e-15)


NAIVE_FORMS = {
    "python floats": lambda m, s: (float(m), float(s)),
    "numpy scalars": lambda m, s: (np.float64(m), np.float64(s)),
    "0-d tensors": lambda m, s: (torch.tensor(m, dtype=torch.float64), torch.tensor(s, dtype=torch.float64)),
    "float32 arrays": lambda m, s: (np.full(N_WL, m, dtype=np.float32), np.full(N_WL, s, dtype=np.float32)),
}


@pytest.mark.parametrize("form", NAIVE_FORMS, ids=list(NAIVE_FORMS))
@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_naive_statistics_of_any_type_give_the_exact_score(form, variant):
    """The naive mean and std as the training labels' statistics arrive (Python floats from
    `naive_statistics` and the DataModule, numpy, tensors, float32 arrays): the score is the
    formula's for exactly those values, to 1e-12."""
    y, mu, sigma, train = make_case(7)
    naive_mean, naive_std = NAIVE_FORMS[form](train.mean(), train.std())
    expected = reference_score(
        y,
        mu,
        sigma,
        np.asarray(naive_mean, dtype=np.float64),
        np.asarray(naive_std, dtype=np.float64),
        variant,
        clip=False,
    )
    got = ariel_score(*(torch.from_numpy(a) for a in (y, mu, sigma)), naive_mean, naive_std, variant, clip=False)
    assert float(got) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_unclipped_score_outside_unit_interval_matches_reference(variant):
    y, mu, sigma, train = make_case(7, overconfident=True)
    unclipped = float(ariel_score(y, mu, sigma, train.mean(), train.std(), variant, clip=False))
    assert unclipped < 0.0
    expected = reference_score(y, mu, sigma, train.mean(), train.std(), variant, False)
    assert unclipped == pytest.approx(expected, rel=1e-9)
    assert float(ariel_score(y, mu, sigma, train.mean(), train.std(), variant, clip=True)) == 0.0


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_per_column_naive_statistics(variant):
    y, mu, sigma, train = make_case(11)
    naive_mean, naive_std = train.mean(axis=0), train.std(axis=0)
    expected = reference_score(y, mu, sigma, naive_mean, naive_std, variant, clip=False)
    got = ariel_score(y, mu, sigma, torch.from_numpy(naive_mean), naive_std, variant, clip=False)
    assert float(got) == pytest.approx(expected, rel=1e-9)


def test_gaussian_log_likelihood_elementwise():
    y, mu, sigma, _ = make_case(3)
    got = gaussian_log_likelihood(*(torch.from_numpy(a).float() for a in (y, mu, sigma)))
    y, mu, sigma = (a.astype(np.float32).astype(np.float64) for a in (y, mu, sigma))
    expected = norm.logpdf(y, mu, sigma)
    assert got.shape == y.shape and got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_perfect_prediction_scores_one():
    y, _, _, train = make_case(5)
    sigma_2025 = np.broadcast_to(np.concatenate([[1e-6], np.full(N_WL - 1, 1e-5)]), y.shape)
    score_2025 = ariel_score(y, y, sigma_2025, train.mean(), train.std(), "adc2025", clip=False)
    score_2024 = ariel_score(y, y, np.full(y.shape, 1e-5), train.mean(), train.std(), "adc2024", clip=False)
    assert float(score_2025) == pytest.approx(1.0, abs=1e-12)
    assert float(score_2024) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_naive_prediction_scores_zero(variant):
    y, _, _, train = make_case(6)
    naive_mean, naive_std = train.mean(), train.std()
    mu = np.full(y.shape, naive_mean)
    sigma = np.full(y.shape, naive_std)
    assert float(ariel_score(y, mu, sigma, naive_mean, naive_std, variant, clip=False)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_tiny_sigma_is_floored_and_stays_finite(variant):
    y, _, _, train = make_case(8)
    mu = y + 1e-4
    tiny = ariel_score(y, mu, np.full(y.shape, 1e-20), train.mean(), train.std(), variant, clip=False)
    at_floor = ariel_score(y, mu, np.full(y.shape, 1e-15), train.mean(), train.std(), variant, clip=False)
    zero = ariel_score(y, mu, np.zeros(y.shape), train.mean(), train.std(), variant, clip=False)
    assert torch.isfinite(tiny) and float(tiny) < 0.0
    assert float(tiny) == float(at_floor) == float(zero)
    assert float(ariel_score(y, mu, np.full(y.shape, 1e-20), train.mean(), train.std(), variant)) == 0.0


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_float32_inputs_match_float64_of_same_values(variant):
    y, mu, sigma, train = make_case(9)
    y32, mu32, sigma32 = (torch.from_numpy(a).float() for a in (y, mu, sigma))
    from_32 = ariel_score(y32, mu32, sigma32, train.mean(), train.std(), variant, clip=False)
    from_64 = ariel_score(y32.double(), mu32.double(), sigma32.double(), train.mean(), train.std(), variant, clip=False)
    assert float(from_32) == pytest.approx(float(from_64), rel=1e-9)


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
@pytest.mark.parametrize("clip", [True, False])
def test_batched_metric_equals_one_shot_functional(variant, clip):
    y, mu, sigma, train = make_case(10, n_planets=53)
    metric = ArielScore(train.mean(), train.std(), variant=variant, clip=clip)
    for start, stop in [(0, 1), (1, 17), (17, 40), (40, 53)]:
        metric.update(*(torch.from_numpy(a[start:stop]).float() for a in (y, mu, sigma)))
    whole = (torch.from_numpy(a).float() for a in (y, mu, sigma))
    one_shot = ariel_score(*whole, train.mean(), train.std(), variant, clip)
    assert float(metric.compute()) == pytest.approx(float(one_shot), rel=1e-12)
    metric.reset()
    metric.update(y[:5], mu[:5], sigma[:5])
    first_five = ariel_score(y[:5], mu[:5], sigma[:5], train.mean(), train.std(), variant, clip)
    assert float(metric.compute()) == pytest.approx(float(first_five), rel=1e-12)


def test_metric_states_merge_by_summing():
    """dist_reduce_fx='sum': two workers' states merged give the score of all data."""
    y, mu, sigma, train = make_case(12, n_planets=30)
    first = ArielScore(train.mean(), train.std(), clip=False)
    second = ArielScore(train.mean(), train.std(), clip=False)
    first.update(y[:10], mu[:10], sigma[:10])
    second.update(y[10:], mu[10:], sigma[10:])
    first.merge_state(second)
    expected = reference_score(y, mu, sigma, train.mean(), train.std(), "adc2025", False)
    assert float(first.compute()) == pytest.approx(expected, rel=1e-9)


def test_gaussian_log_likelihood_metric_is_mean_over_cells():
    y, mu, sigma, _ = make_case(13, n_planets=21)
    metric = GaussianLogLikelihood()
    metric.update(torch.from_numpy(y[:4]), torch.from_numpy(mu[:4]), torch.from_numpy(sigma[:4]))
    metric.update(torch.from_numpy(y[4:]), torch.from_numpy(mu[4:]), torch.from_numpy(sigma[4:]))
    assert float(metric.compute()) == pytest.approx(norm.logpdf(y, mu, sigma).mean(), rel=1e-12)


def test_unknown_variant_is_named():
    y, mu, sigma, train = make_case(0, n_planets=2)
    with pytest.raises(ConfigurationError, match="adc2023"):
        ariel_score(y, mu, sigma, train.mean(), train.std(), variant="adc2023")
    with pytest.raises(ConfigurationError, match="kaggle"):
        ArielScore(train.mean(), train.std(), variant="kaggle")


def test_invalid_naive_statistics_are_rejected():
    y, mu, sigma, _ = make_case(0, n_planets=2)
    with pytest.raises(ConfigurationError, match="naive_std"):
        ariel_score(y, mu, sigma, 5e-3, 0.0)
    with pytest.raises(ConfigurationError, match="naive_mean"):
        ArielScore(np.zeros(10), 1e-3)


def test_mismatched_shapes_are_rejected():
    y, mu, sigma, train = make_case(0, n_planets=2)
    with pytest.raises(ValueError, match="same shape"):
        ariel_score(y, mu[:1], sigma, train.mean(), train.std())
    with pytest.raises(ValueError, match="283"):
        ariel_score(y[:, :10], mu[:, :10], sigma[:, :10], train.mean(), train.std())


@pytest.mark.parametrize("variant", ["adc2025", "adc2024"])
def test_per_channel_reference_is_the_mean_score_of_truth_plus_irreducible_noise(variant):
    """The closed form against the definition: draw μ = y + N(0, s), σ = s with s² = depth_sigma² +
    jitter_sigma², score each draw with the independent reference implementation, average."""
    from spectramind.metrics.references import per_channel_reference

    rng = np.random.default_rng(5)
    y = 0.01 + 1e-3 * rng.standard_normal((30, 1)) + 1e-4 * rng.standard_normal((30, N_WL))
    depth_sigma = rng.uniform(2e-5, 2e-4, (30, N_WL))
    depth_sigma[:, 0] = 2e-5
    jitter_sigma = np.full((30, N_WL), 3e-5)
    sigma = np.hypot(depth_sigma, jitter_sigma)
    draws = [
        reference_score(y, y + sigma * rng.standard_normal(y.shape), sigma, 0.01, 1.2e-3, variant, clip=False)
        for _ in range(400)
    ]
    expected = per_channel_reference(y, depth_sigma, jitter_sigma, 0.01, 1.2e-3)[variant]
    assert expected == pytest.approx(np.mean(draws), abs=4 * np.std(draws) / np.sqrt(len(draws)))
    assert 0 < expected < 1
