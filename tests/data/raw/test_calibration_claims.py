"""Several calibration processes on one output folder: each planet is claimed by one of them and
calibrated once, a claim whose process died is taken over, every process exits 0 with the folder
complete, and the output is the one a single process writes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from raw_support import calibration_outputs

from spectramind.data.raw.claims import planet_claim

pytestmark = pytest.mark.slow  # calibrates raw data end to end

SPECTRAMIND = Path(sys.executable).parent / "spectramind"
BINS = ["--airs-bin", "4", "--fgs-bin", "48"]  # raw_support.BINS, which calibrated_2025 used
HOLD = """
import sys, time
from pathlib import Path
from spectramind.data.raw.claims import planet_claim
with planet_claim(Path(sys.argv[1]), int(sys.argv[2])) as mine:
    assert mine
    print("held", flush=True)
    time.sleep(600)
"""


def _calibrate(raw: Path, out: Path) -> subprocess.Popen:
    command = [str(SPECTRAMIND), "data", "calibrate", str(raw), str(out), *BINS]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _calibrated_here(stderr: str) -> list[int]:
    """The planets a process calibrated itself (not those it found settled by another)."""
    return [int(pid) for pid in re.findall(r"planet (\d+): completed \(", stderr)]


def test_two_processes_share_the_planets_and_both_finish_the_folder(raw_2025, calibrated_2025, tmp_path):
    out = tmp_path / "out"
    processes = [_calibrate(raw_2025, out), _calibrate(raw_2025, out)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err[-2000:] for _, err in outputs]
    calibrated = [_calibrated_here(err) for _, err in outputs]
    planets = sorted(int(p.stem) for p in (calibrated_2025 / ".calibration").glob("*.json") if p.stem.isdigit())
    assert sorted(calibrated[0] + calibrated[1]) == planets  # every planet once, by one process
    for _, err in outputs:  # each process accounts for every planet, calibrated or settled by the other
        assert len(re.findall(r"^\[calibrate\] \d+/\d+ planet", err, re.MULTILINE)) == len(planets)
    assert calibration_outputs(out) == calibration_outputs(calibrated_2025)


def test_a_claim_whose_process_died_is_taken_over(raw_2025, calibrated_2025, tmp_path):
    out = tmp_path / "out"
    planets = sorted(int(p.stem) for p in (calibrated_2025 / ".calibration").glob("*.json") if p.stem.isdigit())
    claims = out / ".calibration" / "claims"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(claims), str(planets[0])], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        process = _calibrate(raw_2025, out)
        deadline = time.monotonic() + 120
        others = [out / ".calibration" / f"{p}.json" for p in planets[1:]]
        while time.monotonic() < deadline and not all(path.exists() for path in others):
            time.sleep(0.1)
        time.sleep(2)
        assert process.poll() is None  # the held planet is waited for, not skipped or done twice
    finally:
        holder.send_signal(signal.SIGKILL)  # its process dies: the claim is free at once
        holder.wait()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    assert sorted(_calibrated_here(err)) == planets
    assert calibration_outputs(out) == calibration_outputs(calibrated_2025)


def test_a_claim_is_one_process_at_a_time(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "7"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with planet_claim(tmp_path, 7) as mine:
            assert not mine
        with planet_claim(tmp_path, 8) as mine:  # another planet is free
            assert mine
    finally:
        holder.kill()
        holder.wait()
    with planet_claim(tmp_path, 7) as mine:
        assert mine
