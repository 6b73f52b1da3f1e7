"""The simulated population looks like the real competition's, and `spectramind data compare` says how much."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind.cli import main
from spectramind.data.instrument import channel_wavelengths
from spectramind.data.sim import realism
from spectramind.data.sim.config import SimulationConfig, planet_ids_and_seeds
from spectramind.data.sim.physics import draw_system
from spectramind.data.sim.population import ADC2024, LEGACY, POPULATIONS, Prior, population_from
from spectramind.data.sim.writer import simulate_dataset
from spectramind.errors import ConfigurationError

# The real ADC 2024 training labels (673 planets), p10 / p50 / p90 per planet, in ppm: the AIRS mean
# depth, the AIRS range (max - min) and FGS1 minus the AIRS mean.
REAL_AIRS_MEAN_PPM = (810.0, 1918.0, 5407.0)
REAL_AIRS_RANGE_PPM = (17.0, 91.0, 465.0)
REAL_FGS_MINUS_AIRS_PPM = (-162.0, -27.0, -4.0)


def _spectra(config: SimulationConfig) -> np.ndarray:
    """The labels a data set of ``config`` holds (train.csv), drawn without rendering light curves."""
    wavelengths = channel_wavelengths()
    _, seeds = planet_ids_and_seeds(config)
    return np.array([draw_system(np.random.default_rng(seq), config, wavelengths).depth for seq in seeds])


@pytest.fixture(scope="module")
def default_spectra() -> np.ndarray:
    return _spectra(SimulationConfig(seed=0))  # the default data set (conf/data/simulated.yaml)


def test_the_default_data_set_has_the_real_labels_depths_ranges_and_fgs1_offsets(default_spectra):
    stats = {s.name: s.values for s in realism.label_statistics(default_spectra)}
    for name, real in (
        (realism.STATISTIC_NAMES[0], REAL_AIRS_MEAN_PPM),
        (realism.STATISTIC_NAMES[1], REAL_AIRS_RANGE_PPM),
        (realism.STATISTIC_NAMES[2], REAL_FGS_MINUS_AIRS_PPM),
    ):
        for simulated, truth in zip(stats[name], real):
            assert 1 / 1.5 <= simulated / truth <= 1.5, (name, stats[name], real)
    offsets = stats[realism.STATISTIC_NAMES[2]]
    assert abs(offsets[1] - REAL_FGS_MINUS_AIRS_PPM[1]) <= 30
    real_spread = REAL_FGS_MINUS_AIRS_PPM[2] - REAL_FGS_MINUS_AIRS_PPM[0]
    assert 1 / 1.5 <= (offsets[2] - offsets[0]) / real_spread <= 1.5
    # shapes as low-dimensional as the real ones (0.76 / 0.98 / 0.994 of the variance in 1 / 3 / 5 components)
    assert stats[realism.STATISTIC_NAMES[3]][1] > 0.95
    # and the module's reference figures are these facts
    assert realism.ADC2024_VALUES[:3] == (REAL_AIRS_MEAN_PPM, REAL_AIRS_RANGE_PPM, REAL_FGS_MINUS_AIRS_PPM)
    assert realism.realism_failures(realism.label_statistics(default_spectra), realism.adc2024_statistics()) == []


def test_the_legacy_population_is_the_old_deeper_one_and_fails_the_realism_check():
    legacy = _spectra(SimulationConfig(seed=0, n_planets=300, population="legacy"))
    stats = realism.label_statistics(legacy)
    assert stats[0].values[1] > 4000  # AIRS mean depth median, ppm (the real one: 1918)
    assert stats[2].values[1] > 100  # FGS1 above the AIRS mean (the real one: 27 ppm below)
    failures = realism.realism_failures(stats, realism.adc2024_statistics())
    assert any("AIRS mean depth" in f for f in failures) and any("FGS1 - AIRS median" in f for f in failures)


def test_label_statistics_of_spectra_whose_answers_are_known():
    rng = np.random.default_rng(0)
    mean = rng.uniform(1e-3, 3e-3, 50)
    amplitude = rng.uniform(1e-5, 1e-4, 50)
    bump = np.sin(np.linspace(0, np.pi, 282))  # one shape: every planet's AIRS spectrum a multiple of it
    airs = mean[:, None] + amplitude[:, None] * bump
    spectra = np.column_stack([mean - 2e-5, airs])
    stats = realism.label_statistics(spectra)
    np.testing.assert_allclose(stats[0].values, np.percentile(airs.mean(axis=1), [10, 50, 90]) * 1e6)
    np.testing.assert_allclose(stats[1].values, np.percentile(amplitude * np.ptp(bump), [10, 50, 90]) * 1e6)
    np.testing.assert_allclose(stats[3].values, (1.0, 1.0, 1.0))  # one shape: one component holds it all
    assert stats[2].values[1] < -20  # FGS1 sits 20 ppm below the mean, minus the bump's share


def test_populations_are_named_presets_or_mappings_over_one():
    assert population_from(None) is ADC2024 and population_from("legacy") is LEGACY
    assert set(POPULATIONS) == {"adc2024", "legacy"}
    changed = population_from({"preset": "legacy", "cloud_fraction": 1.0, "magnitude": {"low": 9, "high": 9}})
    assert changed.cloud_fraction == 1.0 and changed.magnitude == Prior(9.0, 9.0)
    assert changed.log10_haze == LEGACY.log10_haze
    assert population_from(ADC2024.to_dict()) == ADC2024  # dataset.json's form reads back as the preset
    with pytest.raises(ConfigurationError, match="unknown population 'realistic'"):
        population_from("realistic")
    with pytest.raises(ConfigurationError, match="unknown population fields clouds"):
        population_from({"clouds": 0.5})
    with pytest.raises(ConfigurationError, match="log10_gravity"):
        population_from({"log10_gravity": {"low": 2.0, "high": 1.0}})


def test_priors_draw_inside_their_bounds_with_the_asked_distribution():
    rng = np.random.default_rng(1)
    normal = Prior(-1.0, 1.0, centre=0.0, spread=0.5)
    draws = np.array([normal.draw(rng) for _ in range(4000)])
    assert draws.min() >= -1.0 and draws.max() <= 1.0
    assert abs(draws.mean()) < 0.03 and 0.40 < draws.std() < 0.47  # a normal of sd 0.5 cut at 2 sd
    uniform = np.array([Prior(2.0, 4.0).draw(rng) for _ in range(4000)])
    assert abs(uniform.mean() - 3.0) < 0.05 and abs(uniform.std() - 2 / np.sqrt(12)) < 0.03


def test_data_compare_prints_the_table_against_the_real_figures_or_a_second_file(tmp_path, capsys):
    config = SimulationConfig(n_planets=12, n_time=32, seed=5)
    a = simulate_dataset(tmp_path / "a", config)
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "compare", str(a / "train.csv"), str(a)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "| AIRS mean depth (ppm) p10/p50/p90 |" in out and "1.00 / 1.00 / 1.00" in out
    assert "Within tolerance" in out
    with pytest.raises(SystemExit):
        main(["data", "compare", str(a / "train.csv")])
    assert "real ADC 2024 (673)" in capsys.readouterr().out


def test_data_compare_of_a_missing_file_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "compare", str(tmp_path / "nope.csv")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.csv" in err and "Traceback" not in err
