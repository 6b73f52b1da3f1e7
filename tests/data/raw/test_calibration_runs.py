"""Calibration runs: parallel output equals sequential (joblib and Ray), and a killed run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from raw_support import calibrate, calibration_outputs

from spectramind.errors import ConfigurationError

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

SPECTRAMIND = Path(sys.executable).parent / "spectramind"


def test_parallel_output_is_bit_identical_to_sequential(raw_2025, calibrated_2025, tmp_path):
    parallel = calibrate(raw_2025, tmp_path / "parallel", workers=2)
    assert calibration_outputs(parallel) == calibration_outputs(calibrated_2025)


def test_ray_backend_output_is_bit_identical_to_sequential(raw_2025, calibrated_2025, tmp_path):
    import ray  # the `ray` extra, which .ci/setup --test installs

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = calibrate(raw_2025, tmp_path / "ray", workers=2, backend="ray")
        with pytest.raises(ConfigurationError, match="--workers 3 exceeds the Ray cluster's 2 CPUs"):
            calibrate(raw_2025, tmp_path / "too-many", workers=3, backend="ray")
    finally:
        ray.shutdown()
    assert calibration_outputs(on_ray) == calibration_outputs(calibrated_2025)


def test_a_killed_calibration_resumes_without_redoing_finished_planets(raw_2025, calibrated_2025, tmp_path):
    out = tmp_path / "out"
    command = [str(SPECTRAMIND), "data", "calibrate", str(raw_2025), str(out), "--airs-bin", "4", "--fgs-bin", "48"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = out / ".calibration"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name != "parameters.json" for p in records.glob("*.json")):
            break
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    finished = {
        p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in records.glob("*.json") if p.name != "parameters.json"
    }
    assert 1 <= len(finished) < 3, "the run was killed after its first planet, before its last"
    assert not (out / "dataset.json").exists()  # nothing tells a reader the folder is complete

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count("[calibrate]") == 3 - len(finished)  # only the unfinished planets ran
    for name, (mtime, content) in finished.items():
        assert ((records / name).stat().st_mtime_ns, (records / name).read_bytes()) == (mtime, content)
    assert calibration_outputs(out) == calibration_outputs(calibrated_2025)
