"""The study a sweep was asked to run: the sweeper's options and the study block of ``sweep.json``
(Hydra-free).

:class:`StudyOptions` holds every ``hydra.sweeper.*`` option of the ablation sweeper, its default
and its check, once: the plugin's structured config (``hydra_plugins/spectramind_ablation/config.py``)
is this dataclass plus Hydra's ``_target_``, and the sweeper reads its options from an instance,
so no default is repeated anywhere. :func:`study_record` is what ``sweep.json`` (and then the
leaderboard) records of the study. What is decided from them before launching (resume or refuse,
the plan, the first records, the dry-run text) is in ``plan.py``.

Hydra imports every plugin module when any Hydra app starts, and ``config.py`` imports this one:
it stays light (no run records, no I/O beyond ``os``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from spectramind.ablation.design import Factor, Level, RunSpec, check_design, expand_design
from spectramind.ablation.halving import Rung, rung_plan
from spectramind.errors import ConfigurationError

# Where users set the options (a study file's `hydra.sweeper:` block, or `hydra.sweeper.NAME=VALUE`):
# error messages name an option as they would write it.
OPTION_PREFIX = "hydra.sweeper."


@dataclass
class StudyOptions:
    """The ablation sweeper's options, their defaults and their checks (docs/studies.md lists them).

    Not frozen, and typed only with what OmegaConf accepts: the plugin's structured config
    subclasses it, and OmegaConf makes a frozen dataclass's node read-only (no overrides).
    ``params`` and ``baseline`` default to empty dicts, not None: OmegaConf cannot merge a
    command-line dict (``hydra.sweeper.baseline={..}``) into a None-valued typed node.
    """

    # grid | ofat | random | halving (successive halving over the grid: eta, min_epochs, max_epochs)
    design: str = "grid"
    # factor key -> levels in Hydra's command-line grammar ("mlp,cnn1d", "range(1,4)", "glob(*)")
    params: dict[str, str] | None = field(default_factory=dict)
    # factor key -> baseline value (ofat; also marks the baseline of a grid); default: composed config
    baseline: dict[str, Any] | None = field(default_factory=dict)
    # repeats crossed with every configuration; each sets `seed_key`
    seeds: list[int] | None = None
    seed_key: str = "seed"
    # random design: number of configurations drawn; other designs: launch at most this many runs
    max_runs: int | None = None
    random_seed: int = 0
    # stop launching new runs once this many seconds have passed (the rest stay pending)
    time_budget_s: float | None = None
    # continue the sweep in hydra.sweep.dir: skip completed runs, retry failed, resume interrupted
    resume: bool = False
    # stop launching at the first run that fails (or diverges) for good; the rest stay pending
    fail_fast: bool = False
    # relaunch a failed run up to this many times within the sweep (diverged runs are not retried)
    max_retries: int = 0
    # runs per launcher call (None: all at once; with a time budget or fail_fast, as many as the
    # launcher runs at once, so the sweep can stop between runs)
    max_batch_size: int | None = None
    # run directories `<sweep_dir>/<run_subdir>/<run_id>`; null keeps Hydra's hydra.sweep.subdir
    run_subdir: str | None = None
    # print the plan and launch nothing
    dry_run: bool = False
    # importable callable run on every planned task config during pre-flight (raise to abort);
    # spectramind's conf/hydra/sweeper/spectramind.yaml sets spectramind.config_checks.check_training_config
    validate: str | None = None
    # importable function run once in each of the joblib launcher's workers while the pre-flight
    # runs (their imports then overlap it); spectramind's sweeper config sets spectramind.worker.warm_up
    warm_up: str | None = None
    # importable function giving a planned task config's estimated cost (a number; None if unknown),
    # called during pre-flight: a launcher that runs several jobs at once gets the most expensive
    # runs first (spectramind.ablation.launch_order); spectramind's sweeper config sets
    # spectramind.models.training_cost.estimated_cost
    cost: str | None = None
    # halving: keep the best 1/eta configurations at each rung
    eta: int = 3
    # halving: epochs of rung 0, and of the last rung (every run's full schedule: see epochs_key)
    min_epochs: int | None = None
    max_epochs: int | None = None
    # halving: the task's key for a run's full number of epochs, set to max_epochs for every run
    # (part of its identity); null for a task without one. spectramind's sweeper config: training.epochs
    epochs_key: str | None = None
    # halving: the key that tells a launch how many epochs to have trained when it ends (`++KEY=N`,
    # continuing from the run's own checkpoint); spectramind's task leaves it out of a run's identity
    budget_key: str = "budget_epochs"
    # halving: whether larger is better for the number the task returns (promotion keeps the best)
    higher_is_better: bool = True
    # recorded in sweep.json (set by study files)
    study: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        check_design(self.design)
        if self.max_retries is None or int(self.max_retries) < 0:
            raise _invalid("max_retries", "must be >= 0", self.max_retries)
        for name in ("max_runs", "max_batch_size"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise _invalid(name, "must be >= 1", value)
        if self.time_budget_s is not None and float(self.time_budget_s) <= 0:
            raise _invalid("time_budget_s", "must be > 0", self.time_budget_s)
        if self.design == "halving":
            self._check_halving()
        subdir = self.run_subdir
        if subdir is not None and (not str(subdir).strip() or Path(subdir).is_absolute() or ".." in Path(subdir).parts):
            # run directories are <sweep_dir>/<run_subdir>/<run_id>: they must stay inside the sweep
            raise _invalid("run_subdir", "must be a relative path inside the sweep directory", subdir)

    def _check_halving(self) -> None:
        if self.min_epochs is None or self.max_epochs is None:
            raise _invalid("min_epochs and max_epochs", "must be set for design=halving", None)
        if int(self.eta) < 2:
            raise _invalid("eta", "must be >= 2", self.eta)
        if int(self.min_epochs) < 1:
            raise _invalid("min_epochs", "must be >= 1", self.min_epochs)
        if int(self.max_epochs) < int(self.min_epochs):
            raise _invalid("max_epochs", f"must be >= {OPTION_PREFIX}min_epochs={self.min_epochs}", self.max_epochs)
        if self.max_runs is not None:
            raise _invalid("max_runs", "does not apply to design=halving (its rungs decide what runs)", self.max_runs)
        if not self.run_subdir:
            raise _invalid(
                "run_subdir", "must be set for design=halving (a promoted run continues in its folder)", None
            )
        if not str(self.budget_key or "").strip():
            raise _invalid("budget_key", "must name the key a launch's epochs are set with", self.budget_key)

    @property
    def is_halving(self) -> bool:
        return self.design == "halving"

    def rungs(self, n_configs: int) -> list[Rung]:
        """The rungs of a halving study of ``n_configs`` configurations."""
        return rung_plan(n_configs, int(self.eta), int(self.min_epochs), int(self.max_epochs))

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> StudyOptions:
        """The options of a plain mapping (what Hydra hands the sweeper); an unknown name is one
        line (a sweeper node without the structured schema is not checked by OmegaConf)."""
        unknown = sorted(set(options) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigurationError(f"unknown sweeper option(s) {', '.join(OPTION_PREFIX + n for n in unknown)}")
        return cls(**options)

    @property
    def run_budget(self) -> int | None:
        """Runs to launch at most (the rest stay pending); a random design spends ``max_runs`` on its draw."""
        return self.max_runs if self.design != "random" else None

    def expand(self, factors: Sequence[Factor], baseline: dict[str, Level]) -> list[RunSpec]:
        """The planned runs; a halving study's every run is set to ``max_epochs`` in all (its
        ``epochs_key``), as a constant of the study, so its identity says so."""
        if self.is_halving and self.epochs_key:
            line = f"{self.epochs_key}={int(self.max_epochs)}"
            factors = [*factors, Factor(self.epochs_key, (Level(line, int(self.max_epochs)),))]
        return expand_design(
            factors,
            design=self.design,
            seeds=self.seeds,
            seed_key=self.seed_key,
            baseline=baseline,
            max_runs=self.max_runs,
            random_seed=self.random_seed,
        )

    def batch_size(self, n_runs: int, concurrent_jobs: Callable[[], int]) -> int:
        """Runs per launcher call: ``max_batch_size``; else, when the sweep must be able to stop
        between runs (time budget, fail_fast), as many as the launcher runs at once
        (``concurrent_jobs``, asked only then); else all."""
        size = self.max_batch_size
        if size is None and (self.time_budget_s is not None or self.fail_fast):
            size = concurrent_jobs()
        return int(size) if size else max(1, n_runs)


def _invalid(name: str, requirement: str, value: Any) -> ConfigurationError:
    return ConfigurationError(f"{OPTION_PREFIX}{name} {requirement}, got {value!r}")


def check_writable(sweep_dir: Path) -> None:
    """Raise, naming the path, when ``sweep_dir`` cannot be created or written; creates nothing.
    Called before the pre-flight, so that this fails in a second rather than after it. The nearest
    existing ancestor decides: a regular file there (``<file>/sub``) fails for every user, root
    included; a directory without write permission fails for everyone but root, who would then
    succeed in creating it anyway."""
    existing = sweep_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigurationError(f"cannot write the sweep directory {sweep_dir}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigurationError(f"cannot write the sweep directory {sweep_dir}: {existing} is not writable")


def study_record(
    options: StudyOptions, factors: Sequence[Factor], baseline: dict[str, Level], launcher: str | None
) -> dict[str, Any]:
    """The study as ``sweep.json`` records it (and the leaderboard reads it): the factors and
    their levels as written, the constant overrides, the baseline, seeds and the launcher."""
    return {
        "study": options.study,
        "description": options.description,
        "design": options.design,
        "factors": {f.key: [lvl.text for lvl in f.levels] for f in factors if f.is_varied},
        "fixed": [f.levels[0].line for f in factors if not f.is_varied],
        "baseline": {k: lvl.text for k, lvl in baseline.items()},
        "seeds": list(options.seeds or []),
        "seed_key": options.seed_key,
        "run_subdir": options.run_subdir,
        "launcher": launcher,
        "halving": _halving_record(options, factors) if options.is_halving else None,
    }


def _halving_record(options: StudyOptions, factors: Sequence[Factor]) -> dict[str, Any]:
    """The halving block of ``sweep.json``: its options and rung plan (the leaderboard reads them)."""
    n_configs = math.prod(len(f.levels) for f in factors)
    return {
        "eta": int(options.eta),
        "min_epochs": int(options.min_epochs),
        "max_epochs": int(options.max_epochs),
        "higher_is_better": bool(options.higher_is_better),
        "rungs": [asdict(rung) for rung in options.rungs(n_configs)],
    }
