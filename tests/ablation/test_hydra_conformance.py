"""The sweeper is a well-behaved Hydra plugin: discovered by Hydra, and passing Hydra's own
launcher/sweeper suites with the basic and joblib launchers over generic task functions (which
record no run.json), so job directories, overrides and returns are exactly Hydra's."""

from __future__ import annotations

import pytest
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.test_utils.launcher_common_tests import (
    BatchedSweeperTestSuite,
    IntegrationTestSuite,
    LauncherTestSuite,
)

from hydra_plugins.spectramind_ablation.sweeper import AblationSweeper

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

ABLATION = "hydra/sweeper=ablation"
LAUNCHERS = [
    pytest.param("basic", [ABLATION], id="basic"),
    pytest.param("joblib", [ABLATION, "hydra.launcher.n_jobs=2"], id="joblib"),
]


def test_discovered_as_a_sweeper() -> None:
    # discovery imports plugin modules itself, so compare classes by their qualified names
    discovered = {f"{cls.__module__}.{cls.__qualname__}" for cls in Plugins.instance().discover(Sweeper)}
    assert f"{AblationSweeper.__module__}.{AblationSweeper.__qualname__}" in discovered


@pytest.mark.parametrize("launcher_name, overrides", LAUNCHERS)
class TestAblationSweeperWithLaunchers(LauncherTestSuite):
    pass


@pytest.mark.parametrize(
    "launcher_name, overrides",
    [
        pytest.param("basic", [ABLATION, "hydra.sweeper.max_batch_size=2"], id="basic"),
        pytest.param("joblib", [ABLATION, "hydra.sweeper.max_batch_size=2", "hydra.launcher.n_jobs=2"], id="joblib"),
    ],
)
class TestAblationSweeperBatching(BatchedSweeperTestSuite):
    pass


@pytest.mark.parametrize(
    "task_launcher_cfg, extra_flags",
    [
        pytest.param(
            {},
            [
                "-m",
                ABLATION,
                f"hydra/launcher={launcher}",
                "hydra/hydra_logging=disabled",
                "hydra/job_logging=disabled",
            ],
            id=launcher,
        )
        for launcher in ("basic", "joblib")
    ],
)
class TestAblationSweeperIntegration(IntegrationTestSuite):
    pass


@pytest.mark.usefixtures("hydra_restore_singletons")
def test_same_jobs_and_configs_as_basic_sweeper(hydra_sweep_runner, tmp_path) -> None:
    sweep = ["group1=glob(file*)", "foo=3", "bar=range(1,3)", "+z=null,'x,y'"]

    def jobs(sweeper: str) -> list[tuple[list[str], dict]]:
        runner = hydra_sweep_runner(
            calling_file=None,
            calling_module="hydra.test_utils.a_module",
            task_function=None,
            config_path="configs",
            config_name="compose.yaml",
            overrides=[f"hydra/sweeper={sweeper}", *sweep],
            temp_dir=tmp_path / sweeper,
        )
        with runner:
            return [(ret.overrides, ret.cfg) for batch in runner.returns for ret in batch]

    basic = jobs("basic")
    assert len(basic) == 2 * 2 * 2
    assert jobs("ablation") == basic
