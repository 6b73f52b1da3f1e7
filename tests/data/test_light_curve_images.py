"""The light-curve images the deep backbones read: binning, normalisation, visits, and the data
module's checks before anything runs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from spectramind.data.datamodule import ArielDataModule
from spectramind.data.layout import LIGHT_CURVE_DIR, read_dataset_info
from spectramind.data.light_curve_images import bin_edges, light_curve_image, star_vector
from spectramind.errors import DatasetError
from spectramind.models.light_curve_backbone import STAR_FEATURES


def _box_transit(n_time: int, depth: np.ndarray, level: np.ndarray, start: int, stop: int) -> np.ndarray:
    flux = np.tile(level, (n_time, 1))
    flux[start:stop] *= 1.0 - depth
    return flux


def test_bins_cover_every_sample_once():
    edges = bin_edges(187, 8)
    assert edges[0] == 0 and edges[-1] == 187 and (np.diff(edges) >= 23).all() and edges.size == 9


def test_the_image_is_the_flux_deficit_per_channel_whatever_the_flux_level():
    depth = np.linspace(1e-3, 5e-3, 283)
    level = np.geomspace(1e3, 1e6, 283)  # electrons per second differ by channel: normalised away
    flux = _box_transit(80, depth, level, start=20, stop=60)
    image = light_curve_image(flux, time_bins=8)  # bins of 10 samples: 2 out, 4 in, 2 out
    assert image.shape == (8, 283) and image.dtype == np.float32
    np.testing.assert_allclose(image[2:6], np.tile(depth, (4, 1)), rtol=1e-5)
    np.testing.assert_allclose(image[[0, 1, 6, 7]], 0.0, atol=1e-7)


def test_visits_are_averaged():
    depth = np.full(283, 2e-3)
    one = _box_transit(80, depth, np.ones(283), 20, 60)
    other = _box_transit(80, 2 * depth, np.full(283, 5.0), 20, 60)
    image = light_curve_image(np.stack([one, other]), time_bins=4)
    np.testing.assert_allclose(image[1:3], 3e-3, rtol=1e-5)


def test_the_star_vector_is_of_order_one_and_flags_missing_information():
    sun_like = [1.0, 1.0, 5000.0, 1.0, 10.0, 100.0, 90.0]  # Rs, Ms, Ts, Mp, P, sma, i
    vector = star_vector(np.array([sun_like, [np.nan] * 7]))
    assert vector.shape == (2, STAR_FEATURES) and vector.dtype == np.float32
    np.testing.assert_allclose(vector[0], [0, 0, 0, 0, 1, 2, 0, 1], atol=1e-6)
    np.testing.assert_array_equal(vector[1], np.zeros(STAR_FEATURES))  # no star info: zeros, flag 0


def test_the_data_module_gives_each_planet_its_image(tiny_data_dir):
    datamodule = ArielDataModule(str(tiny_data_dir), light_curve_bins=8)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["light_curve"].shape == (len(batch["y"]), 8, 283)
    assert batch["star"].shape == (len(batch["y"]), STAR_FEATURES) and (batch["star"][:, -1] == 1).all()
    first = batch["planet_id"][0].item()
    flux = np.load(tiny_data_dir / LIGHT_CURVE_DIR / f"{first}.npy")
    assert torch.equal(batch["light_curve"][0], torch.from_numpy(light_curve_image(flux, 8)))
    # without light_curve_bins the batches hold the depths only
    plain = ArielDataModule(str(tiny_data_dir))
    plain.setup("fit")
    assert {"light_curve", "star"}.isdisjoint(next(iter(plain.train_dataloader())))


def test_more_time_bins_than_samples_is_one_line_before_anything_runs(tiny_data_dir):
    n_time = read_dataset_info(tiny_data_dir)["n_time"]
    with pytest.raises(DatasetError, match=f"light curves of {n_time} time samples cannot fill {n_time + 1} time bins"):
        ArielDataModule(str(tiny_data_dir), light_curve_bins=n_time + 1)
    with pytest.raises(DatasetError, match="data.simulation.n_time"):
        ArielDataModule(str(tiny_data_dir / "not-yet"), simulation={"n_time": 32}, light_curve_bins=64)


def test_a_folder_without_light_curves_is_one_line_before_anything_runs(tmp_path, tiny_data_dir):
    features_only = tmp_path / "features-only"
    shutil.copytree(tiny_data_dir, features_only, ignore=shutil.ignore_patterns(LIGHT_CURVE_DIR))
    with pytest.raises(DatasetError, match="no light curves in this data set"):
        ArielDataModule(str(features_only), light_curve_bins=8)
    ArielDataModule(str(features_only))  # the models over depths still read it
