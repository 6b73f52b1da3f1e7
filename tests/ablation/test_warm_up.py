"""The joblib launcher's workers start, and run the sweeper's ``warm_up`` function, while the
pre-flight runs (hydra_plugins/spectramind_ablation/warm_up.py). Called directly here with Hydra's
own launcher object; test_launchers.py checks in a real sweep that the runs land in the warmed
processes."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from sweep_helpers import wait_for

from hydra_plugins.spectramind_ablation.warm_up import start_warm_up


def joblib_launcher(n_jobs: int):
    """Hydra's joblib launcher as ``hydra/launcher=joblib`` builds it (its config's defaults)."""
    from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
    from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

    options = OmegaConf.to_container(OmegaConf.structured(JobLibLauncherConf(n_jobs=n_jobs)))
    del options["_target_"]
    return JoblibLauncher(**options)


def own_pid() -> int:
    return os.getpid()


def record_pid_then_sleep(folder: Path) -> int:
    (folder / f"{os.getpid()}.pid").write_text("")
    time.sleep(120)
    return os.getpid()


def fail_to_import() -> None:
    raise ImportError("no module named 'torchh'")


def alive(pid: int) -> bool:
    """Running (a killed child that is not yet reaped is a zombie: not alive)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("n_runs, n_workers", [(8, 2), (1, 1)])
def test_each_worker_runs_the_warm_up_once(n_runs, n_workers):
    warm_up = start_warm_up(joblib_launcher(n_jobs=2), own_pid, n_runs=n_runs)
    record = warm_up.join()
    assert record["workers"] == n_workers
    assert len(set(record["pids"])) == n_workers and os.getpid() not in record["pids"]
    assert all(alive(pid) for pid in record["pids"])  # kept for the launch
    warm_up.cancel()  # after join: nothing to stop
    assert all(alive(pid) for pid in record["pids"])


def test_cancelling_kills_the_workers(tmp_path):
    warm_up = start_warm_up(joblib_launcher(n_jobs=2), functools.partial(record_pid_then_sleep, tmp_path), n_runs=2)
    wait_for(lambda: len(list(tmp_path.glob("*.pid"))) == 2, timeout=60, what="both workers to start")
    pids = [int(path.stem) for path in tmp_path.glob("*.pid")]
    warm_up.cancel()
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=30, what=f"workers {pids} to be killed")


def test_a_failed_warm_up_is_reported_not_raised():
    record = start_warm_up(joblib_launcher(n_jobs=2), fail_to_import, n_runs=4).join()
    assert record["error"] == "ImportError: no module named 'torchh'"
    assert "pids" not in record


@pytest.mark.parametrize(
    "launcher, n_runs",
    [
        pytest.param("basic", 8, id="basic launcher: jobs run in the sweep's process"),
        pytest.param(1, 8, id="joblib n_jobs=1: joblib runs the jobs in this process"),
        pytest.param(2, 0, id="nothing to launch"),
    ],
)
def test_no_warm_up_without_worker_processes(launcher, n_runs):
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher

    launcher = BasicLauncher() if launcher == "basic" else joblib_launcher(n_jobs=launcher)
    assert start_warm_up(launcher, own_pid, n_runs=n_runs) is None
