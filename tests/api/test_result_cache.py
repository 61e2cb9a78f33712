"""The server's SPARQL result cache: the same request on the same data costs no query worker, and a
write is seen by the very next request (never yesterday's answer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.middleware.gzip import GZipResponder

import api.result_cache
from api.result_cache import CACHE_HEADER, ResultCache
from api.sparql import Answer, SparqlRequest
from kg.store import Store

from .conftest import TOKEN, load_fixture
from .test_sparql_workers import needs, point_lookup, served
from .test_writes import AUTH, NEED

pytestmark = pytest.mark.timeout(180)

JSON = {"Accept": "application/sparql-results+json"}


def test_a_repeated_request_is_answered_without_a_worker_until_a_write(tmp_path: Path) -> None:
    with served(tmp_path, api_token=TOKEN) as (url, pool):
        first = httpx.post(url, data={"query": needs()}, headers=JSON)
        assert first.status_code == 200 and first.headers[CACHE_HEADER] == "miss"
        answered = pool.state().answered
        again = httpx.post(url, data={"query": needs()}, headers=JSON)
        assert again.headers[CACHE_HEADER] == "hit" and again.content == first.content
        assert pool.state().answered == answered  # no worker ran
        # the same query asked for CSV is another answer
        csv = httpx.post(url, data={"query": needs()}, headers={"Accept": "text/csv"})
        assert csv.headers[CACHE_HEADER] == "miss" and csv.text.splitlines() == ["c", "3"]
        # a write: the next request computes again and sees it
        r = httpx.post(url.replace("/sparql", "/api/needs"), json=NEED, headers=AUTH, timeout=60)
        assert r.status_code == 201, r.text
        after = httpx.post(url, data={"query": needs()}, headers=JSON)
        assert after.headers[CACHE_HEADER] == "miss"
        assert after.json()["results"]["bindings"][0]["c"]["value"] == "4"
        assert httpx.post(url, data={"query": needs()}, headers=JSON).headers[CACHE_HEADER] == "hit"


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    with served(tmp_path, result_cache_mb=0) as (url, pool):
        for _ in range(2):
            r = httpx.get(url, params={"query": point_lookup()}, headers=JSON)
            assert r.status_code == 200 and r.headers[CACHE_HEADER] == "miss"
        assert pool.state().answered >= 2


def test_an_answer_computed_while_the_data_moved_is_not_kept() -> None:
    """The version is read before the query runs; a write landing meanwhile keeps the answer out."""
    store = load_fixture(Store.memory())
    cache = ResultCache(1 << 20)
    key = cache.request_key(SparqlRequest("ASK {}"), "", 10)
    answer = Answer(b"old", "application/sparql-results+json")
    before = cache.version(store, None)
    store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # lands while the query "runs"
    cache.put(store, before, key, answer, None)
    assert cache.get(store, cache.version(store, None), key) is None and len(cache) == 0
    now = cache.version(store, None)
    cache.put(store, now, key, answer, None)
    assert cache.get(store, now, key) is answer
    store.update("INSERT DATA { <urn:a> <urn:b> <urn:d> }")
    assert cache.get(store, cache.version(store, None), key) is None  # the next write forgets it


def test_the_cache_keeps_to_its_size() -> None:
    store = load_fixture(Store.memory())
    cache = ResultCache(2500)
    v = cache.version(store, None)
    for i in range(5):
        cache.put(store, v, cache.request_key(SparqlRequest(f"ASK {{ <urn:{i}> ?p ?o }}"), "", 10),
                  Answer(b"x" * 1000, "text/csv"), None)
    assert len(cache) == 2  # the two latest; the oldest went first
    assert cache.get(store, v, cache.request_key(SparqlRequest("ASK { <urn:4> ?p ?o }"), "", 10)) is not None
    assert cache.get(store, v, cache.request_key(SparqlRequest("ASK { <urn:0> ?p ?o }"), "", 10)) is None


def test_a_kept_answer_is_compressed_once_not_on_every_hit(make_client: Callable[..., TestClient],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept answer was gzip-compressed again on every hit: 7.0 ms a hit instead of 1.6 for 337 KB, 17.2 instead of
    3.6 for 1 MB. Its gzip bytes are now kept with it, made once, and forgotten with it at the next write."""
    client = make_client(api_token=TOKEN)
    by_middleware: list[int] = []
    by_cache: list[int] = []
    compress_body, packed = GZipResponder._compress_body, getattr(api.result_cache, "gzipped", None)

    def middleware(self: GZipResponder, body: bytes, more_body: bool) -> bytes:
        by_middleware.append(len(body))
        return compress_body(self, body, more_body)

    async def cache(body: bytes, level: int) -> bytes:
        by_cache.append(len(body))
        return await packed(body, level)

    monkeypatch.setattr(GZipResponder, "_compress_body", middleware)
    monkeypatch.setattr(api.result_cache, "gzipped", cache, raising=False)
    query = "SELECT ?n ?p ?o WHERE { ?n a <https://w3id.org/dcpa/ontology#Need> ; ?p ?o } ORDER BY ?n ?p ?o"

    def ask(encoding: str) -> Any:
        return client.get("/sparql", params={"query": query}, headers={**JSON, "Accept-Encoding": encoding})

    plain = ask("identity")
    assert plain.headers[CACHE_HEADER] == "miss" and len(plain.content) > 2048
    for _ in range(4):
        hit = ask("gzip")
        assert hit.headers[CACHE_HEADER] == "hit" and hit.headers["content-encoding"] == "gzip"
        assert hit.content == plain.content  # decoded by the client: the same answer
        assert "accept-encoding" in hit.headers["vary"].lower()
    assert by_middleware == [] and by_cache == [len(plain.content)]
    # a write: the answer and its gzip bytes are forgotten together
    assert client.post("/api/needs", json=NEED, headers=AUTH).status_code == 201
    after = ask("gzip")
    assert after.headers[CACHE_HEADER] == "miss" and after.headers["content-encoding"] == "gzip"
    assert len(after.json()["results"]["bindings"]) > len(plain.json()["results"]["bindings"])
    assert ask("gzip").content == after.content and len(by_cache) == 2
