"""Where in a cluster this process runs, as the records say it (run.json's ``node``, a calibrated
planet's record): the Ray node inside a Ray worker, the Slurm job (array task) and node inside a
Slurm job, so that a record names what ``ray list nodes`` or ``squeue``/``scancel`` name.

A module of its own because the run recorder (``tracking/``) and the calibration (``data/raw/``)
both record it and neither may import the other. Ray is asked only inside a Ray worker, which a
process can be only once something imported ``ray``: everywhere else nothing is imported (ray
takes seconds to import, and is absent without the ``ray`` extra) and the answer is None.
"""

from __future__ import annotations

import os
import sys


def cluster_node() -> dict[str, str] | None:
    """``{"ray_node_id": ...}`` in a Ray worker (a task or actor of a Ray cluster), ``{"slurm_job_id":
    ..., "slurm_node": ...}`` in a Slurm job (``<array job>_<task>`` for an array task, as ``squeue``
    and ``scancel`` take it), both where both hold, else None."""
    node = {**_slurm_job(), **_ray_node()}
    return node or None


def _slurm_job() -> dict[str, str]:
    if "SLURM_JOB_ID" not in os.environ:
        return {}
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    job = f"{array}_{task}" if array and task else os.environ["SLURM_JOB_ID"]
    return {"slurm_job_id": job, "slurm_node": os.environ.get("SLURMD_NODENAME", "")}


def _ray_node() -> dict[str, str]:
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return {}
    context = ray.get_runtime_context()
    if context.worker.mode != ray.WORKER_MODE:  # the driver: where the records go, not a node of work
        return {}
    return {"ray_node_id": context.get_node_id()}
