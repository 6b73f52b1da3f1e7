"""The ``spectramind`` command line (Typer): ablation studies, training, prediction, data, scoring.

One module per concern: ``app`` (the root app, :func:`main`, one-line errors and exit statuses),
``ablate``, ``run`` (train, predict, score) and ``data`` (the commands), ``hydra_bridge`` (the
Hydra argv and the in-process call of the task function) and ``options`` (parameter pieces the
commands share). Only :func:`main` is exported here: it is the console script
(``spectramind = "spectramind.cli:main"`` in pyproject.toml).
"""

from spectramind.cli.app import main

__all__ = ["main"]
