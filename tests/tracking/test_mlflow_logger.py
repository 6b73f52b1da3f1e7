"""MlflowRunLogger against a real MLflow store (SQLite), read back with MlflowClient: what it
buffers arrives whole, the run is marked ended once and with the run's outcome."""

from __future__ import annotations

import pytest

from spectramind.tracking.loggers import ended_loggers
from spectramind.tracking.mlflow_logger import MAX_ENTRIES, MAX_PARAMS, MlflowRunLogger


@pytest.fixture
def store(tmp_path):
    """A SQLite store; MLflow's global tracking URI (and MLFLOW_TRACKING_URI, which MLflow sets
    for subprocesses) reset afterwards: a logger sets them, and later tests' trainings read it."""
    import mlflow

    yield f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(None)


def _logger(store: str, **kwargs) -> MlflowRunLogger:
    from spectramind.tracking.loggers import quiet_mlflow

    quiet_mlflow()
    return MlflowRunLogger(experiment_name="unit", tracking_uri=store, **kwargs)


def _client(store: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(store)


def test_metrics_wait_for_their_interval_or_the_end_then_arrive_with_their_steps_and_the_params(store):
    logger = _logger(store, flush_every_s=3600)
    logger.log_hyperparams({"optimizer.lr": 0.01, "model": {"depth": 3}})
    logger.log_hyperparams({"optimizer.lr": 0.01})  # again: one entry in the batch (MLflow refuses two)
    client = _client(store)
    assert client.get_run(logger.run_id).info.status == "RUNNING"  # the run is there from the start
    for step in range(3):
        logger.log_metrics({"val/loss": 1.0 / (step + 1), "note": "text is not a metric"}, step=step)
    logger.finalize("success")  # fit ended; test and predict follow
    run = client.get_run(logger.run_id)
    assert run.info.status == "RUNNING" and run.data.params == {} and run.data.metrics == {}  # buffered
    logger.log_metrics({"test/adc2025": 0.4}, step=3)
    logger.end()
    logger.end()  # once
    run = client.get_run(logger.run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["test/adc2025"] == 0.4
    assert run.data.params == {"optimizer.lr": "0.01", "model/depth": "3"}  # Lightning's flattening
    history = client.get_metric_history(logger.run_id, "val/loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]
    assert "note" not in run.data.metrics


def test_a_stage_end_sends_what_is_due(store):
    logger = _logger(store, flush_every_s=3600)
    logger.log_metrics({"train/loss": 2.0}, step=0)
    logger.flush_every_s = 0  # the interval has passed
    logger.finalize("success")
    assert [m.value for m in _client(store).get_metric_history(logger.run_id, "train/loss")] == [2.0]


def test_with_no_interval_each_logging_call_arrives_at_once(store):
    logger = _logger(store, flush_every_s=0)
    logger.log_metrics({"train/loss": 2.0}, step=0)
    assert [m.value for m in _client(store).get_metric_history(logger.run_id, "train/loss")] == [2.0]


def test_more_than_one_request_holds_arrives_whole(store):
    logger = _logger(store, flush_every_s=3600)
    n_params, n_steps = MAX_PARAMS + 50, MAX_ENTRIES + 200
    logger.log_hyperparams({f"p{i}": i for i in range(n_params)})
    for step in range(n_steps):
        logger.log_metrics({"loss": float(step)}, step=step)
    logger.end()
    client = _client(store)
    assert len(client.get_run(logger.run_id).data.params) == n_params
    history = client.get_metric_history(logger.run_id, "loss")
    assert sorted(m.step for m in history) == list(range(n_steps))


def test_a_failed_stage_marks_the_run_failed_at_once(store):
    logger = _logger(store)
    logger.log_metrics({"train/loss": 1.0}, step=0)
    logger.finalize("failed")
    run = _client(store).get_run(logger.run_id)
    assert run.info.status == "FAILED" and run.data.metrics["train/loss"] == 1.0
    logger.end()  # the run's end comes after: the failure stands
    assert _client(store).get_run(logger.run_id).info.status == "FAILED"


@pytest.mark.parametrize(
    ("raised", "status"), [(None, "FINISHED"), (ValueError, "FAILED"), (KeyboardInterrupt, "KILLED")]
)
def test_the_run_ends_in_the_tracker_with_its_outcome(store, raised, status):
    logger = _logger(store)
    logger.log_metrics({"train/loss": 1.0}, step=0)
    logger.finalize("success")
    try:
        with ended_loggers([logger]):
            if raised:
                raise raised
    except (ValueError, KeyboardInterrupt):
        pass
    assert _client(store).get_run(logger.run_id).info.status == status


def test_a_known_experiment_is_not_looked_up(store):
    client = _client(store)
    experiment_id = client.create_experiment("known")
    logger = MlflowRunLogger(experiment_name="not this name", tracking_uri=store, experiment_id=experiment_id)
    assert client.get_run(logger.run_id).info.experiment_id == experiment_id
    assert client.get_experiment_by_name("not this name") is None


def test_a_prefix_names_the_metrics_as_lightnings_logger_does(store):
    logger = _logger(store, prefix="fold1", flush_every_s=0)
    logger.log_metrics({"val/loss": 1.0}, step=0)
    assert _client(store).get_run(logger.run_id).data.metrics == {"fold1-val/loss": 1.0}


def test_what_it_reads_of_lightnings_logger_is_there(store):
    """The attributes MlflowRunLogger shares with Lightning's MLFlowLogger (checkpoints logged
    with log_model, the synchronous option): an upgrade that renames one fails here."""
    logger = _logger(store, log_model=True, synchronous=True)
    assert logger._checkpoint_callback is None and logger._log_batch_kwargs == {"synchronous": True}
    assert callable(logger._scan_and_log_checkpoints)


def test_a_tracker_that_cannot_end_its_run_is_a_warning_not_the_runs_failure(store, caplog):
    class ServerGone(MlflowRunLogger):
        def end(self, status: str = "FINISHED") -> None:
            raise ConnectionError("Max retries exceeded with url: /api/2.0/mlflow/runs/update")

    with ended_loggers([ServerGone(experiment_name="unit", tracking_uri=store)]):
        pass  # the run completed
    assert "could not mark the ServerGone run FINISHED: Max retries exceeded" in caplog.text
    with pytest.raises(ValueError, match="the run's own error"), ended_loggers([ServerGone(tracking_uri=store)]):
        raise ValueError("the run's own error")
