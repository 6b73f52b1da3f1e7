"""``spectramind data calibrate --backend ray`` on a Ray cluster of two nodes
(``ray.cluster_utils.Cluster``: a head and a worker node, one CPU each, as processes of this
machine): the planets are calibrated on both nodes, each planet's record naming its node; when the
worker node is lost with a planet half calibrated, that planet is taken over by the command itself
under its claim, the others are kept, and the folder is the one a single process writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from raw_support import calibration_outputs

pytestmark = pytest.mark.slow  # a Ray cluster, calibrating raw data end to end

SPECTRAMIND = Path(sys.executable).parent / "spectramind"
BINS = ["--airs-bin", "4", "--fgs-bin", "48"]  # raw_support.BINS, which calibrated_2025 used
NODE_ARGS = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}
NODE_ENV = "SPECTRAMIND_TEST_NODE"  # names the node in its processes' environment


@pytest.fixture
def two_nodes():
    """(cluster, worker node)."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={**NODE_ARGS, "include_dashboard": False, "env_vars": {NODE_ENV: "head"}}
    )
    try:
        worker = cluster.add_node(**NODE_ARGS, env_vars={NODE_ENV: "worker"})
        cluster.wait_for_nodes()
        yield cluster, worker
    finally:
        cluster.shutdown()


def _calibrate(raw: Path, out: Path, address: str) -> subprocess.Popen:
    command = [str(SPECTRAMIND), "data", "calibrate", str(raw), str(out), *BINS, "--backend", "ray", "--workers", "2"]
    env = {**os.environ, "RAY_ADDRESS": address}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _planet_nodes(out: Path) -> dict[int, str | None]:
    """Each calibrated planet's Ray node, from its record (None: not calibrated by a Ray task)."""
    records = [json.loads(p.read_text()) for p in (out / ".calibration").glob("*.json") if p.stem.isdigit()]
    return {r["planet_id"]: (r.get("node") or {}).get("ray_node_id") for r in records if r["status"] == "completed"}


def _claim_holders(out: Path) -> dict[int, int]:
    """planet -> the process holding its claim (a POSIX lock), from /proc/locks."""
    claims = out / ".calibration" / "claims"
    inodes = {path.stat().st_ino: int(path.stem) for path in claims.glob("*.lock")} if claims.is_dir() else {}
    held = {}
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "POSIX" and int(fields[5].split(":")[-1]) in inodes:
            held[inodes[int(fields[5].split(":")[-1])]] = int(fields[4])
    return held


def _on_worker_node(pid: int) -> bool:
    try:
        return f"{NODE_ENV}=worker".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _freeze_a_worker_planet(out: Path, process: subprocess.Popen, timeout: float = 120) -> tuple[int, int]:
    """(planet, pid) of a planet being calibrated on the worker node, its process stopped at once
    (SIGSTOP), so that the node is lost with that planet half done whatever the timing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for planet, pid in _claim_holders(out).items():
            if _on_worker_node(pid):
                os.kill(pid, signal.SIGSTOP)
                return planet, pid
        time.sleep(0.005)
    raise AssertionError(f"no planet seen on the worker node (exit {process.poll()})")


def test_planets_spread_over_two_nodes_and_a_lost_nodes_planet_is_redone(
    raw_2025, calibrated_2025, tmp_path, two_nodes
):
    cluster, worker = two_nodes
    head_id, worker_id = cluster.head_node.node_id, worker.node_id
    single_process = calibration_outputs(calibrated_2025)

    spread = tmp_path / "spread"
    process = _calibrate(raw_2025, spread, cluster.address)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err[-3000:]
    assert set(_planet_nodes(spread).values()) == {head_id, worker_id}
    assert calibration_outputs(spread) == single_process

    lost_node = tmp_path / "lost-node"
    process = _calibrate(raw_2025, lost_node, cluster.address)
    try:
        planet, pid = _freeze_a_worker_planet(lost_node, process)
        cluster.remove_node(worker, allow_graceful=False)
        os.kill(pid, signal.SIGKILL)  # a lost machine takes its processes with it
        _, err = process.communicate(timeout=180)
    finally:
        process.kill()
    assert process.returncode == 0, err[-3000:]
    assert f"planet {planet}: lost on the Ray cluster" in err and worker_id in err
    nodes = _planet_nodes(lost_node)
    assert nodes[planet] is None  # calibrated again, by the command itself
    assert set(nodes.values()) - {None} <= {head_id, worker_id}
    assert calibration_outputs(lost_node) == single_process
