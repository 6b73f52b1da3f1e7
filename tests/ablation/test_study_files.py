"""Study files in conf/ablation/: selected with one override, every field overridable from the
command line. Dry runs print the plan (design, runs, already done) and train nothing."""

from __future__ import annotations

import re

import pytest
from sweep_helpers import explain, run_sweep

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only


def planned_runs(stdout: str) -> list[list[str]]:
    """The override lists of the runs a dry run printed (`[ablation]   run  <id>  <overrides>`)."""
    return [line.split()[3:] for line in stdout.splitlines() if re.match(r"\[ablation\]\s+(run|done)\s", line)]


def dry_run(tmp_path, *args):
    result = run_sweep(tmp_path, *args, "hydra.sweeper.dry_run=true", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode == 0, explain(result)
    assert not (tmp_path / "sweep").exists()  # a dry run writes nothing
    return result.stdout, planned_runs(result.stdout)


def test_the_default_study_is_ofat_over_four_choices_with_two_seeds(tmp_path):
    stdout, runs = dry_run(tmp_path, "ablation=default")
    assert "design=ofat: 10 runs (5 configurations x 2 seeds), 0 already completed" in stdout
    assert len(runs) == 10
    baseline = ["model=spectral_prior", "data.features=transit_fit", "loss=gll", "optimizer.lr=0.003"]
    assert all(set(baseline) <= set(r) for r in runs[:2]) and [r[-1] for r in runs[:2]] == ["seed=0", "seed=1"]
    varied = {tuple(sorted(set(r) - set(baseline) - {"ablation=default", "seed=0", "seed=1"})) for r in runs[2:]}
    assert varied == {("model=cnn1d",), ("loss=mse",), ("data.features=window",), ("optimizer.lr=0.001",)}


def test_a_study_is_selected_by_name(tmp_path):
    stdout, runs = dry_run(tmp_path, "ablation=quick")
    assert "design=grid: 4 runs" in stdout
    assert {" ".join(sorted(r)) for r in runs} == {
        " ".join(sorted([f"model={m}", f"loss={loss}", "training.epochs=3", "ablation=quick", "seed=0"]))
        for m in ("mlp", "cnn1d")
        for loss in ("gll", "mse")
    }


@pytest.mark.parametrize(
    "overrides, design, n_runs",
    [
        (["hydra.sweeper.seeds=[0,1,2]"], "grid", 12),
        # ofat: the baseline keeps the default model (spectral_prior, not a level of the quick study's
        # model factor) and loss=gll; then model=mlp, model=cnn1d and loss=mse one at a time
        (["hydra.sweeper.design=ofat"], "ofat", 4),
        (["hydra.sweeper.design=random", "hydra.sweeper.max_runs=3", "hydra.sweeper.random_seed=5"], "random", 3),
        (["hydra.sweeper.params.loss=gll"], "grid", 2),
        (["loss=mse", "optimizer.lr=1e-3,1e-2"], "grid", 4),
    ],
)
def test_study_fields_are_overridden_from_the_command_line(tmp_path, overrides, design, n_runs):
    stdout, runs = dry_run(tmp_path, "ablation=quick", *overrides)
    assert f"design={design}: {n_runs} runs" in stdout and len(runs) == n_runs
    if "loss=mse" in overrides:
        assert all("loss=mse" in r for r in runs)


def test_an_unknown_study_is_an_error(tmp_path):
    result = run_sweep(tmp_path, "ablation=no_such_study", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode != 0 and "ablation/no_such_study" in result.stderr
