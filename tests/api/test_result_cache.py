"""The server's SPARQL result cache: the same request on the same data costs no query worker, and a
write is seen by the very next request (never yesterday's answer)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

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
