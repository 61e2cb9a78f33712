"""A read-mostly store over a remote SPARQL 1.1 endpoint (Virtuoso, Fuseki, GraphDB, Oxigraph server).

It offers the read methods of :class:`kg.store.Store` and returns the same Oxigraph objects
(``QuerySolutions``, ``QueryBoolean``, triples), so the endpoint, the catalogue and the API
work unchanged over it. Queries go as form POSTs (Virtuoso 7.2 never answers a query sent as
a direct POST body) with client timeouts; writes go to ``sparql_update_endpoint`` when one
is configured and are refused otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox
import rdflib

from kg.errors import QueryError, QueryTimeout, StoreError
from kg.namespaces import PREFIXES, sparql_prefixes
from kg.settings import Settings
from kg.store import ReadMethods, _binding, graph_to_ntriples, to_rdflib

from .sparql import analyse

log = logging.getLogger(__name__)

_RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.8"
_GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
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


class RemoteStore(ReadMethods):
    """The read methods of ``Store`` over HTTP (SPARQL 1.1 Protocol)."""

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.path = None
        self._timeout = timeout
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        if not settings.sparql_endpoint:
            raise StoreError("no remote endpoint configured", hint="set DCPA_SPARQL_ENDPOINT")
        return cls(
            settings.sparql_endpoint,
            update_endpoint=settings.sparql_update_endpoint,
            timeout=settings.query_timeout + 5.0,
        )

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

        ``union`` is the remote server's business (most make the default graph the union or
        can be configured so); ``bindings`` become a trailing ``VALUES`` block.
        """
        text = sparql_prefixes() + sparql
        form = analyse(text).form  # the Accept header depends on it; parsed once per text (cached)
        if bindings:
            names = " ".join(f"?{k}" for k in bindings)
            values = " ".join(_binding(v).__str__() for v in bindings.values())
            text += f"\nVALUES ({names}) {{ ({values}) }}"
        data: list[tuple[str, str]] = [("query", text)]
        data += [("default-graph-uri", g) for g in default_graph or []]
        data += [("named-graph-uri", g) for g in named_graphs or []]
        graph = form in ("CONSTRUCT", "DESCRIBE")
        resp = self._post(self.endpoint, data, _GRAPH_ACCEPT if graph else _RESULTS_ACCEPT)
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if graph:
                fmt = _RDF_BY_TYPE.get(ctype, ox.RdfFormat.N_TRIPLES)
                return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(resp.content, fmt)]
            rfmt = _RESULTS_BY_TYPE.get(ctype, ox.QueryResultsFormat.JSON)
            return ox.parse_query_results(resp.content, rfmt)
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"the remote endpoint sent an answer that cannot be read ({ctype}): {e}") from e

    def _post(self, url: str, data: list[tuple[str, str]], accept: str) -> httpx.Response:
        try:
            resp = self._client.post(url, data=dict_list(data), headers={"Accept": accept})
        except httpx.TimeoutException as e:
            raise QueryTimeout(f"the remote endpoint did not answer within {self._timeout:g} s") from e
        except httpx.HTTPError as e:
            raise StoreError(f"cannot reach the remote endpoint {url}: {e}") from e
        if resp.status_code == 400:
            raise QueryError(f"the remote endpoint refused the query: {resp.text[:2000]}")
        if resp.status_code >= 400:
            raise StoreError(f"the remote endpoint answered {resp.status_code}: {resp.text[:2000]}")
        return resp

    def graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(str(r["g"]) for r in rows if "g" in r)

    def count(self, graph: str | None = None) -> int:
        q = (
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            if graph
            else "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        )
        rows = self.select(q)
        return int(rows[0].get("n", 0)) if rows else 0

    def triples(self, graph: str | None = None) -> Iterator[tuple[Any, Any, Any]]:
        q = (
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            if graph
            else "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
        )
        for t in self.query(q):
            yield to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)

    def to_rdflib(self, graph: str | None = None) -> rdflib.Graph:
        g = rdflib.Graph()
        for p, ns in PREFIXES.items():
            g.bind(p, ns)
        for t in self.triples(graph):
            g.add(t)
        return g

    # -- writing (only with an update endpoint) -------------------------
    def _update(self, text: str) -> None:
        if not self.update_endpoint:
            raise StoreError(
                "the remote store is read-only here", hint="set DCPA_SPARQL_UPDATE_ENDPOINT to allow writes"
            )
        self._post(self.update_endpoint, [("update", text)], "*/*")

    def add_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> int:
        payload = data if isinstance(data, bytes) else graph_to_ntriples(data)
        self._update(f"INSERT DATA {{ GRAPH <{graph_iri}> {{\n{payload.decode('utf-8')}\n}} }}")
        return payload.count(b"\n")

    def replace_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> None:
        payload = data if isinstance(data, bytes) else graph_to_ntriples(data)
        self._update(
            f"DROP SILENT GRAPH <{graph_iri}> ;\nINSERT DATA {{ GRAPH <{graph_iri}> {{\n"
            f"{payload.decode('utf-8')}\n}} }}"
        )

    def remove_graph(self, graph_iri: str) -> None:
        self._update(f"DROP SILENT GRAPH <{graph_iri}>")

    def flush(self) -> None:
        """Nothing to flush: the remote server owns durability."""

    def close(self) -> None:
        self._client.close()


def dict_list(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """httpx form data from (name, value) pairs, repeated names as lists."""
    out: dict[str, str | list[str]] = {}
    for k, v in pairs:
        if k in out:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[k] = v
    return out
