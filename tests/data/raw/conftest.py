"""Small raw data sets in the competition's layouts, simulated once per test session.

Frame counts are cut from the real 11250 AIRS-CH0 reads to a few dozen pairs so the suite stays
fast; the visit still spans 7.5 h, so each set has transits with baseline on both sides.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from raw_support import FINE_BINS, IDEAL, RAW_2024, RAW_2025, calibrate, simulate


@pytest.fixture(scope="session")
def raw_2025(tmp_path_factory) -> Path:
    return simulate(tmp_path_factory.mktemp("raw") / "adc2025", RAW_2025)


@pytest.fixture(scope="session")
def raw_ideal(tmp_path_factory) -> Path:
    return simulate(tmp_path_factory.mktemp("raw") / "ideal", IDEAL)


@pytest.fixture(scope="session")
def raw_2024(tmp_path_factory) -> Path:
    return simulate(tmp_path_factory.mktemp("raw") / "adc2024", RAW_2024)


@pytest.fixture(scope="session")
def calibrated_2025(tmp_path_factory, raw_2025) -> Path:
    return calibrate(raw_2025, tmp_path_factory.mktemp("calibrated") / "adc2025")


@pytest.fixture(scope="session")
def calibrated_fine(tmp_path_factory, raw_2025) -> Path:
    """40 time bins: enough samples in and out of transit to fit each visit's window."""
    return calibrate(raw_2025, tmp_path_factory.mktemp("calibrated") / "fine", params=FINE_BINS)
