"""Answers kept per version of the data: the same answer until the next write, never an older one."""

from __future__ import annotations

import threading
from typing import Any

from kg.memo import per_data
from kg.store import Store, _counted

G = "https://example.org/graph"


def _counter() -> tuple[list[int], Any]:
    calls: list[int] = []

    @per_data(4)
    def count(store: Any, graph: str) -> int:
        calls.append(1)
        return int(store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")[0]["n"])

    return calls, count


def test_an_answer_is_kept_until_the_next_write() -> None:
    store = Store.memory()
    calls, count = _counter()
    assert count(store, G) == 0 and count(store, G) == 0 and len(calls) == 1
    store.update(f"INSERT DATA {{ GRAPH <{G}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    assert count(store, G) == 1 and len(calls) == 2  # the write made the kept answer old
    assert count(Store.memory(), G) == 0 and len(calls) == 3  # kept per store


class PausingStore(Store):
    """A store whose write can be held half-way (counted as begun, not landed yet)."""

    started = threading.Event()
    release = threading.Event()

    @_counted
    def write_slowly(self) -> None:
        self.started.set()
        assert self.release.wait(10)
        self.inner.update(f"INSERT DATA {{ GRAPH <{G}> {{ <urn:a> <urn:b> <urn:c> }} }}")


def test_an_answer_computed_while_a_write_lands_is_not_served_after_it() -> None:
    store = PausingStore(Store.memory().inner)
    calls, count = _counter()
    writer = threading.Thread(target=store.write_slowly)
    writer.start()
    assert store.started.wait(10)
    assert count(store, G) == 0  # read while the write is under way: the data before it
    store.release.set()
    writer.join(10)
    assert count(store, G) == 1 and len(calls) == 2  # not the answer kept while it landed


def test_a_store_that_is_not_ours_is_never_cached() -> None:
    calls: list[int] = []

    @per_data(4)
    def f(store: Any) -> int:
        calls.append(1)
        return 1

    f(object())
    f(object())
    assert len(calls) == 2
