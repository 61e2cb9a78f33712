"""The JSON API's refusals, the library's and the routes' own, say what is wrong in Chinese first, then in
English (``中文 / English``), message and hint: the English as it was, for scripts that match it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


#: (method, path, JSON body as sent) → (status, the English the message keeps, the English the hint keeps)
CASES: dict[tuple[str, str, Any], tuple[int, str, str]] = {
    # the library's, as the routes pass them on
    ("GET", "/api/policies/P99", None): (404, "no policy with id 'P99'", "list them with /api/policies"),
    ("GET", "/api/model/2101", None): (422, "the model page is for a county, a township or a village, not a city",
                                       "open a county"),
    ("GET", "/api/areas/210123/recommendations?village=210124000000", None):
        (422, "210124000000 is not a village-level unit within 210123", "give 12-digit codes"),
    ("GET", "/api/queries/needs_by_type?lang=fr", None):
        (422, "parameter lang='fr' is not a language the labels are in", "lang: language of the labels"),
    ("GET", "/api/villages?q=a b c d e f", None): (400, "the search has 6 words; at most 5", "search by name"),
    ("POST", "/api/imports/20990101T000000Z-000000/withdraw", "{}"):
        (404, "no import batch '20990101T000000Z-000000'", "lists the batches"),
    # the routes' own
    ("GET", "/api/queries/needs_by_type?colour=red", None):
        (422, "query 'needs_by_type' has no parameter colour", "its parameters are: area, lang"),
    ("GET", "/api/queries/no_such", None): (404, "no stored query named 'no_such'", "list them with /api/queries"),
    ("GET", "/api/gaps?start=2018-01-01", None): (422, "give both start and end, or neither", "e.g. start=2018"),
    ("GET", "/dashboard/data/nothing.csv", None): (404, "no chart 'nothing'", "charts: area"),
    ("POST", "/api/needs", "[]"): (422, "no records given", "send one record"),
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} {c[1]} {c[2]}")
def test_api_refusals_are_chinese_first(make_client: Callable[..., TestClient], case: tuple[str, str, Any],
                                        zh_first: Callable[..., None]) -> None:
    method, path, body = case
    status, english, hint = CASES[case]
    client = make_client(api_token=TOKEN)
    r = client.request(method, path, content=body,
                       headers={**AUTH, "Content-Type": "application/json"} if body is not None else None)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    zh_first(err["message"], english)
    zh_first(err["hint"], hint)


def test_a_second_server_of_a_store_is_told_chinese_first(tmp_path: Path, zh_first: Callable[..., None]) -> None:
    """`dcpa serve` on a store another `dcpa serve` serves stops at once, naming the first: in English alone."""
    from api.serving import ServedStore
    from kg import versions
    from kg.errors import StoreBusy

    from ..core.conftest import writer_lock_held
    from .conftest import make_settings

    settings = make_settings(tmp_path)
    with writer_lock_held(settings.store_path, "serve") as pid, pytest.raises(StoreBusy) as e:
        ServedStore.open(SimpleNamespace(), settings)
    zh_first(e.value.message, f"dcpa serve (pid {pid}) already serves the store at "
                              f"{versions.pointer(settings.store_path)}")
    zh_first(e.value.hint, "stop it first, or serve another store (DCPA_STORE_PATH)")


#: The SPARQL endpoint's refusals: (method, URL query, Content-Type, body) → (status, the English the message keeps,
#: the English the hint keeps).
SPARQL_CASES: dict[tuple[str, str, str | None, bytes], tuple[int, str, str]] = {
    ("POST", "", "application/sparql-update", b"INSERT DATA { <a:b> <a:c> <a:d> }"):
        (403, "this endpoint is read-only: SPARQL updates are refused", "change data with `dcpa import`"),
    ("GET", "update=CLEAR%20ALL", None, b""):
        (403, "this endpoint is read-only: SPARQL updates are refused", "change data with `dcpa import`"),
    ("POST", "", "application/sparql-query", b"INSERT DATA { <a:b> <a:c> <a:d> }"):
        (403, "this endpoint is read-only: SPARQL updates are refused", "the authenticated write API"),
    ("POST", "", "application/json", b"{}"):
        (400, "unsupported content type 'application/json'", "POST application/x-www-form-urlencoded (query=…)"),
    ("POST", "", "application/x-www-form-urlencoded", b"default-graph-uri=x"):
        (400, "the POST request carries no query", "send query=… in the form body"),
    ("GET", "query=ASK%7B%7D&query=ASK%7B%7D", None, b""):
        (400, "more than one query in the request", "send exactly one `query` parameter"),
    ("POST", "", "application/sparql-query", b"ASK { ?s ?p '\xff' }"):
        (400, "the query is not UTF-8", "send the query as UTF-8"),
    ("POST", "", "application/x-www-form-urlencoded", b"query=ASK\xff"):
        (400, "the form body is not UTF-8", "send the query as UTF-8"),
    ("GET", "query=ASK%FF", None, b""):
        (400, "the percent-encoded bytes of the URL are not UTF-8", "percent-encode the query's UTF-8 bytes"),
    ("GET", "query=ASK%7B%7D&default-graph-uri=reference", None, b""):
        (400, "default-graph-uri 'reference' is not an absolute IRI", "give the full IRI of a named graph"),
    ("POST", "", "application/sparql-query", b"ASK {} #" + b"x" * 100_000):
        (400, "bytes long (UTF-8); the limit is 100000", "send a shorter query (DCPA_MAX_QUERY_BYTES)"),
    # what the query is, decided on its parse
    ("POST", "", "application/sparql-query", b"SELECT * { SERVICE <http://e/s> { ?s ?p ?o } }"):
        (403, "SERVICE is refused: this endpoint never sends queries to other endpoints",
         "run the federated part of the query against the remote endpoint yourself"),
    ("POST", "", "application/sparql-query", b"LOAD <http://e/data.ttl>"):
        (403, "LOAD is refused: this endpoint never fetches remote data", "load data with `dcpa import`"),
    ("POST", "", "application/sparql-query", b"PREFIX ex: <http://e/>"):
        (400, "the query is empty: it holds no SELECT, ASK, CONSTRUCT or DESCRIBE", "write a query after the prefixes"),
    ("POST", "", "application/sparql-query", b"SELECT * { " + b"{ " * 300 + b"}" * 300 + b" }"):
        (400, "the query is too complex to run safely: it is nested 301 deep", "split it into smaller queries"),
    ("POST", "", "application/sparql-query", b"SELECT * { ?s ?p -1.5 } # no SERVICE here"):
        (400, "the query cannot be checked, so it is not run", "write the failing part another way"),
    ("POST", "", "application/sparql-query", b"SELECT * WHERE {\n  ?s foo:p ?o }"):
        (400, "SPARQL syntax error at line 2, column 6: the prefix foo: is not declared", "these prefixes need no"),
    ("POST", "", "application/sparql-query", b"SELECT * WHERE { ?s ?p ?o"):
        (400, "SPARQL syntax error at line 1, column 26: expected", "check the query near: SELECT * WHERE"),
    ("POST", "", "application/sparql-query", b"SELECT * WHERE { ?s ?p ?o } GROUP BY ?s"):
        (400, "SELECT * cannot be used with GROUP BY", "name what is grouped and the aggregates instead of *"),
}


@pytest.mark.parametrize("case", SPARQL_CASES, ids=lambda c: f"{c[0]} {c[1][:40]} {c[2]} {c[3][:40]!r}")
def test_sparql_refusals_are_chinese_first(sparql_url: str, case: tuple[str, str, str | None, bytes],
                                           zh_first: Callable[..., None]) -> None:
    """What a researcher reads from /sparql (the query page shows it whole), as the rest of the service says it."""
    method, query, ctype, body = case
    status, english, hint = SPARQL_CASES[case]
    r = httpx.request(method, sparql_url + ("?" + query if query else ""), content=body or None,
                      headers={"Content-Type": ctype} if ctype else None)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    zh_first(err["message"], english)
    zh_first(err["hint"], hint)


def test_the_row_limit_is_said_chinese_first(sparql_url: str, zh_first: Callable[..., None]) -> None:
    """The note a cut SELECT answer carries in its JSON (``dcpa``), beside the X-DCPA-Truncated header."""
    r = httpx.get(sparql_url, params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                  headers={"Accept": "application/sparql-results+json"})
    assert r.headers["X-DCPA-Truncated"] == "true"
    zh_first(r.json()["dcpa"]["message"], "the answer was cut at ")


def test_a_triple_term_asked_for_as_json_ld_is_said_chinese_first(zh_first: Callable[..., None]) -> None:
    import pyoxigraph as ox

    from api.sparql import triples_to_jsonld
    from kg.errors import QueryError

    e, p = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p")
    with pytest.raises(QueryError) as info:
        triples_to_jsonld([ox.Triple(e, p, ox.Triple(e, p, e))])
    zh_first(info.value.message, "the answer holds a triple term, which the JSON-LD answer cannot hold")
    zh_first(info.value.hint, "ask for Turtle or N-Triples")


def test_a_query_body_past_its_limit_is_said_chinese_first(zh_first: Callable[..., None]) -> None:
    """The endpoint's own check of a body (the guard before it refuses most such bodies): Chinese first too."""
    from api.sparql import parse_request
    from kg.errors import QueryError

    with pytest.raises(QueryError) as e:
        parse_request("POST", "application/sparql-query", "", b"x" * 9_000, max_bytes=100)
    zh_first(e.value.message, "the request body is larger than 8492 bytes, the limit for queries of 100 bytes")
    zh_first(e.value.hint, "send a shorter query (DCPA_MAX_QUERY_BYTES)")


def test_the_query_workers_refusals_are_chinese_first(zh_first: Callable[..., None]) -> None:
    """What /sparql says when its query's worker stops it (time, memory, the store failing under it): the memory
    hint's Chinese named "ORDER BY / GROUP BY / DISTINCT", whose " / " parted it from the English too early."""
    from kg import workers

    said = {
        "time limit": (workers.query_timeout(2), "the query ran longer than its time limit of 2 s",
                       "start from the most selective pattern"),
        "memory": (workers.WorkerPool._memory_error(SimpleNamespace(memory_mb=512)),  # type: ignore[arg-type]
                   "the query needed more memory than its limit of 512 MB", "add a LIMIT, avoid ORDER BY / GROUP BY"),
        "store failed": (workers.store_failed(OSError("gone")), "the store failed while answering: gone", "try again"),
    }
    for what, (e, english, hint) in said.items():
        zh_first(e.message, english)
        zh_first(e.hint, hint)
        for text in (e.message, str(e.hint)):  # the English half is English alone
            assert not any("\u4e00" <= c <= "\u9fff" for c in text.partition(" / ")[2]), (what, text)


def test_the_http_guards_refusals_are_chinese_first(zh_first: Callable[..., None]) -> None:
    """What a client of /sparql (and of every route) reads when the server's guards refuse its request before any
    route runs (tests/hardening/test_http.py meets each over a socket)."""
    from api import guards, server

    said = {
        "413 open": (guards.body_too_large(20480, gated=False), "the request body is larger than 20480 bytes, the "
                     "most a request without the write token may send", "send a shorter query or request"),
        "413 gated": (guards.body_too_large(65536, gated=True), "the request body is larger than 65536 bytes",
                      "send less at once"),
        "408 body": (guards.body_too_slow(10, 500), "the request body arrived too slowly (after 10 bytes)",
                     "send the body at 500 bytes per second or faster"),
        "408 head": (server.head_too_slow(20), "the request line and headers did not arrive within 20 seconds",
                     "send the whole request head at once"),
        "431": (server.head_too_large(308192), "the request line and headers are longer than 308192 bytes",
                "send a long query by POST"),
        "414": (server.url_too_long(70000), "the request URL is 70000 bytes long; the server reads at most 65535",
                "send a long query by POST"),
        "400": (server.NOT_HTTP, "the request is not valid HTTP/1.1", "check the request line and the headers"),
    }
    for (message, hint), english, english_hint in said.values():
        zh_first(message, english)
        zh_first(hint, english_hint)


@pytest.mark.parametrize(("status", "headers", "body", "english", "hint"), [
    (400, {}, b"Parse error", "the remote store refused the query: Parse error", None),
    (500, {}, b"boom", "the remote store answered 500 to the query: boom", None),
    (200, {"content-type": "application/sparql-results+json"}, b"{", "the remote store sent an answer that cannot be "
     "read (application/sparql-results+json)", None),
    (200, {"content-type": "application/sparql-results+json", "X-SPARQL-MaxRows": "10000"},
     b'{"head":{"vars":["s"]},"results":{"bindings":[]}}', "the remote store sent only part of the answer",
     "raise the store's result row limit"),
])
def test_a_remote_stores_refusal_of_a_query_is_chinese_first(status: int, headers: dict[str, str], body: bytes,
                                                             english: str, hint: str | None,
                                                             zh_first: Callable[..., None]) -> None:
    """What /sparql passes on from the remote store it serves (DCPA_SPARQL_ENDPOINT)."""
    from kg.errors import DcpaError
    from kg.remote import RemoteStore

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body)

    s = RemoteStore("http://store.invalid/sparql", client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(DcpaError) as e:
        s.select("SELECT ?s WHERE { ?s ?p ?o }")
    zh_first(e.value.message, english)
    if hint:
        zh_first(e.value.hint, hint)


def test_a_remote_store_out_of_reach_or_time_is_said_chinese_first(zh_first: Callable[..., None]) -> None:
    from kg.errors import DcpaError
    from kg.remote import RemoteStore

    for error, english in ((httpx.ConnectError("refused"), "cannot reach the remote store at http://store.invalid"),
                           (httpx.ReadTimeout("slow"), "the remote store did not answer within 30 s")):
        def handler(request: httpx.Request, error: Exception = error) -> httpx.Response:
            raise error

        s = RemoteStore("http://store.invalid/sparql", client=httpx.Client(transport=httpx.MockTransport(handler)))
        with pytest.raises(DcpaError) as e:
            s.select("ASK { ?s ?p ?o }")
        zh_first(e.value.message, english)


def test_the_endpoints_limits_already_bilingual_stay_so(sparql_url: str, zh_first: Callable[..., None]) -> None:
    """406 (no format the request accepts), 507 (an answer past DCPA_MAX_ANSWER_BYTES), 503 and 507 of a query's
    worker (tested above): Chinese first, kept so."""
    from api.sparql import answer_too_large

    r = httpx.get(sparql_url, params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406, r.text
    zh_first(r.json()["error"]["message"], "no format the request accepts (text/turtle) can hold the answer of an ASK")
    zh_first(r.json()["error"]["hint"], "accept one of application/sparql-results+json")
    e = answer_too_large(2_000_000, 1_000_000)
    zh_first(e.message, "the answer is 2,000,000 bytes, more than the limit of 1,000,000 bytes (DCPA_MAX_ANSWER_BYTES)")
    zh_first(e.hint, "select fewer or shorter values")


def test_the_frameworks_own_refusals_are_chinese_first(make_client: Callable[..., TestClient],
                                                       zh_first: Callable[..., None]) -> None:
    """An upload whose multipart body has no boundary was refused 400 "Missing boundary in multipart." (Starlette's
    words) alone: it now has the status's heading in Chinese before it."""
    r = make_client(api_token=TOKEN).post("/api/imports", content=b"x",
                                          headers={**AUTH, "Content-Type": "multipart/form-data"})
    assert r.status_code == 400, r.text
    zh_first(r.json()["error"]["message"], "Missing boundary in multipart.")
