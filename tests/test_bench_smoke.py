"""Fast checks of the benchmark entry point and of the one start-up property that is a rule, not
a figure: Hydra's plugin scan (run by every Hydra app, even for ``--help``) must not import torch.
The benchmarks themselves are measurements, run with ``python -m bench``, never here; only the
calibration benchmark's reference implementation is checked here, on a tiny visit, because its
figures mean something only if it computes what spectramind computes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTIONS = (
    "orchestration",
    "parallel",
    "resume",
    "leaderboard",
    "training_step",
    "backbones",
    "startup",
    "simulator",
    "calibration",
    "halving",
    "tracking_load",
)


def run_python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)


def test_bench_help_lists_every_section():
    result = run_python("-m", "bench", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m bench" in result.stdout
    for section in SECTIONS:
        assert section in result.stdout


def test_bench_rejects_an_unknown_section_before_measuring_anything():
    result = run_python("-m", "bench", "--only", "startup", "no_such_section")
    assert result.returncode == 2
    assert "no_such_section" in result.stderr
    assert "[bench]" not in result.stdout  # argument parsing failed before any measurement started


def test_hydra_plugin_scan_finds_the_ablation_sweeper_without_importing_torch():
    code = (
        "import json, sys\n"
        "from hydra.core.plugins import Plugins\n"
        "from hydra.plugins.sweeper import Sweeper\n"
        "found = [c.__module__ + '.' + c.__name__ for c in Plugins.instance().discover(Sweeper)]\n"
        "print(json.dumps({'found': found, 'torch': 'torch' in sys.modules}))\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    scan = json.loads(result.stdout.strip().splitlines()[-1])
    assert "hydra_plugins.spectramind_ablation.sweeper.AblationSweeper" in scan["found"]
    assert scan["torch"] is False


def test_calibration_reference_sigma_clip_matches_spectramind_hot_pixels():
    import numpy as np

    from bench.calibration_reference import sigma_clip_mask
    from spectramind.data.raw.reduction import hot_pixels

    rng = np.random.default_rng(3)
    dark = rng.normal(0.006, 0.001, (32, 282))
    dark[rng.integers(0, 32, 40), rng.integers(0, 282, 40)] += rng.uniform(0.01, 10, 40)  # hot tail
    no_dead = np.zeros(dark.shape, dtype=bool)
    hot = sigma_clip_mask(dark, sigma=5, maxiters=5)
    assert 30 <= hot.sum() <= 45
    np.testing.assert_array_equal(hot, hot_pixels(dark, no_dead))


def test_calibration_reference_agrees_with_box_extraction_on_a_tiny_visit(tmp_path):
    import dataclasses

    import numpy as np

    from spectramind.data.raw.calibrate import calibrate_folder
    from spectramind.data.raw.reduction import CalibrationParams
    from spectramind.data.raw.simulate import RAW_PHYSICS, RawSimulationConfig, simulate_raw_dataset

    # 2 planets (one train, one test), 32 AIRS read pairs and 384 FGS1 pairs: 8 bins of 4 / 48
    config = RawSimulationConfig(
        physics=dataclasses.replace(RAW_PHYSICS, n_planets=2, seed=5),
        airs_frames=64,
        test_fraction=0.5,
        second_visit_fraction=0.0,
    )
    raw = simulate_raw_dataset(tmp_path / "raw", config)
    (planet_dir,) = (raw / "train").iterdir()
    out = tmp_path / "reference.npy"
    result = run_python(
        "-m",
        "bench.calibration_reference",
        str(planet_dir),
        str(raw),
        "--airs-bin",
        "4",
        "--fgs-bin",
        "48",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout.strip().splitlines()[-1])
    assert run["frames"] == {"AIRS-CH0": 64, "FGS1": 768} and run["n_bins"] == 8
    assert run["seconds"] > 0 and run["maxrss_peak_mib"] > 0 and run["signal_bytes"] > 0
    reference = np.load(out)
    assert reference.shape == (8, 283) and np.isfinite(reference).all() and (reference > 0).all()

    manifest = calibrate_folder(
        raw, tmp_path / "ours", params=CalibrationParams(airs_bin=4, fgs_bin=48, extraction="box")
    )
    assert manifest["counts"]["failed"] == 0
    ours = np.load(tmp_path / "ours" / "light_curves" / f"{planet_dir.name}.npy")
    relative = np.abs(reference / reference.mean(axis=0) / ours - 1)
    # The same sums wherever the box holds no dead or hot pixel; where it does, spectramind drops the
    # pixel and the reference keeps its raw values (the notebook's mask is lost): a fraction of a percent.
    assert np.median(relative) < 1e-6
    assert relative.max() < 0.03
