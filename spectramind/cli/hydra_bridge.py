"""The command line's one way into Hydra: compose the argv of ``python -m spectramind.train``,
then call that task function in this process.

``spectramind ablate run|resume`` and ``spectramind train`` are that argv (plus checks Hydra
would make late or confusingly), so everything a Hydra user can override works here too, and a
sweep's outcome stays in this process for the exit status. Errors are handled by
:func:`spectramind.train.run_main`, the same function ``python -m spectramind.train`` uses; it
lives in train.py because the command line imports the training entry point and not the reverse
(no import cycle, and no Typer in a training process).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spectramind.cli.options import fail

_SEARCHPATH = "hydra.searchpath="


def run_hydra(argv: list[str]) -> int:
    """Call the Hydra task function with ``argv``; return the sweep's exit status (0 or 1).

    An error the user can fix leaves as :class:`spectramind.errors.ConfigurationError` (one line);
    ``HYDRA_FULL_ERROR`` is set while Hydra runs whatever the user's environment says, since the
    command line promises one-line errors.
    """
    from spectramind import train

    with _as_the_training_process(argv):
        return train.run_main()


@contextmanager
def _as_the_training_process(argv: list[str]) -> Iterator[None]:
    """While open, ``sys.argv`` is the training's (Hydra parses it) and ``__main__`` claims to be
    ``spectramind.train``: Lightning's DDP launcher starts the other ranks as ``python -m
    <__main__'s module> <argv[1:]>``, which must be the training, not this command line (which
    would not understand the overrides). Both are restored after."""
    import __main__

    saved_argv, saved_spec = sys.argv, getattr(__main__, "__spec__", None)
    sys.argv = ["spectramind.train", *argv]
    __main__.__spec__ = importlib.util.find_spec("spectramind.train")
    try:
        yield
    finally:
        sys.argv = saved_argv
        __main__.__spec__ = saved_spec


def check_overrides(overrides: list[str]) -> None:
    """Every word after the study is a Hydra override ``key=value`` (or ``~key``): a stray word
    would otherwise reach Hydra as a confusing parse error."""
    for word in overrides:
        if "=" not in word and not word.startswith("~"):
            fail(
                f"{word!r} is not an override (expected key=value, +key=value or ~key; a study name "
                f"may only come first)"
            )


def merge_searchpath(overrides: list[str], config_dir: Path | None) -> tuple[list[Path], list[str]]:
    """The user config directories (``--config-dir`` and the ``file://`` entries of a
    ``hydra.searchpath=[...]`` override) and the overrides with one ``hydra.searchpath`` holding
    them all (Hydra takes one value per key; the sweep's multirun.yaml keeps it for resume)."""
    searched = [o for o in overrides if o.startswith(_SEARCHPATH)]
    entries: list[str] = []
    for override in searched:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        value = OverridesParser.create().parse_override(override).value()
        entries += [str(v) for v in (value if isinstance(value, list) else [value])]
    if config_dir is not None:
        entries.append(f"file://{config_dir.resolve()}")
    rest = [o for o in overrides if not o.startswith(_SEARCHPATH)]
    if entries:
        rest.append(f"{_SEARCHPATH}[{','.join(entries)}]")
    return [Path(e[len("file://") :]) for e in entries if e.startswith("file://")], rest


def launcher_overrides(jobs: int) -> list[str]:
    """``--jobs N``: Hydra's joblib launcher with N workers (a dependency; checked here so that a
    broken install is named before the output folder is created)."""
    if jobs <= 1:
        return []
    from spectramind.errors import PLUGIN_INSTALL

    if importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher") is None:
        fail(f"--jobs {jobs} needs Hydra's joblib launcher: pip install {PLUGIN_INSTALL['hydra/launcher/joblib']}")
    return ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}"]
