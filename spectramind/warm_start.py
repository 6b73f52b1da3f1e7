"""Warm start: a run that starts from another run's best weights (``init_from=RUN_DIR_OR_CKPT``).

Why: a promising configuration found by a short study can be trained further, or fine-tuned on
other data, without paying again for the epochs that found it. Only the weights (and the model's
buffers) come across; the optimizer, the learning-rate state and the epoch count start fresh,
so the run is a new training that happens to begin where another ended. ``init_from`` is a task
override and a config key, so it changes the run's id and config hash: two runs from different
starting points are never taken for one.

The checkpoint is checked against the model before anything trains (the config checks run it in
a sweep's pre-flight and before a single training's record is written): another architecture,
a missing file or an unreadable one is one line naming the path and what does not match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from spectramind.errors import ConfigurationError
from spectramind.sweep_layout import BEST_CHECKPOINT

# How many mismatching parameter names a refusal quotes.
_QUOTED = 2


def warm_start_checkpoint(init_from: str | Path) -> Path:
    """The checkpoint ``init_from`` names: a ``.ckpt`` file, or a run folder's best checkpoint."""
    path = Path(init_from).expanduser()
    checkpoint = path / BEST_CHECKPOINT if path.is_dir() else path
    if not checkpoint.is_file():
        raise ConfigurationError(
            f"init_from={init_from}: no checkpoint there (a run folder with {BEST_CHECKPOINT} or a .ckpt file)"
        )
    return checkpoint


def warm_start_weights(init_from: str | Path, module: torch.nn.Module) -> dict[str, Any]:
    """The weights of ``init_from``'s checkpoint, refused in one line unless they fit ``module``
    exactly (the same parameter and buffer names, each of the same shape)."""
    checkpoint = warm_start_checkpoint(init_from)
    try:
        weights = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as exc:  # truncated, not a checkpoint, not a Lightning one
        raise ConfigurationError(f"init_from={init_from}: cannot read {checkpoint} ({type(exc).__name__})") from None
    mismatch = architecture_mismatch(weights, module.state_dict())
    if mismatch:
        raise ConfigurationError(f"init_from={init_from}: its checkpoint holds another architecture ({mismatch})")
    return weights


def architecture_mismatch(weights: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """What keeps ``weights`` from loading into a module whose state is ``expected``, in words; None
    when they fit."""
    missing = [name for name in expected if name not in weights]
    unexpected = [name for name in weights if name not in expected]
    reshaped = [
        f"{name} {list(weights[name].shape)} vs {list(expected[name].shape)}"
        for name in expected
        if name in weights and tuple(weights[name].shape) != tuple(expected[name].shape)
    ]
    parts = [
        f"{len(names)} {what}, e.g. {', '.join(names[:_QUOTED])}"
        for what, names in (("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped))
        if names
    ]
    return "; ".join(parts) or None


def load_warm_start(init_from: str | Path, module: torch.nn.Module) -> Path:
    """Load ``init_from``'s weights into ``module``; the checkpoint loaded (for the run's record)."""
    module.load_state_dict(warm_start_weights(init_from, module))
    return warm_start_checkpoint(init_from)
