"""The grid design launches exactly BasicSweeper's jobs: same runs, same override lists, same order.

The sweeper's parser (``factors.parse_factors``, Hydra's own override grammar with a
config loader over spectramind's configs, so ``glob()`` sees the real config groups) plus
``expand_design`` is compared with ``BasicSweeper.split_arguments`` on the same parsed overrides,
for hand-picked grammar cases and for generated ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra._internal.utils import create_config_search_path
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hypothesis import given, settings
from hypothesis import strategies as st

import spectramind
from hydra_plugins.spectramind_ablation.factors import parse_factors
from spectramind.ablation.design import expand_design
from spectramind.errors import ConfigurationError


@pytest.fixture(scope="module")
def config_loader() -> ConfigLoaderImpl:
    return ConfigLoaderImpl(config_search_path=create_config_search_path("pkg://spectramind.conf"))


def ablation_jobs(config_loader, lines: list[str], params: dict[str, str] | None = None) -> list[list[str]]:
    return [list(spec.overrides) for spec in expand_design(parse_factors(config_loader, params, lines))]


def basic_jobs(config_loader, lines: list[str]) -> list[list[str]]:
    overrides = OverridesParser.create(config_loader=config_loader).parse_overrides(lines)
    return BasicSweeper.split_arguments(overrides, None)[0]


CASES = {
    "comma lists": ["model=mlp,cnn1d", "optimizer.lr=1e-3,1e-2"],
    "fixed between sweeps": ["model=mlp,cnn1d", "training.epochs=3", "loss=gll,mse"],
    "range": ["training.epochs=range(1,4)", "seed=range(0,10,5)"],
    "float range": ["optimizer.lr=range(0.1,0.4,0.1)"],
    "choice": ["model=choice(mlp,cnn1d)", "data.batch_size=choice(16,32,64)"],
    "tagged choice": ["loss=tag(objective,choice(gll,mse))"],
    "glob over a config group": ["model=glob(*)", "optimizer=glob(*,exclude=sgd)"],
    "quoted strings": ["+note='a,b',\"c d\",plain"],
    "null": ["data.simulation=null", "+extra=null,1"],
    "append and force-append": ["+data.simulation.n_planets=40,80", "++trainer.min_epochs=1"],
    "delete": ["~data.simulation", "model=mlp,cnn1d"],
    "lists and dicts as levels": ["+tags=[a,b],[c]", "+opts={x:1},{x:2}"],
    "a key given twice keeps its first position and last value": ["model=mlp", "loss=gll,mse", "model=cnn1d,mlp"],
    "interpolation": ["+lr_copy=${optimizer.lr},0.5"],
    "escaped comma": ["+text=a\\,b,c"],
    "no sweep at all": ["model=mlp"],
}


@pytest.mark.parametrize("lines", list(CASES.values()), ids=list(CASES))
def test_grid_jobs_equal_basic_sweeper_jobs(config_loader, lines):
    expected = basic_jobs(config_loader, lines)
    assert ablation_jobs(config_loader, lines) == expected
    assert len(expected) >= 1


def test_study_params_come_before_the_command_line_like_basic_sweeper_params(config_loader):
    params = {"model": "mlp,cnn1d", "loss": "gll,mse"}
    lines = ["optimizer.lr=1e-3,1e-2", "loss=mse"]
    expected = basic_jobs(config_loader, [f"{k}={v}" for k, v in params.items()] + lines)
    assert ablation_jobs(config_loader, lines, params=params) == expected
    assert len(expected) == 4  # loss=mse from the command line replaces the study's loss levels


def test_glob_expands_to_the_config_group_options(config_loader):
    options = sorted(path.stem for path in (Path(spectramind.__file__).parent / "conf" / "model").glob("*.yaml"))
    assert len(options) >= 2 and "cnn1d" in options
    assert ablation_jobs(config_loader, ["model=glob(*)"]) == [[f"model={name}"] for name in options]
    assert ablation_jobs(config_loader, ["model=glob(*,exclude=cnn1d)"]) == [
        [f"model={name}"] for name in options if name != "cnn1d"
    ]


def test_shuffled_sweeps_give_the_same_job_set(config_loader):
    lines = ["+x=shuffle(1,2,3)", "training.epochs=shuffle(range(1,4))"]
    assert sorted(ablation_jobs(config_loader, lines)) == sorted(basic_jobs(config_loader, lines))


def test_interval_sweeps_are_refused_like_basic_sweeper(config_loader):
    with pytest.raises(HydraException, match="does not support sweep type : INTERVAL_SWEEP"):
        ablation_jobs(config_loader, ["optimizer.lr=interval(0.1,1.0)"])


# ---------------------------------------------------------------- generated grammar
SCALARS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).map(lambda v: f"{v:g}"),
    st.sampled_from(["true", "false", "null", "mlp", "abc_1", "'q,x'", '"two words"', "[1,2]", "{k:v}"]),
)


@st.composite
def override_lines(draw):
    keys = draw(st.lists(st.sampled_from(["a", "b.c", "d", "e.f", "seed"]), min_size=1, max_size=4, unique=True))
    lines = []
    for key in keys:
        prefix = draw(st.sampled_from(["+", "++"]))
        kind = draw(st.sampled_from(["fixed", "list", "range", "choice"]))
        if kind == "fixed":
            lines.append(f"{prefix}{key}={draw(SCALARS)}")
        elif kind == "range":
            start = draw(st.integers(-5, 5))
            lines.append(f"{prefix}{key}=range({start},{start + draw(st.integers(1, 4))})")
        else:
            values = draw(st.lists(SCALARS, min_size=2, max_size=3, unique=True))
            joined = ",".join(values)
            lines.append(f"{prefix}{key}=" + (joined if kind == "list" else f"choice({joined})"))
    if draw(st.booleans()):
        lines.append("~data.simulation")
    return draw(st.permutations(lines))


@settings(max_examples=150, deadline=None)
@given(override_lines())
def test_generated_grids_equal_basic_sweeper(config_loader, lines):
    lines = list(lines)
    try:
        expected = basic_jobs(config_loader, lines)
    except HydraException:  # Hydra's grammar refuses it (e.g. null inside choice()): so do we
        with pytest.raises(HydraException):
            ablation_jobs(config_loader, lines)
        return
    if len(set(map(tuple, expected))) != len(expected):
        # Hydra prints two levels alike ('1.0' twice): BasicSweeper would train one run twice in one
        # directory; the ablation sweeper refuses the study instead
        with pytest.raises(ConfigurationError, match="more than once"):
            ablation_jobs(config_loader, lines)
        return
    assert ablation_jobs(config_loader, lines) == expected
