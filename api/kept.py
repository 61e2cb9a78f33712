"""Answers the server computes once per version of the data and keeps until the next write.

Why: some answers read a whole province or the whole store (a province's dashboard tables took seconds at
province scale; the statistics 6.6 s at national scale), and readers ask again and again between writes.
The server does every write, so it knows when its data moves: an answer is kept under the store's count
of writes (``Store.generation``), the query workers' data version (``data_version``: a write counts in the
store before the workers are told to reopen it, and an answer computed by a worker in between reads the data
before the write), the derived graph's marker (its date) and today's date (what the rule's dates and
"current" depend on). A later request for the same key is a dictionary look-up; one for newer
data never sees an older answer. Requests that arrive while an answer is being computed wait for that one
computation rather than start their own. A remote endpoint can change behind our back: never kept.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import date
from typing import Any

from kg import derived
from kg.contract import StoreAPI
from kg.store import Store


def served_version(store: Any, runner: Any) -> tuple[int, int] | None:
    """The version of the data an answer computed now reads: the store's count of writes and the query workers'
    data version (None: a store whose answers are never kept). The one definition for the kept answers and the
    SPARQL result cache (``api.result_cache``)."""
    if not isinstance(store, Store):
        return None
    return store.generation, int(getattr(runner, "data_version", 0))


class Kept:
    """The ``size`` latest answers per store, each for the data it was computed on (see the module doc)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: weakref.WeakKeyDictionary[StoreAPI, OrderedDict[tuple[Any, ...], Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        #: (event loop, store, key) → the computation under way, which later requests for that key await.
        self._pending: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    async def get(self, store: Any, runner: Any, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The answer for ``key`` on the store's current data, as ``runner``'s workers read it: kept, or
        ``compute()``d (once) and kept."""
        # the version the workers read, taken before the computation (as api.result_cache does): an answer
        # computed across a write's hand-over is kept under the version before it, which nothing asks for again
        version = served_version(store, runner)
        if version is None:
            return await compute()
        full = (key, version, derived.marker(store), date.today())
        with self._lock:
            answers = self._kept.setdefault(store, OrderedDict())
            if full in answers:
                answers.move_to_end(full)
                return answers[full]
        pending = (id(asyncio.get_running_loop()), id(store), *full)
        task = self._pending.get(pending)
        if task is None:  # one computation per key, however many requests wait for it
            task = asyncio.ensure_future(compute())
            self._pending[pending] = task
            task.add_done_callback(lambda _: self._pending.pop(pending, None))
        made = await asyncio.shield(task)  # a client that leaves does not stop it for the others
        with self._lock:
            answers[full] = made
            while len(answers) > self.size:
                answers.popitem(last=False)
        return made
