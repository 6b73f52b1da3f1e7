"""``spectramind ablate``: run, resume, inspect and report ablation studies.

``run`` and ``resume`` compose a Hydra multirun through the ablation sweeper
(:mod:`spectramind.cli.hydra_bridge`); ``status``, ``leaderboard`` and ``export`` only read a
sweep directory back from disk, so they work on a finished, partial or still running sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from spectramind.cli.hydra_bridge import check_overrides, launcher_overrides, merge_searchpath, run_hydra
from spectramind.cli.options import CONFIG_DIR_HELP, EXISTING_DIR, fail

ablate_app = typer.Typer(
    help="Run, resume, inspect and report ablation studies (a sweep directory holds one study's runs).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_SWEEP_DIR_HELP = "Sweep directory (the one holding sweep.json, e.g. multirun/<date>/<time>)."

# The leaderboard is built by a Hydra callback (conf/config.yaml: hydra.callbacks.leaderboard).
_LEADERBOARD_SWITCH = "++hydra.callbacks.leaderboard.enabled="


def study_names(config_dirs: Sequence[Path] = ()) -> list[str]:
    """The studies shipped in conf/ablation/ and those in DIR/ablation/ of each user config
    directory (``--config-dir DIR``, ``hydra.searchpath=[file://DIR]``): file names without .yaml."""
    from importlib.resources import files

    folders = [files("spectramind.conf").joinpath("ablation"), *(Path(d) / "ablation" for d in config_dirs)]
    return sorted(
        {p.name[:-5] for folder in folders if folder.is_dir() for p in folder.iterdir() if p.name.endswith(".yaml")}
    )


def _complete_study(ctx: typer.Context, incomplete: str) -> list[str]:
    config_dir = ctx.params.get("config_dir")
    return [name for name in study_names([config_dir] if config_dir else []) if name.startswith(incomplete)]


def split_study(args: list[str]) -> tuple[str | None, list[str]]:
    """``[STUDY] [OVERRIDES...]``: a first word without ``=`` (and no ``+``/``~`` prefix) names a
    study in conf/ablation/; no arguments at all means the ``default`` study."""
    if not args:
        return "default", []
    if "=" not in args[0] and not args[0].startswith(("+", "~")):
        return args[0], args[1:]
    return None, args


# ``ablate run``'s arguments, declared apart to keep the command's signature readable
_STUDY_ARGUMENT = typer.Argument(
    None,
    metavar="STUDY",
    show_default=False,
    autocompletion=_complete_study,
    help="A study file in conf/ablation/ (or DIR/ablation/ of --config-dir), without .yaml "
    "[default: `default` when no OVERRIDES are given].",
)
_OVERRIDES_ARGUMENT = typer.Argument(
    None,
    metavar="OVERRIDES",
    show_default=False,
    help="Hydra overrides. One with comma-separated values is a factor: `model=mlp,cnn1d "
    "optimizer.lr=0.001,0.01` sweeps their 2x2 grid; one value (`training.epochs=10`) applies "
    "to every run. With a study, they add factors to it or override its settings.",
)
_ALLOW_FAILED_RUNS = typer.Option(
    False,
    "--allow-failed-runs",
    help="Exit 0 even when runs failed or diverged (sweep.json and the leaderboard "
    "report them); usage and configuration errors still exit 2.",
)


@ablate_app.command("run")
def ablate_run(
    study: str | None = _STUDY_ARGUMENT,
    overrides: list[str] | None = _OVERRIDES_ARGUMENT,
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Print the plan (design, every run and its overrides, runs already completed) and train nothing.",
    ),
    sweep_dir: Path | None = typer.Option(
        None,
        "--sweep-dir",
        metavar="DIR",
        show_default=False,
        help="Sweep directory [default: multirun/<date>/<time>].",
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        "-j",
        min=1,
        metavar="N",
        help="Runs trained at the same time on this machine (Hydra's joblib launcher) when N > 1.",
    ),
    config_dir: Path | None = typer.Option(
        None, "--config-dir", metavar="DIR", show_default=False, help=CONFIG_DIR_HELP, **EXISTING_DIR
    ),
    leaderboard: bool = typer.Option(
        True,
        "--leaderboard/--no-leaderboard",
        help="Build the leaderboard when the sweep ends (else: `spectramind ablate leaderboard DIR`).",
    ),
    allow_failed_runs: bool = _ALLOW_FAILED_RUNS,
) -> None:
    """Run an ablation study: a Hydra multirun through the ablation sweeper, then the leaderboard.

    Equivalent to `python -m spectramind.train --multirun ablation=STUDY OVERRIDES...`. The sweep
    directory receives sweep.json, runs/<run_id>/ and leaderboard.md/.html/.csv/.json. Exit status:
    0 when every run completed, 1 when some failed or diverged, 2 for a usage or configuration error.
    """
    argv = _study_argv([study, *(overrides or [])] if study is not None else [], config_dir)
    if dry_run:
        argv.append("hydra.sweeper.dry_run=true")
    if dry_run or not leaderboard:
        argv.append(f"{_LEADERBOARD_SWITCH}false")
    if sweep_dir is not None:
        argv.append(f"hydra.sweep.dir={sweep_dir}")
    argv += launcher_overrides(jobs)
    status = run_hydra(argv)
    raise typer.Exit(0 if allow_failed_runs else status)


def _study_argv(args: list[str], config_dir: Path | None) -> list[str]:
    """``--multirun ablation=STUDY OVERRIDES...`` for ``ablate run``'s words, with an unknown
    study named before Hydra starts (Hydra would only say that a config-group option is missing)."""
    study, overrides = split_study(args)
    check_overrides(overrides)
    config_dirs, overrides = merge_searchpath(overrides, config_dir)
    argv = ["--multirun"]
    if study is not None:
        known = study_names(config_dirs)
        if study not in known:
            fail(f"unknown study {study!r}; available: {', '.join(known)} (an override needs key=value)")
        argv.append(f"ablation={study}")
    return argv + overrides


@ablate_app.command("resume")
def ablate_resume(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP, **EXISTING_DIR),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        metavar="N",
        show_default=False,
        help="Runs trained at the same time (joblib launcher) [default: as the sweep was started].",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would still run and train nothing."),
) -> None:
    """Continue a sweep with its original study and overrides.

    Completed runs are skipped (same run id and config hash), failed ones are retried and
    interrupted ones resume from their last checkpoint; the leaderboard is rebuilt at the end.
    """
    argv = [
        *_saved_overrides(sweep_dir, replace_launcher=jobs is not None),
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.sweeper.resume=true",
    ]
    if dry_run:
        argv += ["hydra.sweeper.dry_run=true", f"{_LEADERBOARD_SWITCH}false"]
    if jobs is not None:
        argv += launcher_overrides(jobs)
    raise typer.Exit(run_hydra(argv))


def _saved_overrides(sweep_dir: Path, replace_launcher: bool) -> list[str]:
    """``--multirun`` and the overrides the sweep was started with (Hydra's multirun.yaml in the
    sweep directory), less those that ``resume`` sets again: the sweep directory, resume, dry run,
    the leaderboard switch and, for a new ``--jobs``, the launcher."""
    from omegaconf import OmegaConf

    from spectramind.sweep_layout import HYDRA_MULTIRUN_FILE

    saved = sweep_dir / HYDRA_MULTIRUN_FILE
    if not saved.is_file():
        fail(f"{saved} not found: {sweep_dir} is not a sweep directory started by spectramind")
    config = OmegaConf.load(saved)
    replaced = (
        "hydra.sweep.dir=",
        "hydra.sweeper.resume=",
        "hydra.sweeper.dry_run=",
        "hydra.callbacks.leaderboard.enabled=",
    )
    if replace_launcher:
        replaced += ("hydra/launcher=", "hydra.launcher.n_jobs=")
    hydra = [o for o in config.hydra.overrides.hydra if not o.startswith(replaced)]
    return ["--multirun", *config.hydra.overrides.task, *hydra]


@ablate_app.command("status")
def ablate_status(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP, **EXISTING_DIR),
) -> None:
    """Runs by status, progress and an ETA for a running or finished sweep (read from sweep.json)."""
    from spectramind.ablation.status import sweep_status

    typer.echo(sweep_status(sweep_dir))


@ablate_app.command("leaderboard")
def ablate_leaderboard(
    sweep_dir: Path = typer.Argument(
        ..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP + " Finished, partial or still running.", **EXISTING_DIR
    ),
    metric: str = typer.Option(
        "adc2025",
        "--metric",
        metavar="NAME",
        help="Metric to rank by (a key of the runs' metrics.json, e.g. adc2025, gll, rmse_ppm).",
    ),
    top: int = typer.Option(
        3, "--top", min=0, metavar="N", help="Best configurations to export to ablation_results/ (0: none)."
    ),
) -> None:
    """Collate every run from disk into leaderboard.md/.html/.csv/.json (and leaderboard_runs.csv) in SWEEP_DIR."""
    from spectramind.leaderboard.build import build_leaderboard

    written = build_leaderboard(sweep_dir, primary_metric=metric, top_n=top)
    for path in written.values():
        typer.echo(str(path))


@ablate_app.command("export")
def ablate_export(
    sweep_dir: Path = typer.Argument(..., metavar="SWEEP_DIR", help=_SWEEP_DIR_HELP, **EXISTING_DIR),
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
