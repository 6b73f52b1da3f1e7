"""Fast checks of the benchmark entry point and of the one start-up property that is a rule, not
a figure: Hydra's plugin scan (run by every Hydra app, even for ``--help``) must not import torch.
The benchmarks themselves are measurements, run with ``python -m bench``, never here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("orchestration", "parallel", "resume", "leaderboard", "training_step", "startup", "simulator")


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
