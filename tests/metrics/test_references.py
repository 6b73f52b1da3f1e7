"""The reference scores are the expected scores of the predictors they describe (drawn and averaged)."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.metrics.gll import ariel_score, detector_score_sums, gaussian_log_likelihood
from spectramind.metrics.references import gaussian_prior, per_channel_reference, pooled_reference

N_TRAIN, N_TEST, DRAWS = 300, 20, 150


@pytest.fixture(scope="module")
def spectra():
    """Low-dimensional spectra (a level and two shapes) with per-channel and correlated jitter noise."""
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 283)
    shapes = np.stack([np.ones(283), np.sin(3 * grid), np.exp(-(((grid - 0.6) / 0.1) ** 2))])

    def draw(n: int) -> np.ndarray:
        return rng.normal([2e-3, 0, 0], [8e-4, 5e-5, 8e-5], size=(n, 3)) @ shapes

    depth_sigma = rng.uniform(2e-5, 2e-4, size=(N_TEST, 283))
    depth_sigma[:, 0] = 2e-5
    jitter_sigma = rng.uniform(1e-5, 6e-5, size=(N_TEST, 1)) * (1 + 0.3 * np.sin(7 * grid))
    return draw(N_TRAIN), draw(N_TEST), depth_sigma, jitter_sigma


def _scores(y, mu, sigma, naive_mean, naive_std):
    gll = gaussian_log_likelihood(y, mu, sigma)
    fgs, n_fgs = detector_score_sums(y, gll, naive_mean, naive_std, "fgs1")
    airs, n_airs = detector_score_sums(y, gll, naive_mean, naive_std, "airs")
    return {
        "adc2025": float(ariel_score(y, mu, sigma, naive_mean, naive_std, clip=False)),
        "adc2024": float(ariel_score(y, mu, sigma, naive_mean, naive_std, "adc2024", clip=False)),
        "adc2025_fgs1": float(fgs / n_fgs),
        "adc2025_airs": float(airs / n_airs),
    }


def test_per_channel_reference_is_the_mean_score_of_drawn_per_channel_measurements(spectra):
    train, y, depth_sigma, jitter_sigma = spectra
    naive_mean, naive_std = train.mean(), train.std()
    rng = np.random.default_rng(1)
    sigma = np.sqrt(depth_sigma**2 + jitter_sigma**2)
    drawn = [_scores(y, y + sigma * rng.standard_normal(y.shape), sigma, naive_mean, naive_std) for _ in range(DRAWS)]
    expected = per_channel_reference(y, depth_sigma, jitter_sigma, naive_mean, naive_std)
    for key, value in expected.items():
        assert np.mean([d[key] for d in drawn]) == pytest.approx(value, abs=3e-3), key


def test_pooled_reference_is_the_mean_score_of_the_posterior_given_drawn_measurements(spectra):
    train, y, depth_sigma, jitter_sigma = spectra
    naive_mean, naive_std = train.mean(), train.std()
    mean, prior = gaussian_prior(train)
    rng = np.random.default_rng(2)
    # the posterior, written the other way round: precision = C^-1 + N^-1, mean = cov (C^-1 m + N^-1 d)
    prior_mean_term = np.linalg.solve(prior, mean)
    posteriors = []
    for i in range(N_TEST):
        noise_inverse = np.linalg.inv(np.diag(depth_sigma[i] ** 2) + np.outer(jitter_sigma[i], jitter_sigma[i]))
        covariance = np.linalg.inv(np.linalg.inv(prior) + noise_inverse)
        posteriors.append((covariance, noise_inverse))
    drawn = []
    for _ in range(DRAWS):
        mu, sigma = np.empty_like(y), np.empty_like(y)
        for i, (covariance, noise_inverse) in enumerate(posteriors):
            measured = y[i] + depth_sigma[i] * rng.standard_normal(283) + jitter_sigma[i] * rng.standard_normal()
            mu[i] = covariance @ (prior_mean_term + noise_inverse @ measured)
            sigma[i] = np.sqrt(np.diag(covariance))
        drawn.append(_scores(y, mu, sigma, naive_mean, naive_std))
    expected = pooled_reference(y, depth_sigma, jitter_sigma, train, naive_mean, naive_std)
    for key, value in expected.items():
        assert np.mean([d[key] for d in drawn]) == pytest.approx(value, abs=5e-3), key
    # pooling the channels of low-dimensional spectra gains far more than any single channel can
    assert (
        expected["adc2025_airs"]
        > per_channel_reference(y, depth_sigma, jitter_sigma, naive_mean, naive_std)["adc2025_airs"] + 0.1
    )
