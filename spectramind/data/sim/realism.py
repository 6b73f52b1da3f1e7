"""How much two sets of spectra look alike: the statistics that compare simulated labels with real ones.

Why: a simulated data set is only a fair stand-in for the competition's if its spectra have the
real ones' depths, feature sizes, FGS1-to-AIRS offsets and shapes. ``spectramind data compare
SIM REAL`` prints these statistics side by side for any two label files (a simulated train.csv
against the real download's train.csv or train_labels.csv), and the test suite pins the default
population to the real ADC 2024 figures (docs/realism.md).

Every statistic is per planet unless said otherwise, with channel 1 as FGS1 and 2..283 as AIRS:
the AIRS mean depth, the AIRS range (max - min), FGS1 minus the AIRS mean, the share of the
shape variance (AIRS spectrum minus its own mean, over planets) in the first principal
components, and the finer facts below them in the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from spectramind.data import layout

PERCENTILES = (10, 50, 90)
PRINCIPAL_COMPONENTS = (1, 3, 5)
RESIDUAL_COMPONENTS = (5, 10)
# How far a simulated percentile may sit from the real one for the population to count as
# realistic (a factor, both ways), and how far the FGS1 - AIRS median may sit (ppm).
FACTOR_TOLERANCE = 1.5
FGS_OFFSET_TOLERANCE_PPM = 30.0


@dataclass(frozen=True)
class Statistic:
    """One row of the comparison: what it measures and its value(s) for one set of spectra."""

    name: str
    values: tuple[float, ...]


def _percentiles(x: np.ndarray, scale: float = 1.0) -> tuple[float, ...]:
    return tuple(float(v) * scale for v in np.percentile(x, PERCENTILES))


def _shape_components(airs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD of the AIRS shapes (each spectrum minus its own mean, then centred over planets)."""
    shape = airs - airs.mean(axis=1, keepdims=True)
    shape = shape - shape.mean(axis=0)
    u, s, vt = np.linalg.svd(shape, full_matrices=False)
    return shape, u * s, vt


STATISTIC_NAMES = (
    "AIRS mean depth (ppm) p10/p50/p90",
    "AIRS range, max - min (ppm) p10/p50/p90",
    "FGS1 depth - AIRS mean (ppm) p10/p50/p90",
    "shape variance in the first 1/3/5 components",
    "AIRS range / AIRS mean p10/p50/p90",
    "correlation of log mean depth and log range",
    "FGS1 / AIRS mean p10/p50/p90",
    "AIRS end-to-end slope / mean depth p10/p50/p90",
    "channel-to-channel difference std, median (ppm)",
    "shape rms left by 5 / 10 components (ppm)",
    "AIRS mean depth (ppm) p1/p99",
)


def label_statistics(spectra: np.ndarray) -> list[Statistic]:
    """The comparison's rows (STATISTIC_NAMES) for spectra (n_planets, 283), depths as (Rp/Rs)^2."""
    y = np.asarray(spectra, dtype=np.float64)
    fgs, airs = y[:, 0], y[:, 1:]
    mean, spread = airs.mean(axis=1), airs.max(axis=1) - airs.min(axis=1)
    shape, scores, vt = _shape_components(airs)
    explained = np.cumsum(np.sum(scores**2, axis=0)) / np.sum(shape**2)
    residual = [float(np.sqrt(np.mean((shape - scores[:, :k] @ vt[:k]) ** 2))) * 1e6 for k in RESIDUAL_COMPONENTS]
    channel = np.arange(airs.shape[1])
    slope = np.polyfit(channel, airs.T, 1)[0] * (airs.shape[1] - 1) / mean
    values = (
        _percentiles(mean, 1e6),
        _percentiles(spread, 1e6),
        _percentiles(fgs - mean, 1e6),
        tuple(float(explained[min(k, explained.size) - 1]) for k in PRINCIPAL_COMPONENTS),
        _percentiles(spread / mean),
        (float(np.corrcoef(np.log(mean), np.log(spread))[0, 1]),),
        _percentiles(fgs / mean),
        _percentiles(slope),
        (float(np.median(np.diff(airs, axis=1).std(axis=1))) * 1e6,),
        tuple(residual),
        tuple(float(v) * 1e6 for v in np.percentile(mean, (1, 99))),
    )
    return [Statistic(name, value) for name, value in zip(STATISTIC_NAMES, values)]


def read_spectra(path: str | os.PathLike) -> np.ndarray:
    """The wl_1..wl_283 columns of a labels file (or of a data folder's train.csv), validated."""
    return layout.read_labels(path)[layout.WAVELENGTH_COLUMNS].to_numpy(np.float64)


# The real ADC 2024 training labels (673 planets, train_labels.csv; not ours to ship), in the
# order and units of label_statistics: what `spectramind data compare SIM` holds a data set against
# when no real labels file is given.
ADC2024_PLANETS = 673
ADC2024_VALUES = (
    (810.0, 1918.0, 5407.0),
    (17.0, 91.0, 465.0),
    (-162.0, -27.0, -4.0),
    (0.76, 0.98, 0.994),
    (0.008, 0.049, 0.23),
    (0.20,),
    (0.90, 0.985, 0.9985),
    (-0.018, 0.002, 0.054),
    (2.4,),
    (6.0, 2.5),
    (460.0, 6600.0),
)


def adc2024_statistics() -> list[Statistic]:
    """The real ADC 2024 labels' statistics, as label_statistics would give them."""
    return [Statistic(name, values) for name, values in zip(STATISTIC_NAMES, ADC2024_VALUES)]


def _format(values: tuple[float, ...]) -> str:
    def one(v: float) -> str:
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"

    return " / ".join(one(v) for v in values)


def comparison_table(simulated: list[Statistic], real: list[Statistic], headers: tuple[str, str]) -> str:
    """A markdown table of two sets of statistics side by side, with the ratio of each value."""
    rows = [f"| statistic (per planet) | {headers[0]} | {headers[1]} | ratio |", "|---|---|---|---|"]
    for sim, ref in zip(simulated, real):
        ratios = " / ".join(f"{a / b:.2f}" if b else "-" for a, b in zip(sim.values, ref.values))
        rows.append(f"| {sim.name} | {_format(sim.values)} | {_format(ref.values)} | {ratios} |")
    return "\n".join(rows)


def realism_failures(simulated: list[Statistic], real: list[Statistic]) -> list[str]:
    """What keeps ``simulated`` from counting as realistic next to ``real`` (empty: nothing).

    The depths', ranges' and FGS1 - AIRS offsets' p10/p50/p90 must each lie within a factor
    FACTOR_TOLERANCE of the real ones (same sign), the FGS1 - AIRS median within
    FGS_OFFSET_TOLERANCE_PPM and its p10-p90 spread within the same factor.
    """
    failures = []
    for sim, ref in zip(simulated[:3], real[:3]):
        for percentile, a, b in zip(PERCENTILES, sim.values, ref.values):
            if not (a * b > 0 and 1 / FACTOR_TOLERANCE <= a / b <= FACTOR_TOLERANCE):
                failures.append(f"{sim.name}: p{percentile} {a:.3g} vs {b:.3g}")
    offset_sim, offset_real = simulated[2].values, real[2].values
    if abs(offset_sim[1] - offset_real[1]) > FGS_OFFSET_TOLERANCE_PPM:
        failures.append(f"FGS1 - AIRS median {offset_sim[1]:.0f} vs {offset_real[1]:.0f} ppm")
    spread_ratio = (offset_sim[2] - offset_sim[0]) / (offset_real[2] - offset_real[0])
    if not 1 / FACTOR_TOLERANCE <= spread_ratio <= FACTOR_TOLERANCE:
        failures.append(f"FGS1 - AIRS p10-p90 spread {spread_ratio:.2f}x the real one")
    return failures


def compare_label_files(simulated: str | os.PathLike, real: str | os.PathLike | None = None) -> str:
    """The comparison table of two label files (``real`` None: the real ADC 2024 labels'
    statistics), then what is not realistic, if anything."""
    sim = read_spectra(simulated)
    sim_stats = label_statistics(sim)
    if real is None:
        ref_stats, ref_header = adc2024_statistics(), f"real ADC 2024 ({ADC2024_PLANETS})"
    else:
        ref = read_spectra(real)
        ref_stats, ref_header = label_statistics(ref), f"{os.fspath(real)} ({len(ref)})"
    failures = realism_failures(sim_stats, ref_stats)
    verdict = (
        "Within tolerance: every depth, range and FGS1 - AIRS percentile within a factor "
        f"{FACTOR_TOLERANCE} of the reference."
        if not failures
        else "Outside tolerance:\n" + "\n".join(f"- {f}" for f in failures)
    )
    table = comparison_table(sim_stats, ref_stats, (f"{os.fspath(simulated)} ({len(sim)})", ref_header))
    return f"{table}\n\n{verdict}"
