"""The MLflow logger of ``logger=mlflow``: Lightning's MLFlowLogger with a run's requests to the
tracking server cut from ~14 to 3 (create, log, end), the same params, metrics and tags on the server.

Lightning's logger sends one request per logging call (a training and a validation epoch end are
two), asks the server for the run and marks it finished after every stage (fit, test and predict:
six requests for one run) and looks its experiment up by name. Against a shared server in a study
of many short runs that cost is the tracker's whole price (docs/performance.md item 11). Here:

- params and metrics are buffered and sent in one ``log_batch`` when ``flush_every_s`` has passed
  since the last and when the run ends (each metric keeps its own step and the time it was
  logged): the config goes with the first metrics, a long training still shows its curves live,
  ``flush_every_s`` behind at most, and a short run sends everything in one request;
- the run is marked ``FINISHED`` once, by :meth:`MlflowRunLogger.end` when the run has written its
  outputs (:func:`spectramind.tracking.loggers.ended_loggers`; at the latest when the process
  exits, where the logger is used without it), and ``FAILED`` (``KILLED`` on an interrupt) as soon
  as a stage or the run fails;
- ``experiment_id``, when the caller knows it (a sweep's parent run names it), spares the lookup.

Nothing else differs: it is an MLFlowLogger for Lightning, Hydra configs and
:func:`spectramind.tracking.loggers.tracker_kind`. Importing it imports no MLflow.
"""

from __future__ import annotations

import atexit
import re
import time
from collections.abc import Mapping
from typing import Any

from lightning_fabric.utilities.rank_zero import rank_zero_only
from pytorch_lightning.loggers import MLFlowLogger

FLUSH_EVERY_S = 10.0
# MLflow's log_batch limits: entries per request, params among them, characters of a param value
MAX_ENTRIES = 1000
MAX_PARAMS = 100
MAX_PARAM_CHARS = 6000


class MlflowRunLogger(MLFlowLogger):
    """Lightning's MLFlowLogger, buffering metrics and marking the run ended once (see the module)."""

    def __init__(
        self, *args: Any, experiment_id: str | None = None, flush_every_s: float = FLUSH_EVERY_S, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._experiment_id = experiment_id
        self.flush_every_s = flush_every_s
        self._pending: list[Any] = []  # mlflow.entities.Metric not yet sent
        # param name -> value not yet sent (with the first metrics); one entry per name, as MLflow
        # refuses a batch naming a param twice
        self._pending_params: dict[str, str] = {}
        self._last_flush = time.monotonic()
        self._ended = False

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Any) -> None:
        """Buffered like the metrics, and sent with them: a run's config and its first metrics in
        one request. Values are cut to MLflow's 6000 characters (Lightning's logger cuts at 250)."""
        from lightning_fabric.utilities.logger import _convert_params, _flatten_dict

        _ = self.experiment  # the run exists on the server from here on, RUNNING, with its tags
        flat = _flatten_dict(_convert_params(params))
        self._pending_params.update((key, str(value)[:MAX_PARAM_CHARS]) for key, value in flat.items())

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        from mlflow.entities import Metric

        timestamp_ms = int(time.time() * 1000)
        for key, value in metrics.items():
            if isinstance(value, str):
                continue  # MLflow keeps numbers only (Lightning's logger discards these too)
            name = re.sub(
                r"[^a-zA-Z0-9_/. -]+", "", f"{self._prefix}{self.LOGGER_JOIN_CHAR}{key}" if self._prefix else key
            )
            self._pending.append(Metric(key=name, value=float(value), timestamp=timestamp_ms, step=step or 0))
        if len(self._pending) >= MAX_ENTRIES:
            self.flush()
        self._flush_if_due()

    @rank_zero_only
    def flush(self) -> None:
        """Send the buffered params and metrics, in requests within MLflow's batch limits."""
        from mlflow.entities import Param

        while self._pending_params or self._pending:
            names = list(self._pending_params)[:MAX_PARAMS]
            params = [Param(key=name, value=self._pending_params.pop(name)) for name in names]
            room = MAX_ENTRIES - len(params)
            metrics, self._pending = self._pending[:room], self._pending[room:]
            self.experiment.log_batch(run_id=self.run_id, metrics=metrics, params=params, **self._log_batch_kwargs)
        self._last_flush = time.monotonic()

    @rank_zero_only
    def finalize(self, status: str = "success") -> None:
        """A stage ended: its checkpoints are logged (with ``log_model``) and its metrics sent if
        they are due; the run is marked ended here only when the stage failed, since a successful
        fit is followed by the run's test and predict stages, and :meth:`end` sends the rest."""
        if not self._started():
            return
        self._flush_if_due()
        if self._checkpoint_callback:
            self._scan_and_log_checkpoints(self._checkpoint_callback)
        if status == "failed":  # what Lightning says of a stage that raised
            self.end("FAILED")
        elif not self._ended:
            atexit.register(self.end)  # used outside spectramind's training, where nothing calls end()

    @rank_zero_only
    def end(self, status: str = "FINISHED") -> None:
        """Mark the run ``status`` on the server, once; what is still buffered is sent first."""
        if not self._started() or self._ended:
            return
        self.flush()
        self.experiment.set_terminated(self.run_id, status)
        self._ended = True
        atexit.unregister(self.end)

    def _flush_if_due(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def _started(self) -> bool:
        """Whether there is a run on the server, or something buffered for it."""
        return self._initialized or bool(self._pending or self._pending_params)
