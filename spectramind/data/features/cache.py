"""The models' inputs, measured once per data set: which method (`METHODS`: "window" or
"transit_fit"), its one switch, the planets measured in parallel, and the cache `load_features`
reads them from.

Why features instead of raw light curves: a transit depth and its uncertainty per channel carry
almost all the information a spectrum model needs, cost a fraction of a second per planet to
compute, and shrink the data by the number of time samples, so models train in seconds. The
"window" method (:mod:`spectramind.data.features.window`) measures 1 - in-transit / baseline;
"transit_fit" (:mod:`spectramind.data.features.transit_fit`) fits batman white-light models and
per-channel templates, several times closer to the true depths.
"""

from __future__ import annotations

import fcntl
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from spectramind.atomic import replacing
from spectramind.data import layout
from spectramind.data.features import transit_fit, window
from spectramind.data.features.orbit import orbit_source
from spectramind.data.features.transit_fit import planet_transit_fit
from spectramind.data.features.window import planet_depth
from spectramind.errors import ConfigurationError, DatasetError
from spectramind.parallel import map_shares

# Star/orbit columns passed to the model (e is constant for circular orbits, so it is left out).
STAR_FEATURE_COLUMNS = ["Rs", "Ms", "Ts", "Mp", "P", "sma", "i"]
# What load_features returns and caches.
FEATURE_KEYS = ("planet_ids", "depth", "depth_err", "star", "orbit_source")


# How a planet's depths are measured: `planet_depth` over transit windows, or the classical transit
# fit of `spectramind.data.features.transit_fit` (which models the systematics itself; there `detrend`
# switches the per-channel decorrelation of the white light's common mode).
METHODS = ("window", "transit_fit")


def method_switch(method: str, detrend: bool, decorrelate: bool) -> bool:
    """The one switch `load_features` takes for ``method``: the window's detrending (the data
    config's ``detrend``) or the transit fit's common-mode decorrelation (``decorrelate``)."""
    return detrend if method == "window" else decorrelate


def check_method(method: str) -> str:
    """`method` if it is one of METHODS, else a ConfigurationError naming the choices."""
    if method not in METHODS:
        raise ConfigurationError(f"unknown feature method {method!r}; expected one of {', '.join(METHODS)}")
    return method


def _method_version(method: str) -> int:
    """The version a cache file of `method` must carry to be reused."""
    return transit_fit.TRANSIT_FIT_VERSION if method == "transit_fit" else window.FEATURES_VERSION


def _measure_planets(
    rows: list[dict], data_dir: Path, detrend: bool, method: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(depth, error) per channel of some of a folder's planets (one worker's share)."""
    time_h = layout.read_time(data_dir)
    from_visit_start = layout.time_origin(data_dir) == layout.TIME_FROM_VISIT_START
    wavelengths = layout.read_wavelengths(data_dir) if method == "transit_fit" else None
    measured = []
    for row in rows:
        flux = np.asarray(layout.load_light_curve(data_dir, row["planet_id"], n_time=time_h.size), dtype=np.float64)
        if method == "transit_fit":
            d, e = planet_transit_fit(flux, time_h, row, wavelengths, from_visit_start, decorrelate=detrend)
        else:
            d, e = planet_depth(flux, time_h, row, detrend, from_visit_start)
        if not (np.isfinite(d).all() and np.isfinite(e).all()):
            raise DatasetError(f"{layout.light_curve_path(data_dir, row['planet_id'])}: depth estimate is not finite")
        measured.append((d, e))
    return measured


def _compute_features(data_dir: Path, detrend: bool, method: str) -> dict[str, np.ndarray]:
    """Every planet's features, the planets shared out between the cores (spectramind.parallel:
    each planet's fit is independent, the result the same as one process's)."""
    stars = layout.read_star_info(data_dir)
    rows = stars.to_dict("records")
    measured = map_shares(_measure_planets, rows, data_dir, detrend, method)
    return {
        "planet_ids": stars["planet_id"].to_numpy(dtype=np.int64),
        "depth": np.array([depth for depth, _ in measured], dtype=np.float32).reshape(len(rows), layout.N_WAVELENGTHS),
        "depth_err": np.array([err for _, err in measured], dtype=np.float32).reshape(len(rows), layout.N_WAVELENGTHS),
        "star": stars[STAR_FEATURE_COLUMNS].to_numpy(dtype=np.float32),
        "orbit_source": np.array([orbit_source(row) for row in rows]),
    }


def feature_cache_path(data_dir: str | os.PathLike, detrend: bool, method: str = "window") -> Path:
    """Where `load_features` caches its result: keyed on the method and the dataset fingerprint."""
    fingerprint = layout.dataset_fingerprint(data_dir)
    if method == "window":
        key = f"detrend{int(detrend)}"
    else:
        key = method if detrend else f"{method}-no_common_mode"
    return Path(data_dir) / layout.CACHE_DIR / f"features-{key}-{fingerprint[:12]}.npz"


def _read_cache(path: Path, version: int) -> dict[str, np.ndarray] | None:
    """The cached features, or None if absent, unreadable or from another `version`."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as cached:
            if int(cached["version"]) != version:
                return None
            return {k: cached[k] for k in FEATURE_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # a truncated .npz is no zip
        return None


def _write_cache(path: Path, features: dict[str, np.ndarray], version: int) -> None:
    """Atomic write (temp file + rename) so a reader never sees half a cache file."""
    with replacing(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, version=np.int64(version), **features)


def load_features(data_dir: str | os.PathLike, detrend: bool, method: str = "window") -> dict[str, np.ndarray]:
    """Depth features of every planet by `method` (METHODS), computed once per dataset version and cached.

    Returns planet_ids (int64, n), depth and depth_err (float32, n x 283), star (float32,
    n x len(STAR_FEATURE_COLUMNS)) and orbit_source (str, n: an ORBIT_SOURCES entry, where each
    planet's transit geometry came from), rows in train_star_info.csv order. A data directory that
    cannot be written to still works; the features are then recomputed on every call.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: data directory does not exist")
    version = _method_version(check_method(method))
    cache_path = feature_cache_path(root, detrend, method)
    cached = _read_cache(cache_path, version)
    if cached is not None:
        return cached
    try:  # runs side by side compute a folder's features once: the others wait, then read the cache
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(cache_path.with_suffix(".lock"), "a")
    except OSError:  # a read-only data folder: nothing to share, compute here
        return _compute_features(root, detrend, method)
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read_cache(cache_path, version)
        if cached is not None:
            return cached
        features = _compute_features(root, detrend, method)
        try:
            _write_cache(cache_path, features, version)
        except OSError as err:
            warnings.warn(f"{cache_path}: could not cache features ({err})", stacklevel=2)
    return features
