"""The Hydra task function and process entry point: ``python -m spectramind.train [overrides]``
(``--multirun`` for sweeps).

``main`` only adds what Hydra knows (the run directory, the overrides, whether this is a sweep's
job) to the Hydra-free :func:`spectramind.training.run_training`; ``run_main`` runs it the way
every entry point does (this module's ``entry_point`` and the ``spectramind`` command line):
expected errors as one line, a sweep's failed runs as the exit status.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import hydra
from omegaconf import DictConfig

from spectramind.errors import ConfigurationError, SpectramindError, user_error_message
from spectramind.fast_exit import skip_final_collection
from spectramind.sweep_layout import UNCLIPPED_SUFFIX, validation_name


@hydra.main(version_base="1.3", config_path="pkg://spectramind.conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    skip_final_collection()  # in a launcher's worker process too: the sweep waits for its exit
    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        from spectramind.training import is_global_zero, run_training

        sweep_dir = hydra_cfg.sweep.dir if multirun else None
        metrics = run_training(
            cfg,
            run_dir=hydra_cfg.runtime.output_dir,
            overrides=list(hydra_cfg.overrides.task),
            sweep_dir=sweep_dir,
            on_status=sweep_status_hook(sweep_dir),
        )
    except SpectramindError as exc:
        if multirun:
            raise  # the sweeper records it and carries on with the other runs
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    if not is_global_zero():  # another rank of a distributed run: rank zero reports the run
        return None
    print(f"[spectramind] run finished: {hydra_cfg.runtime.output_dir}", file=sys.stderr)
    if not multirun:  # a sweep's runs are summed up by its leaderboard instead
        print(headline(metrics))
    return sweeper_objective(metrics, cfg.primary_metric)


def sweeper_objective(metrics: dict, primary_metric: str) -> float | None:
    """What the task function returns to a sweeper (Optuna optimises it, successive halving promotes
    on it): the primary metric of the best checkpoint on the validation split, so that no tuning ever
    selects on the test split, which stays held out. Its unclipped twin where the run recorded one
    (``val_adc2025_unclipped``): the official score clips every configuration below the naive
    baseline to 0, where an optimiser could no longer tell them apart (early rungs often are). A
    metric that belongs to no split (``best_val_loss``, ``train_time_s``) as it is."""
    validation = validation_name(primary_metric)
    return metrics.get(f"{validation}{UNCLIPPED_SUFFIX}", metrics.get(validation, metrics.get(primary_metric)))


def sweep_status_hook(sweep_dir: str | None):
    """Inside a sweep, the run's status changes mirrored into the sweep's sweep.json (the sweep code
    is imported here, by the Hydra task, so that a single training depends on none of it)."""
    if sweep_dir is None:
        return None
    import functools

    from spectramind.ablation.manifest import record_run_status

    return functools.partial(record_run_status, sweep_dir)


def headline(metrics: dict) -> str:
    """The test metrics a user looks at first, on one line (stdout, the result of the command):
    ``test: adc2025=0.4123 adc2024=0.6011 gll=7.2 rmse_ppm=385.2 coverage_1sigma=0.66``."""
    from spectramind.ablation.manifest import HEADLINE_METRICS

    shown = [f"{name}={metrics[name]:.4g}" for name in HEADLINE_METRICS if isinstance(metrics.get(name), (int, float))]
    return "test: " + " ".join(shown)


def run_main(one_line_errors: bool = True) -> int:
    """Run the task function ``main`` on ``sys.argv`` as spectramind's entry points do; return the
    exit status of the sweep it ran (1 when runs failed or diverged, else 0).

    Shared by :func:`entry_point` and the command line (``spectramind.cli.hydra_bridge``), so that
    both report errors alike. Hydra prints its own multi-line report, or a traceback for errors it
    does not know (a YAML syntax error, an unwritable run directory), and exits 1; with
    ``HYDRA_FULL_ERROR`` set it raises instead, which lets ``one_line_errors`` turn an error the
    user can fix into :class:`ConfigurationError` with one line (:func:`user_error_message`); a
    bug keeps its traceback. Without ``one_line_errors``, Hydra does what the environment says.

    The entry point, not the sweep, turns failed runs into the exit status
    (:func:`spectramind.ablation.outcome.reporting`): ``--allow-failed-runs`` may want 0.
    """
    from spectramind.ablation import outcome

    with outcome.reporting():
        if one_line_errors:
            with _hydra_errors_as_one_line():
                main()
        else:
            main()
    return outcome.exit_status()


@contextmanager
def _hydra_errors_as_one_line() -> Iterator[None]:
    """``HYDRA_FULL_ERROR=1`` while open (launchers' workers inherit it; the previous value comes
    back after), and a user error leaves as :class:`ConfigurationError` without its traceback."""
    saved = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield
    except Exception as exc:
        message = user_error_message(exc)
        if message is None:
            raise
        raise ConfigurationError(message) from None
    finally:
        if saved is None:
            del os.environ["HYDRA_FULL_ERROR"]
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved


def entry_point() -> None:
    """``python -m spectramind.train``: exit 2 with one line ``error: ...`` on a user error, and 1
    when a sweep left failed or diverged runs (:func:`run_main`). A user who sets
    ``HYDRA_FULL_ERROR`` gets Hydra's full reports unchanged.

    The process exits without the interpreter's final collection (:mod:`spectramind.fast_exit`).
    """
    skip_final_collection()
    if os.environ.get("HYDRA_FULL_ERROR"):
        sys.exit(run_main(one_line_errors=False))
    try:
        status = run_main()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(status)


if __name__ == "__main__":
    entry_point()
