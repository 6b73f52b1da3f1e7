"""One training, Hydra-free: ``run_training(cfg, run_dir)`` = record → data → model → fit →
validate and test the best checkpoint → predict → artefacts, from a composed config.

The Hydra task (:mod:`spectramind.train`), benchmarks and notebooks all call this; it needs only
an OmegaConf config with the ``data``/``model``/``loss``/``optimizer``/``trainer`` groups of
``conf/``. Its imports (torch, Lightning, the model and data code) are this module's imports, so
importing this module is exactly what a launcher's worker does ahead of its first run
(:mod:`spectramind.worker`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import pytorch_lightning as pl
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint, ProgressBar

from spectramind.ablation.manifest import record_run_status
from spectramind.config_checks import FIXED_CHECKPOINT_ARGUMENTS, check_training_config
from spectramind.data.layout import CACHE_DIR, dataset_fingerprint
from spectramind.errors import ConfigurationError
from spectramind.metrics.references import reference_scores
from spectramind.sweep_layout import (
    BEST_CHECKPOINT, CHECKPOINTS_DIR, COMPLETED, LAST_CHECKPOINT, REFERENCE_PREFIXES, validation_name,
)
from spectramind.tracking.artifacts import resumable_checkpoint, write_run_outputs, write_splits
from spectramind.tracking.dvc_hash import dataset_dvc_record
from spectramind.tracking.events_callback import EventsCallback
from spectramind.tracking.identity import config_hash, run_identity
from spectramind.tracking.loggers import build_loggers, finish_loggers, log_run_config, run_tags
from spectramind.tracking.random_state import RandomStateCallback
from spectramind.tracking.record import RunRecorder, read_json, write_json_atomic

# Known-harmless noise from Lightning on every run: a torch deprecation inside Lightning itself,
# the one-worker DataLoader hint (our data is in memory) and the start-up banner and tips; and,
# for models fitted without gradient steps (model=transit_fit), the hints that nothing is optimised.
_QUIET_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\).*", r".*does not have many workers.*",
    r".*`configure_optimizers` returned `None`.*", r".*`training_step` returned `None`.*",
    r".*`parameters` is an empty generator.*",
    # a DDP run's rank zero tests the best checkpoint in a fresh one-device trainer (no callbacks needed)
    r".*callbacks used to create the checkpoint need to be provided.*",
)


def _quiet_lightning() -> None:
    for pattern in _QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)


def _callbacks(cfg: DictConfig, run_dir: Path) -> tuple[ModelCheckpoint, list[pl.Callback]]:
    """The ``callbacks`` group's Lightning callbacks, with the run's checkpointing among them
    (the configured ModelCheckpoint with its place fixed, or the default one when none is
    configured); returns (that checkpoint, all of them)."""
    # <run_dir>/checkpoints/{best,last}.ckpt, one of each (config_checks rejects these keys in the config)
    fixed = dict(zip(FIXED_CHECKPOINT_ARGUMENTS,
                     (run_dir / CHECKPOINTS_DIR, Path(BEST_CHECKPOINT).stem, True, 1, False)))
    checkpoint, callbacks = None, []
    for node in (cfg.get("callbacks") or {}).values():
        if node is None:
            continue
        is_checkpoint = checkpoint is None and issubclass(get_class(node._target_), ModelCheckpoint)
        callback = instantiate(node, **fixed) if is_checkpoint else instantiate(node)
        checkpoint = callback if is_checkpoint else checkpoint
        callbacks.append(callback)
    if checkpoint is None:
        checkpoint = ModelCheckpoint(monitor="val/loss", mode="min", **fixed)
        callbacks.insert(0, checkpoint)
    return checkpoint, callbacks


def is_global_zero() -> bool:
    """Whether this process is global rank zero, the one that writes a run's record and artefacts.

    Known from the environment, because the record is started before the Trainer exists: a
    process is rank zero unless a launcher gave it a non-zero rank. Lightning's subprocess
    launcher (``strategy: ddp``) starts ranks 1.. with ``LOCAL_RANK`` (and every process of
    another node has ``NODE_RANK``); torchrun sets ``RANK``, Slurm ``SLURM_PROCID``. A single
    process has none of them set, or all zero. :func:`run_training` checks this against the
    Trainer's own ``global_rank`` once the Trainer is built.
    """
    return all(int(os.environ.get(name) or 0) == 0
               for name in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID"))


def _end_distributed_fit(trainer: pl.Trainer) -> None:
    """After a multi-process fit, every rank leaves the process group: rank zero then tests and
    predicts alone (:func:`_evaluator`) and the other ranks return. While the group is up, a
    torchmetrics ``compute()`` on rank zero would wait in an all-gather for ranks that have left.
    (``ddp_spawn`` fits in child processes: the calling process is in no group.)"""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        trainer.strategy.barrier("spectramind_fit_end")  # every rank is done with the fit's collectives
        torch.distributed.destroy_process_group()


def _single_process_kwargs(trainer: pl.Trainer, trainer_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The Trainer arguments of an evaluation after the fit: the run's own for a single process,
    one device on rank zero after a distributed fit (same accelerator and precision)."""
    if trainer.world_size == 1:
        return trainer_kwargs
    return {**trainer_kwargs, "devices": 1, "num_nodes": 1, "strategy": "auto"}


def _evaluator(trainer: pl.Trainer, trainer_kwargs: dict[str, Any], loggers: list[Any],
               run_dir: Path) -> pl.Trainer:
    """The Trainer that tests and predicts: the fitting one for a single process; after a
    distributed fit, a new single-device Trainer on rank zero (same accelerator and precision).

    Why not test and predict on every rank: Lightning's DistributedSampler splits the test set
    and pads it with repeated planets until it divides by the number of processes, so the summed
    metric states would count those planets twice, and each rank would predict only its share
    (gathering and de-duplicating them is more code than the problem deserves). Testing the best
    checkpoint once in one process is a forward pass over the test split, small next to the fit,
    and gives exactly the metrics and predictions that evaluating that checkpoint alone gives:
    every test planet once. Validation during the fit stays distributed; its torchmetrics states
    are summed over the ranks in ``compute()``.
    """
    if trainer.world_size == 1:
        return trainer
    return pl.Trainer(**_single_process_kwargs(trainer, trainer_kwargs), logger=loggers or False,
                      default_root_dir=str(run_dir))


def validation_metrics(module: pl.LightningModule, datamodule: pl.LightningDataModule, best: str | None,
                       trainer_kwargs: dict[str, Any], run_dir: Path) -> dict[str, float]:
    """``val_<metric>``: the best checkpoint's scores on the validation split, from the module's
    validation step (the same ``SpectrumMetrics`` as the test), in one pass after the fit.

    Selection (the leaderboard's ranking, a sweeper's objective) reads these, so the test split's
    scores stay held out. The pass runs in a Trainer of its own, without loggers or callbacks:
    the trackers' ``val/*`` curves keep one point per epoch, and no callback (checkpointing,
    early stopping) reacts to it.
    """
    quiet = {**trainer_kwargs, "logger": False, "enable_checkpointing": False, "enable_model_summary": False}
    pl.Trainer(**quiet, default_root_dir=str(run_dir)).validate(
        module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
    return {validation_name(name): value for name, value in module.val_results.items()}


def run_training(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: Sequence[str] = (),
    sweep_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train, evaluate and record one run in ``run_dir``; return its metrics (metrics.json: the test
    split's scores, and the validation split's as ``val_<name>``).

    In a distributed run (``trainer=ddp``) every rank calls this; only global rank zero writes the
    record and artefacts, and only it tests, predicts and returns the metrics (``{}`` elsewhere).
    """
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
        writes=(rank_zero := is_global_zero()),
    )
    if rank_zero:
        ckpt_path, resume_note = resumable_checkpoint(run_dir, recorder.previous(), recorder.record)
    else:  # rank zero decided, and recorded it in run.json before Lightning launched this process
        ckpt_path, resume_note = (recorder.previous() or {}).get("resumed_from"), None
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
                        dataset_dvc=dataset_dvc_record(datamodule.data_dir),
                        orbit_sources=datamodule.orbit_sources())
        if rank_zero:
            write_splits(run_dir, datamodule.split_planet_ids())
        module = instantiate(cfg.model, loss=instantiate(cfg.loss), optimizer=instantiate(cfg.optimizer))
        module.set_statistics(**datamodule.label_statistics())
        recorder.update(n_params=module.n_parameters)

        checkpoint, configured = _callbacks(cfg, run_dir)
        # A progress bar chosen in `callbacks` is shown; otherwise only in a terminal, outside sweeps.
        shows_bar = any(isinstance(c, ProgressBar) for c in configured)
        trainer_kwargs.setdefault("enable_progress_bar", shows_bar or (sweep_dir is None and sys.stderr.isatty()))
        loggers = build_loggers(cfg, run_dir, identity, sweep_dir)
        log_run_config(loggers, container, run_tags(identity, cfg.seed, sweep_dir))
        callbacks = [*configured, RandomStateCallback(), EventsCallback(recorder)]
        trainer = pl.Trainer(**trainer_kwargs, callbacks=callbacks, logger=loggers or False,
                             default_root_dir=str(run_dir))
        if trainer.is_global_zero != rank_zero:
            raise ConfigurationError(f"this process is rank {trainer.global_rank} to Lightning but its environment "
                                     "says otherwise: launch distributed runs with Lightning's launcher or torchrun")
        if trainer.world_size > 1 and sweep_dir is not None:
            # Lightning re-launches the command line for each rank: inside a sweep, the whole sweep.
            raise ConfigurationError("a distributed trainer (trainer=ddp) runs one training at a time, "
                                     "not inside --multirun")
        t0 = time.perf_counter()
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        fit_s = time.perf_counter() - t0
        if trainer.world_size > 1:
            _end_distributed_fit(trainer)
            if not rank_zero:
                return {}
        evaluator = _evaluator(trainer, trainer_kwargs, loggers, run_dir)
        best = checkpoint.best_model_path or None
        t0 = time.perf_counter()
        validation = validation_metrics(module, datamodule, best, _single_process_kwargs(trainer, trainer_kwargs),
                                        run_dir)
        evaluator.test(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
        predictions = evaluator.predict(module, datamodule=datamodule, return_predictions=True)
        test_s = time.perf_counter() - t0
        finish_loggers(loggers)

        metrics = dict(module.test_results)
        metrics.update(validation)
        metrics.update(reference_metrics(datamodule))
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


def reference_metrics(datamodule) -> dict[str, float]:
    """``ref_<reference>_<score>``: the test split's reference scores (per channel and pooled, overall
    and per detector; :mod:`spectramind.metrics.references`), when the data set carries noise
    truth; the leaderboard measures every configuration against them. Empty for real data.

    They depend only on the data set and its split, so they are computed once and cached beside the
    features: every run of a study then records the very same numbers (the pooled reference's
    linear algebra is not bit-identical across BLAS thread counts) and pays ~1 s only once.
    """
    truth = datamodule.noise_truth("test")
    if truth is None:
        return {}
    split_key = hashlib.sha256(json.dumps(datamodule.split_planet_ids(), sort_keys=True).encode()).hexdigest()
    cache = (Path(datamodule.data_dir) / CACHE_DIR
             / f"references-{dataset_fingerprint(datamodule.data_dir)[:12]}-{split_key[:12]}.json")
    cached = read_json(cache)
    if isinstance(cached, dict):
        return cached
    statistics = datamodule.label_statistics()
    y, train_y = (datamodule.splits[split].tensors["y"].double().numpy() for split in ("test", "train"))
    scores = reference_scores(y, *truth, train_y, statistics["naive_mean"], statistics["naive_std"])
    metrics = {f"{REFERENCE_PREFIXES[reference]}{name}": value
               for reference, values in scores.items() for name, value in values.items()}
    try:
        write_json_atomic(cache, metrics)
    except OSError as err:  # a read-only data folder: recomputed next time
        warnings.warn(f"{cache}: could not cache the reference scores ({err})", stacklevel=2)
    return metrics
