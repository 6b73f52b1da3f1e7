"""The GitHub workflows cannot run here, so the suite validates them against GitHub's workflow
schema: check-jsonschema's built-in copy (`vendor.github-workflows`), which needs no network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
CHECK = [str(Path(sys.executable).with_name("check-jsonschema")), "--builtin-schema", "vendor.github-workflows"]


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CHECK, str(path)], capture_output=True, text=True, timeout=120)


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "ablation.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_matches_githubs_schema(workflow):
    result = _check(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((REPO / ".github" / "workflows" / "ci.yml").read_text().replace("runs-on:", "runs_on:"))
    result = _check(broken)
    assert result.returncode != 0 and "broken.yml" in result.stdout
