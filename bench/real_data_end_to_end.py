"""What calibration costs, end to end: the default model trained on calibrated raw frames and on the
same planets' ideal-calibration light curves (docs/real-data.md, "Measured").

``python -m bench.real_data_end_to_end WORK_DIR [--n-planets 300] [--airs-frames 1000] [--seeds 0 1 2]``

1. simulates a raw ADC 2025 data set (``spectramind data simulate --format adc2025-raw``),
2. calibrates its train split (``spectramind data calibrate``, both cores),
3. writes the same planets' light curves as an ideal calibration would give them, with the same
   bins and the photon and read noise that calibration cannot remove
   (``spectramind.data.raw.truth.write_direct_light_curves``),
4. trains the default model on each folder once per seed (``python -m spectramind.train data=adc``)
   and prints one JSON line: the test-split adc2025 of each run, their means and the difference.

Both folders hold the same planets with the same labels, so the DataModule's seeded split puts the
same planets in every test split: the difference is paired. Steps already done in WORK_DIR are
reused (the calibration resumes), so the script can be re-run to add seeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.real_data_end_to_end", description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--n-planets", type=int, default=300)
    parser.add_argument("--airs-frames", type=int, default=1000)
    parser.add_argument("--airs-bin", type=int, default=10)
    parser.add_argument("--fgs-bin", type=int, default=120)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    spectramind = str(Path(sys.executable).parent / "spectramind")
    raw, calibrated, direct = args.work / "raw", args.work / "calibrated", args.work / "direct"
    seconds = {}
    started = time.perf_counter()
    if not raw.is_dir():
        _run(
            [
                spectramind,
                "data",
                "simulate",
                "--format",
                "adc2025-raw",
                "--out",
                str(raw),
                "--n-planets",
                str(args.n_planets),
                "--airs-frames",
                str(args.airs_frames),
                "--seed",
                "2026",
            ]
        )
    seconds["simulate"] = time.perf_counter() - started
    started = time.perf_counter()
    _run(
        [
            spectramind,
            "data",
            "calibrate",
            str(raw),
            str(calibrated),
            "--airs-bin",
            str(args.airs_bin),
            "--fgs-bin",
            str(args.fgs_bin),
            "--workers",
            str(args.workers),
        ]
    )
    seconds["calibrate"] = time.perf_counter() - started
    if not direct.is_dir():
        from spectramind.data.raw.truth import write_direct_light_curves

        write_direct_light_curves(raw, direct, airs_bin=args.airs_bin, fgs_bin=args.fgs_bin)
    scores: dict[str, list[float]] = {"calibrated": [], "direct": []}
    for name, folder in (("calibrated", calibrated), ("direct", direct)):
        for seed in args.seeds:
            run_dir = args.work / f"run-{name}-{seed}"
            if not (run_dir / "metrics.json").is_file():
                _run(
                    [
                        sys.executable,
                        "-m",
                        "spectramind.train",
                        "data=adc",
                        f"data.data_dir={folder}",
                        f"seed={seed}",
                        f"hydra.run.dir={run_dir}",
                    ]
                )
            scores[name].append(json.loads((run_dir / "metrics.json").read_text())["adc2025"])
    means = {name: sum(values) / len(values) for name, values in scores.items()}
    result = {
        "n_planets": args.n_planets,
        "airs_frames": args.airs_frames,
        "airs_bin": args.airs_bin,
        "fgs_bin": args.fgs_bin,
        "seeds": args.seeds,
        "adc2025": scores,
        "mean": means,
        "calibrated_minus_direct": means["calibrated"] - means["direct"],
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
