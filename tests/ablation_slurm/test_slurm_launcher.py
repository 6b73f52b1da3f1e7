"""Studies through `hydra/launcher=slurm` on a real Slurm cluster: the same records as the basic
launcher, a request no node can run refused in one line before anything is submitted, and the
cluster's missing accounting said once."""

from __future__ import annotations

import os
import time

import pytest
from sweep_helpers import explain, manifest, run_record, run_sweep

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("slurm_cluster")]

SCALED = ["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1"]


def identities(sweep_dir) -> dict[str, str]:
    return {run["run_id"]: run_record(sweep_dir, run["run_id"])["config_hash"] for run in manifest(sweep_dir)["runs"]}


def test_a_study_on_slurm_keeps_the_records_of_the_basic_launcher(tmp_path, train_overrides):
    args = [*train_overrides, "model=mlp,cnn1d"]
    on_slurm = run_sweep(tmp_path, *args, *SCALED, f"hydra.sweep.dir={tmp_path / 'slurm'}")
    assert on_slurm.returncode == 0, explain(on_slurm)
    basic = run_sweep(tmp_path, *args, f"hydra.sweep.dir={tmp_path / 'basic'}")
    assert basic.returncode == 0, explain(basic)
    assert identities(tmp_path / "slurm") == identities(tmp_path / "basic")
    assert all(r["status"] == "completed" for r in manifest(tmp_path / "slurm")["runs"])
    assert (tmp_path / "slurm" / "leaderboard.md").is_file()
    # no accounting on this cluster: said once, not at every poll
    output = on_slurm.stdout + on_slurm.stderr
    said = [line for line in output.splitlines() if "[HYDRA]" in line and "sacct" in line]
    assert len(said) == 1 and "sacct is unavailable" in said[0], said
    assert "Bypassing sacct error" not in output


def test_a_request_no_node_can_run_ends_the_study_in_one_line(tmp_path, train_overrides):
    too_many = (os.cpu_count() or 1) + 1
    started = time.monotonic()
    result = run_sweep(
        tmp_path,
        *train_overrides,
        "model=mlp,cnn1d",
        "hydra/launcher=slurm",
        f"hydra.launcher.cpus_per_task={too_many}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert time.monotonic() - started < 120
    assert result.returncode != 0
    line = result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert f"asks for {too_many} CPUs per node, more than any node of partition" in line
    assert f"({os.cpu_count()})" in line and "hydra.launcher.cpus_per_task" in line
    assert not (tmp_path / "sweep").exists()  # nothing submitted, nothing written
