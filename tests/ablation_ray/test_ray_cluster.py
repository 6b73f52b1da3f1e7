"""A study on a Ray cluster of two nodes (``ray.cluster_utils.Cluster``: a head and a worker node,
one CPU each, as processes of this machine) through ``hydra/launcher=ray_cluster`` joined by its
address: the runs spread over both nodes and each ``run.json`` names its node; the worker node,
removed while its run trains, loses that run only, recorded failed with Ray's "node died" error,
while the head's run completes; a resume continues the lost run from its last checkpoint on the
surviving node and never launches the completed one again."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from sweep_helpers import (
    HERE,
    SINGLE_THREAD,
    explain,
    manifest,
    run_events,
    run_record,
    run_sweep,
    sweep_command,
    sweep_env,
    sweep_events,
    wait_for,
)

pytestmark = pytest.mark.slow  # a Ray cluster and two sweeps end to end

HOLD_ENV = "SPECTRAMIND_TEST_HOLD"  # set on the worker node only: its run parks at epoch 1
NODE_ARGS = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}


@pytest.fixture
def two_nodes():
    """(cluster, worker node); ``faults`` importable by both nodes' Ray workers."""
    from ray.cluster_utils import Cluster

    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)}
    cluster = Cluster(initialize_head=True, head_node_args={**NODE_ARGS, "include_dashboard": False, "env_vars": env})
    try:
        worker = cluster.add_node(**NODE_ARGS, env_vars={**env, HOLD_ENV: "1"})
        cluster.wait_for_nodes()
        yield cluster, worker
    finally:
        cluster.shutdown()


def _parked_run(sweep_dir: Path) -> str | None:
    """The run holding at epoch 1 (its epoch 0 checkpoint on disk), once there is one."""
    for marker in sweep_dir.glob("runs/*/holding.marker"):
        return marker.parent.name
    return None


def test_runs_spread_over_two_nodes_and_a_lost_nodes_run_fails_then_resumes(tmp_path, train_overrides, two_nodes):
    cluster, worker = two_nodes
    head_id, worker_id = cluster.head_node.node_id, worker.node_id
    sweep_dir = tmp_path / "sweep"
    args = [
        *(o for o in train_overrides if o not in (SINGLE_THREAD, "training.epochs=2")),
        "training.epochs=3",
        "model=mlp,cnn1d",
        "+callbacks.fault._target_=faults.HoldAtEpoch",
        "+callbacks.fault.epoch=1",
        f"+callbacks.fault.when_env={HOLD_ENV}",
        "hydra/launcher=ray_cluster",
        f"hydra.launcher.ray.init.address={cluster.address}",
        "hydra.launcher.ray.remote.num_cpus=1",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    sweep = subprocess.Popen(
        sweep_command(*args), cwd=tmp_path, env=sweep_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: _parked_run(sweep_dir) or sweep.poll() is not None, 120, "the worker node's run to park")
        assert sweep.poll() is None, explain(subprocess.CompletedProcess(args, sweep.wait(), *sweep.communicate()))
        lost = _parked_run(sweep_dir)
        parked = run_record(sweep_dir, lost)
        assert parked["node"] == {"ray_node_id": worker_id}, parked["node"]
        cluster.remove_node(worker, allow_graceful=False)
        try:  # a lost machine takes its processes with it
            os.kill(parked["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        stdout, stderr = sweep.communicate(timeout=180)
    finally:
        sweep.kill()
    assert sweep.returncode == 1, f"exit {sweep.returncode}\n{stdout[-3000:]}\n{stderr[-5000:]}"
    runs = {run["run_id"]: run for run in manifest(sweep_dir)["runs"]}
    (kept,) = set(runs) - {lost}
    assert runs[kept]["status"] == "completed" and runs[lost]["status"] == "failed"
    assert runs[lost]["error"]["type"] == "NodeDiedError" and worker_id in runs[lost]["error"]["message"]
    assert run_record(sweep_dir, kept)["node"] == {"ray_node_id": head_id}  # one run on each node
    ends = {e["run_id"]: e["status"] for e in sweep_events(sweep_dir).of("run_end")}
    assert ends == {kept: "completed", lost: "failed"}
    assert not sweep_events(sweep_dir).of("batch_lost")  # the surviving node's run was not relaunched

    resumed = run_sweep(tmp_path, *args, "hydra.sweeper.resume=true")
    assert resumed.returncode == 0, explain(resumed)
    runs = {run["run_id"]: run for run in manifest(sweep_dir)["runs"]}
    assert {run_id: run["status"] for run_id, run in runs.items()} == {kept: "completed", lost: "completed"}
    assert (runs[kept]["attempts"], runs[lost]["attempts"]) == (1, 2)
    assert len(run_events(sweep_dir, kept).of("run_start")) == 1  # never launched twice
    record = run_record(sweep_dir, lost)
    assert record["resumed_from"].endswith("last.ckpt") and record["node"] == {"ray_node_id": head_id}
    starts = run_events(sweep_dir, lost).of("run_start")
    assert [e["node"]["ray_node_id"] for e in starts] == [worker_id, head_id]
    assert record["epochs_trained"] == 3
