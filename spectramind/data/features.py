"""Per-planet, per-channel transit-depth estimates: the model's inputs.

Why features instead of raw light curves: a transit depth and its uncertainty per channel carry
almost all the information a spectrum model needs, cost a fraction of a second per planet to
compute, and shrink the data by the number of time samples, so models train in seconds. The
`detrend` switch is an ablation axis: modelling the out-of-transit baseline (white-light ramp and
drift, plus a smooth chromatic polynomial) removes the instrument drifts that otherwise bias the
depth by several hundred ppm.

Where the transit is: simulated light curves count time from mid-transit, so the window follows
from the orbit (`transit_window`); calibrated raw data counts from each visit's start, so each
visit's window is fitted to its own white light (`fitted_transit_window`), and a planet observed
more than once gets the inverse-variance mean of its visits' depths (`planet_depth`).

Two methods (`METHODS`, the data module's `features` option): "window" measures the depth as
above; "transit_fit" runs the classical transit fit of `spectramind.data.transit_fit` (batman
white-light fits, per-channel fits sharing their shape), several times closer to the true depths.
Both are cached per dataset by `load_features`.
"""

from __future__ import annotations

import fcntl
import math
import os
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from spectramind.atomic import replacing
from spectramind.data import layout, transit_fit
from spectramind.data.systematics import (CHROMATIC_SMOOTHING_DEGREE, DETREND_ORDER, RAMP_TIMESCALES_H,
                                          least_squares)
from spectramind.errors import ConfigurationError, DatasetError

# Bounds on Rp/Rs used to place the windows without knowing the planet size: out-of-transit
# points must be clear of the largest plausible planet, in-transit points fully inside the disk.
K_OUTER = 0.2
K_INNER = 0.15
# Extra fraction of the half-duration excluded on each side of the transit.
OUT_MARGIN = 0.1
MIN_IN_POINTS = 3
MIN_OUT_POINTS = 8
# Star/orbit columns passed to the model (e is constant for circular orbits, so it is left out).
STAR_FEATURE_COLUMNS = ["Rs", "Ms", "Ts", "Mp", "P", "sma", "i"]
# Bump when the extraction changes so cached feature files are recomputed. 3: `orbit_source`.
FEATURES_VERSION = 3
# What load_features returns and caches.
FEATURE_KEYS = ("planet_ids", "depth", "depth_err", "star", "orbit_source")


def _half_chord_hours(p_days: float, a_over_rs: float, inc_rad: float, reach: float) -> float:
    """Half the time the planet centre spends within `reach` stellar radii of the star's centre."""
    b = a_over_rs * math.cos(inc_rad)
    chord = reach**2 - b**2
    if chord <= 0:
        return 0.0
    x = min(1.0, math.sqrt(chord) / (a_over_rs * math.sin(inc_rad)))
    return 12.0 * p_days / math.pi * math.asin(x)


def transit_window(
    star_row: Mapping, time_hours: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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


def _best_trapezoid(white: np.ndarray, t: np.ndarray, mid: np.ndarray, t14: np.ndarray,
                    ingress: np.ndarray) -> tuple[float, float, float]:
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


def find_transit(light_curve: np.ndarray, time_hours: np.ndarray, label: str = "planet") -> tuple[
        float, float, float]:
    """(mid-transit hour, T14 in hours, ingress fraction T12/T14) of the transit in the light curve.

    The white light (every channel normalised to its median, then averaged) is fitted with a
    trapezoid over a quadratic baseline, on a grid of mid-times, durations and ingress fractions,
    coarse then fine, each transit wholly inside the visit (as the competition's visits are planned)
    and leaving the MIN_OUT_POINTS of baseline the window needs (so that noise in a shallow
    transit's light curve cannot make a transit spanning the whole visit the best candidate).
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
    mid, t14, ingress = grid(np.arange(t[0], t[-1], coarse), np.arange(3 * step, 0.9 * span, coarse))
    offsets = np.arange(-REFINE_SAMPLES, REFINE_SAMPLES + 1) * step / 2
    return grid(mid + offsets, np.clip(t14 + offsets, 2 * step, None))


def _found_transit_window(time_hours: np.ndarray, mid: float, t14: float, ingress: float,
                          label: str) -> tuple[np.ndarray, np.ndarray]:
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


def fitted_transit_window(light_curve: np.ndarray, time_hours: np.ndarray, label: str = "planet") -> tuple[
        np.ndarray, np.ndarray, float]:
    """(in-transit, out-of-transit, mid-transit hour) found in the light curve itself.

    For data whose times count from the visit's start (calibrated data), or without an orbit to
    place the window: `find_transit`, then the masks of `_found_transit_window`.
    """
    mid, t14, ingress = find_transit(light_curve, time_hours, label)
    return (*_found_transit_window(time_hours, mid, t14, ingress, label), mid)


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


def _detrended_baseline(
    flux: np.ndarray, t: np.ndarray, out_of_transit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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
    `transit_window` or `fitted_transit_window`. detrend=False: the baseline is each channel's raw out-of-transit mean. detrend=True: the
    baseline follows the instrument drifts (see `_detrended_baseline`), fitted out of transit
    and extrapolated under it.

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


# Where a planet's transit geometry comes from (load_features' `orbit_source`, one per planet): the
# star info's orbit (P, sma, i), or the white light itself. Without the star info's orbit (ADC 2024
# ships no star info) the transit fit fits the orbit's shape and the window method finds its window
# in the white light; on calibrated data (times from the visit's start) the window method always does.
ORBIT_FROM_STAR_INFO = "star_info"
ORBIT_FITTED = "fitted"
ORBIT_SOURCES = (ORBIT_FROM_STAR_INFO, ORBIT_FITTED)


def orbit_source(star_row: Mapping, method: str, from_visit_start: bool) -> str:
    """The ORBIT_SOURCES entry `method` uses for this planet (see above)."""
    if method == "window" and from_visit_start:
        return ORBIT_FITTED
    known = transit_fit.Orbit.from_star(star_row, f"planet {int(star_row['planet_id'])}") is not None
    return ORBIT_FROM_STAR_INFO if known else ORBIT_FITTED


def planet_depth(flux: np.ndarray, time_h: np.ndarray, star_row: Mapping, detrend: bool,
                 from_visit_start: bool) -> tuple[np.ndarray, np.ndarray]:
    """One planet's depth and error per channel, over every visit of its light curve.

    Times from mid-transit (simulated data): the window follows from the orbit. Times from the
    visit's start (calibrated data), or no orbit in the star info: each visit's window and
    mid-transit are fitted to the visit.
    """
    label = f"planet {int(star_row['planet_id'])}"
    found = orbit_source(star_row, "window", from_visit_start) == ORBIT_FITTED
    estimates = []
    for visit in (flux[None] if flux.ndim == 2 else flux):
        if found:
            in_transit, out_of_transit, mid = fitted_transit_window(visit, time_h, label)
            estimates.append(estimate_depth(visit, time_h - mid, (in_transit, out_of_transit), detrend))
        else:
            estimates.append(estimate_depth(visit, time_h, transit_window(star_row, time_h), detrend))
    return combine_visits(estimates)


def planet_transit_fit(flux: np.ndarray, time_h: np.ndarray, star_row: Mapping, wavelengths_um: np.ndarray,
                       from_visit_start: bool, decorrelate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One planet's depth and error per channel over every visit, by the classical transit fit.

    Times from mid-transit (simulated data): the fit starts at t0 = 0 with the window from the
    orbit. Times from the visit's start (calibrated data): it starts at the transit found in the
    visit's white light. Without the star info's orbit (`orbit_source` "fitted": ADC 2024) the
    transit is found in the white light whatever the times count from, and the fit fits the orbit's
    shape starting from the duration found there.
    """
    label = f"planet {int(star_row['planet_id'])}"
    orbit = transit_fit.Orbit.from_star(star_row, label)
    fits = []
    for visit in (flux[None] if flux.ndim == 2 else flux):
        duration = None
        if orbit is None:
            mid, duration, ingress = find_transit(visit, time_h, label)
            window = _found_transit_window(time_h, mid, duration, ingress, label)
        elif from_visit_start:
            *window, mid = fitted_transit_window(visit, time_h, label)
        else:
            window, mid = transit_window(star_row, time_h), 0.0
        fits.append(transit_fit.fit_visit(visit, time_h, orbit, wavelengths_um, tuple(window), mid, decorrelate,
                                          duration_guess_h=duration))
    return combine_visits(fits)


# How a planet's depths are measured: `planet_depth` over transit windows, or the classical transit
# fit of `spectramind.data.transit_fit` (which models the systematics itself; there `detrend`
# switches the per-channel decorrelation of the white light's common mode).
METHODS = ("window", "transit_fit")


def method_switch(method: str, detrend: bool, decorrelate: bool) -> bool:
    """The one switch `load_features` takes for ``method``: the window's detrending (the data
    config's ``detrend``) or the transit fit's common-mode decorrelation (``decorrelate``)."""
    return detrend if method == "window" else decorrelate


def check_method(method: str) -> str:
    """`method` if it is one of METHODS, else a ConfigurationError naming the choices."""
    if method not in METHODS:
        raise ConfigurationError(f"unknown feature method {method!r}; expected one of {', '.join(METHODS)}")
    return method


def _method_version(method: str) -> int:
    """The version a cache file of `method` must carry to be reused."""
    return transit_fit.TRANSIT_FIT_VERSION if method == "transit_fit" else FEATURES_VERSION


# Planets per worker below which a second process costs more (its start-up) than it saves.
MIN_PLANETS_PER_WORKER = 50


def _measure_planets(data_dir: Path, rows: list[dict], detrend: bool, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Depth and error (float32, len(rows) x 283) of some of a folder's planets (one worker's share)."""
    time_h = layout.read_time(data_dir)
    from_visit_start = layout.time_origin(data_dir) == layout.TIME_FROM_VISIT_START
    wavelengths = layout.read_wavelengths(data_dir) if method == "transit_fit" else None
    depth = np.empty((len(rows), layout.N_WAVELENGTHS), dtype=np.float32)
    depth_err = np.empty_like(depth)
    for index, row in enumerate(rows):
        flux = np.asarray(layout.load_light_curve(data_dir, row["planet_id"], n_time=time_h.size), dtype=np.float64)
        if method == "transit_fit":
            d, e = planet_transit_fit(flux, time_h, row, wavelengths, from_visit_start, decorrelate=detrend)
        else:
            d, e = planet_depth(flux, time_h, row, detrend, from_visit_start)
        if not (np.isfinite(d).all() and np.isfinite(e).all()):
            raise DatasetError(f"{layout.light_curve_path(data_dir, row['planet_id'])}: depth estimate is not finite")
        depth[index], depth_err[index] = d, e
    return depth, depth_err


def feature_workers(n_planets: int) -> int:
    """Processes that measure a folder's planets: the cores this process may use (the sweeper's
    share, ``SPECTRAMIND_NUM_THREADS``, when jobs run side by side), fewer for a small folder."""
    cores = int(os.environ.get("SPECTRAMIND_NUM_THREADS") or len(os.sched_getaffinity(0)))
    return max(1, min(cores, n_planets // MIN_PLANETS_PER_WORKER))


def _compute_features(data_dir: Path, detrend: bool, method: str) -> dict[str, np.ndarray]:
    """Every planet's features; with several cores the planets are shared out between processes
    (each planet's fit is independent: the result is the same as one process's)."""
    stars = layout.read_star_info(data_dir)
    from_visit_start = layout.time_origin(data_dir) == layout.TIME_FROM_VISIT_START
    rows = stars.to_dict("records")
    shares = [list(share) for share in np.array_split(np.array(rows, dtype=object), feature_workers(len(rows)))]
    if len(shares) == 1:
        parts = [_measure_planets(data_dir, rows, detrend, method)]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=len(shares), backend="loky")(
            delayed(_measure_planets)(data_dir, share, detrend, method) for share in shares)
    return {
        "planet_ids": stars["planet_id"].to_numpy(dtype=np.int64),
        "depth": np.concatenate([depth for depth, _ in parts]),
        "depth_err": np.concatenate([err for _, err in parts]),
        "star": stars[STAR_FEATURE_COLUMNS].to_numpy(dtype=np.float32),
        "orbit_source": np.array([orbit_source(row, method, from_visit_start) for row in rows]),
    }


def feature_cache_path(data_dir: str | os.PathLike, detrend: bool, method: str = "window") -> Path:
    """Where `load_features` caches its result: keyed on the method and the dataset fingerprint."""
    fingerprint = layout.dataset_fingerprint(data_dir)
    if method == "window":
        key = f"detrend{int(detrend)}"
    else:
        key = method if detrend else f"{method}-no_common_mode"
    return Path(data_dir) / layout.CACHE_DIR / f"features-{key}-{fingerprint[:12]}.npz"


def _read_cache(path: Path, version: int) -> dict[str, np.ndarray] | None:
    """The cached features, or None if absent, unreadable or from another `version`."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as cached:
            if int(cached["version"]) != version:
                return None
            return {k: cached[k] for k in FEATURE_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # a truncated .npz is no zip
        return None


def _write_cache(path: Path, features: dict[str, np.ndarray], version: int) -> None:
    """Atomic write (temp file + rename) so a reader never sees half a cache file."""
    with replacing(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, version=np.int64(version), **features)


def load_features(data_dir: str | os.PathLike, detrend: bool, method: str = "window") -> dict[str, np.ndarray]:
    """Depth features of every planet by `method` (METHODS), computed once per dataset version and cached.

    Returns planet_ids (int64, n), depth and depth_err (float32, n x 283), star (float32,
    n x len(STAR_FEATURE_COLUMNS)) and orbit_source (str, n: an ORBIT_SOURCES entry, where each
    planet's transit geometry came from), rows in train_star_info.csv order. A data directory that
    cannot be written to still works; the features are then recomputed on every call.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: data directory does not exist")
    version = _method_version(check_method(method))
    cache_path = feature_cache_path(root, detrend, method)
    cached = _read_cache(cache_path, version)
    if cached is not None:
        return cached
    try:  # runs side by side compute a folder's features once: the others wait, then read the cache
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(cache_path.with_suffix(".lock"), "a")
    except OSError:  # a read-only data folder: nothing to share, compute here
        return _compute_features(root, detrend, method)
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read_cache(cache_path, version)
        if cached is not None:
            return cached
        features = _compute_features(root, detrend, method)
        try:
            _write_cache(cache_path, features, version)
        except OSError as err:
            warnings.warn(f"{cache_path}: could not cache features ({err})", stacklevel=2)
    return features
