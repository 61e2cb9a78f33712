"""One client cannot take every query worker: a client (its address) may have ``DCPA_CLIENT_QUERIES`` queries and
answers running at once (half the workers unless set); one more is refused with 429, a Retry-After and the one JSON
error shape, while the other clients are served. The slot is given back whatever ends the call: an answer, an error,
the deadline, the client going away."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

import api.sparql
from api.app import create_app
from api.testing import LiveServer, run_async, wait_for
from kg.errors import QueryError
from kg.store import Store
from kg.workers import ClientSlots

from .conftest import load_fixture, make_settings
from .test_sparql_workers import HOSTILE_COUNT, Request, point_lookup, served

pytestmark = pytest.mark.timeout(120)

#: A query the test's stand-in for the engine holds until it is let go; one it fails; any other is answered.
HELD = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 # held"
FAILS = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 # fails"
FREE = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
A, B = "10.1.1.1", "10.2.2.2"


class Clock:
    """The time the per-client budget reads, moved by the test's engine: a query "runs" as long as it says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Engine:
    """``api.sparql.answer`` as the workers run it, holding the queries marked ``# held`` until ``release``,
    and moving ``clock`` on by 100 s for one marked ``# long``."""

    def __init__(self) -> None:
        self.real = api.sparql.answer
        self.release = threading.Event()
        self.entered = 0
        self.clock = Clock()
        self._lock = threading.Lock()

    def __call__(self, store: Any, req: Any, *args: Any) -> Any:
        if req.query.endswith("# fails"):
            raise QueryError("测试中的查询失败 / the test's query failed")
        if req.query.endswith("# long"):
            self.clock.now += 100
        if req.query.endswith("# held"):
            with self._lock:
                self.entered += 1
            self.release.wait(60)
        return self.real(store, req, *args)


@pytest.fixture()
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    e = Engine()
    monkeypatch.setattr(api.sparql, "answer", e)  # the thread runner finds its target by name at each call
    yield e
    e.release.set()


@pytest.fixture(scope="module")
def memory() -> Store:
    return load_fixture(Store.memory())


def app_of(tmp_path: Path, store: Store, **overrides: Any) -> FastAPI:
    return create_app(make_settings(tmp_path, result_cache_mb=0, **overrides), store)


@asynccontextmanager
async def client(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
        yield c


async def until(ready: Callable[[], bool], what: str) -> None:
    """Wait, on the event loop, for a state (the requests in flight run on the same loop)."""
    for _ in range(3000):
        if ready():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def slots(app: FastAPI) -> ClientSlots:
    held: ClientSlots = app.state.client_slots
    return held


def test_the_default_limit_is_half_the_workers(tmp_path: Path) -> None:
    def limit(**overrides: Any) -> int | None:
        return make_settings(tmp_path, **overrides).client_query_limit()

    assert limit(query_workers_max=6) == 3
    assert limit(query_workers_max=1) == 1
    assert limit(query_workers_max=6, client_queries=5) == 5
    assert limit(client_queries=0) is None  # no limit


def test_a_client_at_its_limit_is_refused_while_others_are_served(tmp_path: Path, memory: Store,
                                                                   engine: Engine) -> None:
    app = app_of(tmp_path, memory, client_queries=2, query_timeout=30)

    async def scenario() -> tuple[list[httpx.Response], httpx.Response, httpx.Response, httpx.Response]:
        async with client(app, A) as a, client(app, B) as b:
            held = [asyncio.ensure_future(a.get("/sparql", params={"query": HELD})) for _ in range(2)]
            await until(lambda: engine.entered == 2, "both of A's queries running")
            refused = await a.get("/sparql", params={"query": FREE})
            other = await b.get("/sparql", params={"query": FREE})  # B is served meanwhile
            engine.release.set()
            done = list(await asyncio.gather(*held))
            again = await a.get("/sparql", params={"query": FREE})
            return done, refused, other, again

    done, refused, other, again = run_async(scenario())
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    error = refused.json()["error"]
    assert error["code"] == "too_many_queries"
    assert error["message"].startswith("这个客户端已有 2 个查询在运行")  # Chinese first
    assert " / this client already has 2 queries running" in error["message"]
    assert "DCPA_CLIENT_QUERIES" in error["hint"] and "Retry-After" in error["hint"]
    assert other.status_code == 200
    assert [r.status_code for r in done] == [200, 200]
    assert again.status_code == 200 and slots(app).running(A) == 0


def test_answers_count_against_the_same_limit(tmp_path: Path, memory: Store, engine: Engine) -> None:
    """An answer (a gap report, a dashboard) takes a worker as a query does: a client at its limit of queries is
    refused one more answer, and another client gets it."""
    app = app_of(tmp_path, memory, client_queries=1, query_timeout=30)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with client(app, A) as a, client(app, B) as b:
            held = asyncio.ensure_future(a.get("/sparql", params={"query": HELD}))
            await until(lambda: engine.entered == 1, "A's query running")
            refused = await a.get("/api/gaps", params={"area": "21"})
            other = await b.get("/api/gaps", params={"area": "21"})
            engine.release.set()
            return await held, refused, other

    first, refused, other = run_async(scenario())
    assert first.status_code == 200
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_queries"
    assert other.status_code == 200


@pytest.mark.parametrize("ending", ["answer", "error", "deadline"])
def test_the_slot_is_given_back_whatever_ends_the_query(tmp_path: Path, memory: Store, engine: Engine,
                                                        ending: str) -> None:
    app = app_of(tmp_path, memory, client_queries=1, query_timeout=0.5 if ending == "deadline" else 30)
    query = {"answer": FREE, "error": FAILS, "deadline": HELD}[ending]

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(app, A) as a:
            first = await a.get("/sparql", params={"query": query})
            return first, await a.get("/sparql", params={"query": FREE})

    first, then = run_async(scenario())
    assert first.status_code == {"answer": 200, "error": 400, "deadline": 503}[ending]
    assert slots(app).running(A) == 0
    assert then.status_code == 200  # not 429: the first query's slot was given back


def test_a_client_past_its_query_time_is_refused_until_it_has_come_back(tmp_path: Path, memory: Store,
                                                                       engine: Engine) -> None:
    """Within its limit of queries at once, a client could keep workers busy for ever; past its time (30 s a
    minute here, 60 at once) it is refused with 429 and a Retry-After, while another client is served."""
    app = app_of(tmp_path, memory, client_queries=3, client_query_seconds=30)
    assert app.state.client_slots.seconds_a_minute == 30  # the server's, from its settings
    app.state.client_slots = ClientSlots(3, 30, clock=engine.clock)  # the same, on the engine's clock

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response, httpx.Response]:
        async with client(app, A) as a, client(app, B) as b:
            long = await a.get("/sparql", params={"query": FREE + " # long"})  # 100 s of a worker
            refused = await a.get("/sparql", params={"query": FREE})
            other = await b.get("/sparql", params={"query": FREE})
            engine.clock.now += int(refused.headers["retry-after"])
            return long, refused, other, await a.get("/sparql", params={"query": FREE})

    long, refused, other, later = run_async(scenario())
    assert long.status_code == 200
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "query_time_used"
    assert refused.headers["retry-after"] == "80"  # 100 s used, 40 past the 60 at once: back at 30 s a minute
    assert refused.json()["error"]["message"].startswith("这个客户端用完了它的查询时间")
    assert other.status_code == 200
    assert later.status_code == 200


@pytest.mark.parametrize(("first", "second", "same"), [
    ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one home, one machine
    ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
    ("10.1.1.1", "10.1.1.2", False),
])
def test_an_ipv6_client_is_its_64_block(tmp_path: Path, memory: Store, engine: Engine, first: str, second: str,
                                        same: bool) -> None:
    """Counted by address, a client given an IPv6 /64 (as every home and machine is) had 2^64 shares of the
    workers: it could take them all from addresses of its own."""
    app = app_of(tmp_path, memory, client_queries=1, query_timeout=30)

    async def scenario() -> httpx.Response:
        async with client(app, first) as a, client(app, second) as b:
            held = asyncio.ensure_future(a.get("/sparql", params={"query": HELD}))
            await until(lambda: engine.entered == 1, "the first query running")
            answer = await b.get("/sparql", params={"query": FREE})
            engine.release.set()
            assert (await held).status_code == 200
            return answer

    assert run_async(scenario()).status_code == (429 if same else 200)


def _raw_get(query: str) -> bytes:
    return f"GET /sparql?{urlencode({'query': query})} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def test_a_client_gone_away_gives_its_slot_back(tmp_path: Path, memory: Store, engine: Engine) -> None:
    app = app_of(tmp_path, memory, client_queries=1, query_timeout=60)
    live = LiveServer(app)
    try:
        host, port = live.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            conn.sendall(_raw_get(HELD))
            wait_for(lambda: engine.entered == 1 and slots(app).running("127.0.0.1") == 1, 30, "the query running")
        wait_for(lambda: slots(app).running("127.0.0.1") == 0, 30, "the slot given back")  # well before 60 s
        assert httpx.get(live.url + "/sparql", params={"query": FREE}, timeout=30).status_code == 200
    finally:
        engine.release.set()
        live.stop()


@pytest.mark.parametrize("trusted", [None, "127.0.0.1"])
def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy(tmp_path: Path, memory: Store, engine: Engine,
                                                                    trusted: str | None) -> None:
    """A client on this machine could name itself anyone in X-Forwarded-For (uvicorn believed it from loopback by
    default) and pass its limit; it is believed from DCPA_TRUSTED_PROXIES alone, as the address the proxy saw."""
    app = app_of(tmp_path, memory, client_queries=1, query_timeout=60, trusted_proxies=trusted)
    live = LiveServer(app)
    try:
        host, port = live.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            conn.sendall(_raw_get(HELD).replace(b"\r\n\r\n", b"\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n"))
            wait_for(lambda: engine.entered == 1, 30, "the first query running")
            # the proxy appends the address it saw: the forged first entry is not the client
            second = httpx.get(live.url + "/sparql", params={"query": FREE}, timeout=30,
                               headers={"X-Forwarded-For": "10.9.9.9, 10.8.8.8"})
            engine.release.set()
    finally:
        engine.release.set()
        live.stop()
    assert second.status_code == (200 if trusted else 429)


def test_six_long_queries_of_one_client_leave_workers_for_the_others(tmp_path: Path) -> None:
    """The fault as it was seen: six long queries from one client took every worker (six by default) and a
    researcher's point lookup from another address waited behind them. Now half of them run, the rest are refused
    at once, and the point lookup is answered while they run."""
    with served(tmp_path, query_timeout=120) as (url, pool):
        hostile = [Request(url, HOSTILE_COUNT) for _ in range(6)]
        pool.wait_until(lambda s: len(s.busy) == 3, timeout=60)
        wait_for(lambda: sum(not h.thread.is_alive() for h in hostile) == 3, 60, "three refused")
        transport = httpx.HTTPTransport(local_address="127.0.0.2")  # another client: another address
        with httpx.Client(transport=transport, timeout=60) as other:
            lookup = other.get(url, params={"query": point_lookup()})
        running = sum(h.thread.is_alive() for h in hostile)
        pool.close()  # ends the long ones (503) instead of waiting for their deadline
        codes = sorted(h.join().status_code for h in hostile)
    assert lookup.status_code == 200 and len(lookup.json()["results"]["bindings"]) == 2
    assert running == 3
    assert codes == [429, 429, 429, 503, 503, 503]
