"""The launcher gets the configs the pre-flight composed instead of composing each one again.

``PreComposedConfigs`` is checked against Hydra's own loader (same config, an independent copy,
used once, left behind when pickled), and a real in-process sweep counts Hydra's compositions:
one per run, not two, with every job still seeing its own overrides.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.utils import create_config_search_path
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict


def PreComposedConfigs(loader, **options):
    """The class as Hydra's plugin scan left it in ``sys.modules`` (the scan executes plugin
    modules anew, and pickle looks classes up there)."""
    from hydra_plugins.spectramind_ablation.composition import PreComposedConfigs as cls

    return cls(loader, **options)


@pytest.fixture()
def counted_compositions(monkeypatch) -> list:
    """Every ``load_sweep_config`` answered by Hydra's own loader, by its overrides."""
    calls: list = []
    original = ConfigLoaderImpl.load_sweep_config

    def counting(self, master_config, sweep_overrides):
        calls.append(list(sweep_overrides))
        return original(self, master_config, sweep_overrides)

    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config", counting)
    return calls


@pytest.fixture()
def loader_and_master():
    loader = ConfigLoaderImpl(config_search_path=create_config_search_path("pkg://spectramind.conf"))
    master = loader.load_configuration("config", ["hydra.sweep.dir=unused"], RunMode.MULTIRUN)
    return loader, master


def test_a_kept_config_is_handed_out_once(loader_and_master, counted_compositions):
    loader, master = loader_and_master
    overrides = ["model=mlp", "hydra.sweep.subdir=runs/a"]
    composed = loader.load_sweep_config(master, overrides)
    expected = OmegaConf.to_yaml(composed)
    store = PreComposedConfigs(loader)
    assert store.keep(master, overrides, composed)
    del counted_compositions[:]

    first = store.load_sweep_config(master, overrides)
    assert counted_compositions == []  # served from the store
    assert first is composed
    assert first.model.backbone._target_.endswith("MLPBackbone") and first.hydra.sweep.subdir == "runs/a"
    with open_dict(first):  # what a launcher does to the config it gets
        first.hydra.job.num = 7

    second = store.load_sweep_config(master, overrides)  # a retried run: composed afresh
    assert counted_compositions == [overrides]
    assert OmegaConf.to_yaml(second) == expected and OmegaConf.is_missing(second.hydra.job, "num")


def test_no_more_than_capacity_configs_are_kept(loader_and_master, counted_compositions):
    loader, master = loader_and_master
    store = PreComposedConfigs(loader, capacity=2)
    kept = [
        store.keep(master, [f"seed={seed}"], loader.load_sweep_config(master, [f"seed={seed}"])) for seed in range(3)
    ]
    assert kept == [True, True, False]
    del counted_compositions[:]
    assert [store.load_sweep_config(master, [f"seed={seed}"]).seed for seed in range(3)] == [0, 1, 2]
    assert counted_compositions == [["seed=2"]]


def test_other_overrides_or_another_master_config_fall_through_to_hydra(loader_and_master, counted_compositions):
    loader, master = loader_and_master
    store = PreComposedConfigs(loader)
    store.keep(master, ["model=mlp"], loader.load_sweep_config(master, ["model=mlp"]))
    del counted_compositions[:]

    assert store.load_sweep_config(master, ["model=cnn1d"]).model.backbone._target_.endswith("CNN1dBackbone")
    other_master = loader.load_configuration("config", ["hydra.sweep.dir=unused"], RunMode.MULTIRUN)
    assert store.load_sweep_config(other_master, ["model=mlp"]).model.backbone._target_.endswith("MLPBackbone")
    assert counted_compositions == [["model=cnn1d"], ["model=mlp"]]


def test_a_copy_for_another_process_leaves_the_kept_configs_behind(loader_and_master):
    loader, master = loader_and_master
    store = PreComposedConfigs(loader)
    store.keep(master, ["model=mlp"], loader.load_sweep_config(master, ["model=mlp"]))
    # joblib and submitit pickle the Hydra context for their workers; deepcopy goes through the
    # same __getstate__ (the launcher tests pickle it for real, in a sweep process)
    shipped = copy.deepcopy(store)
    assert shipped._kept == {} and store._kept
    assert isinstance(shipped.loader, ConfigLoaderImpl)


def test_a_sweep_composes_each_run_once(hydra_sweep_runner, counted_compositions, tmp_path: Path):
    seen: list = []

    def task(cfg):
        seen.append(
            (
                HydraConfig.get().job.num,
                cfg.model.backbone._target_.rsplit(".", 1)[-1],
                cfg.loss._target_.rsplit(".", 1)[-1],
                Path(HydraConfig.get().runtime.output_dir).parent.name,
            )
        )

    sweep = hydra_sweep_runner(
        calling_file=None,
        calling_module="spectramind.train",
        task_function=task,
        config_path="conf",
        config_name="config",
        overrides=["model=mlp,cnn1d", "loss=gll,mse", "hydra.sweeper.validate=null", "~hydra.callbacks.leaderboard"],
        temp_dir=tmp_path / "sweep",
    )
    with sweep:
        pass
    assert len(counted_compositions) == 4  # the pre-flight's; the launcher asked for none
    assert all(overrides[-1].startswith("hydra.sweep.subdir=runs/") for overrides in counted_compositions)
    assert sorted(seen) == sorted(
        [
            (0, "MLPBackbone", "GaussianNLLLoss", "runs"),
            (1, "MLPBackbone", "FixedSigmaMSELoss", "runs"),
            (2, "CNN1dBackbone", "GaussianNLLLoss", "runs"),
            (3, "CNN1dBackbone", "FixedSigmaMSELoss", "runs"),
        ]
    )
