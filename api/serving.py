"""The server's store: its one read-write handle, the only door its writes go through, and the switch
to a freshly built version.

``create_app`` puts a ``ServedStore`` on ``app.state.served``. When the app opened the store itself
(``dcpa serve``) it *owns* it: it holds the writer lock (``kg.writer``) for as long as it runs, settles
interrupted writes at start (``kg.importer.journal.recover``), and the dcpa commands hand it their
writes (``api.routes.admin``). Then:

* every write runs inside ``writing()``: one at a time, and answered 503 ``store_busy`` with
  ``Retry-After`` while a rebuild runs (imports never land in a store about to be replaced);
* ``build()`` loads a new version aside while the old one keeps serving reads, then ``_switch``
  moves the pointer, opens the new version, puts it on ``app.state.store`` and tells the listeners.
  Requests already running finish on the old handle, which closes when the last of them drops it.

**Store listeners.** ``app.state.store_listeners`` is a list that other parts of the server (say, a
pool of query worker processes) append to. After every accepted write each listener's
``data_changed()`` is called; after a rebuild, ``switch_store(path)`` with the directory of the new
version (open it read-only there; the pointer may move again later). Both are optional; both are
called from the thread that wrote, after the write is durable.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import uvicorn

from kg import versions
from kg.build import BuildReport, ProgressFn, build
from kg.connect import is_shared_writable, lease_for
from kg.contract import StoreAPI
from kg.derived import Marker, as_of_today, derive_all, marker, other_windows_words
from kg.errors import StoreBusy, StoreError
from kg.importer.journal import advance_marked, recover
from kg.settings import Settings
from kg.store import Store
from kg.workers import START_TIMEOUT, WorkerPool
from kg.writer import ServerInfo, WriterLock, holder, pid_alive, register_server, unregister_server

from .routes.dashboard import warm

log = logging.getLogger(__name__)


class StoreListener(Protocol):
    """What a store listener may implement (both methods are optional)."""

    def switch_store(self, path: Path) -> None: ...

    def data_changed(self) -> None: ...


class ServedStore:
    """The store an app serves, and how the app writes to it (see the module docstring)."""

    def __init__(self, state: Any, settings: Settings, *, lock: WriterLock | None = None) -> None:
        self._state = state
        self.settings = settings
        self._lock = lock
        self.owned = lock is not None
        #: The token of the admin channel (``api.routes.admin``); only an owning server has one.
        self.admin_token: str | None = secrets.token_urlsafe(32) if self.owned else None
        self.instance = secrets.token_hex(8)
        self._cond = threading.Condition()
        self._busy = False
        self._building_since: float | None = None
        self._registered = False
        self._told_windows: str | None = None  # the graph's other validity windows, told once

    @classmethod
    def open(cls, state: Any, settings: Settings) -> StoreAPI:
        """Become the store's writer (waiting for a running command to finish), repair what a crash
        left, open the store and put it on ``state.store``; returns the store."""
        lock = WriterLock(settings.store_path, "serve")
        told = False
        while not lock.try_acquire():  # a command finishes soon; another server does not
            who = holder(lock.path)
            if who is not None and who.what == "serve" and pid_alive(who.pid):
                where = versions.pointer(settings.store_path)
                raise StoreBusy(f"{who} 已在提供 {where} 的存储 / {who} already serves the store at {where}",
                                hint="请先停止它，或提供另一个存储（DCPA_STORE_PATH） / "
                                "stop it first, or serve another store (DCPA_STORE_PATH)")
            if not told:
                log.warning("waiting for %s to finish with the store", who or "another dcpa process")
                told = True
            time.sleep(0.1)
        try:
            for note in versions.prepare(settings.store_path):
                log.warning("%s", note)
            store = Store.open(settings.store_path, create=False)
            try:
                recover(store, settings)
                versions.collect(settings.store_path)
            except BaseException:
                store.close()
                raise
        except BaseException:
            lock.release()
            raise
        state.store = store
        state.served = cls(state, settings, lock=lock)
        return store

    @property
    def store(self) -> StoreAPI:
        store: StoreAPI = self._state.store
        return store

    @property
    def listeners(self) -> list[Any]:
        found: list[Any] = self._state.store_listeners
        return found

    # -- writing ----------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[StoreAPI]:
        """Hold the store's write turn: one writer at a time, none while a rebuild runs (``StoreBusy``)."""
        with self._cond:
            while self._busy:
                if self._building_since is not None:
                    raise self.busy_error()
                self._cond.wait()
            self._busy = True
        try:
            with lease_for(self.store, "serve"):  # a remote store: writers elsewhere wait for it too
                yield self.store
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def changed(self) -> None:
        """After an accepted write: make it durable on disk and tell the listeners."""
        flush = getattr(self.store, "flush", None)
        if flush is not None:
            flush()
        for listener in list(self.listeners):
            _call(listener, "data_changed")

    @property
    def building(self) -> bool:
        return self._building_since is not None

    def busy_error(self) -> StoreBusy:
        elapsed = time.monotonic() - (self._building_since or time.monotonic())
        now = versions.current(self.settings.store_path)
        record = versions.completion(now) if now is not None else None
        expected = float((record or {}).get("seconds", 30.0))
        return StoreBusy(
            "存储正在重建，没有写入任何内容 / the store is being rebuilt; nothing was written",
            hint="请在重建完成后再试（见 Retry-After）；读取照常进行 / "
                 "try again when the rebuild is done (see Retry-After); reading goes on as usual",
            retry_after=int(max(1.0, expected - elapsed)) + 1,
        )

    # -- rebuilding -------------------------------------------------------
    def build(self, *, progress: ProgressFn | None = None, **options: Any) -> BuildReport:
        """Rebuild the store (``kg.build.build``) while the old version serves reads; writes get 503."""
        if not self.owned:
            raise StoreError(
                "这个服务器的存储是交给它的（内存中的或远程的存储）：它不能重建 / "
                "this server was given its store (an in-memory or remote store): it cannot rebuild it",
                hint="请在存储所在之处用 `dcpa build` 重建 / rebuild where the store lives, with `dcpa build`",
            )
        with self._cond:
            if self._building_since is not None:
                raise self.busy_error()
            self._building_since = time.monotonic()
            self._cond.notify_all()  # writers waiting for their turn answer 503 now
            while self._busy:
                self._cond.wait()
            self._busy = True
        try:
            report = build(self.settings, current=self.store, switch=self._switch, progress=progress, **options)
            gc.collect()  # drop the old version's handle if no request uses it any more, so that it can go
            versions.collect(self.settings.store_path)
            return report
        finally:
            with self._cond:
                self._busy = False
                self._building_since = None
                self._cond.notify_all()

    def _switch(self, version: Path) -> None:
        """Point the store at ``version``, open it, serve it, tell the listeners."""
        new = Store.open(version, create=False)  # first: if it does not open, the pointer stays where it is
        try:
            versions.switch(self.settings.store_path, version)
        except BaseException:
            new.close()
            raise
        self._state.store = new  # the old handle closes when the last request using it ends
        for listener in list(self.listeners):
            _call(listener, "switch_store", new.real_path)
        warm(self._state)

    def derive(self, as_of: date | None = None) -> tuple[int, Marker | None]:
        """Recompute the derived graph in place (``dcpa derive``), as one write; its needs and its marker."""
        with self.writing() as store:
            recover(store, self.settings)
            n = derive_all(store, as_of=as_of, settings=self.settings)
            m = marker(store)
        self.changed()
        return n, m

    @property
    def keeps_derived(self) -> bool:
        """Whether this server keeps the derived graph answering for today (``DerivedKeeper``): the store
        it owns, or a remote store it may write (which other services may keep too: the lease makes them
        take turns, and the first to move the graph leaves the others nothing to do). A given in-memory
        store, or a remote one without an update endpoint, is left as it is."""
        return self.owned or is_shared_writable(self.store)

    def keep_current(self, day: date | None = None) -> bool:
        """Move the derived graph when it no longer answers for ``day`` (default: the settings' as-of
        date, else today): a validity window closed or an intervention started since it was made.
        True if it moved it. On a shared store it never moves back: a graph already made for a later
        day is another service's (clocks differ, or its ``DCPA_AS_OF``), and answers for it.
        """
        if not self.keeps_derived or self.building:
            return False  # a build derives its new version itself
        day = day or as_of_today(self.settings)
        m = marker(self.store)
        windows = self.settings.validity_windows()
        if m is not None and m.other_windows(windows) and self._told_windows != m.windows:
            self._told_windows = m.windows
            log.warning("%s：回答将按规则实时计算，运行 `dcpa derive` 可重新生成 / %s: answers apply the rule live "
                        "until `dcpa derive` makes it again", *other_windows_words(m, windows))
        if self._leave(m, day):
            return False
        was = f"made for {m.as_of}, stable until {m.stable_until}" if m else "missing"
        log.info("the derived graph is %s: moving it to %s", was, day)
        with self.writing() as store:
            recover(store, self.settings)
            moved = not self._leave(marker(store), day)  # another service may have moved it meanwhile
            if moved:
                advance_marked(store, day, self.settings)  # only the counties where an outcome changes
        self.changed()
        return moved

    def _leave(self, m: Marker | None, day: date) -> bool:
        """Whether the derived graph ``m`` is to be left as it is for ``day``."""
        return m is not None and (m.covers(day) or (not self.owned and m.as_of > day))

    # -- registration and shutdown ----------------------------------------
    def register(self, url: str) -> None:
        """Tell the dcpa commands where to hand their writes (``<store>.server.json``)."""
        if self.admin_token is None:
            return
        where = str(versions.pointer(self.settings.store_path))
        info = ServerInfo(os.getpid(), url, self.admin_token, self.instance, where)
        path = register_server(self.settings.store_path, info)
        self._registered = True
        log.info("dcpa commands hand their writes to this server (%s)", path)

    def unregister(self) -> None:
        if self._registered:
            unregister_server(self.settings.store_path, self.instance)
            self._registered = False

    def close(self) -> None:
        """At shutdown: unregister, close the store, give up the writer lock."""
        self.unregister()
        if self._lock is None:
            return
        with contextlib.suppress(AttributeError):  # already closed
            self.store.close()
        self._lock.release()
        self._lock = None


class DerivedKeeper:
    """Keeps the served derived graph answering for today: a thread that calls
    ``ServedStore.keep_current`` at start and then every ``settings.derived_check_seconds``.

    Without it a server running for months would read need states whose validity windows had closed
    (the answers would notice and apply the rule live, slowly; the SPARQL endpoint would not). The
    check is one small query; a re-derive is one write like any other (imports wait for it).
    """

    def __init__(self, served: ServedStore) -> None:
        self.served = served
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dcpa-derived-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 5.0) -> None:
        """Stop checking. A move still running after ``wait`` seconds is left to the process's end: cut
        short, its marked counties are repaired by the next writer's recovery (``advance_marked``)."""
        self._stop.set()
        self._thread.join(wait)
        if self._thread.is_alive():
            log.warning("stopping while the derived graph moves: the next writer repairs what is left half done")

    def _run(self) -> None:
        interval = self.served.settings.derived_check_seconds
        while not self._stop.is_set():
            try:
                self.served.keep_current()
            except StoreBusy:
                pass  # a rebuild is under way: it derives the new version itself
            except Exception:  # noqa: BLE001 - keep serving; answers apply the rule live meanwhile
                log.exception("could not bring the derived graph up to date; `dcpa derive` does it by hand")
            self._stop.wait(interval)


def collect_here() -> None:
    """Collect garbage in this (worker) thread, after a write.

    Oxigraph's result iterators may only be dropped by the thread that made them; one caught in a
    reference cycle (e.g. a frame kept by pySHACL) would otherwise be collected later on another
    thread, fail to drop, and keep the on-disk store locked.
    """
    gc.collect()


def _call(listener: Any, method: str, *args: Any) -> None:
    fn: Callable[..., Any] | None = getattr(listener, method, None)
    if fn is None:
        return
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - one faulty listener must not fail the write that succeeded
        log.exception("store listener %r failed in %s", listener, method)


class RegisteringServer(uvicorn.Server):
    """uvicorn's server, which registers the app's admin channel once it listens (the port is known
    only then) and unregisters it first thing at shutdown."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        served = getattr(getattr(self.config.app, "state", None), "served", None)
        if self.should_exit or served is None or not self.servers:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        served.register(f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")

    async def shutdown(self, sockets: Any = None) -> None:
        served = getattr(getattr(self.config.app, "state", None), "served", None)
        if served is not None:
            served.unregister()
        await super().shutdown(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Ctrl+C / SIGTERM: uvicorn waits for the requests in flight, and a query deep in the engine
        would hold it for its whole time limit; stopping the query workers now ends those requests
        (503) at once, so one signal stops the server promptly."""
        super().handle_exit(sig, frame)
        runner = getattr(getattr(self.config.app, "state", None), "query_runner", None)
        if runner is not None:
            runner.close()


def run(app: Any, **options: Any) -> None:
    """``uvicorn.run`` for ``dcpa serve``: the same options, with the admin channel registered and
    the query workers ready before the first request (about a second: the fork server loads once)."""
    runner = getattr(getattr(app, "state", None), "query_runner", None)
    if isinstance(runner, WorkerPool):
        runner.start(wait=START_TIMEOUT)
    RegisteringServer(uvicorn.Config(app, **options)).run()
