"""Run spectramind's benchmarks: ``.venv/bin/python -m bench`` (from the repository root).

Runs every section (or those named with ``--only``), prints each figure as it is measured,
merges them into bench/results.json and rewrites the generated block of docs/performance.md.
A full run takes about 75 minutes on 2 cores, most of it the parallel and tracking sections. Exit
status 0 whether or not targets are met (this is a measurement, not a test); 1 if a measured
command failed.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe_machine, load_average, utc_now, wait_for_quiet
from bench.report import SECTION_ORDER, merge_results, update_performance_doc
from bench.timing import BenchCommandFailed

# short runs, where the per-worker start-up weighs, and runs three times as long
DEFAULT_PARALLEL_EPOCHS = (20, 190)  # ~7 s and ~1 min runs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTION_ORDER,
        metavar="SECTION",
        help=f"run only these sections: {', '.join(SECTION_ORDER)}",
    )
    parser.add_argument(
        "--wait-for-load",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the 1-minute load average to drop below "
        "--load-threshold (the machine is shared); default: do not wait",
    )
    parser.add_argument("--load-threshold", type=float, default=1.5)
    parser.add_argument(
        "--parallel-epochs",
        type=int,
        nargs="+",
        default=DEFAULT_PARALLEL_EPOCHS,
        metavar="N",
        help="epochs per run in the parallel speed-up benchmark, one workload per value "
        f"(CPU-bound runs; default: {' '.join(map(str, DEFAULT_PARALLEL_EPOCHS))})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        metavar="N",
        help="samples per side in the orchestration (best of N), resume (median of N), "
        "calibration (best of N) and tracking_load (median of N) sections; more samples tame a noisy machine",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (sweeps, data)")
    return parser.parse_args(argv)


def run_section(name: str, args: argparse.Namespace, work: Path, state: dict) -> dict:
    """Measure one section; ``state`` carries the finished sweep from orchestration to resume."""
    from bench import (
        backbone_training,
        calibration,
        collation,
        halving,
        simulator,
        startup,
        sweeps,
        tracking_load,
        training_step,
    )

    if name == "orchestration":
        section, state["finished_sweep"] = sweeps.orchestration(work, args.repeats)
        return section
    if name == "parallel":
        return sweeps.parallel(work, args.parallel_epochs)
    if name == "resume":
        return sweeps.resume(work, state.get("finished_sweep"), args.repeats)
    if name == "leaderboard":
        return collation.leaderboard()
    if name == "training_step":
        return training_step.training_step(work)
    if name == "backbones":
        return backbone_training.backbones(work)
    if name == "halving":
        return halving.halving(work)
    if name == "startup":
        return startup.startup()
    if name == "calibration":
        return calibration.calibration(work, args.repeats)
    if name == "tracking_load":
        return tracking_load.tracking_load(work, args.repeats)
    return simulator.simulator(work)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n for n in SECTION_ORDER if not args.only or n in args.only]
    command = shlex.join([".venv/bin/python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    if args.wait_for_load > 0:
        waited, load = wait_for_quiet(args.load_threshold, args.wait_for_load)
        print(f"[bench] waited {waited:.0f} s; load average now {load}", flush=True)
    machine = describe_machine()
    print(f"[bench] {machine['nproc']} CPUs, {machine['cpu_model']}; commit {machine['commit']}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="spectramind-bench-"))
    state: dict = {}
    measured: dict[str, dict] = {}
    failed = False
    try:
        for name in names:
            load_before, started = load_average(), time.perf_counter()
            print(f"[bench] {name} (load {load_before[0]:.2f}) ...", flush=True)
            try:
                section = run_section(name, args, work, state)
            except BenchCommandFailed as error:
                print(f"[bench] {name} FAILED: {error}", file=sys.stderr, flush=True)
                failed = True
                continue
            section.update(
                date=utc_now(),
                load_before=load_before,
                load_after=load_average(),
                duration_s=round(time.perf_counter() - started, 1),
                machine=machine,
                command=command,
            )
            measured[name] = section
            verdict = "n/a" if section["met"] is None else "met" if section["met"] else "MISSED"
            print(
                f"[bench] {section['title']}: {section['headline']} [target {section['target']}: {verdict}]", flush=True
            )
            merge_results({name: section})  # after every section: an interrupted run keeps what it measured
    finally:
        if args.keep:
            print(f"[bench] working directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results = merge_results(measured)
    if not args.no_docs:
        print(f"[bench] updated {update_performance_doc(results)}")
    print("[bench] summary:")
    for name, section in measured.items():
        verdict = "n/a" if section["met"] is None else "met" if section["met"] else "MISSED"
        print(f"  {name:14s} {verdict:6s} {section['headline']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
