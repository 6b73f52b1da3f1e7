"""The raw-frame simulator writes exactly the competition's files: names, shapes, dtypes, schemas.

The expected values are the facts of the competition's files (docs/real-data.md), written out
here rather than taken from spectramind's own constants, so that a wrong constant fails a test.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from raw_support import RAW_2024, RAW_2025

from spectramind.data.raw.simulate import RawSimulationConfig, axis_info
from spectramind.errors import ConfigurationError

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

WL = [f"wl_{i}" for i in range(1, 284)]
SIGMA = [f"sigma_{i}" for i in range(1, 284)]
STAR = ["planet_id", "Rs", "Ms", "Ts", "Mp", "e", "P", "sma", "i"]
ADC_HEADER = "FGS1_adc_offset,FGS1_adc_gain,AIRS-CH0_adc_offset,AIRS-CH0_adc_gain"
CALIBRATION = {"dark.parquet", "dead.parquet", "flat.parquet", "linear_corr.parquet", "read.parquet"}
WIDTH = {"AIRS-CH0": 356, "FGS1": 32}


def _planets(root, split):
    return sorted(p for p in (root / split).iterdir())


def test_root_holds_the_competition_files_and_nothing_else(raw_2025):
    names = {p.name for p in raw_2025.iterdir()}
    assert names == {
        "adc_info.csv",
        "axis_info.parquet",
        "wavelengths.csv",
        "train.csv",
        "train_star_info.csv",
        "test_star_info.csv",
        "sample_submission.csv",
        "train",
        "test",
        # not the competition's: the test labels and the simulator's record
        "test_solution.csv",
        "simulation.json",
    }
    lines = (raw_2025 / "adc_info.csv").read_text().splitlines()
    assert lines == [ADC_HEADER, "-1000.0,0.4369,-1000.0,0.4369"]
    info = json.loads((raw_2025 / "simulation.json").read_text())
    assert RawSimulationConfig.from_dict(info["config"]) == RAW_2025


def test_axis_info_columns_padding_and_cadence(raw_2025):
    table = pq.read_table(raw_2025 / "axis_info.parquet")
    assert table.column_names == ["AIRS-CH0-axis0-h", "AIRS-CH0-axis2-um", "AIRS-CH0-integration_time", "FGS1-axis0-h"]
    assert all(str(t) == "double" for t in table.schema.types)
    frame = table.to_pandas()
    assert len(frame) == 12 * RAW_2025.airs_frames  # the FGS1 column is the longest
    lengths = frame.notna().sum().to_dict()
    assert lengths == {
        "AIRS-CH0-axis0-h": RAW_2025.airs_frames,
        "AIRS-CH0-axis2-um": 356,
        "AIRS-CH0-integration_time": RAW_2025.airs_frames,
        "FGS1-axis0-h": 12 * RAW_2025.airs_frames,
    }
    for column, count in lengths.items():  # values first, NaN padding after
        assert frame[column].iloc[:count].notna().all() and frame[column].iloc[count:].isna().all()
    wavelengths = frame["AIRS-CH0-axis2-um"].dropna().to_numpy()
    assert (np.diff(wavelengths) < 0).all()
    np.testing.assert_allclose(wavelengths[[0, 39, 320, 355]], [4.07846, 3.89504, 1.95176, 1.63325], atol=2e-5)
    integration = frame["AIRS-CH0-integration_time"].dropna().to_numpy()
    assert (integration[0::2] == 0.1).all() and (integration[1::2] == 4.5).all()
    airs_s = frame["AIRS-CH0-axis0-h"].dropna().to_numpy() * 3600
    np.testing.assert_allclose(airs_s[:2], [0.1, 0.2])
    np.testing.assert_allclose(airs_s[-1], 7.5 * 3600 * (1 - 2 / RAW_2025.airs_frames) + 0.2)


def test_real_cadence_matches_the_competitions_read_times():
    axis = axis_info(RawSimulationConfig())
    airs, fgs = axis.times_h["AIRS-CH0"] * 3600, axis.times_h["FGS1"] * 3600
    assert (airs.size, fgs.size) == (11250, 135000)
    np.testing.assert_allclose(airs[:6], [0.1, 0.2, 4.9, 5.0, 9.7, 9.8])
    np.testing.assert_allclose(fgs[:6], [0.1, 0.2, 0.5, 0.6, 0.9, 1.0])
    np.testing.assert_allclose([airs[-1], fgs[-1]], [26995.4, 26999.8])


def test_wavelengths_are_fgs1_then_the_reversed_airs_columns(raw_2025):
    wavelengths = pd.read_csv(raw_2025 / "wavelengths.csv")
    assert list(wavelengths.columns) == WL and len(wavelengths) == 1
    values = wavelengths.to_numpy()[0]
    axis = pd.read_parquet(raw_2025 / "axis_info.parquet")["AIRS-CH0-axis2-um"].dropna().to_numpy()
    assert values[0] == 0.7
    np.testing.assert_allclose(values[1:], axis[39:321][::-1], rtol=0, atol=1e-14)


def test_label_star_and_submission_tables(raw_2025):
    train_ids = sorted(int(p.name) for p in _planets(raw_2025, "train"))
    test_ids = sorted(int(p.name) for p in _planets(raw_2025, "test"))
    assert len(train_ids) == 3 and len(test_ids) == 1
    for name, ids in (("train.csv", train_ids), ("test_solution.csv", test_ids)):
        labels = pd.read_csv(raw_2025 / name)
        assert list(labels.columns) == ["planet_id", *WL]
        assert labels["planet_id"].dtype == np.int64 and sorted(labels["planet_id"]) == ids
        assert all(labels[c].dtype == np.float64 for c in WL)
        assert ((labels[WL] > 1e-4) & (labels[WL] < 0.1)).all().all()
    for name, ids in (("train_star_info.csv", train_ids), ("test_star_info.csv", test_ids)):
        stars = pd.read_csv(raw_2025 / name)
        assert list(stars.columns) == STAR and sorted(stars["planet_id"]) == ids
        assert (stars["e"] == 0).all()
        assert ((stars["sma"] > 3) & (stars["sma"] < 60)).all()  # a/Rs, as the competition gives it
    submission = pd.read_csv(raw_2025 / "sample_submission.csv")
    assert list(submission.columns) == ["planet_id", *WL, *SIGMA] and len(submission.columns) == 567
    assert sorted(submission["planet_id"]) == test_ids


def test_planet_folders_and_signal_parquets(raw_2025):
    visits_seen = []
    for folder in _planets(raw_2025, "train") + _planets(raw_2025, "test"):
        visits = sorted({int(p.stem.rsplit("_", 1)[1]) for p in folder.glob("*_signal_*.parquet")})
        visits_seen.append(len(visits))
        expected = {
            f"{s}_{kind}_{v}{'.parquet' if kind == 'signal' else ''}"
            for s in WIDTH
            for kind in ("signal", "calibration")
            for v in visits
        }
        assert {p.name for p in folder.iterdir()} == expected
        for visit in visits:
            for sensor, width in WIDTH.items():
                signal = pq.ParquetFile(folder / f"{sensor}_signal_{visit}.parquet")
                frames = RAW_2025.airs_frames * (12 if sensor == "FGS1" else 1)
                assert signal.metadata.num_rows == frames
                assert signal.schema_arrow.names == [f"column_{i}" for i in range(32 * width)]
                assert {str(t) for t in signal.schema_arrow.types} == {"uint16"}
                values = signal.read_row_group(0, columns=["column_0", f"column_{32 * width - 1}"]).to_pandas()
                # A corner pixel sees almost no light: the offset's 437 DN plus read noise (+ dark).
                assert 380 < values.median().min() < 520
                calibration = folder / f"{sensor}_calibration_{visit}"
                assert {p.name for p in calibration.iterdir()} == CALIBRATION
                for name in CALIBRATION:
                    table = pq.read_table(calibration / name)
                    rows = 192 if name == "linear_corr.parquet" else 32
                    assert (table.num_rows, table.num_columns) == (rows, width)
                    assert table.column_names == [f"column_{i}" for i in range(width)]
                    assert {str(t) for t in table.schema.types} == {"bool" if name == "dead.parquet" else "double"}
                    assert table.schema.metadata is None  # written like the competition's (Polars), no pandas metadata
    assert sorted(visits_seen) == [1, 1, 1, 2]


def test_calibration_values_look_like_the_competitions(raw_2025):
    folder = _planets(raw_2025, "train")[0] / "AIRS-CH0_calibration_0"
    dark = pd.read_parquet(folder / "dark.parquet").to_numpy()
    read = pd.read_parquet(folder / "read.parquet").to_numpy()
    flat = pd.read_parquet(folder / "flat.parquet").to_numpy()
    dead = pd.read_parquet(folder / "dead.parquet").to_numpy()
    linear = pd.read_parquet(folder / "linear_corr.parquet").to_numpy().reshape(6, 32, 356)
    assert 0.004 < np.median(dark) < 0.01 and dark.max() > 0.5  # hot pixels in the tail
    assert 12 < np.median(read) < 14
    assert 0.98 < np.median(flat) < 1.03 and 0 < dead.sum() < 60
    np.testing.assert_allclose(np.median(linear[1]), 1.0, atol=0.01)
    # A sub-linear detector: the correction adds charge, ~1-3 % at 45k electrons.
    x = 45000.0
    corrected = sum(linear[k, 16, 100] * x**k for k in range(6))
    assert 1.005 < (corrected - linear[0, 16, 100]) / x < 1.05


def test_adc2024_layout(raw_2024):
    names = {p.name for p in raw_2024.iterdir()}
    assert {
        "train_adc_info.csv",
        "test_adc_info.csv",
        "train_labels.csv",
        "axis_info.parquet",
        "wavelengths.csv",
        "sample_submission.csv",
    } <= names
    assert not names & {"adc_info.csv", "train.csv", "train_star_info.csv", "test_star_info.csv"}
    adc = pd.read_csv(raw_2024 / "train_adc_info.csv")
    assert list(adc.columns) == ["planet_id", *ADC_HEADER.split(","), "star"]
    assert sorted(adc["planet_id"]) == sorted(int(p.name) for p in _planets(raw_2024, "train"))
    for folder in _planets(raw_2024, "train"):
        assert {p.name for p in folder.iterdir()} == {
            "AIRS-CH0_signal.parquet",
            "FGS1_signal.parquet",
            "AIRS-CH0_calibration",
            "FGS1_calibration",
        }
    assert list(pd.read_csv(raw_2024 / "train_labels.csv").columns) == ["planet_id", *WL]
    assert RAW_2024.variant == "adc2024"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"airs_frames": 7}, "even number"),
        ({"airs_frames": 20000}, "too many"),
        ({"variant": "adc2030"}, "variant"),
        ({"test_fraction": 1.0}, "test_fraction"),
    ],
)
def test_bad_configurations_are_refused(changes, message):
    with pytest.raises(ConfigurationError, match=message):
        RawSimulationConfig(**changes)


def test_frames_are_streamed_so_memory_does_not_grow_with_the_visit(tmp_path, monkeypatch):
    """The frames' arrays (numpy, traced by tracemalloc) stay the size of one chunk and one row group
    whatever the visit's length. (The parquet footer still grows by ~1 kB per column and row group:
    docs/performance.md has the simulator's peak RSS for a full-cadence visit.)"""
    import dataclasses
    import tracemalloc

    import spectramind.data.raw.simulate as raw

    monkeypatch.setattr(raw, "ROW_GROUP_BYTES", 2**20)  # small, so that a short visit already streams
    monkeypatch.setattr(raw, "CHUNK_VALUES", 2**16)

    def peak(frames: int) -> int:
        config = raw.RawSimulationConfig(
            physics=dataclasses.replace(raw.RAW_PHYSICS, n_planets=1, seed=1),
            airs_frames=frames,
            test_fraction=0.5,
            second_visit_fraction=0.0,
        )
        tracemalloc.start()
        try:
            raw.simulate_raw_dataset(tmp_path / f"raw{frames}", config)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(200), peak(1000)
    # 800 more AIRS reads and 9600 more FGS1 reads: 38 MB more as uint16, 150 MB as float64; what
    # grows is only the per-pair light curves (1 MB per 1000 reads).
    assert large - small < 10 * 2**20, (small, large)
