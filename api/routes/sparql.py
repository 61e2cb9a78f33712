"""``/sparql``: the SPARQL 1.1 Protocol endpoint, its service description and the query page.

The protocol logic is in :mod:`api.sparql`; this module only reads the HTTP request and
writes the HTTP response.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kg import viz
from kg.catalogue import default_values, load_catalogue
from kg.inline import inline
from kg.namespaces import sparql_prefixes
from kg.safetext import download_name
from kg.settings import Settings
from kg.workers import ClientSlots

from .. import sparql as sp
from .. import urls
from ..compression import MIN_BYTES, takes_gzip
from ..deps import client_of, query_runner
from ..paths import pages
from ..qvalues import preferred
from ..representation import attachment
from ..result_cache import CACHE_HEADER, ResultCache

router = APIRouter(tags=["sparql"])

_DOC = (
    "SPARQL 1.1 Protocol endpoint (read-only). GET `?query=`, POST form-encoded `query=` or POST "
    "`application/sparql-query`; `default-graph-uri` / `named-graph-uri` choose the dataset. "
    "SELECT answers `application/sparql-results+json` (default), `+xml`, `text/csv`, "
    "`text/tab-separated-values` (or `?format=json|xml|csv|tsv`; `?format=spreadsheet`: CSV for a "
    "spreadsheet program, with a BOM and formulas escaped, as the page's download); ASK the JSON or XML results "
    "(SPARQL 1.1's CSV and TSV results hold no boolean: 406); "
    "CONSTRUCT/DESCRIBE answer `text/turtle` (default), "
    "`application/n-triples`, `application/rdf+xml`, `application/ld+json`, `text/n3`, `application/trig`, "
    "`application/n-quads` (the Turtle or N-Triples bytes: a graph's answer is the default graph) "
    "(or `?format=ttl|nt|xml|jsonld|n3|trig|nq`); a "
    "`?format=` of the other forms' formats (`turtle` for a SELECT, `csv` for a CONSTRUCT) gets 406. Updates, LOAD and "
    "SERVICE are refused (403); a malformed query gets 400 with the parser's message; an Accept header that "
    "admits none of the query form's formats (`text/turtle` for a SELECT) gets 406; a query past "
    "its time limit gets 503, past its memory limit 507, one more than a client may have running at once "
    "(`DCPA_CLIENT_QUERIES`) or past its query time a minute (`DCPA_CLIENT_QUERY_SECONDS`) 429 with a "
    "`Retry-After`, an answer larger than `DCPA_MAX_ANSWER_BYTES` 507 "
    "too; an answer cut at the row limit has the header "
    "`X-DCPA-Truncated: true`. `FROM`/`FROM NAMED` are honoured; without any dataset the default graph "
    "is the union of all graphs. The same request on the same data is answered from memory "
    "(`X-DCPA-Result-Cache: hit`); every write forgets those answers. "
    "Without a query: the service description (RDF) or, for browsers, the query editor."
)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Query results",
        "content": {t: {} for t in (sp.JSON_RESULTS, sp.XML_RESULTS, sp.CSV, sp.TSV, *sp.GRAPH_TYPES.values())},
    },
    400: {"description": "Malformed query (the parser's message)"},
    403: {"description": "Update, LOAD or SERVICE refused"},
    406: {"description": "The Accept header admits none of the formats of the query's form"},
    429: {"description": "The client has as many queries running as one client may (DCPA_CLIENT_QUERIES), or has "
                         "used its query time (DCPA_CLIENT_QUERY_SECONDS); Retry-After says when to try again"},
    503: {"description": "Time limit reached"},
    507: {"description": "Memory limit reached, or the answer is larger than DCPA_MAX_ANSWER_BYTES"},
}


async def _answer(request: Request, body: bytes) -> Response:
    settings: Settings = request.app.state.settings
    req = sp.parse_request(
        request.method,
        request.headers.get("content-type", ""),
        request.url.query,
        body,
        max_bytes=settings.max_query_bytes,
    )
    accept = request.headers.get("accept", "")
    if req is None:
        return _no_query(request, accept)
    runner = query_runner(request)
    cache: ResultCache = request.app.state.result_cache
    store = request.app.state.store
    key = cache.request_key(req, accept, settings.max_rows)
    version = cache.version(store, runner)  # read before the query runs (see api.result_cache)
    answer = cache.get(store, version, key)
    headers = {"Vary": "Accept", CACHE_HEADER: "hit" if answer is not None else "miss"}
    if answer is None:  # a kept answer takes no worker, so it is never refused for its client's other queries
        slots: ClientSlots = request.app.state.client_slots
        with slots.hold(client_of(request), settings.query_timeout):
            answer = await runner.call(
                "api.sparql:answer", req, accept, settings.max_rows, sp.known(req.query), settings.max_answer_bytes,
                timeout=settings.query_timeout,
            )
        sp.remember(req.query, answer.analysis)
        cache.put(store, version, key, answer, runner)
    if answer.truncated:
        headers[sp.TRUNCATED_HEADER] = "true"
    if req.format == sp.SPREADSHEET and answer.media_type == sp.CSV:  # the page's "Download CSV", made by the worker
        cut = f"first-{settings.max_rows}-rows" if answer.truncated else None
        headers.update(attachment(download_name("sparql-results", "csv", details=[cut])))
    charset = "" if answer.media_type in (sp.JSONLD,) else "; charset=utf-8"
    body = answer.body
    if (settings.compress_level and len(body) >= MIN_BYTES
            and takes_gzip(request.headers.get("accept-encoding", ""))):
        # a kept answer is sent with its kept gzip bytes, which the middleware passes on (see api.result_cache)
        packed = await cache.gzipped(key, answer, settings.compress_level)
        if packed is not None:
            body = packed
            headers.update({"Content-Encoding": "gzip", "Vary": "Accept, Accept-Encoding"})
    return Response(body, media_type=answer.media_type + charset, headers=headers)


def _wants_html(accept: str) -> bool:
    types = preferred(accept)
    return bool(types) and types[0] in ("text/html", "application/xhtml+xml")


def _no_query(request: Request, accept: str) -> Response:
    fmt = sp.requested_format(request.url.query)
    if fmt is None and _wants_html(accept):
        page = sparql_page(request)
        page.headers["Vary"] = "Accept"  # the same address is the service description to every other client
        return page
    settings: Settings = request.app.state.settings
    endpoint = str(request.url.replace(query=""))
    graphs = request.app.state.store.graphs()
    g = sp.service_description(endpoint, graphs, max_rows=settings.max_rows, timeout=settings.query_timeout)
    media_type = sp.negotiate(sp.SERVICE_DESCRIPTION, accept, fmt)
    return Response(sp.serialize_graph(g, media_type), media_type=media_type, headers={"Vary": "Accept"})


def _examples(lang: str) -> list[dict[str, str]]:
    """The query catalogue as editor tabs: the PREFIX block, then the text with default parameters."""
    tabs = []
    for q in load_catalogue().values():
        values = default_values(q)
        text = sparql_prefixes() + inline(q.text, values)
        title = (q.title_en or q.title_zh) if lang == "en" else (q.title_zh or q.title_en)
        tabs.append({"name": q.name, "title": title or q.name, "text": text})
    return tabs


def sparql_page(request: Request) -> HTMLResponse:
    """The query editor in the page's language (``?lang=en``; Chinese by default), its links keeping it."""
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    ctx = viz.page_context(lang)
    ctx.update(examples_json=viz.embed_json(_examples(lang)), home_href=urls.home(lang=lang),
               ontology_href=f"/views/ontology?lang={lang}")
    return HTMLResponse(pages().get_template("sparql.html").render(**ctx))


_GET_PARAMS = {
    "parameters": [
        {
            "name": "query",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "example": "SELECT ?v ?name WHERE { ?v a dcpa:Village ; rdfs:label ?name } LIMIT 10",
            "description": "The SPARQL query (without it: the service description or the query page)",
        },
        {"name": "default-graph-uri", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "named-graph-uri", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
}


@router.get(
    "/sparql",
    summary="SPARQL endpoint (GET) / SPARQL 查询端点",
    description=_DOC,
    responses=_RESPONSES,
    openapi_extra=_GET_PARAMS,
)
async def sparql_get(request: Request) -> Response:
    return await _answer(request, b"")


@router.post(
    "/sparql",
    summary="SPARQL endpoint (POST) / SPARQL 查询端点",
    description=_DOC,
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/sparql-query": {"schema": {"type": "string"}},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "string"},
                            "named-graph-uri": {"type": "string"},
                        },
                        "required": ["query"],
                    }
                },
            }
        }
    },
)
async def sparql_post(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    body = b""
    limit = sp.body_limit(settings.max_query_bytes)
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            break
    return await _answer(request, body)


@router.get("/sparql.html", summary="SPARQL query page / SPARQL 查询页面", response_class=HTMLResponse)
def sparql_html(request: Request) -> HTMLResponse:
    return sparql_page(request)
