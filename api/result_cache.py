"""SPARQL answers kept by the server for the data they were computed on, forgotten at the next write.

Why: an answer costs a query worker about 2.5 ms of CPU even for a point lookup (the query 1.4 ms, the
rest the worker's round trip and the JSON), where a bare Oxigraph server spends about 1.3 ms; on a
2-core machine that capped the endpoint at 0.57x the bare server's throughput. Researchers and pages
send the same texts again (the catalogue, the SPARQL page's examples, dashboards), and those now cost
the server process a dictionary look-up.

Never yesterday's data: an answer is kept under the server store's ``generation`` (moved before and after
every write) and the query runner's ``data_version`` (moved once the workers must reopen the store), both
read before the query ran; it is stored only if neither moved while it ran, and every look-up uses the
current pair, so an answer of older data is never served. A remote store can change behind our back and
is never cached. Only answers up to ``MAX_ENTRY_BYTES`` are kept, ``max_bytes`` in all, least recently used
first out; ``DCPA_RESULT_CACHE_MB=0`` turns it off.

An answer's gzip bytes are kept with it, made on its first request from a client that takes gzip
(:meth:`ResultCache.gzipped`), and go with it: compressed again on every hit, a 337 KB answer took 7.0 ms a hit
instead of 1.6 ms, a 1 MB answer 17.2 ms instead of 3.6; kept, 1.0 and 1.2 ms (level 6, loopback, the
median of 200 hits).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from kg.contract import StoreAPI

from .compression import gzipped
from .kept import served_version
from .sparql import Answer, SparqlRequest

#: The response header saying whether the answer came from the cache ("hit") or was computed ("miss").
CACHE_HEADER = "X-DCPA-Result-Cache"
#: Largest answer kept: bigger ones are rare repeats and would crowd out the small ones.
MAX_ENTRY_BYTES = 1 << 20

Key = tuple[Hashable, ...]


class ResultCache:
    """Answers of one store's current data, by request (see the module doc)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._store: weakref.ref[StoreAPI] | None = None
        self._version: tuple[int, int] | None = None
        self._answers: OrderedDict[Key, Answer] = OrderedDict()
        self._packed: dict[Key, bytes] = {}  # the gzip bytes of an entry, once a client took gzip
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def request_key(req: SparqlRequest, accept: str, max_rows: int) -> Key:
        return (req.query, tuple(req.default_graphs), tuple(req.named_graphs), req.format, accept, max_rows)

    @staticmethod
    def version(store: Any, runner: Any) -> tuple[int, int] | None:
        """The data version an answer is computed on now (None: never cached): ``api.kept.served_version``."""
        return served_version(store, runner)

    def get(self, store: Any, version: tuple[int, int] | None, key: Key) -> Answer | None:
        if version is None or self.max_bytes <= 0:
            return None
        with self._lock:
            if self._store is None or self._store() is not store or self._version != version:
                self.misses += 1
                return None
            found = self._answers.get(key)
            if found is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return found

    def put(self, store: Any, version: tuple[int, int] | None, key: Key, answer: Answer, runner: Any) -> None:
        """Keep ``answer``, computed on ``version``, if the data has not moved on since."""
        size = len(answer.body)
        if version is None or self.max_bytes <= 0 or size > min(MAX_ENTRY_BYTES, self.max_bytes):
            return
        if self.version(store, runner) != version:  # a write began or ended while it ran
            return
        with self._lock:
            if self._store is None or self._store() is not store or self._version != version:
                self._store, self._version = weakref.ref(store), version
                self._answers.clear()
                self._packed.clear()
                self._bytes = 0
            if key in self._answers:
                self._drop(key)
            self._answers[key] = answer
            self._bytes += size
            self._trim()

    async def gzipped(self, key: Key, answer: Answer, level: int) -> bytes | None:
        """``answer``'s body gzip-compressed, made once and kept with it; None when ``answer`` is not the entry of
        ``key`` (not kept: too large, or the data moved), which the middleware compresses as any other answer."""
        with self._lock:
            if self._answers.get(key) is not answer:
                return None
            packed = self._packed.get(key)
        if packed is None:
            packed = await gzipped(answer.body, level)
            with self._lock:  # still the same entry: a write in the meantime cleared it, and it is not kept
                if self._answers.get(key) is answer and key not in self._packed:
                    self._packed[key] = packed
                    self._bytes += len(packed)
                    self._trim()
        return packed

    def _drop(self, key: Key) -> None:
        self._bytes -= len(self._answers.pop(key).body) + len(self._packed.pop(key, b""))

    def _trim(self) -> None:
        while self._bytes > self.max_bytes and self._answers:
            self._drop(next(iter(self._answers)))

    def __len__(self) -> int:
        return len(self._answers)
