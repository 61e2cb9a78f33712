"""SPARQL 1.1 Protocol logic for ``/sparql``, kept apart from the route so it can be tested alone.

Read-only and bounded: updates, ``LOAD`` and ``SERVICE`` are refused on the parsed query before
the engine sees it (Oxigraph would really fetch a ``SERVICE`` IRI), and so is a query whose syntax tree
would overflow the engine's stack (``api.sparql_scan``, which also reads a plain query's form from its
tokens, sparing the slow parse); the whole answer is made by
:func:`answer` in a query worker process (``kg.workers``) that is killed at its deadline or past
its memory ceiling; results are consumed lazily with a deadline check on every row, and at most
``max_rows`` rows (or triples) are returned, the answer saying when it was cut; an answer of more than
``max_bytes`` is refused (507), since every answer passes through the server whole.

Why processes: the engine call blocks and cannot be interrupted from another thread; a thread
pool can only abandon a slow query, which keeps running and keeps its memory (see kg.workers).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import pyoxigraph as ox
import rdflib
from pyparsing import ParseBaseException, ParseResults
from rdflib.namespace import DCTERMS, RDF, RDFS
from rdflib.plugins.sparql import parser as sparql_parser
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parserutils import CompValue

from api.qvalues import best, weighted
from api.sparql_scan import MAX_DEPTH, MAX_TERMS, scan
from kg import derived
from kg.errors import AnswerTooLarge, NotAcceptable, QueryError, QueryRefused
from kg.namespaces import GRAPH_DERIVED, PREFIXES
from kg.resources import CONTEXT_FILE
from kg.safetext import spreadsheet_csv
from kg.sparql_errors import syntax_error
from kg.store import Store, to_rdflib
from kg.workers import Deadline, current_deadline, store_failed

# -- media types ---------------------------------------------------------------

JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
RDFXML = "application/rdf+xml"
JSONLD = "application/ld+json"
#: A graph's answer in these is the same bytes as in Turtle or N-Triples, which each reads as written (N3 is a superset
#: of Turtle; a TriG or N-Quads document of triples alone is the default graph): Jena's and Virtuoso's habits (Fuseki
#: offers all three for a CONSTRUCT) got a 406 for what costs nothing to give.
N3 = "text/n3"
TRIG = "application/trig"
NQUADS = "application/n-quads"
_SAME_BYTES = {N3: TURTLE, TRIG: TURTLE, NQUADS: NTRIPLES}

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
#: Result formats of ASK: SPARQL 1.1's CSV and TSV results define no boolean (they are tables of bindings), so
#: an ASK has none (it was a bare "true" line sent as text/csv, which a CSV reader takes for a header over no rows).
ASK_TYPES: dict[str, str] = {k: v for k, v in RESULT_TYPES.items() if v not in (CSV, TSV)}
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
    N3: N3,
    "application/n3": N3,
    "text/rdf+n3": N3,
    TRIG: TRIG,
    "application/x-trig": TRIG,
    NQUADS: NQUADS,
    "text/x-nquads": NQUADS,
    # a client set to one results format for every query, reading the answer by its Content-Type (rdflib's
    # SPARQLStore(returnFormat="json") asks a CONSTRUCT for SPARQL JSON): the graph in the same syntax, not a 406
    JSON_RESULTS: JSONLD,
    XML_RESULTS: RDFXML,
}
#: ``?format=spreadsheet``: SPARQL CSV as a spreadsheet program reads it right (``kg.safetext.spreadsheet_csv``).
SPREADSHEET = "spreadsheet"
#: ``?format=`` / ``?output=`` short names (SPARQLWrapper and browsers send these): name → (results type, graph
#: type); ``None`` where the name is no format of that form (``format=turtle`` for a SELECT: 406, as its Accept).
FORMAT_NAMES: dict[str, tuple[str | None, str | None]] = {
    "json": (JSON_RESULTS, JSONLD),
    "xml": (XML_RESULTS, RDFXML),
    "csv": (CSV, None),
    "tsv": (TSV, None),
    "turtle": (None, TURTLE),
    "ttl": (None, TURTLE),
    "nt": (None, NTRIPLES),
    "ntriples": (None, NTRIPLES),
    "rdfxml": (None, RDFXML),
    "rdf": (None, RDFXML),
    "jsonld": (None, JSONLD),
    "json-ld": (None, JSONLD),
    "n3": (None, N3),
    "trig": (None, TRIG),
    "nq": (None, NQUADS),
    "nquads": (None, NQUADS),
    SPREADSHEET: (CSV, None),  # CSV for a spreadsheet program (BOM, formulas escaped): the page's download
}
_OX_RESULTS = {
    JSON_RESULTS: ox.QueryResultsFormat.JSON,
    XML_RESULTS: ox.QueryResultsFormat.XML,
    CSV: ox.QueryResultsFormat.CSV,
    TSV: ox.QueryResultsFormat.TSV,
}
_OX_GRAPH = {TURTLE: ox.RdfFormat.TURTLE, NTRIPLES: ox.RdfFormat.N_TRIPLES, RDFXML: ox.RdfFormat.RDF_XML}
_OX_GRAPH.update({t: _OX_GRAPH[same] for t, same in _SAME_BYTES.items()})

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


def body_limit(max_query_bytes: int) -> int:
    """Most bytes of a request body read: URL-encoding writes each byte of non-ASCII text as
    ``%XX``, so a form may need three times the query's size, plus the other parameters."""
    return 3 * max_query_bytes + 8192


def parse_request(
    method: str, content_type: str, url_query: str, body: bytes, *, max_bytes: int
) -> SparqlRequest | None:
    """Read a protocol request from its parts; ``None`` when a GET carries no query (service description).

    Accepts GET ``?query=``, POST form-encoded and POST ``application/sparql-query``
    (the three operations of the SPARQL 1.1 Protocol); refuses every form of update.
    ``max_bytes`` limits the decoded query text (UTF-8), not its URL-encoded form.
    """
    params = _parse_qs(url_query, "the URL")
    ctype = content_type.split(";")[0].strip().lower()
    if len(body) > body_limit(max_bytes):
        raise QueryError(
            f"请求正文超过 {body_limit(max_bytes)} 字节，即 {max_bytes} 字节查询的上限 / "
            f"the request body is larger than {body_limit(max_bytes)} bytes, the limit for queries of "
            f"{max_bytes} bytes",
            hint=SHORTER_QUERY,
        )
    if method == "POST":
        if ctype == "application/x-www-form-urlencoded":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as e:
                raise QueryError("表单正文不是 UTF-8 编码 / the form body is not UTF-8",
                                 hint=_SEND_UTF8) from e
            form = _parse_qs(text, "the form body")
            for k, v in form.items():
                params.setdefault(k, []).extend(v)
        elif ctype == "application/sparql-query":
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise QueryError("查询文字不是 UTF-8 编码 / the query is not UTF-8", hint=_SEND_UTF8) from e
            params.setdefault("query", []).insert(0, text)
        elif ctype == "application/sparql-update":
            raise _update_refused()
        elif ctype or body:
            raise QueryError(
                f"不支持请求所用的内容类型 / unsupported content type {ctype or '(none)'!r}",
                hint="请以 application/x-www-form-urlencoded（query=…）或 application/sparql-query 发送 POST / "
                     "POST application/x-www-form-urlencoded (query=…) or application/sparql-query",
            )
        # else no body and no type (requests.post(url, params=…), curl -X POST '…?query=…'): the URL's parameters,
        # read as GET's (it was a 400 about a content type the client never sent)
    if "update" in params:
        raise _update_refused()
    # a query read from a file saved with a byte order mark (Windows Notepad's UTF-8) and sent as a form or in the URL
    # (curl --data-urlencode query@q.rq) began with an invisible U+FEFF, a syntax error at line 1, column 1, where
    # the same file sent as application/sparql-query was read (its body is decoded as utf-8-sig): read alike
    queries = [q.removeprefix("\ufeff") for q in params.get("query", [])]
    fmt = _format_of(params)
    if not queries:
        if method == "POST":  # the service description is GET's answer: a POST without a query lost it on the way
            raise QueryError("POST 请求中没有查询 / the POST request carries no query",
                             hint="请在表单正文中发送 query=…，或以 application/sparql-query 发送查询本身；"
                                  "不带查询的 GET /sparql 返回服务描述 / "
                                  "send query=… in the form body, or the query itself as application/sparql-query; "
                                  "GET /sparql without a query gives the service description")
        return None
    if len(queries) > 1:
        raise QueryError("请求中有不止一个查询 / more than one query in the request",
                         hint="请只发送一个 `query` 参数 / send exactly one `query` parameter")
    size = len(queries[0].encode("utf-8"))
    if size > max_bytes:
        raise QueryError(
            f"查询有 {size} 字节（UTF-8），超过 {max_bytes} 字节的上限 / "
            f"the query is {size} bytes long (UTF-8); the limit is {max_bytes}",
            hint=SHORTER_QUERY,
        )
    return SparqlRequest(
        query=queries[0],
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri"),
        format=fmt,
    )


def requested_format(url_query: str) -> str | None:
    """The ``?format=`` (or ``?output=``) of a request without a query: the service description's, which it
    asks for by name (the query page's "Service description" link is ``/sparql?format=ttl``)."""
    return _format_of(_parse_qs(url_query, "the URL"))


def _format_of(params: dict[str, list[str]]) -> str | None:
    fmts = params.get("format") or params.get("output") or []
    # a media type written into a URL by hand (format=application/rdf+xml, as Virtuoso's examples have it) reaches us
    # as "application/rdf xml": a form's "+" is a space. No format name holds a space, so it is the "+" it was (it was
    # no format known, and the answer came in the default: Turtle where RDF/XML was asked)
    return fmts[0].strip().replace(" ", "+").lower() if fmts and fmts[0].strip() else None


#: What to do about a query past DCPA_MAX_QUERY_BYTES, however it was sent.
SHORTER_QUERY = "请发送较短的查询（上限为 DCPA_MAX_QUERY_BYTES） / send a shorter query (DCPA_MAX_QUERY_BYTES)"
_SEND_UTF8 = "请以 UTF-8 编码发送查询 / send the query as UTF-8"
#: Where percent-encoded bytes were read, in Chinese.
_WHERE_ZH = {"the URL": "网址", "the form body": "表单正文"}


def _parse_qs(text: str, where: str) -> dict[str, list[str]]:
    """The parameters of a URL query or a form; percent-encoded bytes that are not UTF-8 are refused (read
    leniently, %FF became U+FFFD, and the query that ran was not the one sent)."""
    try:
        return parse_qs(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as e:
        raise QueryError(f"{_WHERE_ZH[where]}中百分号编码的字节不是 UTF-8（第 {e.start} 字节） / "
                         f"the percent-encoded bytes of {where} are not UTF-8 ({e.reason} at byte {e.start})",
                         hint="请对查询的 UTF-8 字节做百分号编码（“村”为 %E6%9D%91） / "
                              "percent-encode the query's UTF-8 bytes (%E6%9D%91 for 村)") from e


def _graph_iris(params: dict[str, list[str]], name: str) -> list[str]:
    """The graph IRIs of a dataset parameter, each checked to be an absolute IRI."""
    out = []
    for value in params.get(name, []):
        if not value:
            continue  # an empty field of a form: not given
        try:
            ox.NamedNode(value)
        except ValueError as e:
            raise QueryError(
                f"参数 {name} 的值不是完整（绝对）的 IRI / {name} {value!r} is not an absolute IRI: {e}",
                hint="请给出命名图的完整 IRI，如 https://w3id.org/dcpa/graph/reference"
                "（服务描述 GET /sparql 列出了它们） / "
                "give the full IRI of a named graph, e.g. https://w3id.org/dcpa/graph/reference "
                "(the service description, GET /sparql, lists them)",
                details={"parameter": name, "value": value},
            ) from e
        out.append(value)
    return out


def _update_refused() -> QueryRefused:
    return QueryRefused(
        "此端点只读，不接受 SPARQL 更新 / this endpoint is read-only: SPARQL updates are refused",
        hint="请用 `dcpa import` 或需令牌的写入接口（/api/needs、/api/imports…）修改数据 / "
             "change data with `dcpa import` or the authenticated write API (/api/needs, /api/imports…)",
    )


# -- what the query is: decided on its parse, never on its text ---------------------

QUERY_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
#: Queries up to this length are parsed once and remembered (rdflib takes ~30 ms for 2 KB).
_CACHED_QUERY_CHARS = 16_384


@dataclass(frozen=True)
class Analysis:
    """What the parser found: the query form and whether the query names its own dataset."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    has_dataset: bool  # FROM or FROM NAMED


@dataclass(frozen=True)
class _Refusal:
    error: type[QueryError]
    message: str
    hint: str | None
    details: Any = None


def analyse(query: str) -> Analysis:
    """Read ``query`` and return its form, refusing what this endpoint never runs.

    A query whose tree would be too deep for the engine is refused first (``api.sparql_scan``). A
    plain query (no ``service`` in its text, no codepoint escape, a query form after its prologue)
    is read from its tokens alone; any other is decided on rdflib's parse of the whole query, so no
    spelling (case, comments, escapes, prefixes, nesting in sub-queries, EXISTS, OPTIONAL, MINUS,
    GRAPH, UNION) gets a SERVICE past it; updates and LOAD are refused as such; anything that parser
    cannot read is refused with its message (fail closed). A plain query with a syntax error is found
    by the engine's parser when it runs (:func:`run_query`).
    """
    outcome = _analyse_cached(query) if len(query) <= _CACHED_QUERY_CHARS else _analyse(query)
    if isinstance(outcome, _Refusal):
        raise outcome.error(outcome.message, hint=outcome.hint, details=outcome.details)
    return outcome


@lru_cache(maxsize=512)
def _analyse_cached(query: str) -> Analysis | _Refusal:
    return _analyse(query)


#: rdflib's parser is not thread-safe: pyparsing works out how to call each parse action on its first
#: use, and two threads doing that at once break the parser for the rest of the process (measured: 8
#: threads' first parses left 3–4 of 4 queries unparseable). Our parses take turns, and every part of
#: the grammar is used once here, at import, before any thread can race (also for pySHACL's parses).
_PARSE_LOCK = threading.Lock()
_WARM_UP_QUERIES = (
    "PREFIX ex: <http://e/> BASE <http://b/> "
    "SELECT DISTINCT ?a (COUNT(DISTINCT ?b) AS ?n) (SAMPLE(?c) AS ?s) (GROUP_CONCAT(?c; separator=',') AS ?g) "
    "(SUM(?h) AS ?t) (AVG(?h) AS ?v) (MIN(?h) AS ?m) (MAX(?h) AS ?x) FROM <http://g> FROM NAMED <http://n> WHERE { "
    "?a ex:p/ex:q* ?b ; ^ex:r|ex:s+ ?c ; (ex:u|!ex:w)? ?y ; a ex:C . ?a ex:list ( 1 2 ) . "
    "OPTIONAL { ?a ex:t ?d FILTER(?d < 3 || ?d > 5 && ?d <= 4 || ?d >= 1 && ?d != 2 && ?d = 2) } "
    "MINUS { ?a a ex:D } { ?a ex:u ?e } UNION { GRAPH ?gr { ?a ex:v ?e } } FILTER NOT EXISTS { ?a ex:w ?f } "
    "FILTER EXISTS { ?a ex:x [ ex:y \"l\"@en, 'l2', \"\"\"t\"\"\"^^ex:T, 1, 1.5, -2, 1e3, true ] } "
    "BIND(STRLEN(CONCAT(STR(?a), \"x\")) + 1 - 2 * 3 / 4 AS ?h) VALUES (?i ?j) { (1 UNDEF) } VALUES ?k { 1 } "
    "FILTER(REGEX(?c, 'x', 'i') && ?c IN (1, 2) || ?c NOT IN (3) || !BOUND(?z) || -?h < +?h) "
    "FILTER(IF(isIRI(?a), COALESCE(?b, 1), ?c) && ex:f(?a) && <http://e/g>(?b, ?c) && ABS(?h) = ROUND(?h)) "
    "SERVICE SILENT <http://s> { ?a ex:z ?l } SERVICE ?svc { ?a ex:z ?l } "
    "{ SELECT ?a WHERE { ?a ?p ?o } GROUP BY ?a HAVING (COUNT(*) > 1) ORDER BY DESC(?a) LIMIT 1 OFFSET 1 } "
    "} GROUP BY ?a ORDER BY ASC(?n) ?a DESC(STR(?a)) LIMIT 10 OFFSET 5",
    "ASK { ?s ?p ?o }",
    "SELECT REDUCED * { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o . _:b ?p [] } WHERE { ?s ?p ?o }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "DESCRIBE <http://e/x> ?y WHERE { ?y ?p ?o }",
    "DESCRIBE *",
)
_WARM_UP_UPDATE = (
    "LOAD SILENT <http://x> INTO GRAPH <http://g> ; CLEAR ALL ; CLEAR DEFAULT ; CLEAR NAMED ; "
    "INSERT DATA { <a:b> <a:c> <a:d> . GRAPH <http://g> { <a:b> <a:c> 'x' } } ; DELETE DATA { <a:b> <a:c> <a:d> } ; "
    "DELETE WHERE { ?s ?p ?o } ; WITH <http://g> DELETE { ?s ?p ?o } INSERT { ?s ?p ?o } USING <http://u> "
    "WHERE { ?s ?p ?o } ; DROP SILENT GRAPH <http://g> ; CREATE GRAPH <http://g> ; COPY DEFAULT TO <http://g> ; "
    "MOVE <http://g> TO DEFAULT ; ADD <http://a> TO <http://b>"
)


def _warm_up() -> None:
    """Use every part of the grammar once (~0.2 s), in the importing thread: see _PARSE_LOCK."""
    with _PARSE_LOCK:
        for q in _WARM_UP_QUERIES:
            sparql_parser.parseQuery(q)
        sparql_parser.parseUpdate(_WARM_UP_UPDATE)


_warm_up()


def _analyse(query: str) -> Analysis | _Refusal:
    tokens = scan(query)
    if tokens.depth > MAX_DEPTH or tokens.terms > MAX_TERMS:
        return _too_complex(tokens.depth, tokens.terms)
    if tokens.form is not None:
        return Analysis(tokens.form, tokens.has_dataset)
    return _parsed(query)


def _too_complex(depth: int, terms: int) -> _Refusal:
    what_zh, what = ((f"嵌套 {depth} 层（上限 {MAX_DEPTH} 层）", f"nested {depth} deep (the limit is {MAX_DEPTH})")
                     if depth > MAX_DEPTH else
                     (f"VALUES 数据之外有 {terms:,} 个词项（上限 {MAX_TERMS:,} 个）",
                      f"{terms:,} terms long outside VALUES data (the limit is {MAX_TERMS:,})"))
    return _Refusal(
        QueryError,
        f"查询过于复杂，无法安全运行：{what_zh} / the query is too complex to run safely: it is {what}",
        "请拆成几个较小的查询，或减少嵌套；一长串值请放进 VALUES 块，它不计在内 / "
        "split it into smaller queries, or flatten it; long lists of values belong in a VALUES block, "
        "which does not count",
    )


def _as_engine_reads(query: str) -> str:
    """The text for rdflib to read as the engine does: the SPARQL grammar (and Oxigraph) ends a comment at CR
    or LF, rdflib only at LF, so CR is read as LF; else "# note\\r SERVICE <…> {…}" would hide a SERVICE (or a
    FROM) from the check but not from the engine."""
    return query.replace("\r", "\n")


def _parse_query(query: str) -> Any:
    """rdflib's parse of ``query`` (slow: 35–100 ms for 2–4 KB), taking turns (``_PARSE_LOCK``)."""
    with _PARSE_LOCK:
        return sparql_parser.parseQuery(_as_engine_reads(query))


def _parsed(query: str) -> Analysis | _Refusal:
    """The decision on rdflib's parse."""
    text = _as_engine_reads(query)
    try:
        parsed = _parse_query(query)
    except Exception as e:  # noqa: BLE001 - pyparsing, escapes, recursion: every failure refuses
        error: Exception = e
    else:
        body = parsed[1]
        if _contains(parsed, "ServiceGraphPattern"):
            return _Refusal(
                QueryRefused,
                "不接受 SERVICE：此端点从不向其他端点发送查询 / "
                "SERVICE is refused: this endpoint never sends queries to other endpoints",
                "请自行在远程端点上运行查询的联邦部分 / "
                "run the federated part of the query against the remote endpoint yourself",
            )
        form = QUERY_FORMS.get(getattr(body, "name", ""))
        if form is None:
            return _Refusal(QueryError, "查询不是 SELECT、ASK、CONSTRUCT 或 DESCRIBE / "
                            "the query is not a SELECT, ASK, CONSTRUCT or DESCRIBE", None)
        return Analysis(form, bool(dict.get(body, "datasetClause")))  # CompValue.get answers the key when absent
    try:
        with _PARSE_LOCK:
            update = sparql_parser.parseUpdate(text)
    except Exception:  # noqa: BLE001 - not an update either: report the query parser's error
        return _syntax_error(error, text)
    if not dict.get(update, "request"):  # an empty text, or prefixes alone: the grammar's empty update, asking nothing
        return _Refusal(QueryError, "查询是空的：没有 SELECT、ASK、CONSTRUCT 或 DESCRIBE / "
                        "the query is empty: it holds no SELECT, ASK, CONSTRUCT or DESCRIBE",
                        "请在前缀声明之后写出查询，如 SELECT * WHERE { ?s ?p ?o } LIMIT 10 / "
                        "write a query after the prefixes, e.g. SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    if _contains(update, "Load"):
        return _Refusal(
            QueryRefused,
            "不接受 LOAD：此端点从不获取远程数据 / LOAD is refused: this endpoint never fetches remote data",
            "请在服务器上用 `dcpa import` 载入数据 / load data with `dcpa import` on the server",
        )
    refused = _update_refused()
    return _Refusal(QueryRefused, refused.message, refused.hint)


def _syntax_error(e: Exception, text: str) -> _Refusal:
    if isinstance(e, ParseBaseException):
        located = syntax_error(text, e.lineno, e.col, e.msg[:1].lower() + e.msg[1:])
        return _Refusal(QueryError, located.message, located.hint, located.details)
    if isinstance(e, RecursionError):
        return _Refusal(QueryError, "查询嵌套太深，无法读取 / the query is nested too deeply to be read",
                        "请减少查询的嵌套 / flatten the query")
    # Not a syntax error but the checking parser failing on valid SPARQL (rdflib 7.6 cannot read a
    # negative decimal as an object, `?s ?p -1.5`): refused all the same, as it cannot be checked.
    return _Refusal(
        QueryError,
        "查询无法检查，因此不运行：检查用的解析器出错 / "
        f"the query cannot be checked, so it is not run: the checking parser failed ({type(e).__name__}: {e})",
        "请换一种写法写出出错的部分，如把 `?s ?p -1.5` 写成 `?s ?p ?v FILTER(?v = -1.5)` / "
        "write the failing part another way, e.g. `?s ?p ?v FILTER(?v = -1.5)` for `?s ?p -1.5`",
    )


def _contains(tree: Any, name: str) -> bool:
    """Whether a node called ``name`` occurs anywhere in an rdflib parse tree."""
    stack, seen = [tree], set()
    while stack:
        node = stack.pop()
        if isinstance(node, str | bytes | int | float) or id(node) in seen:
            continue  # terms (IRIs, literals, variables) are str
        seen.add(id(node))
        if isinstance(node, CompValue):
            if node.name == name:
                return True
            stack.extend(node.values())
        elif isinstance(node, ParseResults):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple | set):
            stack.extend(node)
    return False


# -- content negotiation -------------------------------------------------------


#: The "form" of a request without a query, whose answer is the service description: a graph, refused as a graph is
#: but saying so (a 406 for "Accept: text/csv" and no query spoke of "the answer of a DESCRIBE query", never sent).
SERVICE_DESCRIPTION = "service description"


def negotiate(form: str, accept: str, fmt: str | None = None) -> str:
    """The media type of the answer: ``?format=`` first, then Accept (``*/*`` and ``type/*`` too), else the
    form's default when Accept names no media range at all.

    An Accept header that names media ranges, none of which this form can be answered in (Turtle for a
    SELECT, CSV for a CONSTRUCT, every type at q=0), is refused with 406 (``NotAcceptable``): answered in the
    default format, a program got JSON where it had asked for something else and failed reading it. So is a
    ``?format=`` that names a format of the other forms (``format=turtle`` for a SELECT was answered 200 in JSON);
    a name this endpoint does not know leaves the choice to Accept (SPARQLWrapper sends ``format=rdf+xml`` and
    ``format=application/rdf+xml`` together).
    """
    graph = form in ("CONSTRUCT", "DESCRIBE", SERVICE_DESCRIPTION)
    table = GRAPH_TYPES if graph else ASK_TYPES if form == "ASK" else RESULT_TYPES
    default = TURTLE if graph else JSON_RESULTS
    if fmt:
        if fmt in FORMAT_NAMES or fmt in table or fmt in RESULT_TYPES or fmt in GRAPH_TYPES:
            chosen = FORMAT_NAMES[fmt][1 if graph else 0] if fmt in FORMAT_NAMES else table.get(fmt)
            if chosen is None or chosen not in table.values():
                raise _not_acceptable(form, table, (f"所要的格式（format={fmt}）不能", f"the format asked for "
                                                                    f"(format={fmt}) cannot"), {"format": fmt})
            return chosen
    qualities = weighted(accept)
    if not any("/" in t for t, _ in qualities):
        return default  # no Accept, or none that reads as a media range: anything will do
    found = best(qualities, table, default)
    if found:
        return found
    raise _not_acceptable(form, table, (f"所接受的格式（{accept.strip()}）都不能", f"no format the request "
                                        f"accepts ({accept.strip()}) can"), {"accept": accept.strip()})


def _not_acceptable(form: str, table: dict[str, str], asked: tuple[str, str], details: dict[str, str]) -> NotAcceptable:
    """406: what was asked (Chinese, English: up to the verb) cannot hold this form's answer; the formats it can be
    given in."""
    graph = table is GRAPH_TYPES
    offered = sorted(set(table.values()))
    names: dict[str, str] = {}  # one name per format, the first the table gives it: json, xml, csv, tsv / … turtle, nt
    for name, types in FORMAT_NAMES.items():
        if (t := types[1 if graph else 0]) is not None and t in table.values() and name != SPREADSHEET:
            names.setdefault(t, name)
    if "format" in details:
        zh = f"请改用 format={'、'.join(names.values())}，或去掉 format 参数、按 Accept 协商"
        en = f"use format={', '.join(names.values())}, or leave format out to negotiate by Accept"
    else:
        short = "ttl" if graph else "json"
        zh = f"请接受以下之一：{'、'.join(offered)}（或 */*），或加上 ?format={short}"
        en = f"accept one of {', '.join(offered)} (or */*), or add ?format={short}"
    if form == "ASK":
        zh += "（SPARQL 1.1 的 CSV、TSV 结果格式没有真假值）"
        en += " (SPARQL 1.1's CSV and TSV results hold no boolean)"
    hint = f"{zh} / {en}"
    what = (("服务描述", "the service description") if form == SERVICE_DESCRIPTION else
            (f" {form} 查询的结果", f"the answer of {'an' if form[0] in 'AEIOU' else 'a'} {form} query"))
    return NotAcceptable(
        f"{asked[0]}表示{what[0]} / {asked[1]} hold {what[1]}",
        hint=hint, details={**details, "form": form, "available": offered, "format_names": list(names.values())},
    )


# -- execution -----------------------------------------------------------------


@dataclass
class Answer:
    """A serialised answer, ready to send."""

    body: bytes
    media_type: str
    truncated: bool = False
    rows: int = 0
    analysis: Analysis | None = None  # what the parse found, for the server to remember (see known())


def _term_json(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
            if t.direction is not None:  # RDF 1.2's base direction ("abc"@en--rtl), as Oxigraph writes it
                d["its:dir"] = str(t.direction)
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


def _take(items: Iterable[Any], limit: int, deadline: Deadline) -> tuple[list[Any], bool]:
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
            raise store_failed(e) from e
        if len(out) >= limit:
            return out, True
        out.append(item)


def truncation_note(max_rows: int) -> dict[str, Any]:
    return {
        "truncated": True,
        "max_rows": max_rows,
        "message": f"结果在 {max_rows} 行处截断（上限为 DCPA_MAX_ROWS），请用 LIMIT/OFFSET 分页 / "
                   f"the answer was cut at {max_rows} rows (DCPA_MAX_ROWS); add LIMIT/OFFSET to page",
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


#: Each term's JSON, remembered: terms repeat from row to row (types, categories, areas, the same records).
#: Written as text, the answer is Oxigraph's own serialisation byte for byte, without its spaces (7% smaller):
#: `intervention_inputs` at national scale (7,768 rows) in 0.085-0.18 s, where building and dumping dictionaries
#: took 0.25 s; a point lookup's whole answer 2.48 ms, not 2.67. Short terms only, and emptied when full, so that
#: no answer fills the memory.
_TERM_TEXT: dict[Any, str] = {}
_TERM_TEXT_MAX = 20_000


def _term_text(t: Any) -> str:
    text = _TERM_TEXT.get(t)
    if text is None:
        text = _json(_term_json(t))
        if len(text) <= 300:
            if len(_TERM_TEXT) >= _TERM_TEXT_MAX:
                _TERM_TEXT.clear()
            _TERM_TEXT[t] = text
    return text


def select_answer(result: Any, media_type: str, max_rows: int, deadline: Deadline) -> Answer:
    """Serialise SELECT solutions, at most ``max_rows``; JSON built here (as text, each term's remembered),
    other formats by Oxigraph from it."""
    names = [v.value for v in result.variables]
    solutions, truncated = _take(result, max_rows, deadline)
    keys = list(enumerate(_json(n) + ":" for n in names))
    rows = ",".join("{" + ",".join(k + _term_text(t) for i, k in keys if (t := sol[i]) is not None) + "}"
                    for sol in solutions)
    note = "," + _json({"dcpa": truncation_note(max_rows)})[1:-1] if truncated and media_type == JSON_RESULTS else ""
    data = ('{"head":' + _json({"vars": names}) + ',"results":{"bindings":[' + rows + "]}" + note + "}").encode()
    if media_type != JSON_RESULTS:
        parsed = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
        data = parsed.serialize(format=_OX_RESULTS[media_type]) or b""
    return Answer(data, media_type, truncated, len(solutions))


def ask_answer(result: Any, media_type: str) -> Answer:
    value = bool(result)
    if media_type == JSON_RESULTS:
        return Answer(json.dumps({"head": {}, "boolean": value}).encode(), media_type, rows=1)
    return Answer(result.serialize(format=_OX_RESULTS[media_type]), media_type, rows=1)


def jsonld_context() -> dict[str, Any]:
    """The local JSON-LD context (``ontology/context.jsonld``) or the project prefixes."""
    if CONTEXT_FILE.exists():
        ctx = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
        return dict(ctx.get("@context", ctx))
    return dict(PREFIXES)


def _beyond_jsonld(term: Any) -> tuple[str, str] | None:
    """What of RDF 1.2 in ``term`` rdflib's JSON-LD writer cannot carry: a triple term has no rdflib twin (it
    was a 500) and a base direction is dropped by ``to_rdflib`` ("x"@ar--rtl would come back as "x"@ar)."""
    if isinstance(term, ox.Triple):
        return "三元组词项", "a triple term"
    if isinstance(term, ox.Literal) and term.direction is not None:
        return (f"文字方向（{term.language}--{term.direction}）",
                f"a base direction ({term.language}--{term.direction})")
    return None


def triples_to_jsonld(triples: Iterable[Any]) -> bytes:
    g = rdflib.Graph()
    for p, ns in PREFIXES.items():
        g.bind(p, ns)
    for t in triples:
        beyond = _beyond_jsonld(t.object)
        if beyond:
            raise QueryError(
                f"结果中有{beyond[0]}，JSON-LD 无法表示 / the answer holds {beyond[1]}, which the JSON-LD answer "
                "cannot hold",
                hint="请改要 Turtle 或 N-Triples（Accept: text/turtle，或 ?format=ttl），它们能表示 RDF 1.2 / "
                     "ask for Turtle or N-Triples (Accept: text/turtle, or ?format=ttl), which hold RDF 1.2",
            )
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    text = g.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    return text.encode("utf-8")


def graph_answer(result: Any, media_type: str, max_rows: int, deadline: Deadline) -> Answer:
    triples, truncated = _take(result, max_rows, deadline)
    if media_type == JSONLD:
        data = triples_to_jsonld(triples)
    else:
        fmt = _OX_GRAPH[media_type]
        kwargs: dict[str, Any] = {"prefixes": _TURTLE_PREFIXES} if fmt == ox.RdfFormat.TURTLE else {}
        data = ox.serialize(triples, format=fmt, **kwargs) or b""  # type: ignore[assignment]
    return Answer(data, media_type, truncated, len(triples))


def run_query(
    store: Any, req: SparqlRequest, analysis: Analysis, media_type: str, deadline: Deadline, *, max_rows: int,
    max_bytes: int | None = None,
) -> Answer:
    """Run one query on ``store`` (a ``Store`` or ``RemoteStore``) and serialise its answer (blocking).

    The dataset is the protocol's when ``default-graph-uri``/``named-graph-uri`` are given (they
    replace the query's whole dataset: SPARQL 1.1 Protocol §2.1.4), else the query's own
    (``FROM``/``FROM NAMED``), else the union of all graphs as the default graph.
    """
    deadline.check()
    kwargs: dict[str, Any] = {}
    if req.default_graphs or req.named_graphs:
        kwargs["default_graph"] = req.default_graphs
        kwargs["named_graphs"] = req.named_graphs
    elif analysis.has_dataset:
        kwargs["union"] = False  # the union would replace the query's FROM
    try:
        result = store.query(req.query, **kwargs)
    except QueryError as e:
        # A plain query passed on its tokens alone (analyse): say where it is broken as the slow check
        # does, when that parser finds the fault too; otherwise the engine's own message stands.
        found = _parsed(req.query) if type(e) is QueryError else None
        if isinstance(found, _Refusal):
            raise found.error(found.message, hint=found.hint, details=found.details) from e
        raise
    if isinstance(result, ox.QueryBoolean) or isinstance(result, bool):
        if media_type not in ASK_TYPES.values():
            media_type = JSON_RESULTS
        return ask_answer(result, media_type)
    if isinstance(result, ox.QuerySolutions):
        if media_type not in RESULT_TYPES.values():
            media_type = JSON_RESULTS
        out = select_answer(result, media_type, max_rows, deadline)
    else:
        if media_type not in GRAPH_TYPES.values():
            media_type = TURTLE
        out = graph_answer(result, media_type, max_rows, deadline)
    if max_bytes is not None and len(out.body) > max_bytes:
        raise answer_too_large(len(out.body), max_bytes)
    return out


def answer_too_large(size: int, limit: int) -> AnswerTooLarge:
    """Why an answer within the row limit is not sent: the row limit bounds rows, not their size (ten rows of a
    string doubled 18 times are 170 MB), and every answer passes through the server whole, past the worker's
    memory ceiling; six such answers at once held gigabytes there."""
    return AnswerTooLarge(
        f"查询结果有 {size:,} 字节，超过 {limit:,} 字节的上限 / the answer is {size:,} bytes, more than the limit of "
        f"{limit:,} bytes (DCPA_MAX_ANSWER_BYTES)",
        hint="请少选几列或较短的值，或用 LIMIT/OFFSET 分页 / select fewer or shorter values, or page with LIMIT and "
             "OFFSET",
        details={"bytes": size, "max_answer_bytes": limit},
    )


def answer(
    store: Any, req: SparqlRequest, accept: str, max_rows: int, analysis: Analysis | None = None,
    max_bytes: int | None = None,
) -> Answer:
    """The whole answer to one protocol request — parse check, negotiation, execution, serialisation.

    Runs where a deadline can stop it: in a query worker process over its read-only open of the
    store (``kg.workers``), called as ``runner.call("api.sparql:answer", …)``. Parsing happens
    here too, so a pathological query text costs the worker, not the server; ``analysis`` is the
    server's memory of an earlier parse of the very same text (:func:`known`), which spares it.
    """
    deadline = current_deadline() or Deadline(float("inf"))
    if analysis is None:
        analysis = analyse(req.query)
    # the marker first: deciding on a query's own FROM parses it (rdflib, 35-100 ms), which only a write's moment
    # may cost. A remote store is refused whatever the dataset: there the protocol's graphs replace the query's
    # FROM but not its FROM NAMED nor its GRAPH <…> (Virtuoso), so the dataset is not what this reads.
    if derived.in_flux(store) and (not isinstance(store, Store) or reads_derived(req, analysis)):
        raise derived.unsettled(("此查询的数据集包含派生图（需求状态、理由、汇总）",
                                 "this query's dataset holds the derived graph (need states, reasons, summaries)"),
                                _BUSY_HINT)
    media_type = negotiate(analysis.form, accept, req.format)
    out = run_query(store, req, analysis, media_type, deadline, max_rows=max_rows, max_bytes=max_bytes)
    if req.format == SPREADSHEET and out.media_type == CSV:
        out.body = spreadsheet_answer(out, max_rows)
    out.analysis = analysis
    return out


def spreadsheet_answer(out: Answer, max_rows: int) -> bytes:
    """The page's "Download CSV": SPARQL CSV as a spreadsheet program reads it right, and when cut short, a last row
    saying so (a browser's download shows no header). Made here, in the worker: made by the server, a 60 MB answer
    held its event loop, and so every other request, for 2 s."""
    cut = (f"（结果已截断：只有前 {max_rows:,} 行，服务器的上限；请用 LIMIT/OFFSET 分页下载） / "
           f"(cut short: the first {max_rows:,} rows only, the server's limit; page with LIMIT and OFFSET)"
           if out.truncated else None)
    return spreadsheet_csv(out.body, note=cut)


_BUSY_HINT = ("请在写入结束后重试（见 Retry-After）；其间要读其他图，请指明它们：FROM "
              "<https://w3id.org/dcpa/graph/reference>，或 default-graph-uri 参数 / "
              "try again when the write ends (Retry-After); to read other graphs meanwhile, name them: FROM "
              "<https://w3id.org/dcpa/graph/reference>, or the default-graph-uri parameter")


def reads_derived(req: SparqlRequest, analysis: Analysis) -> bool:
    """Whether the query's dataset holds the derived graph: the union of every graph (no dataset named), or
    one that names it (``default-graph-uri``/``named-graph-uri``, else the query's own FROM/FROM NAMED).

    Why: a worker that opens the store while a write refreshes the derived graph (``kg.derived.in_flux``) sees
    its counts and states half refreshed; a query that cannot read them is answered as usual. Decided on the
    dataset, the protocol's or the parse's, never on the text.
    """
    if req.default_graphs or req.named_graphs:
        return str(GRAPH_DERIVED) in (*req.default_graphs, *req.named_graphs)
    return not analysis.has_dataset or str(GRAPH_DERIVED) in _dataset_graphs(req.query)


def _dataset_graphs(query: str) -> set[str]:
    """The graphs of a query's FROM and FROM NAMED, as absolute IRIs (rdflib's parse: rare, a write's moment);
    the derived graph when the parser cannot read the query, or when it has a BASE: rdflib resolves relative
    IRIs otherwise than RFC 3986 (which the engine follows: ``BASE <…/graph/> … FROM <./x:y/../derived>`` is the
    derived graph to it, not to rdflib), and without a BASE the engine takes no relative IRI."""
    try:
        parsed = _parse_query(query)
        if any(getattr(part, "name", "") == "Base" for part in parsed[0]):
            return {str(GRAPH_DERIVED)}
        prologue = translatePrologue(parsed[0], None)
        return {str(prologue.absolutize(clause[key])) for clause in parsed[1].get("datasetClause") or ()
                for key in ("default", "named") if key in clause}
    except Exception:  # noqa: BLE001 - not readable here: count it as reading every graph
        return {str(GRAPH_DERIVED)}


# Parses the workers made, remembered by the server for all of them: each worker has a cache of its own,
# so without this a query text is parsed once per worker (~12 ms for a 2 KB catalogue query; measured
# over HTTP with 50 distinct texts: p90 13.3 ms instead of 1.7 ms).
_KNOWN: OrderedDict[str, Analysis] = OrderedDict()
_KNOWN_LOCK = threading.Lock()


def known(query: str) -> Analysis | None:
    """What a worker's parse of this exact text found, if the server has seen it answered."""
    with _KNOWN_LOCK:
        found = _KNOWN.get(query)
        if found is not None:
            _KNOWN.move_to_end(query)
        return found


def remember(query: str, analysis: Analysis | None) -> None:
    if analysis is None or len(query) > _CACHED_QUERY_CHARS:
        return
    with _KNOWN_LOCK:
        _KNOWN[query] = analysis
        _KNOWN.move_to_end(query)
        while len(_KNOWN) > 512:
            _KNOWN.popitem(last=False)


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
    "http://www.w3.org/ns/formats/N3",
    "http://www.w3.org/ns/formats/TriG",
    "http://www.w3.org/ns/formats/N-Quads",
]


def service_description(endpoint: str, graphs: list[str], *, max_rows: int, timeout: float) -> rdflib.Graph:
    """The SPARQL 1.1 Service Description of this endpoint, as an RDF graph."""
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
_RDFLIB_FORMATS.update({t: _RDFLIB_FORMATS[same] for t, same in _SAME_BYTES.items()})


def serialize_graph(g: rdflib.Graph, media_type: str) -> bytes:
    data = g.serialize(format=_RDFLIB_FORMATS.get(media_type, "turtle"), encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")
