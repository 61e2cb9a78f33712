"""The store contract (``kg.contract``) over any SPARQL 1.1 store, through the standard protocols only.

Queries go to the query endpoint as form POSTs (Virtuoso 7.2 never answers a query sent as a direct
POST body), with an ``Accept`` header for the query's form (Virtuoso answers a CONSTRUCT with a table of
?s ?p ?o when asked for results, and an ASK with a one-row table ``__ASK_RETVAL``: both are read right).
Answers come back as pyoxigraph objects, the same types as the embedded store's, so the catalogue, the
rule and the service work unchanged.

A remote store may hold graphs that are not the project's (Virtuoso's own ``virtrdf#``, another
project's): ``graphs``, ``count``, ``quads`` and ``dump`` see the project's graphs only (under
``https://w3id.org/dcpa/graph/``).

Writes go to the update endpoint, one request per write: a store that runs each update request as one
transaction (Oxigraph server; Virtuoso with its defaults, see ``docs/DEPLOYMENT.md``) makes each of them
all-or-nothing, as on the embedded store. Bulk loads are sent in batches of about ``batch_bytes``.
Where the store has a Graph Store Protocol service (``graph_store``), whole graphs go through it instead:
a replacement is one ``PUT`` (one operation, so all-or-nothing even on Virtuoso, which commits each
operation of an update request on its own), a removal one ``DELETE``, a bulk load ``POST``s of larger
batches (no SPARQL parser in the way: Virtuoso's gives up past a few thousand triples), a dump ``GET``s
(no result row cap in the way).

An answer the store cut short (Virtuoso's row cap, or its "anytime" partial answer at a timeout, both
announced in response headers) is refused with ``StoreError``, never returned as complete.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pyoxigraph as ox
import rdflib

from .contract import Progress
from .errors import QueryError, QueryTimeout, StoreBusy, StoreError
from .inline import inline_bindings, query_form
from .namespaces import (
    DCPA,
    GRAPH,
    GRAPH_DERIVED,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_SYNTHETIC,
    JOURNAL,
    PREFIXES,
    sparql_prefixes,
)
from .settings import Settings
from .store import RDF_FORMATS, ReadMethods, graph_to_ntriples, write_failed

log = logging.getLogger(__name__)

#: What to ask for, by the query's form.
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
#: The project's graphs: the only ones the store-wide methods see.
OURS = str(GRAPH)
#: The project's graphs, found through the store's indexes, for a store that lists graphs only by reading every
#: quad (Virtuoso 7, for every service description of the endpoint: 0.44-0.49 s at 239,261 quads with 2 GB of
#: buffers, 14-47 s at 280,000 in an earlier run; this query 19-23 ms): the fixed graphs when they
#: hold a triple, an import's by its activity, a withdrawal's by its record, a journal marker's by its batch.
#: dcpa writes no other graph (docs/DEPLOYMENT.md: write through dcpa only).
_GRAPHS_BY_KIND = f"""SELECT DISTINCT ?g WHERE {{
  {{ VALUES ?g {{ <{GRAPH_ONTOLOGY}> <{GRAPH_REFERENCE}> <{GRAPH_SYNTHETIC}> <{GRAPH_DERIVED}> }}
     FILTER EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }}
  UNION {{ GRAPH ?g {{ ?a a <{DCPA.ImportActivity}> }} }}
  UNION {{ GRAPH ?g {{ ?w a <{DCPA.Withdrawal}> }} }}
  UNION {{ GRAPH ?g {{ ?m <{JOURNAL.batch}> ?b }} }}
}}"""
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
#: ``ResultSetMaxRows``, and an "anytime" query stopped at its timeout, ``X-SQL-State: S1TAT``). Virtuoso also
#: sends ``X-SQL-State: 00000`` ("SR172: Transaction deadlocked") with an update it retried after a deadlock
#: and then committed: success, not a cut.
_CUT_SHORT = ("x-sparql-maxrows", "x-sql-state")
_SQL_SUCCESS = "00000"
#: Virtuoso's answer to an update it rolled back in a deadlock (SQL state 40001, a serialization failure).
_DEADLOCKED = re.compile(r"Virtuoso 40001 ")

#: About this much N-Triples text per update request of a bulk load, and at most this many triples:
#: Virtuoso's SPARQL parser gives up ("memory exhausted") between 4,000 and 8,000 lines of INSERT DATA.
BATCH_BYTES = 8 * 1024 * 1024
BATCH_TRIPLES = 2_000
#: Triples per Graph Store Protocol POST of a bulk load (N-Triples, about 150 bytes each).
GSP_BATCH_TRIPLES = 50_000
NTRIPLES = "application/n-triples"

_NAMED = "?s ?p ?o ?g"


class RemoteStore(ReadMethods):
    """A SPARQL 1.1 store over HTTP: queries, updates, loads and dumps through the standard protocols."""

    path: Path | None = None

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str | None = None,
        graph_store: str | None = None,
        timeout: float = 30.0,
        write_timeout: float = 600.0,
        batch_bytes: int = BATCH_BYTES,
        gsp_batch_triples: int = GSP_BATCH_TRIPLES,
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.graph_store = graph_store
        self.read_only = update_endpoint is None
        self.generation = 0
        self.batch_bytes = batch_bytes
        self.gsp_batch_triples = gsp_batch_triples
        self._timeout = timeout
        self._write_timeout = write_timeout
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        if not settings.sparql_endpoint:
            raise StoreError("没有配置远程存储 / no remote store is configured",
                             hint="请设置 DCPA_SPARQL_ENDPOINT / set DCPA_SPARQL_ENDPOINT")
        return cls(
            settings.sparql_endpoint,
            update_endpoint=settings.sparql_update_endpoint,
            graph_store=settings.graph_store_endpoint,
            timeout=settings.query_timeout + 5.0,
        )

    def __repr__(self) -> str:
        return (f"RemoteStore({self.endpoint!r}, update_endpoint={self.update_endpoint!r}, "
                f"graph_store={self.graph_store!r})")

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
        text = sparql_prefixes() + inline_bindings(sparql, bindings)
        form = query_form(text)
        graph = form in ("CONSTRUCT", "DESCRIBE")
        data: list[tuple[str, str]] = [("query", text)]
        data += [("default-graph-uri", g) for g in default_graph or []]
        data += [("named-graph-uri", g) for g in named_graphs or []]
        resp = self._post(self.endpoint, data, GRAPH_ACCEPT if graph else RESULTS_ACCEPT, self._timeout, what="query")
        ctype = _media_type(resp)
        try:
            if graph:
                return [ox.Triple(q.subject, q.predicate, q.object)
                        for q in ox.parse(resp.content, _RDF_BY_TYPE.get(ctype, ox.RdfFormat.N_TRIPLES))]
            res = ox.parse_query_results(_canonical(resp.content),
                                         _RESULTS_BY_TYPE.get(ctype, ox.QueryResultsFormat.JSON))
            if form == "ASK" and isinstance(res, ox.QuerySolutions):  # Virtuoso: one row, its one value 1 or 0
                truth = any(t is not None and t.value not in ("0", "false") for row in res for t in row)
                return ox.parse_query_results(b'{"head":{},"boolean":%s}' % (b"true" if truth else b"false"),
                                              ox.QueryResultsFormat.JSON)
            return res
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"远程存储发来的结果无法读取 / "
                             f"the remote store sent an answer that cannot be read ({ctype}): {e}") from e

    def graphs(self) -> list[str]:
        # An empty pattern lists the graphs without reading them (Oxigraph); Virtuoso answers it with one
        # row that binds nothing, and lists graphs by reading every quad: it is asked for each kind of the
        # project's graphs by what that kind holds instead (_GRAPHS_BY_KIND).
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        if any("g" not in r for r in rows):
            rows = self.select(_GRAPHS_BY_KIND)
        return sorted(str(r["g"]) for r in rows if str(r.get("g", "")).startswith(OURS))

    def count(self, graph: str | None = None) -> int:
        where = (f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph
                 else f"GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{OURS}'))")
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0].get("n", 0)) if rows else 0

    def quads(
        self, subject: str | None = None, predicate: str | None = None, graph: str | None = None
    ) -> Iterator[ox.Quad]:
        if subject is None and predicate is None and self.graph_store is not None:
            # whole graphs through the protocol: one SELECT of the 280,000 quads of a 60-village build took
            # 46 s on Virtuoso, the graphs' GETs 6 s
            yield from (self._all_quads() if graph is None else self._graph_quads(graph))
            return
        s = f"<{subject}>" if subject is not None else "?s"
        p = f"<{predicate}>" if predicate is not None else "?p"
        g = f"<{graph}>" if graph is not None else "?g"
        fixed = {k: ox.NamedNode(v) for k, v in (("s", subject), ("p", predicate), ("g", graph)) if v is not None}
        ours = "" if graph is not None else f"FILTER(STRSTARTS(STR(?g), '{OURS}'))"
        for sol in self.query(f"SELECT * WHERE {{ GRAPH {g} {{ {s} {p} ?o }} {ours} }}"):
            def term(name: str, sol: Any = sol) -> Any:
                return fixed[name] if name in fixed else sol[name]
            yield ox.Quad(term("s"), term("p"), sol["o"], term("g"))

    def dump(self, output: Path | IO[bytes], fmt: str, graph_iri: str | None = None) -> None:
        f = RDF_FORMATS[fmt]
        target: Any = str(output) if isinstance(output, Path) else output
        pretty: dict[str, Any] = {"prefixes": PREFIXES} if f in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
        if f in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            ox.serialize(self._all_quads(), target, format=f, **pretty)
        else:
            quads = self._all_quads() if graph_iri is None else self._graph_quads(graph_iri)
            ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), target, format=f, **pretty)

    def _all_quads(self) -> Iterator[ox.Quad]:
        if self.graph_store is None:
            yield from self.quads()
            return
        for g in self.graphs():
            yield from self._graph_quads(g)

    def _graph_quads(self, graph_iri: str) -> Iterator[ox.Quad]:
        """One graph: a Graph Store Protocol ``GET`` where there is one, else a query."""
        if self.graph_store is None:
            yield from self.quads(graph=graph_iri)
            return
        resp = self._gsp("GET", graph_iri, stream=True)  # parsed as it comes: a national graph held whole took GBs
        try:
            if resp.status_code == 404:
                return
            ctype = _media_type(resp)
            g = ox.NamedNode(graph_iri)
            reader = io.BufferedReader(_Stream(resp.iter_bytes(1 << 16)), buffer_size=1 << 16)
            for q in ox.parse(reader, _RDF_BY_TYPE.get(ctype, ox.RdfFormat.N_TRIPLES)):
                yield ox.Quad(q.subject, q.predicate, q.object, g)
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"远程存储发来的图 <{graph_iri}> 无法读取（{ctype}） / "
                             f"the remote store sent graph <{graph_iri}> in a form that cannot be read ({ctype}): {e}"
                             ) from e
        except httpx.HTTPError as e:
            raise StoreError(f"远程存储中途停止发送图 <{graph_iri}>，收到的内容不完整 / "
                             f"the remote store stopped sending graph <{graph_iri}>: {e}; nothing is complete") from e
        finally:
            resp.close()

    # -- writing: one update request per call ---------------------------
    def update(self, sparql: str) -> None:
        with self._writing() as endpoint:
            self._post(endpoint, [("update", sparql_prefixes() + sparql)], "*/*", self._write_timeout, what="update")

    @contextmanager
    def _writing(self) -> Iterator[str]:
        """Around every write: the update endpoint, or the refusal of the write (the Graph Store Protocol
        alone does not make a store writable here: the write lease and the journal need updates); the
        generation moved before and after, so that no answer cached during the write outlives it."""
        if self.update_endpoint is None:
            raise StoreError(
                "远程存储在这里是只读的：什么都没有写入 / the remote store is read-only here: nothing was written",
                hint="要允许写入，请把 DCPA_SPARQL_UPDATE_ENDPOINT 设为该存储的更新端点 / "
                     "set DCPA_SPARQL_UPDATE_ENDPOINT to the store's update endpoint to allow writes",
            )
        self.generation += 1
        try:
            yield self.update_endpoint
        finally:
            self.generation += 1

    def _gsp_write(self, method: str, graph_iri: str, quads: list[ox.Quad]) -> None:
        """One graph's triples in one Graph Store Protocol request (``PUT`` replaces, ``POST`` adds)."""
        with self._writing():
            body = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads),
                                format=ox.RdfFormat.N_TRIPLES)
            self._gsp(method, graph_iri, body)

    def add_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> int:
        return self.add_graphs([(graph_iri, data)])

    def add_graphs(self, parts: list[tuple[str, rdflib.Graph | bytes]]) -> int:
        quads = _quads_of(parts)
        if self.graph_store is not None and len({g for g, _ in parts}) == 1:
            if quads:
                self._gsp_write("POST", parts[0][0], quads)
            return len(quads)
        self.update(" ;\n".join(_insert_ops(quads)))
        return len(quads)

    def replace_graph(self, graph_iri: str, data: rdflib.Graph | bytes) -> None:
        quads = _quads_of([(graph_iri, data)])
        if self.graph_store is not None:
            if quads:
                self._gsp_write("PUT", graph_iri, quads)
            else:
                self.remove_graph(graph_iri)
            return
        self.update(" ;\n".join([f"DROP SILENT GRAPH <{graph_iri}>", *_insert_ops(quads)]))

    def remove_graph(self, graph_iri: str) -> None:
        if self.graph_store is not None:
            with self._writing():
                self._gsp("DELETE", graph_iri)  # 404: there was no such graph, which is what was asked
            return
        self.update(f"DROP SILENT GRAPH <{graph_iri}>")

    def bulk_load(
        self, source: Path | IO[bytes] | bytes, fmt: str, graph_iri: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Parse here, send in update requests of about ``batch_bytes`` each, or Graph Store Protocol ``POST``s
        of ``gsp_batch_triples`` (not atomic as a whole)."""
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
            zh, en = (f"无法载入 {source}", f"cannot load {source}") if isinstance(source, Path) else \
                ("无法载入数据", "cannot load the data")
            raise StoreError(f"{zh} / {en}: {e}") from e

    def bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        self._send(quads, None)

    def _send(self, quads: Iterable[ox.Quad], progress: Progress | None) -> None:
        """Update requests of about ``batch_bytes`` (every graph together), or with the Graph Store Protocol
        ``POST``s of up to ``gsp_batch_triples`` triples of one graph each. A blank node names the same node
        within one operation or document only, so the quads with one go in the last request of their graph,
        together (the project never shares a blank node between graphs)."""
        gsp = self.graph_store is not None
        most = self.gsp_batch_triples if gsp else BATCH_TRIPLES
        pending: dict[str, list[ox.Quad]] = {}
        blank: dict[str, list[ox.Quad]] = {}
        size: dict[str, int] = {}
        sent = 0

        def flush(graph: str, part: list[ox.Quad]) -> None:
            nonlocal sent
            if not part:
                return
            if gsp:
                self._gsp_write("POST", graph, part)
            else:
                self.update(" ;\n".join(_insert_ops(part)))
            sent += len(part)
            if progress is not None:
                progress(sent, None)

        for q in quads:
            if isinstance(q.graph_name, ox.DefaultGraph):
                raise StoreError("有一条四元组在默认图中：本项目只写入命名图 / "
                                 "a quad in the default graph: the project writes named graphs only")
            key = q.graph_name.value if gsp else ""
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                blank.setdefault(key, []).append(q)
                continue
            batch = pending.setdefault(key, [])
            batch.append(q)
            if not gsp:
                size[key] = size.get(key, 0) + len(str(q))
            if len(batch) >= most or size.get(key, 0) >= self.batch_bytes:
                flush(key, batch)
                pending[key], size[key] = [], 0
        for key in {**pending, **blank}:
            flush(key, pending.get(key, []) + blank.get(key, []))

    # -- keeping ---------------------------------------------------------
    def flush(self) -> None:
        """Nothing to do: the remote store owns durability."""

    def optimize(self) -> None:
        """Nothing to do: compaction is the remote store's business."""

    def close(self) -> None:
        self._client.close()

    # -- HTTP --------------------------------------------------------------
    def _gsp(self, method: str, graph_iri: str, body: bytes | None = None, *, stream: bool = False) -> httpx.Response:
        """A Graph Store Protocol request on one graph; a 404 (no such graph) is the caller's to read. With
        ``stream`` the body is read as it comes (the caller closes the response)."""
        url = self.graph_store
        assert url is not None
        what = "query" if method == "GET" else f"{method} of graph <{graph_iri}>"
        headers = {"Accept": GRAPH_ACCEPT if method == "GET" else "*/*"}  # Virtuoso: 406 to a DELETE that asks for RDF
        if body is not None:
            headers["Content-Type"] = NTRIPLES

        timeout = self._timeout if method == "GET" else self._write_timeout

        def send() -> httpx.Response:
            request = self._client.build_request(method, url, params={"graph": graph_iri}, content=body,
                                                 headers=headers, timeout=timeout)
            return self._client.send(request, stream=stream)

        return self._checked(send, url, what, timeout=timeout, allow=(404,))

    def _post(self, url: str, data: list[tuple[str, str]], accept: str, timeout: float, *, what: str) -> httpx.Response:
        return self._checked(
            lambda: self._client.post(url, data=_form(data), headers={"Accept": accept}, timeout=timeout),
            url, what, timeout=timeout)

    def _checked(self, send: Callable[[], httpx.Response], url: str, what: str, *, timeout: float,
                 allow: tuple[int, ...] = ()) -> httpx.Response:
        """Send, and turn what went wrong into the contract's errors (with whether anything was written)."""
        written = "" if what == "query" else "; nothing was written"
        written_zh = "" if what == "query" else "，什么都没有写入"
        what_zh = _what_zh(what)
        unsure = ("请由下一次写入的恢复（`dcpa derive`，或再次 `dcpa import` 同一批次）补全 / "
                  "the next write's recovery (`dcpa derive`, or `dcpa import` of the same batch) makes it whole")
        try:
            resp = send()
            if resp.status_code >= 400 and resp.status_code not in allow:
                resp.read()  # a streamed answer: its error text is read below
        except httpx.TimeoutException as e:
            if what == "query":
                raise QueryTimeout(f"远程存储未在 {timeout:g} 秒内回答查询 / "
                                   f"the remote store did not answer within {timeout:g} s") from e
            raise StoreError(
                f"远程存储未在 {timeout:g} 秒内确认{what_zh}：它可能已写入，也可能没有 / "
                f"the remote store did not confirm the {what} within {timeout:g} s: it may or may not have landed",
                hint=unsure,
            ) from e
        except httpx.HTTPError as e:
            raise StoreError(f"无法连接远程存储{written_zh} / "
                             f"cannot reach the remote store at {url}{written}: {e}") from e
        if resp.status_code in allow:
            return resp
        if resp.status_code == 400:
            if what == "query":
                raise QueryError(f"远程存储拒绝了此查询 / the remote store refused the query: {_said(resp)}")
            raise StoreError(f"远程存储拒绝了{what_zh}{written_zh} / "
                             f"the remote store refused the {what}{written}: {_said(resp)}")
        if resp.status_code >= 400:
            said = _said(resp)
            if what != "query" and _DEADLOCKED.match(said):
                # Virtuoso rolled the update back for another that wanted the same rows (writers taking the
                # lease at once): nothing was written, and the same update may succeed a moment later
                raise StoreBusy(f"远程存储为同时进行的另一次写入放弃了{what_zh}{written_zh} / "
                                f"the remote store gave the {what} up for another at the same moment{written}: "
                                f"{said[:200]}", hint="请再试一次 / try again", retry_after=1)
            raise StoreError(f"远程存储回答了 {resp.status_code}{written_zh} / "
                             f"the remote store answered {resp.status_code} to the {what}{written}: {said}")
        cut = [f"{h}: {resp.headers[h]}" for h in _CUT_SHORT
               if h in resp.headers and resp.headers[h].strip() != _SQL_SUCCESS]
        if cut and what != "query":
            raise StoreError(
                f"远程存储报告{what_zh}出了问题：它可能已写入，也可能没有 / "
                f"the remote store reported a problem with the {what} ({', '.join(cut)}, "
                f"{resp.headers.get('x-sql-message', '')}): it may or may not have landed",
                hint=unsure,
            )
        if cut:
            raise StoreError(
                "远程存储只发来了部分结果，不当作完整结果显示 / "
                f"the remote store sent only part of the answer ({', '.join(cut)}); it is refused, not shown as whole",
                hint="请调高该存储的结果行数上限和查询时限（docs/DEPLOYMENT.md），或少要一些 / "
                     "raise the store's result row limit and query timeout (docs/DEPLOYMENT.md), or ask for less",
            )
        return resp


#: Virtuoso names a blank node ``nodeID://b10001`` in its results, which is no blank node label.
_VIRTUOSO_BNODE = re.compile(rb"(\"bnode\"\s*,\s*\"value\"\s*:\s*\"|<bnode>)nodeID://")
#: Virtuoso writes every boolean as "1" or "0" (lexical forms that xsd:boolean allows).
_BOOLEAN = re.compile(rb"(\"datatype\"\s*:\s*\"http://www.w3.org/2001/XMLSchema#boolean\"\s*,\s*\"value\"\s*:\s*\"|"
                      rb"datatype=\"http://www.w3.org/2001/XMLSchema#boolean\">)([01])")


class _Stream(io.RawIOBase):
    """A readable file over an iterator of byte chunks (a streamed response, for ``ox.parse``)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._left = chunks, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = memoryview(chunk)
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def _what_zh(what: str) -> str:
    """``what`` of ``_checked`` (``query``, ``update``, ``PUT of graph <…>``) as its Chinese half says it."""
    method, of, graph = what.partition(" of graph ")
    return f"对图 {graph} 的 {method} 写入" if of else {"query": "查询", "update": "更新"}.get(what, what)


def _media_type(resp: httpx.Response) -> str:
    return resp.headers.get("content-type", "").split(";")[0].strip().lower()


def _said(resp: httpx.Response) -> str:
    """What the store said, as text: Virtuoso explains a refusal in an HTML page."""
    text = resp.text
    if "<html" in text[:200].lower():
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
    return text[:2000]


def _canonical(content: bytes) -> bytes:
    """Results as every other store writes them: blank node labels a parser takes (Virtuoso writes
    them as URLs) and booleans in their canonical form, ``true`` and ``false`` (Virtuoso: 1 and 0),
    which the code compares as text."""
    if b"nodeID://" in content:
        content = _VIRTUOSO_BNODE.sub(rb"\1", content)
    if b"XMLSchema#boolean" in content:
        content = _BOOLEAN.sub(lambda m: m.group(1) + (b"true" if m.group(2) == b"1" else b"false"), content)
    return content


#: Most triples in one ``INSERT … WHERE {}`` template: Virtuoso compiles a template to SQL and refuses one
#: past 10,000 lines of it (the ontology's 1,000-odd blank node triples in one template were refused).
TEMPLATE_TRIPLES = 200


def _quads_of(parts: list[tuple[str, rdflib.Graph | bytes]]) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    try:
        for graph_iri, data in parts:
            payload = data if isinstance(data, bytes) else graph_to_ntriples(data)
            g = ox.NamedNode(graph_iri)
            quads += [ox.Quad(q.subject, q.predicate, q.object, g)
                      for q in ox.parse(payload, format=ox.RdfFormat.N_TRIPLES)]
    except (SyntaxError, ValueError) as e:
        raise write_failed([g for g, _ in parts], e) from e
    return quads


def _blocks(quads: Iterable[ox.Quad]) -> str:
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        by_graph.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
    return "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())


def _insert_ops(quads: list[ox.Quad]) -> list[str]:
    """The update operations that add ``quads``: ``INSERT DATA`` for those without blank nodes; for the
    others, templates over one empty solution (``INSERT {…} WHERE {}``), which make the same nodes:
    Virtuoso refuses blank nodes in ``INSERT DATA`` ("not allowed in a constant clause"). A template
    holds whole groups of quads that share blank nodes, so that each node is made once, and one graph
    (Virtuoso fails on a template with blank nodes in two graphs: "string_output_string needs a string
    output"); the project never shares a blank node between graphs."""
    plain = [q for q in quads if not (isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode))]
    ops = [f"INSERT DATA {{\n{_blocks(plain)}\n}}"] if plain else []
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    blank = [q for q in quads if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)]
    def nodes(q: ox.Quad) -> list[str]:
        return [f"{q.graph_name} {t}" for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]

    for q in blank:
        found = nodes(q)
        for other in found[1:]:
            parent[root(other)] = root(found[0])
    groups: dict[str, list[ox.Quad]] = {}
    for q in blank:
        groups.setdefault(root(nodes(q)[0]), []).append(q)
    template: list[ox.Quad] = []
    for group in groups.values():
        if template and (len(template) + len(group) > TEMPLATE_TRIPLES
                         or template[0].graph_name != group[0].graph_name):
            ops.append(f"INSERT {{\n{_blocks(template)}\n}} WHERE {{}}")
            template = []
        template += group
    if template:
        ops.append(f"INSERT {{\n{_blocks(template)}\n}} WHERE {{}}")
    return ops


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
