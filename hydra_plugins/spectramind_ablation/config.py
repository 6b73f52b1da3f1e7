"""Configuration of the ablation sweeper, registered as `hydra/sweeper=ablation`."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore


@dataclass
class AblationSweeperConf:
    _target_: str = "hydra_plugins.spectramind_ablation.sweeper.AblationSweeper"
    # grid | ofat | random
    design: str = "grid"
    # factor key -> levels in Hydra's command-line grammar ("mlp,cnn1d", "range(1,4)", "glob(*)").
    # Empty dicts, not None: OmegaConf cannot merge a command-line dict (`hydra.sweeper.baseline={..}`)
    # into a None-valued typed node (it raises AttributeError from inside its merge).
    params: Optional[Dict[str, str]] = field(default_factory=dict)
    # factor key -> baseline value (ofat; also marks the baseline of a grid); default: composed config
    baseline: Optional[Dict[str, Any]] = field(default_factory=dict)
    # repeats crossed with every configuration; each sets `seed_key`
    seeds: Optional[List[int]] = None
    seed_key: str = "seed"
    # random design: number of configurations drawn; other designs: launch at most this many runs
    max_runs: Optional[int] = None
    random_seed: int = 0
    # stop launching new runs once this many seconds have passed (the rest stay pending)
    time_budget_s: Optional[float] = None
    # continue the sweep in hydra.sweep.dir: skip completed runs, retry failed, resume interrupted
    resume: bool = False
    # stop launching at the first run that fails (or diverges) for good; the rest stay pending
    fail_fast: bool = False
    # relaunch a failed run up to this many times within the sweep (diverged runs are not retried)
    max_retries: int = 0
    # runs per launcher call (None: all at once; with a time budget or fail_fast, as many as the
    # launcher runs at once, so the sweep can stop between runs)
    max_batch_size: Optional[int] = None
    # run directories `<sweep_dir>/<run_subdir>/<run_id>`; null keeps Hydra's hydra.sweep.subdir
    run_subdir: Optional[str] = None
    # print the plan and launch nothing
    dry_run: bool = False
    # importable callable run on every planned task config during pre-flight (raise to abort);
    # spectramind's conf/hydra/sweeper/spectramind.yaml sets spectramind.config_checks.check_training_config
    validate: Optional[str] = None
    # importable function run once in each of the joblib launcher's workers while the pre-flight
    # runs (their imports then overlap it); spectramind's sweeper config sets spectramind.worker.warm_up
    warm_up: Optional[str] = None
    # recorded in sweep.json (set by study files)
    study: Optional[str] = None
    description: Optional[str] = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="ablation", node=AblationSweeperConf, provider="spectramind"
)
