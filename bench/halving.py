"""Successive halving against the full grid: the same best configuration for how many epochs.

The issue's study (``model=mlp,cnn1d,spectral_prior optimizer.lr=0.001,0.003,0.01``: 9
configurations) on the default data set, one seed, run twice one after the other through
``python -m spectramind.train --multirun`` (the basic launcher): as a full grid of ``MAX_EPOCHS``
epochs per run, and as ``hydra.sweeper.design=halving`` with eta 3 from ``MIN_EPOCHS`` to
``MAX_EPOCHS``. The data's features are measured once, before either (both read the cache).
Reported: each study's wall time, its epochs trained in all (run.json's ``epochs_trained``
summed), and its best configuration: the grid's best on the validation score its runs returned
(``val_adc2025_unclipped``, what halving promotes on), halving's the one configuration of its last
rung. The target is the issue's: the same best configuration with at most 45 % of the grid's epochs.
"""

from __future__ import annotations

import json
from pathlib import Path

STUDY = ("model=mlp,cnn1d,spectral_prior", "optimizer.lr=0.001,0.003,0.01")
MIN_EPOCHS, MAX_EPOCHS, ETA = 2, 18, 3
EPOCH_SHARE_TARGET = 0.45


def _sweep(data_dir: Path, sweep_dir: Path, *extra: str) -> float:
    from bench.timing import python_command, timed_run

    command = python_command(
        "-m",
        "spectramind.train",
        "--multirun",
        f"data.data_dir={data_dir}",
        *STUDY,
        *extra,
        f"hydra.sweep.dir={sweep_dir}",
    )
    wall, _ = timed_run(command, timeout=3600)
    return wall


def _runs(sweep_dir: Path) -> list[dict]:
    """Per run: its configuration, epochs trained and the validation score it returned."""
    runs = []
    for run in json.loads((sweep_dir / "sweep.json").read_text())["runs"]:
        folder = sweep_dir / "runs" / run["run_id"]
        metrics = json.loads((folder / "metrics.json").read_text())
        record = json.loads((folder / "run.json").read_text())
        runs.append({**run, "epochs_trained": record["epochs_trained"], "val": metrics["val_adc2025_unclipped"]})
    return runs


def _label(run: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in run["factors"].items())


def halving(work: Path) -> dict:
    from bench.workspace import DEFAULT_SIMULATION, ensure_data

    data_dir = ensure_data(work / "data-default", DEFAULT_SIMULATION)
    warm = work / "halving-features"
    _sweep(data_dir, warm, "model=spectral_prior", "optimizer.lr=0.001", "training.epochs=1")  # the feature cache
    grid_s = _sweep(data_dir, work / "halving-grid", f"training.epochs={MAX_EPOCHS}")
    halving_s = _sweep(
        data_dir,
        work / "halving-halving",
        "hydra.sweeper.design=halving",
        f"hydra.sweeper.eta={ETA}",
        f"hydra.sweeper.min_epochs={MIN_EPOCHS}",
        f"hydra.sweeper.max_epochs={MAX_EPOCHS}",
    )
    grid, halved = _runs(work / "halving-grid"), _runs(work / "halving-halving")
    grid_best = max(grid, key=lambda run: run["val"])
    last_rung = max(run["rung"] for run in halved)
    finalists = [run for run in halved if run["rung"] == last_rung]
    halving_best = max(finalists, key=lambda run: run["val"])
    grid_epochs, halving_epochs = sum(r["epochs_trained"] for r in grid), sum(r["epochs_trained"] for r in halved)
    share = halving_epochs / grid_epochs
    same = grid_best["config_id"] == halving_best["config_id"]
    second = sorted(grid, key=lambda run: run["val"], reverse=True)[1]
    figures = {
        "grid_wall_s": round(grid_s, 1),
        "halving_wall_s": round(halving_s, 1),
        "grid_epochs": grid_epochs,
        "halving_epochs": halving_epochs,
        "epoch_share": round(share, 3),
        "grid_best": _label(grid_best),
        "grid_best_val": round(grid_best["val"], 5),
        "grid_second": _label(second),
        "grid_second_val": round(second["val"], 5),
        "halving_best": _label(halving_best),
        "halving_best_val": round(halving_best["val"], 5),
        "halving_configs_per_rung": [sum(r["rung"] >= k for r in halved) for k in range(last_rung + 1)],
    }
    return {
        "title": "Successive halving vs the full grid",
        "what": f"9 configurations ({' '.join(STUDY)}), default data, 1 seed, basic launcher: the grid to "
        f"{MAX_EPOCHS} epochs, then halving with eta {ETA} from {MIN_EPOCHS} to {MAX_EPOCHS} epochs",
        "figures": figures,
        "headline": f"halving {halving_epochs} epochs in {halving_s:.0f} s vs the grid's {grid_epochs} in "
        f"{grid_s:.0f} s ({100 * share:.0f} %); best: "
        + (
            f"the same ({_label(halving_best)})"
            if same
            else f"{_label(halving_best)} vs the grid's {_label(grid_best)}"
        ),
        "target": f"the grid's best configuration with <= {100 * EPOCH_SHARE_TARGET:.0f} % of its epochs",
        "met": same and share <= EPOCH_SHARE_TARGET,
    }
