"""SPARQL 1.1 Protocol logic for ``/sparql``, kept apart from the route so it can be tested alone.

Read-only and bounded: updates, ``LOAD`` and ``SERVICE`` are refused before the engine sees
the query (Oxigraph would really fetch a ``SERVICE`` IRI); every query runs in a worker
thread of a small pool, its results are consumed lazily with a deadline check on every row,
and at most ``max_rows`` rows (or triples) are returned, the answer saying when it was cut.

Why a pool of our own: the engine call blocks, and running it on the event loop (or on a
shared thread pool that slow queries can exhaust) lets one slow query stall every other
request — the flaw measured in rdflib-endpoint (see DESIGN.md).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pyoxigraph as ox
import rdflib

from kg.errors import DcpaError, QueryError, QueryRefused, QueryTimeout, StoreError
from kg.namespaces import PREFIXES
from kg.resources import CONTEXT_FILE
from kg.store import to_rdflib

# -- media types ---------------------------------------------------------------

JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
RDFXML = "application/rdf+xml"
JSONLD = "application/ld+json"

#: Result formats of SELECT/ASK: accepted media type → canonical media type.
RESULT_TYPES: dict[str, str] = {
    JSON_RESULTS: JSON_RESULTS,
    "application/json": JSON_RESULTS,
    XML_RESULTS: XML_RESULTS,
    "application/xml": XML_RESULTS,
    "text/xml": XML_RESULTS,
    CSV: CSV,
    TSV: TSV,
}
#: Result formats of CONSTRUCT/DESCRIBE.
GRAPH_TYPES: dict[str, str] = {
    TURTLE: TURTLE,
    "application/x-turtle": TURTLE,
    NTRIPLES: NTRIPLES,
    "text/plain": NTRIPLES,
    RDFXML: RDFXML,
    "application/xml": RDFXML,
    "text/xml": RDFXML,
    JSONLD: JSONLD,
    "application/json": JSONLD,
}
#: ``?format=`` / ``?output=`` short names (SPARQLWrapper and browsers send these).
FORMAT_NAMES: dict[str, tuple[str, str]] = {  # name → (results type, graph type)
    "json": (JSON_RESULTS, JSONLD),
    "xml": (XML_RESULTS, RDFXML),
    "csv": (CSV, TURTLE),
    "tsv": (TSV, TURTLE),
    "turtle": (JSON_RESULTS, TURTLE),
    "ttl": (JSON_RESULTS, TURTLE),
    "n3": (JSON_RESULTS, TURTLE),
    "nt": (JSON_RESULTS, NTRIPLES),
    "ntriples": (JSON_RESULTS, NTRIPLES),
    "rdfxml": (XML_RESULTS, RDFXML),
    "rdf": (XML_RESULTS, RDFXML),
    "jsonld": (JSON_RESULTS, JSONLD),
    "json-ld": (JSON_RESULTS, JSONLD),
}
_OX_RESULTS = {
    JSON_RESULTS: ox.QueryResultsFormat.JSON,
    XML_RESULTS: ox.QueryResultsFormat.XML,
    CSV: ox.QueryResultsFormat.CSV,
    TSV: ox.QueryResultsFormat.TSV,
}
_OX_GRAPH = {TURTLE: ox.RdfFormat.TURTLE, NTRIPLES: ox.RdfFormat.N_TRIPLES, RDFXML: ox.RdfFormat.RDF_XML}

TRUNCATED_HEADER = "X-DCPA-Truncated"
#: Prefixes of Turtle answers; not ``id:``, whose local names need escaped slashes (``id:area\/21``).
_TURTLE_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p != "id"}

# -- request parsing -----------------------------------------------------------


@dataclass
class SparqlRequest:
    """One protocol request: the query text and the dataset it asks for."""

    query: str
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    format: str | None = None  # ?format= / ?output= override of the Accept header


def parse_request(
    method: str, content_type: str, url_query: str, body: bytes, *, max_bytes: int
) -> SparqlRequest | None:
    """Read a protocol request from its parts; ``None`` when it carries no query (service description).

    Accepts GET ``?query=``, POST form-encoded and POST ``application/sparql-query``
    (the three operations of the SPARQL 1.1 Protocol); refuses every form of update.
    """
    params = parse_qs(url_query, keep_blank_values=True)
    ctype = content_type.split(";")[0].strip().lower()
    if len(body) > max_bytes:
        raise QueryError(
            f"the request body is {len(body)} bytes; the limit is {max_bytes}",
            hint="send a shorter query (DCPA_MAX_QUERY_BYTES)",
        )
    if method == "POST":
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError as e:
                raise QueryError("the form body is not UTF-8") from e
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
        elif ctype == "application/sparql-query":
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise QueryError("the query is not UTF-8") from e
            params.setdefault("query", []).insert(0, text)
        elif ctype == "application/sparql-update":
            raise _update_refused()
        else:
            raise QueryError(
                f"unsupported content type {ctype or '(none)'!r}",
                hint="POST application/x-www-form-urlencoded (query=…) or application/sparql-query",
            )
    if "update" in params:
        raise _update_refused()
    queries = params.get("query", [])
    fmts = params.get("format") or params.get("output") or []
    fmt = fmts[0] if fmts else None
    if not queries:
        return None
    if len(queries) > 1:
        raise QueryError("more than one query in the request", hint="send exactly one `query` parameter")
    if len(queries[0].encode("utf-8")) > max_bytes:
        raise QueryError(f"the query is longer than {max_bytes} bytes", hint="DCPA_MAX_QUERY_BYTES")
    return SparqlRequest(
        query=queries[0],
        default_graphs=[g for g in params.get("default-graph-uri", []) if g],
        named_graphs=[g for g in params.get("named-graph-uri", []) if g],
        format=fmt.lower() if fmt else None,
    )


def _update_refused() -> QueryRefused:
    return QueryRefused(
        "this endpoint is read-only: SPARQL updates are refused",
        hint="change data with `dcpa import` or the authenticated write API (/api/needs, /api/imports…)",
    )


# -- query form detection ------------------------------------------------------

# Strings, IRIs and comments, which may contain any word; removed before looking for keywords.
_LEXEMES = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\s]*>'
    r"|#[^\n]*",
    re.DOTALL,
)
_WORD = r"(?<![\w:?$]){}(?![\w:])"
_PROLOGUE = re.compile(r"\s*(?:BASE\s*<>|PREFIX\s+[\w.-]*:\s*<>)", re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
_SERVICE = re.compile(_WORD.format("SERVICE"), re.IGNORECASE)


def _strip(query: str) -> str:
    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        if s.startswith("#"):
            return " "
        return "<>" if s.startswith("<") else '""'

    return _LEXEMES.sub(repl, query)


def query_form(query: str) -> str:
    """The query form (SELECT/ASK/CONSTRUCT/DESCRIBE), refusing updates, LOAD and SERVICE.

    Unknown text is passed on as ``SELECT`` so that the parser, not a guess, reports the error.
    """
    text = _strip(query)
    pos = 0
    while m := _PROLOGUE.match(text, pos):
        pos = m.end()
    first = _FIRST_WORD.match(text, pos)
    word = first.group(1).upper() if first else ""
    if word == "LOAD":
        raise QueryRefused(
            "LOAD is refused: this endpoint never fetches remote data",
            hint="load data with `dcpa import` on the server",
        )
    if word in UPDATE_WORDS:
        raise _update_refused()
    if _SERVICE.search(text):
        raise QueryRefused(
            "SERVICE is refused: this endpoint never sends queries to other endpoints",
            hint="run the federated part of the query against the remote endpoint yourself",
        )
    return word if word in QUERY_FORMS else "SELECT"


def inline_parameters(text: str, values: dict[str, str]) -> str:
    """Write constants (in SPARQL syntax) in place of variables: dropped from projections and
    GROUP BY, substituted elsewhere — how a catalogue query with parameters becomes plain SPARQL.

    (A trailing ``VALUES`` block would be correct too, but Oxigraph then evaluates grouped
    sub-selects for every value before joining: minutes at province scale instead of milliseconds.)
    """

    def drop(m: re.Match[str]) -> str:
        clause = m.group(0)
        for var in values:
            clause = re.sub(rf"\s\?{var}\b", "", clause)
        # Grouping only by constants: every row is in one group anyway.
        return "" if re.fullmatch(r"GROUP BY\s*", clause, flags=re.IGNORECASE) else clause

    text = re.sub(r"SELECT\s[^{]*?(?=WHERE|\{)", drop, text, flags=re.IGNORECASE)
    text = re.sub(r"GROUP BY[^\n}]*", drop, text, flags=re.IGNORECASE)
    for var, value in values.items():
        text = re.sub(rf"\?{var}\b", value.replace("\\", "\\\\"), text)
    return text


# -- content negotiation -------------------------------------------------------


def _accepted(accept: str) -> list[str]:
    """Media types of an Accept header, best first (stable for equal q)."""
    items: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            items.append((-q, i, bits[0].lower()))
    return [t for _, _, t in sorted(items)]


def negotiate(form: str, accept: str, fmt: str | None = None) -> str:
    """The media type of the answer: ``?format=`` first, then Accept, then the form's default."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    if fmt:
        if fmt in FORMAT_NAMES:
            return FORMAT_NAMES[fmt][1 if graph else 0]
        table = GRAPH_TYPES if graph else RESULT_TYPES
        if fmt in table:
            return table[fmt]
    table = GRAPH_TYPES if graph else RESULT_TYPES
    for t in _accepted(accept):
        if t in table:
            return table[t]
    return TURTLE if graph else JSON_RESULTS


# -- execution -----------------------------------------------------------------


@dataclass
class Answer:
    """A serialised answer, ready to send."""

    body: bytes
    media_type: str
    truncated: bool = False
    rows: int = 0


class _Deadline:
    """Deadline and cancellation shared by the request and its worker thread."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.cancelled = threading.Event()

    def check(self) -> None:
        if self.cancelled.is_set() or time.monotonic() > self.at:
            raise _timeout(self.seconds)


def _timeout(seconds: float) -> QueryTimeout:
    return QueryTimeout(
        f"the query ran longer than its time limit of {seconds:g} s",
        hint="start from the most selective pattern, add a LIMIT, or scope the query to one area",
    )


def _term_json(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype is not None and t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _term_json(t.subject),
                "predicate": _term_json(t.predicate),
                "object": _term_json(t.object),
            },
        }
    return {"type": "literal", "value": str(t)}


def _take(items: Iterable[Any], limit: int, deadline: _Deadline) -> tuple[list[Any], bool]:
    """Up to ``limit`` items, checking the deadline before each one; also whether more were left."""
    out: list[Any] = []
    it: Iterator[Any] = iter(items)
    while True:
        deadline.check()
        try:
            item = next(it)
        except StopIteration:
            return out, False
        except OSError as e:
            raise StoreError(f"the store failed while answering: {e}") from e
        if len(out) >= limit:
            return out, True
        out.append(item)


def truncation_note(max_rows: int) -> dict[str, Any]:
    return {
        "truncated": True,
        "max_rows": max_rows,
        "message": f"the answer was cut at {max_rows} rows (DCPA_MAX_ROWS); add LIMIT/OFFSET to page",
    }


def select_answer(result: Any, media_type: str, max_rows: int, deadline: _Deadline) -> Answer:
    """Serialise SELECT solutions, at most ``max_rows``; JSON built here, other formats by Oxigraph."""
    names = [v.value for v in result.variables]
    solutions, truncated = _take(result, max_rows, deadline)
    bindings = []
    for sol in solutions:
        row = {}
        for n in names:
            t = sol[n]
            if t is not None:
                row[n] = _term_json(t)
        bindings.append(row)
    doc: dict[str, Any] = {"head": {"vars": names}, "results": {"bindings": bindings}}
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    if media_type != JSON_RESULTS:
        parsed = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
        data = parsed.serialize(format=_OX_RESULTS[media_type]) or b""
    elif truncated:
        doc["dcpa"] = truncation_note(max_rows)
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return Answer(data, media_type, truncated, len(bindings))


def ask_answer(result: Any, media_type: str) -> Answer:
    value = bool(result)
    if media_type == JSON_RESULTS:
        return Answer(json.dumps({"head": {}, "boolean": value}).encode(), media_type, rows=1)
    if media_type in (CSV, TSV):  # Oxigraph writes ASK as CSV/TSV too, in its own way; keep it simple
        return Answer(("true" if value else "false").encode() + b"\n", media_type, rows=1)
    return Answer(result.serialize(format=_OX_RESULTS[media_type]), media_type, rows=1)


def jsonld_context() -> dict[str, Any]:
    """The local JSON-LD context (``ontology/context.jsonld``) or the project prefixes."""
    if CONTEXT_FILE.exists():
        ctx = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
        return dict(ctx.get("@context", ctx))
    return dict(PREFIXES)


def triples_to_jsonld(triples: Iterable[Any]) -> bytes:
    g = rdflib.Graph()
    for p, ns in PREFIXES.items():
        g.bind(p, ns)
    for t in triples:
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    text = g.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    return text.encode("utf-8")


def graph_answer(result: Any, media_type: str, max_rows: int, deadline: _Deadline) -> Answer:
    triples, truncated = _take(result, max_rows, deadline)
    if media_type == JSONLD:
        data = triples_to_jsonld(triples)
    else:
        fmt = _OX_GRAPH[media_type]
        kwargs: dict[str, Any] = {"prefixes": _TURTLE_PREFIXES} if fmt == ox.RdfFormat.TURTLE else {}
        data = ox.serialize(triples, format=fmt, **kwargs) or b""  # type: ignore[assignment]
    return Answer(data, media_type, truncated, len(triples))


def run_query(
    store: Any, req: SparqlRequest, form: str, media_type: str, deadline: _Deadline, *, max_rows: int
) -> Answer:
    """Run one query on ``store`` (a ``Store`` or ``RemoteStore``) and serialise its answer (blocking)."""
    deadline.check()
    kwargs: dict[str, Any] = {}
    if req.default_graphs:
        kwargs["default_graph"] = req.default_graphs
    if req.named_graphs:
        kwargs["named_graphs"] = req.named_graphs
    result = store.query(req.query, **kwargs)
    if isinstance(result, ox.QueryBoolean) or isinstance(result, bool):
        if media_type not in RESULT_TYPES.values():
            media_type = JSON_RESULTS
        return ask_answer(result, media_type)
    if isinstance(result, ox.QuerySolutions):
        if media_type not in RESULT_TYPES.values():
            media_type = JSON_RESULTS
        return select_answer(result, media_type, max_rows, deadline)
    if media_type not in GRAPH_TYPES.values():
        media_type = TURTLE
    return graph_answer(result, media_type, max_rows, deadline)


def _in_worker(fn: Callable[[_Deadline], Answer], deadline: _Deadline) -> Answer:
    """Run ``fn``; on failure drop its frames here before the error leaves the thread.

    Oxigraph's result iterators may only be dropped by the thread that made them, and a
    traceback keeps the frames (and so the iterator) alive until another thread clears it.
    """
    try:
        return fn(deadline)
    except BaseException as e:  # re-raised below, without the frames
        err: BaseException | None = e
    seen, hops = err, 0
    while seen is not None and hops < 20:
        seen.__traceback__ = None
        seen, hops = seen.__cause__ or seen.__context__, hops + 1
    assert err is not None
    raise err


class QueryRunner:
    """A small pool of worker threads; each query gets a deadline and is abandoned when it passes."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sparql")

    async def run(self, fn: Callable[[_Deadline], Answer], timeout: float) -> Answer:
        deadline = _Deadline(timeout)
        future = self._pool.submit(_in_worker, fn, deadline)
        try:
            # A little grace so the worker's own deadline check usually answers first.
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout + 0.5)
        except TimeoutError as e:
            deadline.cancelled.set()
            future.cancel()
            raise _timeout(timeout) from e
        except DcpaError:
            raise
        except OSError as e:
            raise StoreError(f"the store failed while answering: {e}") from e

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- service description -------------------------------------------------------

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
_FORMAT_IRIS = [
    "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
    "http://www.w3.org/ns/formats/SPARQL_Results_XML",
    "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
    "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
    "http://www.w3.org/ns/formats/Turtle",
    "http://www.w3.org/ns/formats/N-Triples",
    "http://www.w3.org/ns/formats/RDF_XML",
    "http://www.w3.org/ns/formats/JSON-LD",
]


def service_description(endpoint: str, graphs: list[str], *, max_rows: int, timeout: float) -> rdflib.Graph:
    """The SPARQL 1.1 Service Description of this endpoint, as an RDF graph."""
    from rdflib.namespace import DCTERMS, RDF, RDFS

    g = rdflib.Graph()
    g.bind("sd", SD)
    g.bind("dcterms", DCTERMS)
    s = rdflib.URIRef(endpoint)
    g.add((s, RDF.type, SD.Service))
    g.add((s, SD.endpoint, s))
    g.add((s, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((s, SD.feature, SD.UnionDefaultGraph))
    for f in _FORMAT_IRIS:
        g.add((s, SD.resultFormat, rdflib.URIRef(f)))
    g.add((s, DCTERMS.title, rdflib.Literal("公共图书馆数字文化扶贫知识图谱 SPARQL 端点", lang="zh")))
    g.add((s, DCTERMS.title, rdflib.Literal("DCPA knowledge graph SPARQL endpoint", lang="en")))
    g.add(
        (
            s,
            RDFS.comment,
            rdflib.Literal(
                f"Read-only. Updates, LOAD and SERVICE are refused. Each query may run {timeout:g} s "
                f"and return {max_rows} rows; a cut answer has the header {TRUNCATED_HEADER}: true.",
                lang="en",
            ),
        )
    )
    ds = rdflib.BNode("dataset")
    g.add((s, SD.defaultDataset, ds))
    g.add((ds, RDF.type, SD.Dataset))
    dg = rdflib.BNode("default")
    g.add((ds, SD.defaultGraph, dg))
    g.add((dg, RDF.type, SD.Graph))
    g.add((dg, RDFS.comment, rdflib.Literal("the union of all named graphs", lang="en")))
    for name in graphs:
        ng = rdflib.BNode()
        g.add((ds, SD.namedGraph, ng))
        g.add((ng, RDF.type, SD.NamedGraph))
        g.add((ng, SD.name, rdflib.URIRef(name)))
    return g


_RDFLIB_FORMATS = {TURTLE: "turtle", NTRIPLES: "nt", RDFXML: "xml", JSONLD: "json-ld"}


def serialize_graph(g: rdflib.Graph, media_type: str) -> bytes:
    data = g.serialize(format=_RDFLIB_FORMATS.get(media_type, "turtle"), encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")
