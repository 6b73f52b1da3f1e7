"""Checks of a training config that composing alone cannot do, run before anything trains.

Hydra's composition catches unknown keys and missing config-group options, but not a value that
only its consumer rejects (``data.val_fraction=0.9``, ``optimizer.lr=-1``, ``model.backbone.layers=abc``,
``+trainer.no_such_argument=1``). The ablation sweeper calls :func:`check_training_config` on every
planned config (``hydra.sweeper.validate``) so such a run aborts the sweep before anything trains,
instead of failing an hour into it; a single training (``spectramind.training.run_training``)
runs them first too. The checks build the cheap objects only: the data module (which validates its
arguments without reading data), the loss, the model and its optimizer; the trainer's arguments
are checked by name and by the types Lightning declares for them (plus the ranges Lightning leaves
open: ``max_epochs=0`` would "complete" a run that never trained), the optimizer's arguments by the
types torch declares for them, the seed and thread count by type, callbacks and loggers by import,
plus what Lightning would only reject once training ran
(:func:`check_callbacks`) and whether each tracker is installed and its server answers
(:func:`spectramind.tracking.loggers.check_loggers`). They import Lightning and the model code, so
they live beside the training, not in the Hydra-free ``spectramind.ablation``.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from omegaconf import DictConfig, OmegaConf

from spectramind.errors import ConfigurationError, first_line


def check_training_config(cfg: DictConfig) -> None:
    """Raise (naming the config node) when a training of ``cfg`` would fail to set up."""
    from hydra.utils import get_class, instantiate

    _build("data", lambda: instantiate(cfg.data))
    module = _build(
        "model",
        lambda: instantiate(
            cfg.model,
            loss=_build("loss", lambda: instantiate(cfg.loss)),
            optimizer=_build("optimizer", lambda: instantiate(cfg.optimizer)),
        ),
    )
    check_target_arguments("optimizer", cfg.optimizer)
    _build("optimizer", module.configure_optimizers)
    if cfg.get("init_from"):
        from spectramind.warm_start import warm_start_weights

        warm_start_weights(cfg.init_from, module)  # another architecture: one line, before anything trains
    check_epochs(cfg)
    check_trainer_arguments(OmegaConf.to_container(cfg.trainer, resolve=True))
    check_run_settings(cfg)
    for name, node in (cfg.get("callbacks") or {}).items():
        if node is not None:  # `callbacks.name=null` switches one off, as the training does
            _build(f"callbacks.{name}", lambda node=node: get_class(node._target_))
    from spectramind.tracking.loggers import check_loggers, logger_nodes

    for name, node in logger_nodes(cfg).items():
        _build(f"logger.{name}", lambda node=node: get_class(node._target_))
    check_callbacks(cfg)
    check_loggers(cfg)


# Where the run's checkpoint goes and under which names: resume reads checkpoints/last.ckpt and the
# leaderboard's export checkpoints/best.ckpt, so the training sets these arguments of the
# ModelCheckpoint in `callbacks` (spectramind.training) and a config may only choose what is best.
FIXED_CHECKPOINT_ARGUMENTS = ("dirpath", "filename", "save_last", "save_top_k", "enable_version_counter")


def check_callbacks(cfg: DictConfig) -> None:
    """What would fail inside Lightning once training started: the checkpoint's fixed arguments
    set in the config, a LearningRateMonitor without a logger, a progress bar callback with
    ``trainer.enable_progress_bar=false``."""
    from hydra.utils import get_class
    from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint, ProgressBar

    from spectramind.tracking.loggers import logger_nodes

    seen_checkpoint = False
    for name, node in (cfg.get("callbacks") or {}).items():
        if node is None:
            continue
        cls = get_class(node._target_)
        if issubclass(cls, ModelCheckpoint) and not seen_checkpoint:
            seen_checkpoint = True
            fixed = sorted(set(node) & set(FIXED_CHECKPOINT_ARGUMENTS))
            if fixed:
                raise ConfigurationError(
                    f"callbacks.{name}.{fixed[0]}: set by the training (checkpoints/best.ckpt and last.ckpt "
                    f"in the run directory, which resume and the leaderboard read); choose monitor/mode only"
                )
        if issubclass(cls, LearningRateMonitor) and not logger_nodes(cfg):
            raise ConfigurationError(
                f"callbacks.{name} ({cls.__name__}) logs to a logger, and none is selected: add one, e.g. logger=csv"
            )
        if issubclass(cls, ProgressBar) and cfg.trainer.get("enable_progress_bar") is False:
            raise ConfigurationError(f"callbacks.{name} ({cls.__name__}) contradicts trainer.enable_progress_bar=false")


def _build(node: str, make):
    try:
        return make()
    except Exception as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        raise ConfigurationError(f"{node}: {type(cause).__name__}: {first_line(cause)}") from None


def check_run_settings(cfg: DictConfig) -> None:
    """``seed`` is an integer (a float seed would train, then name runs and pair seeds wrongly) and
    ``num_threads`` a positive integer or null."""
    seed = cfg.get("seed")
    if not _is_integer(seed):
        raise ConfigurationError(f"seed must be an integer, got {seed!r}")
    threads = cfg.get("num_threads")
    if threads is not None and not (_is_integer(threads) and threads >= 1):
        raise ConfigurationError(f"num_threads must be an integer >= 1 or null, got {threads!r}")


def check_epochs(cfg: DictConfig) -> None:
    """``training.epochs`` is an integer >= 1 and the trainer's ``max_epochs`` follows it: one number
    of epochs, set in one place, so that a record never shows two (``trainer.max_epochs=5`` on the
    command line would leave ``training.epochs`` saying otherwise)."""
    epochs = OmegaConf.select(cfg, "training.epochs")
    if not (_is_integer(epochs) and epochs >= 1):
        raise ConfigurationError(f"training.epochs must be an integer >= 1, got {epochs!r}")
    max_epochs = OmegaConf.select(cfg, "trainer.max_epochs")
    if max_epochs != epochs:
        raise ConfigurationError(
            f"trainer.max_epochs={max_epochs!r} disagrees with training.epochs={epochs}: the number of epochs "
            f"is training.epochs (trainer.max_epochs follows it), e.g. training.epochs={max_epochs}"
        )
    budget = OmegaConf.select(cfg, "budget_epochs", default=None)
    if budget is not None and not (_is_integer(budget) and budget >= 1):
        raise ConfigurationError(f"budget_epochs must be null or an integer >= 1, got {budget!r}")


def check_trainer_arguments(arguments: dict[str, Any]) -> None:
    """Names and value types of the ``trainer`` node against ``pytorch_lightning.Trainer``'s
    signature, and ``max_epochs >= 1``. Lightning checks few types itself: ``max_epochs=abc``
    fails deep inside ``fit`` with a bare AssertionError."""
    import pytorch_lightning as pl

    parameters = inspect.signature(pl.Trainer.__init__).parameters
    accepted = set(parameters) - {"self", "callbacks", "logger"}
    unknown = sorted(set(arguments) - accepted)
    if unknown:
        raise ConfigurationError(f"trainer: {unknown} are not arguments of pytorch_lightning.Trainer")
    _check_types("trainer", arguments, {name: parameter.annotation for name, parameter in parameters.items()})
    epochs = arguments.get("max_epochs")
    if epochs is not None and epochs < 1:
        raise ConfigurationError(f"trainer.max_epochs must be >= 1, got {epochs!r}")


def check_target_arguments(node_name: str, node: DictConfig) -> None:
    """The values of a ``_target_`` node against the types its target declares for them, as for
    the trainer: torch's optimizers compare ``lr`` before checking it, so ``optimizer.lr=abc``
    would fail with "'<=' not supported between instances of 'float' and 'str'"."""
    from hydra.utils import get_object

    target = get_object(node._target_)
    try:
        hints = typing.get_type_hints(target.__init__ if isinstance(target, type) else target)
    except Exception:  # noqa: BLE001 - annotations it cannot evaluate: the target decides, as before
        return
    _check_types(node_name, OmegaConf.to_container(node, resolve=True), hints)


def _check_types(node_name: str, values: dict[str, Any], annotations: dict[str, Any]) -> None:
    """Raise for the first value that does not fit its annotation (values without one pass)."""
    for name, value in values.items():
        if name in annotations and not _matches(value, annotations[name]):
            raise ConfigurationError(f"{node_name}.{name}={value!r}: expected {_type_text(annotations[name])}")


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _matches(value: Any, annotation: Any) -> bool:
    """Whether a config value (None, bool, int, float, str, list, dict) fits a type annotation;
    True for annotations it cannot judge (Lightning decides those)."""
    if annotation in (inspect.Parameter.empty, Any):
        return True
    if annotation is type(None):
        return value is None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if origin is typing.Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        return all(_matches(v, args[0]) for v in value) if args else True
    if origin is dict:
        return isinstance(value, dict)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return _is_integer(value)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _type_text(annotation: Any) -> str:
    """``Optional[int]`` → ``int or None``: the accepted kinds of value, for the error message."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(arg) for arg in args)
    if origin is typing.Literal:
        return " or ".join(repr(arg) for arg in args)
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))
