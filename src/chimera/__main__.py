"""``python -m chimera`` runs the command line."""

from chimera.cli.app import main

main()
