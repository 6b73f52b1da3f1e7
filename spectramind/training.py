"""One training, Hydra-free: ``run_training(cfg, run_dir)`` = record → data → model → fit → test →
predict → artefacts, from a composed config.

The Hydra task (:mod:`spectramind.train`), benchmarks and notebooks all call this; it needs only
an OmegaConf config with the ``data``/``model``/``loss``/``optimizer``/``trainer`` groups of
``conf/``. Its imports (torch, Lightning, the model and data code) are this module's imports, so
importing this module is exactly what a launcher's worker does ahead of its first run
(:mod:`spectramind.worker`).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint

from spectramind.ablation.manifest import record_run_status
from spectramind.config_checks import check_training_config
from spectramind.data.layout import dataset_fingerprint
from spectramind.sweep_layout import BEST_CHECKPOINT, CHECKPOINTS_DIR, COMPLETED, LAST_CHECKPOINT
from spectramind.tracking.artifacts import resumable_checkpoint, write_run_outputs
from spectramind.tracking.dvc_hash import dataset_dvc_record
from spectramind.tracking.events_callback import EventsCallback
from spectramind.tracking.identity import config_hash, run_identity
from spectramind.tracking.random_state import RandomStateCallback
from spectramind.tracking.record import RunRecorder

# Known-harmless noise from Lightning on every run: a torch deprecation inside Lightning itself,
# the one-worker DataLoader hint (our data is in memory) and the start-up banner and tips; and,
# for models fitted without gradient steps (model=transit_fit), the hints that nothing is optimised.
_QUIET_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\).*", r".*does not have many workers.*",
    r".*`configure_optimizers` returned `None`.*", r".*`training_step` returned `None`.*",
    r".*`parameters` is an empty generator.*",
)


def _quiet_lightning() -> None:
    for pattern in _QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)


def run_training(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: Sequence[str] = (),
    sweep_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train, test and record one run in ``run_dir``; return its test metrics."""
    _quiet_lightning()
    # A single run gets the sweeper's pre-flight checks too: a bad value fails here, in one line,
    # before the run directory is written, not as a traceback from inside Lightning.
    check_training_config(cfg)
    run_dir = Path(run_dir)
    container = OmegaConf.to_container(cfg, resolve=True)
    identity = run_identity(overrides)
    trainer_kwargs = dict(container["trainer"])
    recorder = RunRecorder(
        run_dir,
        identity=identity,
        overrides=list(overrides),
        config_yaml=OmegaConf.to_yaml(container),
        config_hash=config_hash(container),
        dataset_hash=None,
        seed=cfg.seed,
        device=str(trainer_kwargs.get("accelerator", "auto")),
        sweep_dir=sweep_dir,
        # inside a sweep, the run's status changes are mirrored into the sweep's sweep.json
        on_status=functools.partial(record_run_status, sweep_dir) if sweep_dir is not None else None,
    )
    ckpt_path, resume_note = resumable_checkpoint(run_dir, recorder.previous(), recorder.record)
    recorder.record["resumed_from"] = ckpt_path
    with recorder:
        if resume_note:
            recorder.event("resume", message=resume_note)
            print(f"[spectramind] {resume_note}", file=sys.stderr)
        # The sweeper's share of the cores for parallel jobs wins over the configured default.
        threads = os.environ.get("SPECTRAMIND_NUM_THREADS") or cfg.get("num_threads")
        if threads:
            torch.set_num_threads(int(threads))
        # Results on CPU are bit-identical for one thread count, not across counts: record it.
        recorder.update(num_threads=torch.get_num_threads())
        pl.seed_everything(cfg.seed, workers=True, verbose=False)

        datamodule = instantiate(cfg.data)
        datamodule.setup("fit")
        recorder.update(dataset_hash=dataset_fingerprint(datamodule.data_dir),
                        dataset_dvc=dataset_dvc_record(datamodule.data_dir))
        module = instantiate(cfg.model, loss=instantiate(cfg.loss), optimizer=instantiate(cfg.optimizer))
        module.set_statistics(**datamodule.label_statistics())
        recorder.update(n_params=module.n_parameters)

        checkpoint = ModelCheckpoint(
            dirpath=run_dir / CHECKPOINTS_DIR, filename=Path(BEST_CHECKPOINT).stem, monitor="val/loss", mode="min",
            save_last=True, save_top_k=1, enable_version_counter=False,
        )
        trainer_kwargs.setdefault("enable_progress_bar", sweep_dir is None and sys.stderr.isatty())
        logger = instantiate(cfg.logger, save_dir=str(run_dir)) if cfg.get("logger") else False
        extra_callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
        callbacks = [checkpoint, RandomStateCallback(), EventsCallback(recorder), *extra_callbacks]
        trainer = pl.Trainer(**trainer_kwargs, callbacks=callbacks, logger=logger, default_root_dir=str(run_dir))
        t0 = time.perf_counter()
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        fit_s = time.perf_counter() - t0
        best = "best" if checkpoint.best_model_path else None
        t0 = time.perf_counter()
        trainer.test(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
        predictions = trainer.predict(module, datamodule=datamodule, return_predictions=True)
        test_s = time.perf_counter() - t0

        metrics = dict(module.test_results)
        metrics.update(
            best_val_loss=float(checkpoint.best_model_score) if checkpoint.best_model_score is not None else None,
            epochs=trainer.current_epoch,
            train_time_s=round(fit_s, 3),
        )
        write_run_outputs(run_dir, predictions, metrics)
        recorder.record["durations"].update(fit_s=round(fit_s, 3), test_s=round(test_s, 3))
        recorder.update(
            epochs=trainer.current_epoch,
            checkpoints={"last": LAST_CHECKPOINT, "best": BEST_CHECKPOINT},
        )
        recorder.event("test_end", metrics=metrics)
        recorder.finish(COMPLETED, metrics=metrics)
    return metrics
