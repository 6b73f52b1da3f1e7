"""``python -m spectramind.cli`` runs the command line, as ``python -m spectramind`` does."""

from spectramind.cli import main

main()
