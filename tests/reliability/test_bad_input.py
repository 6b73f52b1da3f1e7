"""Bad input to the command line and to study files. Expected for each: the sweep is rejected
before any run starts (no runs/, no sweep.json), with one line ``error: ...`` (exit 2, no
traceback) naming the offending key or value. Then properties of design expansion that the
sweeper tests' own property tests (tests/ablation/test_design.py) leave out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_support import single_error_line, spectramind
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep_helpers import run_sweep, run_training

from spectramind.ablation.design import Factor, Level, expand_design
from spectramind.errors import ConfigurationError
from spectramind.tracking.identity import run_identity

from .battery import error_line

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

SWEEP = "model=mlp,cnn1d"

# Values that compose but that the training (Lightning, torch, the data module) would reject only
# once it runs: the pre-flight check (spectramind.config_checks) must reject them. Checked
# in-process on the composed config, and the first four also end to end below.
# (id, overrides, text the error must contain)
BAD_VALUES = [
    ("wrong type of a trainer value", ["trainer.log_every_n_steps=abc"], "trainer.log_every_n_steps='abc'"),
    ("negative learning rate", ["optimizer.lr=-0.001"], "-0.001"),
    ("zero epochs", ["training.epochs=0"], "training.epochs must be an integer >= 1, got 0"),
    ("non-integer seed", ["seed=0.5"], "seed must be an integer, got 0.5"),
    ("zero epochs budget", ["budget_epochs=0"], "budget_epochs must be null or an integer >= 1, got 0"),
    (
        "epochs set on the trainer apart",
        ["trainer.max_epochs=5"],
        "trainer.max_epochs=5 disagrees with training.epochs=",
    ),
    ("wrong type of a data value", ["data.batch_size=many"], "'many'"),
    ("wrong type of a boolean", ["trainer.deterministic=maybe"], "trainer.deterministic='maybe'"),
    ("negative thread count", ["num_threads=-2"], "num_threads must be an integer >= 1 or null, got -2"),
    ("fraction out of range", ["data.val_fraction=0.6"], "data.val_fraction must be in (0, 0.5), got 0.6"),
    ("unknown trainer argument", ["+trainer.max_epoch=3"], "['max_epoch'] are not arguments"),
    ("precision that does not exist", ["trainer.precision=31"], "trainer.precision=31"),
    ("wrong type of an optimizer value", ["optimizer.lr=abc"], "optimizer.lr='abc': expected float or Tensor"),
    ("wrong type of an optimizer tuple", ["+optimizer.betas=[0.9,fast]"], "optimizer.betas=[0.9, 'fast']"),
]

# Rejected while the sweep is parsed and planned: (id, arguments after the tiny-training overrides,
# text the error line must contain)
BAD_COMMAND_LINES = [
    *[(f"{name} (end to end)", [SWEEP, *overrides], culprit) for name, overrides, culprit in BAD_VALUES[:4]],
    ("unknown key", [SWEEP, "nosuch.key=1"], "nosuch.key"),
    ("unknown key under a group", [SWEEP, "optimizer.momentum_typo=0.9"], "optimizer.momentum_typo"),
    ("empty factor", ["optimizer.lr=choice()"], "choice()"),
    ("duplicate levels", ["model=mlp,cnn1d,mlp"], "['mlp'] more than once"),
    ("levels that are the same value", ["optimizer.lr=1e-3,0.001"], "['0.001'] more than once"),
    ("non-integer sweep seeds", [SWEEP, "hydra.sweeper.seeds=[0,1.5]"], "Value '1.5'"),
    ("seed both swept and seeded", ["seed=1,2", "hydra.sweeper.seeds=[0]"], "'seed' is both overridden"),
    ("study that does not exist", ["ablation=no_such_study"], "ablation/no_such_study"),
    ("unknown design", [SWEEP, "hydra.sweeper.design=latin"], "unknown design 'latin'"),
    (
        "baseline that is not a level",
        [SWEEP, "hydra.sweeper.design=ofat", "++hydra.sweeper.baseline={model:rnn}"],
        "baseline model=rnn is not one of the levels",
    ),
    ("random design without max_runs", [SWEEP, "hydra.sweeper.design=random"], "needs max_runs"),
    ("zero max_runs", [SWEEP, "hydra.sweeper.max_runs=0"], "max_runs must be >= 1, got 0"),
    ("negative retries", [SWEEP, "hydra.sweeper.max_retries=-1"], "max_retries must be >= 0"),
    ("run_subdir leaving the sweep", [SWEEP, "hydra.sweeper.run_subdir=../elsewhere"], "'../elsewhere'"),
    ("absolute run_subdir", [SWEEP, "hydra.sweeper.run_subdir=/tmp/elsewhere"], "'/tmp/elsewhere'"),
    ("unparsable override", [SWEEP, "optimizer.lr=["], "optimizer.lr=["),
    (
        "validator that cannot be imported",
        [SWEEP, "hydra.sweeper.validate=no_such_module.check"],
        "hydra.sweeper.validate=no_such_module.check: cannot import it",
    ),
    (
        "warm-up that cannot be imported",
        [SWEEP, "hydra.sweeper.warm_up=no_such_module.warm"],
        "hydra.sweeper.warm_up=no_such_module.warm: cannot import it",
    ),
    # the joblib workers are warming while the pre-flight fails: they are stopped, nothing printed
    (
        "bad value while joblib workers warm up",
        [SWEEP, "optimizer.lr=-0.001", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        "-0.001",
    ),
]

# Study files in a temporary config folder added with hydra.searchpath: (file text, expected text)
BAD_STUDY_FILES = {
    "malformed_yaml": (
        "# @package _global_\nhydra:\n  sweeper:\n    params: {model: mlp, cnn1d\n",
        "malformed_yaml.yaml",
    ),
    "seeds_not_integers": (
        "# @package _global_\nhydra:\n  sweeper:\n    params: {model: 'mlp,cnn1d'}\n    seeds: [zero, one]\n",
        "'zero'",
    ),
    "empty_levels": ("# @package _global_\nhydra:\n  sweeper:\n    params: {optimizer.lr: 'choice()'}\n", "choice()"),
    "unknown_sweeper_option": ("# @package _global_\nhydra:\n  sweeper:\n    desing: grid\n", "desing"),
    "not_a_mapping": ("# @package _global_\n- model\n- mlp\n", "not_a_mapping"),
}


def assert_rejected_before_any_run(result: subprocess.CompletedProcess, sweep_dir: Path, culprit: str) -> None:
    line = error_line(result)
    assert culprit in line, line
    assert_nothing_started(sweep_dir)


def assert_nothing_started(sweep_dir: Path) -> None:
    assert not (sweep_dir / "runs").exists() and not (sweep_dir / "sweep.json").exists()


@pytest.mark.parametrize("overrides, culprit", [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES])
def test_bad_values_fail_the_pre_flight_check(tiny_data_dir, overrides, culprit):
    from hydra import compose, initialize_config_module

    from spectramind.config_checks import check_training_config
    from spectramind.errors import ConfigurationError

    with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"data.data_dir={tiny_data_dir}", *overrides])
    with pytest.raises(ConfigurationError) as caught:
        check_training_config(cfg)
    assert culprit in str(caught.value)


@pytest.mark.parametrize("args, culprit", [c[1:] for c in BAD_COMMAND_LINES], ids=[c[0] for c in BAD_COMMAND_LINES])
def test_bad_command_line_is_rejected_before_any_run(tmp_path, train_overrides, args, culprit):
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(tmp_path, *train_overrides, *args, f"hydra.sweep.dir={sweep_dir}")
    assert_rejected_before_any_run(result, sweep_dir, culprit)


@pytest.mark.parametrize("name", BAD_STUDY_FILES)
def test_bad_study_file_is_rejected_before_any_run(tmp_path, train_overrides, name):
    text, culprit = BAD_STUDY_FILES[name]
    config_dir = tmp_path / "config"
    (config_dir / "ablation").mkdir(parents=True)
    (config_dir / "ablation" / f"{name}.yaml").write_text(text)
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(
        tmp_path,
        *train_overrides,
        f"ablation={name}",
        f"hydra.searchpath=[file://{config_dir}]",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert_rejected_before_any_run(result, sweep_dir, culprit)


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["ablate", "run", SWEEP, "training.epochs=0"], "training.epochs must be an integer >= 1"),
        (["ablate", "run", "no_such_study"], "no_such_study"),
    ],
    ids=["zero epochs", "study that does not exist"],
)
def test_the_cli_rejects_bad_input_in_one_line(tmp_path, train_overrides, args, culprit):
    sweep_dir = tmp_path / "sweep"
    words = [*args[:2], *([*train_overrides, *args[2:]] if "=" in args[2] else args[2:])]
    result = spectramind(*words, "--sweep-dir", sweep_dir, cwd=tmp_path)
    assert culprit in single_error_line(result)
    assert_nothing_started(sweep_dir)


def test_a_bad_value_in_a_single_run_is_one_line_before_anything_is_written(tmp_path, train_overrides):
    run_dir = tmp_path / "run"
    result = run_training(tmp_path, *train_overrides, "training.epochs=abc", f"hydra.run.dir={run_dir}")
    assert "training.epochs must be an integer >= 1, got 'abc'" in error_line(result)
    assert not (run_dir / "run.json").exists()


# ---------------------------------------------------------------- design expansion properties
# Level texts as a user may type them, separators, quotes, dots and non-ASCII included.
LEVEL_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


@st.composite
def text_studies(draw):
    keys = draw(
        st.lists(
            st.sampled_from(["model", "loss", "+tag", "optimizer.lr", "data.detrend"]),
            unique=True,
            min_size=1,
            max_size=3,
        )
    )
    factors = [
        Factor(
            key.lstrip("+"),
            tuple(Level(f"{key}={text}") for text in draw(st.lists(LEVEL_TEXT, unique=True, min_size=1, max_size=3))),
        )
        for key in keys
    ]
    seeds = draw(st.none() | st.lists(st.integers(0, 9), unique=True, min_size=1, max_size=2))
    return factors, seeds


@settings(max_examples=150, deadline=None)
@given(text_studies(), st.sampled_from(["grid", "ofat"]))
def test_run_ids_are_safe_single_path_components_whatever_the_levels(study, design):
    """Property: for any level text (``../``, ``/``, quotes, unicode), run ids and config ids are
    one safe path component (ASCII letters, digits, ``._-``; not ``..``, not hidden), unique per
    run, and derived again from the overrides alone."""
    factors, seeds = study
    try:
        specs = expand_design(factors, design=design, seeds=seeds)
    except ConfigurationError as exc:  # levels that normalise alike (``1`` and ``01``, ``a`` and `` a``)
        assert "are the same run" in str(exc)
        return
    for spec in specs:
        for name in (spec.run_id, spec.config_id):
            assert name not in (".", "..") and not name.startswith((".", "-"))  # not hidden, not an option
            assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in name), name
        assert run_identity(spec.overrides).run_id == spec.run_id
    assert len({s.run_id for s in specs}) == len(specs)


_EXPAND_IN_A_FRESH_INTERPRETER = textwrap.dedent("""
    import json, sys
    from spectramind.ablation.design import Factor, Level, expand_design
    study = json.loads(sys.argv[1])
    factors = [Factor(k, tuple(Level(f"{k}={v}", v) for v in levels)) for k, levels in study["factors"]]
    specs = expand_design(factors, design="random", max_runs=study["max_runs"], random_seed=study["seed"],
                          seeds=study["seeds"])
    print(json.dumps([[s.run_id, list(s.overrides)] for s in specs]))
""")


@settings(max_examples=5, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 99), unique=True, min_size=2, max_size=4), min_size=1, max_size=3),
    st.integers(1, 10),
    st.integers(0, 10_000),
    st.none() | st.lists(st.integers(0, 5), unique=True, min_size=1, max_size=2),
)
def test_random_designs_are_the_same_in_every_interpreter(levels, max_runs, seed, seeds):
    """Property: a random design is a function of its study alone, not of the process (string
    hashing is randomised per interpreter: PYTHONHASHSEED), so a resumed sweep plans the same runs."""
    study = {
        "factors": [[f"f{i}", values] for i, values in enumerate(levels)],
        "max_runs": max_runs,
        "seed": seed,
        "seeds": seeds,
    }
    outputs = set()
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", _EXPAND_IN_A_FRESH_INTERPRETER, json.dumps(study)],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    factors = [Factor(k, tuple(Level(f"{k}={v}", v) for v in values)) for k, values in study["factors"]]
    here = expand_design(factors, design="random", max_runs=max_runs, random_seed=seed, seeds=seeds)
    assert json.loads(outputs.pop()) == [[s.run_id, list(s.overrides)] for s in here]
