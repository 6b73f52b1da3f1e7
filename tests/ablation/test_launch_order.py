"""The order a parallel launcher gets a study's runs in: most expensive first, ties and unknown
costs in plan order, and only for launchers that may run several jobs at once."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from hydra_plugins.spectramind_ablation.launchers import may_run_in_parallel
from spectramind.ablation.design import RunSpec
from spectramind.ablation.launch_order import most_expensive_first


def _specs(*run_ids: str) -> list[RunSpec]:
    return [RunSpec(run_id=run_id, config_id=run_id, label=run_id, overrides=(f"name={run_id}",)) for run_id in run_ids]


def _ids(specs) -> list[str]:
    return [spec.run_id for spec in specs]


def test_the_most_expensive_runs_come_first_and_ties_keep_the_plan_order():
    specs = _specs("mlp-a", "mlp-b", "cnn-a", "cnn-b", "fit")
    costs = {"mlp-a": 4e7, "mlp-b": 4e7, "cnn-a": 2.6e8, "cnn-b": 2.6e8, "fit": 0.0}
    assert _ids(most_expensive_first(specs, costs)) == ["cnn-a", "cnn-b", "mlp-a", "mlp-b", "fit"]


def test_a_run_of_unknown_cost_keeps_the_plan_order():
    specs = _specs("cheap", "dear", "unknown")
    assert _ids(most_expensive_first(specs, {"cheap": 1.0, "dear": 9.0, "unknown": None})) == _ids(specs)
    assert _ids(most_expensive_first(specs, {"cheap": 1.0, "dear": 9.0})) == _ids(specs)


@pytest.mark.parametrize(
    "launcher, parallel",
    [
        ({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}, False),
        ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 1}, False),
        ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}, True),
        ({"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"}, True),
        ({"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"}, True),
        ({"_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher", "ray": {"remote": {}}}, True),
    ],
)
def test_only_launchers_that_may_run_jobs_at_once_are_reordered(launcher, parallel):
    assert may_run_in_parallel(OmegaConf.create({"hydra": {"launcher": launcher}}), batch_len=4) is parallel
