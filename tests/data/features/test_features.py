"""Depth features: correct windows, calibrated errors, detrending that helps, and a reusable cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from spectramind.data import layout
from spectramind.data.features import cache as features_cache
from spectramind.data.features.transit_window import transit_window
from spectramind.data.features.window import FEATURES_VERSION, estimate_depth
from spectramind.data.sim.config import SimulationConfig
from spectramind.data.sim.writer import simulate_dataset
from spectramind.errors import DatasetError

QUIET = dict(drift_ppm=0.0, chromatic_drift_ppm=0.0, jitter_ppm=0.0)
N_PLANETS, N_TIME, SEED = 8, 128, 21


@pytest.fixture(scope="module")
def noiseless(tmp_path_factory) -> Path:
    config = SimulationConfig(n_planets=N_PLANETS, n_time=N_TIME, seed=SEED, photon_noise=False, **QUIET)
    return simulate_dataset(tmp_path_factory.mktemp("features") / "noiseless", config)


@pytest.fixture(scope="module")
def white_noise_only(tmp_path_factory) -> Path:
    config = SimulationConfig(n_planets=N_PLANETS, n_time=N_TIME, seed=SEED, **QUIET)
    return simulate_dataset(tmp_path_factory.mktemp("features") / "white", config)


@pytest.fixture(scope="module")
def drifting(tmp_path_factory) -> Path:
    config = SimulationConfig(n_planets=N_PLANETS, n_time=N_TIME, seed=SEED)
    return simulate_dataset(tmp_path_factory.mktemp("features") / "drifting", config)


def _truth(data_dir: Path) -> np.ndarray:
    return layout.read_labels(data_dir)[layout.WAVELENGTH_COLUMNS].to_numpy()


def _estimates(data_dir: Path, detrend: bool) -> tuple[np.ndarray, np.ndarray]:
    stars = layout.read_star_info(data_dir)
    time_h = layout.read_time(data_dir)
    depth, err = [], []
    for index in range(len(stars)):
        row = stars.iloc[index]
        flux = layout.load_light_curve(data_dir, row["planet_id"])
        d, e = estimate_depth(flux, time_h, transit_window(row, time_h), detrend=detrend)
        depth.append(d)
        err.append(e)
    return np.array(depth), np.array(err)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def test_transit_window_separates_transit_from_baseline(noiseless):
    stars = layout.read_star_info(noiseless)
    time_h = layout.read_time(noiseless)
    depth = _truth(noiseless)
    for index, row in enumerate(stars.to_dict("records")):
        in_transit, out_of_transit = transit_window(row, time_h)
        assert in_transit.sum() >= 3 and out_of_transit.sum() >= 8
        assert not (in_transit & out_of_transit).any()
        flux = layout.load_light_curve(noiseless, row["planet_id"])
        np.testing.assert_allclose(flux[out_of_transit], 1.0, atol=1e-6)
        # Fully inside the disk: most of the depth even at the limb-darkened edge of the window.
        assert (1.0 - flux[in_transit] > 0.5 * depth[index]).all()


def test_transit_window_refuses_a_grid_without_baseline(noiseless):
    row = layout.read_star_info(noiseless).iloc[0]
    with pytest.raises(DatasetError, match=f"planet {int(row['planet_id'])}:"):
        transit_window(row, np.linspace(-0.5, 0.5, 50))


@pytest.mark.parametrize("detrend", [False, True])
def test_noiseless_depth_recovers_truth_up_to_limb_darkening(noiseless, detrend):
    depth, err = _estimates(noiseless, detrend)
    ratio = depth / _truth(noiseless)
    assert ((ratio > 0.75) & (ratio < 1.35)).all()
    assert np.abs(err).max() < 1e-6


@pytest.mark.parametrize("detrend", [False, True])
def test_depth_error_matches_the_scatter_from_photon_noise(noiseless, white_noise_only, detrend):
    # Same seed, same planets: the difference is exactly what photon noise did to the estimate.
    clean, _ = _estimates(noiseless, detrend)
    noisy, err = _estimates(white_noise_only, detrend)
    z = (noisy - clean) / err
    assert 0.85 < z.std() < 1.2
    assert abs(z.mean()) < 0.1
    # The recorded information limit is a lower bound a simple estimator approaches but never beats.
    limit = layout.read_noise_truth(white_noise_only)[layout.DEPTH_SIGMA_COLUMNS].to_numpy()
    assert 1.0 < np.median(err / limit) < 2.5


def test_detrending_removes_most_of_the_drift_induced_error(white_noise_only, drifting):
    truth = _truth(drifting)
    raw, _ = _estimates(drifting, detrend=False)
    detrended, _ = _estimates(drifting, detrend=True)
    assert _rms(detrended - truth) < _rms(raw - truth)
    # Versus the same planets and noise without systematics: what the systematics did.
    raw_clean, _ = _estimates(white_noise_only, detrend=False)
    detrended_clean, _ = _estimates(white_noise_only, detrend=True)
    assert _rms(detrended - detrended_clean) < 0.5 * _rms(raw - raw_clean)


def test_detrending_helps_on_the_default_dataset(tmp_path):
    root = simulate_dataset(tmp_path / "default")
    truth = _truth(root)
    raw = features_cache.load_features(root, detrend=False)["depth"]
    detrended = features_cache.load_features(root, detrend=True)["depth"]
    assert _rms(detrended - truth) < 0.9 * _rms(raw - truth)


def test_load_features_shapes_and_order(drifting):
    result = features_cache.load_features(drifting, detrend=True)
    stars = layout.read_star_info(drifting)
    assert set(result) == {"planet_ids", "depth", "depth_err", "star", "orbit_source"}
    assert result["orbit_source"].tolist() == ["star_info"] * N_PLANETS  # windows placed by the orbit
    assert result["planet_ids"].dtype == np.int64
    np.testing.assert_array_equal(result["planet_ids"], stars["planet_id"].to_numpy())
    for key in ("depth", "depth_err"):
        assert result[key].dtype == np.float32 and result[key].shape == (N_PLANETS, 283)
    assert result["star"].dtype == np.float32
    assert result["star"].shape == (N_PLANETS, len(features_cache.STAR_FEATURE_COLUMNS))
    np.testing.assert_allclose(result["star"][:, 0], stars["Rs"].to_numpy(), rtol=1e-6)
    assert (result["depth_err"] > 0).all()


def test_load_features_caches_and_reuses_until_the_data_changes(tmp_path):
    root = simulate_dataset(tmp_path / "d", SimulationConfig(n_planets=4, n_time=64, seed=2))
    first = features_cache.load_features(root, detrend=False)
    fingerprint = layout.dataset_fingerprint(root)
    cache = root / "cache" / f"features-detrend0-{fingerprint[:12]}.npz"
    assert cache.is_file() and features_cache.feature_cache_path(root, detrend=False) == cache
    # no temp files left; the lock that runs side by side share stays
    assert sorted(p.name for p in (root / "cache").iterdir()) == sorted([cache.name, cache.with_suffix(".lock").name])

    # Reuse is observable: a marked cache file is returned as is.
    marked = dict(first, depth=first["depth"] + 1.0)
    np.savez(cache, version=np.int64(FEATURES_VERSION), **marked)
    np.testing.assert_array_equal(features_cache.load_features(root, detrend=False)["depth"], marked["depth"])

    # A cache from another extraction version is recomputed.
    np.savez(cache, version=np.int64(FEATURES_VERSION + 1), **marked)
    np.testing.assert_array_equal(features_cache.load_features(root, detrend=False)["depth"], first["depth"])

    # Changing a data file changes the key, so the stale cache is not used.
    np.savez(cache, version=np.int64(FEATURES_VERSION), **marked)
    curve = next((root / "light_curves").iterdir())
    stat = curve.stat()
    os.utime(curve, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    fresh = features_cache.load_features(root, detrend=False)
    np.testing.assert_array_equal(fresh["depth"], first["depth"])
    assert features_cache.feature_cache_path(root, detrend=False) != cache


def test_load_features_names_a_damaged_light_curve(tmp_path):
    root = simulate_dataset(tmp_path / "d", SimulationConfig(n_planets=3, n_time=64, seed=2))
    planet_id = layout.read_star_info(root)["planet_id"].iloc[1]
    np.save(root / "light_curves" / f"{planet_id}.npy", np.ones((10, 283), dtype=np.float32))
    with pytest.raises(DatasetError, match=f"{planet_id}.npy"):
        features_cache.load_features(root, detrend=True)


def test_transit_fit_features_are_cached_apart_and_beat_the_window(drifting):
    window = features_cache.load_features(drifting, detrend=True)
    fitted = features_cache.load_features(drifting, detrend=True, method="transit_fit")
    assert features_cache.feature_cache_path(drifting, True, "transit_fit").is_file()
    assert features_cache.feature_cache_path(drifting, True) != features_cache.feature_cache_path(
        drifting, True, "transit_fit"
    )
    truth = _truth(drifting)
    # White noise sets most of a channel's error for both; the fit removes the biases on top of it
    # (limb darkening, worst at FGS1's 0.7 um, and the baseline under the transit).
    assert _rms(fitted["depth"] - truth) < 0.8 * _rms(window["depth"] - truth)
    assert _rms(fitted["depth"][:, 0] - truth[:, 0]) < 0.5 * _rms(window["depth"][:, 0] - truth[:, 0])
    np.testing.assert_array_equal(fitted["planet_ids"], window["planet_ids"])


def test_unknown_feature_method_is_a_configuration_error(drifting):
    from spectramind.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown feature method 'box'"):
        features_cache.load_features(drifting, detrend=True, method="box")
