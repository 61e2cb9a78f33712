"""The one-writer rule on a remote store: a lease that the store itself holds.

On the embedded store the rule is a file lock (``kg.writer``); writers on other machines cannot see it.
A remote store is shared by every machine that writes to it, so it holds the lease: one node in the
graph ``https://w3id.org/dcpa/lock`` (outside the project's graphs: the store-wide methods, ``stats`` and
``export`` never see it) naming its holder and the time it runs out.

- **Taking it** is one update: drop a lease that ran out, then add ours unless one is there. Two writers
  can both add theirs at once (a store that does not serialise the two updates: each saw none). Each reads
  back, and keeps it only when its own is the only one: of two claims both in the store, the one read back
  later sees both, so at most one writer can have seen its own alone; one that sees another beside its own
  takes its own out and waits (both may, and both try again). Letting the smaller token keep it had let
  two win: one read back alone before the other's claim landed, and the other, its token smaller, read
  back both (once in a clean-clone run of the suite, against Oxigraph server).
- **Keeping it**: a thread moves the end on every third of the lease while the write runs, so a long write
  keeps it and a killed one (``kill -9``) loses it after one lease at most.
- **Waiting**: a writer that finds it held polls until it is free, saying once whom it waits for, and gives
  up with ``StoreBusy`` after ``wait`` seconds.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from types import TracebackType

from .contract import StoreAPI
from .errors import StoreBusy

log = logging.getLogger(__name__)

LOCK_GRAPH = "https://w3id.org/dcpa/lock"
_L = "https://w3id.org/dcpa/lock#"
#: Seconds a lease lasts unless its holder renews it.
LEASE = 60.0
#: Seconds between two looks at a lease held by another writer.
POLL = 0.5
#: Times a writer tries to take its own claim out when the store gives the update up for another's.
_TRIES = 10


class StoreLease:
    """The write lease of one remote store, for one write (a context manager)."""

    def __init__(self, store: StoreAPI, what: str, *, lease: float = LEASE, wait: float = 600.0,
                 on_wait: Callable[[str], None] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store, self.what, self.lease, self.wait = store, what, lease, wait
        self.token = secrets.token_hex(8)
        self._on_wait, self._clock = on_wait, clock
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        #: Set when a renewal found the lease gone (it ran out and another writer took it).
        self.lost = False

    # -- the lease node ---------------------------------------------------
    @property
    def _node(self) -> str:
        return f"<{_L}{self.token}>"

    def holders(self) -> dict[str, tuple[str, float]]:
        """Token → (what, until) of every lease in the store (normally one, or none)."""
        rows = self.store.select(f"SELECT ?t ?w ?u WHERE {{ GRAPH <{LOCK_GRAPH}> {{ ?h <{_L}token> ?t ; "
                                 f"<{_L}what> ?w ; <{_L}until> ?u }} }}")
        return {str(r["t"]): (str(r["w"]), float(r["u"])) for r in rows}

    def try_acquire(self) -> bool:
        now = self._clock()
        until = now + self.lease
        try:
            self._take(now, until)
        except StoreBusy:  # the store gave our update up for another writer's (a deadlock): nothing was written
            return False
        held = self.holders()
        if self.token not in held:
            return False
        if len(held) > 1:  # another claim landed beside ours: it may have read back alone (module docstring)
            self._remove()
            return False
        return True

    def _take(self, now: float, until: float) -> None:
        """Drop a lease that ran out, then add ours unless one is there: one update."""
        self.store.update(
            f"DELETE {{ GRAPH <{LOCK_GRAPH}> {{ ?h ?p ?o }} }} WHERE {{ GRAPH <{LOCK_GRAPH}> {{ "
            f"?h <{_L}until> ?u ; ?p ?o FILTER(?u < {now:.3f}) }} }} ;\n"
            f"INSERT {{ GRAPH <{LOCK_GRAPH}> {{ {self._node} <{_L}token> \"{self.token}\" ; "
            f"<{_L}what> \"{_escape(self.what)}\" ; <{_L}until> {until:.3f} }} }} WHERE {{ "
            # a count, not FILTER NOT EXISTS alone: Virtuoso ignores a WHERE made of that filter only
            f"{{ SELECT (COUNT(?h) AS ?held) WHERE {{ GRAPH <{LOCK_GRAPH}> {{ ?h <{_L}token> ?t }} }} }} "
            f"FILTER(?held = 0) }}")

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        told = False
        while not self.try_acquire():
            if time.monotonic() > deadline:
                raise StoreBusy(f"另一个写入者持有远程存储的写入租约（{self._whom()}） / "
                                f"another writer holds the remote store's write lease ({self._whom()})",
                                hint=f"请在其完成后再试；被终止的写入者会在 {self.lease:.0f} 秒内失去租约 / "
                                "try again when it is done; a writer that was killed loses the lease "
                                f"within {self.lease:.0f} s")
            if not told and self._on_wait is not None:
                self._on_wait(f"等待 {self._whom()} 用完远程存储… / "
                              f"waiting for {self._whom()} to finish with the remote store…")
                told = True
            # polling the store for the state "free", with a deadline; at random moments, so that writers who
            # backed off together do not collide again
            time.sleep(POLL * random.uniform(0.5, 1.5))
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="dcpa-lease", daemon=True)
        self._renewer.start()

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        self._remove()

    def _whom(self) -> str:
        held = self.holders()
        return ", ".join(f"dcpa {w} (until {time.strftime('%H:%M:%S', time.localtime(u))})"
                         for w, u in held.values()) or "another writer"

    def _remove(self) -> None:
        for attempt in range(_TRIES):
            try:
                self.store.update(f"DELETE WHERE {{ GRAPH <{LOCK_GRAPH}> {{ {self._node} ?p ?o }} }}")
                return
            except StoreBusy:  # given up for another writer's update (a deadlock): nothing removed yet
                if attempt == _TRIES - 1:
                    raise
                time.sleep(POLL * random.uniform(0.1, 0.5))

    def _renew(self) -> None:
        while not self._stop.wait(self.lease / 3):
            until = self._clock() + self.lease
            try:
                self.store.update(
                    f"DELETE {{ GRAPH <{LOCK_GRAPH}> {{ {self._node} <{_L}until> ?u }} }} "
                    f"INSERT {{ GRAPH <{LOCK_GRAPH}> {{ {self._node} <{_L}until> {until:.3f} }} }} "
                    f"WHERE {{ GRAPH <{LOCK_GRAPH}> {{ {self._node} <{_L}until> ?u }} }}")
                if self.token not in self.holders():
                    self.lost = True
                    log.error("the write lease of dcpa %s ran out and was taken: another writer may write now",
                              self.what)
                    return
            except Exception as e:  # noqa: BLE001 — a renewal that fails is retried; the lease runs out otherwise
                log.warning("could not renew the write lease: %s", e)

    def __enter__(self) -> StoreLease:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
