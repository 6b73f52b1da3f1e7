"""``python -m spectramind`` runs the command line."""

from spectramind.cli import main

main()
