"""The simulator writes a complete, deterministic, physically sensible dataset."""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectramind.data import layout
from spectramind.data.sim.config import SimulationConfig
from spectramind.data.sim.light_curves import FORMAT_VERSION
from spectramind.data.sim.physics import G_NEWTON, M_SUN, R_SUN, transit_duration_hours
from spectramind.data.sim.writer import ensure_dataset, simulate_dataset
from spectramind.errors import ConfigurationError, DatasetError

SMALL = SimulationConfig(n_planets=8, n_time=64, seed=3)
QUIET = dict(drift_ppm=0.0, chromatic_drift_ppm=0.0, jitter_ppm=0.0)


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    return simulate_dataset(tmp_path_factory.mktemp("sim") / "data", SMALL)


def _file_digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_writes_every_file_with_expected_columns_and_shapes(small_dataset):
    labels = pd.read_csv(small_dataset / "train.csv")
    assert list(labels.columns) == ["planet_id", *[f"wl_{i}" for i in range(1, 284)]]
    assert len(labels) == SMALL.n_planets
    assert labels["planet_id"].is_unique and labels["planet_id"].dtype.kind == "i"
    depths = labels.iloc[:, 1:].to_numpy()
    assert ((depths > 2e-4) & (depths < 1.5e-2)).all()

    stars = pd.read_csv(small_dataset / "train_star_info.csv")
    assert list(stars.columns) == ["planet_id", "Rs", "Ms", "Ts", "Mp", "e", "P", "sma", "i"]
    assert (stars["planet_id"] == labels["planet_id"]).all()

    wavelengths = pd.read_csv(small_dataset / "wavelengths.csv")
    assert wavelengths.shape == (1, 283)

    time_h = np.load(small_dataset / "light_curve_time.npy")
    assert time_h.dtype == np.float64 and time_h.shape == (SMALL.n_time,)
    for planet_id in labels["planet_id"]:
        flux = np.load(small_dataset / "light_curves" / f"{planet_id}.npy", mmap_mode="r")
        assert flux.dtype == np.float32 and flux.shape == (SMALL.n_time, 283)

    noise = pd.read_csv(small_dataset / "noise_truth.csv")
    expected = [
        "planet_id",
        *[f"noise_{i}" for i in range(1, 284)],
        *[f"depth_sigma_{i}" for i in range(1, 284)],
        *[f"jitter_sigma_{i}" for i in range(1, 284)],
    ]
    assert list(noise.columns[: len(expected)]) == expected
    assert {"star_mag", "jitter_ppm", "drift_exp_ppm"} <= set(noise.columns)

    info = json.loads((small_dataset / "dataset.json").read_text())
    assert info["format_version"] == FORMAT_VERSION
    assert info["seed"] == SMALL.seed
    assert (info["n_planets"], info["n_time"]) == (SMALL.n_planets, SMALL.n_time)
    assert info["config"] == SMALL.to_dict()


def test_wavelengths_start_at_fgs1_then_span_airs_increasing(small_dataset):
    wl = pd.read_csv(small_dataset / "wavelengths.csv").to_numpy()[0]
    assert 0.6 < wl[0] < 0.8
    assert (wl[1:] >= 1.95).all() and (wl[1:] <= 3.90).all()
    assert np.all(np.diff(wl) > 0)
    assert wl[-1] - wl[1] > 1.9


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path, small_dataset):
    again = simulate_dataset(tmp_path / "again", SMALL)
    assert _file_digests(again) == _file_digests(small_dataset)

    other = simulate_dataset(tmp_path / "other", SimulationConfig(n_planets=8, n_time=64, seed=4))
    a = pd.read_csv(small_dataset / "train.csv")
    b = pd.read_csv(other / "train.csv")
    assert not np.allclose(a.iloc[:, 1:].to_numpy(), b.iloc[:, 1:].to_numpy())
    assert set(a["planet_id"]) != set(b["planet_id"])


def test_orbits_obey_keplers_law_and_fit_the_window(small_dataset):
    stars = pd.read_csv(small_dataset / "train_star_info.csv")
    period_s = stars["P"].to_numpy() * 86400
    kepler_sma = (G_NEWTON * stars["Ms"].to_numpy() * M_SUN * period_s**2 / (4 * math.pi**2)) ** (1 / 3)
    a_over_rs = stars["sma"]  # in stellar radii, as in the competition's star info
    np.testing.assert_allclose(a_over_rs.to_numpy() * stars["Rs"].to_numpy() * R_SUN, kepler_sma, rtol=1e-9)
    impact = a_over_rs * np.cos(np.radians(stars["i"]))
    assert (impact >= 0).all() and (impact <= SMALL.population.impact_parameter.high).all()
    depths = pd.read_csv(small_dataset / "train.csv").iloc[:, 1:].to_numpy()
    for row, k in zip(stars.itertuples(), np.sqrt(depths.max(axis=1))):
        t14 = transit_duration_hours(row.P, row.sma, impact[row.Index], k)
        assert 0 < t14 < SMALL.max_t14_fraction * SMALL.window_hours


def test_bigger_planets_make_deeper_transits(tmp_path):
    config = SimulationConfig(n_planets=12, n_time=96, seed=11, photon_noise=False, **QUIET)
    root = simulate_dataset(tmp_path / "d", config)
    labels = pd.read_csv(root / "train.csv")
    time_h = np.load(root / "light_curve_time.npy")
    centre = np.abs(time_h) < 0.3
    true_depth = labels.iloc[:, 2:].to_numpy().mean(axis=1)
    measured = []
    for planet_id in labels["planet_id"]:
        flux = np.load(root / "light_curves" / f"{planet_id}.npy")
        measured.append(1.0 - flux[centre, 1:].mean())
    measured = np.array(measured)
    # Limb darkening makes the centre up to ~25% deeper than (Rp/Rs)^2 and limb crossings shallower.
    assert np.all((measured / true_depth > 0.7) & (measured / true_depth < 1.4))

    def ranks(x):
        return np.argsort(np.argsort(x))

    assert np.corrcoef(ranks(measured), ranks(true_depth))[0, 1] > 0.9


def test_out_of_transit_scatter_matches_recorded_photon_noise(tmp_path):
    config = SimulationConfig(n_planets=8, n_time=200, seed=5, **QUIET)
    root = simulate_dataset(tmp_path / "d", config)
    time_h = np.load(root / "light_curve_time.npy")
    # T14 < 65% of the window, so |t| beyond 33% of the window is out of transit for every planet.
    baseline = np.abs(time_h) > 0.33 * config.window_hours
    noise_truth = pd.read_csv(root / "noise_truth.csv")
    noise = noise_truth[[f"noise_{i}" for i in range(1, 284)]].to_numpy()
    fgs_ratios = []
    for row, planet_id in enumerate(noise_truth["planet_id"]):
        flux = np.load(root / "light_curves" / f"{planet_id}.npy").astype(np.float64)
        variance = flux[baseline].var(axis=0, ddof=1)
        airs_ratio = np.mean(variance[1:] / noise[row, 1:] ** 2)
        assert 0.9 < airs_ratio < 1.1, (planet_id, airs_ratio)
        fgs_ratios.append(variance[0] / noise[row, 0] ** 2)
    assert 0.75 < np.mean(fgs_ratios) < 1.25
    # The right sigma differs across planets and channels; FGS1 is far quieter than AIRS.
    assert noise[:, 1:].std(axis=0).min() > 0
    assert (noise[:, 0] < 0.5 * noise[:, 1:].min(axis=1)).all()
    assert (noise[:, 1:].max(axis=1) / noise[:, 1:].min(axis=1) > 1.2).all()


def test_depth_sigma_is_the_white_noise_limit_of_a_depth_fit(small_dataset):
    noise_truth = pd.read_csv(small_dataset / "noise_truth.csv")
    noise = noise_truth[[f"noise_{i}" for i in range(1, 284)]].to_numpy()
    sigma = noise_truth[[f"depth_sigma_{i}" for i in range(1, 284)]].to_numpy()
    n_time = SMALL.n_time
    # With the shape s(t) <= 1.4 (limb-darkened centre), sum (s - mean s)^2 <= n 1.4^2 / 4, so no
    # estimator beats 2 sigma / (1.4 sqrt(n)); and using many samples beats a single one.
    assert (sigma > 2 * noise / (1.4 * math.sqrt(n_time))).all()
    assert (sigma < noise).all()


def test_clouds_flatten_the_spectrum_of_the_same_planet(tmp_path):
    # Same seed: identical planets except for the cloud deck.
    clear = simulate_dataset(
        tmp_path / "clear", SimulationConfig(n_planets=8, n_time=32, population={"cloud_fraction": 0.0})
    )
    cloudy = simulate_dataset(
        tmp_path / "cloudy", SimulationConfig(n_planets=8, n_time=32, population={"cloud_fraction": 1.0})
    )
    assert (pd.read_csv(clear / "atmosphere_truth.csv")["cloudy"] == 0).all()
    assert (pd.read_csv(cloudy / "atmosphere_truth.csv")["cloudy"] == 1).all()
    clear_depth = pd.read_csv(clear / "train.csv").iloc[:, 2:].to_numpy()
    cloudy_depth = pd.read_csv(cloudy / "train.csv").iloc[:, 2:].to_numpy()
    assert (cloudy_depth.std(axis=1) < 0.9 * clear_depth.std(axis=1)).all()


def test_failed_generation_leaves_nothing_behind(tmp_path):
    impossible = SimulationConfig(n_planets=2, n_time=32, window_hours=0.2)
    with pytest.raises(ConfigurationError, match="window_hours"):
        simulate_dataset(tmp_path / "data", impossible)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_a_directory_that_is_not_a_dataset(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigurationError, match="mine"):
        simulate_dataset(target, SMALL)
    assert (target / "notes.txt").read_text() == "keep me"


def test_invalid_config_values_raise_configuration_error():
    with pytest.raises(ConfigurationError, match="cloud_fraction"):
        SimulationConfig(population={"cloud_fraction": 1.5})
    with pytest.raises(ConfigurationError, match="n_planets"):
        SimulationConfig(n_planets="many")
    # A config read back from dataset.json (the population as its priors) equals the one named by preset.
    assert SimulationConfig(drift_ppm=0, population="adc2024") == SimulationConfig(
        **SimulationConfig(drift_ppm=0.0).to_dict()
    )


def test_ensure_dataset_generates_once_then_reuses(tmp_path):
    out = tmp_path / "data"
    assert ensure_dataset(out, SMALL) == out.absolute()
    before = layout.dataset_fingerprint(out)
    ensure_dataset(out, SimulationConfig(n_planets=8, n_time=64, seed=3))
    assert layout.dataset_fingerprint(out) == before


def test_ensure_dataset_rejects_a_different_config_naming_keys(tmp_path):
    out = tmp_path / "data"
    ensure_dataset(out, SMALL)
    with pytest.raises(ConfigurationError) as excinfo:
        ensure_dataset(out, SimulationConfig(n_planets=9, n_time=64, seed=4))
    message = str(excinfo.value)
    assert str(out) in message and "n_planets" in message and "seed" in message
    assert "n_time" not in message


def test_ensure_dataset_rejects_a_foreign_directory(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "other.txt").write_text("x")
    with pytest.raises(DatasetError, match="dataset.json"):
        ensure_dataset(out, SMALL)


def test_ensure_dataset_waits_for_the_lock_and_reuses_what_the_holder_made(tmp_path):
    out = tmp_path / "data"
    script = (
        "import sys\n"
        "from spectramind.data.sim.config import SimulationConfig\n"
        "from spectramind.data.sim.writer import ensure_dataset\n"
        "ensure_dataset(sys.argv[1], SimulationConfig(n_planets=8, n_time=64, seed=3))\n"
    )
    with open(tmp_path / "data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiter = subprocess.Popen([sys.executable, "-c", script, str(out)])
        try:
            time.sleep(3.0)  # long enough for the child to import and block on the lock
            assert waiter.poll() is None, "ensure_dataset did not wait for the lock"
            assert not out.exists()
            simulate_dataset(out, SMALL)
            made_by_holder = layout.dataset_fingerprint(out)
            fcntl.flock(lock, fcntl.LOCK_UN)
            assert waiter.wait(timeout=60) == 0
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
    assert layout.dataset_fingerprint(out) == made_by_holder
