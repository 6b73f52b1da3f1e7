"""What the sweeper reads of the configured Hydra launcher: how many jobs it runs at once, how many
CPU threads each job may use, and what its job results say.

Why here and not in the launchers: the Hydra launcher interface says nothing about parallelism, so
the sweeper reads each known launcher's own config (joblib ``n_jobs``, submitit ``cpus_per_task``,
Ray ``remote.num_cpus``) to size batches that can stop between runs and to keep parallel jobs from
contending for the same cores.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.core.utils import JobReturn, JobStatus
from omegaconf import DictConfig, OmegaConf

if TYPE_CHECKING:
    from spectramind.ablation.runner import JobOutcome


def launcher_target(config: DictConfig) -> str | None:
    """The configured launcher's class, as ``sweep.json`` records it."""
    return OmegaConf.select(config, "hydra.launcher._target_", default=None)


def job_outcome(sweep_dir: Path, result: JobReturn) -> JobOutcome:
    """What the runner needs of one job's result: its error record (None if it did not fail) and
    where it ran.

    Reads ``JobReturn._return_value`` (a dataclass field of Hydra 1.3, 1.3.8 installed): the public
    ``return_value`` re-raises a failed job's exception and writes "Error executing job with
    overrides" to stderr, a line per failed run on top of the sweep's own report.
    tests/ablation/test_hydra_private_api.py fails if the field or that behaviour changes."""
    # imported once jobs end, not when Hydra imports every plugin module at any app's start
    from spectramind.ablation.runner import JobOutcome
    from spectramind.tracking.record import error_record

    if result.status == JobStatus.FAILED:
        return JobOutcome(error_record(result._return_value), _run_dir(sweep_dir, result))
    return JobOutcome(None, _run_dir(sweep_dir, result), reported_number(result._return_value))


def reported_number(value: object) -> float | None:
    """What a task function returned, as the number successive halving promotes on: a finite real
    number (numpy scalars and 0-d tensors too); a bool, a string, NaN or anything else is none."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _run_dir(sweep_dir: Path, result: JobReturn) -> str | None:
    """Where the job ran, relative to the sweep directory when inside it."""
    output_dir = (
        OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir", default=None) if result.hydra_cfg else None
    )
    if output_dir is None:
        return None
    try:
        return str(Path(output_dir).resolve().relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(output_dir)


def concurrent_jobs(config: DictConfig, batch_len: int) -> int:
    """How many jobs of a batch the configured launcher runs at the same time on this machine."""
    launcher = config.hydra.launcher
    n_jobs = OmegaConf.select(launcher, "n_jobs", default=None)  # joblib
    if n_jobs is not None:
        n_jobs = int(n_jobs)
        return max(1, n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs)
    if str(OmegaConf.select(launcher, "_target_", default="")).endswith("submitit_launcher.LocalLauncher"):
        return max(1, batch_len)  # submitit's local executor starts every job of a batch at once
    return 1


def may_run_in_parallel(config: DictConfig, batch_len: int) -> bool:
    """Whether the configured launcher may run several jobs of a batch at once: joblib with more
    than one job, submitit (local or Slurm) and Ray do; Hydra's basic launcher does not."""
    if OmegaConf.select(config.hydra.launcher, "n_jobs", default=None) is not None:
        return concurrent_jobs(config, batch_len) > 1
    return not str(launcher_target(config) or "").endswith("BasicLauncher")


def threads_per_job(config: DictConfig, batch_len: int) -> int | None:
    """CPU threads per job so that parallel jobs together use the machine's cores, no more: the
    CPUs the launcher allocates per job where it does (submitit ``cpus_per_task``, Ray
    ``remote.num_cpus``, Ray's default being one), else the cores shared by concurrent jobs."""
    launcher = config.hydra.launcher
    allocated = OmegaConf.select(launcher, "cpus_per_task", default=None) or OmegaConf.select(
        launcher, "ray.remote.num_cpus", default=None
    )
    if allocated:
        return int(allocated)
    if OmegaConf.select(launcher, "ray", default=None) is not None:
        return 1
    concurrent = concurrent_jobs(config, batch_len)
    if concurrent <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // concurrent)


def export_thread_share(config: DictConfig, batch_len: int) -> None:
    """Put each job's share of the CPU threads (:func:`threads_per_job`) into this process's
    environment as the BLAS/OpenMP variables, before any worker starts: joblib's workers, Slurm
    jobs and a local Ray instance's workers inherit it, so their numeric libraries size their
    pools to the share when they load (``spectramind.threads``)."""
    threads = threads_per_job(config, batch_len)
    if threads:
        from spectramind.threads import thread_environment

        os.environ.update(thread_environment(threads))


def is_slurm(config: DictConfig) -> bool:
    """Whether the configured launcher submits to Slurm (hydra-submitit-launcher's ``submitit_slurm``)."""
    return str(launcher_target(config) or "").endswith("submitit_launcher.SlurmLauncher")


def check_slurm_request(config: DictConfig) -> None:
    """Refuse, in one line, a Slurm request no node of its partition can ever run (the jobs would
    wait forever, and the study with them); nothing is checked where ``sinfo`` does not answer."""
    if not is_slurm(config):
        return
    from spectramind.errors import ConfigurationError
    from spectramind.slurm import partition_limits, unsatisfiable

    launcher = config.hydra.launcher
    limits = partition_limits(OmegaConf.select(launcher, "partition", default=None))
    if limits is None:
        return
    cpus = int(OmegaConf.select(launcher, "cpus_per_task", default=None) or 1) * int(
        OmegaConf.select(launcher, "tasks_per_node", default=None) or 1
    )
    message = unsatisfiable(cpus, OmegaConf.select(launcher, "mem_gb", default=None), limits)
    if message:
        raise ConfigurationError(message)


def killed_job_reporting(config: DictConfig) -> Callable[[], AbstractContextManager[None]]:
    """What to wrap each launch in: with the Slurm launcher, a job Slurm ends before it returns is
    that run's failure with Slurm's reason (not a lost batch, not a wait forever: see
    ``spectramind.slurm_jobs``); with any other launcher, nothing."""
    if not is_slurm(config):
        return nullcontext
    from spectramind.slurm_jobs import KilledJobReporting

    return KilledJobReporting().installed
