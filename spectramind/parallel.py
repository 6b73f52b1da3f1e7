"""Independent items (planets) shared out between the cores this process may use.

Why one helper: the light-curve simulator and the features both do a fixed amount of independent
work per planet, once per data set, and both are on the path of the first run of a study. Each
share runs in one of joblib's processes (loky), so the result is the one a single process gives,
in the same order; a small job stays in this process (a worker's start-up costs more than it saves).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def available_cores() -> int:
    """The cores this process may use: the sweeper's share when jobs run side by side
    (``SPECTRAMIND_NUM_THREADS``), else the ones the OS gives it."""
    return int(os.environ.get("SPECTRAMIND_NUM_THREADS") or len(os.sched_getaffinity(0)))


def map_shares(function: Callable[..., list], items: Sequence, *args: Any, min_items_per_worker: int = 50) -> list:
    """``function(share, *args)`` over consecutive shares of ``items`` (one per worker), the
    results concatenated in the items' order; ``function`` returns a list per share."""
    workers = max(1, min(available_cores(), len(items) // min_items_per_worker))
    if workers == 1:
        return list(function(list(items), *args))
    from joblib import Parallel, delayed

    shares = [list(share) for share in np.array_split(np.array(items, dtype=object), workers)]
    parts = Parallel(n_jobs=workers, backend="loky")(delayed(function)(share, *args) for share in shares)
    return [result for part in parts for result in part]
