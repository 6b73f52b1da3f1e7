"""Configurations and helpers shared by the raw-data tests (tests/data/raw)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from spectramind.data.raw.calibrate import calibrate_folder
from spectramind.data.raw.detector import DetectorConfig
from spectramind.data.raw.reduction import CalibrationParams
from spectramind.data.raw.simulate import RAW_PHYSICS, RawSimulationConfig, read_simulation_config, simulate_raw_dataset
from spectramind.data.raw.truth import binned_truth, visit_truth

# 4 planets, one of them in the test split, one observed twice; 80 AIRS read pairs, 960 FGS1 pairs. So few
# reads (the real visits have 5625 pairs) bury the realistic population's shallow transits in noise: these
# sets take the legacy population's deeper transits, so that each visit's transit can be found.
RAW_2025 = RawSimulationConfig(
    physics=dataclasses.replace(RAW_PHYSICS, n_planets=4, seed=11, population="legacy"),
    airs_frames=160,
    test_fraction=0.25,
    second_visit_fraction=0.25,
)
# The same kind of set with every stochastic and lossy detector step off (float64 frames).
IDEAL = RawSimulationConfig(
    physics=dataclasses.replace(RAW_PHYSICS, n_planets=3, seed=12),
    airs_frames=96,
    test_fraction=0.34,
    second_visit_fraction=0.34,
    detector=DetectorConfig(photon_noise=False, read_noise=False, quantize=False),
)
RAW_2024 = dataclasses.replace(RAW_2025, variant="adc2024", physics=dataclasses.replace(RAW_2025.physics, seed=13))
# 20 time bins for both sensors, or 40.
BINS = CalibrationParams(airs_bin=4, fgs_bin=48)
FINE_BINS = CalibrationParams(airs_bin=2, fgs_bin=24)


def simulate(out: Path, config: RawSimulationConfig) -> Path:
    return simulate_raw_dataset(out, config)


def calibrate(raw: Path, out: Path, split: str = "train", params: CalibrationParams = BINS, **options) -> Path:
    manifest = calibrate_folder(raw, out, split=split, params=params, **options)
    assert manifest["counts"]["failed"] == 0, manifest
    return out


def light_curve(calibrated: Path, planet_id: int) -> np.ndarray:
    """(visits, n_time, 283), whatever the number of visits."""
    curve = np.load(calibrated / "light_curves" / f"{planet_id}.npy")
    return curve[None] if curve.ndim == 2 else curve


def truth(raw: Path, planet_id: int, visit: int, params: CalibrationParams = BINS):
    """(times, flux, noise sigma) an ideal calibration of this visit gives, relative to each
    channel's visit mean as the calibrated light curves are, and the visit's model."""
    model = visit_truth(raw, planet_id, visit)
    times, flux, sigma = binned_truth(model, read_simulation_config(raw), params.airs_bin, params.fgs_bin)
    level = flux.mean(axis=0)
    return times, flux / level, sigma / level, model


def calibration_outputs(folder: Path) -> dict[str, bytes]:
    """Every file a calibration leaves, timings and Ray nodes (where, not what) taken out of the
    records and the manifest."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "cache" in path.parts:
            continue
        content = path.read_bytes()
        if path.suffix == ".json":
            record = json.loads(content)
            for entry in (record, *record.get("planets", {}).values()):
                entry.pop("seconds", None)
                entry.pop("node", None)
            content = json.dumps(record, sort_keys=True).encode()
        found[path.relative_to(folder).as_posix()] = content
    return found
