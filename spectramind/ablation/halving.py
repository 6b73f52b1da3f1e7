"""Successive halving: the rung arithmetic and the promotion rule (Hydra-free, pure functions).

Why: a study's configurations usually separate long before their last epoch, and a GPU quota
spent training hopeless ones to the end is wasted. Successive halving trains every configuration
(x seeds) for ``min_epochs``, keeps the best ``1/eta`` of them, trains those ``eta`` times longer,
and so on until ``max_epochs``. A promoted run continues from its own last checkpoint, so across
the rungs no epoch is trained twice (the launch loop is :mod:`spectramind.ablation.halving_runner`).

Rungs: rung ``k`` trains to ``min(min_epochs * eta**k, max_epochs)`` epochs in all, until a rung
reaches ``max_epochs``. Configurations: rung 0 has all ``n``; rung ``k + 1`` the best
``ceil(n_k / eta)`` of rung ``k`` (at least one), so fewer configurations than ``eta`` leave one.

Promotion: a configuration's value at a rung is the mean over its seeds of what each run reported
at the end of that rung (spectramind's task reports its validation score, never test); one whose
seed failed, diverged or reported no finite number is not promoted. Ties keep the plan's order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spectramind.ablation.design import RunSpec


@dataclass(frozen=True)
class Rung:
    """One rung: its index, the epochs its runs have trained in all at its end, its configurations."""

    index: int
    epochs: int
    n_configs: int


def launch_spec(spec: RunSpec, budget_key: str, epochs: int) -> RunSpec:
    """The run as one rung launches it: its own overrides plus ``++<budget_key>=<epochs>`` (the
    same run id: the budget is how far this launch trains, not what the run is)."""
    return dataclasses.replace(spec, overrides=(*spec.overrides, f"++{budget_key}={epochs}"))


def rung_plan(n_configs: int, eta: int, min_epochs: int, max_epochs: int) -> list[Rung]:
    """The rungs of a study of ``n_configs`` configurations (module docstring); the options are
    checked where users set them (:class:`spectramind.ablation.study.StudyOptions`)."""
    if eta < 2 or not 1 <= min_epochs <= max_epochs:
        raise ValueError(f"no rungs for eta={eta}, min_epochs={min_epochs}, max_epochs={max_epochs}")
    rungs = [Rung(0, int(min_epochs), int(n_configs))]
    while rungs[-1].epochs < max_epochs:
        last = rungs[-1]
        rungs.append(
            Rung(last.index + 1, min(last.epochs * int(eta), int(max_epochs)), max(1, math.ceil(last.n_configs / eta)))
        )
    return rungs


def planned_epochs(rungs: Sequence[Rung], n_seeds: int) -> int:
    """Epochs the study trains in all when every run completes: each rung's configurations train
    from the previous rung's epochs to their own."""
    previous, total = 0, 0
    for rung in rungs:
        total += rung.n_configs * (rung.epochs - previous)
        previous = rung.epochs
    return total * n_seeds


def promote(values: Mapping[str, Sequence[float | None]], n_promoted: int, higher_is_better: bool = True) -> list[str]:
    """The ``n_promoted`` best configurations of a rung, best first.

    ``values``: configuration id -> what each of its seeds reported (None where a run failed,
    diverged or reported nothing), in the plan's order, which breaks ties."""
    eligible = []
    for order, (config_id, reported) in enumerate(values.items()):
        numbers = [float(v) for v in reported if v is not None]
        if reported and len(numbers) == len(reported) and all(math.isfinite(v) for v in numbers):
            mean = sum(numbers) / len(numbers)
            eligible.append((-mean if higher_is_better else mean, order, config_id))
    return [config_id for _, _, config_id in sorted(eligible)[: max(0, n_promoted)]]


def rung_plan_lines(rungs: Sequence[Rung], n_seeds: int) -> list[str]:
    """What a dry run prints of the rungs: configurations and epochs per rung, and the study's
    epochs against those of the full grid trained to ``max_epochs``."""
    lines = [
        f"[ablation]   rung {r.index}: {r.n_configs} configuration(s) x {n_seeds} seed(s) to {r.epochs} epochs"
        for r in rungs
    ]
    total = planned_epochs(rungs, n_seeds)
    full = rungs[0].n_configs * n_seeds * rungs[-1].epochs
    lines.append(
        f"[ablation]   epochs in all: {total} (the full grid to {rungs[-1].epochs} epochs: {full}; "
        f"{100 * total / full:.0f} %)"
    )
    return lines
