"""The Hydra task function: ``python -m spectramind.train [overrides]`` (``--multirun`` for sweeps).

One run = compose config → record → data → model → fit → test → predict → write artefacts. The
Hydra-free core, :func:`run_training`, is what benchmarks and notebooks call directly; ``main``
only adds Hydra's run directory and overrides and turns expected errors into one-line messages.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import hydra
from omegaconf import DictConfig, OmegaConf

from spectramind.errors import SpectramindError
from spectramind.fast_exit import skip_final_collection
from spectramind.tracking.identity import config_hash, run_identity

# Known-harmless noise from Lightning on every run: a torch deprecation inside Lightning itself,
# the one-worker DataLoader hint (our data is in memory) and the start-up banner and tips.
_QUIET_WARNINGS = (r".*isinstance\(treespec, LeafSpec\).*", r".*does not have many workers.*")


# What run_training imports (torch and Lightning with them), for warm_up.
_TRAINING_MODULES = (
    "spectramind.data.datamodule", "spectramind.models.module", "spectramind.tracking.artifacts",
    "spectramind.tracking.events_callback", "spectramind.tracking.random_state",
)


def _quiet_lightning() -> None:
    import logging
    import warnings

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
    import pytorch_lightning as pl
    import torch
    from hydra.utils import instantiate
    from pytorch_lightning.callbacks import ModelCheckpoint

    from spectramind.ablation.preflight import check_training_config
    from spectramind.data.layout import dataset_fingerprint
    from spectramind.tracking.dvc_hash import dataset_dvc_record
    from spectramind.tracking.events_callback import EventsCallback
    from spectramind.tracking.random_state import RandomStateCallback
    from spectramind.tracking.record import RunRecorder
    from spectramind.tracking.artifacts import resumable_checkpoint, write_run_outputs

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
            dirpath=run_dir / "checkpoints", filename="best", monitor="val/loss", mode="min",
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
            checkpoints={"last": "checkpoints/last.ckpt", "best": "checkpoints/best.ckpt"},
        )
        recorder.event("test_end", metrics=metrics)
        recorder.finish("completed", metrics=metrics)
    return metrics


def warm_up() -> int:
    """Import what a training needs, in a launcher's worker process before its first job.

    The ablation sweeper (``hydra.sweeper.warm_up``) runs this once in each joblib worker while it
    composes and checks the study's configs, so the seconds a fresh process spends importing torch
    and Lightning (docs/performance.md) overlap the pre-flight instead of delaying the first runs. Returns the worker's
    process id (recorded in the sweep's events)."""
    import importlib

    for module in _TRAINING_MODULES:
        importlib.import_module(module)
    skip_final_collection()
    return os.getpid()


@hydra.main(version_base="1.3", config_path="pkg://spectramind.conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    skip_final_collection()  # in a launcher's worker process too: the sweep waits for its exit
    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        metrics = run_training(
            cfg,
            run_dir=hydra_cfg.runtime.output_dir,
            overrides=list(hydra_cfg.overrides.task),
            sweep_dir=hydra_cfg.sweep.dir if multirun else None,
        )
    except SpectramindError as exc:
        if multirun:
            raise  # the sweeper records it and carries on with the other runs
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"[spectramind] run finished: {hydra_cfg.runtime.output_dir}", file=sys.stderr)
    return metrics.get(cfg.primary_metric)


def user_error_message(exc: BaseException) -> str | None:
    """One line for an error the user can fix, or None for a bug (which keeps its traceback).

    User errors: Hydra's and OmegaConf's (unknown key, bad type, missing config-group option,
    failed pre-flight), malformed YAML in a config file, a path that cannot be written or read
    (``hydra.run.dir`` under a regular file, a read-only disk), and spectramind's expected errors.
    """
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, (HydraException, OmegaConfBaseException)):
        from spectramind.errors import hydra_error_line

        message = hydra_error_line(exc)
        cause = exc.__cause__  # Hydra keeps OmegaConf's reason (the offending value) here
        if isinstance(cause, OmegaConfBaseException) and str(cause).strip():
            message += f": {str(cause).strip().splitlines()[0]}"
        return message
    if isinstance(exc, yaml.YAMLError):
        return "malformed YAML: " + " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, SpectramindError):
        return " ".join(str(exc).split())
    return None


def entry_point() -> None:
    """Run ``main``; exit 2 with one line ``error: ...`` on a user error (see
    :func:`user_error_message`), and non-zero when a sweep left failed or diverged runs.

    Hydra prints its own multi-line report, or a traceback for errors it does not know (a YAML
    syntax error, an unwritable run directory), and exits 1; with ``HYDRA_FULL_ERROR`` it raises
    instead, which lets us report them as one line. A user who sets ``HYDRA_FULL_ERROR`` gets
    Hydra's full reports unchanged.

    The process exits without the interpreter's final collection (:mod:`spectramind.fast_exit`).
    """
    from spectramind.ablation import outcome

    skip_final_collection()

    with outcome.reporting():
        if os.environ.get("HYDRA_FULL_ERROR"):
            main()
        else:
            os.environ["HYDRA_FULL_ERROR"] = "1"  # set while main runs: launchers' workers inherit it
            try:
                main()
            except Exception as exc:
                message = user_error_message(exc)
                if message is None:
                    raise
                print(f"error: {message}", file=sys.stderr)
                sys.exit(2)
            finally:
                del os.environ["HYDRA_FULL_ERROR"]
    sys.exit(outcome.exit_status())


if __name__ == "__main__":
    entry_point()
