"""A sweep in MLflow: one parent run, each of the sweep's runs nested under it, and the
leaderboard logged to the parent when the sweep ends.

The parent run is created once per sweep directory (:mod:`spectramind.tracking.mlflow_parent`):
every run of the sweep, in whichever process or host the launcher put it, tags itself with it
(MLflow's nesting), and a resumed sweep finds the same parent. :class:`MlflowSweepCallback`
(``hydra.callbacks.mlflow_sweep`` in conf/config.yaml) creates it when the multirun starts, in the
main process, so that parallel workers never race to create the store and the parent; a run that
finds no parent (a sweep started without the callback) creates it under the sweep's lock.

The callback is always configured and does nothing unless the sweep's config selects an MLflow
logger, so that ``logger=mlflow`` alone is enough and no config has to add or remove it. Hydra
imports this module in the main process at the start of every run: it imports no MLflow until a
sweep actually uses it. Like the leaderboard, the parent run is a report: an error here is logged
as one line and never fails the sweep.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from spectramind.tracking.mlflow_parent import PARENT_FILE, sweep_parent_run

log = logging.getLogger(__name__)

# What the parent run receives at the end of the sweep (those of the files that exist).
LEADERBOARD_FILES = (
    "leaderboard.md",
    "leaderboard.html",
    "leaderboard.csv",
    "leaderboard_runs.csv",
    "leaderboard.json",
)
TABLE_ARTIFACT = "leaderboard_table.json"  # leaderboard.csv as an MLflow table (the UI's evaluation view)


class MlflowSweepCallback(Callback):
    """Creates the sweep's MLflow parent run at the start of a multirun and logs the leaderboard
    files and the per-configuration table to it at the end; a no-op without an MLflow logger."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def _sweep(self, config: DictConfig) -> tuple[DictConfig, Path] | None:
        if not self.enabled or OmegaConf.select(config, "hydra.sweeper.dry_run", default=False):
            return None
        from spectramind.tracking.loggers import mlflow_node

        node = mlflow_node(config)
        return (node, Path(config.hydra.sweep.dir)) if node is not None else None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            found = self._sweep(config)
            if found is None:
                return
            node, sweep_dir = found
            from spectramind.tracking.loggers import mlflow_location, quiet_mlflow, unreachable

            tracking_uri, artifact_location = mlflow_location(node, sweep_dir)
            if tracking_uri.startswith(("http://", "https://")) and unreachable(tracking_uri):
                return  # the sweeper's pre-flight reports it, in one line, and launches nothing
            quiet_mlflow()
            sweep_dir.mkdir(parents=True, exist_ok=True)
            study = OmegaConf.select(config, "hydra.sweeper.study", default=None)
            sweep_parent_run(
                sweep_dir,
                tracking_uri,
                str(node.experiment_name),
                artifact_location,
                tags={"study": str(study)} if study else None,
            )
        except Exception as error:  # noqa: BLE001 - a report must not fail the sweep (module docstring)
            _log_error("parent run not created", config, error)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            found = self._sweep(config)
            if found is None:
                return
            _, sweep_dir = found
            from spectramind.tracking.record import read_json

            parent = read_json(sweep_dir / PARENT_FILE)
            if not parent:
                return
            log_sweep_results(parent, sweep_dir)
        except Exception as error:  # noqa: BLE001
            _log_error("leaderboard not logged to the parent run", config, error)


def log_sweep_results(parent: dict[str, str], sweep_dir: Path) -> None:
    """The leaderboard files as artefacts of the parent run, leaderboard.csv (one row per
    configuration) also as an MLflow table, and the parent run marked finished."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(parent["tracking_uri"])
    run_id = parent["run_id"]
    for name in LEADERBOARD_FILES:
        if (sweep_dir / name).is_file():
            client.log_artifact(run_id, str(sweep_dir / name))
    table = sweep_dir / "leaderboard.csv"
    if table.is_file():
        _log_table(client, run_id, table)
    client.set_terminated(run_id, "FINISHED")


def _log_table(client: Any, run_id: str, csv_path: Path) -> None:
    """leaderboard.csv as the MLflow table TABLE_ARTIFACT, replaced at every end of the sweep.

    ``MlflowClient.log_table`` appends to an existing table, so a resumed sweep would list every
    configuration twice; this writes the same artefact (pandas' "split" JSON) and the same
    ``mlflow.loggedArtifacts`` tag that ``log_table`` writes, so ``load_table`` reads it back."""
    import json
    import tempfile

    import pandas as pd
    from mlflow.utils.mlflow_tags import MLFLOW_LOGGED_ARTIFACTS

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / TABLE_ARTIFACT
        pd.read_csv(csv_path).to_json(path, orient="split", index=False, date_format="iso")
        client.log_artifact(run_id, str(path))
    logged = json.loads(client.get_run(run_id).data.tags.get(MLFLOW_LOGGED_ARTIFACTS, "[]"))
    entry = {"path": TABLE_ARTIFACT, "type": "table"}
    if entry not in logged:
        client.set_tag(run_id, MLFLOW_LOGGED_ARTIFACTS, json.dumps([*logged, entry]))


def _log_error(what: str, config: DictConfig, error: Exception) -> None:
    sweep_dir = OmegaConf.select(config, "hydra.sweep.dir", default=None)
    message = " ".join(str(error).split()) or type(error).__name__
    log.error("MLflow: %s for %s: %s: %s", what, sweep_dir, type(error).__name__, message)
