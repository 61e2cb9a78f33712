"""``kg``: build, validate, store and query the DCPA knowledge graph.

The public API is listed in ``__all__``; everything else is private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
    ConfigurationError,
    DataError,
    DcpaError,
    Issue,
    NotFound,
    QueryError,
    QueryRefused,
    QueryTimeout,
    StoreError,
    ValidationFailed,
)
from .settings import Settings, get_settings
from .store import Store

__all__ = [
    "__version__",
    "ConfigurationError",
    "DataError",
    "DcpaError",
    "Issue",
    "NotFound",
    "QueryError",
    "QueryRefused",
    "QueryTimeout",
    "Settings",
    "StoreError",
    "Store",
    "ValidationFailed",
    "get_settings",
]
