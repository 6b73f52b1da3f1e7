"""The classical transit fit: batman white-light fits, then per-channel depths that share their shape.

Why a model fit instead of the windowed depth of `features.estimate_depth`: under limb darkening
1 - mean(in-transit flux / baseline) is not (Rp/Rs)^2 (the bias is largest at FGS1's 0.7 um), and
a baseline extrapolated from the out-of-transit wings alone adds an error common to every channel.
Fitting the whole light curve with a physical transit shape removes both, and the fit's covariance
gives each depth its error.

Steps, per visit (`fit_visit`):

1. White light: FGS1 and the AIRS white light (the mean of its channels, each normalised to its
   median) are fitted together with batman: a shared mid-transit time, per curve the radius ratio
   and quadratic limb darkening (Kipping's q1, q2), over the orbit from the star info (P, a/Rs, i),
   or, without star info (ADC 2024 ships none), over an orbit whose shape is fitted too (T14 and
   the impact parameter at a nominal period), times a systematics baseline per curve:
   quadratic in time plus the exponential settling ramp of the visit's start (its timescale fitted
   too). The baseline's coefficients are solved linearly inside the non-linear fit (variable
   projection), so the optimiser sees only the transit and the ramp timescale.
2. Common mode: the AIRS white light's residual relative to its model is the pointing jitter (and
   whatever else moves every channel together), the regressor each channel decorrelates against.
3. Channels: each channel, divided by its detector's white-light baseline, is fitted linearly with
   its own transit template (the white light's mid-time and radius, limb darkening interpolated in
   wavelength between FGS1 and the AIRS white light), an offset, the common mode, and (AIRS) a
   chromatic drift quadratic in time whose coefficients are smoothed across channels first. The
   depth's error is the linear fit's covariance scaled by the channel's residual scatter. One
   iteration re-renders each template at the channel's own fitted radius.

`features.planet_transit_fit` runs this over a planet's visits: each visit's fit starts from its
transit window (from the orbit, or found in the white light of calibrated visits, whose times
count from the visit's start), and several visits' depths are combined by inverse variance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import batman
import numpy as np
from scipy.optimize import least_squares

from spectramind.data.features import systematics
from spectramind.data.features.orbit import IMPACT_MAX_FRACTION, IMPACT_START, Orbit
from spectramind.data.features.transit_window import (
    find_transit,
    found_transit_window,
    orbit_transit_window,
    transit_window,
)
from spectramind.data.features.window import combine_visits

# Bump when the fit changes so cached fits are recomputed. 2: the orbit's shape is fitted where the
# star info has no orbit (before, such planets stopped the fit). 3: on calibrated data with an orbit,
# only the mid-time is searched, with the orbit's durations.
TRANSIT_FIT_VERSION = 3
# How far (hours) the fitted mid-transit may move from its starting guess.
MID_TIME_RANGE_H = 0.5
# Bounds on the radius ratio and on the ramp timescale (hours).
RP_BOUNDS = (1e-3, 0.5)
RAMP_TIMESCALE_BOUNDS_H = (0.05, 5.0)
# Starting limb darkening (Kipping's q1, q2): u1 ~ 0.36, u2 ~ 0.24, a Sun-like star in the optical.
Q_START = (0.36, 0.3)
# Each channel's template is re-rendered this many times at the channel's own fitted depth (kept
# above the floor), since ingress and egress last longer for a larger planet.
TEMPLATE_REFINEMENTS = 1
CHANNEL_DEPTH_FLOOR = 1e-6
# The largest ratio between FGS1's and the AIRS white light's limb-darkening coefficient that the
# channels' power law in wavelength follows (physical ones are within ~4 between 0.7 and 3 um).
LD_MAX_RATIO = 10.0


class TransitShape:
    """batman's quadratic-limb-darkened transit on one time grid and orbit, for any t0, Rp/Rs and u."""

    def __init__(self, time_h: np.ndarray, orbit: Orbit) -> None:
        self.params = batman.TransitParams()
        p = self.params
        p.t0, p.ecc, p.w, p.limb_dark, p.rp, p.u = 0.0, 0.0, 90.0, "quadratic", 0.1, [0.3, 0.2]
        self.set_orbit(orbit)
        self.model = batman.TransitModel(p, np.ascontiguousarray(time_h, dtype=np.float64) / 24.0)

    def set_orbit(self, orbit: Orbit) -> None:
        """Render later calls on `orbit` (batman recomputes the planet's path when it changes)."""
        self.params.per, self.params.a, self.params.inc = orbit.period_days, orbit.a_over_rs, orbit.inc_deg
        self.orbit = orbit

    def __call__(self, t0_h: float, rp: float, u1: float, u2: float) -> np.ndarray:
        self.params.t0, self.params.rp, self.params.u = t0_h / 24.0, rp, [u1, u2]
        return self.model.light_curve(self.params)


def limb_darkening_from_q(q1: float, q2: float) -> tuple[float, float]:
    """Kipping (2013): any (q1, q2) in [0, 1]^2 is a physical quadratic law (u1, u2)."""
    root = math.sqrt(q1)
    return 2.0 * root * q2, root * (1.0 - 2.0 * q2)


def _baseline_design(time_h: np.ndarray, ramp_timescale_h: float) -> np.ndarray:
    """Columns of the systematics baseline: 1, tau, tau^2 (tau spanning -1..1) and the start ramp."""
    tau = _unit_time(time_h)
    ramp = np.exp(-(time_h - time_h[0]) / ramp_timescale_h)
    return np.column_stack([np.ones_like(tau), tau, tau**2, ramp])


def _unit_time(time_h: np.ndarray) -> np.ndarray:
    return (time_h - 0.5 * (time_h[0] + time_h[-1])) / (0.5 * (time_h[-1] - time_h[0]))


def _point_scatter(y: np.ndarray) -> float:
    """White-noise level of a series from its point-to-point differences (robust to slow trends)."""
    return float(np.median(np.abs(np.diff(y))) / (0.6745 * math.sqrt(2.0))) or 1e-6


@dataclass
class WhiteLightFit:
    """One white-light curve's fit: transit parameters and its systematics baseline."""

    rp: float
    u: tuple[float, float]
    baseline: np.ndarray  # (n_time,) the systematics baseline alone
    model: np.ndarray  # (n_time,) transit x baseline


def _white_light_start(
    time_h: np.ndarray, mid_guess_h: float, depth_guess: list[float], duration_guess_h: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starting values and bounds of `fit_white_light`'s parameters, in its order."""
    start, lower, upper = [mid_guess_h], [mid_guess_h - MID_TIME_RANGE_H], [mid_guess_h + MID_TIME_RANGE_H]
    rps = [float(np.clip(math.sqrt(max(depth, RP_BOUNDS[0] ** 2)), *RP_BOUNDS)) for depth in depth_guess]
    if duration_guess_h is not None:
        shortest, longest = 2.0 * float(np.median(np.diff(time_h))), float(time_h[-1] - time_h[0])
        start += [float(np.clip(duration_guess_h, shortest, longest)), IMPACT_START / (1.0 + min(rps))]
        lower += [shortest, 0.0]
        upper += [longest, IMPACT_MAX_FRACTION]
    ramp_start = math.log(float(np.median(systematics.RAMP_TIMESCALES_H)))
    for rp0 in rps:
        start += [rp0, *Q_START, ramp_start]
        lower += [RP_BOUNDS[0], 0.0, 0.0, math.log(RAMP_TIMESCALE_BOUNDS_H[0])]
        upper += [RP_BOUNDS[1], 1.0, 1.0, math.log(RAMP_TIMESCALE_BOUNDS_H[1])]
    return np.array(start), np.array(lower), np.array(upper)


def fit_white_light(
    curves: list[np.ndarray],
    time_h: np.ndarray,
    shape: TransitShape,
    mid_guess_h: float,
    depth_guess: list[float],
    duration_guess_h: float | None = None,
) -> tuple[float, Orbit, list[WhiteLightFit]]:
    """Fit white-light curves sharing one transit; return its mid-time, orbit and each curve's fit.

    Parameters: t0; with a `duration_guess_h` (no known orbit: `shape`'s is then replaced), the
    orbit's shape at NOMINAL_PERIOD_DAYS: T14 (hours, starting there) and b / (1 + the smallest
    Rp/Rs); then per curve Rp/Rs, q1, q2 and the ramp timescale (log). The baseline's
    coefficients are solved linearly at every step. Residuals are weighted by each curve's
    point-to-point scatter, so the better-measured curve dominates the shared parameters. `shape`
    is left on the returned orbit.
    """
    weights = [1.0 / _point_scatter(y) for y in curves]
    fit_orbit = duration_guess_h is not None
    shared = 3 if fit_orbit else 1

    def unpack(theta: np.ndarray, i: int) -> tuple[float, float, float, float]:
        rp, q1, q2, log_tau = theta[shared + 4 * i : shared + 4 + 4 * i]
        return rp, q1, q2, math.exp(log_tau)

    def orbit(theta: np.ndarray) -> Orbit:
        if not fit_orbit:
            return shape.orbit
        rp = min(theta[shared::4])
        return Orbit.for_duration(theta[1], rp, theta[2] * (1.0 + rp))

    def solve(theta: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
        rp, q1, q2, tau = unpack(theta, i)
        transit = shape(theta[0], rp, *limb_darkening_from_q(q1, q2))
        design = _baseline_design(time_h, tau)
        coef = systematics.least_squares(transit[:, None] * design, curves[i])
        return transit, design @ coef

    def residuals(theta: np.ndarray) -> np.ndarray:
        shape.set_orbit(orbit(theta))
        parts = []
        for i, y in enumerate(curves):
            transit, baseline = solve(theta, i)
            parts.append((y - transit * baseline) * weights[i])
        return np.concatenate(parts)

    start, lower, upper = _white_light_start(time_h, mid_guess_h, depth_guess, duration_guess_h)
    theta = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac", method="trf").x
    shape.set_orbit(orbit(theta))
    fits = []
    for i in range(len(curves)):
        transit, baseline = solve(theta, i)
        rp, q1, q2, _ = unpack(theta, i)
        fits.append(WhiteLightFit(rp=rp, u=limb_darkening_from_q(q1, q2), baseline=baseline, model=transit * baseline))
    return float(theta[0]), shape.orbit, fits


def channel_limb_darkening(
    wavelengths_um: np.ndarray, fgs: tuple[float, float], airs: tuple[float, float]
) -> np.ndarray:
    """(283, 2) quadratic coefficients per channel from FGS1's and the AIRS white light's.

    FGS1 keeps its own. AIRS channels follow a power law in wavelength through the two fitted
    points (limb darkening weakens steadily towards the infrared), the AIRS white light standing at
    the mean AIRS wavelength; a coefficient whose two values differ in sign (no power law passes
    through them) is interpolated linearly in log wavelength instead. A coefficient fitted at its
    bound (near 0: limb darkening trades off against the impact parameter when the orbit is fitted)
    would make the power law through the two points explode across AIRS: where the two values
    differ by more than LD_MAX_RATIO, the AIRS channels follow the AIRS white light's value with
    the ratio capped there.
    """
    lam_f = wavelengths_um[0]
    lam_a = float(wavelengths_um[1:].mean())
    x = np.log(wavelengths_um / lam_f) / math.log(lam_a / lam_f)
    out = np.empty((wavelengths_um.size, 2))
    for k in range(2):
        u_f, u_a = fgs[k], airs[k]
        if u_f > 0 and u_a > 0 and 1.0 / LD_MAX_RATIO <= u_a / u_f <= LD_MAX_RATIO:
            out[:, k] = u_f * (u_a / u_f) ** x
        elif u_f > 0 and u_a > 0:
            out[:, k] = u_a * np.clip(u_a / u_f, 1.0 / LD_MAX_RATIO, LD_MAX_RATIO) ** (x - 1.0)
        else:
            out[:, k] = u_f + (u_a - u_f) * x
        out[0, k] = u_f
    return out


def _solve_channels(design: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched least squares: design (C, n, p), y (C, n) -> coefficients (C, p), inverse normal
    matrices (C, p, p) and residual scatter (C,) with n - p degrees of freedom."""
    transposed = design.transpose(0, 2, 1)
    normal_inv = np.linalg.inv(transposed @ design)
    coef = (normal_inv @ (transposed @ y[:, :, None]))[:, :, 0]
    residual = y - (design @ coef[:, :, None])[:, :, 0]
    scatter = np.sqrt(np.einsum("cn,cn->c", residual, residual) / (y.shape[1] - design.shape[2]))
    return coef, normal_inv, scatter


def fit_visit(
    flux: np.ndarray,
    time_h: np.ndarray,
    orbit: Orbit | None,
    wavelengths_um: np.ndarray,
    window: tuple[np.ndarray, np.ndarray],
    mid_guess_h: float,
    decorrelate: bool = True,
    duration_guess_h: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (Rp/Rs)^2 and its error per channel from one visit (n_time, 283).

    `window` = (in-transit, out-of-transit) masks and `mid_guess_h` give the starting values.
    `orbit=None` (no star info) fits the orbit's shape in the white-light fit, starting from a
    transit lasting `duration_guess_h` (T14, hours) at b = IMPACT_START.
    `decorrelate=False` leaves the white light's residual (the common mode: pointing jitter and
    what else all channels share) out of the per-channel fits: the ablation of that step."""
    flux = np.asarray(flux, dtype=np.float64)
    t = np.asarray(time_h, dtype=np.float64)
    relative = flux / np.median(flux, axis=0)
    in_transit, out_of_transit = window
    fgs, white = relative[:, 0], relative[:, 1:].mean(axis=1)
    guesses = [1.0 - y[in_transit].mean() / y[out_of_transit].mean() for y in (fgs, white)]
    if (orbit is None) == (duration_guess_h is None):
        raise ValueError("fit_visit needs either an orbit or, to fit one, duration_guess_h")
    shape = TransitShape(t, orbit or Orbit.for_duration(duration_guess_h, RP_BOUNDS[1]))  # fitted below
    mid, _, (fgs_fit, white_fit) = fit_white_light([fgs, white], t, shape, mid_guess_h, guesses, duration_guess_h)
    common_mode = white / white_fit.model - 1.0
    shared = [common_mode] if decorrelate else []

    # Each channel relative to its detector's baseline: FGS1's own, the AIRS white light's for AIRS.
    baseline = np.column_stack([fgs_fit.baseline, np.repeat(white_fit.baseline[:, None], flux.shape[1] - 1, 1)])
    y = (relative / baseline).T  # (283, n_time)
    ld = channel_limb_darkening(wavelengths_um, fgs_fit.u, white_fit.u)
    rp = np.r_[fgs_fit.rp, np.full(flux.shape[1] - 1, white_fit.rp)]
    tau = _unit_time(t)

    def templates(radius: np.ndarray) -> np.ndarray:
        """Per-channel transit shape per unit depth, (283, n_time)."""
        return np.stack([(1.0 - shape(mid, r, *u)) / r**2 for r, u in zip(radius, ld)])

    # Chromatic drift of AIRS: quadratic in time, its coefficients smoothed across channels.
    ones = np.ones_like(t)
    full = np.stack([np.column_stack([ones, tau, tau**2, -s, *shared]) for s in templates(rp)[1:]])
    coef, _, _ = _solve_channels(full, y[1:])
    channel = np.linspace(0.0, 1.0, coef.shape[0])
    drift = np.zeros_like(y)
    for k, column in ((1, tau), (2, tau**2)):
        smooth = np.polynomial.polynomial.polyfit(channel, coef[:, k], systematics.CHROMATIC_SMOOTHING_DEGREE)
        drift[1:] += np.polynomial.polynomial.polyval(channel, smooth)[:, None] * column
    y = y - drift

    radius = rp
    for _ in range(1 + TEMPLATE_REFINEMENTS):
        design = np.stack([np.column_stack([ones, -s, *shared]) for s in templates(radius)])
        coef, normal_inv, scatter = _solve_channels(design, y)
        depth = coef[:, 1]
        radius = np.sqrt(np.maximum(depth, CHANNEL_DEPTH_FLOOR))
    return depth, scatter * np.sqrt(normal_inv[:, 1, 1])


def planet_transit_fit(
    flux: np.ndarray,
    time_h: np.ndarray,
    star_row: Mapping,
    wavelengths_um: np.ndarray,
    from_visit_start: bool,
    decorrelate: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """One planet's depth and error per channel over every visit, by the classical transit fit.

    Times from mid-transit (simulated data): the fit starts at t0 = 0 with the window from the
    orbit. Times from the visit's start (calibrated data): it starts at the mid-time found in the
    visit's white light with the orbit's durations. Without the star info's orbit (`orbit_source`
    "fitted": ADC 2024) the transit is found in the white light whatever the times count from, and
    the fit fits the orbit's shape starting from the duration found there.
    """
    label = f"planet {int(star_row['planet_id'])}"
    orbit = Orbit.from_star(star_row, label)
    fits = []
    for visit in flux[None] if flux.ndim == 2 else flux:
        duration = None
        if orbit is None:
            mid, duration, ingress = find_transit(visit, time_h, label)
            window = found_transit_window(time_h, mid, duration, ingress, label)
        elif from_visit_start:
            window, mid = orbit_transit_window(visit, time_h, star_row, label)
        else:
            window, mid = transit_window(star_row, time_h), 0.0
        fits.append(
            fit_visit(visit, time_h, orbit, wavelengths_um, tuple(window), mid, decorrelate, duration_guess_h=duration)
        )
    return combine_visits(fits)
