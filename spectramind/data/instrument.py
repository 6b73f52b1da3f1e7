"""The instrument, once for both simulators: wavelengths, photon rates, cadence and the noise they give.

Why one module: the light-curve simulator and the raw-frame simulator must agree on what a star
of a given temperature and magnitude puts on each channel, and on how much noise an observation
of it carries, or the fast data set would be a different problem from the raw one. So the photon
rates are physical (e-/s over a channel's whole spatial profile), calibrated on the competition's
real files, and the light-curve simulator's per-sample noise is *derived* from them, the real
cadence and the detector's read noise, exactly as an ideal optimal extraction of the raw frames
would leave it (``spectramind.data.detector.sample_noise``, from the same extraction variance
the raw simulator's truth uses).

Calibration (docs/realism.md): in planet 342072318 of ADC 2025 (a 4798 K star) FGS1 collects
~2.1e6 e-/s over its PSF and the AIRS-CH0 target columns 1.1e3 (3.9 um) to 3.6e4 e-/s (1.95 um),
3.64e6 e-/s in all. A star of the reference magnitude and that temperature gets exactly these
rates; the AIRS throughput is the smooth curve (Gaussian in wavelength) that, times the star's
photon spectrum and each column's bandwidth, reproduces them. The magnitude is defined near
0.7 um, so at equal magnitude a cooler star sends relatively more infrared photons.
"""

from __future__ import annotations

import numpy as np

from spectramind.data.raw_layout import AIRS, AIRS_END_COLUMN, AIRS_FIRST_COLUMN, FGS, FRAME_SHAPE

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
# files; spectramind.data.detector draws each visit's files around them.
READ_NOISE_E = 13.0
DARK_E_PER_S = 0.0063


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

