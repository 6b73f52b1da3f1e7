"""The ``spectramind`` command line (Typer): ablation studies, training, prediction, data, scoring.

``ablate run`` and ``train`` build a Hydra argv and call the same task function as
``python -m spectramind.train`` in this process, so everything a Hydra user can override works
here too. Expected errors print one line (``error: ...``) and exit with status 2; no traceback.
Heavy imports (torch, pandas) happen inside the commands, so ``--help`` is fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from spectramind.errors import SpectramindError

app = typer.Typer(
    name="spectramind",
    help="Train and ablate models that predict exoplanet transmission spectra (mu and sigma at 283 wavelengths).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
ablate_app = typer.Typer(help="Run, resume, inspect and report ablation studies.", no_args_is_help=True)
data_app = typer.Typer(help="Simulated Ariel-like data sets.", no_args_is_help=True)
app.add_typer(ablate_app, name="ablate")
app.add_typer(data_app, name="data")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _run_hydra(argv: List[str]) -> int:
    """Call the Hydra task function with ``argv``; return the sweep's exit status."""
    from spectramind import train
    from spectramind.ablation import outcome

    saved = sys.argv
    sys.argv = ["spectramind.train", *argv]
    try:
        train.main()
    finally:
        sys.argv = saved
    return outcome.exit_status()


def _split_study(args: List[str]) -> tuple[Optional[str], List[str]]:
    """``[STUDY] [OVERRIDES...]``: a first word without ``=`` names a study in conf/ablation/."""
    if args and "=" not in args[0] and not args[0].startswith(("+", "~")):
        return args[0], args[1:]
    return None, args


def _study_names() -> List[str]:
    from importlib.resources import files

    return sorted(p.name[:-5] for p in files("spectramind.conf").joinpath("ablation").iterdir()
                  if p.name.endswith(".yaml"))


@ablate_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ablate_run(
    args: Optional[List[str]] = typer.Argument(None, help="[STUDY] then Hydra overrides, e.g. `model=mlp,cnn1d optimizer.lr=0.001,0.01`. No arguments: the `default` study."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (design, runs, already done) and train nothing."),
    sweep_dir: Optional[Path] = typer.Option(None, "--sweep-dir", help="Sweep directory (default: multirun/<date>/<time>)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Parallel runs on this machine (joblib launcher) when > 1."),
) -> None:
    """Run an ablation study: a Hydra multirun through the ablation sweeper, then the leaderboard."""
    args = list(args or [])
    study, overrides = _split_study(args)
    if not args:
        study = "default"
    argv = ["--multirun"]
    if study is not None:
        if study not in _study_names():
            _fail(f"unknown study {study!r}; available: {', '.join(_study_names())}")
        argv.append(f"ablation={study}")
    argv += overrides
    if dry_run:
        argv.append("hydra.sweeper.dry_run=true")
    if sweep_dir is not None:
        argv.append(f"hydra.sweep.dir={sweep_dir}")
    if jobs > 1:
        argv += ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}"]
    raise typer.Exit(_run_hydra(argv))


@ablate_app.command("resume")
def ablate_resume(sweep_dir: Path = typer.Argument(..., help="The sweep directory to continue.")) -> None:
    """Continue a sweep: skip completed runs, retry failed ones, resume interrupted ones from checkpoints."""
    from omegaconf import OmegaConf

    saved = sweep_dir / "multirun.yaml"
    if not saved.is_file():
        _fail(f"{saved} not found: {sweep_dir} is not a sweep directory started by spectramind")
    config = OmegaConf.load(saved)
    task = [o for o in config.hydra.overrides.task]
    hydra = [o for o in config.hydra.overrides.hydra
             if not o.startswith(("hydra.sweep.dir=", "hydra.sweeper.resume=", "hydra.sweeper.dry_run="))]
    argv = ["--multirun", *task, *hydra, f"hydra.sweep.dir={sweep_dir}", "hydra.sweeper.resume=true"]
    raise typer.Exit(_run_hydra(argv))


@ablate_app.command("status")
def ablate_status(sweep_dir: Path = typer.Argument(..., help="The sweep directory.")) -> None:
    """Runs by status, progress and an ETA for a running or finished sweep."""
    from spectramind.ablation.status import sweep_status

    typer.echo(sweep_status(sweep_dir))


@ablate_app.command("leaderboard")
def ablate_leaderboard(
    sweep_dir: Path = typer.Argument(..., help="The sweep directory (finished, partial or still running)."),
    metric: str = typer.Option("adc2025", "--metric", help="Primary metric to rank by."),
    top: int = typer.Option(3, "--top", min=0, help="Configurations to export to ablation_results/."),
) -> None:
    """Collate every run from disk into leaderboard.md/.html/.csv/.json."""
    from spectramind.leaderboard.build import build_leaderboard

    if not sweep_dir.is_dir():
        _fail(f"sweep directory {sweep_dir} does not exist")
    written = build_leaderboard(sweep_dir, primary_metric=metric, top_n=top)
    for path in written.values():
        typer.echo(str(path))


@ablate_app.command("export")
def ablate_export(
    sweep_dir: Path = typer.Argument(..., help="The sweep directory."),
    top: int = typer.Option(3, "--top", min=1, help="Number of best configurations to export."),
    metric: str = typer.Option("adc2025", "--metric", help="Primary metric to rank by."),
) -> None:
    """Export the top-N configurations (config, metrics, submission, checkpoint pointer) to ablation_results/."""
    from spectramind.leaderboard.collate import collate_runs
    from spectramind.leaderboard.export import export_top
    from spectramind.leaderboard.stats import compute_stats

    if not sweep_dir.is_dir():
        _fail(f"sweep directory {sweep_dir} does not exist")
    table = collate_runs(sweep_dir)
    typer.echo(str(export_top(table, compute_stats(table, primary_metric=metric), sweep_dir, top)))


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_command(overrides: Optional[List[str]] = typer.Argument(None, help="Hydra overrides, e.g. `model=mlp trainer.max_epochs=5`.")) -> None:
    """Train one model (same as `python -m spectramind.train [OVERRIDES]`)."""
    raise typer.Exit(_run_hydra(list(overrides or [])))


@app.command("predict")
def predict_command(
    checkpoint: Path = typer.Argument(..., help="A run's checkpoint (runs/<id>/checkpoints/best.ckpt)."),
    data: Path = typer.Option(..., "--data", help="Data folder in the ADC layout (light curves + star info)."),
    out: Path = typer.Option(Path("submission.csv"), "--out", help="Where to write the Kaggle-format submission."),
) -> None:
    """Predict mu and sigma for every planet in a data folder with a trained run's checkpoint."""
    from spectramind.predict import predict_folder

    typer.echo(str(predict_folder(checkpoint, data, out)))


@data_app.command("simulate")
def data_simulate(
    out: Path = typer.Option(Path("data/simulated"), "--out", help="Output folder (must not exist or be empty)."),
    n_planets: Optional[int] = typer.Option(None, "--n-planets", min=1, help="Number of planets [default: the simulator's, 800]."),
    n_time: Optional[int] = typer.Option(None, "--n-time", min=16, help="Time samples per light curve [default: 160]."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed; the same seed gives the same files."),
) -> None:
    """Generate an Ariel-like simulated data set in the ADC 2025 layout."""
    from spectramind.data.simulate import SimulationConfig, simulate_dataset

    chosen = {"n_planets": n_planets, "n_time": n_time, "seed": seed}
    config = SimulationConfig(**{k: v for k, v in chosen.items() if v is not None})
    typer.echo(str(simulate_dataset(out, config)))


@app.command("score")
def score_command(
    solution: Path = typer.Argument(..., help="Solution CSV: planet_id, wl_1..wl_283."),
    submission: Path = typer.Argument(..., help="Submission CSV: planet_id, wl_1..wl_283, sigma_1..sigma_283."),
    train_labels: Path = typer.Option(..., "--train-labels", help="Training labels CSV (naive baseline mean/std)."),
    variant: str = typer.Option("adc2025", "--variant", help="adc2025 or adc2024."),
    as_json: bool = typer.Option(False, "--json", help="Print score and unclipped value as JSON."),
) -> None:
    """Score a Kaggle-format submission with the Ariel Gaussian log-likelihood metric."""
    from spectramind.metrics.submission import score_submission_files

    result = score_submission_files(solution, submission, train_labels, variant=variant)
    typer.echo(json.dumps(result) if as_json else f"{result['score']:.6f}")


def main() -> None:
    """Console-script entry point: expected errors become one line and exit status 2."""
    try:
        app()
    except SpectramindError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
