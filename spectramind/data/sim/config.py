"""What a simulated light-curve data set is: its planets' population, how they are observed, and
which planets (ids and seeds) it holds. Equal configs give byte-identical data sets.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from spectramind.data.sim.population import ADC2024, Population, population_from
from spectramind.errors import ConfigurationError


@dataclass(frozen=True)
class SimulationConfig:
    """Every knob that changes the simulated data; equal configs give byte-identical datasets.

    What the planets are comes from ``population`` (a preset's name or a mapping over one,
    :mod:`spectramind.data.sim.population`); how they are observed from the instrument
    (:mod:`spectramind.data.instrument`): a visit of ``window_hours`` at the real cadence, binned
    into ``n_time`` samples (the defaults are the competition's 7.5 h and its standard 187 bins of
    144 s), each sample's noise the photon, dark and read noise of the reads it holds.
    ``photon_noise=False`` renders noise-free light curves (and records zero noise).
    """

    n_planets: int = 800
    n_time: int = 187
    seed: int = 20250
    # Observation window in hours, centred on mid-transit; orbits are redrawn until the total
    # transit duration T14 is below `max_t14_fraction` of it, so both sides keep a baseline.
    window_hours: float = 7.5
    max_t14_fraction: float = 0.65
    population: Population = ADC2024
    photon_noise: bool = True
    # Typical amplitudes (ppm) of the multiplicative systematics.
    drift_ppm: float = 1000.0
    chromatic_drift_ppm: float = 300.0
    jitter_ppm: float = 150.0
    jitter_correlation: float = 0.7

    def __post_init__(self) -> None:
        # Normalise types so configs built from YAML (ints for floats, names for populations) compare
        # equal and serialise identically to those built in Python.
        kinds = {"int": int, "float": float, "bool": bool, "Population": population_from}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                value = kinds[field.type](value)
            except (TypeError, ValueError) as err:
                raise ConfigurationError(
                    f"SimulationConfig.{field.name}={value!r} has the wrong type ({field.type})"
                ) from err
            object.__setattr__(self, field.name, value)
        checks = {
            "n_planets": self.n_planets >= 1,
            "n_time": self.n_time >= 16,
            "window_hours": self.window_hours > 0,
            "max_t14_fraction": 0 < self.max_t14_fraction < 1,
            "drift_ppm": self.drift_ppm >= 0,
            "chromatic_drift_ppm": self.chromatic_drift_ppm >= 0,
            "jitter_ppm": self.jitter_ppm >= 0,
            "jitter_correlation": 0 <= self.jitter_correlation < 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigurationError(f"SimulationConfig.{name}={getattr(self, name)!r} is out of range")

    def to_dict(self) -> dict:
        """JSON-ready dict (the population as its priors), the form stored in dataset.json."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def planet_ids_and_seeds(
    config: SimulationConfig,
) -> tuple[np.ndarray, list[np.random.SeedSequence]]:
    """The data set's planet ids (7 digits, unique) and each planet's own seed sequence.

    A planet's draws depend only on its own seed sequence, so any one planet can be rendered again
    (the raw-frame simulator's truth) without simulating the others.
    """
    ids_seq, planets_seq = np.random.SeedSequence(config.seed).spawn(2)
    planet_ids = np.random.default_rng(ids_seq).choice(9_000_000, size=config.n_planets, replace=False) + 1_000_000
    return planet_ids, planets_seq.spawn(config.n_planets)
