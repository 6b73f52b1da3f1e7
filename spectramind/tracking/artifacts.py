"""What a run leaves in its directory besides its record, and how an interrupted run is picked up.

Outputs: ``metrics.json`` (test metrics, and the best checkpoint's validation metrics as
``val_<name>``), ``predictions.parquet`` (test split: planet_id, μ, σ and the truth y per
wavelength), ``submission.csv`` (Kaggle format) and ``splits.json`` (every split's planet ids).
Resume: a run whose
previous attempt was interrupted (``run.json`` still says ``running``: its process was killed; or
``failed`` by a stop from outside, :data:`INTERRUPTIONS`) with the same config hash continues from
``checkpoints/last.ckpt`` — if that file loads; a truncated checkpoint means training from
scratch, and the run says so. A run that failed on its own (an exception of the training) starts
again from scratch: its last checkpoint may hold what made it fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from spectramind.errors import DatasetError
from spectramind.metrics.submission import write_submission
from spectramind.spectrum import N_WAVELENGTHS
from spectramind.sweep_layout import (
    COMPLETED,
    FAILED,
    LAST_CHECKPOINT,
    METRICS_FILE,
    PREDICTIONS_FILE,
    RUNNING,
    SPLITS_FILE,
    SUBMISSION_FILE,
)
from spectramind.tracking.record import write_json_atomic

# Errors that stop a sound run from outside: Ctrl-C (Lightning turns it into SystemExit), a signal
# handler's exit, and submitit stopping a Slurm job at the warning before its time limit or at a
# preemption without requeueing it (submitit 1.5 raises UncompletedJobError inside the job then).
INTERRUPTIONS = ("KeyboardInterrupt", "SystemExit", "UncompletedJobError")

# predictions.parquet: planet_id, then <quantity>_1 .. <quantity>_283 for each of these.
PREDICTED_QUANTITIES = ("mu", "sigma", "y")


def resumable_checkpoint(
    run_dir: Path, previous: dict[str, Any] | None, current: dict[str, Any], continuing: bool = False
) -> tuple[str | None, str | None]:
    """(checkpoint to continue from, note for the log) for a run about to start in ``run_dir``:
    the run's own last checkpoint when its previous attempt was interrupted, or, ``continuing``
    (a launch with an epoch budget: successive halving's next rung), when it completed."""
    last = run_dir / LAST_CHECKPOINT
    if not previous or not _resumable(previous, continuing) or not last.exists():
        return None, None
    if previous.get("config_hash") != current["config_hash"]:
        return None, f"config changed since the interrupted attempt; training {current['run_id']} from scratch"
    try:
        torch.load(last, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file: truncated, empty, not a checkpoint
        return None, f"checkpoint {last} is unreadable ({type(exc).__name__}); training from scratch"
    if previous.get("status") == COMPLETED:
        return str(last), f"continuing run {current['run_id']} from {last} ({previous.get('epochs_trained')} epochs)"
    return str(last), f"resuming interrupted run {current['run_id']} from {last}"


def _resumable(previous: dict[str, Any], continuing: bool) -> bool:
    status = previous.get("status")
    if status == RUNNING or (continuing and status == COMPLETED):
        return True
    return status == FAILED and (previous.get("error") or {}).get("type") in INTERRUPTIONS


def write_run_outputs(run_dir: Path, predictions: list[dict[str, torch.Tensor]], metrics: dict[str, Any]) -> None:
    planet_id = torch.cat([p["planet_id"] for p in predictions]).numpy()
    columns: dict[str, np.ndarray] = {"planet_id": planet_id}
    arrays = {
        name: torch.cat([p[name] for p in predictions]).double().numpy()
        for name in PREDICTED_QUANTITIES
        if name in predictions[0]
    }
    for name, values in arrays.items():
        for i in range(N_WAVELENGTHS):
            columns[f"{name}_{i + 1}"] = values[:, i]
    pd.DataFrame(columns).to_parquet(run_dir / PREDICTIONS_FILE, index=False)
    write_submission(run_dir / SUBMISSION_FILE, planet_id, arrays["mu"], arrays["sigma"])
    write_json_atomic(run_dir / METRICS_FILE, metrics)


def write_splits(run_dir: Path, planet_ids: dict[str, list[int]]) -> None:
    """``splits.json``: each split's planet ids, so that the planets a run was selected on
    (validation) and measured on (test) can be checked after the fact, and the disjointness of
    the held-out planets too."""
    write_json_atomic(run_dir / SPLITS_FILE, planet_ids)


def read_predictions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mu, sigma) arrays of shape (n_planets, 283) from a run's predictions.parquet."""
    import pyarrow.parquet as pq

    columns = [f"{name}_{i}" for name in ("y", "mu", "sigma") for i in range(1, N_WAVELENGTHS + 1)]
    try:
        frame = pq.read_table(path, columns=columns)
    except (OSError, ValueError, KeyError) as error:  # missing columns surface as ArrowInvalid (a ValueError)
        raise DatasetError(f"{path}: unreadable predictions ({type(error).__name__}: {error})") from error

    def block(name: str) -> np.ndarray:
        return np.column_stack([frame.column(f"{name}_{i}").to_numpy() for i in range(1, N_WAVELENGTHS + 1)]).astype(
            float
        )

    return block("y"), block("mu"), block("sigma")
