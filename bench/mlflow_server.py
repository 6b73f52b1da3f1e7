"""A real ``mlflow server`` (SQLite backend, free localhost port) for the tracker's tests and its
load benchmark, started and stopped one way in both places, and the one check both make of a
sweep that logged to it: every run there, complete, under the sweep's parent run.

The server runs in a session of its own, so stopping it ends the server and the workers it started and
nothing else, and its CPU time can be read from that process tree while it serves a study.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.workspace import check_completed

MLFLOW = str(Path(sys.executable).with_name("mlflow"))
START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class MlflowServer:
    uri: str
    pid: int
    home: Path

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the server and its live workers: the
        difference around a study is what serving it cost the machine."""
        import psutil

        root = psutil.Process(self.pid)
        total = 0.0
        for process in (root, *root.children(recursive=True)):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def request_lines(self) -> list[str]:
        """The HTTP requests answered so far: the lines of the server's access log (uvicorn's),
        e.g. ``INFO: 127.0.0.1:40512 - "POST /api/2.0/mlflow/runs/create HTTP/1.1" 200 OK``."""
        log = self.home / "server.log"
        return [line for line in log.read_text(errors="replace").splitlines() if 'HTTP/1.1" ' in line]

    def requests_served(self) -> int:
        return len(self.request_lines())


def _wait_until_healthy(server: subprocess.Popen, uri: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2):
                return
        except OSError as err:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start: {log.read_text()[-2000:]}") from err
            time.sleep(0.5)


@contextmanager
def mlflow_server(home: Path) -> Iterator[MlflowServer]:
    """``mlflow server`` with its database, artefacts and log in ``home``, answering on /health;
    stopped (the whole process group) when the block ends."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = home / "server.log"
    command = [
        MLFLOW,
        "server",
        "--backend-store-uri",
        f"sqlite:///{home / 'mlflow.db'}",
        "--artifacts-destination",
        str(home / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        uri = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(server, uri, log_path)
            yield MlflowServer(uri=uri, pid=server.pid, home=home)
        finally:
            os.killpg(server.pid, signal.SIGTERM)  # the server and the workers it started, nothing else
            server.wait(timeout=30)


def check_sweep_on_server(uri: str, sweep_dir: Path, n_runs: int, epochs: int) -> dict:
    """Each of the sweep's ``n_runs`` runs is on the server, nested under the sweep's parent run,
    with its params (the resolved config, flat, plus ``run.*``) and final metrics (``metrics.json``'s
    test values, one ``val/loss`` per epoch). Raises RuntimeError naming the first run that is not."""
    import yaml
    from mlflow.tracking import MlflowClient

    from spectramind.tracking.loggers import flat_params

    client = MlflowClient(uri)
    records = check_completed(sweep_dir / "runs", n_runs)
    parent = json.loads((sweep_dir / "mlflow_parent.json").read_text())
    if client.get_run(parent["run_id"]).info.status != "FINISHED":
        raise RuntimeError(f"{sweep_dir}: parent run {parent['run_id']} not finished")
    children = client.search_runs(
        [parent["experiment_id"]], f"tags.`mlflow.parentRunId` = '{parent['run_id']}'", max_results=1000
    )
    by_run_id = {child.data.tags.get("run_id"): child for child in children}
    if len(children) != n_runs or set(by_run_id) != set(records):
        raise RuntimeError(f"{sweep_dir}: {len(children)} children on the server for {len(records)} runs")
    for run_id, child in by_run_id.items():
        run_dir = sweep_dir / "runs" / run_id
        config = yaml.safe_load((run_dir / "config_resolved.yaml").read_text())
        expected_keys = set(flat_params(config)) | {f"run.{key}" for key in ("sweep", "config_id", "seed", "run_id")}
        metrics = json.loads((run_dir / "metrics.json").read_text())
        history = client.get_metric_history(child.info.run_id, "val/loss")
        problems = [
            what
            for what, ok in (
                ("status", child.info.status == "FINISHED"),
                ("params", set(child.data.params) == expected_keys),
                ("run.run_id", child.data.params.get("run.run_id") == run_id),
                ("test/adc2025", abs(child.data.metrics.get("test/adc2025", float("nan")) - metrics["adc2025"]) < 1e-6),
                ("val/loss per epoch", len(history) == epochs),
            )
            if not ok
        ]
        if problems:
            raise RuntimeError(f"{sweep_dir}: run {run_id} on the server: wrong {', '.join(problems)}")
    return {"children": len(children), "parent_status": "FINISHED"}
