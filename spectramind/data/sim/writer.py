"""The staged writer of simulated data sets: a data set appears whole or not at all, a folder that is
not one is never overwritten, and parallel runs generate a data set once and share it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from pathlib import Path

from spectramind.data import layout
from spectramind.data.sim.config import SimulationConfig
from spectramind.data.sim.light_curves import FORMAT_VERSION, write_dataset
from spectramind.errors import ConfigurationError, DatasetError


def simulate_dataset(out_dir: str | os.PathLike, config: SimulationConfig | None = None) -> Path:
    """Generate a dataset into `out_dir`, replacing a previously simulated one there.

    Files are written into a temporary sibling directory that is renamed into place only when
    complete, so an interrupted run never leaves a directory that looks like a finished dataset.
    A non-empty `out_dir` that is not a simulated dataset is refused rather than deleted.
    """
    config = config or SimulationConfig()
    out = Path(out_dir).absolute()
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / layout.DATASET_INFO_FILE).is_file():
        raise ConfigurationError(
            f"{out}: non-empty directory without {layout.DATASET_INFO_FILE}; refusing to overwrite it"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = out.parent / f".{out.name}.tmp-{token}"
    staging.mkdir()
    try:
        write_dataset(staging, config)
        if out.is_dir() and any(out.iterdir()):
            retired = out.parent / f".{out.name}.old-{token}"
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def _config_differences(out: Path, config: SimulationConfig) -> list[str]:
    """Keys (config fields, or format_version) in which the dataset at `out` differs from `config`."""
    info = layout.read_dataset_info(out)
    stored = info["config"] if isinstance(info["config"], dict) else {}
    wanted = config.to_dict()
    keys = sorted(set(stored) | set(wanted))
    differing = [k for k in keys if stored.get(k) != wanted.get(k)]
    if info["format_version"] != FORMAT_VERSION:
        differing.append("format_version")
    return differing


def _reuse_or_raise(out: Path, config: SimulationConfig) -> bool:
    """True if `out` holds a dataset made with `config`; False if there is none yet."""
    if not (out / layout.DATASET_INFO_FILE).is_file():
        if out.is_dir() and any(out.iterdir()):
            raise DatasetError(f"{out}: exists but has no {layout.DATASET_INFO_FILE}; not a simulated dataset")
        return False
    differing = _config_differences(out, config)
    if differing:
        raise ConfigurationError(
            f"{out}: holds a dataset simulated with a different config (differs in: "
            f"{', '.join(differing)}); delete it or choose another directory"
        )
    return True


def ensure_dataset(out_dir: str | os.PathLike, config: SimulationConfig | None = None) -> Path:
    """Return `out_dir`, generating the dataset there on first use and reusing it afterwards.

    Parallel runs (e.g. a Hydra multirun) serialise on an exclusive lock on `<out_dir>.lock`, so
    only the first generates; the rest find the finished dataset once the lock is released.
    """
    config = config or SimulationConfig()
    out = Path(out_dir).absolute()
    if _reuse_or_raise(out, config):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _reuse_or_raise(out, config):
                simulate_dataset(out, config)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out
