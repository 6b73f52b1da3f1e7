"""The Ariel Data Challenge's raw layout (ADC 2025 and ADC 2024): names, discovery, validating readers.

Both the raw-frame simulator (which writes this layout) and the calibration (which reads it) take
every file name, frame shape and timing convention from here, so the two cannot drift apart. The
facts follow the competition's files (docs/real-data.md lists them)::

    adc_info.csv            ADC 2025: one row, FGS1/AIRS-CH0 gain and offset for every planet
    <split>_adc_info.csv    ADC 2024: one row per planet (planet_id, the four values, star)
    axis_info.parquet       read times (hours), AIRS integration times, AIRS column wavelengths
    wavelengths.csv         wl_1..wl_283 (FGS1, then AIRS ascending)
    train.csv | train_labels.csv (2024)      labels: planet_id, wl_1..wl_283
    train_star_info.csv, test_star_info.csv  ADC 2025 only
    <split>/<planet_id>/<SENSOR>_signal_<v>.parquet      uint16 frames, one frame per row
    <split>/<planet_id>/<SENSOR>_calibration_<v>/{dark,dead,flat,linear_corr,read}.parquet
    (ADC 2024: no "_<v>" suffix, one visit)

Readers are positional: a signal parquet is a sequence of values in row-major order whatever its
column names or row-group layout, cut into frames of the sensor's shape. Every problem is a
:class:`~spectramind.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spectramind.data import layout
from spectramind.data.instrument import AIRS, FGS, FRAME_SHAPE, SENSORS
from spectramind.errors import DatasetError

CALIBRATION_NAMES = ("dark", "dead", "flat", "linear_corr", "read")
LINEAR_CORR_TERMS = 6  # coefficients of x^0 .. x^5, stacked as 6 blocks of 32 rows
SATURATED_DN = 65535  # the uint16 ceiling: a read at it has lost charge

ADC_INFO_FILE = "adc_info.csv"
ADC_INFO_COLUMNS = [f"{s}_adc_{k}" for s in SENSORS for k in ("offset", "gain")]
AXIS_INFO_FILE = "axis_info.parquet"
AXIS_TIME_COLUMN = {AIRS: "AIRS-CH0-axis0-h", FGS: "FGS1-axis0-h"}
AXIS_WAVELENGTH_COLUMN = "AIRS-CH0-axis2-um"
AXIS_INTEGRATION_COLUMN = "AIRS-CH0-integration_time"
AXIS_COLUMNS = [AXIS_TIME_COLUMN[AIRS], AXIS_WAVELENGTH_COLUMN, AXIS_INTEGRATION_COLUMN, AXIS_TIME_COLUMN[FGS]]
SAMPLE_SUBMISSION_FILE = "sample_submission.csv"
# Not part of the competition's layout: the simulator's test labels, so a submission can be scored.
TEST_SOLUTION_FILE = "test_solution.csv"
SPLITS = ("train", "test")
STAR_INFO_FILES = layout.STAR_INFO_FILES
LABEL_FILES = {"adc2025": "train.csv", "adc2024": "train_labels.csv"}
VARIANTS = ("adc2025", "adc2024")

# Seconds each read integrated since the detector's reset, as the organisers' calibration counts
# them: FGS1 reads at 0.1 s and 0.2 s; AIRS's short read 0.1 s, its long read the axis file's
# integration time plus the 0.1 s before the first read.
FGS_READ_SECONDS = (0.1, 0.2)
AIRS_LONG_READ_EXTRA_S = 0.1
# axis_info's AIRS integration times: the short and the long read of every pair.
AIRS_INTEGRATION_S = (0.1, 4.5)

_SIGNAL = re.compile(r"^(?P<sensor>AIRS-CH0|FGS1)_signal(?:_(?P<visit>\d+))?\.parquet$")


def read_parquet_table(path: Path):
    """A whole (small) parquet file as an Arrow table; a truncated or foreign file is one line."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DatasetError(f"{path}: file is missing")
    try:
        return pq.read_table(path, use_threads=False)
    except (OSError, ValueError) as err:  # ArrowInvalid is a ValueError
        raise DatasetError(f"{path}: truncated or not a parquet file ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _positional_array(path: Path, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A small parquet's values in row-major order, reshaped to ``shape`` (any column names)."""
    table = read_parquet_table(path)
    if table.num_rows * table.num_columns != int(np.prod(shape)):
        raise DatasetError(
            f"{path}: holds {table.num_rows} x {table.num_columns} values, expected {np.prod(shape)} "
            f"(shape {'x'.join(map(str, shape))})"
        )
    try:
        columns = [column.to_numpy(zero_copy_only=False).astype(dtype) for column in table.columns]
    except (TypeError, ValueError) as err:
        raise DatasetError(f"{path}: values are not {np.dtype(dtype).name} ({_first_line(err)})") from None
    return np.stack(columns, axis=1).reshape(shape)


@dataclass(frozen=True)
class SensorCalibration:
    """One visit's calibration of one sensor; arrays are (32, width) except linear_corr (6, 32, width)."""

    dark: np.ndarray  # e-/s
    dead: np.ndarray  # bool
    flat: np.ndarray
    read: np.ndarray  # e- per read
    linear_corr: np.ndarray  # coefficient of x^k in block k, ascending powers


def read_calibration(folder: Path, sensor: str) -> SensorCalibration:
    """The five calibration files of ``folder``, checked for shape and finite values."""
    rows, width = FRAME_SHAPE[sensor]
    if not folder.is_dir():
        raise DatasetError(f"{folder}: calibration folder is missing")
    arrays = {}
    for name in CALIBRATION_NAMES:
        path = folder / f"{name}.parquet"
        shape = (LINEAR_CORR_TERMS, rows, width) if name == "linear_corr" else (rows, width)
        values = _positional_array(path, shape, bool if name == "dead" else np.float64)
        if name != "dead" and not np.isfinite(values).all():
            raise DatasetError(f"{path}: non-finite values")
        arrays[name] = values
    return SensorCalibration(**arrays)


def apply_linear_corr(x: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """linear_corr's polynomial, c0 + c1 x + ... + c5 x^5, on charge ``x`` (..., n) with per-pixel
    coefficients (6, n), in Horner form (a new array; ``x`` is left as it is)."""
    result = coefficients[-1] * x
    for k in range(LINEAR_CORR_TERMS - 2, 0, -1):
        result += coefficients[k]
        result *= x
    result += coefficients[0]
    return result


@dataclass(frozen=True)
class AxisInfo:
    """Read times (hours) per sensor, AIRS integration times (s) and AIRS column wavelengths (um)."""

    times_h: dict[str, np.ndarray]
    airs_integration_s: np.ndarray
    airs_wavelengths_um: np.ndarray

    def read_seconds(self, sensor: str, n_frames: int, source: Path) -> np.ndarray:
        """Seconds each of the first ``n_frames`` reads integrated since reset (see the constants)."""
        if sensor == FGS:
            return np.tile(np.asarray(FGS_READ_SECONDS), n_frames // 2)
        if self.airs_integration_s.size < n_frames:
            raise DatasetError(
                f"{source}: axis_info gives {self.airs_integration_s.size} AIRS integration times for {n_frames} frames"
            )
        seconds = self.airs_integration_s[:n_frames].copy()
        seconds[1::2] += AIRS_LONG_READ_EXTRA_S
        return seconds

    def pair_times_h(self, sensor: str, n_frames: int, source: Path) -> np.ndarray:
        """Time of each of the first ``n_frames // 2`` read pairs: the mean of its two reads (hours)."""
        times = self.times_h[sensor]
        if times.size < n_frames:
            raise DatasetError(f"{source}: axis_info gives {times.size} {sensor} read times for {n_frames} frames")
        return 0.5 * (times[0:n_frames:2] + times[1:n_frames:2])


def read_axis_info(path: Path) -> AxisInfo:
    """axis_info.parquet: four float columns, shorter ones padded with NaN at the end."""
    table = read_parquet_table(path)
    missing = [c for c in AXIS_COLUMNS if c not in table.column_names]
    if missing:
        raise DatasetError(f"{path}: missing columns {', '.join(missing)}")

    def column(name: str) -> np.ndarray:
        values = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        finite = np.isfinite(values)
        count = int(finite.sum())
        if count == 0 or not finite[:count].all():
            raise DatasetError(f"{path}: column {name} must hold values followed only by NaN padding")
        return values[:count]

    times = {sensor: column(name) for sensor, name in AXIS_TIME_COLUMN.items()}
    for sensor, values in times.items():
        if (np.diff(values) <= 0).any():
            raise DatasetError(f"{path}: {AXIS_TIME_COLUMN[sensor]} must increase")
    return AxisInfo(
        times_h=times,
        airs_integration_s=column(AXIS_INTEGRATION_COLUMN),
        airs_wavelengths_um=column(AXIS_WAVELENGTH_COLUMN),
    )


@dataclass(frozen=True)
class Visit:
    """One observation of a planet: each sensor's signal file and calibration folder."""

    planet_id: int
    index: int
    signal: dict[str, Path]
    calibration: dict[str, Path]


@dataclass(frozen=True)
class RawLayout:
    """A folder in one of the competition's layouts (``variant`` adc2025 or adc2024)."""

    root: Path
    variant: str

    def signal_name(self, sensor: str, visit: int) -> str:
        return f"{sensor}_signal.parquet" if self.variant == "adc2024" else f"{sensor}_signal_{visit}.parquet"

    def calibration_name(self, sensor: str, visit: int) -> str:
        return f"{sensor}_calibration" if self.variant == "adc2024" else f"{sensor}_calibration_{visit}"

    def adc_info_file(self, split: str) -> Path:
        return self.root / (f"{split}_adc_info.csv" if self.variant == "adc2024" else ADC_INFO_FILE)

    @property
    def labels_file(self) -> Path:
        return self.root / LABEL_FILES[self.variant]

    def star_info_file(self, split: str) -> Path | None:
        """The split's star and orbit table (ADC 2025 only)."""
        return None if self.variant == "adc2024" else self.root / STAR_INFO_FILES[split]

    def planet_dir(self, split: str, planet_id: int) -> Path:
        return self.root / split / str(planet_id)

    def planet_ids(self, split: str) -> list[int]:
        """The planets of a split: the numeric sub-folders of ``<root>/<split>``, ascending."""
        folder = self.root / split
        if not folder.is_dir():
            raise DatasetError(f"{folder}: split folder is missing")
        return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())

    def visits(self, split: str, planet_id: int) -> list[Visit]:
        """Every visit of a planet, each with both sensors' signal and calibration, ascending."""
        folder = self.planet_dir(split, planet_id)
        if not folder.is_dir():
            raise DatasetError(f"{folder}: planet folder is missing")
        found: dict[int, dict[str, Path]] = {}
        for path in folder.iterdir():
            match = _SIGNAL.match(path.name)
            if match and (match["visit"] is None) == (self.variant == "adc2024"):
                found.setdefault(int(match["visit"] or 0), {})[match["sensor"]] = path
        if not found:
            raise DatasetError(f"{folder}: no signal files ({self.signal_name(AIRS, 0)}, ...)")
        visits = []
        for index in sorted(found):
            signal = found[index]
            for sensor in SENSORS:
                if sensor not in signal:
                    raise DatasetError(
                        f"{folder / self.signal_name(sensor, index)}: file is missing "
                        f"(visit {index} has the other sensor's signal)"
                    )
            calibration = {s: folder / self.calibration_name(s, index) for s in SENSORS}
            for path in calibration.values():
                if not path.is_dir():
                    raise DatasetError(f"{path}: calibration folder is missing for visit {index}")
            visits.append(Visit(planet_id=planet_id, index=index, signal=signal, calibration=calibration))
        return visits


def detect_layout(root: str | Path) -> RawLayout:
    """The layout of ``root``: ADC 2025 (``adc_info.csv``) or ADC 2024 (``train_adc_info.csv``)."""
    folder = Path(root)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: raw data folder does not exist")
    if (folder / ADC_INFO_FILE).is_file():
        return RawLayout(folder, "adc2025")
    if any((folder / f"{split}_adc_info.csv").is_file() for split in SPLITS):
        return RawLayout(folder, "adc2024")
    raise DatasetError(
        f"{folder}: in neither competition layout (no {ADC_INFO_FILE} as in ADC 2025, no "
        f"train_adc_info.csv or test_adc_info.csv as in ADC 2024)"
    )


def read_adc(raw: RawLayout, split: str, planet_id: int) -> dict[str, tuple[float, float]]:
    """(gain, offset) per sensor: electrons = DN / gain + offset."""
    path = raw.adc_info_file(split)
    table = _read_csv(path)
    missing = [c for c in ADC_INFO_COLUMNS if c not in table.columns]
    if missing:
        raise DatasetError(f"{path}: missing columns {', '.join(missing)}")
    if raw.variant == "adc2024":
        if "planet_id" not in table.columns:
            raise DatasetError(f"{path}: missing column planet_id")
        rows = table[table["planet_id"] == planet_id]
        if len(rows) != 1:
            raise DatasetError(f"{path}: {len(rows)} rows for planet_id {planet_id}, expected 1")
    else:
        rows = table
        if len(rows) != 1:
            raise DatasetError(f"{path}: has {len(rows)} rows, expected one")
    row = rows.iloc[0]
    result = {}
    for sensor in SENSORS:
        gain, offset = float(row[f"{sensor}_adc_gain"]), float(row[f"{sensor}_adc_offset"])
        if not (np.isfinite(gain) and gain > 0 and np.isfinite(offset)):
            raise DatasetError(f"{path}: {sensor} gain must be > 0 and offset finite, got {gain!r}, {offset!r}")
        result[sensor] = (gain, offset)
    return result


def _read_csv(path: Path):
    if not path.is_file():
        raise DatasetError(f"{path}: file is missing")
    try:
        return layout.read_csv_exact(path)
    except (ValueError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: not a readable CSV ({_first_line(err)})") from None


def read_star_info(path: Path):
    """A competition star-info table (planet_id may be written as a float, e.g. ``1103775.0``)."""
    table = _read_csv(path)
    missing = [c for c in ["planet_id", *layout.STAR_COLUMNS] if c not in table.columns]
    if missing:
        raise DatasetError(f"{path}: missing columns {', '.join(missing)}")
    ids = table["planet_id"].to_numpy(dtype=np.float64)
    if not (np.isfinite(ids).all() and (ids == np.round(ids)).all()):
        raise DatasetError(f"{path}: planet_id must hold whole numbers")
    table = table[["planet_id", *layout.STAR_COLUMNS]].astype({"planet_id": np.int64})
    if table["planet_id"].duplicated().any():
        raise DatasetError(f"{path}: duplicate planet_id")
    return table


class SignalFile:
    """A signal parquet opened positionally: ``n_frames`` frames of the sensor's shape.

    Opening reads only the footer: the element count must be a whole, even number of frames (the
    reads come in short/long pairs). Values are then read in blocks whose size the caller
    chooses, so memory never holds the whole visit: :meth:`blocks` yields
    ``(first_frame, pixels, values)`` with ``values`` of shape (frames, len(pixels)).
    """

    def __init__(self, path: Path, sensor: str) -> None:
        import pyarrow.parquet as pq

        self.path, self.sensor = path, sensor
        rows, width = FRAME_SHAPE[sensor]
        self.frame_size = rows * width
        if not path.is_file():
            raise DatasetError(f"{path}: file is missing")
        try:
            self._file = pq.ParquetFile(path, pre_buffer=True)
        except (OSError, ValueError) as err:
            raise DatasetError(f"{path}: truncated or not a parquet file ({_first_line(err)})") from None
        meta = self._file.metadata
        total = meta.num_rows * meta.num_columns
        if total == 0 or total % self.frame_size:
            raise DatasetError(
                f"{path}: {meta.num_rows} x {meta.num_columns} = {total} values is not a whole number of "
                f"{rows}x{width} {sensor} frames"
            )
        self.n_frames = total // self.frame_size
        if self.n_frames % 2:
            raise DatasetError(f"{path}: {self.n_frames} frames, an odd count (reads come in short/long pairs)")
        self._one_frame_per_row = meta.num_columns == self.frame_size

    def blocks(self, pixels: np.ndarray, max_values: int) -> Iterator[tuple[int, slice, np.ndarray]]:
        """``(first_frame, positions, values)`` blocks covering ``pixels`` (flat indices into a frame)
        over every frame: ``values`` (frames, n) holds ``pixels[positions]``; each block has at most
        ``max_values`` values and an even number of frames.

        With one frame per row (the competition's files) a block is a set of columns over all
        frames: parquet reads columns independently, whatever the row groups. Any other shape is
        streamed in row-major order, a run of whole frames at a time.
        """
        try:
            if self._one_frame_per_row:
                per_block = max(1, max_values // self.n_frames)
                names = self._file.schema_arrow.names
                for start in range(0, pixels.size, per_block):
                    chosen = pixels[start : start + per_block]
                    table = self._file.read(columns=[names[i] for i in chosen], use_threads=False)
                    values = np.stack([c.to_numpy(zero_copy_only=False) for c in table.columns], axis=1)
                    yield 0, slice(start, start + chosen.size), values
            else:
                frames_per_block = max(2, (max_values // self.frame_size) // 2 * 2)
                pending = np.empty(0)
                first = 0
                for batch in self._file.iter_batches(
                    batch_size=max(1, max_values // self._file.metadata.num_columns), use_threads=False
                ):
                    flat = np.stack([c.to_numpy(zero_copy_only=False) for c in batch.columns], axis=1).ravel()
                    pending = np.concatenate([pending.astype(flat.dtype, copy=False), flat])
                    whole = (pending.size // (self.frame_size * frames_per_block)) * frames_per_block
                    if whole:
                        frames = pending[: whole * self.frame_size].reshape(whole, self.frame_size)
                        pending = pending[whole * self.frame_size :]
                        yield first, slice(None), frames[:, pixels]
                        first += whole
                if pending.size:
                    frames = pending.reshape(-1, self.frame_size)
                    yield first, slice(None), frames[:, pixels]
        except (OSError, ValueError) as err:
            raise DatasetError(f"{self.path}: truncated or unreadable parquet ({_first_line(err)})") from None
