"""Hydra callback that builds the leaderboard when a multirun ends.

Enable it in a config (``conf/hydra/...``)::

    hydra:
      callbacks:
        leaderboard:
          _target_: spectramind.leaderboard.callback.LeaderboardCallback
          primary_metric: adc2025
          top_n: 3

Hydra imports this module in the main process at the start of *every* run, so the import must
stay cheap: pandas, plotly, scipy and torch are imported only inside ``on_multirun_end``. A
leaderboard is a report, never a reason to fail a sweep whose runs all finished: any error is
logged as one line and swallowed (rebuild later with ``spectramind ablate leaderboard DIR``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


class LeaderboardCallback(Callback):
    """Calls `build_leaderboard` on the sweep directory at the end of a multirun."""

    def __init__(
        self,
        primary_metric: str = "adc2025",
        higher_is_better: bool | None = None,
        top_n: int = 3,
        enabled: bool = True,
    ) -> None:
        self.primary_metric = primary_metric
        self.higher_is_better = higher_is_better
        self.top_n = top_n
        self.enabled = enabled

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        if not self.enabled:
            return
        sweep_dir = None
        try:  # reading the config too: a config without hydra.sweep.dir must not raise into Hydra
            if OmegaConf.select(config, "hydra.sweeper.dry_run", default=False):
                return  # nothing was launched, nothing to collate
            sweep_dir = config.hydra.sweep.dir
            from spectramind.leaderboard.build import build_leaderboard

            paths = build_leaderboard(
                sweep_dir, primary_metric=self.primary_metric, higher_is_better=self.higher_is_better, top_n=self.top_n
            )
            print(f"Leaderboard: {Path(paths['markdown']).resolve()}")
        except Exception as error:  # noqa: BLE001 - must never raise into Hydra (see module docstring)
            message = " ".join(str(error).split()) or type(error).__name__
            log.error("leaderboard not built for %s: %s: %s", sweep_dir, type(error).__name__, message)
