"""A calibrated folder: the light-curve layout, written one planet at a time and resumable.

What calibration (and the raw simulator's ideal-calibration twin) leaves in ``OUT_DIR``::

    light_curves/<id>.npy    float32 (n_time, 283), or (n_visits, n_time, 283) for repeated visits;
                             each visit's channels normalised to a mean of 1 over the visit
    light_curve_time.npy     hours from the visit's start (every visit shares the read times)
    flux_levels.csv          planet_id, visit, f_1..f_283: each channel's mean signal, e-/s
    wavelengths.csv, train_star_info.csv | test_star_info.csv (ADC 2025), train.csv (train split)
    calibration.json         parameters, spectramind version, every planet's status and seconds
    dataset.json             n_planets, n_time, time_origin "visit_start" (what the readers check)
    .calibration/            one record per planet: the commit marker of its light curve

A planet counts as done when its record says so; the record is written (atomically) only after
its light curve, so a killed run leaves nothing half-written that a reader or a resume would use.
The folder-level files are rewritten from the records at the end of every run.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectramind.atomic import replacing
from spectramind.data import layout
from spectramind.data.raw.claims import CLAIMS_DIR
from spectramind.errors import ConfigurationError, DatasetError

# The calibration parameters that change what a light curve looks like: a model trained on one
# setting must not predict from folders calibrated with another.
SHAPING_PARAMETERS = ("airs_bin", "fgs_bin", "extraction", "mask_hot", "linearity")
RECORD_DIR = ".calibration"
PARAMETERS_FILE = "parameters.json"
MANIFEST_FILE = "calibration.json"
FORMAT_VERSION = 1


def _json_dump(path: Path, payload: dict) -> None:
    with replacing(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")


def _csv_dump(path: Path, frame: pd.DataFrame) -> None:
    with replacing(path) as temporary:
        frame.to_csv(temporary, index=False, float_format="%.17g")


def spectramind_version() -> str:
    try:
        return metadata.version("spectramind")
    except metadata.PackageNotFoundError:
        return "unknown"


class CalibratedFolder:
    """``root`` holding (or about to hold) planets calibrated with ``parameters``.

    A folder started with other parameters is refused, as is a non-empty folder that is not a
    calibrated folder: resuming must never mix light curves made two different ways.
    """

    def __init__(self, root: str | Path, parameters: dict[str, Any]) -> None:
        self.root = Path(root)
        self.parameters = json.loads(json.dumps(parameters))
        self.records_dir = self.root / RECORD_DIR
        saved = self.records_dir / PARAMETERS_FILE
        if saved.is_file():
            previous = json.loads(saved.read_text())
            differing = sorted(
                k for k in set(previous) | set(self.parameters) if previous.get(k) != self.parameters.get(k)
            )
            if differing:
                shown = ", ".join(f"{k} {previous.get(k)!r} -> {self.parameters.get(k)!r}" for k in differing)
                raise ConfigurationError(
                    f"{self.root}: was calibrated with other parameters ({shown}); choose another output folder"
                )
        elif self.root.is_dir() and not {p.name for p in self.root.iterdir()} <= {layout.LIGHT_CURVE_DIR, RECORD_DIR}:
            # (a folder holding only those two is one another process is starting right now)
            raise ConfigurationError(
                f"{self.root}: not empty and not a calibrated folder; choose another output folder"
            )
        else:
            (self.root / layout.LIGHT_CURVE_DIR).mkdir(parents=True, exist_ok=True)
            _json_dump(saved, self.parameters)

    def _record_path(self, planet_id: int) -> Path:
        return self.records_dir / f"{int(planet_id)}.json"

    @property
    def claims_dir(self) -> Path:
        """Where the processes calibrating into this folder claim planets (:mod:`.claims`)."""
        return self.records_dir / CLAIMS_DIR

    def settled(self, planet_id: int, since: float) -> str | None:
        """``completed`` when the planet is calibrated, ``failed`` when an attempt failed at or after
        ``since`` (a failure of an earlier run is tried again), else None: the planet is still to do."""
        try:
            path = self._record_path(planet_id)
            record, written = json.loads(path.read_text()), path.stat().st_mtime
        except (OSError, ValueError):
            return None
        if record.get("status") == "completed" and layout.light_curve_path(self.root, planet_id).is_file():
            return "completed"
        return "failed" if record.get("status") == "failed" and written >= since else None

    def records(self) -> dict[int, dict[str, Any]]:
        """Every planet's record, by planet id (records that cannot be read count as absent)."""
        found = {}
        for path in self.records_dir.glob("*.json"):
            if path.name == PARAMETERS_FILE:
                continue
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            found[int(record["planet_id"])] = record
        return found

    def completed(self) -> set[int]:
        return {
            pid
            for pid, record in self.records().items()
            if record["status"] == "completed" and layout.light_curve_path(self.root, pid).is_file()
        }

    def write_planet(
        self,
        planet_id: int,
        times_h: np.ndarray,
        curves: np.ndarray,
        flux_levels: np.ndarray,
        seconds: float,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Store one planet: ``curves`` (visits, n_time, 283) normalised, ``flux_levels`` (visits, 283)."""
        array = np.asarray(curves, dtype=np.float32)
        with replacing(layout.light_curve_path(self.root, planet_id)) as temporary:
            with open(temporary, "wb") as handle:
                np.save(handle, array[0] if array.shape[0] == 1 else array)
        _json_dump(
            self._record_path(planet_id),
            {
                "planet_id": int(planet_id),
                "status": "completed",
                "visits": int(array.shape[0]),
                "seconds": round(float(seconds), 3),
                "times_h": [float(t) for t in times_h],
                "flux_levels": np.asarray(flux_levels, dtype=np.float64).tolist(),
                **(details or {}),
            },
        )

    def write_failure(self, planet_id: int, error: str, seconds: float) -> None:
        _json_dump(
            self._record_path(planet_id),
            {"planet_id": int(planet_id), "status": "failed", "error": error, "seconds": round(float(seconds), 3)},
        )

    def finalise(
        self,
        split: str,
        wavelengths: np.ndarray,
        star_info: pd.DataFrame | None,
        labels: pd.DataFrame | None,
        source: dict[str, Any],
    ) -> dict[str, Any]:
        """Write the folder-level files from every record; return the manifest."""
        records = self.records()
        done = sorted(self.completed())
        times = np.asarray(records[done[0]]["times_h"]) if done else np.empty(0)
        for pid in list(done):
            if not np.array_equal(np.asarray(records[pid]["times_h"]), times):
                records[pid] = {
                    **records[pid],
                    "status": "failed",
                    "error": f"its {len(records[pid]['times_h'])} time bins differ from planet {done[0]}'s "
                    f"{times.size}: calibrate planets with other frame counts into another folder",
                }
                done.remove(pid)
        if done:
            self._write_tables(done, records, times, split, wavelengths, star_info, labels)
        manifest = {
            "format_version": FORMAT_VERSION,
            "spectramind_version": spectramind_version(),
            "parameters": self.parameters,
            "source": source,
            "split": split,
            "counts": {
                status: sum(r["status"] == status for r in records.values()) for status in ("completed", "failed")
            },
            "planets": {
                str(pid): {k: v for k, v in r.items() if k not in ("times_h", "flux_levels", "planet_id")}
                for pid, r in sorted(records.items())
            },
        }
        _json_dump(self.root / MANIFEST_FILE, manifest)
        if done:
            _json_dump(
                self.root / layout.DATASET_INFO_FILE,
                {
                    "format_version": FORMAT_VERSION,
                    "kind": "calibrated",
                    "time_origin": layout.TIME_FROM_VISIT_START,
                    "n_planets": len(done),
                    "n_time": int(times.size),
                    "seed": None,
                    "split": split,
                    "config": {**self.parameters, "source": source},
                },
            )
        return manifest

    def _write_tables(
        self,
        done: list[int],
        records: dict[int, dict],
        times: np.ndarray,
        split: str,
        wavelengths: np.ndarray,
        star_info: pd.DataFrame | None,
        labels: pd.DataFrame | None,
    ) -> None:
        with replacing(self.root / layout.TIME_FILE) as temporary:
            with open(temporary, "wb") as handle:
                np.save(handle, times.astype(np.float64))
        rows = [[pid, visit, *levels] for pid in done for visit, levels in enumerate(records[pid]["flux_levels"])]
        _csv_dump(
            self.root / layout.FLUX_LEVELS_FILE,
            pd.DataFrame(rows, columns=["planet_id", "visit", *layout.FLUX_LEVEL_COLUMNS]),
        )
        _csv_dump(self.root / layout.WAVELENGTHS_FILE, pd.DataFrame([wavelengths], columns=layout.WAVELENGTH_COLUMNS))
        keep = pd.Index(done)
        if star_info is not None:
            _csv_dump(
                self.root / layout.STAR_INFO_FILES[split],
                star_info[star_info["planet_id"].isin(keep)].sort_values("planet_id"),
            )
        if labels is not None:
            _csv_dump(self.root / layout.LABELS_FILE, labels[labels["planet_id"].isin(keep)].sort_values("planet_id"))


def _calibration_config(folder: Path) -> dict[str, Any] | None:
    """The calibration parameters recorded in a folder's dataset.json, or None for other data."""
    if not (folder / layout.DATASET_INFO_FILE).is_file():
        return None
    info = layout.read_dataset_info(folder)
    return info["config"] if info.get("time_origin") == layout.TIME_FROM_VISIT_START else None


def check_same_calibration(trained_on: str | Path, predicting: str | Path) -> None:
    """Refuse to predict from a folder calibrated unlike the one the model was trained on (other
    bins, extraction or corrections). Nothing to check when either folder is not calibrated data
    or the training folder is no longer there (e.g. a Kaggle notebook that only has the checkpoint)."""
    trained, other = Path(trained_on), Path(predicting)
    if not trained.is_dir():
        return
    first, second = _calibration_config(trained), _calibration_config(other)
    if first is None or second is None:
        return
    differing = [k for k in SHAPING_PARAMETERS if k in first and k in second and first[k] != second[k]]
    if differing:
        shown = ", ".join(f"{k} {second[k]!r} (trained on {first[k]!r})" for k in differing)
        raise DatasetError(
            f"{other}: calibrated with {shown} in {trained}; calibrate it with the same "
            f"parameters as the training folder"
        )
