"""The reference scores every leaderboard measures models against, from a data set's noise truth.

Why two references, and why neither is called a ceiling by accident:

* **per-channel** — each channel measured on its own as well as its light curve allows: μ = y plus
the channel's irreducible error, σ = that error's size. The error is the white-noise limit of a
depth fit (``depth_sigma``) and the part of the pointing jitter that looks exactly like a depth
change (``jitter_sigma``; :func:`spectramind.data.sim.physics.jitter_depth_sigma`), both from the
simulator's ``noise_truth.csv``. A model that pools channels (a spectral prior) can beat it: it is a
reference, not a limit. * **pooled** — the same ideal measurements passed through a Gaussian prior
over spectra fitted on the training labels (their mean, leading principal components and a floor),
whose posterior mean and standard deviation are the prediction. The measurement noise it is told is
the true one: independent white noise per channel plus the jitter error, fully correlated across a
planet's channels (it is, to within the limb-darkening differences of their transit shapes: > 0.95).
This is the best a method that knows everything about the noise and uses a Gaussian picture of the
spectra can do with the light curves; it is what "% of reference" in the leaderboard and docs
divides by.

Both are expected scores, in closed form: the scores are linear in the per-cell log-likelihoods,
and for a Gaussian prediction with a linear estimator, E[log N(y; μ, σ)] = -log σ - log(2π)/2 -
E[(y - μ)²] / (2σ²) where E[(y - μ)²] is the estimator's bias squared plus its noise variance. No
noise is drawn, so a reference is the same number every time.
"""

from __future__ import annotations

import math

import numpy as np

from spectramind.metrics.gll import SIGMA_FLOOR, VARIANTS, detector_score_sums, score_of_log_likelihoods
from spectramind.spectrum import DETECTORS

# The pooled reference's prior: principal components of the training labels kept, and the floor
# (in depth units) added to every channel's prior variance.
PRIOR_RANK = 32
PRIOR_FLOOR = 1e-6
REFERENCES = ("per_channel", "pooled")


def _scores(y: np.ndarray, expected_gll: np.ndarray, naive_mean: float, naive_std: float) -> dict[str, float]:
    """Both scores and the per-detector adc2025 scores of expected per-cell log-likelihoods."""
    scores = {
        variant: float(score_of_log_likelihoods(y, expected_gll, naive_mean, naive_std, variant))
        for variant in VARIANTS
    }
    for detector in DETECTORS:
        total, count = detector_score_sums(y, expected_gll, naive_mean, naive_std, detector)
        scores[f"adc2025_{detector}"] = float(total / count)
    return scores


def _expected_gll(sigma: np.ndarray, mean_squared_error: np.ndarray) -> np.ndarray:
    sigma = np.maximum(sigma, SIGMA_FLOOR)
    return -0.5 * math.log(2 * math.pi) - np.log(sigma) - 0.5 * mean_squared_error / sigma**2


def per_channel_reference(
    y: np.ndarray, depth_sigma: np.ndarray, jitter_sigma: np.ndarray, naive_mean: float, naive_std: float
) -> dict[str, float]:
    """Expected scores of μ = y + each channel's irreducible error, σ = its size (see the module)."""
    sigma = np.sqrt(np.asarray(depth_sigma, dtype=np.float64) ** 2 + np.asarray(jitter_sigma, dtype=np.float64) ** 2)
    return _scores(np.asarray(y, dtype=np.float64), _expected_gll(sigma, sigma**2), naive_mean, naive_std)


def gaussian_prior(
    train_y: np.ndarray, rank: int = PRIOR_RANK, floor: float = PRIOR_FLOOR
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of spectra: the training labels' mean and their covariance kept to its
    ``rank`` leading components, plus the variance those leave per channel and ``floor``²."""
    train_y = np.asarray(train_y, dtype=np.float64)
    covariance = np.atleast_2d(np.cov(train_y.T))
    eigenvalues, vectors = np.linalg.eigh(covariance)
    top = np.argsort(eigenvalues)[::-1][:rank]
    low_rank = (vectors[:, top] * np.clip(eigenvalues[top], 0, None)) @ vectors[:, top].T
    residual = np.clip(np.diag(covariance - low_rank), 0, None)
    return train_y.mean(axis=0), low_rank + np.diag(residual + floor**2)


def pooled_reference(
    y: np.ndarray,
    depth_sigma: np.ndarray,
    jitter_sigma: np.ndarray,
    train_y: np.ndarray,
    naive_mean: float,
    naive_std: float,
) -> dict[str, float]:
    """Expected scores of the Gaussian posterior given ideal measurements (see the module).

    Per planet: measurements d = y + e, e ~ N(0, Nn) with Nn = diag(depth_sigma²) + j jᵀ;
    gain K = C (C + Nn)⁻¹; μ = m + K (d - m); σ² = diag(C - K C). Then
    E[(y - μ)²] = ((I - K)(y - m))² + diag(K Nn Kᵀ).
    """
    y = np.asarray(y, dtype=np.float64)
    mean, prior = gaussian_prior(train_y)
    expected = np.empty_like(y)
    for index, (truth, white, jitter) in enumerate(
        zip(y, np.asarray(depth_sigma, dtype=np.float64), np.asarray(jitter_sigma, dtype=np.float64))
    ):
        gain = np.linalg.solve(prior + np.diag(white**2) + np.outer(jitter, jitter), prior).T  # C (C+N)^-1
        posterior_var = np.diag(prior) - np.einsum("ij,ji->i", gain, prior)
        bias = (truth - mean) - gain @ (truth - mean)
        error = bias**2 + gain**2 @ white**2 + (gain @ jitter) ** 2  # diag(K N K') for N = diag + j j
        expected[index] = _expected_gll(np.sqrt(np.clip(posterior_var, 0, None)), error)
    return _scores(y, expected, naive_mean, naive_std)


def reference_scores(
    y: np.ndarray,
    depth_sigma: np.ndarray,
    jitter_sigma: np.ndarray,
    train_y: np.ndarray,
    naive_mean: float,
    naive_std: float,
) -> dict[str, dict[str, float]]:
    """Both references' scores on a split: {"per_channel": {...}, "pooled": {...}}."""
    return {
        "per_channel": per_channel_reference(y, depth_sigma, jitter_sigma, naive_mean, naive_std),
        "pooled": pooled_reference(y, depth_sigma, jitter_sigma, train_y, naive_mean, naive_std),
    }
