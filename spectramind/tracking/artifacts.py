"""What a run leaves in its directory besides its record, and how an interrupted run is picked up.

Outputs: ``metrics.json`` (test metrics), ``predictions.parquet`` (test split: planet_id, μ, σ
and the truth y per wavelength) and ``submission.csv`` (Kaggle format). Resume: a run whose
previous attempt was interrupted (``run.json`` still says ``running``) with the same config hash
continues from ``checkpoints/last.ckpt`` — if that file loads; a truncated checkpoint means
training from scratch, and the run says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from spectramind.data.layout import N_WAVELENGTHS
from spectramind.metrics.submission import write_submission
from spectramind.tracking.record import METRICS_FILE, write_json_atomic

LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


def resumable_checkpoint(
    run_dir: Path, previous: dict[str, Any] | None, current: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(checkpoint to continue from, note for the log) for a run about to start in ``run_dir``."""
    last = run_dir / LAST_CHECKPOINT
    if not previous or previous.get("status") != "running" or not last.exists():
        return None, None
    if previous.get("config_hash") != current["config_hash"]:
        return None, f"config changed since the interrupted attempt; training {current['run_id']} from scratch"
    try:
        torch.load(last, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file: truncated, empty, not a checkpoint
        return None, f"checkpoint {last} is unreadable ({type(exc).__name__}); training from scratch"
    return str(last), f"resuming interrupted run {current['run_id']} from {last}"


def write_run_outputs(run_dir: Path, predictions: list[dict[str, torch.Tensor]],
                      metrics: dict[str, Any]) -> None:
    planet_id = torch.cat([p["planet_id"] for p in predictions]).numpy()
    columns: dict[str, np.ndarray] = {"planet_id": planet_id}
    arrays = {name: torch.cat([p[name] for p in predictions]).double().numpy()
              for name in ("mu", "sigma", "y") if name in predictions[0]}
    for name, values in arrays.items():
        for i in range(N_WAVELENGTHS):
            columns[f"{name}_{i + 1}"] = values[:, i]
    pd.DataFrame(columns).to_parquet(run_dir / "predictions.parquet", index=False)
    write_submission(run_dir / "submission.csv", planet_id, arrays["mu"], arrays["sigma"])
    write_json_atomic(run_dir / METRICS_FILE, metrics)
