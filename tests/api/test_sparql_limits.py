"""Time limits: a query past its deadline is stopped with 503, and never stalls other requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kg.store import Store

from .conftest import LiveServer, load_fixture, make_settings
from .test_sparql_scan import CRASHED_AT, hostile, largest_accepted

#: A cross join of the whole store with itself, three times: billions of rows, streamed.
CROSS_JOIN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_timeout_answers_503(make_client: Callable[..., TestClient]) -> None:
    client = make_client(query_timeout=0.3, max_rows=10**9)
    r = client.get("/sparql", params={"query": CROSS_JOIN})
    assert r.status_code == 503
    err = r.json()["error"]
    assert err["code"] == "query_timeout"
    assert "0.3 s" in err["message"]
    # The endpoint still answers afterwards. Its worker, stopped at the deadline, is replaced; a query sent
    # meanwhile can spend its own 0.3 s waiting for that (it did once, in a clean-clone run of the suite).
    deadline = time.monotonic() + 30
    while (ok := client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})).status_code == 503:
        assert time.monotonic() < deadline, ok.json()
        time.sleep(0.05)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_slow_query_does_not_stall_a_fast_one(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, query_timeout=2.0, max_rows=10**9), load_fixture(Store.memory()))
    live = LiveServer(app)
    try:
        url = live.url + "/sparql"
        slow: dict[str, int] = {}

        def run_slow() -> None:
            slow["status"] = httpx.get(url, params={"query": CROSS_JOIN}, timeout=30).status_code

        t = threading.Thread(target=run_slow)
        t.start()
        fast = httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        fast_done_while_slow_ran = t.is_alive()
        t.join()
        assert fast.status_code == 200
        assert fast_done_while_slow_ran
        assert slow["status"] == 503
    finally:
        live.stop()


def test_the_largest_queries_the_limits_accept_run_in_the_servers_threads(
        make_client: Callable[..., TestClient]) -> None:
    """Over an in-memory store queries run in the server's own threads, where a stack overflow would end the
    server: the largest of each kind that once crashed the engine answers there too (api.sparql_scan)."""
    client = make_client()
    for kind in CRASHED_AT:
        r = client.post("/sparql", data={"query": hostile(kind, largest_accepted(kind))})
        assert r.status_code == 200, (kind, r.text)
        r = client.post("/sparql", data={"query": hostile(kind, CRASHED_AT[kind])})
        assert r.status_code == 400 and "too complex" in r.json()["error"]["message"], kind


def _long_strings(rows: int, doublings: int) -> str:
    """``rows`` rows, each ?big a string doubled ``doublings`` times (64 characters → 64·2ⁿ): few rows, many bytes."""
    doubled = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(doublings))
    values = " ".join(str(i) for i in range(rows))
    return (f'WHERE {{ VALUES ?i {{ {values} }} BIND(CONCAT(STR(?i), "{"x" * 63}") AS ?s0) {doubled} '
            f'BIND(?s{doublings} AS ?big) BIND(IRI(CONCAT("urn:row:", STR(?i))) AS ?row) }}')


@pytest.mark.parametrize(("form", "fmt"), [
    ("SELECT", "json"), ("SELECT", "xml"), ("SELECT", "csv"), ("SELECT", "tsv"), ("SELECT", "spreadsheet"),
    ("CONSTRUCT", "ttl"), ("CONSTRUCT", "nt"), ("CONSTRUCT", "rdfxml"), ("CONSTRUCT", "jsonld"),
])
def test_an_answer_past_the_byte_limit_is_refused_in_every_format(
        make_client: Callable[..., TestClient], zh_first: Callable[..., None], form: str, fmt: str) -> None:
    """Ten rows under the row limit can still be any size: a string doubled 18 times is 17 MB, and such an
    answer (170 MB) went through the server whole, in every format. Past DCPA_MAX_ANSWER_BYTES it is 507."""
    client = make_client(max_answer_bytes=200_000)
    head = "SELECT ?i ?big" if form == "SELECT" else "CONSTRUCT { ?row <urn:p> ?big }"
    big = client.get("/sparql", params={"query": f"{head} {_long_strings(10, 12)}", "format": fmt})
    assert big.status_code == 507, big.text[:300]
    err = big.json()["error"]
    assert err["code"] == "answer_too_large"
    zh_first(err["message"], "more than the limit of 200,000 bytes")
    zh_first(err["hint"], "LIMIT")
    small = client.get("/sparql", params={"query": f"{head} {_long_strings(10, 8)}", "format": fmt})
    assert small.status_code == 200 and 10 * 64 * 2**8 < len(small.content) < 200_000
