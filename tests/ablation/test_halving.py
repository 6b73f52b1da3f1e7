"""Successive halving without Hydra: the rung arithmetic, the promotion rule, and the loop driven by
an in-process launch function whose runs keep real run records and a "checkpoint" (the epochs
each run has trained), so that every epoch trained, every promotion and every stop can be checked
from what is left on disk."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sweep_helpers import sweep_run_recorder

from spectramind.ablation import outcome
from spectramind.ablation.design import Factor, Level, expand_design
from spectramind.ablation.halving import Rung, planned_epochs, promote, rung_plan, rung_plan_lines
from spectramind.ablation.halving_runner import run_halving
from spectramind.ablation.manifest import load_manifest, save_manifest
from spectramind.ablation.plan import plan_sweep
from spectramind.ablation.runner import JobOutcome, RunnerPolicy
from spectramind.ablation.study import StudyOptions
from spectramind.errors import ConfigurationError
from spectramind.tracking.events import read_events
from spectramind.tracking.record import error_record

# ---------------------------------------------------------------- the arithmetic


@pytest.mark.parametrize(
    ("n", "eta", "min_epochs", "max_epochs", "expected"),
    [
        (9, 3, 2, 18, [(0, 2, 9), (1, 6, 3), (2, 18, 1)]),
        (27, 3, 1, 27, [(0, 1, 27), (1, 3, 9), (2, 9, 3), (3, 27, 1)]),
        (10, 3, 1, 10, [(0, 1, 10), (1, 3, 4), (2, 9, 2), (3, 10, 1)]),  # ceil, and a last rung cut to max
        (2, 3, 2, 18, [(0, 2, 2), (1, 6, 1), (2, 18, 1)]),  # fewer configurations than eta: one goes on
        (5, 2, 4, 4, [(0, 4, 5)]),  # min = max: one rung, nothing promoted
    ],
)
def test_rungs(n, eta, min_epochs, max_epochs, expected):
    assert rung_plan(n, eta, min_epochs, max_epochs) == [Rung(*r) for r in expected]


def test_planned_epochs_count_each_rung_from_where_the_last_one_stopped():
    rungs = rung_plan(9, 3, 2, 18)
    # 9 configs to 2 epochs, 3 of them 4 more (to 6), 1 of them 12 more (to 18); x 2 seeds
    assert planned_epochs(rungs, n_seeds=2) == 2 * (9 * 2 + 3 * 4 + 1 * 12)
    assert planned_epochs(rungs, n_seeds=1) / (9 * 18) <= 0.45
    assert rung_plan_lines(rungs, 1)[-1] == "[ablation]   epochs in all: 42 (the full grid to 18 epochs: 162; 26 %)"


def test_promotion_keeps_the_best_means_over_seeds_and_never_an_incomplete_configuration():
    values = {
        "a": [0.25, 0.75],  # mean 0.5
        "b": [1.0, None],  # a seed failed: out, however good the other
        "c": [0.75, 0.75],  # mean 0.75
        "d": [float("nan"), 2.0],  # diverged: out
        "e": [0.5, 0.5],  # ties with a: the plan's order decides
        "f": [],
    }
    assert promote(values, 2) == ["c", "a"]
    assert promote(values, 3) == ["c", "a", "e"]
    assert promote(values, 10) == ["c", "a", "e"]
    assert promote(values, 1, higher_is_better=False) == ["a"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "hydra.sweeper.min_epochs and max_epochs must be set for design=halving"),
        ({"min_epochs": 2, "max_epochs": 18, "eta": 1}, "hydra.sweeper.eta must be >= 2, got 1"),
        ({"min_epochs": 0, "max_epochs": 18}, "hydra.sweeper.min_epochs must be >= 1, got 0"),
        ({"min_epochs": 4, "max_epochs": 2}, "hydra.sweeper.max_epochs must be >= hydra.sweeper.min_epochs=4, got 2"),
        ({"min_epochs": 2, "max_epochs": 8, "max_runs": 3}, "hydra.sweeper.max_runs does not apply to design=halving"),
        (
            {"min_epochs": 2, "max_epochs": 8, "run_subdir": None},
            "hydra.sweeper.run_subdir must be set for design=halving",
        ),
    ],
)
def test_bad_halving_options_are_one_line_naming_the_option(options, message):
    with pytest.raises(ConfigurationError) as error:
        StudyOptions(design="halving", **{"run_subdir": "runs", **options})
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_every_run_of_a_halving_study_is_set_to_max_epochs_in_all():
    options = StudyOptions(
        design="halving", min_epochs=2, max_epochs=18, epochs_key="training.epochs", run_subdir="runs"
    )
    factor = Factor("model", (Level("model=mlp", "mlp"), Level("model=cnn1d", "cnn1d")))
    specs = options.expand([factor], {})
    assert [s.overrides for s in specs] == [("model=mlp", "training.epochs=18"), ("model=cnn1d", "training.epochs=18")]


# ---------------------------------------------------------------- the loop


class Trainer:
    """The launch function: each run continues from its own "checkpoint" (``trained[run_id]``) to
    the launch's ``++budget_epochs``, keeps a real run record, and returns its validation score,
    ``quality[config] * epochs`` (the test score is another number, never returned).

    ``kill_at``: (rung epochs, run number within that rung) where the sweep itself dies mid-run, after
    half of that launch's epochs (the KeyboardInterrupt stands for a SIGKILL of the whole sweep)."""

    def __init__(self, sweep_dir: Path, quality: dict[str, float], fail: set[str] = frozenset(), kill_at=None):
        self.sweep_dir, self.quality, self.fail, self.kill_at = sweep_dir, quality, set(fail), kill_at
        self.trained: dict[str, int] = {}
        self.epochs_per_launch: list[tuple[str, int]] = []  # (run, epochs that launch trained)
        self.budgets: list[int] = []  # each launch's ++budget_epochs
        self.launches_at: dict[int, int] = {}

    def __call__(self, batch, first_number: int) -> list[JobOutcome]:
        results = []
        for spec in batch:
            budget = int(next(o for o in spec.overrides if o.startswith("++budget_epochs=")).split("=")[1])
            recorder = sweep_run_recorder(self.sweep_dir, spec)
            done = self.trained.get(spec.run_id, 0)
            self.launches_at[budget] = self.launches_at.get(budget, 0) + 1
            if self.kill_at == (budget, self.launches_at[budget]):
                recorder.start()
                self.trained[spec.run_id] = done + (budget - done) // 2  # its last checkpoint survives
                self.epochs_per_launch.append((spec.run_id, (budget - done) // 2))
                self.budgets.append(budget)
                self.kill_at = None
                raise KeyboardInterrupt("the sweep was killed")
            error = None
            try:
                with recorder:
                    if spec.config_id in self.fail:
                        raise RuntimeError(f"{spec.run_id} failed")
                    self.epochs_per_launch.append((spec.run_id, budget - done))
                    self.budgets.append(budget)
                    self.trained[spec.run_id] = budget
                    recorder.update(epochs_trained=budget)
            except Exception as exc:
                error = error_record(exc)
            value = None if error else self.quality[spec.config_id] * budget + 0.001 * (spec.seed or 0)
            results.append(JobOutcome(error=error, run_dir=f"runs/{spec.run_id}", value=value))
        return results


def start_study(sweep_dir: Path, n_configs: int, seeds=(0, 1)):
    lr = Factor("optimizer.lr", tuple(Level(f"optimizer.lr={i}e-4", i * 1e-4) for i in range(1, n_configs + 1)))
    specs = expand_design([lr], design="halving", seeds=list(seeds))
    study = {"study": None, "design": "halving", "factors": {}, "seeds": list(seeds), "seed_key": "seed"}
    plan = plan_sweep(
        specs, {s.run_id: f"hash-{s.run_id}" for s in specs}, sweep_dir, study=study, previous=None, budget_runs=None
    )
    save_manifest(sweep_dir, plan.manifest)
    outcome.reset(sweep_dir)
    configs = list(dict.fromkeys(s.config_id for s in specs))
    return specs, configs


OPTIONS = StudyOptions(design="halving", eta=3, min_epochs=2, max_epochs=18, run_subdir="runs")


def entries(sweep_dir: Path) -> dict[str, dict]:
    return {run["run_id"]: run for run in load_manifest(sweep_dir)["runs"]}


def test_a_study_trains_each_rung_once_continuing_promoted_runs(tmp_path):
    specs, configs = start_study(tmp_path, 9)
    quality = {c: q for c, q in zip(configs, [0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4, 0.5, 0.6])}
    trainer = Trainer(tmp_path, quality)
    result = run_halving(tmp_path, specs, trainer, RunnerPolicy(batch_size=4), OPTIONS)
    assert result.stop_reason is None and result.counts == {"completed": 18}
    # no epoch twice: each launch trained from where the run stood, and in all as planned
    assert sum(epochs for _, epochs in trainer.epochs_per_launch) == planned_epochs(OPTIONS.rungs(9), 2) == 84
    assert all(epochs > 0 for _, epochs in trainer.epochs_per_launch)
    runs = entries(tmp_path)
    reached = {c: max(r["rung"] for r in runs.values() if r["config_id"] == c) for c in configs}
    ranked = sorted(configs, key=quality.get, reverse=True)
    assert [c for c in configs if reached[c] == 2] == [ranked[0]]
    assert {c for c in configs if reached[c] >= 1} == set(ranked[:3])
    best_run = next(r for r in runs.values() if r["config_id"] == ranked[0])
    assert best_run["rung_values"] == {
        str(i): pytest.approx(quality[ranked[0]] * e + 0.001 * best_run["seed"]) for i, e in enumerate((2, 6, 18))
    }
    promotions = read_events(tmp_path / "events.jsonl").of("promotion")
    assert [p["promoted"] for p in promotions] == [ranked[:3], ranked[:1]]


def test_a_configuration_that_failed_in_rung_0_is_not_promoted(tmp_path):
    specs, configs = start_study(tmp_path, 3, seeds=(0,))
    trainer = Trainer(tmp_path, dict(zip(configs, [0.1, 0.9, 0.5])), fail={configs[1]})
    result = run_halving(tmp_path, specs, trainer, RunnerPolicy(batch_size=3), OPTIONS)
    promotions = read_events(tmp_path / "events.jsonl").of("promotion")
    assert promotions[0]["promoted"] == [configs[2]]  # the best one failed: the next best goes on
    assert result.counts == {"completed": 2, "failed": 1}
    assert outcome.exit_status() == 1


def test_a_time_budget_stops_between_rungs_and_a_resume_finishes_without_repeating_one(tmp_path):
    specs, configs = start_study(tmp_path, 9, seeds=(0,))
    trainer = Trainer(tmp_path, dict(zip(configs, [i / 10 for i in range(9)])))
    ticks = iter(range(10_000))
    clock = lambda: float(next(ticks))  # noqa: E731 - one tick per look at the clock
    policy = RunnerPolicy(batch_size=9, time_budget_s=3)
    first = run_halving(tmp_path, specs, trainer, policy, OPTIONS, clock=clock)
    assert first.stop_reason.startswith("time budget of 3 s spent before rung")
    stopped_at = read_events(tmp_path / "events.jsonl").of("rung_start")[-1]["rung"]
    assert stopped_at < 2  # rung 2 was not started: the rung in progress was finished first
    launched_before = len(trainer.budgets)
    second = run_halving(tmp_path, specs, trainer, RunnerPolicy(batch_size=9), OPTIONS)
    assert second.stop_reason is None
    assert trainer.budgets[launched_before:] == [6, 6, 6, 18]  # rungs 1 and 2 only, rung 0 not again
    assert sum(e for _, e in trainer.epochs_per_launch) == planned_epochs(OPTIONS.rungs(9), 1)


def test_a_sweep_killed_during_rung_1_resumes_to_the_epochs_of_an_uninterrupted_one(tmp_path):
    specs, configs = start_study(tmp_path, 9, seeds=(0,))
    quality = dict(zip(configs, [0.3, 0.1, 0.9, 0.2, 0.8, 0.4, 0.7, 0.5, 0.6]))
    trainer = Trainer(tmp_path, quality, kill_at=(6, 2))  # the second run of rung 1 (6 epochs)
    with pytest.raises(KeyboardInterrupt):
        run_halving(tmp_path, specs, trainer, RunnerPolicy(batch_size=1), OPTIONS)
    assert sum(run.get("rung") == 1 for run in entries(tmp_path).values()) == 3
    run_halving(tmp_path, specs, trainer, RunnerPolicy(batch_size=1), OPTIONS)
    assert sum(e for _, e in trainer.epochs_per_launch) == planned_epochs(OPTIONS.rungs(9), 1)
    assert trainer.trained == {
        s.run_id: max(e for i, e in enumerate((2, 6, 18)) if entries(tmp_path)[s.run_id]["rung"] >= i) for s in specs
    }
    ranked = sorted(configs, key=quality.get, reverse=True)
    assert [r["config_id"] for r in entries(tmp_path).values() if r["rung"] == 2] == [ranked[0]]
    assert math.isclose(
        entries(tmp_path)[specs[configs.index(ranked[0])].run_id]["rung_values"]["2"], quality[ranked[0]] * 18
    )
