"""The sweeper's options are defined once (spectramind/ablation/study.py: StudyOptions) and checked
once, each bad value one line naming the option; the plugin's structured config has the same
fields and defaults; and inside spectramind's app the bare `hydra/sweeper=ablation`, which would
drop spectramind's options, is refused in one line naming `hydra/sweeper=spectramind`."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import CompactHydraException
from omegaconf import OmegaConf
from sweep_helpers import explain, run_sweep

from hydra_plugins.spectramind_ablation.config import APP_CHOICE, AblationSweeperConf
from hydra_plugins.spectramind_ablation.sweeper import refuse_bare_choice
from spectramind.ablation.study import StudyOptions
from spectramind.errors import ConfigurationError


def test_the_structured_config_has_the_options_fields_and_defaults():
    node = OmegaConf.to_container(OmegaConf.structured(AblationSweeperConf))
    assert node.pop("_target_") == "hydra_plugins.spectramind_ablation.sweeper.AblationSweeper"
    assert node == asdict(StudyOptions())
    assert list(node) == list(asdict(StudyOptions()))


def test_spectramind_sets_only_its_own_options_over_the_defaults():
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    node = OmegaConf.to_container(cfg.hydra.sweeper)
    del node["_target_"]
    changed = {k: v for k, v in node.items() if v != getattr(StudyOptions(), k)}
    assert changed == {
        "run_subdir": "runs",
        "validate": "spectramind.config_checks.check_training_config",
        "warm_up": "spectramind.worker.warm_up",
        "cost": "spectramind.models.training_cost.estimated_cost",
        "epochs_key": "training.epochs",
    }


@pytest.mark.parametrize(
    "options, message",
    [
        ({"max_retries": -1}, "hydra.sweeper.max_retries must be >= 0, got -1"),
        ({"max_runs": 0}, "hydra.sweeper.max_runs must be >= 1, got 0"),
        ({"max_batch_size": 0}, "hydra.sweeper.max_batch_size must be >= 1, got 0"),
        ({"time_budget_s": 0.0}, "hydra.sweeper.time_budget_s must be > 0, got 0.0"),
        (
            {"run_subdir": "../out"},
            "hydra.sweeper.run_subdir must be a relative path inside the sweep directory, got '../out'",
        ),
        ({"run_subdir": " "}, "hydra.sweeper.run_subdir must be a relative path inside the sweep directory, got ' '"),
        ({"design": "latin"}, "unknown design 'latin'; expected one of grid, ofat, random, halving"),
        ({"desing": "grid"}, "unknown sweeper option(s) hydra.sweeper.desing"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(options, message):
    with pytest.raises(ConfigurationError) as caught:
        StudyOptions.from_mapping(options)
    assert str(caught.value) == message


def test_runs_per_launch_call():
    def concurrent() -> int:
        return 3

    assert StudyOptions().batch_size(10, concurrent) == 10
    assert StudyOptions(max_batch_size=4).batch_size(10, concurrent) == 4
    assert StudyOptions(fail_fast=True).batch_size(10, concurrent) == 3
    assert StudyOptions(time_budget_s=60.0).batch_size(10, concurrent) == 3
    assert StudyOptions().batch_size(0, concurrent) == 1
    assert StudyOptions(design="random", max_runs=4).run_budget is None
    assert StudyOptions(max_runs=4).run_budget == 4


def _spectramind_config(*overrides: str):
    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
        return cfg, GlobalHydra.instance().config_loader()


def test_the_bare_ablation_choice_is_refused_where_the_app_offers_its_own():
    cfg, loader = _spectramind_config("hydra/sweeper=ablation")
    with pytest.raises(CompactHydraException) as caught:
        refuse_bare_choice(cfg, loader)
    assert f"select hydra/sweeper={APP_CHOICE}" in str(caught.value) and "\n" not in str(caught.value)
    refuse_bare_choice(*_spectramind_config())  # conf/config.yaml's choice
    refuse_bare_choice(*_spectramind_config("hydra/sweeper=basic"))


def test_the_bare_ablation_choice_stops_a_spectramind_sweep_in_one_line(tmp_path):
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(tmp_path, "hydra/sweeper=ablation", "model=mlp,cnn1d", f"hydra.sweep.dir={sweep_dir}")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, explain(result)
    assert lines[0].startswith("error: hydra/sweeper=ablation ") and "hydra/sweeper=spectramind" in lines[0]
    assert not sweep_dir.exists()
