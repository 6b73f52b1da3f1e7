"""Windowed depths: 1 - the mean in-transit flux over the out-of-transit baseline, per channel.

The `detrend` switch is an ablation axis: modelling the out-of-transit baseline (white-light ramp
and drift, plus a smooth chromatic polynomial) removes the instrument drifts that otherwise bias
the depth by several hundred ppm. A planet observed more than once gets the inverse-variance mean
of its visits' depths (`combine_visits`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from spectramind.data.features.orbit import ORBIT_FITTED, orbit_source
from spectramind.data.features.systematics import (
    CHROMATIC_SMOOTHING_DEGREE,
    DETREND_ORDER,
    RAMP_TIMESCALES_H,
    least_squares,
)
from spectramind.data.features.transit_window import fitted_transit_window, orbit_transit_window, transit_window

# Bump when the extraction changes so cached feature files are recomputed. 3: `orbit_source`. 4: the
# orbit's window around the mid-time found in calibrated data.
FEATURES_VERSION = 4


def _white_light_baseline(flux: np.ndarray, t: np.ndarray, out_of_transit: np.ndarray) -> np.ndarray:
    """Achromatic baseline (n_time,) fitted to the AIRS white-light curve out of transit.

    Model: quadratic in time plus the exponential settling ramp instruments show at the start of
    a visit, which a low-order polynomial cannot follow. The ramp timescale is picked from
    RAMP_TIMESCALES_H by the least-squares residual. Averaging all AIRS channels makes this fit
    nearly noise-free, so the extrapolation under the transit costs no precision.
    """
    tau = t / np.abs(t).max()
    poly = np.vander(tau, DETREND_ORDER + 1, increasing=True)
    white = flux[:, 1:].mean(axis=1)
    best_baseline, best_rss = None, math.inf
    for timescale in RAMP_TIMESCALES_H:
        design = np.column_stack([poly, np.exp(-(t - t[0]) / timescale)])
        baseline = design @ least_squares(design[out_of_transit], white[out_of_transit])
        rss = float(np.sum((white[out_of_transit] - baseline[out_of_transit]) ** 2))
        if rss < best_rss:
            best_baseline, best_rss = baseline, rss
    return best_baseline


def _detrended_baseline(flux: np.ndarray, t: np.ndarray, out_of_transit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel baseline (n_time, 283) = white-light baseline x chromatic polynomial.

    After dividing out the white-light baseline, each channel's remaining (chromatic) drift is a
    polynomial in time fitted out of transit. For AIRS the time-dependent coefficients are
    smoothed across channels (chromatic drifts vary smoothly with wavelength), so the quadratic
    term adds almost no extrapolation noise; FGS1, a separate high-S/N detector, keeps its own fit.
    Returns the baseline and the time polynomial's design matrix (for FGS1's error propagation).
    """
    tau = t / np.abs(t).max()
    white = _white_light_baseline(flux, t, out_of_transit)
    relative = flux / white[:, None]
    poly = np.vander(tau, DETREND_ORDER + 1, increasing=True)
    x_out = poly[out_of_transit]
    coef = least_squares(x_out, relative[out_of_transit])
    channel = np.linspace(0.0, 1.0, flux.shape[1] - 1)
    for k in range(1, DETREND_ORDER + 1):
        smooth = np.polynomial.polynomial.polyfit(channel, coef[k, 1:], CHROMATIC_SMOOTHING_DEGREE)
        coef[k, 1:] = np.polynomial.polynomial.polyval(channel, smooth)
    coef[0, 1:] = (relative[out_of_transit, 1:] - x_out[:, 1:] @ coef[1:, 1:]).mean(axis=0)
    return white[:, None] * (poly @ coef), poly


def estimate_depth(
    light_curve: np.ndarray,
    time_hours: np.ndarray,
    window: tuple[np.ndarray, np.ndarray],
    detrend: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth 1 - mean(in-transit flux / baseline) per channel, and its standard error.

    ``window`` is the (in-transit, out-of-transit) pair of masks over ``time_hours``, from
    `transit_window` or `fitted_transit_window`. detrend=False: the baseline is each channel's raw
    out-of-transit mean. detrend=True: the baseline follows the instrument drifts (see
    `_detrended_baseline`), fitted out of transit and extrapolated under it.

    The error is the out-of-transit residual scatter propagated to the depth: noise of the
    in-transit mean plus that of the baseline level (the pooled drift terms add negligibly, except
    for FGS1 whose own polynomial's leverage is included). Pointing jitter is not decorrelated:
    the in-transit mean of a common mode is degenerate with the white-light depth itself.
    """
    flux = np.asarray(light_curve, dtype=np.float64)
    t = np.asarray(time_hours, dtype=np.float64)
    in_transit, out_of_transit = window
    n_in, n_out = int(in_transit.sum()), int(out_of_transit.sum())
    leverage = np.full(flux.shape[1], 1.0 / n_out)
    if detrend:
        baseline, poly = _detrended_baseline(flux, t, out_of_transit)
        mean_row = poly[in_transit].mean(axis=0)
        x_out = poly[out_of_transit]
        leverage[0] = float(mean_row @ np.linalg.solve(x_out.T @ x_out, mean_row))
    else:
        baseline = np.broadcast_to(flux[out_of_transit].mean(axis=0), flux.shape)
    normalised = flux / baseline
    depth = 1.0 - normalised[in_transit].mean(axis=0)
    scatter = normalised[out_of_transit].std(axis=0, ddof=1)
    depth_err = scatter * np.sqrt(1.0 / n_in + leverage)
    return depth, depth_err


def combine_visits(estimates: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-variance mean of several visits' (depth, error) per channel."""
    if len(estimates) == 1:
        return estimates[0]
    depths = np.stack([d for d, _ in estimates])
    weights = 1.0 / np.stack([e for _, e in estimates]) ** 2
    return (weights * depths).sum(axis=0) / weights.sum(axis=0), 1.0 / np.sqrt(weights.sum(axis=0))


def planet_depth(
    flux: np.ndarray, time_h: np.ndarray, star_row: Mapping, detrend: bool, from_visit_start: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One planet's depth and error per channel, over every visit of its light curve.

    Times from mid-transit (simulated data): the window follows from the orbit. Times from the
    visit's start (calibrated data): the mid-time is found in the visit, the window follows from the
    orbit; without an orbit in the star info both are fitted to the visit.
    """
    label = f"planet {int(star_row['planet_id'])}"
    found = orbit_source(star_row) == ORBIT_FITTED
    estimates = []
    for visit in flux[None] if flux.ndim == 2 else flux:
        if found:
            in_transit, out_of_transit, mid = fitted_transit_window(visit, time_h, label)
            estimates.append(estimate_depth(visit, time_h - mid, (in_transit, out_of_transit), detrend))
        elif from_visit_start:
            window, mid = orbit_transit_window(visit, time_h, star_row, label)
            estimates.append(estimate_depth(visit, time_h - mid, window, detrend))
        else:
            estimates.append(estimate_depth(visit, time_h, transit_window(star_row, time_h), detrend))
    return combine_visits(estimates)
