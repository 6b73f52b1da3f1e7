"""The classical transit fit: depths recovered from injected transits, errors that match the scatter,
calibration, the spectral prior, and `model=transit_fit` through the training entry point."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from training_support import run_module, tiny_overrides

from spectramind.data.features import transit_fit
from spectramind.data.features.orbit import NOMINAL_PERIOD_DAYS, Orbit, orbit_source
from spectramind.data.instrument import channel_wavelengths
from spectramind.data.sim.physics import limb_darkening
from spectramind.errors import DatasetError
from spectramind.models.sigma_calibration import calibrate_sigma
from spectramind.models.spectral_prior import GaussianSpectralPrior

STAR = {"planet_id": 1, "P": 3.0, "sma": 10.0, "i": 88.0, "Ts": 5800.0}
TIME_H = np.linspace(-5.0, 5.0, 160)
WAVELENGTHS = channel_wavelengths()


def _spectrum() -> np.ndarray:
    """A depth spectrum around 1 % with a band and a slope, (Rp/Rs)^2 per channel."""
    return 0.01 * (1.0 + 0.03 * np.exp(-0.5 * ((WAVELENGTHS - 2.7) / 0.15) ** 2) - 0.01 * WAVELENGTHS)


def _light_curve(depth: np.ndarray, time_h: np.ndarray, mid_h: float, noise: np.ndarray, seed: int) -> np.ndarray:
    """batman transits with the simulator's limb darkening, times a drift and a settling ramp, plus noise."""
    orbit = Orbit.from_star(STAR, "test")
    shape = transit_fit.TransitShape(time_h, orbit)
    u1, u2 = limb_darkening(WAVELENGTHS, STAR["Ts"])
    flux = np.column_stack([shape(mid_h, math.sqrt(d), a, b) for d, a, b in zip(depth, u1, u2)])
    tau = (time_h - time_h.mean()) / np.ptp(time_h)
    drift = 1.0 + 8e-4 * tau - 5e-4 * tau**2 + 1e-3 * np.exp(-(time_h - time_h[0]) / 0.5)
    rng = np.random.default_rng(seed)
    return flux * drift[:, None] + rng.standard_normal(flux.shape) * noise


def _fit(flux: np.ndarray, time_h: np.ndarray = TIME_H, from_visit_start: bool = False):
    return transit_fit.planet_transit_fit(flux, time_h, STAR, WAVELENGTHS, from_visit_start)


def test_noiseless_transit_gives_back_the_injected_depths():
    depth = _spectrum()
    fitted, error = _fit(_light_curve(depth, TIME_H, 0.0, np.zeros(283), seed=0))
    # Limb darkening is fitted and interpolated across AIRS, so not exact; the windowed depth is off by ~10 %.
    np.testing.assert_allclose(fitted, depth, rtol=2e-3)
    assert (error >= 0).all()


@pytest.fixture(scope="module")
def noisy_fits():
    depth = _spectrum()
    noise = np.r_[1e-4, np.full(282, 1e-3)]
    fits = [_fit(_light_curve(depth, TIME_H, 0.0, noise, seed=seed)) for seed in range(4)]
    return depth, np.array([f for f, _ in fits]), np.array([e for _, e in fits]), noise


def test_noisy_depths_are_unbiased_within_their_errors(noisy_fits):
    depth, fitted, error, _ = noisy_fits
    z = (fitted - depth) / error
    assert 0.8 < z[:, 1:].std() < 1.3  # AIRS errors match the scatter they claim
    assert np.abs(z[:, 1:].mean()) < 0.2
    assert np.all(np.abs(z[:, 0]) < 4)  # FGS1 within its error


def test_errors_follow_the_photon_noise(noisy_fits):
    depth, _, error, noise = noisy_fits
    # The depth error of a transit of ~60 in-transit samples out of 160 is a few x noise / sqrt(n).
    ratio = error[:, 1:] / (noise[1:] / math.sqrt(TIME_H.size))
    assert 1.5 < np.median(ratio) < 5


def test_visits_from_their_start_are_found_and_combined():
    depth = _spectrum()
    time_from_start = TIME_H - TIME_H[0]
    noise = np.r_[1e-4, np.full(282, 1e-3)]
    visits = np.stack(
        [_light_curve(depth, time_from_start, mid, noise, seed=10 + k) for k, mid in enumerate((4.6, 5.3))]
    )
    combined, combined_err = _fit(visits, time_from_start, from_visit_start=True)
    single, single_err = _fit(visits[0], time_from_start, from_visit_start=True)
    assert np.median(combined_err / single_err) == pytest.approx(1 / math.sqrt(2), rel=0.15)
    assert np.abs((combined - depth) / combined_err)[1:].std() < 1.5


# A planet without the star info's orbit, as every planet of a calibrated ADC 2024 folder.
NO_ORBIT = {**STAR, "P": float("nan"), "sma": float("nan"), "i": float("nan")}


def test_without_the_orbit_the_white_light_fit_finds_its_shape():
    """At the nominal period the fitted a/Rs is the true one scaled by P_nominal / P (the planet's
    speed across the disk) and b is the true impact parameter; the depths are as exact as with the
    star info's orbit (measured: 7e-4 relative, the limb darkening's interpolation)."""
    depth = _spectrum()
    flux = _light_curve(depth, TIME_H, 0.0, np.zeros(283), seed=0)
    relative = flux / np.median(flux, axis=0)
    shape = transit_fit.TransitShape(TIME_H, Orbit.for_duration(3.0, 0.1))
    _, orbit, _ = transit_fit.fit_white_light(
        [relative[:, 0], relative[:, 1:].mean(axis=1)], TIME_H, shape, 0.1, [0.01, 0.01], duration_guess_h=3.0
    )
    scale = NOMINAL_PERIOD_DAYS / STAR["P"]
    assert orbit.a_over_rs == pytest.approx(STAR["sma"] * scale, rel=0.01)
    assert orbit.impact == pytest.approx(STAR["sma"] * math.cos(math.radians(STAR["i"])), abs=0.02)
    fitted, _ = transit_fit.planet_transit_fit(flux, TIME_H, NO_ORBIT, WAVELENGTHS, False)
    np.testing.assert_allclose(fitted, depth, rtol=2e-3)


@pytest.mark.parametrize("from_visit_start", [False, True])
def test_depths_with_a_fitted_orbit_match_those_with_the_star_info(from_visit_start):
    """Noisy light curves fitted twice: with the star info's orbit and with its shape fitted. Over
    seeds 5-9 (measured) the AIRS channels differ by a median 0.01-0.28 of their error (max 0.44),
    their mean by at most 0.55 % of the depth, FGS1 by at most 0.8 %: the orbit's shape costs little."""
    depth = _spectrum()
    time_h, mid = (TIME_H - TIME_H[0], 4.6) if from_visit_start else (TIME_H, 0.0)
    flux = _light_curve(depth, time_h, mid, np.r_[1e-4, np.full(282, 1e-3)], seed=8)
    known, known_err = _fit(flux, time_h, from_visit_start)
    fitted, fitted_err = transit_fit.planet_transit_fit(flux, time_h, NO_ORBIT, WAVELENGTHS, from_visit_start)
    difference = fitted - known
    assert np.median(np.abs(difference[1:]) / known_err[1:]) < 0.5
    assert abs(difference[1:].mean()) < 0.01 * depth.mean() and abs(difference[0]) < 0.015 * depth[0]
    np.testing.assert_allclose(fitted_err, known_err, rtol=0.1)


def test_where_the_orbit_came_from_is_recorded():
    assert orbit_source(STAR) == "star_info"
    assert orbit_source(NO_ORBIT) == "fitted" and orbit_source({"planet_id": 1}) == "fitted"


def test_impossible_orbit_is_one_line_error():
    star = {**STAR, "sma": 0.5}
    with pytest.raises(DatasetError, match="planet 1: the star info's orbit .* is impossible"):
        transit_fit.planet_transit_fit(np.ones((160, 283)), TIME_H, star, WAVELENGTHS, False)


def test_limb_darkening_at_its_bound_does_not_explode_across_airs():
    """FGS1's u1 fitted at 0 (its bound): a power law through it would reach 1e30 across AIRS."""
    ld = transit_fit.channel_limb_darkening(WAVELENGTHS, (1e-30, 0.6), (0.25, 0.2))
    assert ld[0].tolist() == [1e-30, 0.6]
    assert (ld[1:, 0] <= 0.25 * transit_fit.LD_MAX_RATIO).all() and (ld[1:, 0] > 0).all()


def test_calibration_recovers_scale_and_floor():
    rng = np.random.default_rng(0)
    error = rng.uniform(1e-4, 3e-4, size=20000)
    residual = rng.standard_normal(error.size) * np.sqrt((1.5 * error) ** 2 + 1e-4**2)
    scale, floor = calibrate_sigma(error, residual)
    assert scale == pytest.approx(1.5, rel=0.05) and floor == pytest.approx(1e-4, rel=0.1)


def test_spectral_prior_denoises_spectra_from_a_low_dimensional_family():
    rng = np.random.default_rng(1)
    basis = np.stack([np.ones(283), np.linspace(-1, 1, 283), np.exp(-0.5 * ((WAVELENGTHS - 2.7) / 0.15) ** 2)], 1)

    def draw(n):
        y = 0.01 + rng.standard_normal((n, 3)) * [3e-3, 2e-4, 3e-4] @ basis.T
        err = np.full((n, 283), 2e-4)
        return y + rng.standard_normal(y.shape) * err, err, y

    prior = GaussianSpectralPrior(rank=8)
    prior.fit(*draw(400))
    depth, err, y = draw(200)
    mu, sigma = prior(torch.as_tensor(depth), torch.as_tensor(err))
    mu, sigma = mu.numpy(), sigma.numpy()
    assert np.sqrt(np.mean((mu - y) ** 2)) < 0.3 * np.sqrt(np.mean((depth - y) ** 2))
    assert 0.8 < ((mu - y) / sigma).std() < 1.25


def test_transit_fit_model_runs_through_the_training_entry_point(tmp_path, tiny_data_dir):
    run_dir = tmp_path / "run"
    result = run_module(
        ["spectramind.train", *tiny_overrides(tiny_data_dir), "model=transit_fit", f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["adc2025"] > 0
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "completed" and record["n_params"] == 0
    assert (run_dir / "checkpoints" / "best.ckpt").is_file() and (run_dir / "submission.csv").is_file()


def test_transit_fit_model_refuses_windowed_depths(tmp_path, tiny_data_dir):
    result = run_module(
        [
            "spectramind.train",
            *tiny_overrides(tiny_data_dir),
            "model=transit_fit",
            "data.features=window",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "needs data.features=transit_fit" in result.stderr


def test_decorrelating_the_common_mode_takes_pointing_jitter_out_of_the_channels():
    """A pointing jitter shared by every channel (each with its own sensitivity) is what the white
    light's residual regresses out of each channel's fit; without that step (data.detrend=false)
    it stays in the residuals, and the errors the fit reports grow with it."""
    depth = _spectrum()
    rng = np.random.default_rng(3)
    jitter = rng.standard_normal(TIME_H.size) * 1e-3
    sensitivity = rng.uniform(0.5, 1.5, 283)
    flux = _light_curve(depth, TIME_H, 0.0, np.r_[2e-5, np.full(282, 2e-4)], seed=4)
    flux *= 1.0 + jitter[:, None] * sensitivity[None, :]
    on, error_on = transit_fit.planet_transit_fit(flux, TIME_H, STAR, WAVELENGTHS, False, decorrelate=True)
    off, error_off = transit_fit.planet_transit_fit(flux, TIME_H, STAR, WAVELENGTHS, False, decorrelate=False)
    assert np.median(error_on[1:]) < 0.3 * np.median(error_off[1:])
    spread_on, spread_off = ((fit - depth)[1:] - (fit - depth)[1:].mean() for fit in (on, off))
    assert spread_on.std() <= spread_off.std()
