"""What the sweeper reads of Hydra and of the joblib launcher plugin beyond their public API, each
checked against the installed versions (Hydra 1.3, hydra-joblib-launcher 1.2): an upgrade that
changes one fails here, naming it, instead of failing a sweep.

- ``JobReturn._return_value`` (launchers.py: job_outcome): a failed job's exception, read without
  the public ``return_value``, which re-raises it and writes a line to stderr.
- ``hydra._internal.callbacks.Callbacks.callbacks`` (sweeper.py: setup): the list the sweeper puts
  its exit-status callback first in, which ``on_multirun_end`` calls last.
- ``hydra_plugins.hydra_joblib_launcher._core.process_joblib_cfg`` and ``JoblibLauncher.joblib``
  (warm_up.py): the launcher's options as its ``Parallel`` gets them, so the warm pool is reused.
- submitit's ``SlurmExecutor.job_class``, the module name ``SlurmJob`` an array's tasks are created
  through, and the fields of its ``InfoWatcher`` (spectramind/slurm_jobs.py): replaced during a
  launch so that a job Slurm ends is reported, and watched through ``squeue`` without accounting.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hydra.core.utils import JobReturn, JobStatus


def test_a_failed_jobs_exception_is_the_return_value_field():
    assert "_return_value" in {f.name for f in dataclasses.fields(JobReturn)}
    error = RuntimeError("the job failed")
    failed = JobReturn(status=JobStatus.FAILED, _return_value=error)
    assert failed._return_value is error
    with pytest.raises(RuntimeError) as raised:
        _ = failed.return_value  # the public way: re-raises it (and writes to stderr)
    assert raised.value is error
    assert JobReturn(status=JobStatus.COMPLETED, _return_value=1.5).return_value == 1.5


def test_the_job_outcome_carries_the_failed_jobs_error(tmp_path):
    from hydra_plugins.spectramind_ablation.launchers import job_outcome

    outcome = job_outcome(tmp_path, JobReturn(status=JobStatus.FAILED, _return_value=ValueError("bad value")))
    assert outcome.error["type"] == "ValueError" and outcome.error["message"] == "bad value"
    assert job_outcome(tmp_path, JobReturn(status=JobStatus.COMPLETED, _return_value=1.0)).error is None


def test_callbacks_are_a_list_called_in_reverse_at_the_end_of_a_multirun():
    from hydra._internal.callbacks import Callbacks

    seen = []

    class Mark:
        def __init__(self, name: str) -> None:
            self.name = name

        def on_multirun_end(self, config, **kwargs) -> None:
            seen.append(self.name)

    callbacks = Callbacks()
    callbacks.callbacks.append(Mark("leaderboard"))
    callbacks.callbacks.insert(0, Mark("exit status"))
    callbacks.on_multirun_end(config=None)
    assert seen == ["leaderboard", "exit status"]


def test_the_joblib_launcher_converts_its_options_as_the_warm_up_does():
    from hydra_plugins.hydra_joblib_launcher import _core
    from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

    options = {"n_jobs": 2, "batch_size": "4", "pre_dispatch": "2*n_jobs", "max_nbytes": None}
    _core.process_joblib_cfg(options)
    assert options == {"n_jobs": 2, "batch_size": 4, "pre_dispatch": "2*n_jobs", "max_nbytes": None}
    assert JoblibLauncher(n_jobs=2, backend=None).joblib == {"n_jobs": 2, "backend": None}
    launch = inspect.getsource(_core.launch)
    assert "joblib_cfg = launcher.joblib" in launch and "process_joblib_cfg(joblib_cfg)" in launch
    assert "Parallel(**joblib_cfg)" in launch


def test_submitit_creates_slurm_jobs_through_the_names_the_reporting_replaces():
    from submitit.slurm import slurm

    from spectramind.slurm_jobs import KilledJobReporting, ReportingSlurmJob, SqueueWatcher

    assert slurm.SlurmExecutor.job_class is slurm.SlurmJob  # a single job
    assert "SlurmJob(folder=" in inspect.getsource(slurm.SlurmExecutor._internal_process_submissions)  # arrays
    watcher = SqueueWatcher()
    assert {"_registered", "_finished", "_info_dict", "_last_status_check", "_num_calls"} <= set(vars(watcher))
    original = slurm.SlurmJob
    with KilledJobReporting().installed():
        assert slurm.SlurmJob is ReportingSlurmJob and slurm.SlurmExecutor.job_class is ReportingSlurmJob
    assert slurm.SlurmJob is original and slurm.SlurmExecutor.job_class is original
