"""Successive halving end to end: spectramind's training through ``python -m spectramind.train
--multirun hydra.sweeper.design=halving`` (the issue's bar, on the tiny data set), a SIGKILL during
rung 1 and a resume, the joblib launcher, and a foreign Hydra app that keeps the contract (accepts
an epoch count, continues its own state, returns a metric)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_helpers import explain, kill_sweep_when, manifest, run_record, run_sweep, run_training, sweep_env

from spectramind.ablation.halving import planned_epochs, rung_plan

pytestmark = pytest.mark.slow  # runs sweeps end to end: the full loop only

# 9 configurations, eta 3, rungs of 1 / 3 / 9 epochs: 9 + 3 x 2 + 1 x 6 = 21 epochs against 81
STUDY = [
    "model=mlp,cnn1d,spectral_prior",
    "optimizer.lr=0.001,0.003,0.01",
    "hydra.sweeper.design=halving",
    "hydra.sweeper.eta=3",
    "hydra.sweeper.min_epochs=1",
    "hydra.sweeper.max_epochs=9",
]
PLANNED = planned_epochs(rung_plan(9, 3, 1, 9), n_seeds=1)


def epochs_trained(sweep_dir: Path) -> dict[str, int]:
    return {
        run["run_id"]: run_record(sweep_dir, run["run_id"])["epochs_trained"] for run in manifest(sweep_dir)["runs"]
    }


def test_the_bar_study_trains_under_45_percent_of_the_grid_and_promotes_on_validation(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    args = [*train_overrides, *STUDY, f"hydra.sweep.dir={sweep_dir}"]
    dry = run_sweep(tmp_path, *args, "hydra.sweeper.dry_run=true")
    assert dry.returncode == 0, explain(dry)
    assert f"epochs in all: {PLANNED} (the full grid to 9 epochs: 81;" in dry.stdout and not sweep_dir.exists()

    result = run_sweep(tmp_path, *args)
    assert result.returncode == 0, explain(result)
    trained = epochs_trained(sweep_dir)
    assert sum(trained.values()) == PLANNED <= 0.45 * 9 * 9
    assert sorted(trained.values()).count(9) == 1
    runs = manifest(sweep_dir)["runs"]
    assert {r["run_id"] for r in runs if r["rung"] == 2} == {run_id for run_id, e in trained.items() if e == 9}
    # promotion is on what the task returned: the validation score (unclipped), never the test one
    for run in runs:
        metrics = json.loads((sweep_dir / "runs" / run["run_id"] / "metrics.json").read_text())
        last = str(run["rung"])
        assert run["rung_values"][last] == pytest.approx(metrics["val_adc2025_unclipped"], rel=1e-12)
        assert run["rung_values"][last] != metrics["adc2025_unclipped"]
    rung0 = sorted(runs, key=lambda r: r["rung_values"]["0"], reverse=True)
    assert {r["run_id"] for r in rung0[:3]} == {r["run_id"] for r in runs if r["rung"] >= 1}
    # the same run id, folder and record across rungs: one folder per run, continued
    assert sorted(p.name for p in (sweep_dir / "runs").iterdir()) == sorted(trained)
    board = (sweep_dir / "leaderboard.md").read_text()
    assert "Successive halving" in board


def test_a_sweep_killed_in_rung_1_resumes_to_the_same_epochs(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    args = [*train_overrides, *STUDY, f"hydra.sweep.dir={sweep_dir}"]

    def in_rung_1() -> bool:
        try:
            return any(r.get("rung") == 1 and r["status"] == "running" for r in manifest(sweep_dir)["runs"])
        except (OSError, ValueError, KeyError):
            return False

    kill_sweep_when(tmp_path, args, in_rung_1, "a run of rung 1 running")
    before = manifest(sweep_dir)["runs"]
    assert all("0" in r.get("rung_values", {}) for r in before)  # rung 0 had finished
    resumed = run_sweep(tmp_path, *args, "hydra.sweeper.resume=true")
    assert resumed.returncode == 0, explain(resumed)
    assert sum(epochs_trained(sweep_dir).values()) == PLANNED
    after = {r["run_id"]: r for r in manifest(sweep_dir)["runs"]}
    for run in before:  # rung 0 was not trained again: its numbers stand
        assert after[run["run_id"]]["rung_values"]["0"] == run["rung_values"]["0"]
    assert sum(r["rung"] == 2 for r in after.values()) == 1
    for run_id, run in after.items():  # every promoted run continued its own checkpoint
        assert (run_record(sweep_dir, run_id)["resumed_from"] is not None) == (run["rung"] >= 1)


def test_halving_through_the_joblib_launcher(tmp_path, train_overrides):
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(
        tmp_path,
        *train_overrides,
        "model=mlp,cnn1d",
        "optimizer.lr=0.001,0.01",
        "hydra.sweeper.design=halving",
        "hydra.sweeper.eta=2",
        "hydra.sweeper.min_epochs=1",
        "hydra.sweeper.max_epochs=4",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, explain(result)
    assert sorted(epochs_trained(sweep_dir).values()) == [1, 1, 2, 4]
    assert all(r["value"] is not None for r in manifest(sweep_dir)["runs"])  # returned through the workers


APP = """
import json
import pathlib

import hydra
from hydra.core.hydra_config import HydraConfig


@hydra.main(version_base="1.3", config_path=".", config_name="config")
def main(cfg) -> float:
    folder = pathlib.Path(HydraConfig.get().runtime.output_dir)
    state = folder / "state.json"
    done = json.loads(state.read_text())["epochs"] if state.exists() else 0
    with open(folder / "trained.log", "a") as log:
        for epoch in range(done, int(cfg.epochs)):
            log.write(f"{epoch}\\n")
    state.write_text(json.dumps({"epochs": int(cfg.epochs)}))
    return cfg.quality * int(cfg.epochs)


if __name__ == "__main__":
    main()
"""
CONFIG = """
defaults:
  - override hydra/sweeper: ablation
  - _self_
quality: 0.0
epochs: 1
hydra:
  sweep:
    dir: sweep
  sweeper:
    run_subdir: runs
    budget_key: epochs
"""


def test_a_foreign_app_that_keeps_the_contract(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "config.yaml").write_text(CONFIG)
    command = [sys.executable, "app.py", "--multirun", "quality=0.1,0.5,0.3,0.9"]
    command += ["hydra.sweeper.design=halving", "hydra.sweeper.eta=2", "hydra.sweeper.min_epochs=1"]
    command += ["hydra.sweeper.max_epochs=4"]
    result = subprocess.run(command, cwd=tmp_path, env=sweep_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, explain(result)
    logs = {p.parent.name: p.read_text().split() for p in (tmp_path / "sweep" / "runs").glob("*/trained.log")}
    assert all(lines == [str(e) for e in range(len(lines))] for lines in logs.values())  # no epoch twice
    assert sum(len(lines) for lines in logs.values()) == planned_epochs(rung_plan(4, 2, 1, 4), 1) == 8
    by_quality = {r["factors"]["quality"]: len(logs[r["run_id"]]) for r in manifest(tmp_path / "sweep")["runs"]}
    assert by_quality == {"0.1": 1, "0.5": 2, "0.3": 1, "0.9": 4}


def test_the_halving_study_file_prints_its_rungs(tmp_path):
    from training_support import run_module

    result = run_module(["spectramind", "ablate", "run", "halving", "--dry-run"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rungs = [line.strip() for line in result.stdout.splitlines() if "rung " in line]
    assert rungs == [
        "[ablation]   rung 0: 9 configuration(s) x 1 seed(s) to 2 epochs",
        "[ablation]   rung 1: 3 configuration(s) x 1 seed(s) to 6 epochs",
        "[ablation]   rung 2: 1 configuration(s) x 1 seed(s) to 18 epochs",
    ]
    assert "9 runs (9 configurations x 1 seeds), 0 with a finished rung" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_run_continued_rung_by_rung_scores_what_a_straight_run_scores(tmp_path, train_overrides):
    """budget_epochs stops a run early and the next launch continues it: 2 then 4 epochs of a
    4-epoch schedule end with the numbers of 4 epochs in one go (the run's id is the same too)."""
    args = [*train_overrides, "model=cnn1d", "training.epochs=4"]
    for budget in (2, 4):
        continued = run_training(tmp_path, *args, f"budget_epochs={budget}", "hydra.run.dir=continued")
        assert continued.returncode == 0, explain(continued)
    straight = run_training(tmp_path, *args, "hydra.run.dir=straight")
    assert straight.returncode == 0, explain(straight)
    records = [json.loads((tmp_path / name / "run.json").read_text()) for name in ("continued", "straight")]
    assert records[0]["run_id"] == records[1]["run_id"] and records[0]["config_hash"] == records[1]["config_hash"]
    assert records[0]["epochs_trained"] == records[1]["epochs_trained"] == 4
    assert records[0]["resumed_from"] is not None
    metrics = [json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("continued", "straight")]
    for metrics_ in metrics:
        metrics_.pop("train_time_s")
    assert metrics[0] == metrics[1]
