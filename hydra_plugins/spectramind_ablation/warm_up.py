"""Start the joblib launcher's worker processes while the sweeper's pre-flight runs.

With Hydra's joblib launcher every worker is a fresh Python process that imports the training
stack (4-5 CPU-s for torch and Lightning on the benchmark machine) when its first job reaches it:
after the pre-flight, while the sweep's own process waits and, on a 2-core machine, one core had
nothing to do during the pre-flight. :func:`start_warm_up` asks joblib for the launcher's pool
early, with the launcher's own ``Parallel`` arguments, and runs the sweeper's ``warm_up``
function once in each worker; when the launcher's ``Parallel`` then asks for a pool with the same
arguments, joblib reuses that one (``tests/ablation/test_launchers.py`` checks, in a real sweep,
that the runs land in the warmed processes).

Other launchers are left alone: the basic launcher runs jobs in the sweep's process, submitit
and Ray start theirs elsewhere and later.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from spectramind.errors import first_line

log = logging.getLogger(__name__)


class WorkerWarmUp:
    """The warm-up tasks in flight: :meth:`join` before launching, :meth:`cancel` otherwise."""

    def __init__(self, outputs: Iterator[Any], n_workers: int) -> None:
        self._outputs: Iterator[Any] | None = outputs
        self._n_workers = n_workers
        self._started = time.monotonic()

    def join(self) -> dict[str, Any]:
        """Wait for every worker to finish warming; what happened, for the sweep's events. A
        failed warm-up is only logged: the launch then starts its workers as it would have."""
        outputs, self._outputs = self._outputs, None
        record: dict[str, Any] = {"workers": self._n_workers}
        try:
            record["pids"] = sorted(outputs)
        except Exception as exc:
            message = first_line(exc)
            log.warning(f"[ablation] warming the joblib workers failed: {type(exc).__name__}: {message}")
            record["error"] = f"{type(exc).__name__}: {message}"
        record["seconds"] = round(time.monotonic() - self._started, 3)
        return record

    def cancel(self) -> None:
        """Stop warming (the sweep ends before launching): joblib kills the workers, so the
        process does not wait at exit for imports nobody needs. No-op after :meth:`join`."""
        outputs, self._outputs = self._outputs, None
        if outputs is not None:
            with warnings.catch_warnings():  # joblib warns that the tasks were cancelled: we meant it
                warnings.simplefilter("ignore")
                outputs.close()


def start_warm_up(launcher: Any, function: Callable[[], Any], n_runs: int) -> WorkerWarmUp | None:
    """Run ``function`` once in each worker the launcher will use for ``n_runs`` runs, without
    waiting; None when the launcher is not Hydra's joblib launcher, would run the jobs in this
    process, or has nothing to run."""
    if not type(launcher).__module__.startswith("hydra_plugins.hydra_joblib_launcher") or n_runs < 1:
        return None
    # The joblib launcher's private module (hydra-joblib-launcher 1.2.0): the conversion its
    # launch() applies to its options before its Parallel, so this pool is the one it reuses.
    # The launcher's `joblib` attribute (its options) is public. test_hydra_private_api.py fails
    # if either changes.
    from joblib import Parallel, delayed, effective_n_jobs, parallel_config

    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    options = dict(launcher.joblib)
    options["backend"] = "loky"  # what the launcher's launch() sets, and converts, before its Parallel
    process_joblib_cfg(options)
    with parallel_config(backend="loky"):
        n_jobs = effective_n_jobs(options.get("n_jobs", -1))
    if n_jobs < 2:  # one job at a time: joblib runs the jobs in this process
        return None
    # The pool always has n_jobs workers; with fewer runs than that, only as many are warmed (a run
    # may then start in one that was not).
    n_workers = min(n_jobs, n_runs)
    options["return_as"] = "generator_unordered"  # returns once the tasks are dispatched
    outputs = Parallel(**options)(delayed(function)() for _ in range(n_workers))
    return WorkerWarmUp(outputs, n_workers)
