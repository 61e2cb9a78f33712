"""SERVICE, LOAD and updates are refused on the parsed query, however they are written.

The server here runs queries in threads over an in-memory store, with the network: a SERVICE
call that got past the check would reach the loopback listener, which must see no connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from kg.store import Store

from .test_sparql_unit import SERVICE_TRICKS

LISTENED = "<http://127.0.0.1:9/sparql>"


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as s:
        s.setblocking(False)
        yield s


def connections(listener: socket.socket) -> int:
    """How many connections reached the listener since last asked."""
    n = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


def aimed(query: str, listener: socket.socket) -> str:
    port = listener.getsockname()[1]
    return query.replace("127.0.0.1:9/", f"127.0.0.1:{port}/")


def test_the_listener_would_see_a_service_call(listener: socket.socket) -> None:
    """The control: run unchecked, a SERVICE call does reach the listener (so the tests below can fail)."""
    connections(listener)
    query = aimed(f"SELECT * {{ SERVICE {LISTENED} {{ ?s ?p ?o }} }}", listener)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            list(Store.memory().query(query))
        except OSError as e:
            outcome.append(e)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    listener.setblocking(True)
    listener.settimeout(10)
    try:
        conn, _ = listener.accept()
        conn.close()  # hang up: the engine's call fails instead of waiting for an answer
    finally:
        listener.setblocking(False)
    caller.join(30)
    assert outcome, "the engine did not report the failed SERVICE call"


@pytest.mark.parametrize("query", SERVICE_TRICKS.values(), ids=SERVICE_TRICKS.keys())
def test_service_tricks_are_refused_and_reach_nothing(sparql_url: str, listener: socket.socket, query: str) -> None:
    connections(listener)
    q = aimed(query, listener)
    for r in (
        httpx.get(sparql_url, params={"query": q}, timeout=30),
        httpx.post(sparql_url, content=q.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30),
    ):
        assert r.status_code == 403, r.text
        err = r.json()["error"]
        assert err["code"] == "query_refused" and "SERVICE" in err["message"]
    assert connections(listener) == 0


def test_what_the_parser_cannot_read_is_400_and_reaches_nothing(sparql_url: str, listener: socket.socket) -> None:
    """SPARQL 1.2 syntax the engine would run: refused, because the check cannot read it."""
    connections(listener)
    q = aimed(f"SELECT * WHERE {{ LATERAL {{ SERVICE {LISTENED} {{ ?s ?p ?o }} }} }}", listener)
    r = httpx.get(sparql_url, params={"query": q}, timeout=30)
    assert r.status_code == 400
    assert "line 1, column" in r.json()["error"]["message"]
    assert connections(listener) == 0


@pytest.mark.parametrize(
    "query",
    [
        "LOAD <http://127.0.0.1:9/data.ttl>",
        "load silent <http://127.0.0.1:9/data.ttl> into graph <http://g>",
        "CLEAR ALL ; LOAD <http://127.0.0.1:9/data.ttl>",
    ],
)
def test_load_is_refused_and_fetches_nothing(sparql_url: str, listener: socket.socket, query: str) -> None:
    connections(listener)
    q = aimed(query, listener)
    for r in (
        httpx.get(sparql_url, params={"query": q}),
        httpx.post(sparql_url, data={"update": q}),
    ):
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "query_refused"
    assert "LOAD" in httpx.get(sparql_url, params={"query": q}).json()["error"]["message"]
    assert connections(listener) == 0


def test_service_with_a_variable_is_403_not_500(sparql_url: str) -> None:
    r = httpx.get(sparql_url, params={"query": "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "query_refused"
