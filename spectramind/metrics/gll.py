"""Gaussian log-likelihood and the Ariel Data Challenge scores, defined once.

Training (validation/test steps), the scoring CLI and the leaderboard all call the functions and
`Metric` classes in this module, so a score means the same thing wherever it is printed.

Both challenge scores compare the predicted Gaussian N(mu, sigma) with two references:

* naive: N(naive_mean, naive_std), the training labels' mean and standard deviation (scalars taken
  over all cells, as the official metric does, or per-column arrays of shape (283,));
* ideal: N(y, sigma_true), a prediction that is exactly right with a tiny uncertainty.

``adc2025`` normalises every cell, ``(GLL_pred - GLL_naive) / (GLL_ideal - GLL_naive)``, and takes
the weighted average of those cell scores (weight FGS1_WEIGHT for column 1, the FGS1 photometer,
1 for each of the 282 AIRS columns; sigma_true is SIGMA_TRUE_FGS1 for column 1, SIGMA_TRUE_AIRS
elsewhere). ``adc2024`` first sums the log-likelihoods over all cells and normalises the sums
once, with SIGMA_TRUE_2024 everywhere. Both are clipped to [0, 1] by default.

Everything is computed in float64: with sigma ~1e-5 the log-likelihoods are ~10 and the scores
are small differences of them, which float32 would round away. Both scores are a ratio of two
sums over cells, so the `Metric` classes accumulate exactly those two sums and per-batch updates
reproduce a single call on the full arrays.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from spectramind.errors import ConfigurationError
from spectramind.spectrum import DETECTORS, FGS1_WEIGHT, N_WAVELENGTHS

SIGMA_TRUE_FGS1 = 1e-6
SIGMA_TRUE_AIRS = 1e-5
SIGMA_TRUE_2024 = 1e-5
SIGMA_FLOOR = 1e-15
VARIANTS = ("adc2025", "adc2024")

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

ArrayLike = Tensor | np.ndarray | float


def as_float64(x: ArrayLike, device: torch.device | None = None) -> Tensor:
    """Convert any array-like input to a float64 tensor (inputs may arrive as float32 or numpy).

    Converted straight to float64: a Python float given to ``torch.as_tensor`` without a dtype
    becomes float32 first and loses ~1e-8 of its value. numpy arrays are copied: pandas
    (copy-on-write) and broadcast views hand out read-only arrays, which torch can only wrap with
    a warning.
    """
    if isinstance(x, np.ndarray):
        return torch.tensor(x, dtype=torch.float64, device=device)
    return torch.as_tensor(x, dtype=torch.float64, device=device)


def as_spectra(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> tuple[Tensor, Tensor, Tensor]:
    """Return (y, mu, sigma) as float64 tensors of shape (n_planets, 283).

    Accepts (..., 283); a shape mismatch is a programming error in the caller, hence ValueError.
    """
    y_t = as_float64(y)
    mu_t = as_float64(mu, device=y_t.device)
    sigma_t = as_float64(sigma, device=y_t.device)
    if not (y_t.shape == mu_t.shape == sigma_t.shape):
        raise ValueError(
            f"y, mu and sigma must have the same shape, got {tuple(y_t.shape)}, "
            f"{tuple(mu_t.shape)}, {tuple(sigma_t.shape)}"
        )
    if y_t.ndim == 0 or y_t.shape[-1] != N_WAVELENGTHS:
        raise ValueError(
            f"spectra must have {N_WAVELENGTHS} wavelengths in the last dimension, got shape {tuple(y_t.shape)}"
        )
    return y_t.reshape(-1, N_WAVELENGTHS), mu_t.reshape(-1, N_WAVELENGTHS), sigma_t.reshape(-1, N_WAVELENGTHS)


def gaussian_log_likelihood(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Tensor:
    """Elementwise log N(y; mu, sigma) in float64, with sigma clipped below at SIGMA_FLOOR.

    The floor (the official metric's) keeps a zero or negative sigma from producing NaN; such a
    prediction is then scored as extremely confident, which costs heavily when it is wrong.
    """
    y_t = as_float64(y)
    mu_t = as_float64(mu, device=y_t.device)
    sigma_t = as_float64(sigma, device=y_t.device).clamp_min(SIGMA_FLOOR)
    return -_HALF_LOG_2PI - torch.log(sigma_t) - 0.5 * ((y_t - mu_t) / sigma_t) ** 2


def check_variant(variant: str) -> str:
    """Return `variant` if it is a known score variant, else raise ConfigurationError naming it."""
    if variant not in VARIANTS:
        raise ConfigurationError(f"unknown Ariel score variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    return variant


def naive_statistic(value: ArrayLike, name: str) -> Tensor:
    """Validate a naive-model statistic: a finite scalar or a per-column array of shape (283,)."""
    stat = as_float64(value)
    if stat.ndim != 0 and tuple(stat.shape) != (N_WAVELENGTHS,):
        raise ConfigurationError(
            f"{name} must be a scalar or have shape ({N_WAVELENGTHS},), got shape {tuple(stat.shape)}"
        )
    if not bool(torch.isfinite(stat).all()):
        raise ConfigurationError(f"{name} must be finite, got {value!r}")
    if name == "naive_std" and not bool((stat > 0).all()):
        raise ConfigurationError(f"naive_std must be positive, got {value!r}")
    return stat


def _sigma_true_and_weights(variant: str, device: torch.device) -> tuple[Tensor, Tensor]:
    """Per-column ideal-model sigma and cell weight for a variant, each of shape (283,)."""
    if variant == "adc2025":
        sigma_true = torch.full((N_WAVELENGTHS,), SIGMA_TRUE_AIRS, dtype=torch.float64, device=device)
        sigma_true[0] = SIGMA_TRUE_FGS1
        weights = torch.ones(N_WAVELENGTHS, dtype=torch.float64, device=device)
        weights[0] = FGS1_WEIGHT
        return sigma_true, weights
    sigma_true = torch.full((N_WAVELENGTHS,), SIGMA_TRUE_2024, dtype=torch.float64, device=device)
    return sigma_true, torch.ones(N_WAVELENGTHS, dtype=torch.float64, device=device)


def ariel_score_sums(
    y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, naive_mean: ArrayLike, naive_std: ArrayLike, variant: str
) -> tuple[Tensor, Tensor]:
    """The (numerator, denominator) sums whose ratio is the unclipped score.

    adc2025: (sum of w * cell score, sum of w); adc2024: (sum of GLL_pred - GLL_naive, sum of
    GLL_ideal - GLL_naive). Both are plain sums over cells, which is what lets batches accumulate.
    """
    y_t, mu_t, sigma_t = as_spectra(y, mu, sigma)
    return _score_sums(y_t, gaussian_log_likelihood(y_t, mu_t, sigma_t), naive_mean, naive_std, variant)


def _score_sums(
    y_t: Tensor, gll_pred: Tensor, naive_mean: ArrayLike, naive_std: ArrayLike, variant: str
) -> tuple[Tensor, Tensor]:
    """``ariel_score_sums`` from the prediction's per-cell log-likelihoods."""
    check_variant(variant)
    sigma_true, weights = _sigma_true_and_weights(variant, y_t.device)
    gll_naive, gll_ideal = _reference_log_likelihoods(y_t, naive_mean, naive_std, sigma_true)
    if variant == "adc2025":
        cell_scores = (gll_pred - gll_naive) / (gll_ideal - gll_naive)
        cell_weights = weights.expand_as(y_t)
        return (cell_weights * cell_scores).sum(), cell_weights.sum()
    return (gll_pred - gll_naive).sum(), (gll_ideal - gll_naive).sum()


def _reference_log_likelihoods(
    y_t: Tensor, naive_mean: ArrayLike, naive_std: ArrayLike, sigma_true: Tensor
) -> tuple[Tensor, Tensor]:
    """Per-cell log-likelihoods of the naive and the ideal predictions."""
    mean_t = naive_statistic(naive_mean, "naive_mean").to(y_t.device)
    std_t = naive_statistic(naive_std, "naive_std").to(y_t.device)
    gll_naive = gaussian_log_likelihood(y_t, mean_t.expand_as(y_t), std_t.expand_as(y_t))
    return gll_naive, gaussian_log_likelihood(y_t, y_t, sigma_true.expand_as(y_t))


def detector_score_sums(
    y: ArrayLike, gll_pred: ArrayLike, naive_mean: ArrayLike, naive_std: ArrayLike, detector: str
) -> tuple[Tensor, Tensor]:
    """(sum of adc2025 cell scores, number of cells) over one detector's channels (spectrum.DETECTORS).

    Why per detector: the adc2025 score mixes FGS1 (one channel weighing 57.846) with 282 AIRS
    channels, and the two are measured so differently (a bright photometer against a spectrometer)
    that a model, or a reference, can be good at one and poor at the other. The overall score is
    the weighted mean of the two: (57.846 x FGS1 + 282 x AIRS) / 339.846.
    """
    y_t, gll_t = as_float64(y), as_float64(gll_pred)
    sigma_true, _ = _sigma_true_and_weights("adc2025", y_t.device)
    gll_naive, gll_ideal = _reference_log_likelihoods(y_t, naive_mean, naive_std, sigma_true)
    cells = ((gll_t - gll_naive) / (gll_ideal - gll_naive))[..., DETECTORS[detector]]
    return cells.sum(), torch.tensor(float(cells.numel()), dtype=torch.float64)


def score_of_log_likelihoods(
    y: ArrayLike, gll_pred: ArrayLike, naive_mean: ArrayLike, naive_std: ArrayLike, variant: str
) -> Tensor:
    """The unclipped score of given per-cell log-likelihoods (n_planets, 283): both scores are linear
    in them, so expected log-likelihoods give a predictor's expected score (the references)."""
    y_t = as_float64(y).reshape(-1, N_WAVELENGTHS)
    numerator, denominator = _score_sums(
        y_t, as_float64(gll_pred).reshape(-1, N_WAVELENGTHS), naive_mean, naive_std, variant
    )
    return numerator / denominator


def ariel_score(
    y: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    naive_mean: ArrayLike,
    naive_std: ArrayLike,
    variant: str = "adc2025",
    clip: bool = True,
) -> Tensor:
    """The Ariel Data Challenge score (float64 scalar tensor); clip=False gives the unclipped value."""
    numerator, denominator = ariel_score_sums(y, mu, sigma, naive_mean, naive_std, variant)
    score = numerator / denominator
    return score.clamp(0.0, 1.0) if clip else score


class Float64SumMetric(Metric):
    """A metric whose states are float64 sums over cells, turned into a value by `compute`.

    Sums are what make per-batch updates equal one call on all the data, and what a distributed
    run reduces (dist_reduce_fx="sum"). Every update re-casts the states to float64, so a
    module-wide `.to(torch.bfloat16)` (Lightning's "bf16-true") cannot silently degrade them.
    Subclasses name their states and implement `_stats(y, mu, sigma)`, which receives float64
    (n_planets, 283) tensors: every spectrum metric is updated with the same (y, mu, sigma) triple.
    """

    is_differentiable = False
    full_state_update = False

    def __init__(self, state_names: tuple[str, ...]) -> None:
        super().__init__()
        self._state_names = state_names
        for name in state_names:
            self.add_state(name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    def update(self, y: Tensor, mu: Tensor, sigma: Tensor) -> None:
        for name, value in self._stats(*as_spectra(y, mu, sigma)).items():
            state = getattr(self, name)
            setattr(self, name, state.to(torch.float64) + value.to(state.device))

    def _sums(self) -> dict[str, Tensor]:
        return {name: getattr(self, name) for name in self._state_names}


class GaussianLogLikelihood(Float64SumMetric):
    """Mean per-cell Gaussian log-likelihood over every planet and wavelength seen."""

    higher_is_better = True

    def __init__(self) -> None:
        super().__init__(("gll_sum", "n_cells"))

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        n_cells = torch.tensor(float(y.numel()), dtype=torch.float64)
        return {"gll_sum": gaussian_log_likelihood(y, mu, sigma).sum(), "n_cells": n_cells}

    def compute(self) -> Tensor:
        return self.gll_sum / self.n_cells


class DetectorScore(Float64SumMetric):
    """The adc2025 score over one detector's cells (unclipped mean cell score; `detector_score_sums`)."""

    higher_is_better = True

    def __init__(self, naive_mean: ArrayLike, naive_std: ArrayLike, detector: str) -> None:
        super().__init__(("cell_score_sum", "n_cells"))
        if detector not in DETECTORS:
            raise ConfigurationError(f"unknown detector {detector!r}; expected one of {', '.join(DETECTORS)}")
        self.detector = detector
        self.naive_mean = naive_statistic(naive_mean, "naive_mean").cpu()
        self.naive_std = naive_statistic(naive_std, "naive_std").cpu()

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        total, count = detector_score_sums(
            y, gaussian_log_likelihood(y, mu, sigma), self.naive_mean, self.naive_std, self.detector
        )
        return {"cell_score_sum": total, "n_cells": count}

    def compute(self) -> Tensor:
        return self.cell_score_sum / self.n_cells


class ArielScore(Float64SumMetric):
    """The Ariel score accumulated over batches; equal to `ariel_score` on the concatenated data.

    naive_mean / naive_std are plain float64 attributes rather than buffers, so no module-wide
    dtype cast reaches them; they are moved to the data's device at each update.
    """

    higher_is_better = True

    def __init__(
        self, naive_mean: ArrayLike, naive_std: ArrayLike, variant: str = "adc2025", clip: bool = True
    ) -> None:
        super().__init__(("numerator", "denominator"))
        self.variant = check_variant(variant)
        self.clip = clip
        self.naive_mean = naive_statistic(naive_mean, "naive_mean").cpu()
        self.naive_std = naive_statistic(naive_std, "naive_std").cpu()

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        numerator, denominator = ariel_score_sums(y, mu, sigma, self.naive_mean, self.naive_std, self.variant)
        return {"numerator": numerator, "denominator": denominator}

    def compute(self) -> Tensor:
        score = self.numerator / self.denominator
        return score.clamp(0.0, 1.0) if self.clip else score
