"""Pure expansion of an ablation study into the list of runs to train (no Hydra needed).

A study is an ordered list of factors — one per override key, in command-line order, each with
its levels as override lines such as ``model=mlp`` — plus a design, seeds and a baseline. A
factor with a single level is a constant: it is applied to every run and never varied. Keeping
constants in their command-line position gives every run the same override list, in the same
order, as Hydra's BasicSweeper would (later overrides of one key win, so order matters).

Designs:

* ``grid`` — the Cartesian product, in the same order as Hydra's BasicSweeper;
* ``ofat`` — one factor at a time: the baseline, then each non-baseline level of each factor with
  every other factor at its baseline level (``1 + Σ(levels - 1)`` configurations);
* ``random`` — ``max_runs`` configurations drawn from the grid without replacement, seeded;
* ``halving`` — the grid's configurations, trained in rungs by successive halving (``halving.py``).

Every configuration is crossed with ``seeds`` (the seed override is appended last).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spectramind.errors import ConfigurationError
from spectramind.tracking.identity import run_identity

DESIGNS = ("grid", "ofat", "random", "halving")


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
    """A config key and its ordered levels; ``key`` is the config key without ``+``/``++``/``~``."""

    key: str
    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ConfigurationError(f"factor {self.key!r} has no levels")
        texts = [level.text for level in self.levels]
        duplicates = sorted({t for t in texts if texts.count(t) > 1})
        if duplicates:
            raise ConfigurationError(f"factor {self.key!r} lists level(s) {duplicates} more than once")

    @property
    def is_varied(self) -> bool:
        return len(self.levels) > 1


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
    design: str = "grid",
    seeds: Sequence[int] | None = None,
    seed_key: str = "seed",
    baseline: dict[str, Level] | None = None,
    max_runs: int | None = None,
    random_seed: int = 0,
) -> list[RunSpec]:
    """Expand a study into RunSpecs (one per configuration × seed), in launch order.

    ``baseline`` maps a varied factor's key to its baseline level; a factor without one has the
    composed default as baseline, i.e. the baseline run leaves that key alone (``ofat``).
    """
    check_design(design)
    seeds = _check_seeds(seeds)
    _check_keys(factors, seed_key if seeds else None)
    varied = [f for f in factors if f.is_varied]
    baseline = baseline_levels(varied, baseline or {})
    if design in ("grid", "halving"):  # halving schedules the grid's runs in rungs (halving.py)
        combos = [
            dict(zip([f.key for f in varied], levels)) for levels in itertools.product(*(f.levels for f in varied))
        ]
    elif design == "random":
        if max_runs is None or max_runs < 1:
            raise ConfigurationError(f"design 'random' needs max_runs >= 1, got {max_runs!r}")
        grid = list(itertools.product(*(f.levels for f in varied)))
        picked = sorted(random.Random(random_seed).sample(range(len(grid)), min(max_runs, len(grid))))
        combos = [dict(zip([f.key for f in varied], grid[i])) for i in picked]
    else:
        combos = _ofat(varied, baseline)
    specs: list[RunSpec] = []
    for combo in combos:
        lines = _override_lines(factors, combo)
        values = {key: level.text if level is not None else "(default)" for key, level in combo.items()}
        is_baseline = _is_baseline(combo, baseline)
        for seed in seeds or [None]:
            run_lines = lines + ([f"{seed_key}={seed}"] if seed is not None else [])
            identity = run_identity(run_lines, seed_key=seed_key)
            specs.append(
                RunSpec(
                    identity.run_id, identity.config_id, identity.label, tuple(run_lines), values, seed, is_baseline
                )
            )
    _check_unique(specs)
    return specs


def check_design(design: str) -> None:
    """One line naming the design when it is none of :data:`DESIGNS` (checked by the sweeper's
    options before anything runs, and here for callers that expand a study directly)."""
    if design not in DESIGNS:
        raise ConfigurationError(f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")


def _override_lines(factors: Sequence[Factor], combo: dict[str, Level | None]) -> list[str]:
    """One run's overrides in command-line order: constants as given, each varied factor at its
    level in ``combo`` (left out where that is None: the composed default)."""
    lines = []
    for factor in factors:
        level = combo[factor.key] if factor.is_varied else factor.levels[0]
        if level is not None:
            lines.append(level.line)
    return lines


def _ofat(varied: Sequence[Factor], baseline: dict[str, Level]) -> list[dict[str, Level | None]]:
    """Baseline first, then every non-baseline level of each factor with the rest at baseline."""
    base: dict[str, Level | None] = {f.key: baseline.get(f.key) for f in varied}
    combos = [dict(base)]
    for factor in varied:
        reference = baseline.get(factor.key)
        for level in factor.levels:
            if reference is not None and same_level(level, reference):
                continue
            combos.append({**base, factor.key: level})
    return combos


def baseline_levels(varied: Sequence[Factor], baseline: dict[str, Level]) -> dict[str, Level]:
    """The baseline as levels of the factors themselves (``0.003`` names the level ``3e-3``)."""
    levels = {}
    for factor in varied:
        if factor.key not in baseline:
            continue
        match = next((lvl for lvl in factor.levels if same_level(lvl, baseline[factor.key])), None)
        if match is None:
            raise ConfigurationError(
                f"baseline {factor.key}={baseline[factor.key].text} is not one of the levels "
                f"{[lvl.text for lvl in factor.levels]}"
            )
        levels[factor.key] = match
    unknown = sorted(set(baseline) - {f.key for f in varied})
    if unknown:
        raise ConfigurationError(f"baseline names {unknown}, which are not swept factors of this study")
    return levels


def _is_baseline(combo: dict[str, Level | None], baseline: dict[str, Level]) -> bool:
    """A configuration is the baseline when every varied factor sits at its baseline level."""
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


def _check_keys(factors: Sequence[Factor], seed_key: str | None) -> None:
    """A varied key may appear once, and never as the seed key when seeds are crossed in."""
    keys = [f.key for f in factors if f.is_varied]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigurationError(f"factor(s) {repeated} are swept by more than one override")
    if seed_key is not None and seed_key in {f.key for f in factors}:
        raise ConfigurationError(
            f"{seed_key!r} is both overridden and set by seeds; drop the override or the study's seeds"
        )


def _check_unique(specs: Sequence[RunSpec]) -> None:
    """Two runs with one id would share a directory: refuse levels that normalise alike (1e-3, 0.001)."""
    seen: dict[str, RunSpec] = {}
    for spec in specs:
        if spec.run_id in seen:
            raise ConfigurationError(
                f"runs {' '.join(seen[spec.run_id].overrides)!r} and {' '.join(spec.overrides)!r} "
                f"are the same run ({spec.run_id}); list each level once"
            )
        seen[spec.run_id] = spec


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
