"""The store contract: what every store the library works on must do, whatever engine holds the data.

Two stores implement it in full: ``kg.store.Store`` (Oxigraph embedded on disk or in memory) and
``kg.remote.RemoteStore`` (any SPARQL 1.1 store over the standard protocols). The library and the
service take a ``StoreAPI``, so mypy rejects a store that lacks a method (the two checks at the end of
this module), and nothing outside the two stores talks to an engine.

Errors, the same for both stores:

- ``QueryError``: the query text is wrong (syntax, a parameter the query does not project);
- ``QueryTimeout``: the store did not answer in time (remote stores);
- ``StoreError``: the store failed or refused; for a write it says that nothing was written.

Every write method is all-or-nothing: one Oxigraph transaction embedded, one update request remotely
(an SPARQL Update request is atomic on the stores this project supports: see ``docs/DEPLOYMENT.md``).
The bulk methods are the exception: they are for loading a store nobody reads yet, in parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox
import rdflib

#: What a bulk load reports as it goes: (triples written so far, triples in all or None when unknown).
Progress = Callable[[int, int | None], None]


class StoreAPI(Protocol):
    """A SPARQL dataset with named graphs; the default graph of queries is the union of the graphs."""

    #: The directory of an embedded store on disk, else None.
    path: Path | None
    #: Whether writes are refused (a read-only handle, or a remote store without an update endpoint).
    read_only: bool
    #: Counts the writes made through this handle (``kg.memo``: an answer is kept for one count).
    generation: int

    # -- reading --------------------------------------------------------
    def query(
        self,
        sparql: str,
        *,
        union: bool = True,
        bindings: dict[str, Any] | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> Any:
        """Run a query; the answer is pyoxigraph's (``QuerySolutions``, ``QueryBoolean`` or triples).
        ``bindings`` pre-bind projected variables."""
        ...

    def select(self, sparql: str, **kwargs: Any) -> list[dict[str, Any]]:
        """A SELECT's rows as dicts of plain Python values (unbound variables absent)."""
        ...

    def ask(self, sparql: str, **kwargs: Any) -> bool: ...

    def construct(self, sparql: str, **kwargs: Any) -> rdflib.Graph: ...

    def graphs(self) -> list[str]:
        """The names of the named graphs, sorted."""
        ...

    def count(self, graph: str | None = None) -> int:
        """The number of quads, of one named graph or of the whole store."""
        ...

    def quads(
        self, subject: str | None = None, predicate: str | None = None, graph: str | None = None
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern (IRIs; None matches anything), in the named graphs."""
        ...

    def triples(self, graph: str | None = None) -> Iterator[tuple[Any, Any, Any]]:
        """(s, p, o) as rdflib terms, of one graph or of all."""
        ...

    def to_rdflib(self, graph: str | None = None) -> rdflib.Graph: ...

    def dump(self, output: Path | IO[bytes], fmt: str, graph_iri: str | None = None) -> None:
        """Write the store in ``fmt`` (``kg.store.RDF_FORMATS``): quad formats keep the graphs; triple
        formats take one graph or the union."""
        ...

    # -- writing: each call lands whole or not at all -------------------
    def update(self, sparql: str) -> None:
        """Run a SPARQL Update (all its operations together)."""
        ...

    def add_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> int:
        """Add triples (a graph or N-Triples bytes) to a named graph; returns how many were given."""
        ...

    def add_graphs(self, parts: list[tuple[str, rdflib.Graph | bytes]]) -> int:
        """Add triples to several named graphs together; returns how many."""
        ...

    def replace_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> None: ...

    def remove_graph(self, graph_iri: str) -> None: ...

    # -- loading a store nobody reads yet (in parts, not atomic) ---------
    def bulk_load(
        self, source: Path | IO[bytes] | bytes, fmt: str, graph_iri: str | None = None,
        progress: Progress | None = None,
    ) -> None: ...

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None: ...

    # -- keeping ---------------------------------------------------------
    def flush(self) -> None:
        """Make what was written durable (remote: the server's business, nothing to do)."""
        ...

    def optimize(self) -> None:
        """Compact the storage after a large rewrite (remote: the server's business)."""
        ...

    def close(self) -> None: ...


if TYPE_CHECKING:  # mypy proves that both stores keep the contract in full
    from .remote import RemoteStore
    from .store import Store

    def _embedded(s: Store) -> StoreAPI:
        return s

    def _remote(s: RemoteStore) -> StoreAPI:
        return s
