"""AblationSweeper: Hydra's sweeper interface over spectramind's Hydra-free ablation logic.

What is Hydra's stays in this plugin: the options as Hydra hands them over (typed and checked by
``spectramind.ablation.study.StudyOptions``, which ``config.py`` extends), parsing the study in
Hydra's override grammar (``factors.py``), composing every planned config before anything
launches (the pre-flight, while the joblib launcher's workers warm up: ``warm_up.py``; the
composed configs are handed to the launcher: ``composition.py``), reading the launcher's config
and job results (``launchers.py``), and the launch function that calls the configured launcher.
What is not is in ``spectramind.ablation``: the design (``design.py``), resume or refuse, the
plan and the sweep's first records (``plan.py``), and the launch loop with its retries,
lost-batch relaunch, fail-fast and budgets (``runner.py``), which records outcomes in
``sweep.json`` / ``events.jsonl`` and leaves the exit status in ``outcome.py``. The sweep returns
normally whatever its runs did, so Hydra's ``on_multirun_end`` callbacks (the leaderboard) still run.

Nothing here assumes spectramind's task function: a task that records no ``run.json`` is
tracked from the launcher's job results alone, and with ``run_subdir`` unset job directories
keep Hydra's ``${hydra.job.num}`` layout (numbers continue across resumes, so no directory is
ever reused).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.utils import JobReturn
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from spectramind.ablation.study import OPTION_PREFIX, StudyOptions
from spectramind.errors import SpectramindError, first_line

from . import launchers
from .composition import PreComposedConfigs, PreFlight
from .config import APP_CHOICE
from .factors import composed_baseline, parse_factors


class AblationSweeper(Sweeper):
    def __init__(self, **options: Any) -> None:
        """Hydra passes the fields of the ``hydra.sweeper`` node (``config.py``) as keywords. They
        become :class:`StudyOptions` in :meth:`setup`: an error raised here, inside Hydra's
        ``instantiate``, would reach the user wrapped in Hydra's multi-line report."""
        super().__init__()
        self.given_options = options
        self.options = StudyOptions()
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.hydra_context: HydraContext | None = None
        self.composed: PreComposedConfigs | None = None
        self.job_reporting: Callable[[], Any] = nullcontext

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        from hydra_plugins.spectramind_ablation.exit_status import UnsuccessfulRunsExit

        refuse_bare_choice(config, hydra_context.config_loader)
        with _one_line():
            self.options = StudyOptions.from_mapping(
                {
                    k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
                    for k, v in self.given_options.items()
                }
            )
        self.hydra_context = hydra_context
        self.config = config
        if hydra_context.callbacks is not None:
            # on_multirun_end runs the callbacks in reverse order: the first one runs last, after
            # the leaderboard and every other callback. (`callbacks` is a public attribute of a
            # class in hydra._internal, Hydra 1.3: test_hydra_private_api.py checks it.)
            hydra_context.callbacks.callbacks.insert(0, UnsuccessfulRunsExit())
        self.job_reporting = launchers.killed_job_reporting(config)
        # the launcher composes each job's config through this loader: it reuses the pre-flight's
        self.composed = PreComposedConfigs(hydra_context.config_loader)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=HydraContext(config_loader=self.composed, callbacks=hydra_context.callbacks),
            task_function=task_function,
            config=config,
        )

    # ------------------------------------------------------------------ sweep
    def sweep(self, arguments: list[str]) -> Any:
        # imported here (and below) when a sweep starts, not when Hydra imports every plugin
        # module at the start of any app: they load the run records' modules
        from spectramind.ablation import outcome
        from spectramind.ablation.plan import previous_manifest
        from spectramind.ablation.runner import RunnerPolicy, run_sweep

        sweep_dir = Path(self.config.hydra.sweep.dir)
        outcome.reset(sweep_dir)
        with _one_line():
            previous = previous_manifest(sweep_dir, self.options)
        plan = self._prepare(sweep_dir, arguments, previous)
        if plan is None:  # dry run: the plan was printed
            return []
        returns: list[Sequence[JobReturn]] = []

        def launch(batch, first_number: int):
            with self.job_reporting():
                batch_returns = self.launcher.launch(
                    [self._job_overrides(spec, len(batch)) for spec in batch], initial_job_idx=first_number
                )
            returns.append(batch_returns)
            return [launchers.job_outcome(sweep_dir, result) for result in batch_returns]

        opts = self.options
        policy = RunnerPolicy(
            batch_size=self._batch_size(len(plan.to_launch)),
            max_retries=opts.max_retries,
            fail_fast=opts.fail_fast,
            time_budget_s=opts.time_budget_s,
        )
        try:
            if opts.is_halving:
                from spectramind.ablation.halving_runner import run_halving

                run_halving(sweep_dir, plan.specs, launch, policy, opts)
            else:
                run_sweep(sweep_dir, plan.to_launch, launch, policy)
        finally:
            self.composed.forget()  # what the loop did not launch (budget, fail_fast) is not needed
        return returns

    def _prepare(self, sweep_dir: Path, arguments: list[str], previous):
        """Study → design → pre-flight → plan → the sweep's first records → the launch order, while
        the launcher's workers warm up; the plan, or None for a dry run (which prints it and writes nothing)."""
        from spectramind.ablation import plan as planning
        from spectramind.ablation.design import baseline_levels
        from spectramind.ablation.study import check_writable, study_record
        from spectramind.sweep_layout import EVENTS_FILE
        from spectramind.tracking.events import append_event

        opts = self.options
        with _one_line():
            if not opts.dry_run:
                check_writable(sweep_dir)  # before the pre-flight: fail in a second, not after it
                launchers.check_slurm_request(self.config)  # a request no node can run would wait forever
            factors = parse_factors(self.hydra_context.config_loader, opts.params, arguments)
            baseline = baseline_levels(
                [f for f in factors if f.is_varied], composed_baseline(self.config, factors, opts.baseline)
            )
            specs = opts.expand(factors, baseline)
        launchers.export_thread_share(self.config, self._batch_size(len(specs)))  # before any worker starts
        warm_up = self._start_warm_up(specs, previous)
        try:
            validate = _importable("validate", opts.validate)
            batch_len = self._batch_size(len(specs))
            launched = specs
            if opts.is_halving:  # composed as rung 0 launches them, so the launcher reuses the compositions
                from spectramind.ablation.halving import launch_spec

                launched = [launch_spec(spec, opts.budget_key, int(opts.min_epochs)) for spec in specs]
            cost = _importable("cost", opts.cost)
            if opts.is_halving or not launchers.may_run_in_parallel(self.config, batch_len):
                cost = None  # the launch order matters only where runs share the workers (launch_order.py)
            preflight = PreFlight(self.hydra_context.config_loader, self.config, self.composed, validate, cost)
            hashes = preflight.config_hashes(launched, lambda spec: self._job_overrides(spec, batch_len))
            study = study_record(opts, factors, baseline, launchers.launcher_target(self.config))
            plan = planning.plan_study(opts, specs, hashes, sweep_dir, study, previous)
            if opts.dry_run:
                self.composed.forget()
                for line in planning.dry_run_lines(specs, plan, opts):
                    print(line, flush=True)
                return None
            with _one_line():
                planning.start_records(
                    sweep_dir,
                    plan,
                    study,
                    resumed=previous is not None,
                    n_runs=len(specs),
                    write_multirun=lambda path: OmegaConf.save(self.config, path),
                )
            if cost is not None:
                self._launch_most_expensive_first(sweep_dir, plan, preflight.costs)
            if warm_up is not None and plan.to_launch:
                append_event(sweep_dir / EVENTS_FILE, "workers_warm", **warm_up.join())
        finally:
            if warm_up is not None:
                warm_up.cancel()
        return plan

    @staticmethod
    def _launch_most_expensive_first(sweep_dir: Path, plan, costs) -> None:
        """Reorder the runs to launch by estimated cost (``launch_order``), recording the new
        order in events.jsonl when it differs from the plan's."""
        from spectramind.ablation.launch_order import most_expensive_first
        from spectramind.sweep_layout import EVENTS_FILE
        from spectramind.tracking.events import append_event

        ordered = most_expensive_first(plan.to_launch, costs)
        if ordered != plan.to_launch:
            plan.to_launch = ordered
            append_event(
                sweep_dir / EVENTS_FILE,
                "launch_order",
                by="estimated cost, most expensive first",
                runs=[spec.run_id for spec in ordered],
            )

    def _start_warm_up(self, specs, previous):
        """Warm the launcher's workers for the runs a resume will not skip (see ``warm_up``)."""
        from spectramind.ablation.plan import runs_left

        from .warm_up import start_warm_up

        function = _importable("warm_up", self.options.warm_up)
        if function is None or self.options.dry_run:
            return None
        pending = runs_left(specs, previous)
        return start_warm_up(self.launcher, function, min(pending, self._batch_size(pending)))

    def _batch_size(self, n_runs: int) -> int:
        return self.options.batch_size(n_runs, lambda: launchers.concurrent_jobs(self.config, n_runs))

    def _job_overrides(self, spec, batch_len: int) -> list[str]:
        """The overrides a run's job is launched with: the run's own, its directory
        (``run_subdir``) and its share of the CPU threads."""
        overrides = list(spec.overrides)
        subdir = self.options.run_subdir
        if subdir:
            overrides.append(f"hydra.sweep.subdir={subdir}/{spec.run_id}")
        threads = launchers.threads_per_job(self.config, batch_len)
        if threads:
            overrides.append(f"++hydra.job.env_set.SPECTRAMIND_NUM_THREADS={threads}")
        return overrides


def refuse_bare_choice(config: DictConfig, loader: ConfigLoader) -> None:
    """Refuse ``hydra/sweeper=ablation`` in an app that offers ``hydra/sweeper=spectramind`` (this
    sweeper with the options its app needs: pre-flight checks, worker warm-up, ``runs/<run_id>``):
    choosing a sweeper replaces the whole ``hydra.sweeper`` node, so ``ablation`` would silently
    drop them. Hydra cannot give both choices one name: a config file named like the ConfigStore
    node would be merged into it only by Hydra's deprecated automatic schema matching."""
    choice = OmegaConf.select(config, "hydra.runtime.choices", default={}).get("hydra/sweeper")
    if choice == "ablation" and APP_CHOICE in loader.get_group_options("hydra/sweeper"):
        raise CompactHydraException(
            f"hydra/sweeper=ablation leaves out this app's sweeper options (pre-flight checks, worker "
            f"warm-up, run directories): select hydra/sweeper={APP_CHOICE}, the ablation sweeper with them"
        )


@contextmanager
def _one_line() -> Iterator[None]:
    """spectramind's expected errors as Hydra's one-line kind, for any Hydra app: Hydra prints a
    ``CompactHydraException``'s message alone, anything else with a traceback."""
    try:
        yield
    except SpectramindError as exc:
        raise CompactHydraException(str(exc)) from None


def _importable(option: str, path: str | None) -> Callable[..., Any] | None:
    """The function a ``hydra.sweeper.<option>`` names (None if unset), or a one-line error."""
    if not path:
        return None
    from hydra.utils import get_method

    try:
        return get_method(path)
    except Exception as exc:
        raise CompactHydraException(f"{OPTION_PREFIX}{option}={path}: cannot import it ({first_line(exc)})") from None
