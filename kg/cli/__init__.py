"""The ``dcpa`` command line: a thin shell over the ``kg`` library.

Exit codes: 0 success, 1 invalid data, 2 usage or runtime error.
Data goes to stdout; messages and progress bars to stderr.
"""

from __future__ import annotations

# Each module registers its commands on ``app`` when imported.
from . import answers, data, imports, ontology, serve, viz  # noqa: F401
from ._app import app, main

__all__ = ["app", "main"]
