"""Calibrating predicted uncertainties on labelled planets: σ² = (scale·error)² + floor² per detector.

Shared by the classical transit fit (`TransitFitModule`) and the Gaussian spectral prior
(`GaussianSpectralPrior`), which both turn a fit's per-channel errors into predictive σ. The scale
corrects the fit covariance's white-noise assumption; the floor is the error every channel of a
planet shares (pointing jitter under the transit, limb darkening, the white light's baseline),
which no per-channel covariance sees. Both maximise the Gaussian likelihood of the labels.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from spectramind.spectrum import DETECTORS, N_WAVELENGTHS

# Channels calibrated together: FGS1 (a photometer) and the AIRS spectrometer.
DETECTOR_CHANNELS = tuple(DETECTORS.values())


def calibrate_sigma(error: np.ndarray, residual: np.ndarray) -> tuple[float, float]:
    """(scale, floor) maximising the likelihood of `residual` under σ² = (scale·error)² + floor²."""
    error = np.asarray(error, dtype=np.float64).ravel()
    residual = np.asarray(residual, dtype=np.float64).ravel()
    if error.size == 0 or error.size != residual.size or not (error > 0).all():
        raise ValueError("calibrate_sigma needs as many positive errors as residuals")

    def nll(log_params: np.ndarray) -> float:
        variance = (np.exp(log_params[0]) * error) ** 2 + np.exp(2 * log_params[1])
        return float(np.mean(0.5 * residual**2 / variance + 0.5 * np.log(variance)))

    start = np.array([0.0, np.log(np.median(error))])
    result = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-10})
    scale, floor = np.exp(result.x)
    return float(scale), float(floor)


def detector_calibration(depth_err: np.ndarray, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, floor) arrays (283,), each detector's channels sharing one pair."""
    scale, floor = np.ones(N_WAVELENGTHS), np.zeros(N_WAVELENGTHS)
    for channels in DETECTOR_CHANNELS:
        scale[channels], floor[channels] = calibrate_sigma(depth_err[:, channels], residual[:, channels])
    return scale, floor
