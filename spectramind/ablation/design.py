"""Pure expansion of an ablation study into the list of runs to train (no Hydra needed).

A study is a set of factors (each a config key with an ordered list of levels, every level an
override line such as ``model=mlp``), fixed overrides applied to every run, a design, seeds and a
baseline. Designs:

* ``grid`` — the Cartesian product, in the same order as Hydra's BasicSweeper;
* ``ofat`` — one factor at a time: the baseline, then each non-baseline level of each factor with
  every other factor at its baseline level (``1 + Σ(levels - 1)`` configurations);
* ``random`` — ``max_runs`` configurations drawn from the grid without replacement, seeded.

Every configuration is crossed with ``seeds`` (the seed override is appended last).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

from spectramind.errors import ConfigurationError
from spectramind.tracking.identity import run_identity

DESIGNS = ("grid", "ofat", "random")


@dataclass(frozen=True)
class Level:
    """One level of a factor: the override line and the parsed value used to compare levels."""

    line: str
    value: Any = None

    @property
    def text(self) -> str:
        return self.line.partition("=")[2]


@dataclass(frozen=True)
class Factor:
    key: str
    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ConfigurationError(f"factor {self.key!r} has no levels")
        texts = [level.text for level in self.levels]
        duplicates = sorted({t for t in texts if texts.count(t) > 1})
        if duplicates:
            raise ConfigurationError(f"factor {self.key!r} lists level(s) {duplicates} more than once")


@dataclass(frozen=True)
class RunSpec:
    """One planned run: its identity, its overrides, and where it sits in the study."""

    run_id: str
    config_id: str
    label: str
    overrides: tuple[str, ...]
    factors: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    is_baseline: bool = False


def expand_design(
    factors: Sequence[Factor],
    fixed: Sequence[str] = (),
    design: str = "grid",
    seeds: Sequence[int] | None = None,
    seed_key: str = "seed",
    baseline: dict[str, Level] | None = None,
    max_runs: int | None = None,
    random_seed: int = 0,
) -> list[RunSpec]:
    """Expand a study into RunSpecs (one per configuration × seed), in launch order."""
    if design not in DESIGNS:
        raise ConfigurationError(f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")
    seeds = _check_seeds(seeds)
    baseline = baseline or {}
    if design == "grid":
        combos = [dict(zip([f.key for f in factors], levels))
                  for levels in itertools.product(*(f.levels for f in factors))]
    elif design == "random":
        if max_runs is None or max_runs < 1:
            raise ConfigurationError(f"design 'random' needs max_runs >= 1, got {max_runs!r}")
        grid = list(itertools.product(*(f.levels for f in factors)))
        picked = sorted(random.Random(random_seed).sample(range(len(grid)), min(max_runs, len(grid))))
        combos = [dict(zip([f.key for f in factors], grid[i])) for i in picked]
    else:
        combos = _ofat(factors, baseline)
    specs = []
    for combo in combos:
        lines = list(fixed) + [level.line for level in combo.values() if level is not None]
        values = {key: level.text if level is not None else "(default)" for key, level in combo.items()}
        is_baseline = _is_baseline(combo, baseline)
        for seed in seeds or [None]:
            run_lines = lines + ([f"{seed_key}={seed}"] if seed is not None else [])
            identity = run_identity(run_lines, seed_key=seed_key)
            specs.append(RunSpec(identity.run_id, identity.config_id, identity.label,
                                 tuple(run_lines), values, seed, is_baseline))
    return specs


def _ofat(factors: Sequence[Factor], baseline: dict[str, Level]) -> list[dict[str, Level | None]]:
    """Baseline first, then every non-baseline level of each factor with the rest at baseline."""
    base: dict[str, Level | None] = {f.key: baseline.get(f.key) for f in factors}
    combos = [dict(base)]
    for factor in factors:
        reference = baseline.get(factor.key)
        for level in factor.levels:
            if reference is not None and same_level(level, reference):
                continue
            combos.append({**base, factor.key: level})
    return combos


def _is_baseline(combo: dict[str, Level | None], baseline: dict[str, Level]) -> bool:
    """A configuration is the baseline when every factor sits at its baseline level."""
    if not baseline:
        return False
    for key, level in combo.items():
        reference = baseline.get(key)
        if (level is None) != (reference is None):
            return False
        if level is not None and not same_level(level, reference):
            return False
    return True


def same_level(a: Level, b: Level) -> bool:
    """Levels are equal when their parsed values are (``1e-3`` == ``0.001``), else by text."""
    if a.value is not None or b.value is not None:
        return a.value == b.value
    return a.text == b.text


def _check_seeds(seeds: Sequence[Any] | None) -> list[int]:
    if seeds is None:
        return []
    checked = []
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigurationError(f"seeds must be integers, got {seed!r}")
        checked.append(seed)
    if len(set(checked)) != len(checked):
        raise ConfigurationError(f"seeds {checked} contain duplicates")
    return checked

