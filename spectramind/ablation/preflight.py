"""Checks of a training config that composing alone cannot do, run by the sweeper before launch.

Hydra's composition catches unknown keys and missing config-group options, but not a value that
only its consumer rejects (``data.val_fraction=0.9``, ``optimizer.lr=-1``, ``model.backbone.layers=abc``,
``+trainer.no_such_argument=1``). The ablation sweeper calls :func:`check_training_config` on every
planned config (``hydra.sweeper.validate``) so such a run aborts the sweep before anything trains,
instead of failing an hour into it. It builds the cheap objects only: the data module (which
validates its arguments without reading data), the loss, the model and its optimizer; the
trainer's arguments are checked by name, and extra callbacks and the logger by import.
"""

from __future__ import annotations

import inspect

from omegaconf import DictConfig, OmegaConf

from spectramind.errors import ConfigurationError


def check_training_config(cfg: DictConfig) -> None:
    """Raise (naming the config node) when a training of ``cfg`` would fail to set up."""
    import pytorch_lightning as pl
    from hydra.utils import get_class, instantiate

    _build("data", lambda: instantiate(cfg.data))
    module = _build("model", lambda: instantiate(
        cfg.model, loss=_build("loss", lambda: instantiate(cfg.loss)),
        optimizer=_build("optimizer", lambda: instantiate(cfg.optimizer)),
    ))
    _build("optimizer", module.configure_optimizers)
    accepted = set(inspect.signature(pl.Trainer.__init__).parameters) - {"self", "callbacks", "logger"}
    unknown = sorted(set(OmegaConf.to_container(cfg.trainer, resolve=True)) - accepted)
    if unknown:
        raise ConfigurationError(f"trainer: {unknown} are not arguments of pytorch_lightning.Trainer")
    for name, node in (cfg.get("callbacks") or {}).items():
        _build(f"callbacks.{name}", lambda: get_class(node._target_))
    if cfg.get("logger"):
        _build("logger", lambda: get_class(cfg.logger._target_))


def _build(node: str, make):
    try:
        return make()
    except Exception as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise ConfigurationError(f"{node}: {type(cause).__name__}: {text}") from None
