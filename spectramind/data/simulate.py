"""Simulate an Ariel-like transit-spectroscopy dataset on disk (ADC 2025-like layout).

Why a simulator: the project must train, test and ablate without the real challenge data, and the
ablations are only meaningful if the data carries the structure the real problem has: spectra that
follow atmospheric physics (scale height, Rayleigh slope, molecular bands, clouds), light curves
from a real transit model with limb darkening, and systematics (drifts, pointing jitter, photon
noise) whose size differs per planet and per wavelength, so that detrending and per-channel
uncertainties matter.

What varies between planets (the priors) is :mod:`spectramind.data.population`; what the
instrument makes of a star (wavelengths, photon rates, noise) is :mod:`spectramind.data.instrument`;
this module holds the physics between them and writes the files described in
`spectramind.data.layout`.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import batman
import numpy as np
import pandas as pd

from spectramind.data import instrument, layout
from spectramind.data.detector import sample_noise
from spectramind.data.instrument import K_BOLTZMANN
from spectramind.data.population import ADC2024, MOLECULES, Population, population_from
from spectramind.errors import ConfigurationError, DatasetError

# 2: train_star_info.csv gives sma in stellar radii (a/Rs), as the competition's files do.
# 3: planets from a named population (spectramind.data.population), the real wavelength grid,
#    noise from the instrument's photon rates (spectramind.data.instrument), jitter_sigma_* truth.
FORMAT_VERSION = 3

# Physical constants (SI).
M_HYDROGEN = 1.6735575e-27
G_NEWTON = 6.67430e-11
R_SUN = 6.957e8
M_SUN = 1.98847e30
R_JUPITER = 7.1492e7
M_JUPITER = 1.89813e27
MEAN_MOLECULAR_WEIGHT = 2.3  # H2/He-dominated atmosphere, in units of m_H
# Kepler's orbits closer than this many stellar radii are redrawn.
MIN_A_OVER_RS = 3.0

# Molecular bands at their true centres inside 0.7-3.9 um: (centre um, gaussian width um, strength).
# Strengths are relative cross-sections in units where the Rayleigh opacity at 0.7 um is 1.
MOLECULAR_BANDS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "H2O": ((1.40, 0.08, 1.0), (1.87, 0.10, 1.3), (2.70, 0.15, 2.5)),
    "CO2": ((2.01, 0.04, 0.6), (2.70, 0.06, 1.5)),
    "CH4": ((2.30, 0.08, 1.0), (3.31, 0.12, 3.0)),
    "CO": ((2.35, 0.05, 0.8),),
}


@dataclass(frozen=True)
class SimulationConfig:
    """Every knob that changes the simulated data; equal configs give byte-identical datasets.

    What the planets are comes from ``population`` (a preset's name or a mapping over one,
    :mod:`spectramind.data.population`); how they are observed from the instrument
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
                raise ConfigurationError(
                    f"SimulationConfig.{name}={getattr(self, name)!r} is out of range"
                )

    def to_dict(self) -> dict:
        """JSON-ready dict (the population as its priors), the form stored in dataset.json."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def time_grid(config: SimulationConfig) -> np.ndarray:
    """Common time grid in hours relative to mid-transit."""
    half = config.window_hours / 2
    return np.linspace(-half, half, config.n_time)


def limb_darkening(wavelengths_um: np.ndarray, ts: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic limb-darkening coefficients: weaker at long wavelengths and for hotter stars."""
    u1 = 0.45 * (wavelengths_um / 0.7) ** -0.8 * (5800.0 / ts) ** 0.5
    u2 = 0.25 * (wavelengths_um / 0.7) ** -0.4 * (5800.0 / ts) ** 0.2
    return u1, u2


def transit_duration_hours(p_days: float, a_over_rs: float, b: float, k: float) -> float:
    """Total (first-to-fourth contact) duration T14 of a circular orbit."""
    sin_i = math.sqrt(max(0.0, 1.0 - (b / a_over_rs) ** 2))
    chord = (1.0 + k) ** 2 - b**2
    if chord <= 0:
        return 0.0
    x = min(1.0, math.sqrt(chord) / (a_over_rs * sin_i))
    return 24.0 * p_days / math.pi * math.asin(x)


def jitter_series(rng: np.random.Generator, step_correlations: np.ndarray) -> np.ndarray:
    """Unit-variance AR(1) series, the pointing jitter: ``step_correlations[t]`` links sample t+1 to t.

    A constant correlation is the evenly sampled case (the light-curve layout); the raw-frame
    simulator passes ``phi ** (dt / reference step)`` for its uneven read times, which samples the
    same continuous (Ornstein-Uhlenbeck) process.
    """
    phi = np.concatenate([[0.0], np.asarray(step_correlations, dtype=np.float64)])
    eps = rng.standard_normal(phi.size) * np.sqrt(1.0 - phi**2)
    out = np.empty(phi.size)
    out[0] = rng.standard_normal()
    for t in range(1, phi.size):
        out[t] = phi[t] * out[t - 1] + eps[t]
    return out


@dataclass
class PlanetSystem:
    """Everything drawn for one planet that does not change between visits: star, orbit, atmosphere."""

    rs: float
    ms: float
    ts: float
    mp: float
    magnitude: float
    rp0: float  # reference radius, metres
    p_days: float
    sma: float  # metres
    a_over_rs: float
    inc_deg: float
    teq: float
    scale_height: float  # metres
    cloudy: bool
    log_abundances: dict[str, float]
    depth: np.ndarray  # (283,) (Rp/Rs)^2
    limb_darkening: tuple[np.ndarray, np.ndarray]  # quadratic (u1, u2), each (283,)
    rates: np.ndarray  # (283,) e-/s over each channel's spatial profile (spectramind.data.instrument)
    noise: np.ndarray  # (283,) relative noise per sample of the light-curve layout (0: noise-free)

    def star_row(self) -> list[float]:
        """The values of layout.STAR_COLUMNS in the competition's units: Rs, Ms in solar units,
        Ts in K, Mp in Jupiter masses, P in days, sma in stellar radii (a/Rs), i in degrees."""
        return [self.rs, self.ms, self.ts, self.mp, 0.0, self.p_days, self.a_over_rs, self.inc_deg]

    def atmosphere_row(self) -> list[float]:
        """The values of layout.ATMOSPHERE_COLUMNS."""
        return [self.rp0 / R_JUPITER, self.teq, self.scale_height / 1e3, int(self.cloudy),
                *(self.log_abundances[m] for m in MOLECULES)]


@dataclass
class VisitSystematics:
    """The instrument's multiplicative systematics during one visit (drawn anew for every visit)."""

    drift_linear: float
    drift_quadratic: float
    drift_exp: float
    drift_exp_tau_h: float
    chromatic_amp: float
    chromatic_curvature: float
    jitter_amp: float
    jitter_phase: float

    def truth(self, config: SimulationConfig, magnitude: float) -> dict[str, float]:
        """The columns of noise_truth.csv (layout.SYSTEMATICS_COLUMNS), in ppm where relative."""
        return {
            "star_mag": magnitude,
            "jitter_ppm": self.jitter_amp * 1e6,
            "jitter_correlation": config.jitter_correlation,
            "drift_linear_ppm": self.drift_linear * 1e6,
            "drift_quadratic_ppm": self.drift_quadratic * 1e6,
            "drift_exp_ppm": self.drift_exp * 1e6,
            "drift_exp_tau_h": self.drift_exp_tau_h,
            "chromatic_drift_ppm": self.chromatic_amp * 1e6,
        }


def _draw_orbit(rng: np.random.Generator, config: SimulationConfig, ms: float, rs: float, k: float):
    """Draw period and impact parameter until the transit fits the window with baseline both sides."""
    max_t14 = config.max_t14_fraction * config.window_hours
    population = config.population
    for _ in range(10_000):
        p_days = population.period_days.draw(rng)
        b = population.impact_parameter.draw(rng)
        p_s = p_days * 86400.0
        sma = (G_NEWTON * ms * M_SUN * p_s**2 / (4 * math.pi**2)) ** (1 / 3)
        a_over_rs = sma / (rs * R_SUN)
        if a_over_rs > MIN_A_OVER_RS and transit_duration_hours(p_days, a_over_rs, b, k) < max_t14:
            return p_days, sma, a_over_rs, b
    raise ConfigurationError(
        f"window_hours={config.window_hours} is too short for any simulated orbit to fit"
    )


def _spectrum(
    rng: np.random.Generator, population: Population, wavelengths: np.ndarray
) -> tuple[np.ndarray, bool, dict[str, float]]:
    """Atmospheric structure in scale heights: ln(total opacity), median-subtracted.

    Radius at wavelength lambda sits where the slant optical depth reaches a fixed value, so
    R(lambda) = R0 + H ln kappa(lambda) (+const): Rayleigh scattering gives the -4 ln(lambda)
    slope, molecules add bands, and a grey cloud deck adds a constant opacity that mutes everything
    whose opacity is below it. All draws happen unconditionally so a planet's other properties do
    not depend on `cloud_fraction`.
    """
    haze = 10 ** population.log10_haze.draw(rng)
    continuum = 10 ** population.log10_continuum.draw(rng)
    kappa = haze * (wavelengths / 0.7) ** -4 + continuum
    log_abundances = {}
    for molecule in MOLECULES:
        log_x = population.log10_abundance[molecule].draw(rng)
        log_abundances[molecule] = log_x
        for centre, width, strength in MOLECULAR_BANDS[molecule]:
            kappa = kappa + 10**log_x * strength * np.exp(-0.5 * ((wavelengths - centre) / width) ** 2)
    cloudy = bool(rng.uniform() < population.cloud_fraction)
    cloud_deck = np.quantile(kappa, population.cloud_quantile.draw(rng)) * 10 ** population.log10_cloud_level.draw(rng)
    if cloudy:
        kappa = kappa + cloud_deck
    structure = np.log(kappa)
    return structure - np.median(structure), cloudy, log_abundances


def draw_system(
    rng: np.random.Generator, config: SimulationConfig, wavelengths: np.ndarray
) -> PlanetSystem:
    """Draw a star, a planet on an orbit that fits the window, and its atmosphere's spectrum, from
    the config's population; the photon rates and the light-curve noise follow from the instrument."""
    population = config.population
    ms = population.star_mass.draw(rng)
    rs = population.star_radius.draw(rng, ms)
    ts = population.star_temperature.draw(rng, ms)
    magnitude = population.magnitude.draw(rng)

    # Planet bulk: radius ratio, and the mass that gives the drawn surface gravity.
    k0 = 10 ** population.log10_radius_ratio.draw(rng)
    rp0 = k0 * rs * R_SUN
    gravity = 10 ** population.log10_gravity.draw(rng)
    mp = gravity * rp0**2 / G_NEWTON / M_JUPITER  # Jupiter masses
    p_days, sma, a_over_rs, b = _draw_orbit(rng, config, ms, rs, k0)
    inc_deg = math.degrees(math.acos(b / a_over_rs))

    teq = ts * math.sqrt(rs * R_SUN / (2.0 * sma))
    scale_height = K_BOLTZMANN * teq / (MEAN_MOLECULAR_WEIGHT * M_HYDROGEN * gravity)
    structure, cloudy, log_abundances = _spectrum(rng, population, wavelengths)
    radius = rp0 + scale_height * structure
    rates = instrument.photon_rates(ts, magnitude)
    noise = (sample_noise(rates, instrument.sample_seconds(config.window_hours, config.n_time))
             if config.photon_noise else np.zeros_like(rates))
    return PlanetSystem(
        rs=rs, ms=ms, ts=ts, mp=mp, magnitude=magnitude, rp0=rp0, p_days=p_days, sma=sma,
        a_over_rs=a_over_rs, inc_deg=inc_deg, teq=teq, scale_height=scale_height, cloudy=cloudy,
        log_abundances=log_abundances, depth=(radius / (rs * R_SUN)) ** 2,
        limb_darkening=limb_darkening(wavelengths, ts), rates=rates, noise=noise,
    )


def draw_systematics(rng: np.random.Generator, config: SimulationConfig) -> VisitSystematics:
    """Drift, settling ramp, chromatic drift and jitter amplitudes of one visit."""
    drift = config.drift_ppm * 1e-6
    drift_linear = drift * rng.normal()
    drift_quadratic = drift * rng.normal()
    # Settling ramp at the start of the visit; detectors settle upwards or downwards.
    drift_exp = drift * rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0])
    drift_exp_tau_h = rng.uniform(0.3, 1.0)
    chromatic_amp = config.chromatic_drift_ppm * 1e-6 * rng.normal()
    chromatic_curvature = rng.uniform(-1.0, 1.0)
    jitter_amp = config.jitter_ppm * 1e-6 * rng.uniform(0.5, 1.5)
    jitter_phase = rng.uniform(0.0, 2 * math.pi)
    return VisitSystematics(
        drift_linear=drift_linear, drift_quadratic=drift_quadratic, drift_exp=drift_exp,
        drift_exp_tau_h=drift_exp_tau_h, chromatic_amp=chromatic_amp,
        chromatic_curvature=chromatic_curvature, jitter_amp=jitter_amp, jitter_phase=jitter_phase,
    )


def transit_light_curves(
    system: PlanetSystem, time_from_mid_h: np.ndarray, wavelengths: np.ndarray
) -> np.ndarray:
    """Noise-free relative flux (n_time, 283): batman transits with per-channel limb darkening."""
    u1, u2 = system.limb_darkening
    params = batman.TransitParams()
    params.t0, params.per, params.a, params.inc = 0.0, system.p_days, system.a_over_rs, system.inc_deg
    params.ecc, params.w, params.limb_dark = 0.0, 90.0, "quadratic"
    params.rp, params.u = math.sqrt(system.depth[0]), [float(u1[0]), float(u2[0])]
    model = batman.TransitModel(params, np.asarray(time_from_mid_h, dtype=np.float64) / 24.0)
    transit = np.empty((np.size(time_from_mid_h), wavelengths.size))
    for c in range(wavelengths.size):
        params.rp = math.sqrt(system.depth[c])
        params.u = [float(u1[c]), float(u2[c])]
        transit[:, c] = model.light_curve(params)
    return transit


def systematics_factor(
    systematics: VisitSystematics,
    config: SimulationConfig,
    time_from_centre_h: np.ndarray,
    wavelengths: np.ndarray,
    jitter: np.ndarray,
) -> np.ndarray:
    """Multiplicative systematics (n_time, 283) at times measured from the visit's centre.

    Polynomial drifts in tau (-1..1 across the window), a settling ramp from the first sample,
    a chromatic drift linear in wavelength, and the jitter series scaled by a wavelength-dependent
    sensitivity.
    """
    t = np.asarray(time_from_centre_h, dtype=np.float64)
    tau = t / (config.window_hours / 2)
    s = systematics
    achromatic = (
        1.0
        + s.drift_linear * tau
        + s.drift_quadratic * (tau**2 - 1.0 / 3.0)
        + s.drift_exp * np.exp(-(t - t[0]) / s.drift_exp_tau_h)
    )
    chromatic_profile = (wavelengths - 2.9) / 1.0
    chromatic = 1.0 + s.chromatic_amp * np.outer(tau + s.chromatic_curvature * tau**2, chromatic_profile)
    return achromatic[:, None] * chromatic * (1.0 + np.outer(jitter, jitter_response(s, wavelengths)))


def jitter_response(systematics: VisitSystematics, wavelengths: np.ndarray) -> np.ndarray:
    """Relative flux change per unit of the jitter series, per channel: the visit's amplitude times
    a sensitivity that varies smoothly with wavelength (the PSF moving over the detector)."""
    sensitivity = 1.0 + 0.5 * np.sin(2 * math.pi * wavelengths / 1.3 + systematics.jitter_phase)
    return systematics.jitter_amp * sensitivity


def jitter_depth_sigma(shape: np.ndarray, systematics: VisitSystematics, config: SimulationConfig,
                       time_h: np.ndarray, wavelengths: np.ndarray) -> np.ndarray:
    """The depth error per channel (283,) that the pointing jitter leaves whatever the method.

    Why: jitter multiplies every channel by 1 + r_c j(t) with one series j(t) for all channels.
    Its part along a channel's transit shape (once the baseline's drifts, polynomial and ramp, are
    fitted out) is the same whether the star dimmed or the pointing moved, so no fit of the light
    curves can tell it from a depth change: it shifts depth_c by -r_c (w_c . j), w_c the depth's
    least-squares weights. With j a unit-variance AR(1) series its variance is w_c' S w_c
    (S_ts = rho^|t - s|), and the error is shared by every channel (through j; fully correlated
    but for the small differences limb darkening makes between the channels' transit shapes).
    ``shape`` (n_time, 283) is the transit per unit depth.
    """
    from scipy.signal import lfilter

    t = np.asarray(time_h, dtype=np.float64)
    tau = t / (config.window_hours / 2)
    baseline = np.column_stack([np.ones_like(t), tau, tau**2, np.exp(-(t - t[0]) / systematics.drift_exp_tau_h)])
    # The depth's weights: the shape's part orthogonal to the baseline, normalised (283, n_time).
    orthogonal = shape - baseline @ np.linalg.lstsq(baseline, shape, rcond=None)[0]
    weights = (orthogonal / np.einsum("nc,nc->c", orthogonal, orthogonal)).T
    rho = config.jitter_correlation
    forward = lfilter([1.0], [1.0, -rho], weights, axis=1)
    backward = lfilter([1.0], [1.0, -rho], weights[:, ::-1], axis=1)[:, ::-1]
    variance = np.einsum("cn,cn->c", weights, forward + backward - weights)
    return np.abs(jitter_response(systematics, wavelengths)) * np.sqrt(np.clip(variance, 0.0, None))


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
    return _Planet(system=system, systematics=systematics, depth_sigma=depth_sigma,
                   jitter_sigma=jitter_depth_sigma(shape, systematics, config, time_h, wavelengths),
                   flux=flux.astype(np.float32))


def planet_ids_and_seeds(
    config: SimulationConfig,
) -> tuple[np.ndarray, list[np.random.SeedSequence]]:
    """The data set's planet ids (7 digits, unique) and each planet's own seed sequence.

    A planet's draws depend only on its own seed sequence, so any one planet can be rendered again
    (the raw-frame simulator's truth) without simulating the others.
    """
    ids_seq, planets_seq = np.random.SeedSequence(config.seed).spawn(2)
    planet_ids = np.random.default_rng(ids_seq).choice(
        9_000_000, size=config.n_planets, replace=False
    ) + 1_000_000
    return planet_ids, planets_seq.spawn(config.n_planets)


def _write_dataset(directory: Path, config: SimulationConfig) -> None:
    """Simulate every planet and write the full layout into `directory` (which must exist)."""
    wavelengths = instrument.channel_wavelengths()
    time_h = time_grid(config)
    planet_ids, planet_seeds = planet_ids_and_seeds(config)
    curves_dir = directory / layout.LIGHT_CURVE_DIR
    curves_dir.mkdir()

    labels, stars, noise_rows, atmospheres = [], [], [], []
    for planet_id, seq in zip(planet_ids, planet_seeds):
        planet = _simulate_planet(seq, config, wavelengths, time_h)
        np.save(curves_dir / f"{int(planet_id)}.npy", planet.flux)
        system = planet.system
        labels.append(system.depth)
        stars.append(system.star_row())
        truth = planet.systematics.truth(config, system.magnitude)
        noise_rows.append(np.concatenate([
            system.noise, planet.depth_sigma, planet.jitter_sigma, [truth[c] for c in layout.SYSTEMATICS_COLUMNS],
        ]))
        atmospheres.append(system.atmosphere_row())

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
        _write_dataset(staging, config)
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
            raise DatasetError(
                f"{out}: exists but has no {layout.DATASET_INFO_FILE}; not a simulated dataset"
            )
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
