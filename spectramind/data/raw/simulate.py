"""Simulate the competition's raw layout: uint16 detector frames plus calibration files.

Why: calibration code can only be trusted if it is run on frames whose truth is known. This writer
renders the *same* planets and light curves as :mod:`spectramind.data.sim.physics` (its star, orbit,
atmosphere, limb darkening and systematics draws, at the raw cadence) through the detector of
:mod:`spectramind.data.raw.detector`, into exactly the files of ``spectramind.data.raw.layout``:
``spectramind data simulate --format adc2025-raw`` (or ``adc2024-raw``).

Per planet and visit, mid-transit falls in the middle third of the visit (2.5-5 h of 7.5 h, as in
the competition); a visit's systematics, detector calibration and noise are its own. Each
channel's photon rate is the planet's star through the instrument
(:func:`spectramind.data.instrument.photon_rates`), the same rates from which the light-curve
simulator derives its noise, so at the real cadence both layouts carry the same noise.

Beside the competition's files the folder holds ``test_solution.csv`` (the test planets' true
spectra, to score a submission) and ``simulation.json`` (the configuration), from which
:mod:`spectramind.data.raw.truth` renders any visit's noise-free light curves again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spectramind.data import layout
from spectramind.data.instrument import (
    AIRS,
    AIRS_END_COLUMN,
    AIRS_FIRST_COLUMN,
    FGS,
    FRAME_SHAPE,
    SENSORS,
    airs_column_wavelengths,
    channel_wavelengths,
    spatial_profile,
)
from spectramind.data.raw.detector import DetectorConfig, draw_calibration, render_reads
from spectramind.data.raw.layout import (
    ADC_INFO_COLUMNS,
    AIRS_INTEGRATION_S,
    AXIS_INFO_FILE,
    AXIS_INTEGRATION_COLUMN,
    AXIS_TIME_COLUMN,
    AXIS_WAVELENGTH_COLUMN,
    FGS_READ_SECONDS,
    LABEL_FILES,
    SAMPLE_SUBMISSION_FILE,
    STAR_INFO_FILES,
    TEST_SOLUTION_FILE,
    VARIANTS,
    AxisInfo,
    RawLayout,
    SensorCalibration,
)
from spectramind.data.sim.config import SimulationConfig, planet_ids_and_seeds
from spectramind.data.sim.physics import (
    PlanetSystem,
    draw_system,
    draw_systematics,
    jitter_series,
    systematics_factor,
    transit_duration_hours,
    transit_light_curves,
)
from spectramind.errors import ConfigurationError, DatasetError

FORMATS = {"adc2025-raw": "adc2025", "adc2024-raw": "adc2024"}
SIMULATION_FILE = "simulation.json"
# 2: photon rates from the instrument (spectramind.data.instrument), its trace and PSF geometry
#    out of the detector config
FORMAT_VERSION = 2
REAL_AIRS_FRAMES = 11250
FGS_FRAMES_PER_AIRS = 12
# Mid-transit lies in this fraction of the visit (2.5-5 h of the competition's 7.5 h).
MID_TRANSIT_RANGE = (1 / 3, 2 / 3)
# Read pairs start every visit/n_pairs seconds; the first read comes this long after the start.
FIRST_READ_S = 0.1
SUBMISSION_PLACEHOLDER = 0.456
# Frames rendered at a time (bounded memory, whatever the visit's length) and parquet row groups.
CHUNK_VALUES = 2**21
ROW_GROUP_BYTES = 32 * 2**20
# Spawn-key tag of a visit's own random stream (the planet's own draws use its seed directly).
_VISIT_STREAM = 7

# The light-curve simulator's defaults (a 7.5 h visit, the default population): by default both
# simulators draw the same planets from the same seed.
RAW_PHYSICS = SimulationConfig(n_planets=40)


@dataclass(frozen=True)
class RawSimulationConfig:
    """A raw data set: its planets' physics, the detector, the layout and the cadence.

    ``physics.n_planets`` and ``physics.seed`` choose the planets; ``physics.window_hours`` is the
    visit's length. ``airs_frames`` defaults to the real 11250 reads; FGS1 gets 12 times as many.
    """

    physics: SimulationConfig = RAW_PHYSICS
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    variant: str = "adc2025"
    airs_frames: int = REAL_AIRS_FRAMES
    fgs_frames: int | None = None
    test_fraction: float = 0.2
    second_visit_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ConfigurationError(f"variant={self.variant!r}; expected one of {', '.join(VARIANTS)}")
        fgs = FGS_FRAMES_PER_AIRS * self.airs_frames if self.fgs_frames is None else self.fgs_frames
        object.__setattr__(self, "fgs_frames", int(fgs))
        window_s = self.physics.window_hours * 3600
        for sensor, frames, longest_read in (
            (AIRS, self.airs_frames, sum(AIRS_INTEGRATION_S)),
            (FGS, self.fgs_frames, FGS_READ_SECONDS[1]),
        ):
            if frames < 4 or frames % 2:
                raise ConfigurationError(f"{sensor} frames={frames}: need an even number >= 4 (read pairs)")
            if window_s / (frames // 2) < FIRST_READ_S + longest_read:
                raise ConfigurationError(
                    f"{sensor} frames={frames}: too many for a {self.physics.window_hours} h visit "
                    f"(a read pair takes {FIRST_READ_S + longest_read:.1f} s)"
                )
        if not 0 < self.test_fraction < 1:
            raise ConfigurationError(f"test_fraction={self.test_fraction!r} must be in (0, 1)")
        if not 0 <= self.second_visit_fraction <= 1:
            raise ConfigurationError(f"second_visit_fraction={self.second_visit_fraction!r} must be in [0, 1]")

    def to_dict(self) -> dict:
        return {
            "physics": self.physics.to_dict(),
            "detector": self.detector.to_dict(),
            **{
                f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("physics", "detector")
            },
        }

    @classmethod
    def from_dict(cls, values: dict) -> RawSimulationConfig:
        values = dict(values)
        return cls(
            physics=SimulationConfig(**values.pop("physics")),
            detector=DetectorConfig(**values.pop("detector")),
            **values,
        )


def axis_info(config: RawSimulationConfig) -> AxisInfo:
    """Read times, AIRS integration times and column wavelengths of every visit."""
    window_s = config.physics.window_hours * 3600

    def times(frames: int) -> np.ndarray:
        starts = np.arange(frames // 2) * (window_s / (frames // 2))
        pair = np.array([FIRST_READ_S, FIRST_READ_S + 0.1])
        return (starts[:, None] + pair[None, :]).ravel() / 3600

    return AxisInfo(
        times_h={AIRS: times(config.airs_frames), FGS: times(config.fgs_frames)},
        airs_integration_s=np.tile(np.asarray(AIRS_INTEGRATION_S), config.airs_frames // 2),
        airs_wavelengths_um=airs_column_wavelengths(),
    )


def column_channels() -> np.ndarray:
    """Channel (0..282) whose light falls on each AIRS column; columns beyond the targets' range
    carry their nearest channel's light curve."""
    column = np.arange(FRAME_SHAPE[AIRS][1])
    return 1 + (AIRS_END_COLUMN - 1 - np.clip(column, AIRS_FIRST_COLUMN, AIRS_END_COLUMN - 1))


def _column_throughput() -> np.ndarray:
    """Relative light on AIRS columns: full on the targets' columns, little red of them (0-38), some
    blue of them (321-355), as in the competition's frames."""
    column = np.arange(FRAME_SHAPE[AIRS][1])
    return np.where(column < AIRS_FIRST_COLUMN, 0.03, np.where(column >= AIRS_END_COLUMN, 0.6, 1.0))


def pair_times_h(axis: AxisInfo, sensor: str) -> np.ndarray:
    """Time of each read pair of a visit (hours from its start), as calibration counts it."""
    return axis.pair_times_h(sensor, axis.times_h[sensor].size, Path(AXIS_INFO_FILE))


@dataclass
class VisitModel:
    """One visit's truth: noise-free relative flux per read pair, photon rates and detector."""

    planet_id: int
    visit: int
    mid_transit_h: float
    airs_flux: np.ndarray  # (AIRS pairs, 283)
    fgs_flux: np.ndarray  # (FGS pairs,)
    channel_rates: np.ndarray  # (283,) photons/s reaching the detector at relative flux 1
    calibration: dict[str, SensorCalibration]
    rng: np.random.Generator  # positioned for the frames' noise


def _visit_seed(seq: np.random.SeedSequence, visit: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, _VISIT_STREAM, visit))


def visit_models(
    config: RawSimulationConfig,
    seq: np.random.SeedSequence,
    planet_id: int,
    n_visits: int,
    wavelengths: np.ndarray,
    axis: AxisInfo,
) -> tuple[list[VisitModel], PlanetSystem]:
    """Every visit of one planet, and its true spectrum. The planet's draws come first from its own
    seed, in the light-curve simulator's order (same planet, same first visit's systematics)."""
    physics = config.physics
    rng = np.random.default_rng(seq)
    system = draw_system(rng, physics, wavelengths)
    first_systematics = draw_systematics(rng, physics)
    window_h = physics.window_hours
    impact = system.a_over_rs * math.cos(math.radians(system.inc_deg))
    half_t14 = 0.5 * transit_duration_hours(system.p_days, system.a_over_rs, impact, math.sqrt(system.depth.max()))
    low = max(MID_TRANSIT_RANGE[0] * window_h, half_t14 + 0.05 * window_h)
    high = min(MID_TRANSIT_RANGE[1] * window_h, window_h - half_t14 - 0.05 * window_h)
    airs_t, fgs_t = pair_times_h(axis, AIRS), pair_times_h(axis, FGS)
    union = np.union1d(airs_t, fgs_t)
    sample_h = window_h / physics.n_time
    models = []
    for visit in range(n_visits):
        vrng = np.random.default_rng(_visit_seed(seq, visit))
        systematics = first_systematics if visit == 0 else draw_systematics(vrng, physics)
        mid = vrng.uniform(low, high) if low < high else 0.5 * window_h
        jitter = jitter_series(vrng, physics.jitter_correlation ** (np.diff(union) / sample_h))
        airs_j, fgs_j = jitter[np.searchsorted(union, airs_t)], jitter[np.searchsorted(union, fgs_t)]
        airs = transit_light_curves(system, airs_t - mid, wavelengths) * systematics_factor(
            systematics, physics, airs_t - window_h / 2, wavelengths, airs_j
        )
        fgs = (
            transit_light_curves(system, fgs_t - mid, wavelengths[:1])[:, 0]
            * systematics_factor(systematics, physics, fgs_t - window_h / 2, wavelengths[:1], fgs_j)[:, 0]
        )
        calibration = {sensor: draw_calibration(vrng, sensor, config.detector) for sensor in SENSORS}
        models.append(
            VisitModel(
                planet_id=planet_id,
                visit=visit,
                mid_transit_h=float(mid),
                airs_flux=airs,
                fgs_flux=fgs,
                channel_rates=system.rates,
                calibration=calibration,
                rng=vrng,
            )
        )
    return models, system


def pixel_rates(model: VisitModel, sensor: str, profile: np.ndarray, pairs: slice) -> np.ndarray:
    """Photons/s on each pixel (pairs, 32 x width) for a run of read pairs."""
    if sensor == FGS:
        flux = model.fgs_flux[pairs] * model.channel_rates[0]
        return flux[:, None] * profile.ravel()[None, :]
    channels = column_channels()
    column_rate = model.channel_rates[channels] * _column_throughput()
    flux = model.airs_flux[pairs][:, channels] * column_rate[None, :]
    return (flux[:, None, :] * profile[None, :, :]).reshape(flux.shape[0], -1)


def _write_signal(path: Path, model: VisitModel, sensor: str, axis: AxisInfo, config: RawSimulationConfig) -> None:
    """Render one sensor's frames a chunk at a time and stream them into the parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, width = FRAME_SHAPE[sensor]
    n_pixels = rows * width
    n_frames = axis.times_h[sensor].size
    seconds = axis.read_seconds(sensor, n_frames, path)
    profile = spatial_profile(sensor)
    value_type = pa.uint16() if config.detector.quantize else pa.float64()
    schema = pa.schema([(f"column_{i}", value_type) for i in range(n_pixels)])
    pairs_per_chunk = max(1, CHUNK_VALUES // (2 * n_pixels))
    frames_per_group = max(2, ROW_GROUP_BYTES // (n_pixels * value_type.bit_width // 8))
    pending: list[np.ndarray] = []
    with pq.ParquetWriter(path, schema, compression="snappy", use_dictionary=False) as writer:

        def flush() -> None:
            block = np.asfortranarray(np.concatenate(pending))
            writer.write_table(
                pa.Table.from_arrays([pa.array(block[:, j]) for j in range(n_pixels)], schema=schema),
                row_group_size=block.shape[0],
            )
            pending.clear()

        for start in range(0, n_frames // 2, pairs_per_chunk):
            pairs = slice(start, min(start + pairs_per_chunk, n_frames // 2))
            pending.append(
                render_reads(
                    pixel_rates(model, sensor, profile, pairs),
                    seconds[2 * pairs.start : 2 * pairs.stop],
                    model.calibration[sensor],
                    config.detector,
                    model.rng,
                )
            )
            if sum(len(p) for p in pending) >= frames_per_group:
                flush()
        if pending:
            flush()


def _write_calibration(folder: Path, calibration: SensorCalibration) -> None:
    """The five calibration parquets, as the competition ships them: columns column_0.., zstd."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir()
    for name in ("dark", "dead", "flat", "linear_corr", "read"):
        values = getattr(calibration, name)
        values = values.reshape(-1, values.shape[-1])
        table = pa.table({f"column_{j}": values[:, j] for j in range(values.shape[1])})
        pq.write_table(table, folder / f"{name}.parquet", compression="zstd")


def split_and_visits(config: RawSimulationConfig, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Which planets are test planets, and which get a second visit (ADC 2024: none)."""
    rng = np.random.default_rng(np.random.SeedSequence(config.physics.seed, spawn_key=(_VISIT_STREAM,)))
    n_test = min(n - 1, max(1, round(config.test_fraction * n)))
    test = np.zeros(n, dtype=bool)
    test[rng.permutation(n)[:n_test]] = True
    n_second = 0 if config.variant == "adc2024" else round(config.second_visit_fraction * n)
    second = np.zeros(n, dtype=bool)
    second[rng.permutation(n)[:n_second]] = True
    return test, second


def _write_tables(
    root: Path,
    raw: RawLayout,
    config: RawSimulationConfig,
    planet_ids: np.ndarray,
    test: np.ndarray,
    spectra: np.ndarray,
    stars: np.ndarray,
    axis: AxisInfo,
) -> None:
    wavelengths = channel_wavelengths()
    longest = max(axis.times_h[FGS].size, axis.times_h[AIRS].size, axis.airs_wavelengths_um.size)

    def padded(values: np.ndarray) -> np.ndarray:
        return np.concatenate([values, np.full(longest - values.size, np.nan)])

    pd.DataFrame(
        {
            AXIS_TIME_COLUMN[AIRS]: padded(axis.times_h[AIRS]),
            AXIS_WAVELENGTH_COLUMN: padded(axis.airs_wavelengths_um),
            AXIS_INTEGRATION_COLUMN: padded(axis.airs_integration_s),
            AXIS_TIME_COLUMN[FGS]: padded(axis.times_h[FGS]),
        }
    ).to_parquet(root / AXIS_INFO_FILE, index=False)
    pd.DataFrame([wavelengths], columns=layout.WAVELENGTH_COLUMNS).to_csv(root / layout.WAVELENGTHS_FILE, index=False)
    ids = pd.Series(planet_ids.astype(np.int64), name="planet_id")

    def table(rows: np.ndarray, columns: list[str], chosen: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(rows[chosen], columns=columns)
        frame.insert(0, "planet_id", ids[chosen].to_numpy())
        return frame

    table(spectra, layout.WAVELENGTH_COLUMNS, ~test).to_csv(root / LABEL_FILES[config.variant], index=False)
    table(spectra, layout.WAVELENGTH_COLUMNS, test).to_csv(root / TEST_SOLUTION_FILE, index=False)
    placeholder = np.full((len(planet_ids), 2 * layout.N_WAVELENGTHS), SUBMISSION_PLACEHOLDER)
    table(placeholder, [*layout.WAVELENGTH_COLUMNS, *layout.SIGMA_COLUMNS], test).to_csv(
        root / SAMPLE_SUBMISSION_FILE, index=False
    )
    detector = config.detector
    adc = {
        f"{s}_adc_{k}": (detector.offset if k == "offset" else detector.gain)
        for s in SENSORS
        for k in ("offset", "gain")
    }
    if config.variant == "adc2025":
        pd.DataFrame([adc], columns=ADC_INFO_COLUMNS).to_csv(raw.adc_info_file("train"), index=False)
        for split, chosen in (("train", ~test), ("test", test)):
            table(stars, layout.STAR_COLUMNS, chosen).to_csv(root / STAR_INFO_FILES[split], index=False)
    else:
        for split, chosen in (("train", ~test), ("test", test)):
            frame = pd.DataFrame({"planet_id": ids[chosen].to_numpy(), **adc, "star": 0})
            frame.to_csv(raw.adc_info_file(split), index=False)


def _write_raw_dataset(root: Path, config: RawSimulationConfig) -> None:
    raw = RawLayout(root, config.variant)
    wavelengths = channel_wavelengths()
    axis = axis_info(config)
    planet_ids, seeds = planet_ids_and_seeds(config.physics)
    test, second = split_and_visits(config, len(planet_ids))
    spectra, stars = [], []
    for index, (planet_id, seq) in enumerate(zip(planet_ids, seeds)):
        split = "test" if test[index] else "train"
        folder = raw.planet_dir(split, int(planet_id))
        folder.mkdir(parents=True)
        models, system = visit_models(config, seq, int(planet_id), 2 if second[index] else 1, wavelengths, axis)
        for model in models:
            for sensor in SENSORS:
                _write_calibration(folder / raw.calibration_name(sensor, model.visit), model.calibration[sensor])
                _write_signal(folder / raw.signal_name(sensor, model.visit), model, sensor, axis, config)
        spectra.append(system.depth)
        stars.append(system.star_row())
    _write_tables(root, raw, config, planet_ids, test, np.asarray(spectra), np.asarray(stars), axis)
    info = {"format_version": FORMAT_VERSION, "format": f"{config.variant}-raw", "config": config.to_dict()}
    (root / SIMULATION_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def simulate_raw_dataset(out_dir: str | os.PathLike, config: RawSimulationConfig | None = None) -> Path:
    """Write a raw data set into ``out_dir`` (which must not exist or be empty).

    Files go to a temporary sibling folder renamed into place when complete, so an interrupted
    run never leaves a folder that looks finished.
    """
    config = config or RawSimulationConfig()
    out = Path(out_dir).absolute()
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise ConfigurationError(f"{out}: exists and is not an empty folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        _write_raw_dataset(staging, config)
        if out.is_dir():
            out.rmdir()
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def read_simulation_config(raw_dir: str | os.PathLike) -> RawSimulationConfig:
    """The configuration a raw folder was simulated with (its ``simulation.json``)."""
    path = Path(raw_dir) / SIMULATION_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: file is missing (not a folder written by the raw simulator)")
    try:
        return RawSimulationConfig.from_dict(json.loads(path.read_text())["config"])
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise DatasetError(f"{path}: not a raw simulation record ({err})") from None
