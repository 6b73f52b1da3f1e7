"""The study's factors read in Hydra's override grammar, and their baseline from the composed config.

Why Hydra's own parser: a level means exactly what it means to Hydra's basic sweeper
(``range()``, ``glob()`` over a config group, quoted strings, ``+``/``++``/``~``), and the grid
launches BasicSweeper's jobs in BasicSweeper's order (tests/ablation/test_grid_matches_basic_sweeper.py).
The design itself (``spectramind.ablation.design``) needs no Hydra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import QuotedString, Transformer
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from spectramind.ablation.design import Factor, Level, same_level


def parse_factors(
    config_loader: ConfigLoader, params: Mapping[str, Any] | None, arguments: Sequence[str]
) -> list[Factor]:
    """One Factor per override key, in BasicSweeper's order: ``params`` first, then the command
    line; a key given twice keeps its first position and its last value, as in BasicSweeper."""
    lines = [f"{k}={v}" for k, v in (params or {}).items()] + list(arguments)
    parser = OverridesParser.create(config_loader=config_loader)
    entries: dict[str, Any] = {}
    for override in parser.parse_overrides(lines):
        key = override.get_key_element()
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                raise CompactHydraException(f"AblationSweeper does not support sweep type : {override.value_type.name}")
            values = list(override.sweep_iterator())  # once: shuffle() draws anew on every call
            levels = [Level(f"{key}={Transformer.str(v)}", _comparable(v)) for v in values]
            if not levels:
                raise CompactHydraException(f"override '{override.input_line}' sweeps over no values")
        else:
            levels = [Level(f"{key}={override.get_value_element_as_str()}", _comparable(override.value()))]
        entries[key] = (override.key_or_group, levels)
    return [Factor(name, tuple(levels)) for name, levels in entries.values()]


def composed_baseline(
    config: DictConfig, factors: Sequence[Factor], declared: Mapping[str, Any] | None
) -> dict[str, Level]:
    """Baseline per varied factor: the study's ``baseline`` (checked by ``baseline_levels``), else
    the composed default (a config group's choice, or the key's value) where it is one of the
    factor's levels."""
    declared = dict(declared or {})
    baseline = {key: Level(f"{key}={value}", value) for key, value in declared.items()}
    choices = config.hydra.runtime.choices
    for factor in factors:
        if not factor.is_varied or factor.key in declared:
            continue
        if factor.key in choices:
            value = choices[factor.key]
        else:
            value = OmegaConf.select(config, factor.key, default=None)
        default = Level(f"{factor.key}={value}", value)
        if any(same_level(level, default) for level in factor.levels):
            baseline[factor.key] = default
    return baseline


def _comparable(value: Any) -> Any:
    """A parsed override value as compared between levels: quoted strings by their text."""
    return value.text if isinstance(value, QuotedString) else value
