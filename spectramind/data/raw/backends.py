"""Where planets are calibrated side by side: joblib's processes on this machine (loky) or the
processes of a Ray cluster, through the same joblib interface.
"""

from __future__ import annotations

import os

from spectramind.errors import ConfigurationError

BACKENDS = ("loky", "ray")


def ray_module():
    """The ray module, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ConfigurationError("--backend ray needs Ray: pip install 'spectramind[ray]'") from None
    return ray


def parallel_results(tasks: list, workers: int, backend: str):
    """Run the tasks (delayed calls) with joblib: loky processes here, or Ray's cluster."""
    import joblib

    if backend == "ray":
        ray = ray_module()
        from ray.util.joblib import register_ray

        register_ray()
        if not ray.is_initialized():
            ray.init(address=os.environ.get("RAY_ADDRESS"), log_to_driver=False, include_dashboard=False)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if workers > cpus:
            raise ConfigurationError(f"--workers {workers} exceeds the Ray cluster's {cpus} CPUs")
    # Ray's joblib backend returns results only as a list, at the end; loky as each planet ends.
    # Either way each planet's output is committed by the worker the moment it is done.
    return_as = "list" if backend == "ray" else "generator_unordered"
    with joblib.parallel_config(backend=backend, n_jobs=workers):
        yield from joblib.Parallel(return_as=return_as)(tasks)
