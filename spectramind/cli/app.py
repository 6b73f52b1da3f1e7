"""The root ``spectramind`` app and :func:`main`: usage errors and expected errors as one line.

Every mistake a user can make (unknown command or option, missing argument, bad value, missing
path, unknown study, bad override, invalid configuration) ends with one line ``error: ...`` on
stderr and exit status 2, never a traceback or a usage box: :func:`main` runs Click in
non-standalone mode to catch its usage errors, and Hydra's errors reach it as one-line
exceptions (:mod:`spectramind.cli.hydra_bridge`). A sweep that finished with failed or diverged
runs exits with status 1. Heavy imports (torch, pandas, numpy) happen inside the commands, so
``--help`` is fast.
"""

from __future__ import annotations

import sys

import typer

from spectramind.cli.ablate import ablate_app
from spectramind.cli.data import data_app
from spectramind.cli.kaggle import kaggle_app
from spectramind.cli.run import COMMANDS as ROOT_COMMANDS
from spectramind.errors import SpectramindError
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
app.add_typer(ablate_app, name="ablate")
app.add_typer(data_app, name="data")
app.add_typer(kaggle_app, name="kaggle")
for _name, _command in ROOT_COMMANDS:
    app.command(_name)(_command)


def _usage_error_line(exc: BaseException) -> str:
    """Click's usage error on one line, pointing at the help of the command it concerns (Click
    would print the usage box instead)."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def main(argv: list[str] | None = None) -> None:
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
