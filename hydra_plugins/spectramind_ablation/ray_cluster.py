"""Hydra's Ray launcher for a cluster whose nodes may be lost mid-study (``hydra/launcher=ray_cluster``).

hydra-ray-launcher 1.2 collects a batch with ``[ray.get(task) for task in tasks]``: when a node
dies, the first ``ray.get`` of one of its tasks raises and the launch is abandoned while the other
nodes' tasks still run. The sweep's runner would take that for a lost batch and relaunch the runs
still ``running``, which on the surviving nodes are alive: the same run twice at once in one run
directory. This launcher waits for every task of the batch and returns a task that Ray lost (its
node or worker process died: Ray raises ``NodeDiedError``, ``WorkerCrashedError``, ...) as a failed
job carrying Ray's error, so only the lost node's runs fail, each with the reason, and a resume
continues them from their last checkpoint. The preset turns Ray's own retries off
(``remote.max_retries: 0``): a retry would rerun the job within the same ``ray.get``, invisibly to
the sweep's records, and, should the lost node's process still live (a network partition), next to it.

It reuses hydra-ray-launcher's job submission (``_launcher_util.launch_job_on_ray``, ``start_ray``:
private, checked by tests/ablation_ray/test_ray_cluster.py), imported when a batch launches: Hydra
imports every plugin module at any app's start, with or without the ``ray`` extra.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

# hydra-ray-launcher's default for the single-machine cluster it starts without an address (Ray's
# own would claim 30 % of the memory); hydra-ray-launcher also sets it when joining a cluster, which
# Ray 2.x refuses ("object_store_memory must not be provided"): ``init.address`` failed there.
OBJECT_STORE_BYTES = 78643200


class ClusterRayLauncher(Launcher):
    def __init__(self, ray: DictConfig) -> None:
        self.ray_cfg = ray
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        """One Ray task per job, as hydra-ray-launcher submits them; every task waited for."""
        import ray
        from hydra.core.singleton import Singleton
        from hydra.core.utils import configure_log, setup_globals

        from hydra_plugins.hydra_ray_launcher._launcher_util import launch_job_on_ray, start_ray

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        if not self.ray_cfg.init.get("address"):  # Ray refuses the setting when joining a cluster
            with open_dict(self.ray_cfg):
                self.ray_cfg.init.setdefault("object_store_memory", OBJECT_STORE_BYTES)
        start_ray(self.ray_cfg.init)
        submitted = []
        for number, overrides in enumerate(job_overrides, start=initial_job_idx):
            sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = f"job_id_for_{number}"
                sweep_config.hydra.job.num = number
            task = launch_job_on_ray(
                self.hydra_context, self.ray_cfg.remote, sweep_config, self.task_function, Singleton.get_state()
            )
            submitted.append((sweep_config, overrides, task))
        return [_job_return(ray, *job) for job in submitted]


def _job_return(ray: Any, sweep_config: DictConfig, overrides: Sequence[str], task: Any) -> JobReturn:
    """The job's own return (a task function's error is in it: Hydra's ``run_job`` catches it), or,
    for a task Ray lost, a failed return with Ray's error and the job's directory, as Hydra's
    ``run_job`` names it (``hydra.sweep.dir``/``hydra.sweep.subdir``)."""
    try:
        return ray.get(task)
    except ray.exceptions.RayError as exc:
        output_dir = os.path.join(
            str(OmegaConf.select(sweep_config, "hydra.sweep.dir")),
            str(OmegaConf.select(sweep_config, "hydra.sweep.subdir")),
        )
        with open_dict(sweep_config):
            sweep_config.hydra.runtime.output_dir = output_dir
        return JobReturn(overrides=list(overrides), hydra_cfg=sweep_config, status=JobStatus.FAILED, _return_value=exc)
