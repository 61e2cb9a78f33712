"""``python -m kg`` runs the ``dcpa`` command line."""

from .cli import main

main()
