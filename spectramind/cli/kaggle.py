"""``spectramind kaggle``: what a Kaggle notebook without internet needs (docs/kaggle.md)."""

from __future__ import annotations

from pathlib import Path

import typer

kaggle_app = typer.Typer(
    help="Kaggle: the wheels for an offline install in a notebook without internet.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@kaggle_app.command("wheels")
def kaggle_wheels(
    out_dir: Path = typer.Argument(..., metavar="DIR", help="Folder to write the wheels to (created)."),
) -> None:
    """Build spectramind's wheel and those of every package it needs that Kaggle's image lacks,
    at the versions installed here. Upload DIR as a Kaggle dataset, then in the notebook:
    pip install --no-index --find-links /kaggle/input/DATASET spectramind"""
    from spectramind.offline_wheels import build_wheels

    for wheel in build_wheels(out_dir):
        typer.echo(wheel.name)
