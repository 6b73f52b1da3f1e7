"""Photon rates from the real instrument, and one noise for both simulators."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.data import instrument
from spectramind.data.instrument import sample_noise
from spectramind.data.raw.detector import DetectorConfig
from spectramind.data.raw.simulate import RawSimulationConfig, axis_info, visit_models
from spectramind.data.raw.truth import binned_truth
from spectramind.data.sim.config import SimulationConfig, planet_ids_and_seeds
from spectramind.data.sim.physics import (
    VisitSystematics,
    draw_system,
    jitter_depth_sigma,
    jitter_series,
    transit_light_curves,
)

# The competition's planet 342072318 (a 4798 K star): FGS1 collects ~2.1e6 e-/s, the AIRS target
# columns 1.1e3 (3.9 um) to 3.6e4 e-/s (1.95 um), 3.64e6 e-/s in all.


def test_the_reference_star_gets_the_real_samples_rates():
    rates = instrument.photon_rates(4798.0, instrument.REFERENCE_MAGNITUDE)
    assert rates[0] == pytest.approx(2.1e6)
    airs = rates[1:]
    assert airs.sum() == pytest.approx(3.64e6, rel=1e-9)
    assert airs.min() == pytest.approx(1.1e3, rel=0.02) and airs.max() == pytest.approx(3.6e4, rel=0.02)
    assert airs[0] > airs[-1]  # more photons at 1.95 um than at 3.9 um
    fainter = instrument.photon_rates(4798.0, instrument.REFERENCE_MAGNITUDE + 2.5)
    np.testing.assert_allclose(fainter, rates / 10)
    cooler = instrument.photon_rates(4000.0, instrument.REFERENCE_MAGNITUDE)
    assert cooler[0] == rates[0] and cooler[-1] / cooler[1] > rates[-1] / rates[1]  # same 0.7 um magnitude, redder


def test_light_curve_noise_follows_the_cadence():
    rates = instrument.photon_rates(5800.0, 9.0)
    one = sample_noise(rates, 144.0)
    np.testing.assert_allclose(sample_noise(rates, 36.0), 2 * one)  # a quarter of the reads
    photon_only = 1 / np.sqrt(rates * 144.0 * np.array([0.1 / 0.4, *[4.5 / 4.8] * 282]))
    excess = one / photon_only
    assert (excess > 1).all()  # read (and dark) noise come on top of the photons'
    assert excess[1] < 1.05 < excess[-1] < 2  # ... little on the bright blue end, more on the faint red one


@pytest.mark.parametrize(
    "detector, share_within_10_percent",
    [
        (DetectorConfig(hot_fraction=0.0, dead_fraction=0.0, flat_scatter=0.0), 1.0),
        (DetectorConfig(), 0.95),  # dead and hot pixels on a trace raise a few channels' noise, as in real data
    ],
)
def test_both_layouts_of_one_planet_carry_the_same_noise_per_channel(detector, share_within_10_percent):
    physics = SimulationConfig(n_planets=2, seed=7)
    raw = RawSimulationConfig(physics=physics, detector=detector)  # the real cadence: 11250 AIRS reads
    wavelengths = instrument.channel_wavelengths()
    for planet_id, seq in zip(*planet_ids_and_seeds(physics)):
        light_curve_noise = draw_system(np.random.default_rng(seq), physics, wavelengths).noise
        models, _ = visit_models(raw, seq, int(planet_id), 1, wavelengths, axis_info(raw))
        times, flux, sigma = binned_truth(models[0], raw, airs_bin=30, fgs_bin=360)  # the official 187 bins
        assert times.size == physics.n_time
        ratio = (sigma / flux).mean(axis=0) / light_curve_noise
        assert np.mean(np.abs(ratio - 1) < 0.1) >= share_within_10_percent, ratio
        assert abs(np.median(ratio) - 1) < 0.03


def test_the_jitter_sigma_is_the_spread_of_the_depth_error_jitter_leaves():
    config = SimulationConfig(n_planets=1, seed=3, photon_noise=False)
    wavelengths = instrument.channel_wavelengths()[[0, 1, 141, 282]]
    system = draw_system(np.random.default_rng(0), config, instrument.channel_wavelengths())
    system.depth, system.limb_darkening = (
        system.depth[[0, 1, 141, 282]],
        tuple(u[[0, 1, 141, 282]] for u in system.limb_darkening),
    )
    time_h = np.linspace(-3.75, 3.75, config.n_time)
    transit = transit_light_curves(system, time_h, wavelengths)
    shape = (1 - transit) / system.depth
    systematics = VisitSystematics(0, 0, 0, 0.5, 0, 0, 150e-6, 0.3)
    predicted = jitter_depth_sigma(shape, systematics, config, time_h, wavelengths)
    # Fit every channel with the full baseline (polynomial and the ramp) and its transit shape, under
    # many jitter series: the depths scatter by the predicted amount.
    tau = time_h / 3.75
    baseline = np.column_stack([np.ones_like(tau), tau, tau**2, np.exp(-(time_h - time_h[0]) / 0.5)])
    rng = np.random.default_rng(1)
    errors = []
    for _ in range(600):
        jitter = jitter_series(rng, np.full(time_h.size - 1, config.jitter_correlation))
        response = 150e-6 * (1 + 0.5 * np.sin(2 * np.pi * wavelengths / 1.3 + 0.3))
        flux = transit * (1 + np.outer(jitter, response))
        depths = [
            np.linalg.lstsq(np.column_stack([baseline, -shape[:, c]]), flux[:, c], rcond=None)[0][-1]
            for c in range(wavelengths.size)
        ]
        errors.append(np.array(depths) - system.depth)
    errors = np.array(errors)
    np.testing.assert_allclose(errors.std(axis=0), predicted, rtol=0.1)
    # one series: nearly the same error in every channel, scaled (the shapes differ by limb darkening)
    assert np.corrcoef(errors.T).min() > 0.95
