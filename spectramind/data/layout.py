"""The on-disk dataset layout: file names, column names, and validating readers.

Every consumer (DataModule, scoring, CLI) reads data through these functions so that a damaged or
mismatched dataset fails early with one line naming the file and the problem, instead of a pandas
KeyError or a shape error deep inside training.

Layout of a data directory:
  train.csv              planet_id, wl_1..wl_283: true transit depths (Rp/Rs)^2
  wavelengths.csv        one row, wl_1..wl_283: channel wavelengths in um
  train_star_info.csv    planet_id + STAR_COLUMNS (test_star_info.csv in a calibrated test split)
  light_curves/<id>.npy  float32 (n_time, 283) normalised flux; (n_visits, n_time, 283) for a
                         planet observed more than once (calibrated data)
  light_curve_time.npy   float64 (n_time,) hours, shared by all planets: from mid-transit
                         (simulated), or from the visit's start (calibrated: dataset.json says
                         time_origin "visit_start", and each visit's transit is found in the data)
  noise_truth.csv        planet_id, noise_*, depth_sigma_*, jitter_sigma_*, per-planet systematics
                         parameters (the references' truth: spectramind.metrics.references)
  atmosphere_truth.csv   planet_id + ATMOSPHERE_COLUMNS (what shaped each true spectrum)
  flux_levels.csv        calibrated data: planet_id, visit, f_1..f_283, mean signal in e-/s
  dataset.json           format_version, n_planets, n_time, seed, config (generator or calibration)
  cache/                 derived files (features); not part of the dataset fingerprint

The simulator writes the first group of files, ``spectramind data calibrate`` the calibrated kind
(``spectramind.data.raw.calibrated_folder``); both read the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.errors import DatasetError
from spectramind.spectrum import N_WAVELENGTHS

WAVELENGTH_COLUMNS = [f"wl_{i}" for i in range(1, N_WAVELENGTHS + 1)]
SIGMA_COLUMNS = [f"sigma_{i}" for i in range(1, N_WAVELENGTHS + 1)]
FLUX_LEVEL_COLUMNS = [f"f_{i}" for i in range(1, N_WAVELENGTHS + 1)]
NOISE_COLUMNS = [f"noise_{i}" for i in range(1, N_WAVELENGTHS + 1)]
DEPTH_SIGMA_COLUMNS = [f"depth_sigma_{i}" for i in range(1, N_WAVELENGTHS + 1)]
JITTER_SIGMA_COLUMNS = [f"jitter_sigma_{i}" for i in range(1, N_WAVELENGTHS + 1)]
# Numeric star/orbit columns of train_star_info.csv (besides planet_id), in the competition's units:
# Rs, Ms solar; Ts K; Mp Jupiter masses; e; P days; sma in stellar radii (a/Rs); i degrees.
STAR_COLUMNS = ["Rs", "Ms", "Ts", "Mp", "e", "P", "sma", "i"]
# Per-planet systematics parameters in noise_truth.csv.
SYSTEMATICS_COLUMNS = [
    "star_mag",
    "jitter_ppm",
    "jitter_correlation",
    "drift_linear_ppm",
    "drift_quadratic_ppm",
    "drift_exp_ppm",
    "drift_exp_tau_h",
    "chromatic_drift_ppm",
]
ATMOSPHERE_COLUMNS = [
    "Rp0",
    "Teq",
    "scale_height_km",
    "cloudy",
    "log_H2O",
    "log_CO2",
    "log_CH4",
    "log_CO",
]

LABELS_FILE = "train.csv"
WAVELENGTHS_FILE = "wavelengths.csv"
STAR_INFO_FILES = {"train": "train_star_info.csv", "test": "test_star_info.csv"}
STAR_INFO_FILE = STAR_INFO_FILES["train"]
FLUX_LEVELS_FILE = "flux_levels.csv"
LIGHT_CURVE_DIR = "light_curves"
TIME_FILE = "light_curve_time.npy"
NOISE_TRUTH_FILE = "noise_truth.csv"
ATMOSPHERE_TRUTH_FILE = "atmosphere_truth.csv"
DATASET_INFO_FILE = "dataset.json"
CACHE_DIR = "cache"
# dataset.json's time_origin: where light_curve_time.npy counts from.
TIME_FROM_MID_TRANSIT = "mid_transit"
TIME_FROM_VISIT_START = "visit_start"


def _data_dir(data_dir: str | os.PathLike) -> Path:
    path = Path(data_dir)
    if not path.is_dir():
        raise DatasetError(f"{path}: data directory does not exist")
    return path


def _expected_rows(data_dir: Path) -> int | None:
    """Planet count promised by dataset.json, when the directory has one."""
    info_path = data_dir / DATASET_INFO_FILE
    if not info_path.is_file():
        return None
    return int(read_dataset_info(data_dir)["n_planets"])


def _name_some(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def read_csv_exact(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV with pyarrow's parser, which keeps every digit of small floats (pandas' C parser
    before 3.1 drops some). pyarrow is called directly, single-threaded: through
    ``pd.read_csv(engine="pyarrow")`` a process that also imported torch sometimes aborts at exit."""
    from pyarrow import csv

    return csv.read_csv(path, read_options=csv.ReadOptions(use_threads=False)).to_pandas()


def _read_table(path: Path, columns: list[str], expected_rows: int | None, has_planet_id: bool = True) -> pd.DataFrame:
    """Read a CSV and check it has exactly `columns`, the right row count and finite numbers."""
    if not path.is_file():
        raise DatasetError(f"{path}: file is missing")
    try:
        frame = read_csv_exact(path)
    except (ValueError, UnicodeDecodeError) as err:  # ArrowInvalid is a ValueError
        raise DatasetError(f"{path}: not a readable CSV ({str(err).splitlines()[0]})") from err
    present = set(frame.columns)
    missing = [c for c in columns if c not in present]
    if missing:
        raise DatasetError(f"{path}: missing columns {_name_some(missing)}")
    extra = [str(c) for c in frame.columns if c not in set(columns)]
    if extra:
        raise DatasetError(f"{path}: unexpected columns {_name_some(extra)}")
    frame = frame[columns]
    if len(frame) == 0:
        raise DatasetError(f"{path}: has no rows")
    if expected_rows is not None and len(frame) != expected_rows:
        raise DatasetError(f"{path}: has {len(frame)} rows, dataset.json promises {expected_rows}")
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            raise DatasetError(f"{path}: column {column} holds non-numeric values")
    values = frame.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        bad = [c for c in columns if not np.isfinite(frame[c].to_numpy(dtype=np.float64)).all()]
        raise DatasetError(f"{path}: non-finite values in columns {_name_some(bad)}")
    if has_planet_id:
        if not pd.api.types.is_integer_dtype(frame["planet_id"]):
            raise DatasetError(f"{path}: planet_id must be integers")
        if frame["planet_id"].duplicated().any():
            dup = frame.loc[frame["planet_id"].duplicated(), "planet_id"].astype(str).tolist()
            raise DatasetError(f"{path}: duplicate planet_id {_name_some(dup)}")
        frame = frame.astype({"planet_id": np.int64})
    return frame.reset_index(drop=True)


def read_labels(path_or_dir: str | os.PathLike) -> pd.DataFrame:
    """planet_id + wl_1..wl_283 from a data directory's train.csv, or from the CSV path itself."""
    path = Path(path_or_dir)
    if path.is_dir():
        return _read_table(path / LABELS_FILE, ["planet_id", *WAVELENGTH_COLUMNS], _expected_rows(path))
    if not path.parent.is_dir():
        raise DatasetError(f"{path.parent}: data directory does not exist")
    return _read_table(path, ["planet_id", *WAVELENGTH_COLUMNS], None)


def read_star_info(data_dir: str | os.PathLike) -> pd.DataFrame:
    """planet_id + STAR_COLUMNS: the data set's planets with their stellar and orbital parameters.

    Read from train_star_info.csv, or test_star_info.csv in a calibrated test split. A calibrated
    ADC 2024 folder has no star information at all: its planets come from flux_levels.csv and
    the star columns are NaN.
    """
    root = _data_dir(data_dir)
    for name in STAR_INFO_FILES.values():
        if (root / name).is_file():
            return _read_table(root / name, ["planet_id", *STAR_COLUMNS], _expected_rows(root))
    if (root / FLUX_LEVELS_FILE).is_file():
        ids = np.unique(read_flux_levels(root)["planet_id"].to_numpy())
        frame = pd.DataFrame(np.nan, index=range(ids.size), columns=STAR_COLUMNS)
        frame.insert(0, "planet_id", ids.astype(np.int64))
        return frame
    raise DatasetError(f"{root / STAR_INFO_FILE}: file is missing")


def read_flux_levels(data_dir: str | os.PathLike) -> pd.DataFrame:
    """planet_id, visit, f_1..f_283: a calibrated planet's mean signal per channel, in e-/s."""
    root = _data_dir(data_dir)
    path = root / FLUX_LEVELS_FILE
    frame = _read_table(path, ["planet_id", "visit", *FLUX_LEVEL_COLUMNS], None, has_planet_id=False)
    if frame[["planet_id", "visit"]].duplicated().any():
        raise DatasetError(f"{path}: duplicate (planet_id, visit) rows")
    return frame.astype({"planet_id": np.int64, "visit": np.int64})


def time_origin(data_dir: str | os.PathLike) -> str:
    """Where the data set's times count from: TIME_FROM_MID_TRANSIT unless dataset.json says else."""
    root = _data_dir(data_dir)
    if not (root / DATASET_INFO_FILE).is_file():
        return TIME_FROM_MID_TRANSIT
    origin = read_dataset_info(root).get("time_origin", TIME_FROM_MID_TRANSIT)
    if origin not in (TIME_FROM_MID_TRANSIT, TIME_FROM_VISIT_START):
        raise DatasetError(f"{root / DATASET_INFO_FILE}: unknown time_origin {origin!r}")
    return origin


def read_wavelengths(data_dir: str | os.PathLike) -> np.ndarray:
    """The 283 channel wavelengths (um), checked to be positive and strictly increasing."""
    root = _data_dir(data_dir)
    path = root / WAVELENGTHS_FILE
    frame = _read_table(path, WAVELENGTH_COLUMNS, 1, has_planet_id=False)
    wavelengths = frame.to_numpy(dtype=np.float64)[0]
    if (wavelengths <= 0).any() or (np.diff(wavelengths) <= 0).any():
        raise DatasetError(f"{path}: wavelengths must be positive and strictly increasing")
    return wavelengths


def _load_npy(path: Path, mmap: bool) -> np.ndarray:
    if not path.is_file():
        raise DatasetError(f"{path}: file is missing")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, EOFError, OSError) as err:
        raise DatasetError(f"{path}: truncated or not a .npy array ({str(err).splitlines()[0]})") from err


def read_time(data_dir: str | os.PathLike) -> np.ndarray:
    """The shared time grid (hours from mid-transit), checked 1-D, finite and increasing."""
    root = _data_dir(data_dir)
    path = root / TIME_FILE
    time = np.asarray(_load_npy(path, mmap=False), dtype=np.float64)
    if time.ndim != 1 or time.size < 2:
        raise DatasetError(f"{path}: expected a 1-D array of times, got shape {time.shape}")
    if not np.isfinite(time).all():
        raise DatasetError(f"{path}: non-finite values")
    if (np.diff(time) <= 0).any():
        raise DatasetError(f"{path}: times must be strictly increasing")
    return time


def light_curve_path(data_dir: str | os.PathLike, planet_id: int) -> Path:
    return Path(data_dir) / LIGHT_CURVE_DIR / f"{int(planet_id)}.npy"


def load_light_curve(
    data_dir: str | os.PathLike,
    planet_id: int,
    mmap: bool = True,
    n_time: int | None = None,
) -> np.ndarray:
    """One planet's flux, (n_time, 283) or (n_visits, n_time, 283); memory-mapped by default so
    large datasets stay on disk.

    Pass `n_time` (the length of the time grid) to also check the number of samples.
    """
    root = _data_dir(data_dir)
    path = light_curve_path(root, planet_id)
    flux = _load_npy(path, mmap)
    if flux.ndim not in (2, 3) or flux.shape[-1] != N_WAVELENGTHS or 0 in flux.shape:
        raise DatasetError(
            f"{path}: expected shape (n_time, {N_WAVELENGTHS}) or (n_visits, n_time, {N_WAVELENGTHS}), got {flux.shape}"
        )
    if n_time is not None and flux.shape[-2] != n_time:
        raise DatasetError(f"{path}: has {flux.shape[-2]} time samples, the time grid has {n_time}")
    if not np.issubdtype(flux.dtype, np.floating):
        raise DatasetError(f"{path}: expected floating-point flux, got {flux.dtype}")
    if not np.isfinite(flux).all():
        raise DatasetError(f"{path}: non-finite flux values")
    return flux


def read_noise_truth(data_dir: str | os.PathLike) -> pd.DataFrame:
    """The simulator's per-channel noise, the depth's white-noise limit, the jitter's irreducible
    depth error (shared by a planet's channels) and the systematics' parameters."""
    root = _data_dir(data_dir)
    columns = ["planet_id", *NOISE_COLUMNS, *DEPTH_SIGMA_COLUMNS, *JITTER_SIGMA_COLUMNS, *SYSTEMATICS_COLUMNS]
    return _read_table(root / NOISE_TRUTH_FILE, columns, _expected_rows(root))


def read_atmosphere_truth(data_dir: str | os.PathLike) -> pd.DataFrame:
    """The simulator's per-planet atmosphere (reference radius, Teq, H, cloud flag, abundances)."""
    root = _data_dir(data_dir)
    return _read_table(root / ATMOSPHERE_TRUTH_FILE, ["planet_id", *ATMOSPHERE_COLUMNS], _expected_rows(root))


def read_dataset_info(data_dir: str | os.PathLike) -> dict:
    """dataset.json: the generating config, seed, format_version, n_planets and n_time."""
    root = _data_dir(data_dir)
    path = root / DATASET_INFO_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: file is missing")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(info, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    missing = [k for k in ("config", "seed", "format_version", "n_planets", "n_time") if k not in info]
    if missing:
        raise DatasetError(f"{path}: missing keys {_name_some(missing)}")
    return info


def dataset_files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """(path, stat) of every file of the data set in ``root``, without the derived ``cache/``
    folder (which DVC's ``.dvcignore`` leaves out too)."""
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and CACHE_DIR in dirnames:
            dirnames.remove(CACHE_DIR)
        for name in filenames:
            path = Path(dirpath) / name
            yield path, path.stat()


def dataset_fingerprint(data_dir: str | os.PathLike) -> str:
    """sha256 over the sorted (relative path, size, mtime_ns) of every dataset file.

    Uses only file metadata, so it costs the same for a 1 MB or a 1 TB dataset, while any rewrite
    of a file (new size or modification time) changes it. The derived `cache/` folder is left out:
    caches keyed on the fingerprint must not invalidate themselves.
    """
    root = _data_dir(data_dir)
    entries = [
        (path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns) for path, stat in dataset_files(root)
    ]
    digest = hashlib.sha256()
    for rel, size, mtime_ns in sorted(entries):
        digest.update(f"{rel}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()
