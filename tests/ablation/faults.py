"""Lightning callbacks that inject faults into a training, for the sweeper's end-to-end tests.

They are passed to runs from the command line (``+callbacks.fault._target_=faults.RaiseAtEpoch``),
which the training config instantiates per run, so production code has no fault hooks. The
tests put this folder on the subprocess's PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytorch_lightning as pl
import torch


class Healthy(pl.Callback):
    """No fault: the control level of a fault factor."""


class RaiseAtEpoch(pl.Callback):
    """Raise a RuntimeError when epoch ``epoch`` starts (a crashing run)."""

    def __init__(self, epoch: int = 1) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError(f"injected fault at epoch {self.epoch}")


class PoisonWeights(pl.Callback):
    """Set every weight to NaN when epoch ``epoch`` starts, so the loss becomes NaN (divergence)."""

    def __init__(self, epoch: int = 1) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            with torch.no_grad():
                for parameter in pl_module.parameters():
                    parameter.fill_(float("nan"))


class FailOnce(pl.Callback):
    """Raise on the first attempt of a run only (a transient failure that a retry gets past)."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        marker = Path(trainer.default_root_dir) / "failed_once.marker"
        if not marker.exists():
            marker.write_text("failed once\n")
            raise RuntimeError("injected transient fault")


class SlowEpochs(pl.Callback):
    """Sleep at the end of every epoch, so a test can kill a sweep in the middle of a run."""

    def __init__(self, seconds: float = 0.5) -> None:
        self.seconds = seconds

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        time.sleep(self.seconds)


class RecordThreads(pl.Callback):
    """Write the CPU threads torch uses and SPECTRAMIND_NUM_THREADS to ``<run_dir>/threads.json``."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        record = {
            "torch_threads": torch.get_num_threads(),
            "env": os.environ.get("SPECTRAMIND_NUM_THREADS"),
            "pid": os.getpid(),
        }
        (Path(trainer.default_root_dir) / "threads.json").write_text(json.dumps(record))
