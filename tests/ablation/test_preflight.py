"""Pre-flight: every planned config is composed (and checked) before the first run starts; one bad
run aborts the sweep with a message naming the run and the override, and nothing is launched."""

from __future__ import annotations

import pytest
from sweep_helpers import explain, run_sweep

from spectramind.tracking.identity import run_identity

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

VALIDATE = "hydra.sweeper.validate=spectramind.config_checks.check_training_config"


@pytest.mark.parametrize(
    "sweep, failing_run, bad, needs_validation",
    [
        # a key that exists in the cnn1d backbone but not in the mlp one: only the mlp run breaks
        pytest.param(
            ["model=cnn1d,mlp", "model.backbone.kernel_size=3"],
            ["model=mlp", "model.backbone.kernel_size=3"],
            "model.backbone.kernel_size=3",
            False,
            id="unknown key",
        ),
        pytest.param(
            ["model=mlp,transformer"],
            ["model=transformer"],
            "model=transformer",
            False,
            id="missing config-group option",
        ),
        pytest.param(
            ["optimizer.lr=1e-3,${no.such.key}"],
            ["optimizer.lr=$\\{no.such.key\\}"],
            "optimizer.lr=$\\{no.such.key\\}",
            False,
            id="unresolvable value",
        ),
        pytest.param(
            ["data.val_fraction=0.2,0.9"], ["data.val_fraction=0.9"], "data.val_fraction=0.9", True, id="bad value"
        ),
        pytest.param(
            ["+trainer.no_such_argument=1,2"],
            ["+trainer.no_such_argument=1"],
            "+trainer.no_such_argument=1",
            True,
            id="bad trainer key",
        ),
    ],
)
def test_a_bad_run_aborts_the_sweep_before_anything_runs(
    tmp_path, train_overrides, sweep, failing_run, bad, needs_validation
):
    sweep_dir = tmp_path / "sweep"
    extra = [VALIDATE] if needs_validation else []
    result = run_sweep(tmp_path, *train_overrides, *sweep, *extra, f"hydra.sweep.dir={sweep_dir}")
    assert result.returncode != 0, explain(result)
    run_id = run_identity([*train_overrides, *failing_run]).run_id
    message = result.stderr
    assert f"pre-flight check failed for run {run_id}" in message, explain(result)
    assert f"override '{bad}'" in message and "Nothing was launched" in message
    assert "Traceback" not in message
    assert not (sweep_dir / "runs").exists() and not (sweep_dir / "sweep.json").exists()
