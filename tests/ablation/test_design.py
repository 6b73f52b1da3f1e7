"""expand_design: run counts of every design × seeds, baselines, seeded random draws, and the
errors a study can make. Properties (counts, unique ids, determinism) are checked with hypothesis."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectramind.ablation.design import Factor, Level, expand_design
from spectramind.errors import ConfigurationError
from spectramind.tracking.identity import run_identity


def factor(key: str, *texts: str) -> Factor:
    return Factor(key, tuple(Level(f"{key}={text}", text) for text in texts))


MODEL = factor("model", "mlp", "cnn1d")
LOSS = factor("loss", "gll", "mse")
LR = factor("optimizer.lr", "0.001", "0.003", "0.01")
EPOCHS = factor("training.epochs", "2")  # a constant: applied to every run, never varied


def config_lines(spec) -> list[str]:
    return [line for line in spec.overrides if not line.startswith("seed=")]


# ---------------------------------------------------------------- grid
def test_grid_is_the_cartesian_product_in_command_line_order():
    specs = expand_design([MODEL, EPOCHS, LR])
    assert len(specs) == 2 * 3
    assert [list(s.overrides) for s in specs][:2] == [
        ["model=mlp", "training.epochs=2", "optimizer.lr=0.001"],
        ["model=mlp", "training.epochs=2", "optimizer.lr=0.003"],
    ]
    assert {tuple(s.overrides) for s in specs} == {
        (m.line, EPOCHS.levels[0].line, lr.line) for m in MODEL.levels for lr in LR.levels
    }
    assert all(s.factors.keys() == {"model", "optimizer.lr"} for s in specs)  # constants are not factors


@pytest.mark.parametrize("seeds", [[0], [0, 1], [3, 1, 4]])
def test_seeds_cross_every_configuration(seeds):
    specs = expand_design([MODEL, LR], seeds=seeds)
    assert len(specs) == 2 * 3 * len(seeds)
    by_config: dict[str, list] = {}
    for spec in specs:
        assert spec.overrides[-1] == f"seed={spec.seed}"
        by_config.setdefault(spec.config_id, []).append(spec.seed)
    assert len(by_config) == 6
    assert all(sorted(found) == sorted(seeds) for found in by_config.values())


def test_seed_key_is_configurable():
    specs = expand_design([MODEL], seeds=[7], seed_key="trainer.seed")
    assert [s.overrides[-1] for s in specs] == ["trainer.seed=7", "trainer.seed=7"]


def test_a_study_without_factors_is_one_run_per_seed():
    assert len(expand_design([])) == 1
    assert len(expand_design([EPOCHS], seeds=[0, 1])) == 2


# ---------------------------------------------------------------- ofat
def test_ofat_is_baseline_plus_each_other_level_of_each_factor():
    baseline = {"model": MODEL.levels[1], "loss": LOSS.levels[0], "optimizer.lr": LR.levels[1]}
    specs = expand_design([MODEL, LOSS, LR, EPOCHS], design="ofat", baseline=baseline, seeds=[0, 1])
    n_configs = 1 + (2 - 1) + (2 - 1) + (3 - 1)
    assert len(specs) == n_configs * 2
    base = [s for s in specs if s.is_baseline]
    assert [s.seed for s in base] == [0, 1] and specs[0].is_baseline
    assert base[0].factors == {"model": "cnn1d", "loss": "gll", "optimizer.lr": "0.003"}
    for spec in specs:
        assert "training.epochs=2" in spec.overrides
        differing = [k for k, v in spec.factors.items() if v != base[0].factors[k]]
        assert len(differing) == (0 if spec.is_baseline else 1)
    varied_levels = {(k, v) for s in specs for k, v in s.factors.items() if v != base[0].factors[k]}
    assert varied_levels == {("model", "mlp"), ("loss", "mse"), ("optimizer.lr", "0.001"), ("optimizer.lr", "0.01")}


def test_ofat_baseline_compares_values_not_spelling():
    lr = Factor("optimizer.lr", (Level("optimizer.lr=1e-3", 0.001), Level("optimizer.lr=3e-3", 0.003)))
    specs = expand_design([lr], design="ofat", baseline={"optimizer.lr": Level("optimizer.lr=0.003", 0.003)})
    assert [s.overrides for s in specs] == [("optimizer.lr=3e-3",), ("optimizer.lr=1e-3",)]


def test_ofat_without_a_baseline_level_uses_the_composed_default():
    specs = expand_design([MODEL, LOSS], design="ofat", baseline={"model": MODEL.levels[0]})
    # loss has no baseline level: the baseline run leaves loss alone, both loss levels are variations
    assert len(specs) == 1 + (2 - 1) + 2
    assert specs[0].overrides == ("model=mlp",) and specs[0].factors["loss"] == "(default)"


# ---------------------------------------------------------------- random
def test_random_draws_max_runs_distinct_grid_configurations_seeded():
    grid = {tuple(s.overrides) for s in expand_design([MODEL, LOSS, LR])}
    first = expand_design([MODEL, LOSS, LR], design="random", max_runs=5, random_seed=1)
    again = expand_design([MODEL, LOSS, LR], design="random", max_runs=5, random_seed=1)
    assert first == again
    drawn = [tuple(s.overrides) for s in first]
    assert len(drawn) == len(set(drawn)) == 5 and set(drawn) <= grid
    other_draws = {
        frozenset(
            tuple(s.overrides) for s in expand_design([MODEL, LOSS, LR], design="random", max_runs=5, random_seed=seed)
        )
        for seed in range(2, 8)
    }
    assert len(other_draws) > 1  # the seed matters


def test_random_with_more_runs_than_the_grid_runs_the_whole_grid_once():
    specs = expand_design([MODEL, LOSS], design="random", max_runs=50, seeds=[0, 1])
    assert len(specs) == 4 * 2


# ---------------------------------------------------------------- identity and errors
def test_run_ids_are_the_identity_of_the_overrides():
    for spec in expand_design([MODEL, LR], seeds=[0]):
        identity = run_identity(spec.overrides)
        assert (spec.run_id, spec.config_id, spec.label) == (identity.run_id, identity.config_id, identity.label)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"design": "latin"}, "unknown design 'latin'"),
        ({"design": "random"}, "needs max_runs"),
        ({"seeds": [0, 0]}, "duplicates"),
        ({"seeds": [0, "1"]}, "must be integers"),
        ({"seeds": [True]}, "must be integers"),
    ],
)
def test_invalid_studies_are_configuration_errors(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        expand_design([MODEL], **kwargs)


def test_a_level_listed_twice_is_refused():
    with pytest.raises(ConfigurationError, match="more than once"):
        factor("model", "mlp", "mlp")


def test_levels_that_normalise_alike_are_refused():
    lr = Factor("optimizer.lr", (Level("optimizer.lr=1e-3", 0.001), Level("optimizer.lr=0.001", 0.001)))
    with pytest.raises(ConfigurationError, match="are the same run"):
        expand_design([lr])


def test_seed_key_cannot_be_both_a_factor_and_seeded():
    with pytest.raises(ConfigurationError, match="'seed' is both overridden and set by seeds"):
        expand_design([factor("seed", "1", "2")], seeds=[0])


# ---------------------------------------------------------------- properties
KEYS = ("a", "b.c", "d", "e.f.g", "h")


@st.composite
def studies(draw):
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=4))
    factors = []
    for key in keys:
        values = draw(st.lists(st.integers(-50, 50), unique=True, min_size=1, max_size=4))
        factors.append(Factor(key, tuple(Level(f"{key}={v}", v) for v in values)))
    seeds = draw(st.none() | st.lists(st.integers(0, 99), unique=True, min_size=1, max_size=3))
    design = draw(st.sampled_from(["grid", "ofat", "random"]))
    max_runs = draw(st.integers(1, 30)) if design == "random" else None
    baseline = {}
    for f in factors:
        if f.is_varied and draw(st.booleans()):
            baseline[f.key] = draw(st.sampled_from(f.levels))
    return dict(
        factors=factors,
        design=design,
        seeds=seeds,
        max_runs=max_runs,
        baseline=baseline,
        random_seed=draw(st.integers(0, 1000)),
    )


def expected_configurations(study) -> int:
    varied = [f for f in study["factors"] if f.is_varied]
    grid = math.prod(len(f.levels) for f in varied)
    if study["design"] == "grid":
        return grid
    if study["design"] == "random":
        return min(study["max_runs"], grid)
    return 1 + sum(len(f.levels) - (1 if f.key in study["baseline"] else 0) for f in varied)


@settings(max_examples=200, deadline=None)
@given(studies())
def test_expansion_properties(study):
    specs = expand_design(**study)
    n_seeds = len(study["seeds"] or [None])
    assert len(specs) == expected_configurations(study) * n_seeds
    assert len({s.run_id for s in specs}) == len(specs)
    assert len({s.config_id for s in specs}) == len(specs) // n_seeds
    assert expand_design(**study) == specs  # deterministic
    grid = {tuple(config_lines(s)) for s in expand_design(study["factors"])}
    if study["design"] != "ofat":
        assert {tuple(config_lines(s)) for s in specs} <= grid
    constants = [f.levels[0].line for f in study["factors"] if not f.is_varied]
    assert all(set(constants) <= set(s.overrides) for s in specs)


@settings(max_examples=50, deadline=None)
@given(studies(), st.permutations(range(3)))
def test_run_ids_do_not_depend_on_override_order(study, order):
    for spec in expand_design(**study):
        lines = list(spec.overrides)
        shuffled = [lines[i] for i in order if i < len(lines)] + lines[3:]
        assert run_identity(shuffled).run_id == spec.run_id


def test_ofat_order_is_factor_by_factor():
    specs = expand_design([MODEL, LR], design="ofat", baseline={"model": MODEL.levels[0], "optimizer.lr": LR.levels[0]})
    changed = [next((k for k, v in s.factors.items() if v != specs[0].factors[k]), None) for s in specs]
    assert changed == [None, "model", "optimizer.lr", "optimizer.lr"]
    assert list(itertools.chain.from_iterable(s.overrides for s in specs[:1])) == ["model=mlp", "optimizer.lr=0.001"]
