"""One training, Hydra-free: ``run_training(cfg, run_dir)`` runs five phases, each a function of its
own: start the record (:func:`start_record`), build data, model and trainer (:func:`build`),
:func:`fit`, :func:`evaluate` the best checkpoint (validation, test, predictions, references) and
:func:`finish` the record and outputs, from a composed config.

The Hydra task (:mod:`spectramind.train`), benchmarks and notebooks all call this; it needs only
an OmegaConf config with the ``data``/``model``/``loss``/``optimizer``/``trainer`` groups of
``conf/``. Its imports (torch, Lightning, the model and data code) are this module's imports, so
importing this module is exactly what a launcher's worker does ahead of its first run
(:mod:`spectramind.worker`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ModelCheckpoint, ProgressBar

from spectramind.allocator import keep_freed_memory
from spectramind.config_checks import FIXED_CHECKPOINT_ARGUMENTS, check_training_config
from spectramind.data.layout import CACHE_DIR, dataset_fingerprint
from spectramind.errors import ConfigurationError
from spectramind.metrics.references import reference_scores
from spectramind.sweep_layout import (
    BEST_CHECKPOINT,
    CHECKPOINTS_DIR,
    COMPLETED,
    LAST_CHECKPOINT,
    REFERENCE_PREFIXES,
    validation_name,
)
from spectramind.threads import thread_pools, use_threads
from spectramind.tracking.artifacts import resumable_checkpoint, write_run_outputs, write_splits
from spectramind.tracking.dvc_hash import dataset_dvc_record
from spectramind.tracking.events_callback import EventsCallback
from spectramind.tracking.identity import config_hash, run_identity
from spectramind.tracking.loggers import build_loggers, ended_loggers, log_run_config, run_tags
from spectramind.tracking.random_state import RandomStateCallback
from spectramind.tracking.record import RunRecorder, StatusHook, read_json, write_json_atomic
from spectramind.warm_start import load_warm_start

# Known-harmless noise from Lightning on every run: a torch deprecation inside Lightning itself,
# the one-worker DataLoader hint (our data is in memory) and the start-up banner and tips; and,
# for models fitted without gradient steps (model=transit_fit), the hints that nothing is optimised.
_QUIET_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\).*",
    r".*does not have many workers.*",
    r".*`configure_optimizers` returned `None`.*",
    r".*`training_step` returned `None`.*",
    r".*`parameters` is an empty generator.*",
    # a DDP run's rank zero tests the best checkpoint in a fresh one-device trainer (no callbacks needed)
    r".*callbacks used to create the checkpoint need to be provided.*",
    # a run continued from its own checkpoint (a resume, successive halving's next rung) writes beside it
    r".*Checkpoint directory .* exists and is not empty.*",
    # a study run beside a Slurm installation (a login node, hydra/launcher=slurm's own jobs): the
    # runs are one process each by design, never `srun python ...` steps
    r".*The `srun` command is available on your system but is not used.*",
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
    fixed = dict(
        zip(FIXED_CHECKPOINT_ARGUMENTS, (run_dir / CHECKPOINTS_DIR, Path(BEST_CHECKPOINT).stem, True, 1, False))
    )
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
    return all(int(os.environ.get(name) or 0) == 0 for name in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID"))


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


def _evaluator(trainer: pl.Trainer, trainer_kwargs: dict[str, Any], loggers: list[Any], run_dir: Path) -> pl.Trainer:
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
    return pl.Trainer(
        **_single_process_kwargs(trainer, trainer_kwargs), logger=loggers or False, default_root_dir=str(run_dir)
    )


def validation_metrics(
    module: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    best: str | None,
    trainer_kwargs: dict[str, Any],
    run_dir: Path,
) -> dict[str, float]:
    """``val_<metric>``: the best checkpoint's scores on the validation split, from the module's
    validation step (the same ``SpectrumMetrics`` as the test), in one pass after the fit.

    Selection (the leaderboard's ranking, a sweeper's objective) reads these, so the test split's
    scores stay held out. The pass runs in a Trainer of its own, without loggers or callbacks:
    the trackers' ``val/*`` curves keep one point per epoch, and no callback (checkpointing,
    early stopping) reacts to it.
    """
    quiet = {**trainer_kwargs, "logger": False, "enable_checkpointing": False, "enable_model_summary": False}
    pl.Trainer(**quiet, default_root_dir=str(run_dir)).validate(
        module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True
    )
    return {validation_name(name): value for name, value in module.val_results.items()}


@dataclass
class RunContext:
    """What every phase of one training shares: its config, where it is recorded, and whether this
    process writes (global rank zero) and resumes from a checkpoint."""

    cfg: DictConfig
    run_dir: Path
    sweep_dir: Path | None
    container: dict[str, Any]
    identity: Any
    trainer_kwargs: dict[str, Any]
    recorder: RunRecorder
    rank_zero: bool
    resume_checkpoint: str | None  # the run's own last checkpoint it continues from, if any
    resume_note: str | None


@dataclass
class RunParts:
    """What the build phase makes: the data, the model, the checkpointing and the trainer."""

    datamodule: pl.LightningDataModule
    module: pl.LightningModule
    checkpoint: ModelCheckpoint
    trainer: pl.Trainer
    loggers: list[Any]


def start_record(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: Sequence[str] = (),
    sweep_dir: str | Path | None = None,
    on_status: StatusHook | None = None,
) -> RunContext:
    """Phase 1: check the config (a bad value fails here, in one line, before the run directory is
    written), open the run's record and decide whether it resumes from its own checkpoint.

    ``on_status`` is told every status change (a sweep mirrors it into sweep.json); the caller
    passes it, so a single training depends on no sweep code."""
    _quiet_lightning()
    check_training_config(cfg)
    run_dir = Path(run_dir)
    container = OmegaConf.to_container(cfg, resolve=True)
    identity = run_identity(overrides)
    trainer_kwargs = dict(container["trainer"])
    budget = cfg.get("budget_epochs")
    if budget is not None:  # successive halving: this launch trains up to its rung's epochs, of training.epochs
        trainer_kwargs["max_epochs"] = min(int(budget), int(trainer_kwargs["max_epochs"]))
    rank_zero = is_global_zero()
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
        on_status=on_status,
        writes=rank_zero,
    )
    if rank_zero:
        ckpt_path, resume_note = resumable_checkpoint(
            run_dir, recorder.previous(), recorder.record, continuing=budget is not None
        )
    else:  # rank zero decided, and recorded it in run.json before Lightning launched this process
        ckpt_path, resume_note = (recorder.previous() or {}).get("resumed_from"), None
    recorder.record["resumed_from"] = ckpt_path
    return RunContext(
        cfg=cfg,
        run_dir=run_dir,
        sweep_dir=Path(sweep_dir) if sweep_dir else None,
        container=container,
        identity=identity,
        trainer_kwargs=trainer_kwargs,
        recorder=recorder,
        rank_zero=rank_zero,
        resume_checkpoint=ckpt_path,
        resume_note=resume_note,
    )


def build(ctx: RunContext) -> RunParts:
    """Phase 2: the allocator (spectramind.allocator), the data (recorded: fingerprint, splits,
    orbit sources), then threads and seeds, the model, the callbacks with the run's checkpointing,
    the loggers and the trainer."""
    cfg, recorder = ctx.cfg, ctx.recorder
    default_threads = torch.get_num_threads()
    allocator = keep_freed_memory()  # before the data: reading and measuring them allocate too
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    # Threads are set after the data: measuring features runs batman, whose OpenMP start-up resets
    # the process's thread count, so a run that measured them would otherwise train differently
    # from one that read them from the cache. The sweeper's share of the cores for parallel jobs
    # wins over the configured default.
    threads = os.environ.get("SPECTRAMIND_NUM_THREADS") or cfg.get("num_threads")
    use_threads(int(threads) if threads else default_threads)
    # Results on CPU are bit-identical for one thread count, not across counts: record it, and
    # what every thread pool of the process uses (spectramind.threads).
    recorder.update(num_threads=torch.get_num_threads(), thread_pools=thread_pools(), allocator=allocator)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    recorder.update(
        dataset_hash=dataset_fingerprint(datamodule.data_dir),
        dataset_dvc=dataset_dvc_record(datamodule.data_dir),
        orbit_sources=datamodule.orbit_sources(),
    )
    if ctx.rank_zero:
        write_splits(ctx.run_dir, datamodule.split_planet_ids())
    module = instantiate(cfg.model, loss=instantiate(cfg.loss), optimizer=instantiate(cfg.optimizer))
    module.set_statistics(**datamodule.label_statistics())
    if cfg.get("init_from"):  # warm start: another run's weights (the config checks have matched them)
        recorder.update(init_from=str(load_warm_start(cfg.init_from, module).resolve()))
    recorder.update(n_params=module.n_parameters)
    checkpoint, configured = _callbacks(cfg, ctx.run_dir)
    # A progress bar chosen in `callbacks` is shown; otherwise only in a terminal, outside sweeps.
    shows_bar = any(isinstance(c, ProgressBar) for c in configured)
    ctx.trainer_kwargs.setdefault("enable_progress_bar", shows_bar or (ctx.sweep_dir is None and sys.stderr.isatty()))
    loggers = build_loggers(cfg, ctx.run_dir, ctx.identity, ctx.sweep_dir)
    log_run_config(loggers, ctx.container, run_tags(ctx.identity, cfg.seed, ctx.sweep_dir))
    trainer = pl.Trainer(
        **ctx.trainer_kwargs,
        callbacks=[*configured, RandomStateCallback(), EventsCallback(recorder)],
        logger=loggers or False,
        default_root_dir=str(ctx.run_dir),
    )
    if trainer.is_global_zero != ctx.rank_zero:
        raise ConfigurationError(
            f"this process is rank {trainer.global_rank} to Lightning but its environment "
            "says otherwise: launch distributed runs with Lightning's launcher or torchrun"
        )
    if trainer.world_size > 1 and ctx.sweep_dir is not None:
        # Lightning re-launches the command line for each rank: inside a sweep, the whole sweep.
        raise ConfigurationError(
            "a distributed trainer (trainer=ddp) runs one training at a time, not inside --multirun"
        )
    return RunParts(datamodule=datamodule, module=module, checkpoint=checkpoint, trainer=trainer, loggers=loggers)


def fit(ctx: RunContext, parts: RunParts) -> float:
    """Phase 3: train (resuming from the run's own checkpoint when there is one); the seconds it
    took. After a distributed fit every rank leaves the process group (rank zero evaluates alone)."""
    started = time.perf_counter()
    parts.trainer.fit(parts.module, datamodule=parts.datamodule, ckpt_path=ctx.resume_checkpoint, weights_only=True)
    seconds = time.perf_counter() - started
    if parts.trainer.world_size > 1:
        _end_distributed_fit(parts.trainer)
    return seconds


def evaluate(ctx: RunContext, parts: RunParts) -> tuple[dict[str, Any], list, float]:
    """Phase 4 (rank zero): the best checkpoint's scores on the validation split (``val_*``, what
    selection reads) and the test split (held out), its test predictions, and the references of
    the test split; (metrics, predictions, seconds)."""
    trainer, module, datamodule = parts.trainer, parts.module, parts.datamodule
    evaluator = _evaluator(trainer, ctx.trainer_kwargs, parts.loggers, ctx.run_dir)
    best = parts.checkpoint.best_model_path or None
    started = time.perf_counter()
    validation = validation_metrics(
        module, datamodule, best, _single_process_kwargs(trainer, ctx.trainer_kwargs), ctx.run_dir
    )
    evaluator.test(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
    predictions = evaluator.predict(module, datamodule=datamodule, return_predictions=True)
    seconds = time.perf_counter() - started
    best_score = parts.checkpoint.best_model_score
    metrics = {
        **module.test_results,
        **validation,
        **reference_metrics(datamodule),
        "best_val_loss": float(best_score) if best_score is not None else None,
        "epochs": trainer.current_epoch,
    }
    return metrics, predictions, seconds


def finish(
    ctx: RunContext, parts: RunParts, metrics: dict[str, Any], predictions: list, fit_s: float, evaluate_s: float
) -> None:
    """Phase 5 (rank zero): the run's outputs (metrics.json, predictions, submission) and its record
    completed."""
    metrics["train_time_s"] = round(fit_s, 3)
    write_run_outputs(ctx.run_dir, predictions, metrics)
    ctx.recorder.record["durations"].update(fit_s=round(fit_s, 3), test_s=round(evaluate_s, 3))
    ctx.recorder.update(
        epochs_trained=parts.trainer.current_epoch, checkpoints={"last": LAST_CHECKPOINT, "best": BEST_CHECKPOINT}
    )
    ctx.recorder.event("test_end", metrics=metrics)
    ctx.recorder.finish(COMPLETED, metrics=metrics)


def run_training(
    cfg: DictConfig,
    run_dir: str | Path,
    overrides: Sequence[str] = (),
    sweep_dir: str | Path | None = None,
    on_status: StatusHook | None = None,
) -> dict[str, Any]:
    """Train, evaluate and record one run in ``run_dir``: the five phases in order; return its
    metrics (metrics.json: the test split's scores, and the validation split's as ``val_<name>``).

    In a distributed run (``trainer=ddp``) every rank calls this; only global rank zero writes the
    record and artefacts, and only it evaluates and returns the metrics (``{}`` elsewhere).
    """
    ctx = start_record(cfg, run_dir, overrides, sweep_dir, on_status)
    with ctx.recorder:
        if ctx.resume_note:
            ctx.recorder.event("resume", message=ctx.resume_note)
            print(f"[spectramind] {ctx.resume_note}", file=sys.stderr)
        parts = build(ctx)
        with ended_loggers(parts.loggers):
            fit_s = fit(ctx, parts)
            if not ctx.rank_zero:
                return {}
            metrics, predictions, evaluate_s = evaluate(ctx, parts)
            finish(ctx, parts, metrics, predictions, fit_s, evaluate_s)
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
    cache = (
        Path(datamodule.data_dir)
        / CACHE_DIR
        / f"references-{dataset_fingerprint(datamodule.data_dir)[:12]}-{split_key[:12]}.json"
    )
    cached = read_json(cache)
    if isinstance(cached, dict):
        return cached
    statistics = datamodule.label_statistics()
    y, train_y = (datamodule.splits[split].tensors["y"].double().numpy() for split in ("test", "train"))
    scores = reference_scores(y, *truth, train_y, statistics["naive_mean"], statistics["naive_std"])
    metrics = {
        f"{REFERENCE_PREFIXES[reference]}{name}": value
        for reference, values in scores.items()
        for name, value in values.items()
    }
    try:
        write_json_atomic(cache, metrics)
    except OSError as err:  # a read-only data folder: recomputed next time
        warnings.warn(f"{cache}: could not cache the reference scores ({err})", stacklevel=2)
    return metrics
