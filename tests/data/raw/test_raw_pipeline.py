"""From raw frames to a scored submission with the commands a user types (docs/real-data.md), in
both competitions' layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spectramind.data.datamodule import ArielDataModule

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

SPECTRAMIND = Path(sys.executable).parent / "spectramind"


def _run(*args, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([*map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result


# Per raw format: the file naming the test planets, and the train labels. ADC 2024 ships no star
# info, so its default training runs the transit fit on orbits fitted to the white light.
FORMATS = {
    "adc2025-raw": ("test_star_info.csv", "train.csv"),
    "adc2024-raw": ("test_adc_info.csv", "train_labels.csv"),
}


@pytest.mark.parametrize("raw_format", FORMATS)
def test_raw_frames_to_a_scored_submission(tmp_path, raw_format):
    spectramind = str(SPECTRAMIND)
    test_planets, train_labels = FORMATS[raw_format]
    _run(
        spectramind,
        "data",
        "simulate",
        "--format",
        raw_format,
        "--n-planets",
        "12",
        "--airs-frames",
        "160",
        "--seed",
        "3",
        "--out",
        "RAW",
        cwd=tmp_path,
    )
    for split, out in (("train", "CAL"), ("test", "CALT")):
        _run(
            spectramind,
            "data",
            "calibrate",
            "RAW",
            out,
            "--split",
            split,
            "--airs-bin",
            "2",
            "--fgs-bin",
            "24",
            cwd=tmp_path,
        )
    _run(
        sys.executable,
        "-m",
        "spectramind.train",
        "data=adc",
        "data.data_dir=CAL",
        "training.epochs=3",
        "hydra.run.dir=RUN",
        cwd=tmp_path,
    )
    record = json.loads((tmp_path / "RUN" / "run.json").read_text())
    assert record["status"] == "completed"
    metrics = json.loads((tmp_path / "RUN" / "metrics.json").read_text())
    assert metrics["gll"] == metrics["gll"] and "adc2025" in metrics  # finite, scored on its test split
    n_planets = len(pd.read_csv(tmp_path / "CAL" / "train.csv"))
    source = "star_info" if raw_format == "adc2025-raw" else "fitted"  # what the run's record gets
    assert ArielDataModule(str(tmp_path / "CAL")).orbit_sources() == {"star_info": 0, "fitted": 0, source: n_planets}

    _run(spectramind, "predict", "RUN/checkpoints/best.ckpt", "--data", "CALT", "--out", "submission.csv", cwd=tmp_path)
    submission = pd.read_csv(tmp_path / "submission.csv")
    solution = pd.read_csv(tmp_path / "RAW" / "test_solution.csv")
    assert sorted(submission["planet_id"]) == sorted(solution["planet_id"])
    assert sorted(submission["planet_id"]) == sorted(pd.read_csv(tmp_path / "RAW" / test_planets)["planet_id"])
    scored = _run(
        spectramind,
        "score",
        "RAW/test_solution.csv",
        "submission.csv",
        "--train-labels",
        f"RAW/{train_labels}",
        "--json",
        cwd=tmp_path,
    )
    result = json.loads(scored.stdout)
    assert result["unclipped"] == result["unclipped"] and 0 <= result["score"] <= 1
