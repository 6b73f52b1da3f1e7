"""The CPU threads of a run: every library's thread pools sized to the run's share of the cores.

Why: runs side by side on one machine (``--jobs N``) or on a shared Slurm node each get a share of
its cores. torch, numpy's BLAS and OpenMP (batman, torch's own) each start a pool of one thread per
core by default, so two runs on two cores would run four or more busy threads that evict each
other's caches. OpenBLAS, MKL and OpenMP read their size from the environment once, when the
library loads: the share must be in the environment of the worker process before its first numeric
import. The sweeper therefore puts :func:`thread_environment` into its own environment before it
starts any worker (joblib's workers, Slurm jobs and a local Ray instance inherit it); the training
then sets torch's intra- and inter-op pools (:func:`use_threads`) and records what every pool in
the process really uses (:func:`thread_pools`).
"""

from __future__ import annotations

import os
from typing import Any

# The variables BLAS and OpenMP runtimes read at load time (the ones joblib's loky sets for its workers).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def thread_environment(threads: int) -> dict[str, str]:
    """The environment that sizes every BLAS/OpenMP pool of a process started with it to ``threads``."""
    return dict.fromkeys(THREAD_VARIABLES, str(int(threads)))


def use_threads(threads: int) -> None:
    """Size torch's pools to ``threads`` in this process, and any BLAS/OpenMP pool already loaded
    (a process that imported numpy before its share was known). torch's inter-op pool can be sized
    only before its first parallel work: left as it is after that."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already started (a second run in the same process): keeps its first size
        pass
    threadpool_limits(limits=threads)


def thread_pools() -> dict[str, Any]:
    """What this process's pools use now: torch's intra- and inter-op threads and each loaded
    BLAS/OpenMP library's (``threadpoolctl``), as recorded in ``run.json``."""
    import torch
    from threadpoolctl import threadpool_info

    return {
        "torch_intra_op": torch.get_num_threads(),
        "torch_inter_op": torch.get_num_interop_threads(),
        "libraries": {
            f"{pool['internal_api']}:{os.path.basename(pool['filepath'])}": pool["num_threads"]
            for pool in threadpool_info()
        },
    }
