"""A planet's transit geometry: the circular orbit of the star info, or, where the star info has
none, a nominal-period orbit whose shape is fitted to the white light; and which one each planet
used (recorded by the features and the run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from spectramind.errors import DatasetError

# Without the star info's orbit the white-light fit fits its shape: the period is fixed to this
# nominal value and the duration T14 and the impact parameter b are free (a/Rs and the inclination
# follow). Over a transit's few hours a circular orbit's path across the disk is nearly straight, so
# the shape depends on the planet's speed (a/Rs over P) and on b; fixing P only sets the scale of
# the fitted a/Rs, as published ADC 2024 solutions did. Bounds: T14 from two time samples (a
# shorter transit could fall between samples, leaving nothing to fit) to the whole visit, b from 0
# to IMPACT_MAX_FRACTION x (1 + Rp/Rs) (grazing allowed, short of the vanishing transit); the start
# is b = IMPACT_START and the duration of the transit found in the data.
NOMINAL_PERIOD_DAYS = 4.0
IMPACT_START = 0.3
IMPACT_MAX_FRACTION = 0.95


@dataclass(frozen=True)
class Orbit:
    """A circular orbit in the star info's units: period in days, a/Rs, inclination in degrees."""

    period_days: float
    a_over_rs: float
    inc_deg: float

    @classmethod
    def from_star(cls, star_row: Mapping, label: str) -> Orbit | None:
        """The star info's orbit, or None where P, sma or i is missing (absent or NaN, as in a
        calibrated ADC 2024 folder): the fit then fits the orbit's shape. Values that are there but
        impossible are an error, not a reason to guess."""
        values = [float(star_row.get(k, math.nan)) for k in ("P", "sma", "i")]
        if not all(math.isfinite(v) for v in values):
            return None
        if values[0] <= 0 or values[1] <= 1:
            raise DatasetError(f"{label}: the star info's orbit (P, sma, i) is impossible: {values}")
        return cls(*values)

    @classmethod
    def from_impact(cls, a_over_rs: float, impact: float) -> Orbit:
        """The orbit at NOMINAL_PERIOD_DAYS with this a/Rs and impact parameter b = a/Rs cos i."""
        return cls(NOMINAL_PERIOD_DAYS, a_over_rs, math.degrees(math.acos(impact / a_over_rs)))

    @classmethod
    def for_duration(cls, t14_h: float, rp: float, impact: float = IMPACT_START) -> Orbit:
        """The nominal-period orbit whose transit of a planet of radius ratio `rp` at impact
        parameter `impact` lasts `t14_h` (first to fourth contact): the fitted orbit's start."""
        chord = math.sin(math.pi * min(t14_h / (24.0 * NOMINAL_PERIOD_DAYS), 0.5))
        return cls.from_impact(math.sqrt(impact**2 + ((1.0 + rp) ** 2 - impact**2) / chord**2), impact)

    @property
    def impact(self) -> float:
        return self.a_over_rs * math.cos(math.radians(self.inc_deg))


# Where a planet's transit geometry comes from (load_features' `orbit_source`, one per planet): the
# star info's orbit (P, sma, i), or the white light itself. Without the star info's orbit (ADC 2024
# ships no star info) the transit fit fits the orbit's shape and the window method finds its window
# in the white light; with it, both place the transit with the orbit (on calibrated data, whose times
# count from the visit's start, around the mid-time found in the white light).
ORBIT_FROM_STAR_INFO = "star_info"
ORBIT_FITTED = "fitted"
ORBIT_SOURCES = (ORBIT_FROM_STAR_INFO, ORBIT_FITTED)


def orbit_source(star_row: Mapping) -> str:
    """The ORBIT_SOURCES entry the features use for this planet (see above)."""
    known = Orbit.from_star(star_row, f"planet {int(star_row['planet_id'])}") is not None
    return ORBIT_FROM_STAR_INFO if known else ORBIT_FITTED
