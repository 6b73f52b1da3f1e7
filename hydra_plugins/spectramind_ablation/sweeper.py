"""AblationSweeper: Hydra's sweeper interface over spectramind's Hydra-free ablation logic.

Flow: parse the study (``params`` + command-line sweeps, Hydra's grammar) → expand the design
(``spectramind.ablation.design``) → compose every planned config before launching anything →
plan (resume, budget; ``spectramind.ablation.plan``) → launch batches through whatever launcher
is configured → record outcomes in ``sweep.json`` / ``events.jsonl``. Failed runs never abort
the sweep (unless ``fail_fast``); the sweep returns normally so ``on_multirun_end`` callbacks
(the leaderboard) still run, and the outcome is left in :mod:`spectramind.ablation.outcome`
for the entry point to turn into the exit status.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from omegaconf import DictConfig, OmegaConf, open_dict

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction

log = logging.getLogger(__name__)


class AblationSweeper(Sweeper):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        self.config: Optional[DictConfig] = None
        self.launcher: Optional[Launcher] = None
        self.hydra_context: Optional[HydraContext] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    # ------------------------------------------------------------------ study
    def _parse(self, arguments: List[str]):
        """Factors (swept keys) and fixed overrides, exactly as BasicSweeper splits them."""
        from spectramind.ablation.design import Factor, Level

        lines = [f"{k}={v}" for k, v in (self.options.get("params") or {}).items()] + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(lines)
        entries: "OrderedDict[str, List[Level]]" = OrderedDict()
        for override in overrides:
            key = override.get_key_element()
            if override.is_sweep_override():
                if not override.is_discrete_sweep():
                    raise HydraException(
                        f"{type(self).__name__} does not support sweep type : {override.value_type.name}"
                    )
                values = list(override.sweep_iterator())
                texts = list(override.sweep_string_iterator())
                entries[key] = [Level(f"{key}={t}", v) for t, v in zip(texts, values)]
                if not entries[key]:
                    raise HydraException(f"override '{override.input_line}' sweeps over no values")
            else:
                entries[key] = [Level(f"{key}={override.get_value_element_as_str()}", override.value())]
        factors = [Factor(k.lstrip("+~"), tuple(v)) for k, v in entries.items() if len(v) > 1]
        fixed = [v[0].line for v in entries.values() if len(v) == 1]
        return factors, fixed

    def _baseline(self, factors) -> Dict[str, Any]:
        """Baseline level per factor: the study's `baseline`, else the composed default if listed."""
        from spectramind.ablation.design import Level, same_level

        declared = dict(self.options.get("baseline") or {})
        unknown = set(declared) - {f.key for f in factors}
        if unknown:
            raise HydraException(f"baseline names {sorted(unknown)}, which are not factors of this study")
        choices = self.config.hydra.runtime.choices
        baseline = {}
        for factor in factors:
            if factor.key in declared:
                value = declared[factor.key]
            elif factor.key in choices:
                value = choices[factor.key]
            else:
                value = OmegaConf.select(self.config, factor.key, default=None)
            reference = Level(f"{factor.key}={value}", value)
            match = next((lvl for lvl in factor.levels if same_level(lvl, reference)), None)
            if match is not None:
                baseline[factor.key] = match
            elif factor.key in declared:
                raise HydraException(
                    f"baseline {factor.key}={value} is not one of the levels "
                    f"{[lvl.text for lvl in factor.levels]}"
                )
        return baseline

    # ------------------------------------------------------------------ pre-flight
    def _preflight(self, specs) -> Dict[str, str]:
        """Compose every planned config; the first error aborts the sweep before any launch."""
        from spectramind.tracking.identity import config_hash

        hashes = {}
        for spec in specs:
            try:
                cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(spec.overrides))
                with open_dict(cfg):
                    del cfg["hydra"]
                hashes[spec.run_id] = config_hash(OmegaConf.to_container(cfg, resolve=True))
            except Exception as exc:
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise HydraException(
                    f"pre-flight check failed for run {spec.run_id} (overrides: {' '.join(spec.overrides)}): "
                    f"{message}. Nothing was launched."
                ) from None
        return hashes

    # ------------------------------------------------------------------ sweep
    def sweep(self, arguments: List[str]) -> Any:
        from spectramind.ablation import outcome
        from spectramind.ablation.design import expand_design
        from spectramind.ablation.manifest import (
            MANIFEST_NAME, SWEEP_EVENTS_NAME, find_run, load_manifest, manifest_lock, save_manifest,
        )
        from spectramind.ablation.plan import plan_sweep, reconcile_runs
        from spectramind.errors import SpectramindError
        from spectramind.tracking.events import append_event

        opts = self.options
        sweep_dir = Path(self.config.hydra.sweep.dir)
        events = sweep_dir / SWEEP_EVENTS_NAME
        try:
            factors, fixed = self._parse(arguments)
            baseline = self._baseline(factors) if opts.get("design") != "grid" or opts.get("baseline") else {}
            design = opts.get("design") or "grid"
            specs = expand_design(
                factors, fixed, design=design, seeds=opts.get("seeds"), seed_key=opts.get("seed_key", "seed"),
                baseline=baseline, max_runs=opts.get("max_runs"), random_seed=opts.get("random_seed", 0),
            )
        except SpectramindError as exc:
            raise HydraException(str(exc)) from None
        self._check_retries()
        hashes = self._preflight(specs)

        previous = load_manifest(sweep_dir)
        if previous is not None and not opts.get("resume") and not opts.get("dry_run"):
            raise HydraException(
                f"{sweep_dir / MANIFEST_NAME} already exists: pass hydra.sweeper.resume=true to continue "
                f"that sweep, or choose another hydra.sweep.dir"
            )
        study = {
            "study": opts.get("study"), "description": opts.get("description"), "design": design,
            "factors": {f.key: [lvl.text for lvl in f.levels] for f in factors},
            "fixed": fixed,
            "baseline": {k: lvl.text for k, lvl in baseline.items()},
            "seeds": list(opts.get("seeds") or []), "seed_key": opts.get("seed_key", "seed"),
            "run_subdir": opts.get("run_subdir"),
        }
        budget = opts.get("max_runs") if design != "random" else None
        plan = plan_sweep(specs, hashes, sweep_dir, study=study, previous=previous, budget_runs=budget)
        print(f"[ablation] {plan.summary()}", flush=True)
        outcome.reset(sweep_dir)
        if opts.get("dry_run"):
            for spec in specs:
                state = "done" if spec.run_id in plan.completed else "run"
                print(f"[ablation]   {state:4s} {spec.run_id}  {' '.join(spec.overrides)}", flush=True)
            return []

        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        with manifest_lock(sweep_dir):
            save_manifest(sweep_dir, plan.manifest)
        append_event(events, "sweep_start", resume=bool(previous), **{k: study[k] for k in ("study", "design")})
        append_event(events, "plan", n_runs=len(specs), completed=plan.completed,
                     to_launch=[s.run_id for s in plan.to_launch], over_budget=plan.over_budget)

        t0 = time.monotonic()
        returns: List[Sequence[JobReturn]] = []
        queue = list(plan.to_launch)
        tries = {spec.run_id: 0 for spec in queue}
        job_index = 0
        stop_reason = None
        batch_size = self._batch_size(len(queue))
        while queue:
            budget_s = opts.get("time_budget_s")
            if budget_s is not None and time.monotonic() - t0 >= budget_s:
                stop_reason = f"time budget of {budget_s} s spent"
                break
            batch, queue = queue[:batch_size], queue[batch_size:]
            job_errors: Dict[str, Any] = {}
            try:
                results = self.launcher.launch([self._job_overrides(s) for s in batch], initial_job_idx=job_index)
                for spec, result in zip(batch, results):
                    job_errors[spec.run_id] = _job_error(result)
                returns.append(results)
            except Exception as exc:  # e.g. a worker process killed: the batch's results are lost
                log.error(f"[ablation] launcher failed for {len(batch)} run(s): {type(exc).__name__}: {exc}")
                for spec in batch:
                    job_errors[spec.run_id] = {"type": type(exc).__name__, "message": str(exc).splitlines()[0] if str(exc) else "", "traceback": ""}
            job_index += len(batch)
            with manifest_lock(sweep_dir):
                manifest = load_manifest(sweep_dir)
                statuses, unreported = reconcile_runs(sweep_dir, manifest, [s.run_id for s in batch], job_errors)
                save_manifest(sweep_dir, manifest)
            for spec in batch:
                tries[spec.run_id] += 1
                if spec.run_id in unreported:
                    entry = find_run(manifest, spec.run_id)
                    append_event(events, "run_end", run_id=spec.run_id, status=entry["status"], error=entry["error"])
            failed = [s for s in batch if statuses[s.run_id] in ("failed", "diverged")]
            if failed and opts.get("fail_fast"):
                stop_reason = f"fail_fast: run {failed[0].run_id} {statuses[failed[0].run_id]}"
                break
            queue += [s for s in failed if tries[s.run_id] <= int(opts.get("max_retries") or 0)]

        manifest = load_manifest(sweep_dir)
        counts: Dict[str, int] = {}
        for run in manifest["runs"]:
            counts[run["status"]] = counts.get(run["status"], 0) + 1
        wall = round(time.monotonic() - t0, 3)
        append_event(events, "sweep_end", counts=counts, wall_time_s=wall, stopped=stop_reason)
        outcome.record(sweep_dir, counts, stop_reason)
        print(f"[ablation] sweep finished in {wall:.1f} s: "
              + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
              + (f" ({stop_reason})" if stop_reason else ""), flush=True)
        return returns

    # ------------------------------------------------------------------ helpers
    def _check_retries(self) -> None:
        retries = self.options.get("max_retries")
        if retries is None or int(retries) < 0:
            raise HydraException(f"hydra.sweeper.max_retries must be >= 0, got {retries!r}")

    def _batch_size(self, n_runs: int) -> int:
        size = self.options.get("max_batch_size")
        if size is None and self.options.get("time_budget_s") is not None:
            size = int(OmegaConf.select(self.config, "hydra.launcher.n_jobs", default=1) or 1)
        if size is not None and int(size) < 1:
            raise HydraException(f"hydra.sweeper.max_batch_size must be >= 1, got {size!r}")
        return int(size) if size else max(1, n_runs)

    def _job_overrides(self, spec) -> List[str]:
        overrides = list(spec.overrides)
        subdir = self.options.get("run_subdir")
        if subdir:
            overrides.append(f"hydra.sweep.subdir={subdir}/{spec.run_id}")
        threads = _threads_per_job(self.config)
        if threads:
            overrides.append(f"++hydra.job.env_set.SPECTRAMIND_NUM_THREADS={threads}")
        return overrides


def _job_error(result: JobReturn) -> Optional[Dict[str, str]]:
    if result.status != JobStatus.FAILED:
        return None
    exc = result._return_value
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {"type": type(exc).__name__, "message": message, "traceback": ""}


def _threads_per_job(config: DictConfig) -> Optional[int]:
    """CPU threads per job so that parallel jobs together use the machine's cores, no more."""
    n_jobs = OmegaConf.select(config, "hydra.launcher.n_jobs", default=None)
    if not n_jobs or int(n_jobs) <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // int(n_jobs))
