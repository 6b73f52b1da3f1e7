"""Diagnostics of predicted spectra beyond the challenge score, and the one aggregate report.

The score alone hides *why* a model is good or bad: accuracy (RMSE, MAE), calibration (z-score
spread, interval coverage, the calibration curve), sharpness (predictive entropy) and physically
implausible output (the named violation rules). Each diagnostic is a functional twin plus a
torchmetrics `Metric` that accumulates plain sums, so per-batch updates equal one call on the
concatenated data. `evaluate_predictions` (scoring CLI, leaderboard) and `SpectrumMetrics`
(validation/test steps) produce the same flat dict, because the former runs the latter once.

Every diagnostic that divides by sigma uses the same SIGMA_FLOOR as the score, so a diagnostic
never disagrees with the score about what sigma the model predicted. All `Metric.update` methods
take the same (y, mu, sigma) triple so a single collection can feed them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MetricCollection

from spectramind.errors import ConfigurationError
from spectramind.metrics.gll import (
    SIGMA_FLOOR,
    ArielScore,
    ArrayLike,
    DetectorScore,
    Float64SumMetric,
    GaussianLogLikelihood,
    as_float64,
    as_spectra,
    gaussian_log_likelihood,
)
from spectramind.spectrum import DETECTORS, N_WAVELENGTHS
from spectramind.sweep_layout import UNCLIPPED_SUFFIX

PPM = 1e6
_HALF_LOG_2PI_E = 0.5 * math.log(2.0 * math.pi * math.e)

# isolated_spike: an AIRS cell that sticks out from BOTH neighbours, in the same direction, by more
# than SPIKE_THRESHOLD robust noise scales. The noise scale is local (a window of SPIKE_WINDOW
# second differences) because AIRS noise grows towards the band edges, is estimated from the
# median absolute second difference (which a lone spike barely moves), and never drops below
# SPIKE_SCALE_FLOOR so a noise-free smooth spectrum's rounding errors and gentle kinks do not fire.
# Threshold 10 with a 41-cell window keeps the false-alarm rate on Gaussian-noise spectra far
# below one per data set while a spike of ~15 noise scales is still caught.
SPIKE_THRESHOLD = 10.0
SPIKE_WINDOW = 41
SPIKE_SCALE_FLOOR = 1e-5
_MAD_TO_STD = 1.4826  # median(|x|) of a zero-mean Gaussian is 0.6745 of its standard deviation
_SECOND_DIFF_STD = math.sqrt(1.5)  # std of x_i - (x_{i-1} + x_{i+1}) / 2 for unit white noise

VIOLATION_RULES: dict[str, str] = {
    "non_finite": "mu or sigma is NaN or infinite",
    "sigma_nonpositive": "sigma <= 0 (a Gaussian needs a positive width)",
    "negative_depth": "mu < 0 (a transit depth cannot be negative)",
    "isolated_spike": (
        f"an AIRS cell exceeds both neighbours in the same direction by more than {SPIKE_THRESHOLD:g} x the "
        f"local robust noise scale (median |second difference| over {SPIKE_WINDOW} cells, floor "
        f"{SPIKE_SCALE_FLOOR:g})"
    ),
}

REPORT_KEYS = (
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
    *(f"violations_{rule}" for rule in VIOLATION_RULES),
)


def _floored(sigma: Tensor) -> Tensor:
    return sigma.clamp_min(SIGMA_FLOOR)


def _as_pair(y: ArrayLike, mu: ArrayLike) -> tuple[Tensor, Tensor]:
    """(y, mu) as float64 (n_planets, 283) tensors, shape-checked like a full triple."""
    y_t, mu_t, _ = as_spectra(y, mu, mu)
    return y_t, mu_t


# ---- sufficient statistics: the one definition each functional twin and Metric shares ----


def _squared_error_sums(y: Tensor, mu: Tensor) -> dict[str, Tensor]:
    return {"sum": ((y - mu) ** 2).sum(), "n": torch.tensor(float(y.numel()), dtype=torch.float64)}


def _rmse_ppm_from(stats: dict[str, Tensor]) -> Tensor:
    return torch.sqrt(stats["sum"] / stats["n"]) * PPM


def _absolute_error_sums(y: Tensor, mu: Tensor) -> dict[str, Tensor]:
    return {"sum": (y - mu).abs().sum(), "n": torch.tensor(float(y.numel()), dtype=torch.float64)}


def _mae_ppm_from(stats: dict[str, Tensor]) -> Tensor:
    return stats["sum"] / stats["n"] * PPM


def _z_moment_sums(y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
    z = (y - mu) / _floored(sigma)
    return {"sum_z": z.sum(), "sum_z2": (z**2).sum(), "n": torch.tensor(float(z.numel()), dtype=torch.float64)}


def _z_std_from(stats: dict[str, Tensor]) -> Tensor:
    """Population standard deviation (ddof=0) from the first two moments."""
    mean = stats["sum_z"] / stats["n"]
    return torch.sqrt((stats["sum_z2"] / stats["n"] - mean**2).clamp_min(0.0))


def _coverage_counts(y: Tensor, mu: Tensor, sigma: Tensor, k: float) -> dict[str, Tensor]:
    inside = (y - mu).abs() <= k * _floored(sigma)
    return {"inside": inside.sum().to(torch.float64), "n": torch.tensor(float(y.numel()), dtype=torch.float64)}


def _coverage_from(stats: dict[str, Tensor]) -> Tensor:
    return stats["inside"] / stats["n"]


def _entropy_sums(sigma: Tensor) -> dict[str, Tensor]:
    entropy = _HALF_LOG_2PI_E + torch.log(_floored(sigma))
    return {"sum": entropy.sum(), "n": torch.tensor(float(sigma.numel()), dtype=torch.float64)}


def _entropy_from(stats: dict[str, Tensor]) -> Tensor:
    return stats["sum"] / stats["n"]


# ---- symbolic violations ----


def _isolated_spike_mask(mu: Tensor) -> Tensor:
    """Boolean mask (n, 283) of AIRS cells that stick out from both neighbours (see SPIKE_THRESHOLD)."""
    airs = mu[:, 1:]  # column 1 is FGS1, at a different wavelength: not a neighbour of AIRS bin 1
    up = airs[:, 1:-1] - airs[:, :-2]  # step from the left neighbour to the cell
    down = airs[:, 1:-1] - airs[:, 2:]  # step from the right neighbour to the cell
    second_diff = 0.5 * (up + down)  # the cell minus the mean of its two neighbours
    half = SPIKE_WINDOW // 2
    padded = F.pad(second_diff.abs().unsqueeze(1), (half, half), mode="reflect").squeeze(1)
    local_median = padded.unfold(-1, SPIKE_WINDOW, 1).median(dim=-1).values
    noise_scale = (_MAD_TO_STD * local_median / _SECOND_DIFF_STD).clamp_min(SPIKE_SCALE_FLOOR)
    limit = SPIKE_THRESHOLD * noise_scale
    spike = (torch.minimum(up, down) > limit) | (torch.maximum(up, down) < -limit)
    mask = torch.zeros_like(mu, dtype=torch.bool)
    mask[:, 2:-1] = spike
    return mask


def violation_masks(mu: ArrayLike, sigma: ArrayLike) -> dict[str, Tensor]:
    """Per-cell boolean masks, one per rule in VIOLATION_RULES (shape (n_planets, 283) each)."""
    mu_t = as_float64(mu)
    sigma_t = as_float64(sigma, device=mu_t.device)
    if mu_t.shape != sigma_t.shape or mu_t.ndim == 0 or mu_t.shape[-1] != N_WAVELENGTHS:
        raise ValueError(
            f"mu and sigma must both have shape (..., {N_WAVELENGTHS}), got {tuple(mu_t.shape)}, {tuple(sigma_t.shape)}"
        )
    mu_t, sigma_t = mu_t.reshape(-1, N_WAVELENGTHS), sigma_t.reshape(-1, N_WAVELENGTHS)
    masks = {
        "non_finite": ~(torch.isfinite(mu_t) & torch.isfinite(sigma_t)),
        "sigma_nonpositive": sigma_t <= 0,
        "negative_depth": mu_t < 0,
        "isolated_spike": _isolated_spike_mask(mu_t),
    }
    return {rule: masks[rule] for rule in VIOLATION_RULES}


def _violation_counts(mu: ArrayLike, sigma: ArrayLike) -> dict[str, Tensor]:
    return {rule: mask.sum().to(torch.float64) for rule, mask in violation_masks(mu, sigma).items()}


# ---- functional twins ----


def rmse_ppm(y: ArrayLike, mu: ArrayLike) -> Tensor:
    """Root-mean-square error of mu over all cells, in ppm of transit depth."""
    return _rmse_ppm_from(_squared_error_sums(*_as_pair(y, mu)))


def mae_ppm(y: ArrayLike, mu: ArrayLike) -> Tensor:
    """Mean absolute error of mu over all cells, in ppm of transit depth."""
    return _mae_ppm_from(_absolute_error_sums(*_as_pair(y, mu)))


def z_score_std(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Tensor:
    """Standard deviation (ddof=0) of (y - mu) / sigma over all cells: 1 when sigma is calibrated."""
    return _z_std_from(_z_moment_sums(*as_spectra(y, mu, sigma)))


def interval_coverage(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, k: float) -> Tensor:
    """Fraction of cells with |y - mu| <= k * sigma (0.683 at k=1, 0.954 at k=2 when calibrated)."""
    return _coverage_from(_coverage_counts(*as_spectra(y, mu, sigma), k))


def predictive_entropy(sigma: ArrayLike) -> Tensor:
    """Mean differential entropy 0.5 * log(2 pi e sigma^2) of the predicted Gaussians (nats)."""
    return _entropy_from(_entropy_sums(as_float64(sigma)))


def symbolic_violations(mu: ArrayLike, sigma: ArrayLike) -> dict[str, Tensor]:
    """Number of cells breaking each rule in VIOLATION_RULES."""
    return _violation_counts(mu, sigma)


def per_wavelength_gll(y: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Tensor:
    """Mean Gaussian log-likelihood of each wavelength over planets, shape (283,)."""
    return gaussian_log_likelihood(*as_spectra(y, mu, sigma)).mean(dim=0)


DEFAULT_CALIBRATION_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def calibration_curve(
    y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, levels: Sequence[float] | Tensor = DEFAULT_CALIBRATION_LEVELS
) -> tuple[Tensor, Tensor]:
    """Observed coverage of the central Gaussian intervals mu +- z_p * sigma at nominal levels p.

    Returns (nominal, observed), float64 tensors of len(levels); a calibrated model lies on the
    diagonal, an overconfident one below it.
    """
    y_t, mu_t, sigma_t = as_spectra(y, mu, sigma)
    nominal = as_float64(levels, device=y_t.device).reshape(-1)
    if nominal.numel() == 0 or not bool(((nominal > 0) & (nominal < 1)).all()):
        raise ConfigurationError(f"calibration levels must lie strictly between 0 and 1, got {list(nominal.tolist())}")
    half_widths = math.sqrt(2.0) * torch.special.erfinv(nominal)  # z_p with P(|Z| <= z_p) = p
    abs_error = (y_t - mu_t).abs()
    observed = torch.stack([(abs_error <= k * _floored(sigma_t)).double().mean() for k in half_widths])
    return nominal, observed


# ---- Metric classes ----


class RmsePpm(Float64SumMetric):
    """Accumulating twin of `rmse_ppm`."""

    higher_is_better = False

    def __init__(self) -> None:
        super().__init__(("sum", "n"))

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        return _squared_error_sums(y, mu)

    def compute(self) -> Tensor:
        return _rmse_ppm_from(self._sums())


class MaePpm(Float64SumMetric):
    """Accumulating twin of `mae_ppm`."""

    higher_is_better = False

    def __init__(self) -> None:
        super().__init__(("sum", "n"))

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        return _absolute_error_sums(y, mu)

    def compute(self) -> Tensor:
        return _mae_ppm_from(self._sums())


class ZScoreStd(Float64SumMetric):
    """Accumulating twin of `z_score_std` (first and second moments of z)."""

    higher_is_better = None

    def __init__(self) -> None:
        super().__init__(("sum_z", "sum_z2", "n"))

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        return _z_moment_sums(y, mu, sigma)

    def compute(self) -> Tensor:
        return _z_std_from(self._sums())


class IntervalCoverage(Float64SumMetric):
    """Accumulating twin of `interval_coverage` at a fixed k."""

    higher_is_better = None

    def __init__(self, k: float) -> None:
        super().__init__(("inside", "n"))
        self.k = float(k)

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        return _coverage_counts(y, mu, sigma, self.k)

    def compute(self) -> Tensor:
        return _coverage_from(self._sums())


class PredictiveEntropy(Float64SumMetric):
    """Accumulating twin of `predictive_entropy`."""

    higher_is_better = False

    def __init__(self) -> None:
        super().__init__(("sum", "n"))

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        return _entropy_sums(sigma)

    def compute(self) -> Tensor:
        return _entropy_from(self._sums())


class SymbolicViolations(Float64SumMetric):
    """Accumulating twin of `symbolic_violations`; compute() returns {rule: count}."""

    higher_is_better = False

    def __init__(self) -> None:
        super().__init__(tuple(VIOLATION_RULES))

    def _stats(self, y: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
        return _violation_counts(mu, sigma)

    def compute(self) -> dict[str, Tensor]:
        return self._sums()


class SpectrumMetrics(MetricCollection):
    """Every score and diagnostic, accumulated over batches; compute() gives the REPORT_KEYS dict.

    Use `update(y, mu, sigma)` per batch and `compute()` / `reset()` per epoch (forward() returns
    the member metrics' raw per-batch values, not the flat report).
    """

    def __init__(self, naive_mean: ArrayLike, naive_std: ArrayLike) -> None:
        super().__init__(
            {
                "adc2025": ArielScore(naive_mean, naive_std, variant="adc2025", clip=False),
                "adc2024": ArielScore(naive_mean, naive_std, variant="adc2024", clip=False),
                **{f"adc2025_{detector}": DetectorScore(naive_mean, naive_std, detector) for detector in DETECTORS},
                "gll": GaussianLogLikelihood(),
                "rmse_ppm": RmsePpm(),
                "mae_ppm": MaePpm(),
                "z_std": ZScoreStd(),
                "coverage_1sigma": IntervalCoverage(1.0),
                "coverage_2sigma": IntervalCoverage(2.0),
                "entropy": PredictiveEntropy(),
                "violations": SymbolicViolations(),
            },
            compute_groups=False,
        )

    def compute(self) -> dict[str, float]:
        values = {name: metric.compute() for name, metric in self.items(keep_base=True, copy_state=False)}
        violations = values.pop("violations")
        report: dict[str, float] = {}
        for variant in ("adc2025", "adc2024"):
            unclipped = values.pop(variant)
            report[variant] = float(unclipped.clamp(0.0, 1.0))
            report[f"{variant}{UNCLIPPED_SUFFIX}"] = float(unclipped)
        report.update({name: float(value) for name, value in values.items()})
        report["violations_total"] = float(sum(violations.values()))
        report.update({f"violations_{rule}": float(count) for rule, count in violations.items()})
        return {key: report[key] for key in REPORT_KEYS}


def evaluate_predictions(
    y: ArrayLike, mu: ArrayLike, sigma: ArrayLike, naive_mean: ArrayLike, naive_std: ArrayLike
) -> dict[str, float]:
    """All scores and diagnostics of one prediction set, as the flat REPORT_KEYS dict."""
    metrics = SpectrumMetrics(naive_mean, naive_std)
    metrics.update(y, mu, sigma)
    return metrics.compute()
