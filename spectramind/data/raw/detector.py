"""The detector model of the raw-frame simulator: what turns incident photons into uint16 frames.

Each step is the forward version of one step of the organisers' calibration, so that
``spectramind.data.raw.calibrate`` undoes exactly what is done here::

    charge   = (flat x photons/s + dark) x seconds since reset     (dead pixels collect nothing)
               + photon noise, accumulated: the long read holds the short read's charge
    measured = the inverse of the linear_corr polynomial (a sub-linear response) + read noise
    DN       = round((measured - offset) x gain), clipped to uint16 (65535 = saturated)

The calibration files a visit ships with (dark, dead, flat, read, linear_corr) are drawn here per
visit, with distributions like the competition's (docs/real-data.md). With
``DetectorConfig(photon_noise=False, read_noise=False, quantize=False)`` every stochastic and
lossy step is off and the frames are written as float64 DN: an ideal detector whose calibration
must give back the astrophysical light curves to rounding error.

Where the light falls (the trace and the PSF) and the noise an optimal extraction leaves are the
instrument's (:mod:`spectramind.data.instrument`), shared with the light-curve simulator.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from spectramind.data.instrument import DARK_E_PER_S, FRAME_SHAPE, READ_NOISE_E
from spectramind.data.raw.layout import (
    LINEAR_CORR_TERMS,
    SATURATED_DN,
    SensorCalibration,
    apply_linear_corr,
)
from spectramind.errors import ConfigurationError

# Series coefficients (Catalan numbers) of the inverse of measured = Q - beta Q^2, up to x^5:
# Q = x + beta x^2 + 2 beta^2 x^3 + 5 beta^3 x^4 + 14 beta^4 x^5.
_INVERSE_SERIES = (1.0, 1.0, 2.0, 5.0, 14.0)
_NEWTON_STEPS = 3


@dataclass(frozen=True)
class DetectorConfig:
    """Detector properties; the defaults follow the competition's calibration files."""

    gain: float = 0.4369  # DN per electron (electrons = DN / gain + offset)
    offset: float = -1000.0
    read_noise_e: float = READ_NOISE_E  # median per read
    dark_e_per_s: float = DARK_E_PER_S  # median
    hot_fraction: float = 0.008  # pixels with 0.1-12 e-/s of dark current
    dead_fraction: float = 0.001
    flat_scatter: float = 0.015
    nonlinearity_per_e: float = 4.5e-7  # beta: measured = Q (1 - beta Q), about -2 % at 45k e-
    photon_noise: bool = True
    read_noise: bool = True
    quantize: bool = True  # round to whole DN and clip to uint16; False writes float64 DN

    def __post_init__(self) -> None:
        if not self.gain > 0:
            raise ConfigurationError(f"DetectorConfig.gain={self.gain!r} must be > 0")
        for name in ("hot_fraction", "dead_fraction"):
            if not 0 <= getattr(self, name) < 0.5:
                raise ConfigurationError(f"DetectorConfig.{name}={getattr(self, name)!r} is out of [0, 0.5)")
        for name in ("read_noise_e", "dark_e_per_s", "flat_scatter", "nonlinearity_per_e"):
            if not getattr(self, name) >= 0:
                raise ConfigurationError(f"DetectorConfig.{name}={getattr(self, name)!r} must be >= 0")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def draw_calibration(rng: np.random.Generator, sensor: str, config: DetectorConfig) -> SensorCalibration:
    """One visit's calibration files for ``sensor``: the detector's true properties."""
    shape = FRAME_SHAPE[sensor]
    dark = config.dark_e_per_s * np.exp(rng.normal(0.0, 0.3, shape))
    hot = rng.uniform(size=shape) < config.hot_fraction
    dark[hot] = 10 ** rng.uniform(-1.0, 1.1, int(hot.sum()))
    dead = rng.uniform(size=shape) < config.dead_fraction
    read = config.read_noise_e * np.exp(rng.normal(0.0, 0.08, shape))
    gradient = np.linspace(-1.0, 1.0, shape[1])[None, :] * 0.004
    flat = 1.0 + gradient + config.flat_scatter * rng.normal(size=shape)
    flat[dead] = rng.normal(0.0, 0.02, int(dead.sum()))  # dead pixels' flats are near zero, as observed
    beta = config.nonlinearity_per_e * np.exp(rng.normal(0.0, 0.1, shape))
    slope = 1.0 + rng.normal(0.0, 0.003, shape)
    linear_corr = np.empty((LINEAR_CORR_TERMS, *shape))
    linear_corr[0] = rng.normal(0.15, 0.15, shape)
    for k, catalan in enumerate(_INVERSE_SERIES, start=1):
        linear_corr[k] = slope * catalan * beta ** (k - 1)
    return SensorCalibration(dark=dark, dead=dead, flat=flat, read=read, linear_corr=linear_corr)


def measured_charge(charge: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """The sub-linear response: x with apply_linear_corr(x) == charge, by Newton's method.

    The start, the polynomial's inverse to second order, is within ~1e-3 of the root at the
    brightest realistic charges; each step then squares the relative error.
    """
    c0, c1, c2 = coefficients[0], coefficients[1], coefficients[2]
    y = (charge - c0) / c1
    x = y - (c2 / c1) * y * y
    derivative = np.arange(1, LINEAR_CORR_TERMS)[:, None] * coefficients[1:]
    for _ in range(_NEWTON_STEPS):
        slope = derivative[-1] * x
        for k in range(LINEAR_CORR_TERMS - 3, 0, -1):
            slope += derivative[k]
            slope *= x
        slope += derivative[0]
        residual = apply_linear_corr(x, coefficients)
        residual -= charge
        residual /= slope
        x -= residual
    return x


def render_reads(
    photon_rate: np.ndarray,
    read_seconds: np.ndarray,
    calibration: SensorCalibration,
    config: DetectorConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """Short/long read pairs in DN, (2 x n_pairs, pixels), from incident photons/s (n_pairs, pixels).

    Frames alternate short and long reads of the charge accumulated since the pair's reset;
    ``read_seconds`` (2 x n_pairs,) is each read's time since reset (``AxisInfo.read_seconds``).
    """
    short_s, long_s = read_seconds[0::2, None], read_seconds[1::2, None]
    flat = calibration.flat.ravel()
    dead = calibration.dead.ravel()
    rate = photon_rate * np.where(dead, 0.0, flat) + np.where(dead, 0.0, calibration.dark.ravel())
    short = rate * short_s
    extra = rate * (long_s - short_s)
    if config.photon_noise:
        short = short + np.sqrt(short) * rng.standard_normal(short.shape)
        extra = extra + np.sqrt(extra) * rng.standard_normal(extra.shape)
    charge = np.empty((2 * rate.shape[0], rate.shape[1]))
    charge[0::2] = short
    charge[1::2] = short + extra
    coefficients = calibration.linear_corr.reshape(LINEAR_CORR_TERMS, -1)
    measured = measured_charge(charge, coefficients)
    if config.read_noise:
        measured += calibration.read.ravel() * rng.standard_normal(measured.shape)
    dn = (measured - config.offset) * config.gain
    if not config.quantize:
        return dn
    return np.clip(np.rint(dn), 0, SATURATED_DN).astype(np.uint16)
