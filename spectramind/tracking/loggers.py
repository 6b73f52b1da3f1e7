"""The experiment trackers of a run: the Lightning loggers of the ``logger`` config group.

``conf/logger/{csv,tensorboard,mlflow,wandb}.yaml`` each put one logger under its own name
(``logger.csv``, ``logger.mlflow``, ...), so ``logger=mlflow`` selects one and
``logger=[csv,mlflow]`` several: Hydra merges a list of a group's options into one node. The
files hold what a user chooses (experiment, project, tracking URI); :func:`build_loggers` adds
what only the run knows, the same way for every tracker:

- where: ``save_dir`` = the run directory; MLflow's store, when no tracking URI is configured,
  is a SQLite database in the sweep directory (a single run: its run directory), because MLflow 3
  refuses its old file store unless ``MLFLOW_ALLOW_FILE_STORE=true``;
- who: the run's tags ``sweep``, ``config_id``, ``seed`` and ``run_id``: MLflow tags; W&B's
  ``group`` = sweep, ``job_type`` = configuration id, ``name`` = run id and the tag ``seed=N``;
  and for every tracker the hyperparameters ``run.sweep``, ``run.config_id``, ``run.seed``,
  ``run.run_id``. In a sweep, MLflow runs nest under the sweep's parent run
  (:mod:`spectramind.tracking.mlflow_sweep`);
- what: the resolved config as flat hyperparameters (``optimizer.lr``), so that every tracker's
  run table can filter and compare runs by any config value.

Which tracker a node is, is decided by its class (a subclass of Lightning's MLFlowLogger is an
MLflow logger too), not by its name in the group. Importing this module imports no tracker:
mlflow and wandb load when a run builds their logger.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from omegaconf import DictConfig

from spectramind.errors import ConfigurationError
from spectramind.tracking.identity import RunIdentity

# tracker kind -> (Lightning logger class, module it needs, the spectramind extra that installs it)
TRACKERS = {
    "mlflow": ("pytorch_lightning.loggers.MLFlowLogger", "mlflow", "mlflow"),
    "wandb": ("pytorch_lightning.loggers.WandbLogger", "wandb", "wandb"),
    "tensorboard": ("pytorch_lightning.loggers.TensorBoardLogger", "tensorboard", "tensorboard"),
    "csv": ("pytorch_lightning.loggers.CSVLogger", None, None),
}
MLFLOW_DB = "mlflow.db"
MLFLOW_ARTIFACTS = "mlartifacts"
REACH_TIMEOUT_S = 5.0
# A server that answered is not asked again for this long, in this process: the pre-flight checks
# every planned run's config, and a joblib worker every run it starts, against the same URI.
REACHED_FOR_S = 10.0
_reached: dict[str, float] = {}  # tracking URI -> time.monotonic() of its last answer


def logger_nodes(cfg: DictConfig) -> dict[str, DictConfig]:
    """The selected loggers by name (``{}`` for ``logger: null``)."""
    node = cfg.get("logger")
    if not node:
        return {}
    if "_target_" in node:  # one logger written flat (`+logger._target_=...`), as before the group held several
        return {"logger": node}
    return {str(name): value for name, value in node.items() if value is not None}


def tracker_kind(node: DictConfig) -> str | None:
    """``mlflow``/``wandb``/``tensorboard``/``csv`` for a logger node of (a subclass of) that
    Lightning logger, None for any other logger class."""
    from hydra.utils import get_class

    return _kind_of_class(get_class(node._target_))


def _kind_of_class(cls: type) -> str | None:
    from hydra.utils import get_class

    for kind, (base, _, _) in TRACKERS.items():
        if issubclass(cls, get_class(base)):
            return kind
    return None


def mlflow_node(cfg: DictConfig) -> DictConfig | None:
    """The (first) MLflow logger of ``cfg``, or None: what the sweep's parent run follows."""
    for node in logger_nodes(cfg).values():
        if tracker_kind(node) == "mlflow":
            return node
    return None


def mlflow_location(node: DictConfig, output_dir: str | os.PathLike) -> tuple[str, str | None]:
    """(tracking URI, artifact location for a new experiment) of an MLflow logger node.

    ``output_dir`` is the sweep directory (a single run: its run directory); without a configured
    URI the store is ``<output_dir>/mlflow.db`` with artefacts in ``<output_dir>/mlartifacts``.
    """
    uri = node.get("tracking_uri")
    if uri:
        return str(uri), node.get("artifact_location")
    out = Path(output_dir).resolve()
    return f"sqlite:///{out / MLFLOW_DB}", node.get("artifact_location") or (out / MLFLOW_ARTIFACTS).as_uri()


def run_tags(identity: RunIdentity, seed: int, sweep_dir: str | os.PathLike | None) -> dict[str, str]:
    """The tags every tracker gets: sweep (its directory, empty for a single run), config_id,
    seed and run_id (the names the leaderboard uses)."""
    return {
        "sweep": str(sweep_dir) if sweep_dir is not None else "",
        "config_id": identity.config_id,
        "seed": str(seed),
        "run_id": identity.run_id,
    }


def flat_params(container: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"optimizer": {"lr": 0.001}}`` → ``{"optimizer.lr": 0.001}``; lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in container.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_params(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def check_loggers(cfg: DictConfig) -> None:
    """Before anything trains: each selected tracker is installed and, where it is a server,
    answers. Raises ConfigurationError with one line naming the logger and the value, instead of
    MLflow retrying for minutes and failing with a traceback after the run has started."""
    from importlib.util import find_spec

    for name, node in logger_nodes(cfg).items():
        kind = tracker_kind(node)
        if kind is None:
            continue
        _, module, extra = TRACKERS[kind]
        if module and find_spec(module) is None and not (kind == "tensorboard" and find_spec("tensorboardX")):
            raise ConfigurationError(f"logger.{name} needs {module}: pip install 'spectramind[{extra}]'")
        if kind == "mlflow":
            _check_mlflow_store(name, node)
        if kind == "wandb":
            _check_wandb_mode(name, node)


def _check_mlflow_store(name: str, node: DictConfig) -> None:
    uri = node.get("tracking_uri")
    if not uri:
        return  # a SQLite file in the output folder, which the run creates
    scheme = urlparse(str(uri)).scheme
    if scheme in ("", "file") and os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() not in ("true", "1"):
        raise ConfigurationError(
            f"logger.{name}.tracking_uri={uri}: MLflow 3 uses its file store only with "
            f"MLFLOW_ALLOW_FILE_STORE=true (or use sqlite:///PATH.db, the default when tracking_uri is null)"
        )
    if scheme in ("http", "https"):
        problem = unreachable(str(uri))
        if problem:
            raise ConfigurationError(
                f"logger.{name}.tracking_uri={uri}: MLflow tracking server unreachable ({problem})"
            )


def unreachable(uri: str, timeout: float = REACH_TIMEOUT_S) -> str | None:
    """Why an HTTP(S) tracking server does not answer, or None when it does (any HTTP status
    counts as an answer: a server behind a login is still there). An answer holds for
    REACHED_FOR_S: a 100-run study asked the server 200 times for its health otherwise, 100 of
    them one after the other in the pre-flight. A failure is never remembered."""
    import time
    import urllib.error
    import urllib.request

    if time.monotonic() - _reached.get(uri, -REACHED_FOR_S) < REACHED_FOR_S:
        return None
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):
            pass
    except urllib.error.HTTPError:
        pass
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return " ".join(str(reason).split()) or type(reason).__name__
    _reached[uri] = time.monotonic()
    return None


def _check_wandb_mode(name: str, node: DictConfig) -> None:
    """W&B online without credentials would stop the run at a login prompt (or fail inside
    ``wandb.init``); say so before the run starts."""
    mode = os.environ.get("WANDB_MODE", "online")
    if node.get("offline") or mode in ("offline", "disabled", "dryrun"):
        return
    import wandb

    try:  # the key of WANDB_API_KEY or `wandb login`, verified with the W&B server
        wandb.Api(timeout=REACH_TIMEOUT_S)
    except wandb.errors.UsageError:
        raise ConfigurationError(
            f"logger.{name}: W&B is online (WANDB_MODE={mode}) but not logged in: "
            f"run `wandb login`, set WANDB_API_KEY, or WANDB_MODE=offline"
        ) from None
    except wandb.errors.Error as exc:
        raise ConfigurationError(
            f"logger.{name}: W&B server unreachable or key refused "
            f"({' '.join(str(exc).split())}); or WANDB_MODE=offline"
        ) from None


def build_loggers(
    cfg: DictConfig,
    run_dir: str | os.PathLike,
    identity: RunIdentity,
    sweep_dir: str | os.PathLike | None = None,
) -> list[Any]:
    """The run's Lightning loggers, in the order of ``cfg.logger``, placed and tagged for this run
    (see the module docstring); ``[]`` when no logger is selected."""
    from hydra.utils import instantiate

    tags = run_tags(identity, cfg.seed, sweep_dir)
    loggers = []
    for node in logger_nodes(cfg).values():
        kind = tracker_kind(node)
        extra: dict[str, Any] = {"save_dir": str(run_dir)}
        if kind == "mlflow":
            extra.update(_mlflow_arguments(node, tags, run_dir, sweep_dir))
        elif kind == "wandb":
            # W&B's tags are short labels (64 characters): the ids go where W&B groups runs by them.
            extra.update(
                name=identity.run_id,
                job_type=identity.config_id,
                group=tags["sweep"] or None,
                tags=[f"seed={tags['seed']}"],
            )
        loggers.append(instantiate(node, **extra))
    return loggers


def _mlflow_arguments(
    node: DictConfig, tags: dict[str, str], run_dir: str | os.PathLike, sweep_dir: str | os.PathLike | None
) -> dict[str, Any]:
    quiet_mlflow()
    tracking_uri, artifact_location = mlflow_location(node, sweep_dir if sweep_dir is not None else run_dir)
    arguments: dict[str, Any] = {
        "tracking_uri": tracking_uri,
        "artifact_location": artifact_location,
        "run_name": tags["run_id"],
        "tags": dict(tags),
    }
    if sweep_dir is not None:
        from hydra.utils import get_class

        from spectramind.tracking.mlflow_logger import MlflowRunLogger
        from spectramind.tracking.mlflow_parent import MLFLOW_PARENT_TAG, sweep_parent_run

        parent = sweep_parent_run(sweep_dir, tracking_uri, str(node.experiment_name), artifact_location)
        arguments["tags"][MLFLOW_PARENT_TAG] = parent["run_id"]
        if issubclass(get_class(node._target_), MlflowRunLogger):
            arguments["experiment_id"] = parent["experiment_id"]  # the parent's experiment: no lookup per run
    return arguments


def quiet_mlflow() -> None:
    """MLflow's SQLite store announces its schema migrations at INFO on every new database, and
    Lightning warns "Experiment ... not found. Creating it." on every new store: expected here.
    Against a tracking server, MLflow prints "View run ... at: URL" and "View experiment at: URL"
    each time a run is marked finished, which Lightning does after every stage (fit, test,
    predict): six lines per run on stdout, each time after one more request for the run's name.
    That is off unless MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT is set (``false`` brings it back)."""
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    for name in ("mlflow.store.db.utils", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("pytorch_lightning.loggers.mlflow").setLevel(logging.ERROR)


def log_run_config(loggers: Iterable[Any], container: Mapping[str, Any], tags: Mapping[str, str]) -> None:
    """The resolved config, flat, plus the run's tags as ``run.*``, as every logger's hyperparameters."""
    params = {**flat_params(container), **{f"run.{key}": value for key, value in tags.items()}}
    for logger in loggers:
        logger.log_hyperparams(params)


@contextmanager
def ended_loggers(loggers: Iterable[Any]) -> Iterator[None]:
    """The block is the run's life in its trackers: when it ends, each tracker's run is ended with
    the run's outcome. An MLflow run (:class:`~spectramind.tracking.mlflow_logger.MlflowRunLogger`)
    is marked FINISHED once, after test and predict (Lightning's own logger marks it after every
    stage), FAILED if the block raises, KILLED on an interrupt; the W&B run is closed (Lightning
    leaves it open until the process exits), so that the next run of a sweep in the same process
    gets its own W&B run and the offline files are complete."""
    loggers = list(loggers)
    try:
        yield
    except BaseException as exc:
        _end_loggers(loggers, "FAILED" if isinstance(exc, Exception) else "KILLED")
        raise
    _end_loggers(loggers, "FINISHED")


def _end_loggers(loggers: list[Any], status: str) -> None:
    """End each tracker's run; a tracker that cannot (its server gone) is one warning, never the
    run's failure: the run's outputs and record are already written, or its own error is on its way."""
    from spectramind.tracking.mlflow_logger import MlflowRunLogger

    for logger in loggers:
        try:
            if isinstance(logger, MlflowRunLogger):
                logger.end(status)
            elif _kind_of_class(type(logger)) == "wandb":
                import wandb

                wandb.finish(exit_code=0 if status == "FINISHED" else 1)
        except Exception as exc:  # noqa: BLE001 - any tracker's error, reported and left
            logging.getLogger(__name__).warning(
                "could not mark the %s run %s: %s", type(logger).__name__, status, " ".join(str(exc).split())
            )
