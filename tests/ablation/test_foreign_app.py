"""Any Hydra app that selects ``hydra/sweeper=ablation`` (not only spectramind's): a failed run makes
the command exit non-zero, after the leaderboard and every other ``on_multirun_end`` callback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_helpers import explain, sweep_env

APP = """
import hydra


@hydra.main(version_base="1.3", config_path=".", config_name="config")
def main(cfg) -> float:
    if cfg.x == 2:
        raise RuntimeError("the task failed for x=2")
    return float(cfg.x)


if __name__ == "__main__":
    main()
"""
CONFIG = """
defaults:
  - override hydra/sweeper: ablation
  - _self_
x: 0
hydra:
  sweep:
    dir: sweep
  callbacks:
    mark_end:
      _target_: sweep_callbacks.MarkMultirunEnd
"""


@pytest.fixture()
def app(tmp_path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "config.yaml").write_text(CONFIG)
    return tmp_path


def _sweep(app: Path, values: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "app.py", "--multirun", f"x={values}"],
        cwd=app,
        env=sweep_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_failed_run_exits_1_after_every_callback(app):
    result = _sweep(app, "1,2,3")
    assert result.returncode == 1, explain(result)
    assert result.stderr.strip().splitlines()[-1] == "error: 1 failed of 3 runs; see sweep/sweep.json"
    assert "Traceback" not in result.stderr.strip().splitlines()[-1]
    seen = json.loads((app / "sweep" / "multirun_end.json").read_text())["statuses"]  # the callback ran
    assert sorted(seen.values()) == ["completed", "completed", "failed"]


def test_a_sweep_without_failures_exits_0(app):
    result = _sweep(app, "1,3")
    assert result.returncode == 0, explain(result)
    assert (app / "sweep" / "multirun_end.json").is_file()
