"""Where a sweep's orchestration time goes: wall-clock timers around its named stages.

``python -m bench.sweep_profile`` runs the orchestration benchmark's tiny 8-run sweep in this
process (``spectramind.train.entry_point``) with timers wrapped around Hydra's and spectramind's
stages, and prints a table: calls, total ms, ms per run. Unlike cProfile it adds no per-call
cost inside the stages, so the figures add up to the sweep's wall time. Not part of
``python -m bench``; it is the profile behind the orchestration figure in docs/performance.md.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# (module, attribute path): the stages of a multirun, outermost first.
STAGES = (
    ("hydra._internal.hydra", "Hydra.multirun"),
    ("hydra_plugins.spectramind_ablation.sweeper", "AblationSweeper._preflight"),
    ("spectramind.config_checks", "check_training_config"),
    ("hydra._internal.config_loader_impl", "ConfigLoaderImpl.load_sweep_config"),
    ("hydra._internal.core_plugins.basic_launcher", "run_job"),
    ("hydra.core.utils", "_save_config"),
    ("hydra.core.utils", "configure_log"),
    ("spectramind.ablation.manifest", "record_run_status"),  # before training.py imports it by name
    ("spectramind.training", "run_training"),
    ("spectramind.tracking.record", "RunRecorder.start"),
    ("spectramind.leaderboard.callback", "LeaderboardCallback.on_multirun_end"),
)

calls: dict[str, list[float]] = defaultdict(list)  # stage -> seconds of each call


def _wrap(module_name: str, path: str) -> None:
    module = importlib.import_module(module_name)
    owner, _, name = path.rpartition(".")
    target = getattr(module, owner) if owner else module
    original = getattr(target, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            calls[path].append(time.perf_counter() - started)

    setattr(target, name, timed)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    process_start = time.perf_counter()
    from bench.sweeps import N_RUNS, tiny_study

    work = Path(tempfile.mkdtemp(prefix="spectramind-sweep-profile-"))
    study = tiny_study(work)
    from hydra.core.plugins import Plugins

    Plugins.instance()  # the plugin scan re-executes plugin modules: wrap after it, or it undoes the wrappers
    for module_name, path in STAGES:
        _wrap(module_name, path)
    from spectramind.train import entry_point

    sys.argv = ["spectramind.train", "--multirun", f"hydra.sweep.dir={work / 'sweep'}", *study.sweep_overrides()]
    started = time.perf_counter()
    try:
        entry_point()
    except SystemExit as exit_:
        if exit_.code:
            raise  # the sweep directory stays for a look
    wall = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    runs = N_RUNS
    print(f"sweep in-process: {wall:.3f} s (process up {started - process_start:.3f} s before it)")
    print(f"{'stage':45s} {'calls':>5s} {'total ms':>9s} {'ms/run':>7s} {'1st ms':>7s} {'median ms':>9s}")
    for _, path in STAGES:
        times = calls.get(path, [])
        total = sum(times) * 1000
        first, middle = (times[0] * 1000, statistics.median(times) * 1000) if times else (0.0, 0.0)
        print(f"{path:45s} {len(times):5d} {total:9.0f} {total / runs:7.1f} {first:7.0f} {middle:9.1f}")
    task, jobs, multirun = (sum(calls[name]) * 1000 for name in ("run_training", "run_job", "Hydra.multirun"))
    print(f"{'Hydra job wrapper (run_job - run_training)':45s} {'':5s} {jobs - task:9.0f} {(jobs - task) / runs:7.1f}")
    print(
        f"{'outside run_training (multirun - run_training)':45s} {'':5s} "
        f"{multirun - task:9.0f} {(multirun - task) / runs:7.1f}"
    )


if __name__ == "__main__":
    main()
