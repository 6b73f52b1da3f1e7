"""Every option of every config group composes and instantiates (the lightning-hydra-template way)."""

from __future__ import annotations

from importlib.resources import files

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

GROUPS = ("data", "model", "loss", "optimizer", "trainer", "logger", "ablation")


def _options(group: str) -> list[str]:
    return sorted(p.name[:-5] for p in files("spectramind.conf").joinpath(group).iterdir() if p.name.endswith(".yaml"))


CASES = [(group, option) for group in GROUPS for option in _options(group)]


def test_every_group_has_options():
    assert {group for group, _ in CASES} == set(GROUPS)


@pytest.mark.parametrize("group, option", CASES)
def test_option_composes(group, option):
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"{group}={option}"], return_hydra_config=True)
    assert cfg.hydra.runtime.choices[group] == option
    if group in ("model", "loss"):
        built = instantiate(cfg[group])
        assert built.__class__.__name__ == cfg[group]._target_.rsplit(".", 1)[1]
    if group == "optimizer":
        import torch

        optimizer = instantiate(cfg.optimizer)(params=[torch.nn.Parameter(torch.zeros(1))])
        assert optimizer.defaults["lr"] == cfg.optimizer.lr
    if group == "ablation":
        assert cfg.hydra.sweeper.params, "a study declares the factors it ablates"


def test_trainer_keys_are_lightning_arguments():
    import inspect

    import pytorch_lightning as pl

    accepted = set(inspect.signature(pl.Trainer.__init__).parameters)
    for option in _options("trainer"):
        with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"trainer={option}"])
        assert set(cfg.trainer) <= accepted, f"trainer={option} has non-Trainer keys"


def test_default_composition_selects_the_ablation_sweeper():
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    assert cfg.hydra.sweeper._target_.endswith("AblationSweeper")
    assert cfg.hydra.runtime.choices["model"] == "spectral_prior"
    assert cfg.seed == 0
