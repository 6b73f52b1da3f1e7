"""The simulated planet population: the priors every simulated planet is drawn from, defined once.

Why a population of its own: the simulator is the stand-in for the competition's data, and every
study, test and model choice made on it is only as good as its resemblance to the real planets.
The physics (how a scale height follows from temperature and gravity, how opacities shape a
transmission spectrum, how a transit looks) lives in :mod:`spectramind.data.sim.physics`; what varies
from planet to planet, and how, lives here. Both simulators (light curves and raw frames) draw
every planet through :func:`spectramind.data.sim.physics.draw_system`, hence from one population.

Presets (``data.simulation.population=<name>``, or a mapping ``{preset: <name>, <field>: ...}``
that changes single priors):

* ``adc2024`` (the default): stars and orbits like the competition's ``train_star_info.csv``
  (ADC 2025, the only star information published), planets and atmospheres tuned until the
  spectra reproduce the real ADC 2024 training labels' statistics (``spectramind data compare``;
  docs/realism.md): radius ratios around 0.047, weak Rayleigh scattering, so that FGS1 sits just
  below the AIRS mean, and grey cloud decks that flatten four planets in five;
* ``legacy``: the population of format 2 and earlier (deeper, more structured spectra with FGS1
  above AIRS), kept so that older studies can be re-run on the same kind of planets.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from spectramind.errors import ConfigurationError

MOLECULES = ("H2O", "CO2", "CH4", "CO")


@dataclass(frozen=True)
class Prior:
    """One parameter's distribution: uniform over [low, high], or, with ``centre`` and ``spread``,
    a normal N(centre, spread) truncated to [low, high]. Parameters named ``log10_*`` are drawn
    in log10 (a uniform prior there is log-uniform in the value)."""

    low: float
    high: float
    centre: float | None = None
    spread: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low <= self.high):
            raise ConfigurationError(f"prior bounds [{self.low}, {self.high}] must be finite, low <= high")
        if (self.centre is None) != (self.spread is None):
            raise ConfigurationError("a normal prior needs both centre and spread")
        if self.spread is not None and not self.spread > 0:
            raise ConfigurationError(f"prior spread={self.spread!r} must be > 0")

    def draw(self, rng: np.random.Generator) -> float:
        """One value. A uniform prior costs one draw; a truncated normal redraws until inside."""
        if self.centre is None:
            return float(rng.uniform(self.low, self.high))
        for _ in range(10_000):
            value = float(rng.normal(self.centre, self.spread))
            if self.low <= value <= self.high:
                return value
        raise ConfigurationError(f"prior N({self.centre}, {self.spread}) never falls in [{self.low}, {self.high}]")


@dataclass(frozen=True)
class PowerLaw:
    """log10 y = intercept + slope * log10 x + N(0, scatter): a stellar relation with its scatter."""

    intercept: float
    slope: float
    scatter: float

    def draw(self, rng: np.random.Generator, x: float) -> float:
        return 10 ** (self.intercept + self.slope * math.log10(x) + rng.normal(0.0, self.scatter))


@dataclass(frozen=True)
class Population:
    """Every prior of a simulated planet. Units: solar masses, days, metres per second squared;
    opacities in the forward model's units (the Rayleigh opacity of the haze at 0.7 um)."""

    # Star: mass, then radius and temperature from the mass with scatter; magnitude near 0.7 um,
    # which with the temperature sets the photon rates (spectramind.data.instrument).
    star_mass: Prior
    star_radius: PowerLaw
    star_temperature: PowerLaw
    magnitude: Prior
    # Orbit (circular): period and impact parameter; a/Rs follows from Kepler's law.
    period_days: Prior
    impact_parameter: Prior
    # Planet: radius ratio Rp/Rs at the reference opacity, and surface gravity (sets the mass).
    log10_radius_ratio: Prior
    log10_gravity: Prior
    # Atmosphere: Rayleigh haze strength, a grey continuum floor, each molecule's abundance, and
    # a grey cloud deck: present with probability cloud_fraction, its opacity 10^level times the
    # given quantile of the clear atmosphere's opacities.
    log10_haze: Prior
    log10_continuum: Prior
    log10_abundance: dict[str, Prior]
    cloud_fraction: float
    cloud_quantile: Prior
    log10_cloud_level: Prior

    def __post_init__(self) -> None:
        if set(self.log10_abundance) != set(MOLECULES):
            raise ConfigurationError(
                f"population log10_abundance must name exactly {', '.join(MOLECULES)}, "
                f"got {', '.join(sorted(self.log10_abundance))}"
            )
        if not 0 <= self.cloud_fraction <= 1:
            raise ConfigurationError(f"population cloud_fraction={self.cloud_fraction!r} must be in [0, 1]")
        if not 0 <= self.cloud_quantile.low <= self.cloud_quantile.high <= 1:
            raise ConfigurationError("population cloud_quantile must lie in [0, 1]")
        if self.impact_parameter.low < 0 or self.star_mass.low <= 0 or self.period_days.low <= 0:
            raise ConfigurationError("population impact_parameter, star_mass and period_days must be positive")

    def to_dict(self) -> dict:
        """JSON-ready (the form stored in dataset.json and accepted by :func:`population_from`)."""
        return dataclasses.asdict(self)


ADC2024 = Population(
    # Fitted to the 1100 stars of the competition's train_star_info.csv (ADC 2025): mass
    # p10/p50/p90 0.81/1.10/1.35, log Rs and log Ts linear in log Ms; period uniform 2.8-7.6 d;
    # impact parameters p50 0.27, p90 0.57.
    star_mass=Prior(0.6, 1.82, centre=1.09, spread=0.21),
    star_radius=PowerLaw(0.049, 1.16, 0.061),
    star_temperature=PowerLaw(3.754, 0.378, 0.022),
    magnitude=Prior(8.0, 11.0),
    period_days=Prior(2.78, 7.61),
    impact_parameter=Prior(0.0, 0.9, centre=0.0, spread=0.37),
    # Tuned on the ADC 2024 labels (docs/realism.md): AIRS mean depth p10/50/90 810/1918/5407 ppm
    # and p99 6600 ppm; feature sizes (range / mean p50 0.049) set by the scale height over the
    # radius, i.e. by the gravity; FGS1 below the AIRS mean by weak haze; most spectra flattened.
    log10_radius_ratio=Prior(math.log10(0.02), math.log10(0.085), centre=math.log10(0.047), spread=0.2),
    log10_gravity=Prior(0.5, 1.7),
    log10_haze=Prior(-3.5, -1.5),
    log10_continuum=Prior(-3.0, -2.0),
    log10_abundance={
        "H2O": Prior(-3.5, 0.5),
        "CO2": Prior(-4.0, -0.5),
        "CH4": Prior(-1.5, 2.0),
        "CO": Prior(-3.0, 0.0),
    },
    cloud_fraction=0.8,
    cloud_quantile=Prior(0.5, 0.5),
    log10_cloud_level=Prior(-1.0, 1.5),
)

LEGACY = Population(
    star_mass=Prior(0.6, 1.4),
    star_radius=PowerLaw(0.0, 0.8, 0.04),
    star_temperature=PowerLaw(math.log10(5772.0), 0.55, 0.013),
    magnitude=Prior(8.0, 11.0),
    period_days=Prior(1.0, 8.0),
    impact_parameter=Prior(0.0, 0.8),
    log10_radius_ratio=Prior(math.log10(0.04), math.log10(0.16)),
    log10_gravity=Prior(math.log10(24.79) - 0.7, math.log10(24.79) + 0.1),
    log10_haze=Prior(0.0, 1.5),
    log10_continuum=Prior(-3.0, -2.0),
    log10_abundance={"H2O": Prior(-2.5, 1.0), "CO2": Prior(-3.5, 0.0), "CH4": Prior(-3.5, 0.5), "CO": Prior(-3.0, 0.5)},
    cloud_fraction=0.3,
    cloud_quantile=Prior(0.3, 0.9),
    log10_cloud_level=Prior(0.0, 0.0),
)

POPULATIONS: dict[str, Population] = {"adc2024": ADC2024, "legacy": LEGACY}
DEFAULT_POPULATION = "adc2024"

_LAW_FIELDS = {f.name for f in dataclasses.fields(Population) if f.type == "PowerLaw"}


def _prior(name: str, value: object) -> Prior:
    if isinstance(value, Prior):
        return value
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"population {name}={value!r}: expected a mapping low, high[, centre, spread]")
    try:
        return Prior(**{k: None if v is None else float(v) for k, v in value.items()})
    except (TypeError, ValueError, ConfigurationError) as err:
        raise ConfigurationError(f"population {name}: {err}") from None


def _field_value(name: str, value: object) -> object:
    """A population field from its JSON/YAML form (mappings of a Prior's or PowerLaw's fields)."""
    if name == "cloud_fraction":
        return float(value)
    if name in _LAW_FIELDS:
        if isinstance(value, PowerLaw):
            return value
        try:
            return PowerLaw(**{k: float(v) for k, v in dict(value).items()})
        except (TypeError, ValueError) as err:
            raise ConfigurationError(f"population {name}: {err}") from None
    if name == "log10_abundance":
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"population log10_abundance={value!r}: expected a prior per molecule")
        return {molecule: _prior(f"log10_abundance.{molecule}", prior) for molecule, prior in value.items()}
    return _prior(name, value)


def population_from(spec: str | Mapping | Population | None) -> Population:
    """The population a config names: a preset's name, or a mapping of fields over a preset
    (``preset`` key, default adc2024), e.g. ``{preset: adc2024, cloud_fraction: 0.5}``."""
    if isinstance(spec, Population):
        return spec
    if spec is None or isinstance(spec, str):
        name = spec or DEFAULT_POPULATION
        if name not in POPULATIONS:
            raise ConfigurationError(f"unknown population {name!r}; expected one of {', '.join(POPULATIONS)}")
        return POPULATIONS[name]
    changes = dict(spec)
    base = population_from(changes.pop("preset", None))
    unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(Population)})
    if unknown:
        raise ConfigurationError(f"unknown population fields {', '.join(unknown)}")
    return dataclasses.replace(base, **{name: _field_value(name, value) for name, value in changes.items()})
