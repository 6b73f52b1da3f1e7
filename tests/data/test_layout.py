"""Readers return the documented shapes and reject damaged datasets with a message naming the file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectramind.data import layout
from spectramind.data.sim.config import SimulationConfig
from spectramind.data.sim.writer import simulate_dataset
from spectramind.errors import DatasetError

SMALL = SimulationConfig(n_planets=6, n_time=48, seed=7)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return simulate_dataset(tmp_path_factory.mktemp("layout") / "data", SMALL)


@pytest.fixture
def data_dir(pristine, tmp_path) -> Path:
    """A private copy each test may damage."""
    return Path(shutil.copytree(pristine, tmp_path / "data"))


def _first_id(data_dir: Path) -> int:
    return int(pd.read_csv(data_dir / "train.csv")["planet_id"].iloc[0])


def test_constants_describe_the_283_channels():
    assert layout.N_WAVELENGTHS == 283
    assert layout.WAVELENGTH_COLUMNS[0] == "wl_1" and layout.WAVELENGTH_COLUMNS[-1] == "wl_283"
    assert layout.SIGMA_COLUMNS[0] == "sigma_1" and len(layout.SIGMA_COLUMNS) == 283
    assert "planet_id" not in layout.STAR_COLUMNS


def test_readers_return_documented_shapes(pristine):
    labels = layout.read_labels(pristine)
    assert list(labels.columns) == ["planet_id", *layout.WAVELENGTH_COLUMNS]
    assert labels["planet_id"].dtype == np.int64 and len(labels) == SMALL.n_planets
    by_path = layout.read_labels(pristine / "train.csv")
    pd.testing.assert_frame_equal(by_path, labels)

    stars = layout.read_star_info(pristine)
    assert list(stars.columns) == ["planet_id", *layout.STAR_COLUMNS]
    assert layout.read_wavelengths(pristine).shape == (283,)
    time_h = layout.read_time(pristine)
    assert time_h.shape == (SMALL.n_time,)
    flux = layout.load_light_curve(pristine, _first_id(pristine), n_time=time_h.size)
    assert isinstance(flux, np.memmap) and flux.shape == (SMALL.n_time, 283)
    loaded = layout.load_light_curve(pristine, _first_id(pristine), mmap=False)
    assert not isinstance(loaded, np.memmap)
    noise = layout.read_noise_truth(pristine)
    assert noise.shape == (SMALL.n_planets, 1 + 3 * 283 + len(layout.SYSTEMATICS_COLUMNS))
    assert layout.read_atmosphere_truth(pristine)["cloudy"].isin([0, 1]).all()
    assert layout.read_dataset_info(pristine)["n_planets"] == SMALL.n_planets


def test_missing_directory(tmp_path):
    missing = tmp_path / "nowhere"
    for reader in (layout.read_labels, layout.read_star_info, layout.read_time, layout.read_wavelengths):
        with pytest.raises(DatasetError, match="nowhere"):
            reader(missing)
    with pytest.raises(DatasetError, match="nowhere"):
        layout.read_labels(missing / "train.csv")
    with pytest.raises(DatasetError, match="nowhere"):
        layout.dataset_fingerprint(missing)


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("train.csv", layout.read_labels),
        ("train_star_info.csv", layout.read_star_info),
        ("wavelengths.csv", layout.read_wavelengths),
        ("light_curve_time.npy", layout.read_time),
        ("noise_truth.csv", layout.read_noise_truth),
        ("dataset.json", layout.read_dataset_info),
    ],
)
def test_missing_file_is_named(data_dir, name, reader):
    (data_dir / name).unlink()
    with pytest.raises(DatasetError, match=f"{name}: file is missing"):
        reader(data_dir)


def test_missing_and_extra_columns_are_named(data_dir):
    labels = pd.read_csv(data_dir / "train.csv")
    labels.drop(columns=["wl_5", "wl_77"]).to_csv(data_dir / "train.csv", index=False)
    with pytest.raises(DatasetError, match=r"train\.csv: missing columns wl_5, wl_77"):
        layout.read_labels(data_dir)

    bonus = pd.Series(1.0, index=labels.index, name="bonus")
    pd.concat([labels, bonus], axis=1).to_csv(data_dir / "train.csv", index=False)
    with pytest.raises(DatasetError, match=r"train\.csv: unexpected columns bonus"):
        layout.read_labels(data_dir)

    stars = pd.read_csv(data_dir / "train_star_info.csv")
    stars.drop(columns=["Ts"]).to_csv(data_dir / "train_star_info.csv", index=False)
    with pytest.raises(DatasetError, match=r"train_star_info\.csv: missing columns Ts"):
        layout.read_star_info(data_dir)


def test_many_missing_columns_are_summarised_on_one_line(data_dir):
    labels = pd.read_csv(data_dir / "train.csv")
    labels[["planet_id", "wl_1"]].to_csv(data_dir / "train.csv", index=False)
    with pytest.raises(DatasetError) as excinfo:
        layout.read_labels(data_dir)
    message = str(excinfo.value)
    assert "\n" not in message and "282 in all" in message and "wl_2" in message


def test_wrong_row_count_is_named(data_dir):
    stars = pd.read_csv(data_dir / "train_star_info.csv")
    stars.iloc[:-1].to_csv(data_dir / "train_star_info.csv", index=False)
    with pytest.raises(DatasetError, match=r"train_star_info\.csv: has 5 rows, dataset.json promises 6"):
        layout.read_star_info(data_dir)

    pd.concat([pd.read_csv(data_dir / "wavelengths.csv")] * 2).to_csv(data_dir / "wavelengths.csv", index=False)
    with pytest.raises(DatasetError, match=r"wavelengths\.csv: has 2 rows"):
        layout.read_wavelengths(data_dir)


def test_non_finite_values_are_named(data_dir):
    labels = pd.read_csv(data_dir / "train.csv")
    labels.loc[2, "wl_9"] = np.nan
    labels.to_csv(data_dir / "train.csv", index=False)
    with pytest.raises(DatasetError, match=r"train\.csv: non-finite values in columns wl_9"):
        layout.read_labels(data_dir)


def test_non_numeric_and_duplicate_ids_are_rejected(data_dir):
    stars = pd.read_csv(data_dir / "train_star_info.csv")
    stars.astype({"Rs": object}).assign(Rs="big").to_csv(data_dir / "train_star_info.csv", index=False)
    with pytest.raises(DatasetError, match=r"train_star_info\.csv: column Rs holds non-numeric"):
        layout.read_star_info(data_dir)

    labels = pd.read_csv(data_dir / "train.csv")
    labels.loc[1, "planet_id"] = labels.loc[0, "planet_id"]
    labels.to_csv(data_dir / "train.csv", index=False)
    with pytest.raises(DatasetError, match=r"train\.csv: duplicate planet_id"):
        layout.read_labels(data_dir)


def test_wavelengths_must_increase(data_dir):
    wl = pd.read_csv(data_dir / "wavelengths.csv")
    wl.iloc[0, 10] = wl.iloc[0, 9]
    wl.to_csv(data_dir / "wavelengths.csv", index=False)
    with pytest.raises(DatasetError, match=r"wavelengths\.csv: .*strictly increasing"):
        layout.read_wavelengths(data_dir)


@pytest.mark.parametrize("mmap", [True, False])
def test_truncated_light_curve_is_named(data_dir, mmap):
    planet_id = _first_id(data_dir)
    path = data_dir / "light_curves" / f"{planet_id}.npy"
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    with pytest.raises(DatasetError, match=rf"{planet_id}\.npy: truncated"):
        layout.load_light_curve(data_dir, planet_id, mmap=mmap)


def test_wrong_shape_light_curve_is_named(data_dir):
    planet_id = _first_id(data_dir)
    path = data_dir / "light_curves" / f"{planet_id}.npy"
    np.save(path, np.ones((SMALL.n_time, 282), dtype=np.float32))
    with pytest.raises(DatasetError, match=rf"{planet_id}\.npy: expected shape \(n_time, 283\)"):
        layout.load_light_curve(data_dir, planet_id)

    np.save(path, np.ones((SMALL.n_time - 1, 283), dtype=np.float32))
    with pytest.raises(DatasetError, match=rf"{planet_id}\.npy: has {SMALL.n_time - 1} time samples"):
        layout.load_light_curve(data_dir, planet_id, n_time=SMALL.n_time)

    np.save(path, np.full((SMALL.n_time, 283), np.inf, dtype=np.float32))
    with pytest.raises(DatasetError, match=rf"{planet_id}\.npy: non-finite"):
        layout.load_light_curve(data_dir, planet_id)


def test_missing_light_curve_is_named(data_dir):
    with pytest.raises(DatasetError, match=r"light_curves/123\.npy: file is missing"):
        layout.load_light_curve(data_dir, 123)


def test_bad_time_file_and_dataset_json_are_named(data_dir):
    np.save(data_dir / "light_curve_time.npy", np.zeros((4, 4)))
    with pytest.raises(DatasetError, match=r"light_curve_time\.npy: expected a 1-D array"):
        layout.read_time(data_dir)
    (data_dir / "dataset.json").write_text("{not json")
    with pytest.raises(DatasetError, match=r"dataset\.json: not valid JSON"):
        layout.read_dataset_info(data_dir)
    (data_dir / "dataset.json").write_text(json.dumps({"seed": 1}))
    with pytest.raises(DatasetError, match=r"dataset\.json: missing keys config"):
        layout.read_dataset_info(data_dir)


def test_fingerprint_changes_when_a_file_changes(data_dir):
    before = layout.dataset_fingerprint(data_dir)
    assert layout.dataset_fingerprint(data_dir) == before
    path = data_dir / "light_curves" / f"{_first_id(data_dir)}.npy"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert layout.dataset_fingerprint(data_dir) != before
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert layout.dataset_fingerprint(data_dir) == before
    (data_dir / "light_curves" / "999.npy").write_bytes(b"")
    assert layout.dataset_fingerprint(data_dir) != before


def test_fingerprint_uses_metadata_not_contents(data_dir):
    path = data_dir / "train.csv"
    before = layout.dataset_fingerprint(data_dir)
    stat = path.stat()
    content = path.read_bytes()
    path.write_bytes(content.replace(b"0", b"1"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.read_bytes() != content and path.stat().st_size == stat.st_size
    assert layout.dataset_fingerprint(data_dir) == before


def test_fingerprint_ignores_the_cache_folder(data_dir):
    before = layout.dataset_fingerprint(data_dir)
    (data_dir / "cache").mkdir()
    (data_dir / "cache" / "features.npz").write_bytes(b"derived")
    assert layout.dataset_fingerprint(data_dir) == before
