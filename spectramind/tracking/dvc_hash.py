"""The hash DVC tracks for a run's data set, read from the DVC project's own files.

Why: ``dataset_hash`` (``spectramind.data.layout.dataset_fingerprint``) identifies a data folder
by file metadata on this machine; a data set under DVC already has a content hash that means the
same thing on every machine and in the DVC cache (``dvc checkout`` restores exactly it). A run
records that hash too, so a result can be traced to the data version DVC can restore.

Where DVC keeps it: a pipeline stage's output in ``dvc.lock`` (``stages.<name>.outs[].md5``, with
``path`` relative to the lock file's folder; a lock may sit in any folder of the project, so every
folder from the data set up to the project root is tried), or ``dvc add``'s ``<name>.dvc`` file
beside the folder. Only plain YAML is read: DVC need not be installed. The lookup stops at the
project root (the nearest folder holding ``.dvc/``); outside a DVC project there is no hash.

DVC records the file count and total size of a tracked folder with its hash; they are compared
with the folder as it is (spectramind's derived ``cache/`` left out, as ``.dvcignore`` leaves it
out of the hash). A mismatch means the folder changed since DVC hashed it: the hash is still
recorded, with ``matches_files: false``, and ``dvc status`` says what changed.

A run never fails over DVC's files (training does not depend on DVC): ``dataset_dvc_record``
turns an unreadable one into an ``error`` entry and a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from spectramind.data.layout import dataset_files

log = logging.getLogger(__name__)


def dataset_dvc_record(data_dir: str | os.PathLike) -> dict[str, Any] | None:
    """What a run records as ``dataset_dvc``: ``dvc_tracked_hash``, or ``{error}`` (with a warning)
    when a DVC file cannot be read; a warning too when the folder no longer matches its hash."""
    try:
        tracked = dvc_tracked_hash(data_dir)
    except ValueError as exc:
        log.warning(f"the DVC hash of the data set is not recorded: {exc}")
        return {"error": str(exc)}
    if tracked is not None and tracked["matches_files"] is False:
        log.warning(
            f"{data_dir} has changed since DVC hashed it ({tracked['source']}): "
            f"the recorded DVC hash {tracked['md5']} may not describe it; see `dvc status`"
        )
    return tracked


def dvc_tracked_hash(data_dir: str | os.PathLike) -> dict[str, Any] | None:
    """``{md5, source, stage, path, nfiles, size, matches_files}`` for ``data_dir``, or None when
    no DVC file of its project tracks it. An unreadable DVC file raises ``ValueError`` naming it."""
    data = Path(data_dir).resolve()
    root = _project_root(data)
    if root is None:
        return None
    for source, stage, entry in _tracked_outputs(data, root):
        nfiles, size = _folder_totals(data)
        expected = (entry.get("nfiles"), entry.get("size"))
        return {
            "md5": str(entry["md5"]),
            "source": source.relative_to(root).as_posix(),
            "stage": stage,
            "path": data.relative_to(root).as_posix(),
            "nfiles": nfiles,
            "size": size,
            "matches_files": None if None in expected else expected == (nfiles, size),
        }
    return None


def _project_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` that holds a ``.dvc`` folder."""
    for folder in (path, *path.parents):
        if (folder / ".dvc").is_dir():
            return folder
    return None


def _tracked_outputs(data: Path, root: Path) -> Iterator[tuple[Path, str | None, dict]]:
    """(DVC file, stage or None, its ``outs`` entry) for every entry with an md5 that names ``data``."""
    pointer = data.parent / f"{data.name}.dvc"
    if pointer.is_file():
        for entry in _entries(_load(pointer).get("outs"), pointer):
            if (pointer.parent / str(entry.get("path", ""))).resolve() == data:
                yield pointer, None, entry
    folder = data.parent
    while True:
        lock = folder / "dvc.lock"
        if lock.is_file():
            stages = _load(lock).get("stages") or {}
            if not isinstance(stages, dict):
                raise ValueError(f"{lock}: 'stages' is not a mapping")
            for stage, body in stages.items():
                for entry in _entries((body or {}).get("outs"), lock):
                    if (folder / str(entry.get("path", ""))).resolve() == data:
                        yield lock, str(stage), entry
        if folder == root or folder == folder.parent:
            return
        folder = folder.parent


def _entries(outs: Any, source: Path) -> Iterator[dict]:
    if outs is None:
        return
    if not isinstance(outs, list):
        raise ValueError(f"{source}: 'outs' is not a list")
    for entry in outs:
        if isinstance(entry, dict) and entry.get("md5"):
            yield entry


def _load(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the DVC file {path}: {str(exc).splitlines()[0]}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a DVC file (expected a mapping)")
    return document


def _folder_totals(data: Path) -> tuple[int, int]:
    """(number of files, total bytes) of the data set in ``data`` (its ``cache/`` left out)."""
    sizes = [stat.st_size for _, stat in dataset_files(data)]
    return len(sizes), sum(sizes)
