"""The store contract (``kg.contract``) over any SPARQL 1.1 store, through the standard protocols only.

Queries go to the query endpoint as form POSTs (Virtuoso 7.2 never answers a query sent as a direct
POST body), with an ``Accept`` header that names both result and graph formats: the server answers a
SELECT or ASK with results and a CONSTRUCT with a graph, and the ``Content-Type`` says which, so the
query need not be parsed here. Answers come back as pyoxigraph objects, the same types as the embedded
store's, so the catalogue, the rule and the service work unchanged.

Writes go to the update endpoint, one request per write: a store that runs each update request as one
transaction (Oxigraph server; Virtuoso with its defaults, see ``docs/DEPLOYMENT.md``) makes each of them
all-or-nothing, as on the embedded store. Bulk loads are sent in batches of about ``batch_bytes``.

An answer the store cut short (Virtuoso's row cap, or its "anytime" partial answer at a timeout, both
announced in response headers) is refused with ``StoreError``, never returned as complete.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pyoxigraph as ox
import rdflib

from .contract import Progress
from .errors import QueryError, QueryTimeout, StoreError
from .inline import inline
from .namespaces import PREFIXES, sparql_prefixes
from .settings import Settings
from .store import RDF_FORMATS, ReadMethods, binding_term, graph_to_ntriples, to_rdflib

log = logging.getLogger(__name__)

#: SELECT and ASK are answered with results, CONSTRUCT and DESCRIBE with a graph: the server picks.
ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
          "application/n-triples;q=0.8, text/turtle;q=0.7, application/rdf+xml;q=0.5")
_RDF_BY_TYPE = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
_RESULTS_BY_TYPE = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
#: Response headers by which a store says that it sent part of the answer (Virtuoso: its row cap
#: ``ResultSetMaxRows``, and an "anytime" query stopped at its timeout).
_CUT_SHORT = ("x-sparql-maxrows", "x-sql-state")

#: About this much N-Triples text per update request of a bulk load (Oxigraph server took 5 MB requests
#: at the same rate per triple as 50 MB ones; Virtuoso's default request size limits sit above it).
BATCH_BYTES = 8 * 1024 * 1024

_NAMED = "?s ?p ?o ?g"


class RemoteStore(ReadMethods):
    """A SPARQL 1.1 store over HTTP: queries, updates, loads and dumps through the standard protocols."""

    path: Path | None = None

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str | None = None,
        timeout: float = 30.0,
        write_timeout: float = 600.0,
        batch_bytes: int = BATCH_BYTES,
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.read_only = update_endpoint is None
        self.generation = 0
        self.batch_bytes = batch_bytes
        self._timeout = timeout
        self._write_timeout = write_timeout
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        if not settings.sparql_endpoint:
            raise StoreError("no remote store is configured", hint="set DCPA_SPARQL_ENDPOINT")
        return cls(
            settings.sparql_endpoint,
            update_endpoint=settings.sparql_update_endpoint,
            timeout=settings.query_timeout + 5.0,
        )

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r}, update_endpoint={self.update_endpoint!r})"

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
        """Run a query remotely; the answer has the same types as ``Store.query``.

        ``union`` is the server's setting (it must make the default graph the union of the graphs:
        ``docs/DEPLOYMENT.md``); ``bindings`` are written into the text (``kg.inline``), which answers
        as the embedded store's substitution does.
        """
        text = sparql_prefixes() + inline(sparql, {k: str(binding_term(v)) for k, v in (bindings or {}).items()})
        data: list[tuple[str, str]] = [("query", text)]
        data += [("default-graph-uri", g) for g in default_graph or []]
        data += [("named-graph-uri", g) for g in named_graphs or []]
        resp = self._post(self.endpoint, data, ACCEPT, self._timeout, what="query")
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if ctype in _RDF_BY_TYPE:
                return [ox.Triple(q.subject, q.predicate, q.object)
                        for q in ox.parse(resp.content, _RDF_BY_TYPE[ctype])]
            return ox.parse_query_results(resp.content, _RESULTS_BY_TYPE.get(ctype, ox.QueryResultsFormat.JSON))
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"the remote store sent an answer that cannot be read ({ctype}): {e}") from e

    def graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(str(r["g"]) for r in rows if "g" in r)

    def count(self, graph: str | None = None) -> int:
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0].get("n", 0)) if rows else 0

    def quads(
        self, subject: str | None = None, predicate: str | None = None, graph: str | None = None
    ) -> Iterator[ox.Quad]:
        s = f"<{subject}>" if subject is not None else "?s"
        p = f"<{predicate}>" if predicate is not None else "?p"
        g = f"<{graph}>" if graph is not None else "?g"
        fixed = {k: ox.NamedNode(v) for k, v in (("s", subject), ("p", predicate), ("g", graph)) if v is not None}
        for sol in self.query(f"SELECT * WHERE {{ GRAPH {g} {{ {s} {p} ?o }} }}"):
            def term(name: str, sol: Any = sol) -> Any:
                return fixed[name] if name in fixed else sol[name]
            yield ox.Quad(term("s"), term("p"), sol["o"], term("g"))

    def triples(self, graph: str | None = None) -> Iterator[tuple[Any, Any, Any]]:
        for q in self.quads(graph=graph):
            yield to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)

    def to_rdflib(self, graph: str | None = None) -> rdflib.Graph:
        g = rdflib.Graph()
        for p, ns in PREFIXES.items():
            g.bind(p, ns)
        for t in self.triples(graph):
            g.add(t)
        return g

    def dump(self, output: Path | IO[bytes], fmt: str, graph_iri: str | None = None) -> None:
        f = RDF_FORMATS[fmt]
        target: Any = str(output) if isinstance(output, Path) else output
        pretty: dict[str, Any] = {"prefixes": PREFIXES} if f in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
        if f in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            ox.serialize(self.quads(), target, format=f, **pretty)
        else:
            triples = (ox.Triple(q.subject, q.predicate, q.object) for q in self.quads(graph=graph_iri))
            ox.serialize(triples, target, format=f, **pretty)

    # -- writing: one update request per call ---------------------------
    def update(self, sparql: str) -> None:
        if self.update_endpoint is None:
            raise StoreError(
                "the remote store is read-only here: nothing was written",
                hint="set DCPA_SPARQL_UPDATE_ENDPOINT to the store's update endpoint to allow writes",
            )
        self.generation += 1
        try:
            self._post(self.update_endpoint, [("update", sparql_prefixes() + sparql)], "*/*",
                       self._write_timeout, what="update")
        finally:
            self.generation += 1

    def add_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> int:
        return self.add_graphs([(graph_iri, data)])

    def add_graphs(self, parts: list[tuple[str, rdflib.Graph | bytes]]) -> int:
        body, n = [], 0
        for graph_iri, data in parts:
            payload = data if isinstance(data, bytes) else graph_to_ntriples(data)
            n += payload.count(b"\n")
            body.append(f"GRAPH <{graph_iri}> {{\n{payload.decode('utf-8')}\n}}")
        self.update("INSERT DATA {\n" + "\n".join(body) + "\n}")
        return n

    def replace_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> None:
        payload = data if isinstance(data, bytes) else graph_to_ntriples(data)
        self.update(f"DROP SILENT GRAPH <{graph_iri}> ;\nINSERT DATA {{ GRAPH <{graph_iri}> {{\n"
                    f"{payload.decode('utf-8')}\n}} }}")

    def remove_graph(self, graph_iri: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph_iri}>")

    def bulk_load(
        self, source: Path | IO[bytes] | bytes, fmt: str, graph_iri: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Parse here, send in update requests of about ``batch_bytes`` each (not atomic as a whole)."""
        f = RDF_FORMATS[fmt]
        kwargs: dict[str, Any] = {"format": f}
        if isinstance(source, Path):
            kwargs["path"] = str(source)
        else:
            kwargs["input"] = io.BytesIO(source) if isinstance(source, bytes) else source
        quads: Iterable[ox.Quad] = ox.parse(**kwargs)
        if graph_iri and f not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            g = ox.NamedNode(graph_iri)
            quads = (ox.Quad(q.subject, q.predicate, q.object, g) for q in quads)
        try:
            self._send(quads, progress)
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"cannot load {source if isinstance(source, Path) else 'the data'}: {e}") from e

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        self._send(quads, None)

    def _send(self, quads: Iterable[ox.Quad], progress: Progress | None) -> None:
        """INSERT DATA in batches, grouped by graph. A blank node names the same node within one request
        only, so every quad with one goes in the last request, together."""
        blank: list[ox.Quad] = []
        batch: dict[str, list[str]] = {}
        size = sent = 0

        def flush(groups: dict[str, list[str]]) -> None:
            nonlocal sent
            if groups:
                self.update("INSERT DATA {\n" + "\n".join(
                    f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in groups.items()) + "\n}")
                sent += sum(len(lines) for lines in groups.values())
                if progress is not None:
                    progress(sent, None)

        for q in quads:
            if isinstance(q.graph_name, ox.DefaultGraph):
                raise StoreError("a quad in the default graph: the project writes named graphs only")
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                blank.append(q)
                continue
            line = f"{q.subject} {q.predicate} {q.object} ."
            batch.setdefault(str(q.graph_name), []).append(line)
            size += len(line) + 1
            if size >= self.batch_bytes:
                flush(batch)
                batch, size = {}, 0
        for q in blank:
            batch.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
        flush(batch)

    # -- keeping ---------------------------------------------------------
    def flush(self) -> None:
        """Nothing to do: the remote store owns durability."""

    def optimize(self) -> None:
        """Nothing to do: compaction is the remote store's business."""

    def close(self) -> None:
        self._client.close()

    # -- HTTP --------------------------------------------------------------
    def _post(self, url: str, data: list[tuple[str, str]], accept: str, timeout: float, *, what: str) -> httpx.Response:
        written = "" if what == "query" else "; nothing was written"
        try:
            resp = self._client.post(url, data=_form(data), headers={"Accept": accept}, timeout=timeout)
        except httpx.TimeoutException as e:
            if what == "query":
                raise QueryTimeout(f"the remote store did not answer within {timeout:g} s") from e
            raise StoreError(
                f"the remote store did not confirm the {what} within {timeout:g} s: it may or may not have landed",
                hint="the next write's recovery (`dcpa derive`, or `dcpa import` of the same batch) makes it whole",
            ) from e
        except httpx.HTTPError as e:
            raise StoreError(f"cannot reach the remote store at {url}{written}: {e}") from e
        if resp.status_code == 400:
            if what == "query":
                raise QueryError(f"the remote store refused the query: {resp.text[:2000]}")
            raise StoreError(f"the remote store refused the {what}{written}: {resp.text[:2000]}")
        if resp.status_code >= 400:
            raise StoreError(f"the remote store answered {resp.status_code} to the {what}{written}: {resp.text[:2000]}")
        cut = [f"{h}: {resp.headers[h]}" for h in _CUT_SHORT if h in resp.headers]
        if cut:
            raise StoreError(
                f"the remote store sent only part of the answer ({', '.join(cut)}); it is refused, not shown as whole",
                hint="raise the store's result row limit and query timeout (docs/DEPLOYMENT.md), or ask for less",
            )
        return resp


def _form(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """httpx form data from (name, value) pairs, repeated names as lists."""
    out: dict[str, str | list[str]] = {}
    for k, v in pairs:
        if k in out:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[k] = v
    return out
