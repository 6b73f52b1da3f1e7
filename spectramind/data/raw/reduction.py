"""The reduction of one planet's raw frames into light curves: the organisers' steps with the fixes
top solutions made, per visit and sensor::

    1 ADC          electrons = DN / gain + offset
    2 masks        dead pixels (dead.parquet), hot pixels (5-sigma clip of the dark), and per read
                   saturated (DN 65535) or NaN values: masked, never averaged in
    3 linearity    linear_corr's polynomial, per pixel and per read
    4 CDS + dark   long read - short read - dark x (t_long - t_short): the dark subtraction of each
                   read (dark x its time since reset) cancels to this, exactly
    5 binning      the sum of ``airs_bin`` / ``fgs_bin`` consecutive CDS frames per pixel
    6 flat field   divide by flat
    7 crop + flip  AIRS columns 39:321, reversed so channels ascend in wavelength like wl_2..wl_283
    8 extraction   optimal (profile-weighted) or box sum of the whole spatial profile
                   (``spectramind.data.raw.extraction``), in electrons per second of integration
    9 assembly     [FGS1 | AIRS], each channel normalised to its visit mean (flux_levels.csv keeps
                   the means); FGS1 resampled onto AIRS's bin times when their bin counts differ

Every visit is calibrated and kept: a planet observed twice gets a (2, n_time, 283) light curve,
and the features combine the visits' depths by their errors.

Memory stays bounded whatever a visit's length: a signal file is read in blocks of pixels over
all frames (parquet stores columns separately) of at most ``block_values`` values, and only the
time-binned frames are kept.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spectramind.data.instrument import AIRS, AIRS_END_COLUMN, AIRS_FIRST_COLUMN, FGS, FRAME_SHAPE, SENSORS
from spectramind.data.raw import extraction
from spectramind.data.raw.layout import (
    LINEAR_CORR_TERMS,
    SATURATED_DN,
    AxisInfo,
    RawLayout,
    SensorCalibration,
    SignalFile,
    Visit,
    apply_linear_corr,
    read_adc,
    read_calibration,
)
from spectramind.errors import ConfigurationError, DatasetError

HOT_SIGMA = 5.0
HOT_ITERATIONS = 5
# A pixel whose flat is this low does not respond (dead pixels' flats are near zero): masked.
FLAT_FLOOR = 0.1
# A read frame with more than this fraction of NaN or saturated pixels is unusable.
MAX_BAD_FRAME_FRACTION = 0.5
# Values processed at a time inside a block read from disk: small enough to stay in the CPU's cache
# through the dozen arithmetic passes (4x faster than whole blocks, measured).
CACHE_VALUES = 2**17


@dataclass(frozen=True)
class CalibrationParams:
    """What the calibration does; the defaults are the organisers' bins (187 time bins of 144 s)."""

    airs_bin: int = 30
    fgs_bin: int = 360
    extraction: str = "optimal"
    mask_hot: bool = True
    linearity: bool = True
    # Values read and processed at a time per sensor: bounds a worker's memory (~50 B per value).
    block_values: int = 2**21

    def __post_init__(self) -> None:
        for name in ("airs_bin", "fgs_bin", "block_values"):
            if int(getattr(self, name)) < 1:
                raise ConfigurationError(f"{name}={getattr(self, name)!r} must be >= 1")
        if self.extraction not in extraction.METHODS:
            raise ConfigurationError(f"extraction={self.extraction!r}; expected one of {', '.join(extraction.METHODS)}")

    def record(self) -> dict[str, Any]:
        """The parameters that shape the output (``block_values`` only bounds memory)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "block_values"}

    def bin_size(self, sensor: str) -> int:
        return self.fgs_bin if sensor == FGS else self.airs_bin


def hot_pixels(dark: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Pixels whose dark current lies beyond HOT_SIGMA standard deviations of the median, clipped
    iteratively as astropy's ``sigma_clip(dark, sigma=5, maxiters=5)`` does (dead pixels ignored)."""
    values = np.where(dead, np.nan, dark)
    clipped = np.isnan(values)
    for _ in range(HOT_ITERATIONS):
        kept = values[~clipped]
        if kept.size == 0:
            break
        outside = np.abs(values - np.median(kept)) > HOT_SIGMA * kept.std()
        updated = np.isnan(values) | outside
        if np.array_equal(updated, clipped):
            break
        clipped = updated
    return clipped & ~dead


@dataclass
class SensorSeries:
    """One sensor's calibrated visit: time-bin centres (hours) and flux (bins, channels) in e-/s."""

    times_h: np.ndarray
    flux: np.ndarray
    masked_pixels: float


def dn_polynomial(coefficients: np.ndarray, gain: float, offset: float, linearity: bool) -> np.ndarray:
    """Per-pixel coefficients (6, n) of the linearity polynomial applied to ADC-converted values,
    p(DN / gain + offset), expanded as one polynomial in DN: steps 1 and 3 in one pass."""
    scale = 1.0 / gain
    if not linearity:
        composed = np.zeros_like(coefficients)
        composed[0], composed[1] = offset, scale
        return composed
    composed = np.zeros_like(coefficients)
    for j in range(LINEAR_CORR_TERMS):
        for k in range(j + 1):
            composed[k] += coefficients[j] * math.comb(j, k) * scale**k * offset ** (j - k)
    return composed


def _add_to_bins(
    sums: np.ndarray,
    flagged: np.ndarray,
    cds: np.ndarray,
    bad: np.ndarray,
    first_pair: int,
    bin_size: int,
    positions: slice,
) -> None:
    """Add CDS frames (pairs, pixels) starting at ``first_pair`` into the per-bin sums."""
    n_bins = sums.shape[0]
    pair = first_pair
    end = first_pair + cds.shape[0]
    while pair < end and pair // bin_size < n_bins:
        b = pair // bin_size
        if pair == b * bin_size and end >= (b + 1) * bin_size:  # a run of whole bins at once
            whole = min((end - pair) // bin_size, n_bins - b)
            lo = pair - first_pair
            span = slice(lo, lo + whole * bin_size)
            sums[b : b + whole, positions] += cds[span].reshape(whole, bin_size, -1).sum(axis=1)
            flagged[b : b + whole, positions] |= bad[span].reshape(whole, bin_size, -1).any(axis=1)
            pair += whole * bin_size
        else:
            stop = min(end, (b + 1) * bin_size)
            span = slice(pair - first_pair, stop - first_pair)
            sums[b, positions] += cds[span].sum(axis=0)
            flagged[b, positions] |= bad[span].any(axis=0)
            pair = stop


def _binned_cds(
    signal: SignalFile,
    coefficients: np.ndarray,
    dark: np.ndarray,
    exposure: np.ndarray,
    n_bins: int,
    bin_size: int,
    pixels: np.ndarray,
    params: CalibrationParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-5 over a signal file read in blocks: per bin and pixel the summed dark-subtracted CDS
    (electrons) and whether a saturated or NaN read fell in it."""
    sums = np.zeros((n_bins, pixels.size))
    flagged = np.zeros((n_bins, pixels.size), dtype=bool)
    bad_per_frame = np.zeros(signal.n_frames, dtype=np.int64)
    for first, positions, values in signal.blocks(pixels, params.block_values):
        may_be_nan = not np.issubdtype(values.dtype, np.integer)
        step = max(2, CACHE_VALUES // values.shape[1] // 2 * 2)
        for start in range(0, len(values), step):
            raw = values[start : start + step]
            bad = raw >= SATURATED_DN
            if may_be_nan:
                bad |= np.isnan(raw)
            bad_per_frame[first + start : first + start + len(raw)] += bad.sum(axis=1)
            electrons = apply_linear_corr(raw.astype(np.float64), coefficients[:, positions])
            cds = electrons[1::2] - electrons[0::2]
            first_pair = (first + start) // 2
            cds -= exposure[first_pair : first_pair + len(cds), None] * dark[None, positions]
            pair_bad = bad[0::2] | bad[1::2]
            cds[pair_bad] = 0.0
            _add_to_bins(sums, flagged, cds, pair_bad, first_pair, bin_size, positions)
    unusable = np.flatnonzero(bad_per_frame > MAX_BAD_FRAME_FRACTION * pixels.size)
    if unusable.size:
        raise DatasetError(
            f"{signal.path}: {unusable.size} of {signal.n_frames} frames are more than half NaN or "
            f"saturated (first: frame {int(unusable[0])})"
        )
    return sums, flagged


def calibrate_sensor(
    signal: SignalFile,
    calibration: SensorCalibration,
    gain: float,
    offset: float,
    axis: AxisInfo,
    params: CalibrationParams,
) -> SensorSeries:
    """Steps 1-8 for one sensor of one visit (see the module docstring)."""
    sensor, path = signal.sensor, signal.path
    bin_size = params.bin_size(sensor)
    n_pairs = signal.n_frames // 2
    n_bins = n_pairs // bin_size
    if n_bins < 1:
        raise ConfigurationError(f"{path}: {n_pairs} read pairs, fewer than the bin of {bin_size}")
    seconds = axis.read_seconds(sensor, signal.n_frames, path)
    pair_times = axis.pair_times_h(sensor, signal.n_frames, path)
    exposure = seconds[1::2] - seconds[0::2]
    rows, width = FRAME_SHAPE[sensor]
    columns = np.arange(AIRS_FIRST_COLUMN, AIRS_END_COLUMN) if sensor == AIRS else np.arange(width)
    pixels = (np.arange(rows)[:, None] * width + columns[None, :]).ravel()
    coefficients = dn_polynomial(
        calibration.linear_corr.reshape(LINEAR_CORR_TERMS, -1)[:, pixels], gain, offset, params.linearity
    )
    dark = calibration.dark.ravel()[pixels]
    sums, flagged = _binned_cds(signal, coefficients, dark, exposure, n_bins, bin_size, pixels, params)
    shape = (rows, columns.size)
    flat = calibration.flat.ravel()[pixels].reshape(shape)
    static = calibration.dead.ravel()[pixels].reshape(shape) | (flat < FLAT_FLOOR)
    if params.mask_hot:
        static |= hot_pixels(calibration.dark, calibration.dead).ravel()[pixels].reshape(shape)
    frames = (sums / np.where(static, 1.0, flat).ravel()).reshape(n_bins, *shape)
    good = ~(static[None] | flagged.reshape(n_bins, *shape))
    point_source = sensor == FGS
    bin_exposure = exposure[: n_bins * bin_size].reshape(n_bins, bin_size).sum(axis=1)
    profile, mean_frame = extraction.spatial_profile(frames, good, point_source)
    weights = extraction.pixel_weights(
        params.extraction,
        profile,
        mean_frame,
        flat,
        calibration.read.ravel()[pixels].reshape(shape),
        dark.reshape(shape) * bin_exposure.mean(),
        2 * bin_size,
        point_source,
    )
    charge = extraction.extract(frames, good, profile, weights, point_source, str(path))
    times = pair_times[: n_bins * bin_size].reshape(n_bins, bin_size).mean(axis=1)
    flux = charge / bin_exposure[:, None]
    if sensor == AIRS:
        flux = flux[:, ::-1]  # columns 320..39: ascending wavelength, as wl_2..wl_283
    return SensorSeries(times_h=times, flux=flux, masked_pixels=float(1.0 - good.mean()))


def combine_sensors(
    airs_times: np.ndarray, airs_flux: np.ndarray, fgs_times: np.ndarray, fgs_flux: np.ndarray
) -> tuple[np.ndarray, bool]:
    """[FGS1 | AIRS] on AIRS's bins, (bins, 283): FGS1 as binned when the bin counts agree, else
    linearly interpolated onto AIRS's bin times (then the flag is True)."""
    resampled = fgs_times.size != airs_times.size
    fgs = np.interp(airs_times, fgs_times, fgs_flux) if resampled else fgs_flux
    return np.column_stack([fgs, airs_flux]), resampled


def calibrate_visit(
    raw: RawLayout, split: str, visit: Visit, axis: AxisInfo, params: CalibrationParams
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One visit: (bin times in hours from its start, flux (bins, 283) in e-/s, details)."""
    adc = read_adc(raw, split, visit.planet_id)
    # Everything that can be checked cheaply is checked before the frames are read.
    inputs = {
        sensor: (SignalFile(visit.signal[sensor], sensor), read_calibration(visit.calibration[sensor], sensor))
        for sensor in SENSORS
    }
    series = {
        sensor: calibrate_sensor(signal, calibration, *adc[sensor], axis, params)
        for sensor, (signal, calibration) in inputs.items()
    }
    airs, fgs = series[AIRS], series[FGS]
    flux, resampled = combine_sensors(airs.times_h, airs.flux, fgs.times_h, fgs.flux[:, 0])
    level = flux.mean(axis=0)
    if not (np.isfinite(flux).all() and (level > 0).all()):
        channel = int(np.flatnonzero(~np.isfinite(level) | (level <= 0))[0]) if not (level > 0).all() else 0
        raise DatasetError(
            f"{visit.signal[AIRS].parent}: visit {visit.index} gives no positive signal in "
            f"channel wl_{channel + 1} (dark or corrupted frames)"
        )
    details = {
        "fgs_resampled": bool(resampled),
        "masked_pixels": {sensor: round(s.masked_pixels, 5) for sensor, s in series.items()},
    }
    return airs.times_h, flux, details


def calibrate_planet(
    raw: RawLayout, split: str, planet_id: int, axis: AxisInfo, params: CalibrationParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Every visit of a planet: (times, curves (visits, bins, 283) normalised, levels (visits, 283) e-/s,
    details)."""
    times, fluxes, details = None, [], []
    for visit in raw.visits(split, planet_id):
        visit_times, flux, visit_details = calibrate_visit(raw, split, visit, axis, params)
        if times is not None and not np.array_equal(times, visit_times):
            raise DatasetError(
                f"{visit.signal[AIRS]}: visit {visit.index} gives {visit_times.size} time bins, "
                f"visit 0 {times.size}: its frame count differs"
            )
        times = visit_times
        fluxes.append(flux)
        details.append(visit_details)
    flux = np.stack(fluxes)
    levels = flux.mean(axis=1)
    return times, flux / levels[:, None, :], levels, {"visit_details": details}
