"""Lightning callbacks that inject faults into a training, for the sweeper's end-to-end tests.

They are passed to runs from the command line (``+callbacks.fault._target_=faults.RaiseAtEpoch``),
which the training config instantiates per run, so production code has no fault hooks. The
tests put this folder on the subprocess's PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytorch_lightning as pl
import torch


def _armed(when_env: str | None) -> bool:
    """A fault fires always, or with ``when_env`` only while that environment variable is set: a
    transient fault (an OOM kill, a flaky node) that a resumed sweep, started without it, gets past
    with the same config."""
    return when_env is None or bool(os.environ.get(when_env))


class Healthy(pl.Callback):
    """No fault: the control level of a fault factor. Takes the faults' settings and ignores them,
    so that settings shared by a fault factor's levels can be given once for all of them."""

    def __init__(self, epoch: int = 1, when_env: str | None = None) -> None:
        del epoch, when_env


class RaiseAtEpoch(pl.Callback):
    """Raise a RuntimeError when epoch ``epoch`` starts (a crashing run)."""

    def __init__(self, epoch: int = 1, when_env: str | None = None) -> None:
        self.epoch = epoch
        self.when_env = when_env

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and _armed(self.when_env):
            raise RuntimeError(f"injected fault at epoch {self.epoch}")


class PoisonWeights(pl.Callback):
    """Set every weight to NaN when epoch ``epoch`` starts, so the loss becomes NaN (divergence)."""

    def __init__(self, epoch: int = 1, when_env: str | None = None) -> None:
        self.epoch = epoch
        self.when_env = when_env

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and _armed(self.when_env):
            with torch.no_grad():
                for parameter in pl_module.parameters():
                    parameter.fill_(float("nan"))


class KillProcessAtEpoch(pl.Callback):
    """SIGKILL the run's own process when epoch ``epoch`` starts: no exception, no cleanup, no
    outcome recorded (an OOM kill, a lost node). Under joblib this kills a worker process."""

    def __init__(self, epoch: int = 1, when_env: str | None = None) -> None:
        self.epoch = epoch
        self.when_env = when_env

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and _armed(self.when_env):
            os.kill(os.getpid(), signal.SIGKILL)


class HoldAtEpoch(pl.Callback):
    """Block for good when epoch ``epoch`` starts, after writing ``<run_dir>/holding.marker``: a run
    parked mid-training, the previous epoch's checkpoint on disk, for a test to kill."""

    def __init__(self, epoch: int = 1, when_env: str | None = None) -> None:
        self.epoch = epoch
        self.when_env = when_env

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and _armed(self.when_env):
            (Path(trainer.default_root_dir) / "holding.marker").write_text(f"holding at epoch {self.epoch}\n")
            while True:
                time.sleep(1)


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
    """Write the CPU threads torch uses, SPECTRAMIND_NUM_THREADS, the BLAS/OpenMP variables the
    process started with and every thread pool's size to ``<run_dir>/threads.json``."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from spectramind.threads import THREAD_VARIABLES, thread_pools

        record = {
            "torch_threads": torch.get_num_threads(),
            "env": os.environ.get("SPECTRAMIND_NUM_THREADS"),
            "pid": os.getpid(),
            "library_env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
            "pools": thread_pools(),
        }
        (Path(trainer.default_root_dir) / "threads.json").write_text(json.dumps(record))
