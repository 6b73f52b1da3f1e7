"""The random-number state a checkpoint carries, so that a resumed run continues bit-identically.

Lightning's checkpoints restore the weights, the optimizer and the loop counters, but not the
global random generators. A run interrupted after epoch ``k`` and resumed from ``last.ckpt``
then draws the next epochs' shuffling from the freshly seeded generators instead of from where
the interrupted run had left them, and ends with different metrics than an uninterrupted run.
``RandomStateCallback`` stores the torch, NumPy and Python generator states in the checkpoint
(as tensors, lists and ints: it still loads with ``weights_only=True``) and restores them on
resume, before the next epoch draws from them.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch


class RandomStateCallback(pl.Callback):
    """Saves and restores the global torch, NumPy and Python random states with each checkpoint."""

    def state_dict(self) -> dict[str, Any]:
        version, python_state, gauss = random.getstate()
        name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
        return {
            "torch": torch.get_rng_state(),
            "python": [version, list(python_state), gauss],
            "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached_gaussian)],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["torch"])
        version, python_state, gauss = state_dict["python"]
        random.setstate((version, tuple(python_state), gauss))
        name, keys, position, has_gauss, cached_gaussian = state_dict["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached_gaussian))
