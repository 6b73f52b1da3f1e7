"""Stable names for runs and configurations, derived from their overrides and resolved config.

A run id is a readable label plus a short hash of the *normalised* override set, so the same
overrides always map to the same directory (a resumed or extended sweep finds its finished runs)
while two different override sets can never share one. Labels are restricted to a safe
character set: nothing in a config value (``../``, ``/``, quotes) can steer a path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 80


def safe_name(text: str, fallback: str) -> str:
    """``text`` as one harmless path component of at most 80 characters: characters outside
    ``[A-Za-z0-9._-]`` become ``_``, runs of dots one dot, no leading or trailing ``._-``; never
    empty, ``.`` or ``..`` (``fallback`` then). Run labels and export folders are made with it."""
    cleaned = re.sub(r"\.{2,}", ".", _UNSAFE.sub("_", str(text))).strip("._-")
    return cleaned[:_MAX_NAME].rstrip("._-") or fallback


@dataclass(frozen=True)
class RunIdentity:
    """The names of one run: ``run_id`` (unique per override set) and ``config_id`` (shared by its seeds)."""

    run_id: str
    config_id: str
    label: str


def normalise_override(line: str) -> str:
    """``key = 1e-3`` → ``key=0.001``: one spelling per value, so equal overrides hash equally."""
    key, sep, value = line.partition("=")
    key, value = key.strip(), value.strip()
    if not sep:
        return key
    return f"{key}={_normalise_value(value)}"


def _normalise_value(value: str) -> str:
    if re.fullmatch(r"[+-]?\d+", value):
        return str(int(value))
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        return value
    return repr(number)


def override_key(line: str) -> str:
    """The config key an override line sets, without Hydra's ``+``/``++``/``~`` prefixes."""
    return line.partition("=")[0].strip().lstrip("+~")


def override_value(line: str) -> str | None:
    """The value an override line sets (stripped, not normalised); None for a deletion (``~key``,
    ``~key=value``) or a bare key: the line leaves the key at no value of its own."""
    key, sep, value = line.partition("=")
    return value.strip() if sep and not key.strip().startswith("~") else None


# Overrides that configure the sweep or what watches it rather than the run: selecting a study
# file (`ablation=...`), Hydra itself, and the experiment trackers (`logger=mlflow` records the same
# training elsewhere), and `budget_epochs`: how far one launch of successive halving trains, while
# the run (the same one at every rung) is set by `training.epochs`. Whatever else they change in the
# run's config is still caught by `config_hash`.
_NOT_RUN_KEYS = ("hydra", "ablation", "logger", "budget_epochs")
# Config nodes that do not change what a run computes, left out of its config hash: resuming a
# sweep with another tracker re-runs nothing, and a run promoted to the next rung continues.
_NOT_HASHED_KEYS = ("logger", "budget_epochs")


def run_identity(overrides: Iterable[str], seed_key: str = "seed") -> RunIdentity:
    """Name a run from its task overrides."""
    lines = sorted(normalise_override(o) for o in overrides if override_key(o).split(".")[0] not in _NOT_RUN_KEYS)
    config_lines = [line for line in lines if override_key(line) != seed_key]
    label = _label(lines)
    return RunIdentity(
        run_id=f"{label}-{_short_hash(lines)}",
        config_id=f"{_label(config_lines)}-{_short_hash(config_lines)}",
        label=label,
    )


def _label(lines: list[str]) -> str:
    """Readable part of an id: ``model-mlp_lr-0.001_seed-0``. Keys are shortened to their last
    component and path-valued overrides left out (they are unreadable and still in the hash)."""
    parts = []
    for line in sorted(lines, key=lambda item: override_key(item) == "seed"):
        key, _, value = line.partition("=")
        if "/" in value:
            continue
        prefix = "no-" if key.startswith("~") else ""
        key = key.lstrip("+~").split(".")[-1]
        parts.append(f"{prefix}{key}-{value}" if value else f"{prefix}{key}")
    if not parts:
        return "default"
    return safe_name("_".join(parts), "run")


def _short_hash(lines: list[str]) -> str:
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()[:8]


def config_hash(config: Mapping[str, Any]) -> str:
    """Hash of a resolved configuration (a plain mapping without the ``hydra`` node), trackers left out."""
    computed = {key: value for key, value in config.items() if key not in _NOT_HASHED_KEYS}
    canonical = json.dumps(computed, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
