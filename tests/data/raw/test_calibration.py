"""Calibration recovers the simulator's light curves: orientation, scale, noise, every visit, both layouts."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from raw_support import BINS, FINE_BINS, IDEAL, RAW_2025, calibrate, light_curve, simulate, truth

from spectramind.data import layout
from spectramind.data.features.transit_window import fitted_transit_window
from spectramind.data.features.window import planet_depth
from spectramind.data.raw.layout import apply_linear_corr
from spectramind.data.raw.reduction import CalibrationParams, dn_polynomial, hot_pixels
from spectramind.errors import ConfigurationError

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only


def _train_ids(raw):
    return sorted(int(p.name) for p in (raw / "train").iterdir())


def _residuals(raw, calibrated, params=BINS):
    """(calibrated - truth) / expected noise, over every train planet, visit, bin and channel."""
    z = []
    for planet_id in _train_ids(raw):
        for visit, curve in enumerate(light_curve(calibrated, planet_id)):
            _, flux, sigma, _ = truth(raw, planet_id, visit, params)
            z.append(((curve - flux) / sigma).ravel())
    return np.concatenate(z)


def test_calibrated_folder_is_the_light_curve_layout(raw_2025, calibrated_2025):
    ids = _train_ids(raw_2025)
    assert sorted(layout.read_star_info(calibrated_2025)["planet_id"]) == ids
    assert sorted(layout.read_labels(calibrated_2025)["planet_id"]) == ids
    time_h = layout.read_time(calibrated_2025)
    assert time_h.size == 20 and 0 < time_h[0] < time_h[-1] < 7.5  # hours from the visit's start
    assert layout.time_origin(calibrated_2025) == layout.TIME_FROM_VISIT_START
    np.testing.assert_array_equal(layout.read_wavelengths(calibrated_2025), layout.read_wavelengths(raw_2025))
    levels = layout.read_flux_levels(calibrated_2025)
    assert len(levels) == 4  # one planet was observed twice
    manifest = json.loads((calibrated_2025 / "calibration.json").read_text())
    assert manifest["counts"] == {"completed": 3, "failed": 0}
    assert manifest["parameters"]["airs_bin"] == 4 and manifest["spectramind_version"]
    for planet_id in ids:
        curve = layout.load_light_curve(calibrated_2025, planet_id, n_time=time_h.size)
        np.testing.assert_allclose(np.asarray(curve, dtype=np.float64).mean(axis=-2), 1.0, atol=1e-6)


def test_orientation_and_electron_scale_match_the_truth(raw_2025, calibrated_2025):
    levels = layout.read_flux_levels(calibrated_2025).set_index(["planet_id", "visit"])
    for planet_id in _train_ids(raw_2025):
        for visit in range(len(light_curve(calibrated_2025, planet_id))):
            _, _, sigma, model = truth(raw_2025, planet_id, visit)
            mean_flux = np.concatenate([[model.fgs_flux.mean()], model.airs_flux[:, 1:].mean(axis=0)])
            expected = model.channel_rates * mean_flux  # e-/s of the whole profile, channels in wl order
            ratio = levels.loc[(planet_id, visit), layout.FLUX_LEVEL_COLUMNS].to_numpy() / expected
            level_noise = np.sqrt((sigma**2).sum(axis=0)) / sigma.shape[0]  # of the visit's mean level
            # Rates fall by ~30x across AIRS: a reversed or shifted channel order is far off.
            assert (np.abs(ratio - 1) < 0.003 + 5 * level_noise).all(), (planet_id, visit, ratio.min(), ratio.max())
            assert np.median(np.abs(ratio - 1)) < 0.003


def test_residual_scatter_is_the_configured_photon_and_read_noise(raw_2025, calibrated_2025):
    z = _residuals(raw_2025, calibrated_2025)
    assert 0.9 < z.std() < 1.1, z.std()
    assert abs(z.mean()) < 0.05


def test_optimal_extraction_is_less_noisy_than_a_box_sum(raw_2025, calibrated_2025, tmp_path):
    box = calibrate(raw_2025, tmp_path / "box", params=dataclasses.replace(BINS, extraction="box"))
    optimal_scatter = _residuals(raw_2025, calibrated_2025).std()
    box_scatter = _residuals(raw_2025, box).std()
    # Photon noise dominates these bright stars, so the gain is small (docs/real-data.md has the
    # figures), but it is there on the same frames.
    assert optimal_scatter < box_scatter, (optimal_scatter, box_scatter)


def test_noise_free_detector_gives_back_the_astrophysical_light_curves(raw_ideal, tmp_path):
    calibrated = calibrate(raw_ideal, tmp_path / "ideal", params=CalibrationParams(airs_bin=3, fgs_bin=36))
    compared = 0
    for planet_id in _train_ids(raw_ideal):
        for visit, curve in enumerate(light_curve(calibrated, planet_id)):
            _, flux, _, _ = truth(raw_ideal, planet_id, visit, CalibrationParams(airs_bin=3, fgs_bin=36))
            # Transits (0.1-5 % deep), drifts and jitter all pass through the detector and back.
            assert np.ptp(flux) > 1e-3
            np.testing.assert_allclose(curve, flux, rtol=1e-6, atol=0)
            compared += 1
    assert compared == 3 and IDEAL.detector.quantize is False


def test_every_visit_is_calibrated_and_the_features_combine_them(raw_2025, calibrated_fine):
    planet_id = next(p for p in _train_ids(raw_2025) if light_curve(calibrated_fine, p).shape[0] == 2)
    curves = light_curve(calibrated_fine, planet_id)
    for visit in (0, 1):
        _, flux, sigma, model = truth(raw_2025, planet_id, visit, FINE_BINS)
        assert np.abs((curves[visit] - flux) / sigma).max() < 6
    first, second = truth(raw_2025, planet_id, 0)[3], truth(raw_2025, planet_id, 1)[3]
    assert first.mid_transit_h != second.mid_transit_h  # each visit has its own transit time
    time_h = layout.read_time(calibrated_fine)
    row = {"planet_id": planet_id}
    both = planet_depth(curves.astype(np.float64), time_h, row, True, from_visit_start=True)
    singles = [planet_depth(c.astype(np.float64), time_h, row, True, from_visit_start=True) for c in curves]
    assert (both[1] < np.minimum(singles[0][1], singles[1][1])).all()  # two visits: a smaller error
    np.testing.assert_allclose(
        both[0],
        (singles[0][0] / singles[0][1] ** 2 + singles[1][0] / singles[1][1] ** 2)
        / (1 / singles[0][1] ** 2 + 1 / singles[1][1] ** 2),
        rtol=1e-9,
    )


def test_fitted_transit_window_finds_each_visits_transit(raw_2025, calibrated_fine):
    calibrated = calibrated_fine
    time_h = layout.read_time(calibrated)
    for planet_id in _train_ids(raw_2025):
        for visit, curve in enumerate(light_curve(calibrated, planet_id)):
            in_transit, out_of_transit, mid = fitted_transit_window(curve, time_h)
            true_mid = truth(raw_2025, planet_id, visit)[3].mid_transit_h
            assert abs(mid - true_mid) < np.median(np.diff(time_h)), (planet_id, visit, mid, true_mid)  # a bin
            assert not (in_transit & out_of_transit).any()


def test_adc2024_layout_calibrates_without_star_info(raw_2024, tmp_path):
    train = calibrate(raw_2024, tmp_path / "train")
    assert not (train / "train_star_info.csv").exists()
    stars = layout.read_star_info(train)  # planets from flux_levels.csv, star columns unknown
    assert sorted(stars["planet_id"]) == _train_ids(raw_2024) and stars["Rs"].isna().all()
    labels = pd.read_csv(raw_2024 / "train_labels.csv")
    pd.testing.assert_frame_equal(layout.read_labels(train), labels.sort_values("planet_id").reset_index(drop=True))
    test = calibrate(raw_2024, tmp_path / "test", split="test")
    assert not (test / "train.csv").exists()
    assert len(layout.read_flux_levels(test)) == 1


def test_calibration_needs_no_labels(raw_2025, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_2025, raw)
    (raw / "train.csv").unlink()
    calibrated = calibrate(raw, tmp_path / "calibrated")
    assert not (calibrated / "train.csv").exists()
    assert len(layout.read_star_info(calibrated)) == 3


def test_signal_files_are_read_positionally(raw_2025, calibrated_2025, tmp_path):
    """The same values saved with other column names, one column and odd row groups: same output."""
    raw = tmp_path / "raw"
    shutil.copytree(raw_2025, raw)
    planet_id = _train_ids(raw)[0]
    for sensor in ("AIRS-CH0", "FGS1"):
        path = raw / "train" / str(planet_id) / f"{sensor}_signal_0.parquet"
        flat = pq.read_table(path).to_pandas().to_numpy().ravel()
        pq.write_table(pa.table({"0": flat}), path, row_group_size=flat.size // 7 + 3)
    again = calibrate(raw, tmp_path / "calibrated", planets=[planet_id])
    np.testing.assert_allclose(light_curve(again, planet_id), light_curve(calibrated_2025, planet_id), rtol=1e-12)


def test_each_sensors_frame_count_is_its_own(tmp_path):
    """FGS1 need not have 12x AIRS's reads; with different bin counts FGS1 is resampled in time."""
    config = dataclasses.replace(RAW_2025, fgs_frames=1000, second_visit_fraction=0.0)
    raw = simulate(tmp_path / "raw", config)
    params = CalibrationParams(airs_bin=4, fgs_bin=25)  # 20 AIRS bins, 20 FGS1 bins
    calibrated = calibrate(raw, tmp_path / "same", params=params)
    assert layout.read_time(calibrated).size == 20
    resampled = calibrate(raw, tmp_path / "resampled", params=CalibrationParams(airs_bin=4, fgs_bin=10))
    manifest = json.loads((resampled / "calibration.json").read_text())
    assert all(v["visit_details"][0]["fgs_resampled"] for v in manifest["planets"].values())
    for planet_id in _train_ids(raw):
        _, flux, sigma, _ = truth(raw, planet_id, 0, params)
        fgs = light_curve(resampled, planet_id)[0, :, 0]
        assert np.abs((fgs - flux[:, 0]) / sigma[:, 0]).max() < 6


def test_dn_polynomial_is_the_adc_then_the_linearity_correction():
    rng = np.random.default_rng(0)
    coefficients = np.array([0.2, 1.001, 4e-7, 3e-13, 1e-19, 2e-25])[:, None] * rng.uniform(0.9, 1.1, (6, 5))
    dn = rng.uniform(400, 65000, (7, 5))
    electrons = dn / 0.4369 - 1000.0
    expected = sum(coefficients[k] * electrons**k for k in range(6))
    composed = dn_polynomial(coefficients, 0.4369, -1000.0, linearity=True)
    np.testing.assert_allclose(apply_linear_corr(dn, composed), expected, rtol=1e-11)
    np.testing.assert_allclose(apply_linear_corr(dn, dn_polynomial(coefficients, 0.4369, -1000.0, False)), electrons)


def test_hot_pixels_are_the_five_sigma_outliers_of_the_dark():
    rng = np.random.default_rng(1)
    dark = rng.normal(0.006, 0.001, (32, 32))
    dark[3, 4], dark[10, 10], dark[20, 5] = 2.0, 0.5, -0.2
    dead = np.zeros_like(dark, dtype=bool)
    dead[3, 4] = True  # a dead pixel is not also hot
    hot = hot_pixels(dark, dead)
    assert hot[10, 10] and hot[20, 5] and not hot[3, 4]
    assert hot.sum() == 2


def test_output_folder_with_other_parameters_is_refused(raw_2025, calibrated_2025):
    with pytest.raises(ConfigurationError, match="airs_bin 4 -> 5"):
        calibrate(raw_2025, calibrated_2025, params=CalibrationParams(airs_bin=5, fgs_bin=48))


def test_ideal_calibration_twin_has_the_same_planets_bins_and_noise(raw_2025, calibrated_2025, tmp_path):
    from spectramind.data.raw.truth import write_direct_light_curves

    direct = tmp_path / "direct"
    manifest = write_direct_light_curves(raw_2025, direct, airs_bin=BINS.airs_bin, fgs_bin=BINS.fgs_bin)
    assert manifest["counts"] == {"completed": 3, "failed": 0}
    np.testing.assert_array_equal(layout.read_time(direct), layout.read_time(calibrated_2025))
    pd.testing.assert_frame_equal(layout.read_labels(direct), layout.read_labels(calibrated_2025))
    pd.testing.assert_frame_equal(layout.read_star_info(direct), layout.read_star_info(calibrated_2025))
    z, level_noise = [], []
    for planet_id in _train_ids(raw_2025):
        twin, calibrated = light_curve(direct, planet_id), light_curve(calibrated_2025, planet_id)
        assert twin.shape == calibrated.shape
        for visit in range(len(twin)):
            sigma = truth(raw_2025, planet_id, visit)[2]
            z.append(((twin[visit] - calibrated[visit]) / sigma).ravel())
            level_noise.append(np.sqrt((sigma**2).sum(axis=0)) / sigma.shape[0])  # of a visit's mean level
    # Two independent draws of the same noise around the same truth differ by sqrt(2) sigmas.
    assert 1.3 < np.concatenate(z).std() < 1.55
    ratio = (
        layout.read_flux_levels(direct)[layout.FLUX_LEVEL_COLUMNS].to_numpy()
        / layout.read_flux_levels(calibrated_2025)[layout.FLUX_LEVEL_COLUMNS].to_numpy()
    )
    # the same levels, to within two independent draws of their noise (a few % in the faint red channels)
    assert (np.abs(ratio - 1) < 0.003 + 5 * np.sqrt(2) * np.array(level_noise)).all()


def test_predicting_from_a_folder_calibrated_otherwise_is_refused(calibrated_2025, calibrated_fine, tiny_data_dir):
    from spectramind.data.raw.calibrated_folder import check_same_calibration
    from spectramind.errors import DatasetError

    check_same_calibration(calibrated_2025, calibrated_2025)
    with pytest.raises(
        DatasetError, match=r"calibrated with airs_bin 2 \(trained on 4\), fgs_bin 24 \(trained on 48\)"
    ):
        check_same_calibration(calibrated_2025, calibrated_fine)
    check_same_calibration(tiny_data_dir, calibrated_fine)  # simulated light curves: nothing to compare
    check_same_calibration(calibrated_2025.parent / "gone", calibrated_fine)  # training folder not at hand
