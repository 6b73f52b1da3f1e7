"""The truth of a simulated raw folder: any visit's noise-free light curves rendered again from its
``simulation.json``, what an ideal calibration of it would give, and that ideal-calibration twin
written as a calibrated folder (to measure what calibration costs: docs/real-data.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spectramind.data import layout
from spectramind.data.instrument import (
    AIRS,
    AIRS_END_COLUMN,
    AIRS_FIRST_COLUMN,
    FGS,
    channel_wavelengths,
    extraction_variance,
    spatial_profile,
)
from spectramind.data.raw.layout import AXIS_INFO_FILE, AxisInfo
from spectramind.data.raw.simulate import (
    RawSimulationConfig,
    VisitModel,
    axis_info,
    pair_times_h,
    read_simulation_config,
    split_and_visits,
    visit_models,
)
from spectramind.data.sim.config import planet_ids_and_seeds
from spectramind.errors import DatasetError


def visit_truth(raw_dir: str | os.PathLike, planet_id: int, visit: int = 0) -> VisitModel:
    """One visit's noise-free truth, rendered again from the folder's ``simulation.json``."""
    config = read_simulation_config(raw_dir)
    planet_ids, seeds = planet_ids_and_seeds(config.physics)
    matches = np.flatnonzero(planet_ids == planet_id)
    if not matches.size:
        raise DatasetError(f"{raw_dir}: planet {planet_id} is not one of its simulated planets")
    index = int(matches[0])
    _, second = split_and_visits(config, len(planet_ids))
    n_visits = 2 if second[index] else 1
    if not 0 <= visit < n_visits:
        raise DatasetError(f"{raw_dir}: planet {planet_id} has {n_visits} visit(s), not visit {visit}")
    models, _ = visit_models(config, seeds[index], planet_id, n_visits, channel_wavelengths(), axis_info(config))
    return models[visit]


def _bins(values: np.ndarray, size: int) -> np.ndarray:
    """Consecutive groups of ``size`` along axis 0 (the incomplete last group dropped): (bins, size, ...)."""
    n = values.shape[0] // size
    return values[: n * size].reshape(n, size, *values.shape[1:])


def _sensor_truth(
    model: VisitModel, sensor: str, axis: AxisInfo, config: RawSimulationConfig, bin_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sensor's binned truth: (bin times h, flux (bins, channels) in e-/s, its noise variance).

    The variance is what photon and read noise (and dark current's shot noise) leave after an
    ideal optimal extraction over the pixels calibration keeps (dead, hot and unresponsive pixels
    dropped, as ``spectramind.data.raw.calibrate`` does): ``detector.extraction_variance`` of a bin's
    typical read pair, with this visit's flat, dark and read noise, summed over the bin's pairs.
    """
    from spectramind.data.raw.reduction import FLAT_FLOOR, hot_pixels

    calibration = model.calibration[sensor]
    seconds = axis.read_seconds(sensor, axis.times_h[sensor].size, Path(AXIS_INFO_FILE))
    exposure = seconds[1::2] - seconds[0::2]
    times = _bins(pair_times_h(axis, sensor), bin_size).mean(axis=1)
    keep = ~(calibration.dead | (calibration.flat < FLAT_FLOOR) | hot_pixels(calibration.dark, calibration.dead))
    pixels = [spatial_profile(sensor), calibration.flat, calibration.dark, calibration.read, keep]
    if sensor == FGS:  # one channel spread over the whole frame
        flux = model.fgs_flux[:, None] * model.channel_rates[:1]
        profile, flat, dark, read, good = (a.reshape(-1, 1) for a in pixels)
    else:  # columns 39..320, one channel each
        flux = model.airs_flux[:, 1:][:, ::-1] * model.channel_rates[1:][::-1]
        profile, flat, dark, read, good = (a[:, AIRS_FIRST_COLUMN:AIRS_END_COLUMN] for a in pixels)
    charge = _bins(flux * exposure[:, None], bin_size)  # (bins, pairs per bin, channels)
    pair_variance = extraction_variance(profile, flat, charge.mean(axis=1), dark * exposure.mean(), read, good)
    bin_seconds = _bins(exposure, bin_size).sum(axis=1)[:, None]
    total = charge.sum(axis=1) / bin_seconds
    variance = bin_size * pair_variance / bin_seconds**2
    if sensor == AIRS:
        total, variance = total[:, ::-1], variance[:, ::-1]  # ascending wavelength, as wl_2..wl_283
    return times, total, variance


def binned_truth(
    model: VisitModel, config: RawSimulationConfig, airs_bin: int, fgs_bin: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What an ideal calibration of this visit gives with these bins: (bin times h, flux (bins, 283)
    in e-/s, the standard deviation of its noise)."""
    from spectramind.data.raw.reduction import combine_sensors

    axis = axis_info(config)
    airs_t, airs_flux, airs_var = _sensor_truth(model, AIRS, axis, config, airs_bin)
    fgs_t, fgs_flux, fgs_var = _sensor_truth(model, FGS, axis, config, fgs_bin)
    flux, _ = combine_sensors(airs_t, airs_flux, fgs_t, fgs_flux[:, 0])
    variance, _ = combine_sensors(airs_t, airs_var, fgs_t, fgs_var[:, 0])
    return airs_t, flux, np.sqrt(variance)


def write_direct_light_curves(
    raw_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    split: str = "train",
    airs_bin: int = 30,
    fgs_bin: int = 360,
    seed: int = 0,
) -> dict:
    """The ideal-calibration twin of a simulated raw folder: the same planets' light curves, binned
    like calibration bins them, with the photon and read noise an ideal calibration leaves
    (:func:`binned_truth`), written as a calibrated folder. Training on it and on the calibrated
    folder measures what calibration costs (docs/real-data.md). Returns the manifest."""
    import time

    from spectramind.data.raw.calibrated_folder import CalibratedFolder
    from spectramind.data.raw.layout import detect_layout, read_star_info

    config = read_simulation_config(raw_dir)
    raw = detect_layout(raw_dir)
    folder = CalibratedFolder(
        out_dir,
        {
            "kind": "ideal calibration (raw simulator's truth)",
            "airs_bin": airs_bin,
            "fgs_bin": fgs_bin,
            "variant": raw.variant,
            "split": split,
            "seed": seed,
        },
    )
    planet_ids, seeds = planet_ids_and_seeds(config.physics)
    _, second = split_and_visits(config, len(planet_ids))
    wanted = set(raw.planet_ids(split))
    wavelengths, axis = channel_wavelengths(), axis_info(config)
    for index, (planet_id, seq) in enumerate(zip(planet_ids, seeds)):
        if int(planet_id) not in wanted:
            continue
        started = time.perf_counter()
        models, _ = visit_models(config, seq, int(planet_id), 2 if second[index] else 1, wavelengths, axis)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(planet_id),)))
        curves, levels = [], []
        for model in models:
            times, flux, sigma = binned_truth(model, config, airs_bin, fgs_bin)
            noisy = flux + sigma * rng.standard_normal(flux.shape)
            levels.append(noisy.mean(axis=0))
            curves.append(noisy / levels[-1])
        folder.write_planet(int(planet_id), times, np.stack(curves), np.stack(levels), time.perf_counter() - started)
    star_file = raw.star_info_file(split)
    star_info = read_star_info(star_file) if star_file is not None and star_file.is_file() else None
    labels = layout.read_labels(raw.labels_file) if split == "train" and raw.labels_file.is_file() else None
    return folder.finalise(
        split,
        layout.read_wavelengths(raw.root),
        star_info,
        labels,
        source={"raw_dir": str(Path(raw_dir).resolve()), "variant": raw.variant},
    )
