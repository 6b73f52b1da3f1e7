"""The sweep's exit status for any Hydra app: a callback that exits 1 when runs failed.

The sweeper puts :class:`UnsuccessfulRunsExit` first in Hydra's callback list, and Hydra calls
``on_multirun_end`` in reverse order, so it runs after the leaderboard and every other callback.
``SystemExit`` is not an ``Exception``: Hydra's callback runner and error reporting let it through.
"""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback


class UnsuccessfulRunsExit(Callback):
    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        from spectramind.ablation.outcome import unreported_failure

        message = unreported_failure()
        if message is not None:
            raise SystemExit(message)
