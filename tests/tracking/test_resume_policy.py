"""Which earlier attempt of a run a new launch continues from its last checkpoint
(spectramind/tracking/artifacts.py: resumable_checkpoint): one stopped from outside (killed, Ctrl-C,
a Slurm time limit), not one that failed on its own."""

from __future__ import annotations

import pytest
import torch

from spectramind.sweep_layout import LAST_CHECKPOINT
from spectramind.tracking.artifacts import resumable_checkpoint

CURRENT = {"config_hash": "h", "run_id": "r"}


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / LAST_CHECKPOINT).parent.mkdir(parents=True)
    torch.save({"epoch": 1}, tmp_path / LAST_CHECKPOINT)
    return tmp_path


def attempt(status: str, error_type: str | None = None) -> dict:
    return {"status": status, "config_hash": "h", "error": {"type": error_type} if error_type else None}


@pytest.mark.parametrize("error_type", ["KeyboardInterrupt", "SystemExit", "UncompletedJobError"])
def test_a_run_stopped_from_outside_continues_from_its_last_checkpoint(run_dir, error_type):
    path, note = resumable_checkpoint(run_dir, attempt("failed", error_type), CURRENT)
    assert path == str(run_dir / LAST_CHECKPOINT) and note.startswith("resuming interrupted run r")


def test_a_killed_run_continues_and_a_run_that_failed_on_its_own_starts_again(run_dir):
    assert resumable_checkpoint(run_dir, attempt("running"), CURRENT)[0] == str(run_dir / LAST_CHECKPOINT)
    assert resumable_checkpoint(run_dir, attempt("failed", "RuntimeError"), CURRENT) == (None, None)
    assert resumable_checkpoint(run_dir, attempt("diverged", "TrainingDiverged"), CURRENT) == (None, None)
    assert resumable_checkpoint(run_dir, attempt("completed"), CURRENT) == (None, None)
    assert resumable_checkpoint(run_dir, attempt("completed"), CURRENT, continuing=True)[0] is not None
    changed = resumable_checkpoint(run_dir, attempt("failed", "SystemExit"), {**CURRENT, "config_hash": "g"})
    assert changed[0] is None and changed[1].startswith("config changed")
