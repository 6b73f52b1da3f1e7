"""A Hydra callback that proves ``on_multirun_end`` ran, passed with ``+hydra.callbacks.x._target_``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class MarkMultirunEnd(Callback):
    """Write ``<sweep_dir>/multirun_end.json`` with the sweep's statuses as seen at that moment."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        manifest = json.loads((sweep_dir / "sweep.json").read_text())
        statuses = {run["run_id"]: run["status"] for run in manifest["runs"]}
        (sweep_dir / "multirun_end.json").write_text(json.dumps({"statuses": statuses}))
