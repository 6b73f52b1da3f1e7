"""Lightning callback that writes one ``epoch_end`` event per training epoch to the run's log."""

from __future__ import annotations

import math
import time

import pytorch_lightning as pl

from spectramind.tracking.record import RunRecorder


class EventsCallback(pl.Callback):
    """Per-epoch metrics and durations into ``events.jsonl`` (the leaderboard's training curves)."""

    def __init__(self, recorder: RunRecorder) -> None:
        self.recorder = recorder
        self._epoch_start = time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics = {}
        for name, value in trainer.callback_metrics.items():
            number = float(value)
            metrics[name] = number if math.isfinite(number) else str(number)
        self.recorder.event(
            "epoch_end",
            epoch=trainer.current_epoch,
            step=trainer.global_step,
            duration_s=round(time.perf_counter() - self._epoch_start, 4),
            metrics=metrics,
        )
