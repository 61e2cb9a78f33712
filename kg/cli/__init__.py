"""The ``dcpa`` command line: a thin shell over the ``kg`` library.

Exit codes: 0 success, 1 invalid data, 2 usage or runtime error.
Data goes to stdout; messages and progress bars to stderr.
"""

from __future__ import annotations

import importlib

from ._app import app, main

# Each module registers its commands on ``app`` when imported.
_COMMAND_MODULES = ("ontology", "serve", "data", "viz", "answers", "imports")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")

__all__ = ["app", "main"]
