"""The physics of a simulated planet: star, orbit and atmosphere drawn from a population, its
transmission spectrum, its transit light curves and the instrument's systematics during a visit.

Why a simulator: the project must train, test and ablate without the real challenge data, and the
ablations are only meaningful if the data carries the structure the real problem has: spectra that
follow atmospheric physics (scale height, Rayleigh slope, molecular bands, clouds), light curves
from a real transit model with limb darkening, and systematics (drifts, pointing jitter, photon
noise) whose size differs per planet and per wavelength, so that detrending and per-channel
uncertainties matter.

What varies between planets (the priors) is :mod:`spectramind.data.sim.population`; what the
instrument makes of a star (wavelengths, photon rates, noise) is :mod:`spectramind.data.instrument`;
this module holds the physics between them. Both layouts render it: the light curves
(:mod:`spectramind.data.sim.light_curves`) and the raw frames (:mod:`spectramind.data.raw.simulate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import batman
import numpy as np

from spectramind.data import instrument
from spectramind.data.instrument import K_BOLTZMANN, sample_noise
from spectramind.data.sim.config import SimulationConfig
from spectramind.data.sim.population import MOLECULES, Population
from spectramind.errors import ConfigurationError

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
        return [
            self.rp0 / R_JUPITER,
            self.teq,
            self.scale_height / 1e3,
            int(self.cloudy),
            *(self.log_abundances[m] for m in MOLECULES),
        ]


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
    raise ConfigurationError(f"window_hours={config.window_hours} is too short for any simulated orbit to fit")


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


def draw_system(rng: np.random.Generator, config: SimulationConfig, wavelengths: np.ndarray) -> PlanetSystem:
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
    noise = (
        sample_noise(rates, instrument.sample_seconds(config.window_hours, config.n_time))
        if config.photon_noise
        else np.zeros_like(rates)
    )
    return PlanetSystem(
        rs=rs,
        ms=ms,
        ts=ts,
        mp=mp,
        magnitude=magnitude,
        rp0=rp0,
        p_days=p_days,
        sma=sma,
        a_over_rs=a_over_rs,
        inc_deg=inc_deg,
        teq=teq,
        scale_height=scale_height,
        cloudy=cloudy,
        log_abundances=log_abundances,
        depth=(radius / (rs * R_SUN)) ** 2,
        limb_darkening=limb_darkening(wavelengths, ts),
        rates=rates,
        noise=noise,
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
        drift_linear=drift_linear,
        drift_quadratic=drift_quadratic,
        drift_exp=drift_exp,
        drift_exp_tau_h=drift_exp_tau_h,
        chromatic_amp=chromatic_amp,
        chromatic_curvature=chromatic_curvature,
        jitter_amp=jitter_amp,
        jitter_phase=jitter_phase,
    )


def transit_light_curves(system: PlanetSystem, time_from_mid_h: np.ndarray, wavelengths: np.ndarray) -> np.ndarray:
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


def jitter_depth_sigma(
    shape: np.ndarray,
    systematics: VisitSystematics,
    config: SimulationConfig,
    time_h: np.ndarray,
    wavelengths: np.ndarray,
) -> np.ndarray:
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
