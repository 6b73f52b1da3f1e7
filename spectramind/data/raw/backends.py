"""Where planets are calibrated side by side: joblib's processes on this machine (loky), or one
Ray task per planet on a Ray cluster.

Ray gets tasks of its own rather than joblib's Ray backend: that backend runs the planets in a
pool of actors, and when a node is lost the whole ``joblib.Parallel`` call raises
(``ActorUnavailableError``) and stops the pool, losing every planet in flight on every node. A
task lost with its node or worker process here is one planet handed to ``if_lost``, the others
go on. Ray's own retries are off (``max_retries=0``): the caller decides what a lost planet
becomes (the calibration takes it over under its claim, so it is never calibrated twice at once).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from spectramind.errors import ConfigurationError, first_line

BACKENDS = ("loky", "ray")


def ray_module():
    """The ray module, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ConfigurationError("--backend ray needs Ray: pip install 'spectramind[ray]'") from None
    return ray


def parallel_results(
    function: Callable[..., dict],
    arguments: list[tuple],
    workers: int,
    backend: str,
    if_lost: Callable[[tuple, str], dict],
) -> Iterator[dict]:
    """``function(*args)`` for each of ``arguments``, ``workers`` at a time, results as each ends:
    loky processes here, or Ray's cluster, where a task Ray lost yields ``if_lost(args, error)``."""
    if backend == "ray":
        yield from _ray_results(function, arguments, workers, if_lost)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=workers, return_as="generator_unordered")(delayed(function)(*a) for a in arguments)


def _ray_results(
    function: Callable[..., dict], arguments: list[tuple], workers: int, if_lost: Callable[[tuple, str], Any]
) -> Iterator[dict]:
    ray = ray_module()
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), log_to_driver=False, include_dashboard=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if workers > cpus:
        raise ConfigurationError(f"--workers {workers} exceeds the Ray cluster's {cpus} CPUs")
    task = ray.remote(num_cpus=1, max_retries=0)(function)
    queue, running = list(arguments), {}
    while queue or running:
        while queue and len(running) < workers:
            args = queue.pop(0)
            running[task.remote(*args)] = args
        (done,), _ = ray.wait(list(running), num_returns=1)
        args = running.pop(done)
        try:
            yield ray.get(done)
        except ray.exceptions.RayTaskError:  # the function's own error: raised, as under loky
            raise
        except ray.exceptions.RayError as exc:  # its node or worker process died
            yield if_lost(args, f"{type(exc).__name__}: {first_line(exc)}")
