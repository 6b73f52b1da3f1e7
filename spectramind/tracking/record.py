"""The record of one run: its directory, resolved-config snapshot, ``run.json`` and event log.

``RunRecorder`` is used as a context manager around a training. It writes the record *before*
training starts (status ``running``) and rewrites ``run.json`` atomically when the run ends,
whatever the outcome: completed, failed (with error type, message and traceback tail) or
diverged. A process killed outright leaves ``running`` behind, which the sweeper's resume logic
recognises. Whoever runs the training can follow the status through ``on_status`` (inside an
ablation sweep: the sweep manifest's mirror, ``spectramind.ablation.manifest.record_run_status``);
the recorder itself knows nothing of sweeps but the snapshot folder's name.

In a distributed run every process builds the same recorder, but only global rank zero writes
(``writes=False`` on the others): one ``run.json``, one event log, one status report per run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from spectramind.atomic import replacing
from spectramind.errors import TrainingDiverged, first_line
from spectramind.placement import cluster_node
from spectramind.slurm import submitit_stop_message
from spectramind.sweep_layout import (
    COMPLETED,
    DIVERGED,
    EVENTS_FILE,
    FAILED,
    RESOLVED_CONFIG_FILE,
    RESOLVED_CONFIGS_DIR,
    RUN_RECORD_FILE,
    RUNNING,
)
from spectramind.timestamps import utc_now
from spectramind.tracking.events import append_event

_TRACEBACK_TAIL = 20

# Called with the run record (and, when the run ends, its test metrics) at every status change.
StatusHook = Callable[[dict[str, Any], "dict[str, float] | None"], None]


def write_json_atomic(path: str | os.PathLike, payload: Any) -> None:
    """Write JSON via a temp file and ``os.replace`` so readers never see a half-written file."""
    with replacing(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=2, default=str, allow_nan=True))


def read_json(path: str | os.PathLike) -> dict[str, Any] | None:
    """Read a JSON record, or None when it is missing or unreadable (e.g. truncated by a crash)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def index_run_records(sweep_dir: str | Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """run_id -> (run dir, run.json) for every run recorded one or two levels under ``sweep_dir``
    (``runs/<run_id>/``, Hydra's numbered job folders ``<n>/``, any ``hydra.sweep.subdir``); where
    one run has several directories (job-number layout, retried, an optimiser's repeated trial),
    its latest attempt."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    root = Path(sweep_dir)
    for path in list(root.glob(f"*/{RUN_RECORD_FILE}")) + list(root.glob(f"*/*/{RUN_RECORD_FILE}")):
        record = read_json(path)
        if not record or "run_id" not in record:
            continue
        known = found.get(record["run_id"])
        if known is None or str(record.get("started") or "") >= str(known[1].get("started") or ""):
            found[record["run_id"]] = (path.parent, record)
    return found


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """Commit and dirty flag of the checkout the code runs from (cwd first, then the package)."""
    for where in (Path.cwd(), Path(__file__).resolve().parents[2]):
        try:
            commit = subprocess.run(
                ["git", "-C", str(where), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            return {"commit": commit, "dirty": bool(dirty)}
        except (OSError, subprocess.SubprocessError):
            continue
    return {"commit": None, "dirty": None}


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("spectramind", "torch", "pytorch-lightning", "torchmetrics", "hydra-core", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def error_record(exc: BaseException) -> dict[str, str]:
    """Error type, one-line message and traceback tail, as stored in run.json and events. A Slurm
    job's stop at its time limit is said as such (submitit's own words mislead)."""
    tail = traceback.format_exception(type(exc), exc, exc.__traceback__)
    text = "".join(tail).splitlines()[-_TRACEBACK_TAIL:]
    message = first_line(exc)
    return {
        "type": type(exc).__name__,
        "message": submitit_stop_message(message) or message,
        "traceback": "\n".join(text),
    }


class RunRecorder:
    """Writes and maintains ``run.json``, ``events.jsonl`` and config snapshots of one run."""

    def __init__(
        self,
        run_dir: str | os.PathLike,
        *,
        identity: Any,
        overrides: list[str],
        config_yaml: str,
        config_hash: str,
        dataset_hash: str | None,
        seed: int | None,
        device: str,
        sweep_dir: str | os.PathLike | None = None,
        on_status: StatusHook | None = None,
        writes: bool = True,
    ) -> None:
        self.run_dir = Path(run_dir)
        # False on the other ranks of a distributed run: they keep the record in memory (the
        # training code reads it) but leave the files and the status hook to rank zero.
        self.writes = writes
        self.sweep_dir = Path(sweep_dir) if sweep_dir else None
        self.on_status = on_status
        self.events_path = self.run_dir / EVENTS_FILE
        self._t0 = time.perf_counter()
        self.record: dict[str, Any] = {
            "run_id": identity.run_id,
            "config_id": identity.config_id,
            "label": identity.label,
            "overrides": list(overrides),
            "config_hash": config_hash,
            "dataset_hash": dataset_hash,
            "dataset_dvc": None,
            "git": git_state(),
            "versions": package_versions(),
            "seed": seed,
            "device": device,
            "num_threads": None,
            "pid": os.getpid(),
            "host": platform.node(),
            "node": cluster_node(),
            "argv": sys.argv,
            "status": RUNNING,
            "started": utc_now(),
            "ended": None,
            "durations": {},
            "epochs_trained": None,
            "n_params": None,
            "checkpoints": {},
            "resumed_from": None,
            "init_from": None,
            "error": None,
        }
        self._config_yaml = config_yaml

    @property
    def run_id(self) -> str:
        return self.record["run_id"]

    def previous(self) -> dict[str, Any] | None:
        """The run.json left by an earlier attempt of this run, if any."""
        return read_json(self.run_dir / RUN_RECORD_FILE)

    def start(self) -> None:
        if not self.writes:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / RESOLVED_CONFIG_FILE).write_text(self._config_yaml)
        if self.sweep_dir is not None:
            snapshot = self.sweep_dir / RESOLVED_CONFIGS_DIR / f"{self.run_id}.yaml"
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            snapshot.write_text(self._config_yaml)
        self._save()
        self.event(
            "run_start",
            run_id=self.run_id,
            config_hash=self.record["config_hash"],
            seed=self.record["seed"],
            resumed_from=self.record["resumed_from"],
            node=self.record["node"],
        )
        self._report_status()

    def event(self, name: str, **fields: Any) -> None:
        if not self.writes:
            return
        append_event(self.events_path, name, **fields)

    def update(self, **fields: Any) -> None:
        self.record.update(fields)
        self._save()

    def finish(self, status: str, error: dict[str, str] | None = None, metrics: dict[str, float] | None = None) -> None:
        self.record["durations"]["total_s"] = round(time.perf_counter() - self._t0, 3)
        self.record.update(status=status, ended=utc_now(), error=error)
        self._save()
        self.event(
            "run_end",
            run_id=self.run_id,
            status=status,
            error=error,
            duration_s=self.record["durations"]["total_s"],
            metrics=metrics or {},
        )
        self._report_status(metrics)

    def __enter__(self) -> RunRecorder:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            if self.record["status"] == RUNNING:
                self.finish(COMPLETED)
        else:
            status = DIVERGED if isinstance(exc, TrainingDiverged) else FAILED
            self.finish(status, error=error_record(exc))
        return False

    def _save(self) -> None:
        if not self.writes:
            return
        write_json_atomic(self.run_dir / RUN_RECORD_FILE, self.record)

    def _report_status(self, metrics: dict[str, float] | None = None) -> None:
        if self.on_status is not None and self.writes:
            self.on_status(self.record, metrics)
