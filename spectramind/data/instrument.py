"""The instrument, once for both simulators: sensors and frames, wavelengths, where the light falls,
photon rates, cadence and the noise they give.

Why one module: the light-curve simulator and the raw-frame simulator must agree on what a star
of a given temperature and magnitude puts on each channel, and on how much noise an observation
of it carries, or the fast data set would be a different problem from the raw one. So the photon
rates are physical (e-/s over a channel's whole spatial profile), calibrated on the competition's
real files, and the light-curve simulator's per-sample noise is *derived* from them, the real
cadence and the detector's read noise, exactly as an ideal optimal extraction of the raw frames
would leave it (:func:`sample_noise`, from the same :func:`extraction_variance` the raw
simulator's truth uses). The detector's electronics and calibration files (dark, flat, read noise,
linearity, ADC) are :mod:`spectramind.data.raw.detector`'s.

Calibration (docs/realism.md): in planet 342072318 of ADC 2025 (a 4798 K star) FGS1 collects
~2.1e6 e-/s over its PSF and the AIRS-CH0 target columns 1.1e3 (3.9 um) to 3.6e4 e-/s (1.95 um),
3.64e6 e-/s in all. A star of the reference magnitude and that temperature gets exactly these
rates; the AIRS throughput is the smooth curve (Gaussian in wavelength) that, times the star's
photon spectrum and each column's bandwidth, reproduces them. The magnitude is defined near
0.7 um, so at equal magnitude a cooler star sends relatively more infrared photons.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import erf

# The two sensors and their frames (32 rows x columns): FGS1 first, as in the channel order (wl_1).
AIRS = "AIRS-CH0"
FGS = "FGS1"
SENSORS = (FGS, AIRS)  # in channel order: FGS1 is wl_1
FRAME_SHAPE = {AIRS: (32, 356), FGS: (32, 32)}
# AIRS columns 39..320 carry the 282 target channels, in descending wavelength: wl_2 is column 320,
# wl_283 column 39.
AIRS_FIRST_COLUMN, AIRS_END_COLUMN = 39, 321
N_AIRS_CHANNELS = AIRS_END_COLUMN - AIRS_FIRST_COLUMN

H_PLANCK = 6.62607015e-34
C_LIGHT = 2.99792458e8
K_BOLTZMANN = 1.380649e-23

FGS1_WAVELENGTH_UM = 0.70
# AIRS-CH0's dispersion law: wavelength (um) of column c, descending with c (axis_info.parquet).
AIRS_DISPERSION = (4.07846314, -4.43363407e-3, -6.91347214e-6)

# The real sample's star and rates (see the module docstring).
REFERENCE_TEMPERATURE_K = 4798.0
REFERENCE_MAGNITUDE = 9.5
FGS1_REFERENCE_RATE = 2.1e6
AIRS_REFERENCE_TOTAL_RATE = 3.64e6
AIRS_THROUGHPUT_PEAK_UM = 2.446
AIRS_THROUGHPUT_WIDTH_UM = 0.847

# The real cadence: a read pair (short, long read after a reset) every PAIR_PERIOD_S seconds,
# integrating EXPOSURE_S between its reads (axis_info.parquet; the organisers' dt convention).
PAIR_PERIOD_S = {AIRS: 4.8, FGS: 0.4}
EXPOSURE_S = {AIRS: 4.5, FGS: 0.1}
# The detector's median read noise (e- per read) and dark current (e-/s), from the real calibration
# files; spectramind.data.raw.detector draws each visit's files around them.
READ_NOISE_E = 13.0
DARK_E_PER_S = 0.0063
# Where the light falls: AIRS's spectral trace (centre row; width at 2.9 um, growing as the square
# root of the wavelength) and FGS1's PSF (centre, width), as in the competition's frames.
AIRS_TRACE_ROW = 15.5
AIRS_TRACE_SIGMA_PX = 2.9
FGS_PSF_CENTRE = (15.0, 16.0)
FGS_PSF_SIGMA_PX = 2.7


def airs_column_wavelengths() -> np.ndarray:
    """Wavelength (um) of each of the 356 AIRS-CH0 columns, descending."""
    column = np.arange(FRAME_SHAPE[AIRS][1], dtype=np.float64)
    c0, c1, c2 = AIRS_DISPERSION
    return c0 + c1 * column + c2 * column**2


def channel_wavelengths() -> np.ndarray:
    """wl_1..wl_283 (um): FGS1, then AIRS columns 320 down to 39 (ascending wavelength), as the
    competition's wavelengths.csv."""
    airs = airs_column_wavelengths()[AIRS_FIRST_COLUMN:AIRS_END_COLUMN][::-1]
    return np.concatenate([[FGS1_WAVELENGTH_UM], airs])


def _channel_bandwidths() -> np.ndarray:
    """Width (um) of each AIRS channel's column, in channel order (wl_2..wl_283)."""
    column = np.arange(AIRS_END_COLUMN - 1, AIRS_FIRST_COLUMN - 1, -1, dtype=np.float64)
    return np.abs(AIRS_DISPERSION[1] + 2 * AIRS_DISPERSION[2] * column)


def photon_spectrum(wavelengths_um: np.ndarray, temperature_k: float) -> np.ndarray:
    """A blackbody's photon flux per unit wavelength, up to a constant (Planck's law / photon energy)."""
    lam = np.asarray(wavelengths_um, dtype=np.float64) * 1e-6
    return lam**-4 / np.expm1(H_PLANCK * C_LIGHT / (lam * K_BOLTZMANN * temperature_k))


def _airs_response(temperature_k: float) -> np.ndarray:
    """Relative AIRS photons per channel: the star's photon spectrum (relative to 0.7 um, where the
    magnitude is defined) x each column's bandwidth x the throughput."""
    wavelengths = channel_wavelengths()[1:]
    throughput = np.exp(-0.5 * ((wavelengths - AIRS_THROUGHPUT_PEAK_UM) / AIRS_THROUGHPUT_WIDTH_UM) ** 2)
    sed = photon_spectrum(wavelengths, temperature_k) / photon_spectrum(np.array([FGS1_WAVELENGTH_UM]), temperature_k)
    return sed * _channel_bandwidths() * throughput


_AIRS_SCALE = AIRS_REFERENCE_TOTAL_RATE / float(_airs_response(REFERENCE_TEMPERATURE_K).sum())


def photon_rates(temperature_k: float, magnitude: float) -> np.ndarray:
    """Electrons per second over each channel's whole spatial profile (283,), FGS1 first."""
    brightness = 10 ** (-0.4 * (magnitude - REFERENCE_MAGNITUDE))
    airs = _AIRS_SCALE * _airs_response(temperature_k) * brightness
    return np.concatenate([[FGS1_REFERENCE_RATE * brightness], airs])


def sample_seconds(window_hours: float, n_time: int) -> float:
    """Duration of one light-curve sample: the visit evenly divided."""
    return window_hours * 3600.0 / n_time


def _pixel_gaussian(centre: np.ndarray, sigma: np.ndarray, n: int) -> np.ndarray:
    """Fraction of a Gaussian falling in each of ``n`` unit pixels, renormalised to sum to 1."""
    edges = np.arange(n + 1, dtype=np.float64)[:, None]
    cdf = 0.5 * (1.0 + erf((edges - 0.5 - centre[None, :]) / (math.sqrt(2.0) * sigma[None, :])))
    share = np.diff(cdf, axis=0)
    return share / share.sum(axis=0, keepdims=True)


def spatial_profile(sensor: str) -> np.ndarray:
    """Share of a channel's light on each pixel, (32, width).

    AIRS: a spectral trace along the rows, slightly curved across the columns and wider at long
    wavelengths; each column sums to 1. FGS1: one PSF over the whole frame, summing to 1.
    """
    rows, width = FRAME_SHAPE[sensor]
    if sensor == AIRS:
        column = np.arange(width, dtype=np.float64)
        centre = AIRS_TRACE_ROW + 0.6 * ((column - width / 2) / (width / 2)) ** 2
        sigma = AIRS_TRACE_SIGMA_PX * np.sqrt(airs_column_wavelengths() / 2.9)
        return _pixel_gaussian(centre, sigma, rows)
    row_centre, column_centre = FGS_PSF_CENTRE
    sigma = np.array([FGS_PSF_SIGMA_PX])
    along_rows = _pixel_gaussian(np.array([row_centre]), sigma, rows)[:, 0]
    along_columns = _pixel_gaussian(np.array([column_centre]), sigma, width)[:, 0]
    return np.outer(along_rows, along_columns)


def extraction_variance(
    profile: np.ndarray, flat: np.ndarray, charge: np.ndarray, dark_e: np.ndarray, read_e: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """Variance (e-^2) of one read pair's optimally extracted signal, per channel.

    ``profile`` (pixels, channels) is each channel's share of light per pixel, ``charge``
    (..., channels) the electrons the whole profile collected in the pair, ``dark_e`` and
    ``read_e`` (pixels, channels) each pixel's dark charge in the pair and its read noise per
    read, ``keep`` the pixels an extraction uses. A pixel's variance in flat-fielded units is
    (photons + dark + 2 reads^2) / flat^2 (a CDS difference reads twice); Horne's optimal weights
    give 1 / sum_pixels profile^2 / variance.
    """
    variance = (flat * profile * charge[..., None, :] + dark_e + 2 * read_e**2) / flat**2
    information = np.where(keep, profile**2, 0.0) / np.where(keep, variance, 1.0)
    return 1.0 / information.sum(axis=-2)


@functools.lru_cache(maxsize=1)
def nominal_profiles() -> dict[str, np.ndarray]:
    """Each sensor's spatial profile as (pixels, channels): FGS1's PSF over its 1024 pixels (one
    channel), AIRS's trace over 32 rows for each target column in channel order."""
    airs = spatial_profile(AIRS)[:, AIRS_FIRST_COLUMN:AIRS_END_COLUMN][:, ::-1]
    return {FGS: spatial_profile(FGS).reshape(-1, 1), AIRS: airs}


def sample_noise(rates: np.ndarray, seconds: float) -> np.ndarray:
    """Relative noise (283,) of one light-curve sample of ``seconds`` at the real cadence:
    photon, dark and read noise of the read pairs it holds, extracted optimally by a detector with
    the median properties (no bad pixels, a flat field of one)."""
    rates = np.asarray(rates, dtype=np.float64)
    noise = np.empty_like(rates)
    for sensor, channels in ((FGS, slice(0, 1)), (AIRS, slice(1, None))):
        profile = nominal_profiles()[sensor]
        pairs = seconds / PAIR_PERIOD_S[sensor]
        charge = rates[channels] * EXPOSURE_S[sensor]
        ones = np.ones_like(profile)
        variance = extraction_variance(
            profile, ones, charge, ones * DARK_E_PER_S * EXPOSURE_S[sensor], ones * READ_NOISE_E, ones.astype(bool)
        )
        noise[channels] = np.sqrt(variance / pairs) / charge
    return noise
