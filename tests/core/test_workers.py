"""The query worker pool alone: named calls in worker processes over a read-only open of an on-disk
store, killed at their deadline or memory ceiling and replaced, fresh after every write, switched to
another store, cut off from the network, and stopped by one call."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import kg.build
from api.app import create_app
from api.testing import run_async, wait_for
from kg.errors import QueryError, QueryMemoryLimit, QueryTimeout, StoreError
from kg.procs import alive, process_rss
from kg.store import Store
from kg.workers import ClientSlots, PoolState, ThreadRunner, WorkerPool, runner_for

from .conftest import Place, load_fixture

pytestmark = pytest.mark.timeout(120)

G = "http://example.org/graph/a"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"
#: Sorting a three-way cross join of 600 triples: 2·10⁸ rows held in memory until killed.
HOSTILE_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
#: Counting the same join: no memory, minutes of CPU, one call that never returns to Python.
HOSTILE_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def triples(n: int, start: int = 0) -> bytes:
    return "".join(
        f'<http://example.org/s/{i}> <http://example.org/p/{i % 7}> "value {i}" .\n' for i in range(start, start + n)
    ).encode()


def make_store(path: Path, n: int = 600) -> Path:
    s = Store.open(path)
    s.add_graph(G, triples(n))
    s.close()
    return path


def count(pool: WorkerPool, timeout: float = 20) -> int:
    return int(pool.run("kg.store:Store.select", COUNT, timeout=timeout)[0]["n"])


def ready(pool: WorkerPool) -> PoolState:
    """Wait for the pool to be at rest: its idle workers ready, none busy or starting."""
    return pool.wait_until(
        lambda s: len(s.idle) >= pool.min_workers and not s.busy and not s.starting, timeout=60
    )


class Background:
    """A blocking call in a thread, with its outcome."""

    def __init__(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - inspected by the test
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 60) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the call did not end"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("workers") / "store")


@pytest.fixture(scope="module")
def pool(store_dir: Path) -> Iterator[WorkerPool]:
    p = WorkerPool(store_dir, min_workers=2, max_workers=4, memory_mb=2048)
    p.start(wait=60)
    yield p
    p.close()


def test_a_named_function_runs_in_a_worker_and_returns_its_result(pool: WorkerPool) -> None:
    rows = run_async(pool.call("kg.store:Store.select", COUNT, timeout=20))
    assert rows == [{"n": 600}]
    assert os.getpid() not in pool.state().pids
    assert pool.run("kg.store:Store.ask", f"ASK {{ GRAPH <{G}> {{ ?s ?p 'value 7' }} }}", timeout=20) is True


def test_errors_come_back_as_the_same_errors(pool: WorkerPool) -> None:
    with pytest.raises(QueryError, match="SPARQL syntax error") as info:
        pool.run("kg.store:Store.select", "SELECT ?x WHERE { ?x }", timeout=20)
    assert type(info.value) is QueryError and info.value.http_status == 400 and info.value.hint
    with pytest.raises(ModuleNotFoundError):
        pool.run("kg.no_such_module:f", timeout=5)  # a bad target is a bug in the caller, raised here
    assert count(pool) == 600  # the worker survived both


def test_a_query_past_its_deadline_is_killed_and_replaced(pool: WorkerPool) -> None:
    before = ready(pool)
    call = Background(pool.run, "kg.store:Store.select", HOSTILE_COUNT, timeout=1.0)
    busy = pool.wait_until(lambda s: len(s.busy) == 1, timeout=30).busy[0]
    call.join()
    assert isinstance(call.error, QueryTimeout) and "1 s" in call.error.message
    assert not alive(busy)
    after = ready(pool)
    assert busy not in after.pids and len(after.idle) >= 2
    assert count(pool) == 600
    assert set(before.pids) - {busy} <= set(after.pids)  # the others were kept
    assert after.died == before.died  # ended by the pool: not counted as a death


def test_a_worker_dying_at_work_is_counted_and_its_caller_told(pool: WorkerPool) -> None:
    before = ready(pool)
    call = Background(pool.run, "kg.store:Store.select", HOSTILE_COUNT, timeout=60)
    busy = pool.wait_until(lambda s: len(s.busy) == 1, timeout=30).busy[0]
    os.kill(busy, signal.SIGSEGV)  # as the engine's stack overflow did (api.sparql_scan)
    call.join()
    assert isinstance(call.error, StoreError) and "exit code" in call.error.message
    after = ready(pool)
    assert after.died == before.died + 1 and busy not in after.pids
    assert count(pool) == 600


def test_a_client_s_time_budget_is_not_charged_for_waiting_behind_others(store_dir: Path) -> None:
    """A client whose query waits for the one worker (busy with another's query) used no worker meanwhile: its
    budget (``ClientSlots``, DCPA_CLIENT_QUERY_SECONDS) is charged for the query, not for the wait."""
    one = WorkerPool(store_dir, min_workers=1, max_workers=1, memory_mb=2048)
    one.start(wait=60)
    try:
        slots = ClientSlots(None, seconds_a_minute=60)
        other = Background(one.run, "kg.store:Store.select", HOSTILE_COUNT, timeout=3.0)
        one.wait_until(lambda s: len(s.busy) == 1, timeout=30)
        start = time.monotonic()
        with slots.hold("waiting client", 60):
            assert count(one, timeout=60) == 600  # waits until the other's deadline frees the worker
        took = time.monotonic() - start
        other.join()
        assert isinstance(other.error, QueryTimeout)
        assert slots.used("waiting client") < took / 2
    finally:
        one.close()


def test_idle_workers_killed_from_outside_are_passed_over(pool: WorkerPool) -> None:
    victims = ready(pool).idle
    for pid in victims:
        os.kill(pid, signal.SIGKILL)  # say, the kernel's OOM killer
    wait_for(lambda: not any(alive(p) for p in victims), 30, "the killed workers to end")
    assert count(pool) == 600  # served by a fresh worker, not answered with a dead one's error
    assert not set(victims) & set(ready(pool).pids)


def test_waiting_for_a_free_worker_counts_against_the_deadline(store_dir: Path) -> None:
    single = WorkerPool(store_dir, min_workers=1, max_workers=1, memory_mb=0)
    try:
        single.start(wait=60)
        hostile = Background(single.run, "kg.store:Store.select", HOSTILE_COUNT, timeout=60)
        single.wait_until(lambda s: len(s.busy) == 1, timeout=30)
        with pytest.raises(QueryTimeout, match="no query worker became free within the time limit of 0.5 s") as e:
            single.run("kg.store:Store.select", COUNT, timeout=0.5)
        assert e.value.message.startswith("在 0.5 秒的时限内没有空闲的查询进程")  # Chinese first, as every message
        assert hostile.thread.is_alive()  # the cheap call gave up while the hostile one still ran
    finally:
        single.close()
    hostile.join()
    assert isinstance(hostile.error, StoreError) and "shutting down" in hostile.error.message


def test_a_query_past_its_memory_ceiling_is_stopped_and_its_worker_replaced(store_dir: Path) -> None:
    small = WorkerPool(store_dir, min_workers=1, max_workers=2, memory_mb=200)
    try:
        small.start(wait=60)
        call = Background(small.run, "kg.store:Store.select", HOSTILE_SORT, timeout=60)
        busy = small.wait_until(lambda s: len(s.busy) == 1, timeout=30).busy[0]
        call.join()
        assert isinstance(call.error, QueryMemoryLimit)
        assert call.error.http_status == 507 and "200 MB" in call.error.message
        assert not alive(busy)
        assert busy not in ready(small).pids
        assert count(small) == 600
    finally:
        small.close()


def test_writes_are_seen_by_the_next_call(tmp_path: Path) -> None:
    """The server's read-write open writes; the workers' read-only opens see it before their next
    answer: from the write-ahead log before a flush, from the tables after."""
    store = Store.open(make_store(tmp_path / "store"))
    runner = runner_for(store, min_workers=2, max_workers=3, memory_mb=0)
    assert isinstance(runner, WorkerPool)
    try:
        runner.start(wait=60)
        assert count(runner) == 600
        store.add_graph(G, triples(5, start=600))  # not flushed
        runner.data_changed()  # as the server does after every write (api.serving)
        assert count(runner) == 605
        store.update(f"INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/s/x> <http://example.org/p/x> 1 }} }}")
        store.flush()
        runner.data_changed()
        assert count(runner) == 606
        assert runner.state().version == 2
    finally:
        runner.close()
        store.close()


def test_reads_stay_right_while_the_server_flushes_and_compacts(tmp_path: Path) -> None:
    """A worker reopening while the server's flush or compaction deletes table files could find one
    listed and gone (15 failures in 150 rounds before the reopen was retried)."""
    store = Store.open(make_store(tmp_path / "store"))
    runner = runner_for(store, min_workers=1, max_workers=2, memory_mb=0)
    expected = 600
    try:
        runner.start(wait=60)
        for i in range(20):
            store.add_graph(G, triples(3, start=expected))
            expected += 3
            store.flush()
            if i % 2:
                store.optimize()
            runner.data_changed()
            assert count(runner) == expected
    finally:
        runner.close()
        store.close()


def test_switch_store_serves_the_new_directory_and_lets_go_of_the_old(tmp_path: Path) -> None:
    old, new = make_store(tmp_path / "v1", 600), make_store(tmp_path / "v2", 50)
    switching = WorkerPool(old, min_workers=2, max_workers=3, memory_mb=0)
    try:
        switching.start(wait=60)
        before = ready(switching)
        assert count(switching) == 600
        switching.switch_store(new)
        assert count(switching) == 50
        after = ready(switching)
        assert after.path == str(new)
        assert not set(before.pids) & set(after.pids)  # every worker that had the old store open is gone
        wait_for(lambda: not any(alive(p) for p in before.pids), 30, "the workers of the old store to end")
    finally:
        switching.close()


def test_close_stops_running_calls_and_every_worker(store_dir: Path) -> None:
    closing = WorkerPool(store_dir, min_workers=2, max_workers=3, memory_mb=0)
    closing.start(wait=60)
    call = Background(closing.run, "kg.store:Store.select", HOSTILE_COUNT, timeout=120)
    state = closing.wait_until(lambda s: len(s.busy) == 1, timeout=30)
    closing.close()
    call.join()
    assert isinstance(call.error, StoreError) and "shutting down" in call.error.message
    wait_for(lambda: not any(alive(p) for p in state.pids), 30, "every worker to end")
    with pytest.raises(StoreError, match="shutting down"):
        run_async(closing.call("kg.store:Store.select", COUNT, timeout=5))


def test_a_worker_reaches_no_network(pool: WorkerPool) -> None:
    """A SERVICE call that got past every check still connects nowhere from a worker."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.getsockname()[1]}/sparql> {{ ?s ?p ?o }} }}"
    with listener:
        # The control: the same engine in this process does connect (so the check below can fail).
        caller = Background(lambda: list(Store.memory().query(query)))
        conn, _ = listener.accept()
        conn.close()
        caller.join()
        network = pool.state().network or ""
        if not network.startswith("isolated"):
            pytest.skip(f"this machine does not let processes leave the network: {network}")
        with pytest.raises(StoreError, match="unreachable"):
            pool.run("kg.store:Store.select", query, timeout=20)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected


def test_memory_returns_after_a_kill(store_dir: Path) -> None:
    # No ceiling here: the deadline alone stops the sort (at most ~1.5 GB a second on this machine);
    # one second, so that the worker is not niced (SLOW_AFTER) before it has taken its memory.
    unbounded = WorkerPool(store_dir, min_workers=2, max_workers=3, memory_mb=0)
    try:
        unbounded.start(wait=60)
        before = ready(unbounded)
        rss_before = {p: process_rss(p) for p in before.pids}
        call = Background(unbounded.run, "kg.store:Store.select", HOSTILE_SORT, timeout=1.0)
        busy = unbounded.wait_until(lambda s: len(s.busy) == 1, timeout=30).busy[0]
        peak = 0
        while call.thread.is_alive():  # sample the worker's memory until the call ends
            peak = max(peak, process_rss(busy))
            call.thread.join(0.02)
        assert isinstance(call.error, QueryTimeout)
        after = ready(unbounded)
        assert peak > rss_before[busy] + 64 * 2**20  # the query really took memory…
        assert sum(process_rss(p) for p in after.pids) < sum(rss_before.values()) + 32 * 2**20  # …and it is back
    finally:
        unbounded.close()


def test_thread_runner_serves_a_memory_store() -> None:
    store = Store.memory()
    store.add_graph(G, triples(3))
    runner = runner_for(store, min_workers=1, max_workers=2, memory_mb=0)
    assert isinstance(runner, ThreadRunner)
    try:
        assert run_async(runner.call("kg.store:Store.select", COUNT, timeout=10)) == [{"n": 3}]
        store.add_graph(G, triples(1, start=3))  # nothing to reopen: the threads read this very store object
        assert run_async(runner.call("kg.store:Store.select", COUNT, timeout=10)) == [{"n": 4}]
    finally:
        runner.close()


def test_a_rebuild_by_the_server_switches_the_workers_to_the_new_version(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dcpa serve` rebuilds (api.serving): its query workers are told of the new version, serve it
    at once, and let go of the old one, which the build's clean-up can then remove."""
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    extra = f"<https://w3id.org/dcpa/id/need/N-9> {rdf_type} <https://w3id.org/dcpa/ontology#Need> ."

    def build_into(store: Store, *, imports_path: Path, **_: object) -> tuple[dict[str, int], int]:
        load_fixture(store)
        store.add_graph("https://w3id.org/dcpa/graph/synthetic", extra.encode() + b"\n")
        return {"fixture": store.count()}, 0

    monkeypatch.setattr(kg.build, "build_into", build_into)
    needs = {"query": "SELECT (COUNT(?n) AS ?c) WHERE { ?n a dcpa:Need }"}
    # 60 s, not the default 10: a worker started by a fork server that another test's pool began imports the SPARQL
    # module on its first query (seconds on a loaded machine), and the rebuild replaces every worker
    settings = place.settings.model_copy(update={"query_timeout": 60.0})
    with TestClient(create_app(settings)) as client:
        pool = client.app.state.query_runner  # type: ignore[attr-defined]
        served = client.app.state.served  # type: ignore[attr-defined]
        assert isinstance(pool, WorkerPool) and pool in client.app.state.store_listeners  # type: ignore[attr-defined]
        r = client.get("/sparql", params=needs)
        assert r.status_code == 200, r.text
        assert r.json()["results"]["bindings"][0]["c"]["value"] == "3"
        old_version, old_workers = place.current(), ready(pool).pids
        served.build(force=True)
        assert place.current() != old_version
        assert pool.state().path == str(served.store.real_path)
        assert client.get("/sparql", params=needs).json()["results"]["bindings"][0]["c"]["value"] == "4"
        # no worker keeps the old version open…
        wait_for(lambda: not any(alive(p) for p in old_workers), 30, "the workers of the old version to end")
        assert old_version not in place.versions()  # …so the build's clean-up removed it


def test_work_handed_to_another_thread_keeps_the_task_s_deadline() -> None:
    """``submit_here`` runs part of a task in another thread as the task itself: under its deadline (a
    context variable, which a plain thread would not see), its error raised to the caller."""
    from concurrent.futures import ThreadPoolExecutor

    from kg.workers import _CURRENT, Deadline, current_deadline, submit_here

    def seen(store: object, extra: int) -> tuple[Deadline | None, int]:
        return current_deadline(), extra

    def fails(store: object) -> None:
        raise QueryError("late")

    mine = Deadline(30)
    token = _CURRENT.set(mine)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(current_deadline).result() is None  # what a plain thread sees
            assert submit_here(pool, seen, None, 7).result() == (mine, 7)
            with pytest.raises(QueryError, match="late"):
                submit_here(pool, fails, None).result()
    finally:
        _CURRENT.reset(token)
