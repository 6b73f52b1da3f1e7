"""The lightning-hydra-template conventions: `callbacks`, `experiment` and launcher presets
compose, a training runs with them, and a missing Hydra plugin is one line naming its package."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import get_class
from training_support import run_module, tiny_overrides

from spectramind.errors import PLUGIN_INSTALL, missing_plugin_hint


def _compose(*overrides: str):
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def _options(group: str) -> list[str]:
    return sorted(p.name[:-5] for p in files("spectramind.conf").joinpath(group).iterdir() if p.name.endswith(".yaml"))


@pytest.mark.parametrize("option", _options("callbacks"))
def test_callback_options_compose_and_name_lightning_callbacks(option):
    import pytorch_lightning as pl

    cfg = _compose(f"callbacks=[default,{option}]")
    assert set(cfg.callbacks) >= {"model_checkpoint"}
    for node in cfg.callbacks.values():
        assert issubclass(get_class(node._target_), pl.Callback)


def test_experiments_override_groups_and_values_and_the_command_line_wins():
    assert set(_options("experiment")) >= {"cnn1d_long", "mlp_mse_tracked"}
    cfg = _compose("experiment=cnn1d_long")
    assert cfg.seed == 1 and cfg.trainer.max_epochs == 40 and cfg.callbacks.early_stopping.patience == 5
    cfg = _compose("experiment=mlp_mse_tracked", "training.epochs=3")
    assert cfg.hydra.runtime.choices["model"] == "mlp" and cfg.hydra.runtime.choices["loss"] == "mse"
    assert set(cfg.logger) == {"csv", "tensorboard"} and "lr_monitor" in cfg.callbacks
    assert cfg.trainer.max_epochs == 3


@pytest.mark.parametrize("preset, target", [("slurm", "SlurmLauncher"), ("ray_cluster", "RayLauncher")])
def test_launcher_presets_extend_the_plugins(preset, target):
    cfg = _compose(f"hydra/launcher={preset}")
    assert cfg.hydra.launcher._target_.endswith(target)
    if preset == "slurm":
        assert cfg.hydra.launcher.mem_gb == 16 and cfg.hydra.launcher.array_parallelism == 32
    else:
        assert cfg.hydra.launcher.ray.init.address == "auto"


def test_training_with_early_stopping_and_a_chosen_checkpoint_metric(tmp_path, tiny_data_dir):
    run_dir = tmp_path / "run"
    result = run_module(
        [
            "spectramind.train",
            *tiny_overrides(tiny_data_dir),
            f"hydra.run.dir={run_dir}",
            "training.epochs=30",
            "callbacks=[default,early_stopping]",
            "callbacks.early_stopping.patience=1",
            "callbacks.early_stopping.min_delta=1e9",
            "callbacks.model_checkpoint.monitor=val/gll",
            "callbacks.model_checkpoint.mode=max",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "completed" and record["epochs_trained"] == 2  # stopped, not 30 epochs
    assert (run_dir / "checkpoints" / "best.ckpt").is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file()
    import torch

    state = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=False, map_location="cpu")
    [checkpoint_state] = [v for k, v in state["callbacks"].items() if k.startswith("ModelCheckpoint")]
    assert "val/gll" in next(k for k in state["callbacks"] if k.startswith("ModelCheckpoint"))
    assert checkpoint_state["best_model_path"].endswith("best.ckpt")


@pytest.mark.parametrize(
    "override, package",
    [("hydra/launcher=rq", "hydra-rq-launcher"), ("hydra/sweeper=nevergrad", "hydra-nevergrad-sweeper")],
)
def test_a_plugin_that_is_not_installed_is_one_line_naming_it(tmp_path, override, package):
    result = run_module(
        ["spectramind.train", "--multirun", override, f"hydra.sweep.dir={tmp_path / 's'}"], cwd=tmp_path
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0] == f"error: {override} needs a Hydra plugin that is not installed: pip install {package}"


def test_every_named_plugin_gets_its_install_line():
    for option, package in PLUGIN_INSTALL.items():
        message = f"In 'hydra/config': Could not find '{option}'; Available options in 'hydra/launcher': basic"
        group, _, name = option.rpartition("/")
        assert missing_plugin_hint(message) == (
            f"{group}={name} needs a Hydra plugin that is not installed: pip install {package}"
        )
    assert missing_plugin_hint("Could not find 'model/nosuch'") is None  # a typo stays Hydra's message


def test_training_epochs_is_the_source_and_every_trainer_follows_it():
    cfg = _compose("training.epochs=10")
    assert cfg.training.epochs == 10 and cfg.trainer.max_epochs == 10
    for trainer in _options("trainer"):
        assert _compose(f"trainer={trainer}", "training.epochs=7").trainer.max_epochs == 7


def test_the_gpu_trainer_resolves_its_mixed_precision():
    from spectramind.mixed_precision import mixed_precision

    precision = _compose("trainer=gpu").trainer.precision
    assert precision == mixed_precision() and precision in ("bf16-mixed", "16-mixed")


@pytest.mark.parametrize("model", ["resnet18", "resnet50", "vit"])
def test_the_light_curve_models_ask_the_data_for_images_of_their_time_bins(model):
    cfg = _compose(f"model={model}", "model.backbone.time_bins=12")
    assert cfg.data.light_curve_bins == 12 and cfg.model.backbone.architecture == model
    assert _compose(f"model={model}", "data=adc", "data.data_dir=x").data.light_curve_bins == 8
    assert _compose("model=spectral_prior").data.light_curve_bins is None
    assert _compose("model=transit_fit").data.light_curve_bins is None
