"""Shared by the reliability battery: sweep settings, the fault sweep every fault test reads, and
checks of what a fault may not break (records, one-line errors, files outside the sweep).

The sweeps reuse tests/ablation's helpers (tiny data, ``run_sweep``) and fault callbacks
(tests/ablation/faults.py), made importable by this folder's conftest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import SINGLE_THREAD, explain, manifest, run_events, run_record, run_sweep, sweep_env

from spectramind.tracking.events import read_events

# Threads per job of a joblib sweep with n_jobs=2 (the sweeper gives each job its share of the
# cores). Every run of the battery uses this count: CPU results are bit-identical for one thread
# count, so sequential and parallel runs must use the same one to be comparable.
THREADS = max(1, (os.cpu_count() or 1) // 2)
JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
RESUME = "hydra.sweeper.resume=true"
FAULT = "+callbacks.fault._target_"
# Faults armed by this environment variable only: a resumed sweep started without it gets past
# them with the same config (a transient fault: an OOM kill, a flaky node).
FAULT_ENV = "SPECTRAMIND_INJECT_FAULTS"


def battery_overrides(train_overrides: list[str]) -> list[str]:
    """The sweep helpers' tiny training, with batches of 8 (several steps per epoch, so shuffling,
    and thus the random state, matters) and the battery's thread count."""
    return [o for o in train_overrides if o != SINGLE_THREAD] + [f"num_threads={THREADS}", "data.batch_size=8"]


# ---------------------------------------------------------------- the fault sweep
FAULT_LEVELS = ("Healthy", "KillProcessAtEpoch", "RaiseAtEpoch", "PoisonWeights")
FAULT_SWEEP = [
    f"{FAULT}={','.join(f'faults.{name}' for name in FAULT_LEVELS)}",
    f"+callbacks.fault.when_env={FAULT_ENV}",
    "optimizer.lr=0.003,0.001",
    "hydra.sweeper.design=ofat",
    "++hydra.sweeper.baseline={callbacks.fault._target_:faults.Healthy}",
]


def fault_of(entry: dict[str, Any]) -> str:
    """``Healthy`` ... from a run's overrides; ``Healthy-lr`` for the healthy non-baseline run."""
    overrides = dict(line.split("=", 1) for line in entry["overrides"])
    name = overrides[FAULT].split(".")[-1]
    return f"{name}-lr" if name == "Healthy" and not entry["is_baseline"] else name


def by_fault(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    return {fault_of(entry): entry for entry in manifest(sweep_dir)["runs"]}


def run_starts(sweep_dir: Path) -> dict[str, int]:
    return {
        run["run_id"]: len(run_events(sweep_dir, run["run_id"]).of("run_start"))
        for run in manifest(sweep_dir)["runs"]
        if (sweep_dir / "runs" / run["run_id"]).is_dir()
    }


@pytest.fixture(scope="session")
def fault_sweep(tmp_path_factory, train_overrides) -> dict[str, Any]:
    """A 5-run OFAT sweep on joblib (2 workers) whose fault factor crashes one run (exception),
    diverges one (NaN weights) and SIGKILLs one run's worker process; then the same sweep
    resumed without the faults armed. Returns both results and snapshots taken in between."""
    cwd = tmp_path_factory.mktemp("fault_sweep")
    sweep_dir = cwd / "sweep"
    args = [*battery_overrides(train_overrides), *FAULT_SWEEP, *JOBLIB, f"hydra.sweep.dir={sweep_dir}"]
    first = run_sweep(cwd, *args, **{FAULT_ENV: "1"})
    after_first = {
        "manifest": manifest(sweep_dir),
        "records": {run_id: run_record(sweep_dir, run_id) for run_id in run_starts(sweep_dir)},
        "run_starts": run_starts(sweep_dir),
        "leaderboard": json.loads((sweep_dir / "leaderboard.json").read_text())
        if (sweep_dir / "leaderboard.json").is_file()
        else None,
    }
    resumed = run_sweep(cwd, *args, RESUME)
    return {
        "sweep_dir": sweep_dir,
        "cwd": cwd,
        "args": args,
        "first": first,
        "after_first": after_first,
        "resumed": resumed,
    }


# ---------------------------------------------------------------- checks
def assert_record_intact(sweep_dir: Path, run_id: str) -> dict[str, Any]:
    """A completed run's record: every file there and parseable, its event log whole."""
    run_dir = sweep_dir / "runs" / run_id
    record = json.loads((run_dir / "run.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "completed" and record["error"] is None, record
    assert metrics["epochs"] >= 1 and isinstance(metrics["adc2025"], float)
    for name in ("config_resolved.yaml", "predictions.parquet", "submission.csv", "checkpoints/last.ckpt"):
        assert (run_dir / name).is_file(), name
    assert (sweep_dir / "configs_resolved" / f"{run_id}.yaml").is_file()
    log = read_events(run_dir / "events.jsonl")
    assert log.skipped_lines == [] and log.events[-1]["event"] == "run_end"
    return metrics


def error_line(result: subprocess.CompletedProcess) -> str:
    """An expected error as promised: exit 2, no traceback, the last stderr line ``error: ...``."""
    assert result.returncode == 2, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), explain(result)
    assert sum(line.startswith("error: ") for line in lines) == 1, explain(result)
    return lines[-1]


def metrics_without_timing(path: Path) -> dict[str, Any]:
    metrics = json.loads(path.read_text())
    metrics.pop("train_time_s")
    return metrics


def files_outside(root: Path, *allowed: Path) -> list[Path]:
    """Every file and folder under ``root`` that is not inside one of ``allowed``."""
    allowed_resolved = [a.resolve() for a in allowed]
    return sorted(
        p
        for p in root.rglob("*")
        if not any(p.resolve() == a or a in p.resolve().parents or p.resolve() in a.parents for a in allowed_resolved)
    )


# A writer that appends one whole event with spectramind's writer, then starts the next line with
# two separate writes, as a writer does when interrupted between the syscalls of a large line,
# and waits to be killed between them.
_TORN_WRITER = """
import os, sys, time
from spectramind.tracking.events import append_event
path = sys.argv[1]
append_event(path, "epoch_end", epoch=99, note="last whole line before the kill")
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
os.write(fd, b'{"event": "epoch_end", "time": "2025-01-01T00:00:00Z", "metr')
print("mid-line", flush=True)
time.sleep(120)
os.write(fd, b'ics": {}}\\n')
"""


def kill_writer_mid_line(path: Path) -> int:
    """SIGKILL a process in the middle of writing an event line to ``path``; return the 1-based
    number of the torn line it leaves."""
    process = subprocess.Popen(
        [sys.executable, "-c", _TORN_WRITER, str(path)], stdout=subprocess.PIPE, env=sweep_env(), text=True
    )
    try:
        assert process.stdout.readline().strip() == "mid-line"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    data = path.read_bytes()
    assert not data.endswith(b"\n")
    return data.count(b"\n") + 1
