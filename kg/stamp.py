"""Which build a remote store holds: the build's fingerprint (``kg.build.fingerprint``: same fingerprint,
same data), in a graph of its own outside the project's graphs (like the write lease's), so that exports
and the data stay what the build made.

Why: several services over one remote store keep what changes only with a build (the area search index,
``kg.search``) per process. An embedded store has a version directory per build to key it on; a remote
store is emptied with its own tools and built again behind the services' backs, and this stamp is what
they key it on instead. A remote build drops the stamp first and writes it last, so a store being built,
or whose build failed, has none.
"""

from __future__ import annotations

import pyoxigraph as ox

from .contract import StoreAPI

GRAPH_BUILD = "https://w3id.org/dcpa/build"
_FINGERPRINT = "https://w3id.org/dcpa/build#fingerprint"


def write(store: StoreAPI, fingerprint: str) -> None:
    """Say that ``store`` holds the whole of the build ``fingerprint``."""
    line = f"<{GRAPH_BUILD}> <{_FINGERPRINT}> {ox.Literal(fingerprint)} .\n"
    store.replace_graph(GRAPH_BUILD, line.encode("utf-8"))


def clear(store: StoreAPI) -> None:
    """Say nothing any more (a build starts, or failed)."""
    store.update(f"DROP SILENT GRAPH <{GRAPH_BUILD}>")


def read(store: StoreAPI) -> str | None:
    """The fingerprint of the build ``store`` holds whole, or None (none recorded, or a build under way)."""
    rows = store.select(f"SELECT ?f WHERE {{ GRAPH <{GRAPH_BUILD}> {{ <{GRAPH_BUILD}> <{_FINGERPRINT}> ?f }} }}")
    return str(rows[0]["f"]) if rows else None


__all__ = ["GRAPH_BUILD", "clear", "read", "write"]
