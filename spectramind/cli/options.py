"""Pieces of Typer parameters that several commands share, and the way a command rejects input.

They live apart from ``app`` because the command modules need them and ``app`` imports the
command modules (to assemble the tree).
"""

from __future__ import annotations

from typing import NoReturn

from spectramind.errors import ConfigurationError

EXISTING_DIR = dict(exists=True, file_okay=False, dir_okay=True)
EXISTING_FILE = dict(exists=True, file_okay=True, dir_okay=False)

CONFIG_DIR_HELP = (
    "A config directory of your own, searched after spectramind's: DIR/ablation/NAME.yaml is "
    "the study NAME, DIR/experiment/NAME.yaml `experiment=NAME`, any DIR/GROUP/NAME.yaml "
    "`GROUP=NAME` (Hydra's hydra.searchpath)."
)


def fail(message: str) -> NoReturn:
    """Reject a value the parameter types cannot check: raised as an expected error, so that
    :func:`spectramind.cli.app.main` prints it as one line ``error: ...`` with exit status 2."""
    raise ConfigurationError(message)
