"""Where the transit is in a light curve: from the orbit (simulated data, whose times count from
mid-transit) or found in the white light itself (calibrated data, whose times count from each
visit's start, and planets without an orbit), as masks of in- and out-of-transit samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from spectramind.errors import DatasetError

# Bounds on Rp/Rs used to place the windows without knowing the planet size: out-of-transit
# points must be clear of the largest plausible planet, in-transit points fully inside the disk.
K_OUTER = 0.2
K_INNER = 0.15
# Extra fraction of the half-duration excluded on each side of the transit.
OUT_MARGIN = 0.1
MIN_IN_POINTS = 3
MIN_OUT_POINTS = 8


def _half_chord_hours(p_days: float, a_over_rs: float, inc_rad: float, reach: float) -> float:
    """Half the time the planet centre spends within `reach` stellar radii of the star's centre."""
    b = a_over_rs * math.cos(inc_rad)
    chord = reach**2 - b**2
    if chord <= 0:
        return 0.0
    x = min(1.0, math.sqrt(chord) / (a_over_rs * math.sin(inc_rad)))
    return 12.0 * p_days / math.pi * math.asin(x)


def transit_window(star_row: Mapping, time_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (in-transit, out-of-transit) over `time_hours` from the orbital elements.

    Out of transit: beyond T14/2 (computed for Rp/Rs = K_OUTER) plus a margin. In transit: within
    T23/2 (for Rp/Rs = K_INNER); for near-grazing geometry, where T23 vanishes, the central half of
    the chord of the planet's centre.
    """
    a_over_rs = float(star_row["sma"])  # in stellar radii, as in the competition's star info
    inc = math.radians(float(star_row["i"]))
    p_days = float(star_row["P"])
    half_t14 = _half_chord_hours(p_days, a_over_rs, inc, 1.0 + K_OUTER)
    half_t23 = _half_chord_hours(p_days, a_over_rs, inc, 1.0 - K_INNER)
    if half_t23 == 0.0:
        half_t23 = 0.5 * _half_chord_hours(p_days, a_over_rs, inc, 1.0)
    t = np.asarray(time_hours, dtype=np.float64)
    in_transit = np.abs(t) < half_t23
    out_of_transit = np.abs(t) > half_t14 * (1.0 + OUT_MARGIN)
    label = f"planet {int(star_row['planet_id'])}" if "planet_id" in star_row else "planet"
    if in_transit.sum() < MIN_IN_POINTS or out_of_transit.sum() < MIN_OUT_POINTS:
        raise DatasetError(
            f"{label}: only {in_transit.sum()} in-transit and {out_of_transit.sum()} out-of-transit "
            f"samples for T14={2 * half_t14:.2f} h; the time grid does not cover the transit"
        )
    return in_transit, out_of_transit


# Fitting a transit's window to a white-light curve (data whose times count from the visit's start):
# a trapezoid with these ingress fractions (T12/T14), over a coarse grid of this many samples, then
# refined by whole samples around the best coarse fit.
INGRESS_FRACTIONS = (0.05, 0.12, 0.2, 0.3)
COARSE_STEP_SAMPLES = 2
REFINE_SAMPLES = 3


def _trapezoids(t: np.ndarray, mid: np.ndarray, t14: np.ndarray, ingress: np.ndarray) -> np.ndarray:
    """Unit-depth trapezoid transits (candidates, n_time) for arrays of candidate parameters."""
    edge = (0.5 * t14[:, None] - np.abs(t[None, :] - mid[:, None])) / (ingress * t14)[:, None]
    return np.clip(edge, 0.0, 1.0)


def _best_trapezoid(
    white: np.ndarray, t: np.ndarray, mid: np.ndarray, t14: np.ndarray, ingress: np.ndarray
) -> tuple[float, float, float]:
    """The candidate trapezoid that, with a quadratic baseline, explains most of the white light."""
    tau = (t - t.mean()) / np.ptp(t)
    baseline = np.vander(tau, 3, increasing=True)
    projector = baseline @ np.linalg.solve(baseline.T @ baseline, baseline.T)
    y = white - projector @ white
    shapes = _trapezoids(t, mid, t14, ingress)
    shapes -= shapes @ projector
    energy = np.einsum("gn,gn->g", shapes, shapes)
    overlap = -(shapes @ y)  # a transit lowers the flux: positive depth
    gain = np.where((energy > 0) & (overlap > 0), overlap**2 / np.where(energy > 0, energy, 1.0), -np.inf)
    best = int(np.argmax(gain))
    return float(mid[best]), float(t14[best]), float(ingress[best])


def find_transit(
    light_curve: np.ndarray, time_hours: np.ndarray, label: str = "planet", durations_h: np.ndarray | None = None
) -> tuple[float, float, float]:
    """(mid-transit hour, T14 in hours, ingress fraction T12/T14) of the transit in the light curve.

    The white light (every channel normalised to its median, then averaged) is fitted with a
    trapezoid over a quadratic baseline, on a grid of mid-times, durations and ingress fractions,
    coarse then fine, each transit wholly inside the visit (as the competition's visits are planned)
    and leaving the MIN_OUT_POINTS of baseline the window needs (so that noise in a shallow
    transit's light curve cannot make a transit spanning the whole visit the best candidate).
    ``durations_h``: the candidate durations when the orbit tells them (only the mid-time is then
    searched, which a shallow transit in noisy data leaves far less room to get wrong).
    """
    flux = np.asarray(light_curve, dtype=np.float64)
    t = np.asarray(time_hours, dtype=np.float64)
    white = (flux / np.median(flux, axis=0)).mean(axis=1)
    step = float(np.median(np.diff(t)))
    span = float(t[-1] - t[0])
    fractions = np.asarray(INGRESS_FRACTIONS)

    def grid(mids: np.ndarray, durations: np.ndarray) -> tuple[float, float, float]:
        m, d, f = (a.ravel() for a in np.meshgrid(mids, durations, fractions, indexing="ij"))
        inside = (m - d / 2 > t[0]) & (m + d / 2 < t[-1])  # the whole transit within the visit
        reach = 0.5 * d * (1.0 + OUT_MARGIN) + 0.5 * step  # the out-of-transit mask's edge
        inside &= (np.abs(t[None, :] - m[:, None]) > reach[:, None]).sum(axis=1) >= MIN_OUT_POINTS
        if not inside.any():
            raise DatasetError(f"{label}: {t.size} samples over {span:.2f} h are too few to find a transit")
        return _best_trapezoid(white, t, m[inside], d[inside], f[inside])

    coarse = COARSE_STEP_SAMPLES * step
    known = durations_h is not None
    durations = np.asarray(durations_h, dtype=np.float64) if known else np.arange(3 * step, 0.9 * span, coarse)
    mid, t14, ingress = grid(np.arange(t[0], t[-1], coarse), durations)
    offsets = np.arange(-REFINE_SAMPLES, REFINE_SAMPLES + 1) * step / 2
    return grid(mid + offsets, durations if known else np.clip(t14 + offsets, 2 * step, None))


# Radius ratios whose transit durations bracket a planet of unknown size when the orbit is known.
RADIUS_RATIO_GRID = (0.02, 0.05, 0.1, 0.15)


def orbit_transit_window(
    light_curve: np.ndarray, time_hours: np.ndarray, star_row: Mapping, label: str = "planet"
) -> tuple[tuple[np.ndarray, np.ndarray], float]:
    """((in-transit, out-of-transit), mid-transit hour) of a visit whose times count from its start
    but whose orbit the star info gives: the mid-time searched in the white light with the orbit's
    durations (for radius ratios in RADIUS_RATIO_GRID), the masks from the orbit around it."""
    a_over_rs, inc, p_days = float(star_row["sma"]), math.radians(float(star_row["i"])), float(star_row["P"])
    durations = np.array([2 * _half_chord_hours(p_days, a_over_rs, inc, 1.0 + k) for k in RADIUS_RATIO_GRID])
    mid, _, _ = find_transit(light_curve, time_hours, label, durations[durations > 0])
    return transit_window(star_row, np.asarray(time_hours, dtype=np.float64) - mid), mid


def found_transit_window(
    time_hours: np.ndarray, mid: float, t14: float, ingress: float, label: str
) -> tuple[np.ndarray, np.ndarray]:
    """(in-transit, out-of-transit) masks around a transit found by `find_transit`, as for
    `transit_window`: in transit within T23/2 less half a sample (for a transit too short for that,
    the central half of T14), out of transit beyond T14/2 plus a margin."""
    t = np.asarray(time_hours, dtype=np.float64)
    step = float(np.median(np.diff(t)))
    half_t23 = 0.5 * t14 * (1.0 - 2.0 * ingress)
    in_transit = np.abs(t - mid) < half_t23 - 0.5 * step
    if in_transit.sum() < MIN_IN_POINTS:  # a short or grazing transit: the central half of the chord
        in_transit = np.abs(t - mid) < 0.25 * t14
    out_of_transit = np.abs(t - mid) > 0.5 * t14 * (1.0 + OUT_MARGIN) + 0.5 * step
    if in_transit.sum() < MIN_IN_POINTS or out_of_transit.sum() < MIN_OUT_POINTS:
        raise DatasetError(
            f"{label}: found only {in_transit.sum()} in-transit and {out_of_transit.sum()} out-of-transit "
            f"samples (transit at {mid:.2f} h lasting {t14:.2f} h); the light curve does not cover a transit "
            f"with baseline"
        )
    return in_transit, out_of_transit


def fitted_transit_window(
    light_curve: np.ndarray, time_hours: np.ndarray, label: str = "planet"
) -> tuple[np.ndarray, np.ndarray, float]:
    """(in-transit, out-of-transit, mid-transit hour) found in the light curve itself.

    For data whose times count from the visit's start (calibrated data), or without an orbit to
    place the window: `find_transit`, then the masks of `found_transit_window`.
    """
    mid, t14, ingress = find_transit(light_curve, time_hours, label)
    return (*found_transit_window(time_hours, mid, t14, ingress, label), mid)
