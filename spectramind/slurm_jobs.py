"""submitit's Slurm jobs as a study needs them: states from ``squeue`` where the cluster keeps no
accounting, and a job Slurm killed reported as that run's failure instead of the whole batch's.

Why: submitit asks ``sacct`` for job states. Without accounting every state stays UNKNOWN, and
submitit learns that a job ended only from the result file the job writes when it returns; a job
Slurm kills (``scancel``, its time limit, preemption, a node failure) writes none, and the study
would wait for it forever. And Hydra's submitit launcher collects a batch's results in order, so
the first killed job would raise and abandon the batch's other jobs while they still run on the
cluster (the sweeper would then relaunch them beside themselves). :class:`KilledJobReporting`
fixes both for the launches of one study, in the sweeping process only, by having submitit
create job objects of the class :class:`ReportingSlurmJob`: submitit 1.5 creates a single job through
``SlurmExecutor.job_class`` and an array's tasks through the module's name ``SlurmJob``, so both
are replaced during a launch (``tests/ablation/test_hydra_private_api.py`` fails if that changes).
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from submitit.core.utils import FailedJobError, UncompletedJobError
from submitit.slurm import slurm as submitit_slurm

from spectramind.slurm import GONE, ended_message, parse_squeue, sacct_available, squeue_command

log = logging.getLogger(__name__)


class SlurmJobEnded(RuntimeError):
    """Slurm ended a job before it returned (cancelled, timed out, preempted, node failure)."""


class SqueueWatcher(submitit_slurm.SlurmInfoWatcher):
    """submitit's job-state watcher asking ``squeue`` instead of ``sacct``, one call for every job
    it watches; a job that ``squeue`` listed once and no longer lists has ended (slurmctld keeps an
    ended job for ``MinJobAge`` seconds only)."""

    def __init__(self, delay_s: int = 60) -> None:
        super().__init__(delay_s=delay_s)
        self._listed_once: set[str] = set()

    def _make_command(self) -> list[str] | None:
        watched = sorted({job_id.split("_")[0] for job_id in self._registered - self._finished})
        return squeue_command(watched) if watched else None

    def update(self) -> None:
        command = self._make_command()
        if command is None:
            return
        self._num_calls += 1
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:  # slurmctld busy or unreachable: ask later
            log.debug(f"squeue failed: {exc}")
            return
        if done.returncode != 0 and "Invalid job id" not in done.stderr:
            log.debug(f"squeue failed: {done.stderr.strip()}")
            return
        listed = parse_squeue(done.stdout if done.returncode == 0 else "")  # "Invalid job id": all gone
        self._info_dict.update(listed)
        self._listed_once.update(listed)
        watched = self._registered - self._finished
        for job_id in watched & self._listed_once - set(listed):
            self._info_dict[job_id] = {"State": GONE, "Reason": "no longer known to slurmctld", "NodeList": ""}
        self._last_status_check = time.time()
        self._finished.update(job_id for job_id in watched if self.is_done(job_id, mode="cache"))


class ReportingSlurmJob(submitit_slurm.SlurmJob):
    """A Slurm job whose :meth:`results` is a failed Hydra job result naming Slurm's state and
    reason when Slurm ended the job before it wrote its own, instead of an exception (which
    would abandon the other jobs of the batch)."""

    def results(self) -> list[Any]:
        try:
            return super().results()
        except FailedJobError as exc:  # the job returned, with an error of submitit's own: its words
            return [JobReturn(status=JobStatus.FAILED, _return_value=exc)]
        except UncompletedJobError:
            info = self.watcher.get_info(self.job_id, mode="cache")
            error = SlurmJobEnded(ended_message(self.job_id, info, self.stderr() or ""))
            return [JobReturn(status=JobStatus.FAILED, _return_value=error)]


class KilledJobReporting:
    """Asks once whether ``sacct`` answers (and says so once when it does not); :meth:`installed`
    then makes each launch's jobs :class:`ReportingSlurmJob` objects, watched through ``squeue``
    where ``sacct`` does not answer."""

    def __init__(self) -> None:
        self.watcher = submitit_slurm.SlurmJob.watcher
        if not sacct_available():
            log.warning("sacct is unavailable (accounting disabled?): job states come from squeue")
            self.watcher = SqueueWatcher()

    @contextmanager
    def installed(self) -> Iterator[None]:
        saved = submitit_slurm.SlurmExecutor.job_class, submitit_slurm.SlurmJob
        ReportingSlurmJob.watcher = self.watcher
        submitit_slurm.SlurmExecutor.job_class = submitit_slurm.SlurmJob = ReportingSlurmJob
        try:
            yield
        finally:
            submitit_slurm.SlurmExecutor.job_class, submitit_slurm.SlurmJob = saved
