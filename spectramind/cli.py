"""The ``spectramind`` command line (Typer): ablation studies, training, prediction, data, scoring.

``ablate run`` and ``train`` build a Hydra argv and call the same task function as
``python -m spectramind.train`` in this process, so everything a Hydra user can override works
here too. Every mistake a user can make (unknown command or option, missing argument, bad value,
missing path, unknown study, bad override, invalid configuration) ends with one line
``error: ...`` on stderr and exit status 2, never a traceback or a usage box: :func:`main` runs
Click in non-standalone mode to catch its usage errors, and Hydra runs with ``HYDRA_FULL_ERROR``
so that its errors reach us as exceptions instead of a multi-line report. A sweep that finished
with failed or diverged runs exits with status 1. Heavy imports (torch, pandas) happen inside
the commands, so ``--help`` is fast.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, NoReturn, Optional, Sequence

import typer

from spectramind.errors import ConfigurationError, SpectramindError
from spectramind.fast_exit import skip_final_collection

USAGE_ERROR_STATUS = 2

# Typer >= 0.20 vendors its own copy of Click and re-exports only ``BadParameter``; its bases are
# the Click exception classes this Typer raises, whichever Click that is.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

app = typer.Typer(
    name="spectramind",
    help="Train and ablate models that predict exoplanet transmission spectra (mu and sigma at 283 wavelengths).",
    no_args_is_help=True,
    add_completion=True,  # `spectramind --install-completion`: commands, options and study names
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
ablate_app = typer.Typer(
    help="Run, resume, inspect and report ablation studies (a sweep directory holds one study's runs).",
    no_args_is_help=True, rich_markup_mode=None,
)
data_app = typer.Typer(help="Data sets: simulate light curves or the competition's raw frames, calibrate raw frames, "
                            "compare simulated spectra with real ones.",
                       no_args_is_help=True, rich_markup_mode=None)
app.add_typer(ablate_app, name="ablate")
app.add_typer(data_app, name="data")

_EXISTING_DIR = dict(exists=True, file_okay=False, dir_okay=True)
_EXISTING_FILE = dict(exists=True, file_okay=True, dir_okay=False)
_SWEEP_DIR_HELP = "Sweep directory (the one holding sweep.json, e.g. multirun/<date>/<time>)."


class DataFormat(str, Enum):
    """What `spectramind data simulate` writes."""

    light_curves = "light-curves"
    adc2025_raw = "adc2025-raw"
    adc2024_raw = "adc2024-raw"


class PopulationName(str, Enum):
    """The simulator's population presets (spectramind.data.sim.population.POPULATIONS)."""

    adc2024 = "adc2024"
    legacy = "legacy"


class Split(str, Enum):
    train = "train"
    test = "test"


class Extraction(str, Enum):
    optimal = "optimal"
    box = "box"


class Backend(str, Enum):
    loky = "loky"
    ray = "ray"


class ScoreVariant(str, Enum):
    """The two official versions of the Ariel Gaussian log-likelihood score."""

    adc2025 = "adc2025"
    adc2024 = "adc2024"


def _fail(message: str) -> NoReturn:
    raise ConfigurationError(message)


def _run_hydra(argv: List[str]) -> int:
    """Call the Hydra task function with ``argv``; return the sweep's exit status (0 or 1)."""
    from spectramind import train
    from spectramind.ablation import outcome
    from spectramind.errors import user_error_message

    import __main__

    saved_argv, saved_full_error = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    saved_spec = getattr(__main__, "__spec__", None)
    sys.argv = ["spectramind.train", *argv]
    # Lightning's DDP launcher starts the other ranks as `python -m <__main__'s module> <argv[1:]>`:
    # that must be the training, not this CLI (which would not understand the overrides)
    __main__.__spec__ = importlib.util.find_spec("spectramind.train")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises instead of printing a report and exiting 1
    try:
        with outcome.reporting():
            train.main()
    except Exception as exc:
        message = user_error_message(exc)
        if message is None:
            raise
        raise ConfigurationError(message) from None
    finally:
        sys.argv = saved_argv
        __main__.__spec__ = saved_spec
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error
    return outcome.exit_status()


def study_names(config_dirs: Sequence[Path] = ()) -> List[str]:
    """The studies shipped in conf/ablation/ and those in DIR/ablation/ of each user config
    directory (``--config-dir DIR``, ``hydra.searchpath=[file://DIR]``): file names without .yaml."""
    from importlib.resources import files

    folders = [files("spectramind.conf").joinpath("ablation"), *(Path(d) / "ablation" for d in config_dirs)]
    return sorted({p.name[:-5] for folder in folders if folder.is_dir() for p in folder.iterdir()
                   if p.name.endswith(".yaml")})


_SEARCHPATH = "hydra.searchpath="


def _config_dirs(overrides: List[str], config_dir: Optional[Path]) -> tuple[List[Path], List[str]]:
    """The user config directories (``--config-dir`` and the ``file://`` entries of a
    ``hydra.searchpath=[...]`` override) and the overrides with one ``hydra.searchpath`` holding
    them all (Hydra takes one value per key; the sweep's multirun.yaml keeps it for resume)."""
    searched = [o for o in overrides if o.startswith(_SEARCHPATH)]
    entries: List[str] = []
    for override in searched:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        value = OverridesParser.create().parse_override(override).value()
        entries += [str(v) for v in (value if isinstance(value, list) else [value])]
    if config_dir is not None:
        entries.append(f"file://{config_dir.resolve()}")
    rest = [o for o in overrides if not o.startswith(_SEARCHPATH)]
    if entries:
        rest.append(f"{_SEARCHPATH}[{','.join(entries)}]")
    return [Path(e[len("file://"):]) for e in entries if e.startswith("file://")], rest


def _complete_study(ctx: typer.Context, incomplete: str) -> List[str]:
    config_dir = ctx.params.get("config_dir")
    return [name for name in study_names([config_dir] if config_dir else []) if name.startswith(incomplete)]


_CONFIG_DIR_HELP = ("A config directory of your own, searched after spectramind's: DIR/ablation/NAME.yaml is "
                    "the study NAME, DIR/experiment/NAME.yaml `experiment=NAME`, any DIR/GROUP/NAME.yaml "
                    "`GROUP=NAME` (Hydra's hydra.searchpath).")


def split_study(args: List[str]) -> tuple[Optional[str], List[str]]:
    """``[STUDY] [OVERRIDES...]``: a first word without ``=`` (and no ``+``/``~`` prefix) names a
    study in conf/ablation/; no arguments at all means the ``default`` study."""
    if not args:
        return "default", []
    if "=" not in args[0] and not args[0].startswith(("+", "~")):
        return args[0], args[1:]
    return None, args


def _check_overrides(overrides: List[str]) -> None:
    """Every word after the study is a Hydra override ``key=value`` (or ``~key``)."""
    for word in overrides:
        if "=" not in word and not word.startswith("~"):
            _fail(f"{word!r} is not an override (expected key=value, +key=value or ~key; a study name "
                  f"may only come first)")


# The leaderboard is built by a Hydra callback (conf/config.yaml: hydra.callbacks.leaderboard).
_LEADERBOARD_SWITCH = "++hydra.callbacks.leaderboard.enabled="


def _launcher_overrides(jobs: int) -> List[str]:
    """``--jobs N``: Hydra's joblib launcher with N workers (a dependency; checked here so that a
    broken install is named before the output folder is created)."""
    if jobs <= 1:
        return []
    from importlib.util import find_spec

    from spectramind.errors import PLUGIN_INSTALL

    if find_spec("hydra_plugins.hydra_joblib_launcher") is None:
        _fail(f"--jobs {jobs} needs Hydra's joblib launcher: pip install {PLUGIN_INSTALL['hydra/launcher/joblib']}")
    return ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}"]


@ablate_app.command("run")
def ablate_run(
    study: Optional[str] = typer.Argument(
        None, metavar="STUDY", show_default=False, autocompletion=_complete_study,
        help="A study file in conf/ablation/ (or DIR/ablation/ of --config-dir), without .yaml "
             "[default: `default` when no OVERRIDES are given].",
    ),
    overrides: Optional[List[str]] = typer.Argument(
        None, metavar="OVERRIDES", show_default=False,
        help="Hydra overrides. One with comma-separated values is a factor: `model=mlp,cnn1d "
             "optimizer.lr=0.001,0.01` sweeps their 2x2 grid; one value (`trainer.max_epochs=10`) applies "
             "to every run. With a study, they add factors to it or override its settings.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (design, every run and its overrides, "
                                 "runs already completed) and train nothing."),
    sweep_dir: Optional[Path] = typer.Option(None, "--sweep-dir", metavar="DIR", show_default=False,
                                             help="Sweep directory [default: multirun/<date>/<time>]."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, metavar="N",
                             help="Runs trained at the same time on this machine (Hydra's joblib launcher) when N > 1."),
    config_dir: Optional[Path] = typer.Option(None, "--config-dir", metavar="DIR", show_default=False,
                                              help=_CONFIG_DIR_HELP, **_EXISTING_DIR),
    leaderboard: bool = typer.Option(True, "--leaderboard/--no-leaderboard",
                                     help="Build the leaderboard when the sweep ends (else: `spectramind ablate leaderboard DIR`)."),
    allow_failed_runs: bool = typer.Option(False, "--allow-failed-runs",
                                           help="Exit 0 even when runs failed or diverged (sweep.json and the leaderboard "
                                                "report them); usage and configuration errors still exit 2."),
) -> None:
    """Run an ablation study: a Hydra multirun through the ablation sweeper, then the leaderboard.

    Equivalent to `python -m spectramind.train --multirun ablation=STUDY OVERRIDES...`. The sweep
    directory receives sweep.json, runs/<run_id>/ and leaderboard.md/.html/.csv/.json. Exit status:
    0 when every run completed, 1 when some failed or diverged, 2 for a usage or configuration error.
    """
    study, overrides = split_study([study, *(overrides or [])] if study is not None else [])
    _check_overrides(overrides)
    config_dirs, overrides = _config_dirs(overrides, config_dir)
    argv = ["--multirun"]
    if study is not None:
        known = study_names(config_dirs)
        if study not in known:
            _fail(f"unknown study {study!r}; available: {', '.join(known)} (an override needs key=value)")
        argv.append(f"ablation={study}")
    argv += overrides
    if dry_run:
        argv.append("hydra.sweeper.dry_run=true")
    if dry_run or not leaderboard:
        argv.append(f"{_LEADERBOARD_SWITCH}false")
    if sweep_dir is not None:
        argv.append(f"hydra.sweep.dir={sweep_dir}")
    argv += _launcher_overrides(jobs)
    status = _run_hydra(argv)
    raise typer.Exit(0 if allow_failed_runs else status)


@ablate_app.command("resume")
def ablate_resume(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP, **_EXISTING_DIR),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, metavar="N", show_default=False,
                                       help="Runs trained at the same time (joblib launcher) [default: as the sweep was started]."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would still run and train nothing."),
) -> None:
    """Continue a sweep with its original study and overrides.

    Completed runs are skipped (same run id and config hash), failed ones are retried and
    interrupted ones resume from their last checkpoint; the leaderboard is rebuilt at the end.
    """
    from omegaconf import OmegaConf

    from spectramind.sweep_layout import HYDRA_MULTIRUN_FILE

    saved = sweep_dir / HYDRA_MULTIRUN_FILE
    if not saved.is_file():
        _fail(f"{saved} not found: {sweep_dir} is not a sweep directory started by spectramind")
    config = OmegaConf.load(saved)
    replaced = ("hydra.sweep.dir=", "hydra.sweeper.resume=", "hydra.sweeper.dry_run=",
                "hydra.callbacks.leaderboard.enabled=")
    if jobs is not None:
        replaced += ("hydra/launcher=", "hydra.launcher.n_jobs=")
    hydra = [o for o in config.hydra.overrides.hydra if not o.startswith(replaced)]
    argv = ["--multirun", *config.hydra.overrides.task, *hydra, f"hydra.sweep.dir={sweep_dir}",
            "hydra.sweeper.resume=true"]
    if dry_run:
        argv += ["hydra.sweeper.dry_run=true", f"{_LEADERBOARD_SWITCH}false"]
    if jobs is not None:
        argv += _launcher_overrides(jobs)
    raise typer.Exit(_run_hydra(argv))


@ablate_app.command("status")
def ablate_status(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP, **_EXISTING_DIR),
) -> None:
    """Runs by status, progress and an ETA for a running or finished sweep (read from sweep.json)."""
    from spectramind.ablation.status import sweep_status

    typer.echo(sweep_status(sweep_dir))


@ablate_app.command("leaderboard")
def ablate_leaderboard(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP + " Finished, partial or still running.",
                                     **_EXISTING_DIR),
    metric: str = typer.Option("adc2025", "--metric", metavar="NAME",
                               help="Metric to rank by (a key of the runs' metrics.json, e.g. adc2025, gll, rmse_ppm)."),
    top: int = typer.Option(3, "--top", min=0, metavar="N", help="Best configurations to export to ablation_results/ (0: none)."),
) -> None:
    """Collate every run from disk into leaderboard.md/.html/.csv/.json (and leaderboard_runs.csv) in SWEEP_DIR."""
    from spectramind.leaderboard.build import build_leaderboard

    written = build_leaderboard(sweep_dir, primary_metric=metric, top_n=top)
    for path in written.values():
        typer.echo(str(path))


@ablate_app.command("export")
def ablate_export(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP, **_EXISTING_DIR),
    top: int = typer.Option(3, "--top", min=1, metavar="N", help="Number of best configurations to export."),
    metric: str = typer.Option("adc2025", "--metric", metavar="NAME", help="Metric to rank by."),
) -> None:
    """Export the top-N configurations to SWEEP_DIR/ablation_results/.

    Each gets its resolved config, metrics, submission.csv and a pointer to its best checkpoint;
    index.md lists them. Prints the folder.
    """
    from spectramind.leaderboard.collate import collate_runs
    from spectramind.leaderboard.export import export_top
    from spectramind.leaderboard.stats import compute_stats

    table = collate_runs(sweep_dir)
    typer.echo(str(export_top(table, compute_stats(table, primary_metric=metric), sweep_dir, top)))


@app.command("train")
def train_command(
    overrides: Optional[List[str]] = typer.Argument(
        None, metavar="OVERRIDES", show_default=False,
        help="Hydra overrides, e.g. `model=mlp loss=mse trainer.max_epochs=5`.",
    ),
    config_dir: Optional[Path] = typer.Option(None, "--config-dir", metavar="DIR", show_default=False,
                                              help=_CONFIG_DIR_HELP, **_EXISTING_DIR),
) -> None:
    """Train and test one model (same as `python -m spectramind.train [OVERRIDES]...`).

    The run directory (default outputs/<date>/<time>, set with hydra.run.dir=DIR) receives
    config_resolved.yaml, run.json, events.jsonl, metrics.json, predictions.parquet,
    submission.csv and checkpoints/{best,last}.ckpt.
    """
    overrides = list(overrides or [])
    _check_overrides(overrides)
    raise typer.Exit(_run_hydra(_config_dirs(overrides, config_dir)[1]))


@app.command("predict")
def predict_command(
    checkpoint: Path = typer.Argument(..., metavar="CHECKPOINT", help="A run's checkpoint (runs/<run_id>/checkpoints/best.ckpt); "
                                      "the model is rebuilt from that run's config_resolved.yaml.", **_EXISTING_FILE),
    data: Path = typer.Option(..., "--data", metavar="DIR", help="Data folder in the ADC layout (light curves, star info, "
                              "wavelengths).", **_EXISTING_DIR),
    out: Path = typer.Option(Path("submission.csv"), "--out", metavar="FILE", help="Where to write the Kaggle-format submission."),
) -> None:
    """Predict mu and sigma for every planet in a data folder; write a Kaggle submission CSV."""
    from spectramind.predict import predict_folder

    typer.echo(str(predict_folder(checkpoint, data, out)))


@data_app.command("simulate")
def data_simulate(
    out: Path = typer.Option(Path("data/simulated"), "--out", metavar="DIR", help="Output folder (must not exist or be empty)."),
    data_format: DataFormat = typer.Option(DataFormat.light_curves, "--format",
                                           help="light-curves: the fast layout models train on; adc2025-raw / "
                                                "adc2024-raw: the competition's raw detector frames and calibration "
                                                "files (then `spectramind data calibrate`)."),
    n_planets: Optional[int] = typer.Option(None, "--n-planets", min=1, metavar="N", show_default=False,
                                            help="Number of planets [default: 800; raw formats 40]."),
    n_time: Optional[int] = typer.Option(None, "--n-time", min=16, metavar="N", show_default=False,
                                         help="Time samples per light curve (light-curves only) [default: 187, "
                                              "the competition's 144 s bins over a 7.5 h visit]."),
    population: PopulationName = typer.Option(PopulationName.adc2024, "--population",
                                              help="Planet population: adc2024 (spectra like the real ADC 2024 "
                                                   "labels) or legacy (the deeper spectra of format 2)."),
    airs_frames: Optional[int] = typer.Option(None, "--airs-frames", min=4, metavar="F", show_default=False,
                                              help="AIRS-CH0 reads per visit, even (raw formats; FGS1 gets 12x) "
                                                   "[default: the real 11250]."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="INT", show_default=False,
                                       help="Random seed; the same settings give byte-identical files [default: 20250]."),
) -> None:
    """Generate a simulated data set: Ariel-like light curves, or the competition's raw frames.

    The raw formats render the same planets' light curves through a detector model (trace, PSF,
    dark current, read noise, dead and hot pixels, flat field, non-linearity, ADC, saturation)
    into the competition's files, plus test_solution.csv and simulation.json (docs/real-data.md).
    """
    if data_format is DataFormat.light_curves:
        from spectramind.data.sim.writer import simulate_dataset
        from spectramind.data.sim.config import SimulationConfig

        if airs_frames is not None:
            _fail("--airs-frames applies to the raw formats (--format adc2025-raw or adc2024-raw)")
        chosen = {"n_planets": n_planets, "n_time": n_time, "seed": seed, "population": population.value}
        config = SimulationConfig(**{k: v for k, v in chosen.items() if v is not None})
        typer.echo(str(simulate_dataset(out, config)))
        return
    import dataclasses

    from spectramind.data.raw.simulate import FORMATS, RAW_PHYSICS, RawSimulationConfig, simulate_raw_dataset

    if n_time is not None:
        _fail("--n-time applies to --format light-curves; the raw formats take --airs-frames")
    physics = dataclasses.replace(RAW_PHYSICS, population=population.value,
                                  **{k: v for k, v in (("n_planets", n_planets), ("seed", seed)) if v is not None})
    chosen = {"airs_frames": airs_frames} if airs_frames is not None else {}
    config = RawSimulationConfig(physics=physics, variant=FORMATS[data_format.value], **chosen)
    typer.echo(str(simulate_raw_dataset(out, config)))


@data_app.command("compare")
def data_compare(
    simulated: Path = typer.Argument(..., metavar="SIM_LABELS", help="Labels to check: a train.csv (or a data "
                                     "folder holding one), e.g. data/simulated/train.csv."),
    real: Optional[Path] = typer.Argument(None, metavar="REAL_LABELS", show_default=False,
                                          help="Labels to hold them against, e.g. the competition's train.csv or "
                                               "train_labels.csv [default: the real ADC 2024 labels' statistics]."),
) -> None:
    """Compare two sets of spectra: depths, feature sizes, FGS1 offsets and shapes, side by side.

    Prints a markdown table (docs/realism.md explains each statistic) and whether every depth,
    range and FGS1 - AIRS percentile lies within a factor 1.5 of the reference.
    """
    from spectramind.data.sim.realism import compare_label_files

    typer.echo(compare_label_files(simulated, real))


def _planet_list(text: Optional[str]) -> Optional[List[int]]:
    if not text:
        return None
    try:
        return [int(word) for word in text.split(",") if word.strip()]
    except ValueError:
        _fail(f"--planets {text!r}: expected planet ids separated by commas, e.g. 34983,1873185")


@data_app.command("calibrate")
def data_calibrate(
    raw_dir: Path = typer.Argument(..., metavar="RAW_DIR", help="A folder in the competition's layout (ADC 2025 or "
                                   "2024), downloaded or simulated.", **_EXISTING_DIR),
    out_dir: Path = typer.Argument(..., metavar="OUT_DIR", help="Calibrated folder to write or resume (the light-curve "
                                   "layout: train with data=adc data.data_dir=OUT_DIR)."),
    split: Split = typer.Option(Split.train, "--split", help="Which split's planets to calibrate."),
    airs_bin: int = typer.Option(30, "--airs-bin", min=1, metavar="N", help="AIRS CDS frames summed per time bin."),
    fgs_bin: int = typer.Option(360, "--fgs-bin", min=1, metavar="N", help="FGS1 CDS frames summed per time bin."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, metavar="N", help="Planets calibrated at the same time."),
    planets: Optional[str] = typer.Option(None, "--planets", metavar="ID,...", show_default=False,
                                          help="Only these planets [default: every planet of the split]."),
    extraction_method: Extraction = typer.Option(Extraction.optimal, "--extraction",
                                                 help="Spatial extraction: optimal (profile-weighted) or box sum."),
    backend: Backend = typer.Option(Backend.loky, "--backend", help="joblib backend for --workers: loky (this "
                                    "machine) or ray (a Ray cluster: RAY_ADDRESS, else a local one)."),
) -> None:
    """Calibrate raw frames into light curves: ADC, masks, linearity, dark, CDS, flat, extraction, binning.

    Resumable: planets already in OUT_DIR are skipped. A planet that fails is recorded in
    OUT_DIR/calibration.json and the others go on; the command then lists the failures and exits 1.
    """
    from spectramind.data.raw.calibrate import calibrate_folder
    from spectramind.data.raw.reduction import CalibrationParams

    chosen = _planet_list(planets)
    params = CalibrationParams(airs_bin=airs_bin, fgs_bin=fgs_bin, extraction=extraction_method.value)

    def report(result: dict, count: int, total: int) -> None:
        what = (f"completed ({result['visits']} visit{'s' if result['visits'] > 1 else ''}, {result['seconds']:.1f} s)"
                if result["status"] == "completed" else f"FAILED: {result['error']}")
        typer.echo(f"[calibrate] {count}/{total} planet {result['planet_id']}: {what}", err=True)

    manifest = calibrate_folder(raw_dir, out_dir, split=split.value, params=params, workers=workers,
                                planets=chosen, backend=backend.value, progress=report)
    statuses = manifest["planets"]
    selected = [str(p) for p in chosen] if chosen else list(statuses)
    failed = [(pid, statuses[pid]["error"]) for pid in selected if statuses[pid]["status"] == "failed"]
    completed = manifest["counts"]["completed"]
    typer.echo(f"{out_dir}: {completed} planet(s) calibrated, {len(failed)} failed")
    for pid, error in failed:
        typer.echo(f"error: planet {pid}: {error}", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command("score")
def score_command(
    solution: Path = typer.Argument(..., metavar="SOLUTION", help="Solution CSV: planet_id, wl_1..wl_283.", **_EXISTING_FILE),
    submission: Path = typer.Argument(..., metavar="SUBMISSION", help="Submission CSV: planet_id, wl_1..wl_283, "
                                      "sigma_1..sigma_283.", **_EXISTING_FILE),
    train_labels: Path = typer.Option(..., "--train-labels", metavar="FILE", help="Training labels CSV; its mean and "
                                      "standard deviation are the naive baseline of the score.", **_EXISTING_FILE),
    variant: ScoreVariant = typer.Option(ScoreVariant.adc2025, "--variant", help="Score definition: adc2025 or adc2024."),
    as_json: bool = typer.Option(False, "--json", help="Print the score and its unclipped value as JSON."),
) -> None:
    """Score a Kaggle-format submission with the Ariel Gaussian log-likelihood score (0 = naive baseline, 1 = perfect)."""
    from spectramind.metrics.submission import score_submission_files

    result = score_submission_files(solution, submission, train_labels, variant=variant.value)
    typer.echo(json.dumps(result) if as_json else f"{result['score']:.6f}")


def _usage_error_line(exc: BaseException) -> str:
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def main(argv: Optional[List[str]] = None) -> None:
    """Console-script entry point: usage and expected errors become one line and exit status 2."""
    skip_final_collection()
    command = typer.main.get_command(app)
    try:
        status = command.main(args=argv, standalone_mode=False)
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: show its help, as `--help` would
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        typer.echo(f"error: {_usage_error_line(exc)}", err=True)
        sys.exit(USAGE_ERROR_STATUS)
    except _ClickException as exc:
        typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(USAGE_ERROR_STATUS)
    except SpectramindError as exc:
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
        sys.exit(USAGE_ERROR_STATUS)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(130)
    sys.exit(status or 0)


if __name__ == "__main__":
    main()
