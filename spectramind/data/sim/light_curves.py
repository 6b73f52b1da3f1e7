"""The light-curve layout's writer: every planet rendered at the data set's time grid, with noise,
and the files of ``spectramind.data.layout`` (labels, star info, light curves, noise truth).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.data import instrument, layout
from spectramind.data.sim.config import SimulationConfig, planet_ids_and_seeds
from spectramind.data.sim.physics import (
    PlanetSystem,
    VisitSystematics,
    draw_system,
    draw_systematics,
    jitter_depth_sigma,
    jitter_series,
    systematics_factor,
    transit_light_curves,
)
from spectramind.parallel import map_shares

# 2: train_star_info.csv gives sma in stellar radii (a/Rs), as the competition's files do.
# 3: planets from a named population (spectramind.data.sim.population), the real wavelength grid,
#    noise from the instrument's photon rates (spectramind.data.instrument), jitter_sigma_* truth.
FORMAT_VERSION = 3


def time_grid(config: SimulationConfig) -> np.ndarray:
    """Common time grid in hours relative to mid-transit."""
    half = config.window_hours / 2
    return np.linspace(-half, half, config.n_time)


@dataclass
class _Planet:
    """One planet of the light-curve layout: its system, systematics, information limits and flux."""

    system: PlanetSystem
    systematics: VisitSystematics
    depth_sigma: np.ndarray  # (283,) white-noise limit of each channel's depth
    jitter_sigma: np.ndarray  # (283,) the jitter's irreducible depth error, shared by all channels
    flux: np.ndarray  # (n_time, 283) float32


def _simulate_planet(
    seed_seq: np.random.SeedSequence,
    config: SimulationConfig,
    wavelengths: np.ndarray,
    time_h: np.ndarray,
) -> _Planet:
    rng = np.random.default_rng(seed_seq)
    system = draw_system(rng, config, wavelengths)
    transit = transit_light_curves(system, time_h, wavelengths)

    # White-noise information limit of the depth: Var = sigma^2 / sum_t (s_t - mean s)^2, with
    # s_t the transit shape per unit depth and an unknown constant baseline.
    shape = (1.0 - transit) / system.depth
    spread = np.sum((shape - shape.mean(axis=0)) ** 2, axis=0)
    depth_sigma = system.noise / np.sqrt(spread)

    systematics = draw_systematics(rng, config)
    jitter = jitter_series(rng, np.full(time_h.size - 1, config.jitter_correlation))
    flux = transit * systematics_factor(systematics, config, time_h, wavelengths, jitter)
    flux += rng.standard_normal(flux.shape) * system.noise
    return _Planet(
        system=system,
        systematics=systematics,
        depth_sigma=depth_sigma,
        jitter_sigma=jitter_depth_sigma(shape, systematics, config, time_h, wavelengths),
        flux=flux.astype(np.float32),
    )


def _simulate_planets(
    planets: list, curves_dir: Path, config: SimulationConfig, wavelengths: np.ndarray, time_h: np.ndarray
) -> list[tuple]:
    """Some of the data set's planets (one worker's share): each one's light curve written, and its
    rows of the tables (label, star info, noise truth, atmosphere) returned."""
    rows = []
    for planet_id, seq in planets:
        planet = _simulate_planet(seq, config, wavelengths, time_h)
        np.save(curves_dir / f"{int(planet_id)}.npy", planet.flux)
        system = planet.system
        truth = planet.systematics.truth(config, system.magnitude)
        noise = [system.noise, planet.depth_sigma, planet.jitter_sigma, [truth[c] for c in layout.SYSTEMATICS_COLUMNS]]
        rows.append((system.depth, system.star_row(), np.concatenate(noise), system.atmosphere_row()))
    return rows


def write_dataset(directory: Path, config: SimulationConfig) -> None:
    """Simulate every planet and write the full layout into `directory` (which must exist)."""
    wavelengths = instrument.channel_wavelengths()
    time_h = time_grid(config)
    planet_ids, planet_seeds = planet_ids_and_seeds(config)
    curves_dir = directory / layout.LIGHT_CURVE_DIR
    curves_dir.mkdir()

    rows = map_shares(
        _simulate_planets,
        list(zip(planet_ids, planet_seeds)),
        curves_dir,
        config,
        wavelengths,
        time_h,
        min_items_per_worker=100,
    )
    labels, stars, noise_rows, atmospheres = (list(column) for column in zip(*rows))

    def write_table(name: str, columns: list[str], rows: list) -> None:
        frame = pd.DataFrame(np.asarray(rows, dtype=np.float64), columns=columns)
        frame.insert(0, "planet_id", planet_ids.astype(np.int64))
        frame.to_csv(directory / name, index=False)

    write_table(layout.LABELS_FILE, layout.WAVELENGTH_COLUMNS, labels)
    write_table(layout.STAR_INFO_FILE, layout.STAR_COLUMNS, stars)
    write_table(
        layout.NOISE_TRUTH_FILE,
        [*layout.NOISE_COLUMNS, *layout.DEPTH_SIGMA_COLUMNS, *layout.JITTER_SIGMA_COLUMNS, *layout.SYSTEMATICS_COLUMNS],
        noise_rows,
    )
    atmosphere = pd.DataFrame(np.asarray(atmospheres), columns=layout.ATMOSPHERE_COLUMNS)
    atmosphere["cloudy"] = atmosphere["cloudy"].astype(np.int64)
    atmosphere.insert(0, "planet_id", planet_ids.astype(np.int64))
    atmosphere.to_csv(directory / layout.ATMOSPHERE_TRUTH_FILE, index=False)
    pd.DataFrame([wavelengths], columns=layout.WAVELENGTH_COLUMNS).to_csv(
        directory / layout.WAVELENGTHS_FILE, index=False
    )
    np.save(directory / layout.TIME_FILE, time_h.astype(np.float64))
    info = {
        "format_version": FORMAT_VERSION,
        "seed": config.seed,
        "n_planets": config.n_planets,
        "n_time": config.n_time,
        "config": config.to_dict(),
    }
    (directory / layout.DATASET_INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
