"""The order a parallel launcher gets a sweep's runs in: the most expensive first (Hydra-free).

Why: a launcher that runs several jobs at once hands the next run to whichever worker frees up
first, so how long the workers stand idle at the end of a study depends on the runs left last.
When a long run starts last, one worker trains it alone while the others have nothing left to do;
when the short runs come last they fill in around the long ones and the workers finish close
together (longest-processing-time-first scheduling). A grid varies its first factor slowest, so
in plan order the runs of one model come together, the cheap model's often first
(``model=mlp,cnn1d``).

The costs are estimates made during the pre-flight (the sweeper's ``cost`` option); only their
order matters. Runs of equal cost keep their plan order, and a plan with any run of unknown cost
keeps its order entirely: there is nothing to compare it with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spectramind.ablation.design import RunSpec


def most_expensive_first(specs: Sequence[RunSpec], costs: Mapping[str, float | None]) -> list[RunSpec]:
    """``specs`` by estimated cost (``costs`` by run id), highest first; ties in plan order."""
    if any(costs.get(spec.run_id) is None for spec in specs):
        return list(specs)
    return sorted(specs, key=lambda spec: -float(costs[spec.run_id]))  # sorted is stable
