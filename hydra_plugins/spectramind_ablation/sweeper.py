"""AblationSweeper: Hydra's sweeper interface over spectramind's Hydra-free ablation logic.

What is Hydra's stays here: the typed options (``config.py``), parsing the study (``params`` +
command-line sweeps, in Hydra's override grammar), the baseline from the composed defaults,
composing every planned config before anything launches (the pre-flight, while the joblib
launcher's workers warm up: ``warm_up.py``; the composed configs are handed to the launcher:
``composition.py``), and the launch function that calls the configured launcher. What is not
is in ``spectramind.ablation``: the design (``design.py``), the plan and resume
(``plan.py``), and the launch loop with its retries, lost-batch relaunch, fail-fast and budgets
(``runner.py``), which records outcomes in ``sweep.json`` / ``events.jsonl`` and leaves the exit
status in ``outcome.py``. The sweep returns normally whatever its runs did, so Hydra's
``on_multirun_end`` callbacks (the leaderboard) still run.

Nothing here assumes spectramind's task function: a task that records no ``run.json`` is
tracked from the launcher's job results alone, and with ``run_subdir`` unset job directories
keep Hydra's ``${hydra.job.num}`` layout (numbers continue across resumes, so no directory is
ever reused).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Transformer
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import CompactHydraException, ConfigCompositionException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction

from spectramind.errors import first_line

from .composition import PreComposedConfigs



class AblationSweeper(Sweeper):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        self.config: Optional[DictConfig] = None
        self.launcher: Optional[Launcher] = None
        self.hydra_context: Optional[HydraContext] = None
        self.composed: Optional[PreComposedConfigs] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        from hydra_plugins.spectramind_ablation.exit_status import UnsuccessfulRunsExit

        self.hydra_context = hydra_context
        self.config = config
        if hydra_context.callbacks is not None:
            # on_multirun_end runs the callbacks in reverse order: the first one runs last, after
            # the leaderboard and every other callback.
            hydra_context.callbacks.callbacks.insert(0, UnsuccessfulRunsExit())
        # the launcher composes each job's config through this loader: it reuses the pre-flight's
        self.composed = PreComposedConfigs(hydra_context.config_loader)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=HydraContext(config_loader=self.composed, callbacks=hydra_context.callbacks),
            task_function=task_function, config=config,
        )

    # ------------------------------------------------------------------ study
    def parse_factors(self, arguments: List[str]):
        """One Factor per override key, in BasicSweeper's order: ``params`` first, then the command
        line; a key given twice keeps its first position and its last value, as in BasicSweeper."""
        from spectramind.ablation.design import Factor, Level

        lines = [f"{k}={v}" for k, v in (self.options.get("params") or {}).items()] + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        entries: Dict[str, Any] = {}
        for override in parser.parse_overrides(lines):
            key = override.get_key_element()
            if override.is_sweep_override():
                if not override.is_discrete_sweep():
                    raise CompactHydraException(
                        f"{type(self).__name__} does not support sweep type : {override.value_type.name}"
                    )
                values = list(override.sweep_iterator())  # once: shuffle() draws anew on every call
                levels = [Level(f"{key}={Transformer.str(v)}", _comparable(v)) for v in values]
                if not levels:
                    raise CompactHydraException(f"override '{override.input_line}' sweeps over no values")
            else:
                levels = [Level(f"{key}={override.get_value_element_as_str()}", _comparable(override.value()))]
            entries[key] = (override.key_or_group, levels)
        return [Factor(name, tuple(levels)) for name, levels in entries.values()]

    def _baseline(self, factors) -> Dict[str, Any]:
        """Baseline per varied factor: the study's ``baseline`` (checked by ``expand_design``), else
        the composed default where it is one of the factor's levels."""
        from spectramind.ablation.design import Level, same_level

        declared = dict(self.options.get("baseline") or {})
        baseline = {key: Level(f"{key}={value}", value) for key, value in declared.items()}
        choices = self.config.hydra.runtime.choices
        for factor in factors:
            if not factor.is_varied or factor.key in declared:
                continue
            if factor.key in choices:
                value = choices[factor.key]
            else:
                value = OmegaConf.select(self.config, factor.key, default=None)
            default = Level(f"{factor.key}={value}", value)
            if any(same_level(level, default) for level in factor.levels):
                baseline[factor.key] = default
        return baseline

    # ------------------------------------------------------------------ pre-flight
    def _preflight(self, specs) -> Dict[str, str]:
        """Compose (and validate) every planned config; the first error aborts the sweep before
        anything is launched, naming the run and the override that broke it. Each config is
        composed with the overrides its job will be launched with, and kept for the launcher."""
        from spectramind.tracking.identity import config_hash

        validate = _importable("validate", self.options.get("validate"))
        batch_len = self._batch_size(len(specs))
        hashes = {}
        for number, spec in enumerate(specs):
            try:
                config = self._compose(self._job_overrides(spec, batch_len), number, validate, keep=True)
                hashes[spec.run_id] = config_hash(config)
            except Exception as exc:
                culprit = self._culprit(spec.overrides, number, validate)
                where = f"override '{culprit}'" if culprit else f"overrides {' '.join(spec.overrides)!r}"
                raise ConfigCompositionException(
                    f"pre-flight check failed for run {spec.run_id}: {where}: {first_line(exc)} "
                    f"(run overrides: {' '.join(spec.overrides)}). Nothing was launched."
                ) from None
        return hashes

    def _compose(self, overrides: Sequence[str], number: int, validate: Optional[Callable],
                 keep: bool = False) -> Dict[str, Any]:
        """The run's resolved task config as its job will see it (``hydra:`` interpolations
        included); with ``keep``, the composed config is also kept for the launcher's request."""
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        if keep and self.composed.keep(self.config, overrides, cfg):
            cfg = copy.deepcopy(cfg)  # the kept one goes to the launcher as composed
        with read_write(cfg.hydra), open_dict(cfg.hydra):
            cfg.hydra.job.num = number
            cfg.hydra.job.id = f"preflight_{number}"
        saved = HydraConfig.instance().cfg
        HydraConfig.instance().set_config(cfg)
        try:
            task = copy.deepcopy(cfg)
            with read_write(task), open_dict(task):
                del task["hydra"]
            container = OmegaConf.to_container(task, resolve=True)
            if validate is not None:
                validate(task)
            return container
        finally:
            HydraConfig.instance().cfg = saved

    def _culprit(self, overrides: Sequence[str], number: int, validate: Optional[Callable]) -> Optional[str]:
        """The first override whose addition makes the run's config fail (None if none alone does)."""
        for end in range(1, len(overrides) + 1):
            try:
                self._compose(overrides[:end], number, validate)
            except Exception:
                return overrides[end - 1]
        return None

    # ------------------------------------------------------------------ sweep
    def sweep(self, arguments: List[str]) -> Any:
        from spectramind.ablation import outcome
        from spectramind.ablation.runner import JobOutcome, RunnerPolicy, run_sweep

        sweep_dir = Path(self.config.hydra.sweep.dir)
        outcome.reset(sweep_dir)
        self._check_options()
        previous = self._previous_manifest(sweep_dir)
        plan = self._prepare(sweep_dir, arguments, previous)
        if plan is None:  # dry run: the plan was printed
            return []
        returns: List[Sequence[JobReturn]] = []

        def launch(batch, first_number: int) -> List[JobOutcome]:
            batch_returns = self.launcher.launch(
                [self._job_overrides(spec, len(batch)) for spec in batch], initial_job_idx=first_number
            )
            returns.append(batch_returns)
            return [JobOutcome(_job_error(result), _run_dir(sweep_dir, result)) for result in batch_returns]

        policy = RunnerPolicy(
            batch_size=self._batch_size(len(plan.to_launch)), max_retries=int(self.options["max_retries"]),
            fail_fast=bool(self.options.get("fail_fast")), time_budget_s=self.options.get("time_budget_s"),
        )
        try:
            run_sweep(sweep_dir, plan.to_launch, launch, policy)
        finally:
            self.composed.forget()  # what the loop did not launch (budget, fail_fast) is not needed
        return returns

    def _previous_manifest(self, sweep_dir: Path) -> Optional[Dict[str, Any]]:
        """The manifest of the sweep being resumed; refuses to start a second sweep over a first."""
        from spectramind.ablation.manifest import load_manifest
        from spectramind.sweep_layout import MANIFEST_FILE

        opts = self.options
        if opts.get("resume"):
            return load_manifest(sweep_dir)
        if opts.get("run_subdir") and not opts.get("dry_run") and (sweep_dir / MANIFEST_FILE).exists():
            # runs/<run_id> belongs to one sweep: continue it, never silently train it again. (Without
            # run_subdir, a repeated sweep starts again at job 0, as Hydra's BasicSweeper does.)
            raise CompactHydraException(
                f"{sweep_dir / MANIFEST_FILE} already exists: pass hydra.sweeper.resume=true to continue "
                f"that sweep, or choose another hydra.sweep.dir"
            )
        return None

    def _prepare(self, sweep_dir: Path, arguments: List[str], previous):
        """Study → design → pre-flight → plan → the sweep's first records, while the launcher's
        workers warm up; the plan, or None for a dry run (which prints it and writes nothing)."""
        from spectramind.ablation.design import baseline_levels, expand_design
        from spectramind.errors import SpectramindError
        from spectramind.sweep_layout import EVENTS_FILE
        from spectramind.tracking.events import append_event

        opts = self.options
        if not opts.get("dry_run"):
            _check_writable(sweep_dir)  # before the pre-flight: fail in a second, not after it
        design = opts.get("design") or "grid"
        try:
            factors = self.parse_factors(arguments)
            baseline = baseline_levels([f for f in factors if f.is_varied], self._baseline(factors))
            specs = expand_design(
                factors, design=design, seeds=opts.get("seeds"), seed_key=opts.get("seed_key", "seed"),
                baseline=baseline, max_runs=opts.get("max_runs"), random_seed=opts.get("random_seed", 0),
            )
        except SpectramindError as exc:
            raise CompactHydraException(str(exc)) from None
        warm_up = self._start_warm_up(specs, previous)
        try:
            hashes = self._preflight(specs)
            plan, study = self._plan(factors, baseline, design, specs, hashes, previous)
            if opts.get("dry_run"):
                self.composed.forget()
                for spec in specs:
                    state = "done" if spec.run_id in plan.completed else "run"
                    print(f"[ablation]   {state:4s} {spec.run_id}  {' '.join(spec.overrides)}", flush=True)
                return None
            self._start_records(sweep_dir, plan, study, previous, len(specs))
            if warm_up is not None and plan.to_launch:
                append_event(sweep_dir / EVENTS_FILE, "workers_warm", **warm_up.join())
        finally:
            if warm_up is not None:
                warm_up.cancel()
        return plan

    def _start_warm_up(self, specs, previous):
        """Warm the launcher's workers for the runs a resume will not skip (see ``warm_up``)."""
        from .warm_up import start_warm_up

        function = _importable("warm_up", self.options.get("warm_up"))
        if function is None or self.options.get("dry_run"):
            return None
        from spectramind.sweep_layout import COMPLETED

        completed = {run["run_id"] for run in (previous or {}).get("runs", []) if run.get("status") == COMPLETED}
        pending = sum(spec.run_id not in completed for spec in specs)
        return start_warm_up(self.launcher, function, min(pending, self._batch_size(pending)))

    def _plan(self, factors, baseline, design: str, specs, hashes: Dict[str, str], previous):
        """The study as recorded in ``sweep.json``, and the plan: what to launch, skip, leave out."""
        from spectramind.ablation.plan import plan_sweep

        opts = self.options
        study = {
            "study": opts.get("study"), "description": opts.get("description"), "design": design,
            "factors": {f.key: [lvl.text for lvl in f.levels] for f in factors if f.is_varied},
            "fixed": [f.levels[0].line for f in factors if not f.is_varied],
            "baseline": {k: lvl.text for k, lvl in baseline.items()},
            "seeds": list(opts.get("seeds") or []), "seed_key": opts.get("seed_key", "seed"),
            "run_subdir": opts.get("run_subdir"),
            "launcher": OmegaConf.select(self.config, "hydra.launcher._target_", default=None),
        }
        budget = opts.get("max_runs") if design != "random" else None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        plan = plan_sweep(specs, hashes, sweep_dir, study=study, previous=previous, budget_runs=budget)
        print(f"[ablation] {plan.summary()}", flush=True)
        return plan, study

    def _start_records(self, sweep_dir: Path, plan, study, previous, n_runs: int) -> None:
        """``multirun.yaml``, ``sweep.json`` and the sweep's first events, before any launch."""
        from spectramind.ablation.manifest import save_manifest
        from spectramind.sweep_layout import EVENTS_FILE, HYDRA_MULTIRUN_FILE, sweep_lock
        from spectramind.tracking.events import append_event

        events = sweep_dir / EVENTS_FILE

        try:
            sweep_dir.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(self.config, sweep_dir / HYDRA_MULTIRUN_FILE)
            with sweep_lock(sweep_dir):
                save_manifest(sweep_dir, plan.manifest)
        except OSError as exc:
            raise CompactHydraException(
                f"cannot write the sweep directory {sweep_dir}: {exc.strerror or exc} ({exc.filename})"
            ) from None
        append_event(events, "sweep_start", resume=previous is not None,
                     **{k: study[k] for k in ("study", "design", "launcher")})
        append_event(events, "plan", n_runs=n_runs, factors=study["factors"], seeds=study["seeds"],
                     completed=plan.completed, to_launch=[s.run_id for s in plan.to_launch],
                     over_budget=plan.over_budget)

    # ------------------------------------------------------------------ helpers
    def _check_options(self) -> None:
        retries = self.options.get("max_retries")
        if retries is None or int(retries) < 0:
            raise CompactHydraException(f"hydra.sweeper.max_retries must be >= 0, got {retries!r}")
        for name in ("max_runs", "max_batch_size"):
            value = self.options.get(name)
            if value is not None and int(value) < 1:
                raise CompactHydraException(f"hydra.sweeper.{name} must be >= 1, got {value!r}")
        budget = self.options.get("time_budget_s")
        if budget is not None and float(budget) <= 0:
            raise CompactHydraException(f"hydra.sweeper.time_budget_s must be > 0, got {budget!r}")
        subdir = self.options.get("run_subdir")
        if subdir is not None and (not str(subdir).strip() or Path(subdir).is_absolute() or ".." in Path(subdir).parts):
            # run directories are <sweep_dir>/<run_subdir>/<run_id>: they must stay inside the sweep
            raise CompactHydraException(
                f"hydra.sweeper.run_subdir must be a relative path inside the sweep directory, got {subdir!r}"
            )

    def _batch_size(self, n_runs: int) -> int:
        """Runs per launcher call: ``max_batch_size``; else, when the sweep must be able to stop
        between runs (time budget, fail_fast), as many as the launcher runs at once; else all."""
        size = self.options.get("max_batch_size")
        if size is None and (self.options.get("time_budget_s") is not None or self.options.get("fail_fast")):
            size = _concurrent_jobs(self.config, n_runs)
        return int(size) if size else max(1, n_runs)

    def _job_overrides(self, spec, batch_len: int) -> List[str]:
        overrides = list(spec.overrides)
        subdir = self.options.get("run_subdir")
        if subdir:
            overrides.append(f"hydra.sweep.subdir={subdir}/{spec.run_id}")
        threads = threads_per_job(self.config, batch_len)
        if threads:
            overrides.append(f"++hydra.job.env_set.SPECTRAMIND_NUM_THREADS={threads}")
        return overrides


def _check_writable(sweep_dir: Path) -> None:
    """Raise, naming the path, when ``sweep_dir`` cannot be created or written; creates nothing.
    The nearest existing ancestor decides: a regular file there (``<file>/sub``) fails for every
    user, root included; a directory without write permission fails for everyone but root, who
    would then succeed in creating it anyway."""
    existing = sweep_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CompactHydraException(f"cannot write the sweep directory {sweep_dir}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CompactHydraException(f"cannot write the sweep directory {sweep_dir}: {existing} is not writable")


def _comparable(value: Any) -> Any:
    """A parsed override value as compared between levels: quoted strings by their text."""
    from hydra.core.override_parser.types import QuotedString

    return value.text if isinstance(value, QuotedString) else value


def _importable(option: str, path: Optional[str]) -> Optional[Callable[..., Any]]:
    """The function a ``hydra.sweeper.<option>`` names (None if unset), or a one-line error."""
    if not path:
        return None
    from hydra.utils import get_method

    try:
        return get_method(path)
    except Exception as exc:
        raise CompactHydraException(f"hydra.sweeper.{option}={path}: cannot import it ({first_line(exc)})") from None


def _error_record(exc: BaseException) -> Dict[str, str]:
    from spectramind.tracking.record import error_record

    return error_record(exc)


def _job_error(result: JobReturn) -> Optional[Dict[str, str]]:
    if result.status != JobStatus.FAILED:
        return None
    return _error_record(result._return_value)


def _run_dir(sweep_dir: Path, result: JobReturn) -> Optional[str]:
    """Where the job ran, relative to the sweep directory when inside it."""
    output_dir = OmegaConf.select(result.hydra_cfg, "hydra.runtime.output_dir", default=None) if result.hydra_cfg else None
    if output_dir is None:
        return None
    try:
        return str(Path(output_dir).resolve().relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(output_dir)


def _concurrent_jobs(config: DictConfig, batch_len: int) -> int:
    """How many jobs of a batch the configured launcher runs at the same time on this machine."""
    launcher = config.hydra.launcher
    n_jobs = OmegaConf.select(launcher, "n_jobs", default=None)  # joblib
    if n_jobs is not None:
        n_jobs = int(n_jobs)
        return max(1, n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs)
    if str(OmegaConf.select(launcher, "_target_", default="")).endswith("submitit_launcher.LocalLauncher"):
        return max(1, batch_len)  # submitit's local executor starts every job of a batch at once
    return 1


def threads_per_job(config: DictConfig, batch_len: int) -> Optional[int]:
    """CPU threads per job so that parallel jobs together use the machine's cores, no more: the
    CPUs the launcher allocates per job where it does (submitit ``cpus_per_task``, Ray
    ``remote.num_cpus``, Ray's default being one), else the cores shared by concurrent jobs."""
    launcher = config.hydra.launcher
    allocated = (OmegaConf.select(launcher, "cpus_per_task", default=None)
                 or OmegaConf.select(launcher, "ray.remote.num_cpus", default=None))
    if allocated:
        return int(allocated)
    if OmegaConf.select(launcher, "ray", default=None) is not None:
        return 1
    concurrent = _concurrent_jobs(config, batch_len)
    if concurrent <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // concurrent)
