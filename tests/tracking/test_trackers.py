"""Experiment trackers (`logger=...`), read back with each tool's own reader: MLflow's client
against a real `mlflow server` (SQLite backend) and against local stores, TensorBoard's event
accumulator, and the W&B offline run file. Trainings are the tiny data set's, two epochs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml
from training_support import run_module, tiny_overrides
from wandb_offline import offline_run

from bench.mlflow_server import check_sweep_on_server
from bench.mlflow_server import mlflow_server as running_mlflow_server

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on a free localhost port with a SQLite backend; stopped after the module."""
    with running_mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


def _train(tmp_path: Path, data_dir: Path, *extra: str, env: dict[str, str] | None = None):
    run_dir = tmp_path / "run"
    result = run_module(
        ["spectramind.train", *tiny_overrides(data_dir), f"hydra.run.dir={run_dir}", *extra],
        cwd=tmp_path,
        **(env or {}),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result, run_dir


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def _runs(uri: str) -> list:
    client = _client(uri)
    experiment = client.get_experiment_by_name("spectramind")
    return client.search_runs([experiment.experiment_id])


@pytest.fixture(scope="module")
def server_run(tmp_path_factory, tiny_data_dir, mlflow_server):
    """One training with `logger=[csv,mlflow]` logging to the server; the run's requests to it,
    by endpoint, besides the health check."""
    before = len(mlflow_server.request_lines())
    result, run_dir = _train(
        tmp_path_factory.mktemp("server-run"),
        tiny_data_dir,
        "seed=3",
        "logger=[csv,mlflow]",
        f"logger.mlflow.tracking_uri={mlflow_server.uri}",
    )
    requests = [line.split('"')[1].split()[1].split("?")[0] for line in mlflow_server.request_lines()[before:]]
    return result, run_dir, mlflow_server.uri, [r for r in requests if r != "/health"]


def test_a_run_sends_the_server_four_requests(server_run):
    """Lightning's own MLFlowLogger sent 15 for this run: a request per logging call, and the
    run looked up and marked finished after fit, test and predict (MlflowRunLogger). In a sweep
    the experiment is known (the parent run's) and not looked up: three."""
    *_, requests = server_run
    requests = [r for r in requests if r != "/api/2.0/mlflow/experiments/create"]  # new server: a new experiment
    assert sorted(requests) == sorted(
        f"/api/2.0/mlflow/{endpoint}"
        for endpoint in ("experiments/get-by-name", "runs/create", "runs/log-batch", "runs/update")
    ), requests


def test_mlflow_server_reads_back_params_metrics_and_tags(server_run):
    result, run_dir, uri, _ = server_run
    record = json.loads((run_dir / "run.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    [run] = _runs(uri)
    assert run.info.status == "FINISHED" and run.info.run_name == record["run_id"]
    # Tags: the names the leaderboard uses; a single run belongs to no sweep.
    assert run.data.tags["run_id"] == record["run_id"] and run.data.tags["config_id"] == record["config_id"]
    assert run.data.tags["seed"] == "3" and run.data.tags["sweep"] == ""
    # Params: the resolved config, flat.
    params = run.data.params
    assert params["seed"] == "3" and params["trainer.max_epochs"] == "2"
    config = yaml.safe_load((run_dir / "config_resolved.yaml").read_text())
    assert float(params["optimizer.lr"]) == config["optimizer"]["lr"]
    assert params["model._target_"] == config["model"]["_target_"]
    assert params["run.config_id"] == record["config_id"]
    # Metrics: one validation loss per epoch, and the test metrics of metrics.json.
    history = _client(uri).get_metric_history(run.info.run_id, "val/loss")
    assert len(history) == 2 and all(m.value == m.value for m in history)
    assert run.data.metrics["test/adc2025"] == pytest.approx(metrics["adc2025"], rel=1e-6)


def test_several_loggers_at_once_and_the_headline_line(server_run):
    result, run_dir, *_ = server_run
    [hparams] = run_dir.glob("lightning/version_*/hparams.yaml")
    flat = yaml.safe_load(hparams.read_text())
    config = yaml.safe_load((run_dir / "config_resolved.yaml").read_text())
    assert flat["optimizer.lr"] == config["optimizer"]["lr"] and flat["run.seed"] == "3"  # flat keys, not groups
    [csv] = run_dir.glob("lightning/version_*/metrics.csv")
    assert "val/loss" in csv.read_text().splitlines()[0]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("test: adc2025=") and f"gll={metrics['gll']:.4g}" in last and "rmse_ppm=" in last
    assert "View run" not in result.stdout  # MLflow's link, after every stage, is off (quiet_mlflow)


@pytest.fixture(scope="module")
def three_trackers(tmp_path_factory, tiny_data_dir):
    """TensorBoard, MLflow's file store and W&B offline in one training."""
    tmp = tmp_path_factory.mktemp("three")
    store = tmp / "mlruns"
    result, run_dir = _train(
        tmp,
        tiny_data_dir,
        "logger=[tensorboard,mlflow,wandb]",
        f"logger.mlflow.tracking_uri={store.as_uri()}",
        env={"WANDB_MODE": "offline", "MLFLOW_ALLOW_FILE_STORE": "true"},
    )
    return run_dir, store


def test_mlflow_file_store(three_trackers):
    run_dir, store = three_trackers
    record = json.loads((run_dir / "run.json").read_text())
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3's client reads the file store only so
    try:
        [run] = _runs(store.as_uri())
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    assert run.data.tags["run_id"] == record["run_id"] and run.data.params["trainer.max_epochs"] == "2"
    assert "test/gll" in run.data.metrics


def test_tensorboard_event_files(three_trackers):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    run_dir, _ = three_trackers
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert {"val/loss", "test/adc2025"} <= set(scalars)
    assert [e.step for e in events.Scalars("val/loss")] == [0, 1]
    content = events.PluginTagToContent("hparams")
    session = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = session.session_start_info.hparams
    assert hparams["trainer.max_epochs"].number_value == 2
    assert hparams["run.config_id"].string_value == json.loads((run_dir / "run.json").read_text())["config_id"]


def test_wandb_offline_run_file(three_trackers):
    run_dir, _ = three_trackers
    record = json.loads((run_dir / "run.json").read_text())
    run = offline_run(run_dir)
    assert run["name"] == record["run_id"] and run["job_type"] == record["config_id"]
    assert run["group"] == "" and run["tags"] == ["seed=0"]
    config = yaml.safe_load((run_dir / "config_resolved.yaml").read_text())
    assert (
        run["config"]["optimizer.lr"] == config["optimizer"]["lr"] and run["config"]["run.run_id"] == record["run_id"]
    )
    epochs = [row["epoch"] for row in run["history"] if "val/loss" in row]
    assert epochs == [0, 1]


def test_mlflow_sweep_is_one_parent_with_a_child_per_run(tmp_path, tiny_data_dir):
    sweep_dir = tmp_path / "sweep"
    result = run_module(
        [
            "spectramind.train",
            "--multirun",
            *tiny_overrides(tiny_data_dir),
            "logger=mlflow",
            "model=mlp,cnn1d",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    uri = f"sqlite:///{sweep_dir / 'mlflow.db'}"  # the default store: in the sweep directory
    runs = _runs(uri)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert {c.data.tags["sweep"] for c in children} == {str(sweep_dir)}
    run_ids = {p.name for p in (sweep_dir / "runs").iterdir()}
    assert {c.data.tags["run_id"] for c in children} == run_ids
    assert parent.info.status == "FINISHED"
    artifacts = {a.path for a in _client(uri).list_artifacts(parent.info.run_id)}
    assert {"leaderboard.md", "leaderboard.html", "leaderboard.csv", "leaderboard_table.json"} <= artifacts
    import mlflow

    mlflow.set_tracking_uri(uri)  # load_table searches the runs of the global tracking URI
    try:
        table = _client(uri).load_table(
            parent.info.experiment_id, artifact_file="leaderboard_table.json", run_ids=[parent.info.run_id]
        )
    finally:
        mlflow.set_tracking_uri(None)
    assert len(table) == 2  # one row per configuration


def test_a_joblib_study_logs_every_run_to_the_server(tmp_path, tiny_data_dir, mlflow_server):
    """12 runs, two at a time in joblib workers, logging to one server at once: every run is there
    with its params and final metrics, under the sweep's parent run, which gets the leaderboard
    through the server's artefact proxy. The load benchmark (bench/tracking_load.py) checks a
    100-run study the same way."""
    sweep_dir = tmp_path / "sweep"
    result = run_module(
        [
            "spectramind.train",
            "--multirun",
            *tiny_overrides(tiny_data_dir),
            "model=mlp,cnn1d",
            "optimizer.lr=0.001,0.003,0.01",
            "hydra.sweeper.seeds=[0,1]",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "logger=mlflow",
            f"logger.mlflow.tracking_uri={mlflow_server.uri}",
            f"hydra.sweep.dir={sweep_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert check_sweep_on_server(mlflow_server.uri, sweep_dir, n_runs=12, epochs=2)["children"] == 12
    # The runs did log concurrently: from two worker processes, runs of one overlapping the other's.
    records = [json.loads(path.read_text()) for path in (sweep_dir / "runs").glob("*/run.json")]
    assert len({record["pid"] for record in records}) == 2
    spans = sorted((record["started"], record["ended"]) for record in records)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))
    parent = json.loads((sweep_dir / "mlflow_parent.json").read_text())
    artifacts = {a.path for a in _client(mlflow_server.uri).list_artifacts(parent["run_id"])}
    assert {"leaderboard.csv", "leaderboard_table.json"} <= artifacts


def test_unreachable_tracker_fails_the_start_in_one_line(tmp_path, tiny_data_dir):
    run_dir = tmp_path / "run"
    started = time.monotonic()
    result = run_module(
        [
            "spectramind.train",
            *tiny_overrides(tiny_data_dir),
            f"hydra.run.dir={run_dir}",
            "logger=mlflow",
            "logger.mlflow.tracking_uri=http://127.0.0.1:1",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[-1]], (
        result.stderr
    )  # one line, no traceback
    assert "logger.mlflow.tracking_uri=http://127.0.0.1:1" in result.stderr and "unreachable" in result.stderr
    assert not (run_dir / "run.json").exists()  # before the run started
    assert time.monotonic() - started < 60  # not MLflow's minutes of retries


def test_mlflow_file_store_without_its_switch_is_one_line(tmp_path, tiny_data_dir):
    result = run_module(
        [
            "spectramind.train",
            *tiny_overrides(tiny_data_dir),
            f"hydra.run.dir={tmp_path / 'r'}",
            "logger=mlflow",
            f"logger.mlflow.tracking_uri={(tmp_path / 'mlruns').as_uri()}",
        ],
        cwd=tmp_path,
        MLFLOW_ALLOW_FILE_STORE="",
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "MLFLOW_ALLOW_FILE_STORE=true" in result.stderr


def test_wandb_online_without_a_login_is_one_line(tmp_path, tiny_data_dir):
    result = run_module(
        ["spectramind.train", *tiny_overrides(tiny_data_dir), f"hydra.run.dir={tmp_path / 'r'}", "logger=wandb"],
        cwd=tmp_path,
        WANDB_MODE="online",
        WANDB_API_KEY="",
        HOME=str(tmp_path),
        WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"),
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "logger.wandb" in result.stderr and "WANDB_MODE=offline" in result.stderr
