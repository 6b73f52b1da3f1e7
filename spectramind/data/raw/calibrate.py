"""Calibrate the competition's raw frames into 283-channel light curves (Hydra-free): the orchestration.

``spectramind data calibrate RAW_DIR OUT_DIR`` and :func:`calibrate_folder` turn a folder in the
ADC 2025 or ADC 2024 layout (``spectramind.data.raw.layout``) into a calibrated folder in the
project's light-curve layout (``spectramind.data.raw.calibrated_folder``) that the DataModule trains
on, one planet at a time through :mod:`spectramind.data.raw.reduction`. Planets run in parallel
(:mod:`spectramind.data.raw.backends`: joblib's processes locally or a Ray cluster); each planet's
output is committed atomically, so a killed run resumes where it stopped and a planet that fails is
recorded while the others go on. Several processes may calibrate into one folder at once (a Slurm
job array, two shells): each planet is claimed by one of them (:mod:`spectramind.data.raw.claims`),
a process waits for the planets others hold (and takes over those whose process died), and every
one of them ends with the folder complete. A planet whose Ray task is lost with its node is taken
over the same way, by this process.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spectramind.data import layout
from spectramind.data.raw.backends import BACKENDS, parallel_results, ray_module
from spectramind.data.raw.calibrated_folder import CalibratedFolder
from spectramind.data.raw.claims import planet_claim
from spectramind.data.raw.layout import (
    AXIS_INFO_FILE,
    AxisInfo,
    RawLayout,
    detect_layout,
    read_axis_info,
    read_star_info,
)
from spectramind.data.raw.reduction import CalibrationParams, calibrate_planet
from spectramind.errors import ConfigurationError, DatasetError
from spectramind.placement import cluster_node

# What a planet's task reports when another process holds its claim (this one waits for it) or
# settled it while this one was on its way (reported, not calibrated again); how often to look.
CLAIMED, ELSEWHERE = "claimed", "elsewhere"
CLAIM_POLL_S = 0.5

log = logging.getLogger(__name__)


def _calibrate_and_store(
    root: Path,
    variant: str,
    split: str,
    planet_id: int,
    out_dir: Path,
    parameters: dict[str, Any],
    params: CalibrationParams,
    axis: AxisInfo,
    since: float,
) -> dict[str, Any]:
    """One planet, in whichever process runs it: calibrated and committed, or recorded as failed;
    left alone while another process holds its claim (``claimed``) or once another process has
    settled it since ``since`` (``elsewhere``)."""
    from spectramind.fast_exit import skip_final_collection

    skip_final_collection()
    folder = CalibratedFolder(out_dir, parameters)
    with planet_claim(folder.claims_dir, planet_id) as mine:
        if not mine:
            return {"planet_id": planet_id, "status": CLAIMED}
        settled = folder.settled(planet_id, since)
        if settled is not None:  # by another process, between this one's listing and its claim
            return {"planet_id": planet_id, "status": ELSEWHERE, "outcome": settled}
        return _calibrate_claimed(folder, root, variant, split, planet_id, params, axis)


def _calibrate_claimed(
    folder: CalibratedFolder,
    root: Path,
    variant: str,
    split: str,
    planet_id: int,
    params: CalibrationParams,
    axis: AxisInfo,
) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        times, curves, levels, details = calibrate_planet(RawLayout(root, variant), split, planet_id, axis, params)
    except Exception as exc:  # recorded; the other planets go on (KeyboardInterrupt still stops the run)
        message = (
            " ".join(str(exc).split())
            if isinstance(exc, (DatasetError, ConfigurationError))
            else (f"{type(exc).__name__}: {exc} | " + " | ".join(traceback.format_exc().strip().splitlines()[-3:]))
        )
        folder.write_failure(planet_id, message, time.perf_counter() - started)
        return {"planet_id": planet_id, "status": "failed", "error": message}
    seconds = time.perf_counter() - started
    node = cluster_node()  # where a Ray task calibrated it (absent elsewhere)
    folder.write_planet(planet_id, times, curves, levels, seconds, {**details, **({"node": node} if node else {})})
    return {"planet_id": planet_id, "status": "completed", "seconds": seconds, "visits": len(curves)}


def calibrate_folder(
    raw_dir: str | Path,
    out_dir: str | Path,
    split: str = "train",
    params: CalibrationParams | None = None,
    workers: int = 1,
    planets: list[int] | None = None,
    backend: str = "loky",
    progress: Callable[[dict[str, Any], int, int], None] | None = None,
) -> dict[str, Any]:
    """Calibrate a split of a raw folder into ``out_dir``; return the manifest.

    Planets already completed in ``out_dir`` are skipped; failed ones are tried again. A planet
    that fails is recorded and the others go on: check ``manifest["counts"]["failed"]``.
    """
    params = params or CalibrationParams()
    if split not in ("train", "test"):
        raise ConfigurationError(f"split={split!r}; expected train or test")
    if backend not in BACKENDS:
        raise ConfigurationError(f"backend={backend!r}; expected one of {', '.join(BACKENDS)}")
    if int(workers) < 1:
        raise ConfigurationError(f"workers={workers!r} must be >= 1")
    if backend == "ray":
        ray_module()  # before anything is written
    raw = detect_layout(raw_dir)
    axis = read_axis_info(raw.root / AXIS_INFO_FILE)
    wavelengths = layout.read_wavelengths(raw.root)
    available = raw.planet_ids(split)
    if not available:
        raise DatasetError(f"{raw.root / split}: no planet folders")
    if planets:
        unknown = sorted(set(planets) - set(available))
        if unknown:
            raise DatasetError(
                f"{raw.root / split}: unknown planet id(s) {', '.join(map(str, unknown[:5]))}"
                f"{' ...' if len(unknown) > 5 else ''}"
            )
    star_file = raw.star_info_file(split)
    star_info = read_star_info(star_file) if star_file is not None and star_file.is_file() else None
    labels = layout.read_labels(raw.labels_file) if split == "train" and raw.labels_file.is_file() else None

    parameters = {**params.record(), "variant": raw.variant, "split": split}
    folder = CalibratedFolder(out_dir, parameters)
    done = folder.completed()
    todo = [pid for pid in (sorted(set(planets)) if planets else available) if pid not in done]
    since = time.time()
    task = {pid: (raw.root, raw.variant, split, pid, Path(out_dir), parameters, params, axis, since) for pid in todo}
    if workers == 1 and backend == "loky":
        results = (_calibrate_and_store(*args) for args in task.values())
    else:
        results = parallel_results(_calibrate_and_store, list(task.values()), workers, backend, _lost)
    _settle_all(results, task, len(todo), progress)
    return folder.finalise(
        split, wavelengths, star_info, labels, source={"raw_dir": str(Path(raw_dir).resolve()), "variant": raw.variant}
    )


def _lost(args: tuple, error: str) -> dict[str, Any]:
    """A planet whose Ray task was lost with its node: waited for like a planet another process
    holds, so that this process takes it over once its claim is free (at once: the claim died with
    the lost process) and calibrates it itself."""
    planet_id = args[3]
    log.warning(f"[calibrate] planet {planet_id}: lost on the Ray cluster ({error}); calibrating it here")
    return {"planet_id": planet_id, "status": CLAIMED}


def _settle_all(
    results, task: dict[int, tuple], total: int, progress: Callable[[dict[str, Any], int, int], None] | None
) -> None:
    """Report each planet as it is settled; the planets another process held are waited for (and
    taken over, should its process die) until every one is settled, so that every process sharing
    the folder finishes with it complete."""
    count, waiting = 0, []
    for result in results:
        if result["status"] == CLAIMED:
            waiting.append(result["planet_id"])
            continue
        count += 1
        if progress is not None:
            progress(result, count, total)
    while waiting:
        time.sleep(CLAIM_POLL_S)
        still = []
        for planet_id in waiting:
            result = _calibrate_and_store(*task[planet_id])
            if result["status"] == CLAIMED:
                still.append(planet_id)
                continue
            count += 1
            if progress is not None:
                progress(result, count, total)
        waiting = still
