"""The systematics model both depth measurements share: its settings and its linear solver.

`features` (windowed depths over a detrended baseline) and `transit_fit` (the classical fit) model
the same instrument: a settling ramp at a visit's start and chromatic drifts that vary smoothly
across AIRS channels. Their settings live here once, with the small least-squares solver both call
thousands of times per data set.
"""

from __future__ import annotations

import numpy as np

# Polynomial order in time of a baseline, its time-dependent coefficients smoothed across AIRS
# channels by a polynomial in channel index of CHROMATIC_SMOOTHING_DEGREE.
DETREND_ORDER = 2
CHROMATIC_SMOOTHING_DEGREE = 3
# Candidate timescales (hours) of the exponential settling ramp at the start of a visit.
RAMP_TIMESCALES_H = tuple(np.geomspace(0.15, 2.0, 12))


def least_squares(design: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Least-squares coefficients via the normal equations.

    The designs here have a handful of well-scaled columns, so this is accurate, and it avoids
    LAPACK's SVD solver whose thread start-up costs ~1 ms per call under multi-threaded BLAS:
    more than the whole fit, thousands of times per dataset.
    """
    return np.linalg.solve(design.T @ design, design.T @ targets)
