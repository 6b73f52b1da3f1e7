"""Studies through `hydra/launcher=slurm` on a real Slurm cluster: the same records as the basic
launcher, jobs Slurm ends (scancel, the time limit) recorded failed with Slurm's reason while the
others finish, and resumed from their last checkpoints; a request no node can run refused in one
line before anything is submitted; the cluster's missing accounting said once."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from sweep_helpers import explain, manifest, run_record, run_sweep, sweep_command, sweep_env, wait_for

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
    usable = len(os.sched_getaffinity(0))  # the CPUs the service script gave the node
    too_many = usable + 1
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
    assert f"({usable})" in line and "hydra.launcher.cpus_per_task" in line
    assert not (tmp_path / "sweep").exists()  # nothing submitted, nothing written


def test_jobs_slurm_ends_are_recorded_with_its_reason_and_resumed_from_their_checkpoints(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    # three runs: one parks at epoch 2 and is cancelled, one parks at epoch 3 until its 2-minute
    # time limit, one trains through; parked only while HOLD_ON_SLURM is set (not on resume).
    # submitit stops a job at Slurm's warning signal, signal_delay_s before the limit, which
    # Slurm may send up to 60 s early: with these settings 30 to 90 s after the job started, so
    # after the run's first checkpoints.
    study = [
        *(o for o in train_overrides if not o.startswith("training.epochs=")),
        "training.epochs=4",
        "+callbacks.fault._target_=faults.HoldAtEpoch",
        "+callbacks.fault.when_env=HOLD_ON_SLURM",
        "+callbacks.fault.epoch=2,3,99",
        *SCALED,
        "hydra.launcher.timeout_min=2",
        "hydra.launcher.signal_delay_s=30",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        sweep_command(*study),
        cwd=tmp_path,
        env=sweep_env(HOLD_ON_SLURM="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(list(sweep_dir.glob("runs/*epoch-2*/holding.marker"))) == 1, 120, "the run to park")
        parked = json.loads(next(sweep_dir.glob("runs/*epoch-2*/run.json")).read_text())
        cancelled = parked["node"]["slurm_job_id"]  # the run names its job: what scancel takes
        assert parked["node"]["slurm_node"] and set(parked["node"]) == {"slurm_job_id", "slurm_node"}
        subprocess.run(["scancel", cancelled], check=True)
        stdout, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert time.monotonic() - started < 240
    assert process.returncode == 1, stdout + stderr
    by_epoch = {
        next(o for o in r["overrides"] if o.startswith("+callbacks.fault.epoch=")).split("=")[1]: r
        for r in manifest(sweep_dir)["runs"]
    }
    assert by_epoch["99"]["status"] == "completed"
    assert by_epoch["2"]["status"] == by_epoch["3"]["status"] == "failed"
    assert by_epoch["2"]["error"]["type"] == "SlurmJobEnded"
    assert f"Slurm ended job {cancelled} before it returned: CANCELLED" in by_epoch["2"]["error"]["message"]
    assert "CANCELLED AT" in by_epoch["2"]["error"]["message"]  # slurmstepd's own line
    # submitit stops the job at Slurm's warning; where that stop is lost (raised from its signal
    # handler while another handler logs: seen under load), Slurm kills it at the limit instead
    assert "time limit (hydra.launcher.timeout_min)" in by_epoch["3"]["error"]["message"], by_epoch["3"]
    assert (sweep_dir / "leaderboard.md").is_file()
    # each unsuccessful run said in one line at the end
    assert sum(line.startswith("[ablation] failed: ") for line in stderr.splitlines()) == 2

    resumed = run_sweep(tmp_path, *study, "hydra.sweeper.resume=true")
    assert resumed.returncode == 0, explain(resumed)
    assert all(r["status"] == "completed" for r in manifest(sweep_dir)["runs"])
    for epoch in ("2", "3"):
        record = run_record(sweep_dir, by_epoch[epoch]["run_id"])
        assert record["resumed_from"].endswith("checkpoints/last.ckpt"), record
        assert record["epochs_trained"] == 4
