"""``python -m auralink`` runs the command line."""

from auralink.cli import main

main()
