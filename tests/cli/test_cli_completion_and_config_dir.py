"""Shell completion (Typer's) and user config directories (`--config-dir DIR`), through the
installed console script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cli_support import SPECTRAMIND, single_error_line, spectramind

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

USER_STUDY = """# @package _global_
hydra:
  sweeper:
    study: mine
    design: grid
    params:
      model: mlp,cnn1d
    seeds: [0]
"""


def _complete(words: str, cwd: Path) -> list[str]:
    """What bash completion offers after ``words`` (Click's protocol, which Typer's script uses)."""
    env = {
        **os.environ,
        "_SPECTRAMIND_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    result = subprocess.run([str(SPECTRAMIND)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_completion_script_and_completions(tmp_path):
    # Typer detects the shell from the process's ancestors (a positional "bash" is ignored), so
    # ask from a bash, as a user does: pytest itself may run under no shell (cron, a detached
    # job). The command goes on bash's stdin: `bash -c CMD` would exec CMD in bash's place.
    result = subprocess.run(
        ["bash"], input=f"{SPECTRAMIND} --show-completion\n", cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "_SPECTRAMIND_COMPLETE" in result.stdout, result.stderr
    assert _complete("spectramind abl", tmp_path) == ["ablate"]
    assert "quick" in _complete("spectramind ablate run q", tmp_path)  # study names, not just commands


def test_user_study_found_by_short_name(tmp_path):
    (tmp_path / "myconf" / "ablation").mkdir(parents=True)
    (tmp_path / "myconf" / "ablation" / "mine.yaml").write_text(USER_STUDY)
    result = spectramind(
        "ablate",
        "run",
        "mine",
        "--config-dir",
        tmp_path / "myconf",
        "--dry-run",
        "--sweep-dir",
        tmp_path / "sweep",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 runs" in result.stderr + result.stdout and "model=mlp" in result.stderr + result.stdout
    # The same with Hydra's own search path override, and an unknown name lists the user's study.
    result = spectramind(
        "ablate",
        "run",
        "mine",
        f"hydra.searchpath=[file://{tmp_path / 'myconf'}]",
        "--dry-run",
        "--sweep-dir",
        tmp_path / "sweep2",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    message = single_error_line(
        spectramind("ablate", "run", "yours", "--config-dir", tmp_path / "myconf", "--dry-run", cwd=tmp_path)
    )
    assert "unknown study 'yours'" in message and "mine" in message
