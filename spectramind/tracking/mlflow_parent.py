"""A sweep's MLflow parent run, recorded in the sweep directory.

The parent's id is kept in ``<sweep_dir>/mlflow_parent.json``: every run of the sweep, in whichever
process or host the launcher put it, reads it there and tags itself ``mlflow.parentRunId``
(MLflow's nesting), and a resumed sweep finds the same parent. It is created once, under the
sweep's lock, by the first party that needs it (normally the end-of-sweep callback's start hook in
the main process, :mod:`spectramind.tracking.mlflow_sweep`).
"""

from __future__ import annotations

import os
from pathlib import Path

from spectramind.sweep_layout import sweep_lock
from spectramind.tracking.record import read_json, write_json_atomic

PARENT_FILE = "mlflow_parent.json"
MLFLOW_PARENT_TAG = "mlflow.parentRunId"


def sweep_parent_run(
    sweep_dir: str | os.PathLike,
    tracking_uri: str,
    experiment_name: str,
    artifact_location: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, str]:
    """The sweep's parent run ``{"tracking_uri", "experiment_id", "run_id"}``: the one recorded
    in the sweep directory for this tracking URI, else a new one (recorded under the sweep's lock)."""
    path = Path(sweep_dir) / PARENT_FILE
    known = read_json(path)
    if known and known.get("tracking_uri") == tracking_uri:
        return known
    with sweep_lock(sweep_dir):
        known = read_json(path)
        if known and known.get("tracking_uri") == tracking_uri:
            return known
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri)
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is not None and experiment.lifecycle_stage != "deleted":
            experiment_id = experiment.experiment_id
        else:
            experiment_id = client.create_experiment(experiment_name, artifact_location=artifact_location)
        run_tags = {"sweep": str(sweep_dir), "mlflow.runName": f"sweep {Path(sweep_dir).name}", **(tags or {})}
        run = client.create_run(experiment_id, tags=run_tags)
        parent = {"tracking_uri": tracking_uri, "experiment_id": experiment_id, "run_id": run.info.run_id}
        write_json_atomic(path, parent)
        return parent
