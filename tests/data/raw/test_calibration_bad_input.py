"""Bad raw input: one line naming the file and the problem; a failed planet never stops the others.

Each case damages one planet of a copy of the small ADC 2025 set and calibrates it next to a
healthy planet with the ``spectramind`` command, as a user would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

SPECTRAMIND = Path(sys.executable).parent / "spectramind"


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SPECTRAMIND), "data", "calibrate", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def _planet_dirs(raw: Path) -> tuple[Path, Path]:
    """(the planet observed twice, another train planet)."""
    planets = sorted((raw / "train").iterdir())
    twice = next(p for p in planets if (p / "AIRS-CH0_signal_1.parquet").exists())
    return twice, next(p for p in planets if p != twice)


def _rewrite(path: Path, change) -> None:
    values = pq.read_table(path).to_pandas().to_numpy()
    values = change(values)
    pq.write_table(pa.table({f"column_{i}": values[:, i] for i in range(values.shape[1])}), path)


def _nan_frames(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    values[10:120] = np.nan
    return values


DAMAGES = {
    "missing calibration file": (
        lambda p: (p / "AIRS-CH0_calibration_0" / "dark.parquet").unlink(),
        "AIRS-CH0_calibration_0/dark.parquet",
        "file is missing",
    ),
    "calibration file of the wrong shape": (
        lambda p: _rewrite(p / "FGS1_calibration_0" / "flat.parquet", lambda v: v[:31]),
        "FGS1_calibration_0/flat.parquet",
        "expected 1024",
    ),
    "element count not a multiple of the frame": (
        lambda p: _rewrite(p / "AIRS-CH0_signal_0.parquet", lambda v: v[:, :-1]),
        "AIRS-CH0_signal_0.parquet",
        "is not a whole number of 32x356 AIRS-CH0 frames",
    ),
    "odd number of frames": (
        lambda p: _rewrite(p / "AIRS-CH0_signal_0.parquet", lambda v: v[:-1]),
        "AIRS-CH0_signal_0.parquet",
        "an odd count",
    ),
    "truncated parquet": (
        lambda p: (p / "FGS1_signal_0.parquet").write_bytes((p / "FGS1_signal_0.parquet").read_bytes()[:5000]),
        "FGS1_signal_0.parquet",
        "truncated or not a parquet file",
    ),
    "frames full of NaN": (
        lambda p: _rewrite(p / "AIRS-CH0_signal_0.parquet", _nan_frames),
        "AIRS-CH0_signal_0.parquet",
        "frames are more than half NaN or saturated (first: frame 10)",
    ),
    "saturated frames": (
        lambda p: _rewrite(p / "FGS1_signal_0.parquet", lambda v: np.full_like(v, 65535)),
        "FGS1_signal_0.parquet",
        "1920 of 1920 frames are more than half NaN or saturated",
    ),
    "visit without its calibration folder": (
        lambda p: shutil.rmtree(p / "FGS1_calibration_1"),
        "FGS1_calibration_1",
        "calibration folder is missing for visit 1",
    ),
    "one sensor's signal missing": (
        lambda p: (p / "FGS1_signal_1.parquet").unlink(),
        "FGS1_signal_1.parquet",
        "file is missing",
    ),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_a_damaged_planet_is_reported_and_the_others_are_calibrated(raw_2025, tmp_path, damage):
    raw = tmp_path / "raw"
    shutil.copytree(raw_2025, raw)
    broken, healthy = _planet_dirs(raw)
    change, file_name, expected = DAMAGES[damage]
    change(broken)
    result = _run(
        raw, tmp_path / "out", "--airs-bin", "4", "--fgs-bin", "48", "--planets", f"{broken.name},{healthy.name}"
    )
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: planet {broken.name}: ") and expected in errors[0], errors[0]
    assert str(raw / "train" / broken.name / file_name) in errors[0]
    assert "1 planet(s) calibrated, 1 failed" in result.stdout
    assert (tmp_path / "out" / "light_curves" / f"{healthy.name}.npy").is_file()
    assert not (tmp_path / "out" / "light_curves" / f"{broken.name}.npy").exists()


def _single_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_folder_in_neither_layout_is_refused(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "train.csv").write_text("planet_id\n1\n")
    line = _single_error(_run(tmp_path / "raw", tmp_path / "out"))
    assert f"{tmp_path / 'raw'}: in neither competition layout" in line
    assert not (tmp_path / "out").exists()


def test_an_unknown_planet_id_is_refused_before_any_work(raw_2025, tmp_path):
    line = _single_error(_run(raw_2025, tmp_path / "out", "--planets", "123,456"))
    assert "unknown planet id(s) 123, 456" in line
    assert not (tmp_path / "out").exists()
    assert "expected planet ids" in _single_error(_run(raw_2025, tmp_path / "out", "--planets", "12a"))


def test_missing_axis_info_and_foreign_output_folders_are_refused(raw_2025, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(raw_2025, raw)
    (raw / "axis_info.parquet").unlink()
    assert f"{raw / 'axis_info.parquet'}: file is missing" in _single_error(_run(raw, tmp_path / "out"))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert "not empty and not a calibrated folder" in _single_error(_run(raw_2025, foreign))
    assert (foreign / "notes.txt").read_text() == "mine"


def test_the_ray_backend_without_ray_names_the_extra_before_writing_anything(raw_2025, tmp_path, monkeypatch):
    from spectramind.data.raw.calibrate import calibrate_folder
    from spectramind.errors import ConfigurationError

    monkeypatch.setitem(sys.modules, "ray", None)  # as where the `ray` extra is not installed
    with pytest.raises(ConfigurationError, match=r"--backend ray needs Ray: pip install 'spectramind\[ray\]'"):
        calibrate_folder(raw_2025, tmp_path / "out", workers=2, backend="ray")
    assert not (tmp_path / "out").exists()
