"""The root commands about one model: ``train`` (through :mod:`spectramind.cli.hydra_bridge`),
``predict`` from a run's checkpoint and ``score`` a submission.

They are plain functions; :mod:`spectramind.cli.app` registers them on the root app, which
imports this module (the other way round would be an import cycle).
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from spectramind.cli.hydra_bridge import check_overrides, merge_searchpath, run_hydra
from spectramind.cli.options import CONFIG_DIR_HELP, EXISTING_DIR, EXISTING_FILE


class ScoreVariant(str, Enum):
    """The two official versions of the Ariel Gaussian log-likelihood score."""

    adc2025 = "adc2025"
    adc2024 = "adc2024"


def train_command(
    overrides: list[str] | None = typer.Argument(
        None,
        metavar="OVERRIDES",
        show_default=False,
        help="Hydra overrides, e.g. `model=mlp loss=mse training.epochs=5`.",
    ),
    config_dir: Path | None = typer.Option(
        None, "--config-dir", metavar="DIR", show_default=False, help=CONFIG_DIR_HELP, **EXISTING_DIR
    ),
) -> None:
    """Train and test one model (same as `python -m spectramind.train [OVERRIDES]...`).

    The run directory (default outputs/<date>/<time>, set with hydra.run.dir=DIR) receives
    config_resolved.yaml, run.json, events.jsonl, metrics.json, predictions.parquet,
    submission.csv and checkpoints/{best,last}.ckpt.
    """
    overrides = list(overrides or [])
    check_overrides(overrides)
    raise typer.Exit(run_hydra(merge_searchpath(overrides, config_dir)[1]))


def predict_command(
    checkpoint: Path = typer.Argument(
        ...,
        metavar="CHECKPOINT",
        help="A run's checkpoint (runs/<run_id>/checkpoints/best.ckpt); "
        "the model is rebuilt from that run's config_resolved.yaml.",
        **EXISTING_FILE,
    ),
    data: Path = typer.Option(
        ...,
        "--data",
        metavar="DIR",
        help="Data folder in the ADC layout (light curves, star info, wavelengths).",
        **EXISTING_DIR,
    ),
    out: Path = typer.Option(
        Path("submission.csv"), "--out", metavar="FILE", help="Where to write the Kaggle-format submission."
    ),
) -> None:
    """Predict mu and sigma for every planet in a data folder; write a Kaggle submission CSV."""
    from spectramind.predict import predict_folder

    typer.echo(str(predict_folder(checkpoint, data, out)))


def score_command(
    solution: Path = typer.Argument(
        ..., metavar="SOLUTION", help="Solution CSV: planet_id, wl_1..wl_283.", **EXISTING_FILE
    ),
    submission: Path = typer.Argument(
        ..., metavar="SUBMISSION", help="Submission CSV: planet_id, wl_1..wl_283, sigma_1..sigma_283.", **EXISTING_FILE
    ),
    train_labels: Path = typer.Option(
        ...,
        "--train-labels",
        metavar="FILE",
        help="Training labels CSV; its mean and standard deviation are the naive baseline of the score.",
        **EXISTING_FILE,
    ),
    variant: ScoreVariant = typer.Option(
        ScoreVariant.adc2025, "--variant", help="Score definition: adc2025 or adc2024."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the score and its unclipped value as JSON."),
) -> None:
    """Score a Kaggle-format submission with the Ariel Gaussian log-likelihood score.

    0 is the naive baseline, 1 a perfect prediction."""
    from spectramind.metrics.submission import score_submission_files

    result = score_submission_files(solution, submission, train_labels, variant=variant.value)
    typer.echo(json.dumps(result) if as_json else f"{result['score']:.6f}")


# (name, function) in the order `spectramind --help` lists them.
COMMANDS = (("train", train_command), ("predict", predict_command), ("score", score_command))
