"""What a launcher's worker process does before its first run: import the training.

The ablation sweeper (``hydra.sweeper.warm_up``) runs :func:`warm_up` once in each joblib worker
while it composes and checks the study's configs, so the seconds a fresh process spends importing
torch and Lightning (docs/performance.md) overlap the pre-flight instead of delaying the first
runs. This module stays light (the sweeper imports it in the main process to find the function);
what it imports is :mod:`spectramind.training` itself, so the list can never drift from what a
training needs.
"""

from __future__ import annotations

import importlib
import os

from spectramind.fast_exit import skip_final_collection


def warm_up() -> int:
    """Import the training's code; return the worker's process id (recorded in the sweep's events)."""
    importlib.import_module("spectramind.training")
    skip_final_collection()
    return os.getpid()
