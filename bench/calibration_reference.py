"""The reference the calibration benchmark measures spectramind against: the organisers' published
reduction (official notebook "Calibrating and binning Ariel data", S3 in docs/real-data.md, whose
section 2 lists its steps) written the plain way users copy it, for ONE visit of one planet folder.

``python -m bench.calibration_reference PLANET_DIR RAW_ROOT [--visit 0] [--out curves.npy]``
reduces the visit in this process and prints one JSON line: wall and CPU seconds, frames, bytes of
the raw signal parquets, peak RSS (``getrusage`` maxrss) and the seconds of each step.

Deliberately plain, as the notebook: each signal parquet is read whole with
``pandas.read_parquet(path).to_numpy()``, every step runs on the whole visit in float64, and the
hot/dead masks ride on numpy masked arrays::

    1 ADC          signal / gain + offset (adc_info.csv)
    2 crop         AIRS columns 39:321 (right after the ADC, as the notebook)
    3 masks        hot = iterative 5-sigma clip of the dark (astropy's sigma_clip, in numpy here),
                   dead = dead.parquet; both tiled over time into np.ma.masked_where
    4 linearity    linear_corr (6, 32, W), ascending powers, Horner form over the whole array
    5 dark         signal -= dark (masked at dead, tiled) x dt, dt = [0.1, 4.6, ...] for AIRS (axis
                   info's integration times, +0.1 s on the long reads) and [0.1, 0.2, ...] for FGS1
    6 CDS          odd (long) - even (short) frames, after the masked signal is stored into a plain
                   float64 buffer, which drops the mask (as in the notebook)
    7 binning      the sum of 30 (AIRS) / 360 (FGS1) consecutive CDS frames
    8 flat         divide by flat (masked at dead; the result stored plainly again)
    9 extraction   plain spatial sum: AIRS rows 10:22 per column, FGS1 [10:22, 10:22]
   10 assembly     283 channels [FGS1 | AIRS columns 320..39]

Masked pixels keep their values under the mask (numpy's in-place masked operations leave them
alone), so once the mask is dropped a dead or hot pixel enters the sums with its ADC-converted
values, not dark-subtracted, not linearity-corrected, and (dead ones) not flat-divided: the
notebook's effective behaviour. spectramind's ``extraction="box"`` drops those pixels instead and
restores their share through the spatial profile, so the two differ slightly where a masked pixel
falls inside the box.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

AIRS, FGS = "AIRS-CH0", "FGS1"
WIDTH = {AIRS: 356, FGS: 32}
CROP = slice(39, 321)
BINNING = {AIRS: 30, FGS: 360}
BOX_ROWS = slice(10, 22)
BOX_COLUMNS_FGS = slice(10, 22)


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class StepTimer:
    """Seconds spent in each named step, summed over both sensors."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started


def sigma_clip_mask(data: np.ndarray, sigma: float = 5.0, maxiters: int = 5) -> np.ndarray:
    """What ``astropy.stats.sigma_clip(data, sigma=sigma, maxiters=maxiters).mask`` gives: values
    beyond ``sigma`` standard deviations of the median of the values kept so far, repeated until
    nothing more is clipped or ``maxiters`` passes."""
    clipped = ~np.isfinite(data)
    for _ in range(maxiters):
        kept = data[~clipped]
        centre, spread = np.median(kept), kept.std()
        updated = clipped | (data < centre - sigma * spread) | (data > centre + sigma * spread)
        if updated.sum() == clipped.sum():
            break
        clipped = updated
    return clipped


def read_calibration_file(folder: Path, name: str, sensor: str) -> np.ndarray:
    values = pd.read_parquet(folder / f"{name}.parquet").to_numpy()
    width = WIDTH[sensor]
    shape = (6, 32, width) if name == "linear_corr" else (32, width)
    values = values.astype(bool if name == "dead" else np.float64).reshape(shape)
    return values[..., CROP] if sensor == AIRS else values


def read_dt(raw_root: Path, sensor: str, n_frames: int) -> np.ndarray:
    """Seconds each read integrated, as the notebook counts them."""
    if sensor == AIRS:
        axis_info = pd.read_parquet(raw_root / "axis_info.parquet")
        dt = axis_info["AIRS-CH0-integration_time"].dropna().values.copy()
    else:
        dt = np.ones(n_frames) * 0.1
    dt[1::2] += 0.1
    return dt


def reduce_sensor(
    planet_dir: Path, raw_root: Path, sensor: str, visit: int, binning: int, timer: StepTimer
) -> tuple[np.ndarray, int]:
    """One sensor's binned, extracted light curve: (bins, 282) for AIRS (columns 39..320), (bins,)
    for FGS1; and the number of frames read."""
    adc = pd.read_csv(raw_root / "adc_info.csv")
    gain, offset = float(adc[f"{sensor}_adc_gain"].iloc[0]), float(adc[f"{sensor}_adc_offset"].iloc[0])
    calibration = planet_dir / f"{sensor}_calibration_{visit}"

    with timer("read parquet"):
        signal = pd.read_parquet(planet_dir / f"{sensor}_signal_{visit}.parquet").to_numpy()
    n_frames = signal.shape[0]
    with timer("read calibration"):
        dark = read_calibration_file(calibration, "dark", sensor)
        dead = read_calibration_file(calibration, "dead", sensor)
        flat = read_calibration_file(calibration, "flat", sensor)
        linear_corr = read_calibration_file(calibration, "linear_corr", sensor)
        dt = read_dt(raw_root, sensor, n_frames)

    with timer("ADC + crop"):
        signal = signal.reshape(n_frames, 32, WIDTH[sensor]).astype(np.float64)
        signal /= gain
        signal += offset
        if sensor == AIRS:
            signal = signal[:, :, CROP]

    with timer("hot/dead masking"):
        hot = sigma_clip_mask(dark, sigma=5, maxiters=5)
        signal = np.ma.masked_where(np.tile(dead, (n_frames, 1, 1)), signal)
        signal = np.ma.masked_where(np.tile(hot, (n_frames, 1, 1)), signal)

    with timer("linearity"):
        corrected = signal * linear_corr[5]
        for power in range(4, -1, -1):
            corrected += linear_corr[power]
            if power:
                corrected *= signal
        signal = corrected
        del corrected

    with timer("dark"):
        masked_dark = np.ma.masked_where(dead, dark)
        signal -= np.tile(masked_dark, (n_frames, 1, 1)) * dt[:, np.newaxis, np.newaxis]

    with timer("mask dropped"):
        clean = np.zeros(signal.shape)
        clean[:] = signal  # a plain buffer: the mask goes, the values under it stay
        del signal

    with timer("CDS"):
        cds = clean[1::2] - clean[0::2]
        del clean

    with timer("binning"):
        n_bins = cds.shape[0] // binning
        binned = np.zeros((n_bins, *cds.shape[1:]))
        for i in range(n_bins):
            binned[i] = np.sum(cds[i * binning : (i + 1) * binning], axis=0)
        del cds

    with timer("flat"):
        masked_flat = np.ma.masked_where(dead, flat)
        calibrated = np.zeros(binned.shape)
        calibrated[:] = binned / np.tile(masked_flat, (n_bins, 1, 1))

    with timer("extraction"):
        if sensor == AIRS:
            curve = calibrated[:, BOX_ROWS, :].sum(axis=1)
        else:
            curve = calibrated[:, BOX_ROWS, BOX_COLUMNS_FGS].sum(axis=(1, 2))
    return curve, n_frames


def reduce_visit(
    planet_dir: str | Path,
    raw_root: str | Path,
    visit: int = 0,
    airs_bin: int = BINNING[AIRS],
    fgs_bin: int = BINNING[FGS],
) -> tuple[np.ndarray, dict]:
    """The visit's 283 channels (bins, 283), [FGS1 | AIRS ascending in wavelength], in electrons per
    bin; and what it cost: frames and seconds per step."""
    planet_dir, raw_root = Path(planet_dir), Path(raw_root)
    timer = StepTimer()
    airs, airs_frames = reduce_sensor(planet_dir, raw_root, AIRS, visit, airs_bin, timer)
    fgs, fgs_frames = reduce_sensor(planet_dir, raw_root, FGS, visit, fgs_bin, timer)
    if airs.shape[0] != fgs.shape[0]:
        raise ValueError(
            f"{planet_dir}: {airs.shape[0]} AIRS bins but {fgs.shape[0]} FGS1 bins; choose bins that match"
        )
    curves = np.column_stack([fgs, airs[:, ::-1]])
    return curves, {"frames": {AIRS: airs_frames, FGS: fgs_frames}, "steps_s": dict(timer.seconds)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.calibration_reference", description=__doc__.splitlines()[0])
    parser.add_argument("planet_dir", type=Path, help="<raw root>/<split>/<planet_id>")
    parser.add_argument("raw_root", type=Path, help="the raw folder (adc_info.csv, axis_info.parquet)")
    parser.add_argument("--visit", type=int, default=0)
    parser.add_argument("--airs-bin", type=int, default=BINNING[AIRS])
    parser.add_argument("--fgs-bin", type=int, default=BINNING[FGS])
    parser.add_argument("--out", type=Path, help="save the (bins, 283) light curves here (.npy)")
    args = parser.parse_args(argv)
    after_imports = _maxrss_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    curves, details = reduce_visit(args.planet_dir, args.raw_root, args.visit, args.airs_bin, args.fgs_bin)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if args.out is not None:
        np.save(args.out, curves)
    signal_bytes = sum((args.planet_dir / f"{s}_signal_{args.visit}.parquet").stat().st_size for s in (AIRS, FGS))
    print(
        json.dumps(
            {
                "planet_id": args.planet_dir.name,
                "visit": args.visit,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "frames": details["frames"],
                "frames_total": sum(details["frames"].values()),
                "signal_bytes": signal_bytes,
                "n_bins": int(curves.shape[0]),
                "maxrss_after_imports_mib": after_imports,
                "maxrss_peak_mib": _maxrss_mib(),
                "steps_s": {k: round(v, 3) for k, v in details["steps_s"].items()},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
