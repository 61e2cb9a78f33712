"""kg.lease: the one-writer rule on a remote store, held by the store itself (Oxigraph server, Virtuoso)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.errors import StoreBusy
from kg.lease import LOCK_GRAPH, StoreLease
from kg.remote import RemoteStore


@pytest.fixture(params=["oxigraph", "virtuoso"])
def store(request: pytest.FixtureRequest) -> Iterator[RemoteStore]:
    server = request.getfixturevalue(request.param)
    s = RemoteStore(server.query_url, update_endpoint=server.update_url, timeout=30)
    s.update(f"DROP SILENT GRAPH <{LOCK_GRAPH}>")
    yield s
    s.update(f"DROP SILENT GRAPH <{LOCK_GRAPH}>")
    s.close()


def test_one_writer_at_a_time(store: RemoteStore) -> None:
    first, second = StoreLease(store, "import"), StoreLease(store, "derive", wait=0.3)
    with first:
        assert not second.try_acquire()
        with pytest.raises(StoreBusy, match="dcpa import"):
            second.acquire()
        assert list(first.holders()) == [first.token]
    assert first.holders() == {}
    with second:
        assert list(second.holders()) == [second.token]
    assert LOCK_GRAPH not in store.graphs()  # the lease is never one of the project's graphs


def test_a_lease_that_ran_out_is_taken(store: RemoteStore) -> None:
    """A writer killed mid-write (no renewal, no release) stands in no one's way after one lease."""
    now = time.time()
    killed = StoreLease(store, "import", lease=10, clock=lambda: now)
    assert killed.try_acquire()
    assert not StoreLease(store, "derive", clock=lambda: now + 5).try_acquire()
    later = StoreLease(store, "derive", clock=lambda: now + 11)
    assert later.try_acquire()
    assert list(later.holders()) == [later.token]


def test_a_claim_that_landed_beside_another_does_not_win(store: RemoteStore) -> None:
    """Two writers' conditional adds both landed (each saw no holder). The first read back alone and holds
    it; the second, whose token is smaller, reads back both and must not take it too."""
    first, second = StoreLease(store, "import"), StoreLease(store, "derive")
    first.token, second.token = "f" * 16, "0" * 16
    assert first.try_acquire()
    lock, until = "https://w3id.org/dcpa/lock#", time.time() + 60
    store.update(f'INSERT DATA {{ GRAPH <{LOCK_GRAPH}> {{ <{lock}{second.token}> <{lock}token> "{second.token}" ; '
                 f'<{lock}what> "derive" ; <{lock}until> {until:.3f} }} }}')  # landed after the first read back
    assert not second.try_acquire()
    assert list(first.holders()) == [first.token]


def _at_once(leases: list[StoreLease]) -> list[bool]:
    """Each lease tries once, all at the same moment; who got it."""
    start = threading.Barrier(len(leases))
    won: list[bool] = [False] * len(leases)
    failed: list[BaseException] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            won[i] = leases[i].try_acquire()
        except BaseException as e:  # a writer that fails instead of waiting is a bug, not a loser
            failed.append(e)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(leases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == []
    return won


def test_writers_that_try_at_once_get_it_once_at_most(store: RemoteStore) -> None:
    for _ in range(3):
        leases = [StoreLease(store, f"writer {i}") for i in range(6)]
        won = _at_once(leases)
        assert won.count(True) <= 1  # all backing off is allowed: they try again (the next test)
        assert list(leases[0].holders()) == [lease.token for lease, w in zip(leases, won, strict=True) if w]
        for lease, w in zip(leases, won, strict=True):
            if w:
                lease.release()


def test_writers_that_wait_for_it_hold_it_one_at_a_time(store: RemoteStore) -> None:
    inside: list[str] = []
    overlaps: list[list[str]] = []
    failed: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(4)

    def write(i: int) -> None:
        start.wait()
        try:
            with StoreLease(store, f"writer {i}", wait=120):
                with guard:
                    inside.append(f"writer {i}")
                    if len(inside) > 1:
                        overlaps.append(list(inside))
                holders = StoreLease(store, "reader").holders()
                with guard:
                    inside.remove(f"writer {i}")
                # it holds the lease; a writer whose claim landed beside it may show until it reads back and takes
                # its claim out (the store does not serialise two updates: kg.lease); none is ever inside with it
                assert f"writer {i}" in [w for w, _ in holders.values()]
        except BaseException as e:
            failed.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == [] and overlaps == []
    assert StoreLease(store, "reader").holders() == {}


def test_a_long_write_keeps_its_lease(store: RemoteStore) -> None:
    lease = StoreLease(store, "build", lease=0.9)
    with lease:
        first = lease.holders()[lease.token][1]
        deadline = time.monotonic() + 30
        while lease.holders()[lease.token][1] == first:  # wait for the state "renewed"
            assert time.monotonic() < deadline, "the lease was not renewed"
            time.sleep(0.05)
        assert not lease.lost
    assert lease.holders() == {}


def test_a_command_waits_for_the_lease_of_another_machine(oxigraph: Any, tmp_path: Path) -> None:
    """`dcpa derive` over a remote store whose lease another writer holds: it says whom it waits for, and
    runs once the lease is free."""
    store = RemoteStore(oxigraph.query_url, update_endpoint=oxigraph.update_url)
    other = StoreLease(store, "import")
    env = {**os.environ, "DCPA_SPARQL_ENDPOINT": oxigraph.query_url, "DCPA_SPARQL_UPDATE_ENDPOINT": oxigraph.update_url,
           "DCPA_STORE_PATH": str(tmp_path / "store"), "DCPA_IMPORTS_PATH": str(tmp_path / "imports"), "NO_COLOR": "1"}
    with other, subprocess.Popen([sys.executable, "-m", "kg", "derive"], env=env, stderr=subprocess.PIPE,
                                 text=True) as proc:
        assert proc.stderr is not None
        said = proc.stderr.readline()  # blocks until it says something: the wait for the state "waiting"
        assert "waiting for dcpa import" in said, said
        assert proc.poll() is None
        other.release()  # leaving the with block again releases nothing more
        rest = proc.stderr.read()
        assert proc.wait(timeout=120) == 0, rest
    assert other.holders() == {}
    store.close()
