"""/sparql over an on-disk store: every query runs in a worker process that its deadline or memory
ceiling really stops, hostile queries never hold up cheap ones, and writes are seen at once."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from api.app import create_app
from api.testing import LiveServer, counted_quads
from kg.catalogue import default_values, get_query, run_query
from kg.importer.journal import Marker
from kg.inline import inline
from kg.namespaces import sparql_prefixes
from kg.procs import alive, process_rss
from kg.store import Store
from kg.workers import SLOW_NICE, PoolState, WorkerPool

from .conftest import TOKEN, load_fixture, make_settings
from .test_sparql_scan import CRASHED_AT, hostile, largest_accepted
from .test_writes import AUTH, NEED

pytestmark = pytest.mark.timeout(180)

#: Sorting a three-way cross join of the fixture (2,344 quads): 10¹⁰ rows, held in memory until stopped.
HOSTILE_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
#: Counting it: no memory, hours of CPU, in one engine call that never returns to Python.
HOSTILE_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
REFERENCE = "https://w3id.org/dcpa/graph/reference"
SYNTHETIC = "https://w3id.org/dcpa/graph/synthetic"
DERIVED = "https://w3id.org/dcpa/graph/derived"
VILLAGE = "210123203200"


def point_lookup() -> str:
    """The catalogue's needs_of_village for one village, as a client sends it."""
    query = get_query("needs_of_village")
    values = {**default_values(query), "village": f"<https://w3id.org/dcpa/id/area/{VILLAGE}>"}
    return sparql_prefixes() + inline(query.text, values)


def needs(dataset: str = "") -> str:
    """Count the needs, in the query's dataset (FROM …) or the default one."""
    return f"SELECT (COUNT(?n) AS ?c) {dataset} WHERE {{ ?n a dcpa:Need }}"


def niceness(pid: int) -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except OSError:
        return None


def at_rest(pool: WorkerPool) -> PoolState:
    return pool.wait_until(lambda s: len(s.idle) >= pool.min_workers and not s.busy and not s.starting, timeout=60)


@contextmanager
def served(tmp_path: Path, store: Store | None = None, **overrides: Any) -> Iterator[tuple[str, WorkerPool]]:
    """A live server over an on-disk fixture store (or ``store``, the server's read-write open, which the test
    may write to as the server would): (the /sparql URL, its worker pool)."""
    store = store or load_fixture(Store.open(tmp_path / "store"))
    app = create_app(make_settings(tmp_path, **overrides), store)
    pool = app.state.query_runner
    assert isinstance(pool, WorkerPool)
    pool.start(wait=60)
    live = LiveServer(app)
    try:
        yield live.url + "/sparql", pool
    finally:
        live.stop()
        store.close()


class Request:
    """One HTTP request in a thread, with its response."""

    def __init__(self, url: str, query: str) -> None:
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.response = httpx.get(url, params={"query": query}, timeout=120)
            except BaseException as e:  # noqa: BLE001 - inspected by the test
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> httpx.Response:
        self.thread.join(120)
        assert self.response is not None, self.error
        return self.response


def count(url: str, query: str, **params: str) -> int:
    r = httpx.get(url, params={"query": query, **params}, timeout=30)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["c"]["value"])


def test_queries_run_in_workers_and_honour_the_dataset(tmp_path: Path) -> None:
    with served(tmp_path) as (url, pool):
        answered = pool.state().answered
        assert count(url, needs()) == 3
        assert count(url, needs(f"FROM <{REFERENCE}>")) == 0
        assert count(url, needs(f"FROM <{SYNTHETIC}>")) == 3
        assert count(url, needs(f"FROM <{REFERENCE}>"), **{"default-graph-uri": SYNTHETIC}) == 3
        assert pool.state().answered == answered + 4


def test_the_pool_runs_library_functions_for_the_json_api(tmp_path: Path) -> None:
    """The generic call the JSON routes will use: f(store, *args) in a worker, its result back."""
    with served(tmp_path) as (_, pool):
        params = {"village": VILLAGE}
        result = pool.run("kg.catalogue:run_query", "needs_of_village", params, timeout=20)
        assert result == run_query(load_fixture(Store.memory()), "needs_of_village", params)
        assert [row["severity"] for row in result.rows] == [4, 3]


#: What the hostile sort takes within its second. Its memory grows in steps (measured: 46 MB over the worker's
#: own at the first, on a loaded machine; 1.5 GB in the second on a quiet one), so the first step must count.
TOOK = 40 * 2**20


def test_a_hostile_sort_gets_503_its_worker_is_killed_and_memory_returns(tmp_path: Path) -> None:
    # No memory ceiling: the deadline alone stops the sort (at most ~1.5 GB a second on this machine);
    # one second, so that the worker is not niced (SLOW_AFTER) before it has taken its memory.
    with served(tmp_path, query_timeout=1.0, query_memory_mb=0) as (url, pool):
        for _ in range(3):  # on a loaded machine the worker may get too little of its second to take the memory
            before = at_rest(pool)
            rss_before = {pid: process_rss(pid) for pid in before.pids}
            hostile = Request(url, HOSTILE_SORT)
            busy = pool.wait_until(lambda s: len(s.busy) == 1, timeout=30).busy[0]
            peak = 0
            while hostile.thread.is_alive():  # sample the worker's memory until the answer comes
                peak = max(peak, process_rss(busy))
                hostile.thread.join(0.02)
            r = hostile.join()
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "query_timeout" and "1 s" in r.json()["error"]["message"]
            assert not alive(busy)
            after = at_rest(pool)
            assert busy not in after.pids
            if peak > rss_before[busy] + TOOK:
                break
        assert peak > rss_before[busy] + TOOK  # the sort really took memory…
        assert sum(process_rss(p) for p in after.pids) < sum(rss_before.values()) + 32 * 2**20  # …and it is back
        assert count(url, needs()) == 3


def test_queries_too_deep_for_the_engine_are_refused_and_the_largest_accepted_run(tmp_path: Path) -> None:
    """Each of these crashed the engine, killing its process: refused before a worker sees them; the largest
    of each kind that the limits accept runs, and no worker dies."""
    with served(tmp_path) as (url, pool):
        before = at_rest(pool)
        for kind, crash in CRASHED_AT.items():
            r = httpx.post(url, data={"query": hostile(kind, crash)}, timeout=60)
            assert r.status_code == 400, (kind, r.text)
            assert "too complex to run safely" in r.json()["error"]["message"], kind
        for kind in CRASHED_AT:
            r = httpx.post(url, data={"query": hostile(kind, largest_accepted(kind))}, timeout=60)
            assert r.status_code == 200, (kind, r.text)
        after = at_rest(pool)
        # no worker died (one that ran past SLOW_AFTER on a loaded machine is replaced on purpose: not a death)
        assert after.died == before.died
        assert after.answered >= before.answered + len(CRASHED_AT)


def test_four_hostile_queries_do_not_hold_up_health_or_a_point_lookup(tmp_path: Path) -> None:
    # four from one address: past what one client may run by default (DCPA_CLIENT_QUERIES, test_client_limits)
    with served(tmp_path, query_timeout=120, client_queries=4) as (url, pool):
        hostile = [Request(url, HOSTILE_COUNT) for _ in range(4)]
        busy = pool.wait_until(lambda s: len(s.busy) == 4, timeout=60).busy
        # past a second, long queries run at a lower priority than the server and cheap queries
        pool.wait_until(lambda s: all(niceness(pid) == SLOW_NICE for pid in busy), timeout=60)
        health = httpx.get(url.replace("/sparql", "/health"), timeout=60)
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=60) as other:
            lookup = other.get(url, params={"query": point_lookup()})  # another user: another address
        still_running = [h.thread.is_alive() for h in hostile]
        pool.close()  # ends the hostile ones (503) instead of waiting for their deadline
        for h in hostile:
            h.join()
    assert still_running == [True] * 4  # both cheap requests were answered while all four ran
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert lookup.status_code == 200
    bindings = lookup.json()["results"]["bindings"]
    rows = [(b["need"]["value"].rsplit("/", 1)[1], b["severity"]["value"]) for b in bindings]
    assert rows == [("N-1", "4"), ("N-2", "3")]
    assert all(h.join().status_code == 503 for h in hostile)


def test_a_query_past_its_memory_ceiling_gets_507_and_the_next_query_works(tmp_path: Path) -> None:
    with served(tmp_path, query_timeout=60, query_memory_mb=256) as (url, pool):
        hostile = Request(url, HOSTILE_SORT)
        busy = pool.wait_until(lambda s: len(s.busy) == 1, timeout=30).busy[0]
        r = hostile.join()
        assert r.status_code == 507
        err = r.json()["error"]
        assert err["code"] == "query_memory_limit" and "256 MB" in err["message"] and "LIMIT" in err["hint"]
        assert not alive(busy)
        assert busy not in at_rest(pool).pids
        assert count(url, needs()) == 3


def test_a_worker_opening_the_store_during_a_write_answers_no_query_of_the_derived_graph(tmp_path: Path) -> None:
    """A write lands its data, then refreshes the derived graph in writes of its own, under a journal marker; a
    worker that opens the store in between (one started or replaced meanwhile) would read counts and states
    half refreshed. It answers 503 ``store_busy`` (with Retry-After) to a query whose dataset holds the
    derived graph, and answers a query of other graphs; once the write ends, both are answered."""
    store = load_fixture(Store.open(tmp_path / "store"))
    with served(tmp_path, store, result_cache_mb=0) as (url, pool):
        states = "SELECT (COUNT(?n) AS ?c) WHERE { ?n dcpa:needState ?state }"
        assert count(url, states) == 3 and count(url, needs(f"FROM <{SYNTHETIC}>")) == 3
        marker = Marker("20201231T000000Z-000000", {"210123"})
        store.add_graph(marker.graph, marker.ntriples())  # as a write does, before its data
        pool.data_changed()  # the workers open the store again: as one started during the write
        r = httpx.get(url, params={"query": states}, timeout=30)
        assert r.status_code == 503 and r.json()["error"]["code"] == "store_busy", r.text
        assert int(r.headers["retry-after"]) > 0 and "write" in r.json()["error"]["message"]
        assert count(url, needs(f"FROM <{SYNTHETIC}>")) == 3
        assert httpx.get(url, params={"query": needs(), "named-graph-uri": DERIVED}, timeout=60).status_code == 503
        r = httpx.get(url.replace("/sparql", "/api/queries/needs_of_village"), params={"village": VILLAGE}, timeout=60)
        assert r.status_code == 503 and int(r.headers["retry-after"]) > 0  # the catalogue's refusal, from a worker
        store.update(marker.delete())
        pool.data_changed()  # the write has ended
        assert count(url, states) == 3


def test_a_write_is_seen_by_the_next_query(tmp_path: Path) -> None:
    """The server writes through its read-write open; the next /sparql answer, from a worker's
    read-only open, already has the new need."""
    with served(tmp_path, api_token=TOKEN) as (url, pool):
        base = url.removesuffix("/sparql")
        assert count(url, needs()) == 3
        answered = pool.state().answered
        quads = counted_quads(base)  # counted in a worker (4M quads hold the GIL ~0.5 s)…
        assert counted_quads(base) == quads
        assert pool.state().answered == answered + 1  # …once until the next write
        r = httpx.post(url.replace("/sparql", "/api/needs"), json=NEED, headers=AUTH, timeout=60)
        assert r.status_code == 201, r.text
        assert count(url, needs()) == 4
        assert pool.state().version > 0
        assert counted_quads(base) > quads


def _raw_request(method: str, query: str) -> bytes:
    if method == "GET":
        return f"GET /sparql?{urlencode({'query': query})} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    body = urlencode({"query": query}).encode()
    return (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_client_that_goes_away_stops_its_query(tmp_path: Path, method: str) -> None:
    """A browser tab closed on a long query (or a client's own timeout) left its worker counting for the whole
    time limit, a CPU taken for nothing; the worker is now stopped when the connection closes."""
    with served(tmp_path, query_timeout=120) as (url, pool):
        host, port = urlsplit(url).hostname, urlsplit(url).port
        with socket.create_connection((host, port), timeout=30) as conn:
            conn.sendall(_raw_request(method, HOSTILE_COUNT))
            busy = pool.wait_until(lambda s: len(s.busy) == 1, timeout=60).busy[0]
        pool.wait_until(lambda s: busy not in s.busy, timeout=30)  # well before the 120 s limit
        assert not alive(busy)
        assert count(url, needs()) == 3
