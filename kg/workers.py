"""Read-only work over the store that a deadline can really stop: a pool of worker processes.

Why processes: an Oxigraph query is one blocking call into Rust — sorting, grouping and counting
never come back to Python — so a thread running it can be abandoned but not stopped, and it keeps
its memory (measured: after its 503, ``SELECT * {?a ?b ?c . ?d ?e ?f} ORDER BY ?c ?f LIMIT 1`` grew
the server from 130 MB to 3 GB in 11 s). A worker process past its deadline is killed (SIGKILL),
which ends its work and frees its memory at once, and a fresh one takes its place.

Each worker
  * is forked by multiprocessing's *forkserver*, a clean process started before any store is open
    (forking the server itself would copy RocksDB's threads and locks half-held);
  * opens the on-disk store read-only; the server keeps the read-write open and does every write;
  * reopens it before a task when the pool's data version moved on (``data_changed()``, called
    after every write) or its path changed (``switch_store()``), so no answer predates a write
    (a read-only open replays the write-ahead log: it sees writes the server has not flushed);
  * lives under an address-space ceiling (RLIMIT_AS: its own size after start-up plus
    ``memory_mb``); a query past it fails to allocate, the worker dies, the caller gets 507;
  * cannot reach the network: it enters a new, empty network namespace (``unshare``), so even a
    query that slipped past the SERVICE refusal connects nowhere (best effort: a warning if the
    kernel refuses);
  * dies with its parent (PR_SET_PDEATHSIG) and ignores Ctrl+C: the server stops it.

The pool keeps ``min_workers`` idle workers ready and grows up to ``max_workers``: a request takes
an idle worker at once while a new one starts in the background (~0.03–0.07 s), so a few hostile
queries never make a cheap one wait behind them; a task still running after ``SLOW_AFTER`` has its
worker niced, so that long queries also leave the CPU to cheap ones and to the server, and that
worker is replaced when it is done (benchmarks/bench_api.py measures both). Waiting for a free worker
counts against the request's own deadline. Idle workers beyond ``min_workers`` retire after a minute.
A request that finds all workers busy waits for one rather than failing; so that one client cannot take
them all (six long queries did, and a planner's dashboard and a researcher's point lookup waited behind them
or timed out), the API holds each call in a ``ClientSlots``: one call more than a client may have running
at once, or one past the worker time it may use a minute, is refused at once (429), and the other clients'
calls find workers free. With ``ThreadRunner`` a call abandoned at its deadline gives its client's slot back
while its thread still runs (a remote store's own HTTP timeout, a few seconds later, ends it).

Interface (the API keeps one runner in ``app.state.query_runner``)::

    await runner.call("module:function", *args, timeout=s)  # f(store, *args) in a worker → its result
    runner.data_changed()       # after a write: workers reopen before their next task
    runner.switch_store(path)   # a rebuild swapped the store directory
    runner.close()              # stop now: kill every worker; running and waiting calls get 503

``f`` must be importable by name and its arguments and result picklable. Code that streams may call
``current_deadline().check()`` to stop by itself before it is killed. In-memory stores cannot be
shared with another process and remote stores are HTTP: ``ThreadRunner`` runs those in threads
behind the same interface (there a deadline ends the wait, not the work).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import importlib
import logging
import math
import multiprocessing as mp
import os
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .errors import DcpaError, QueryMemoryLimit, QueryTimeout, QueryTimeUsed, StoreError, TooManyQueries
from .procs import exited
from .store import Store

log = logging.getLogger(__name__)

#: How long a worker may take to start (fork, isolate, open the store) before it is given up.
START_TIMEOUT = 60.0
#: After the deadline, how long a worker's own timeout answer is awaited before it is killed:
#: a worker that stopped by itself is kept, which saves a restart (~0.1 s).
KILL_GRACE = 0.1
#: Idle workers beyond ``min_workers`` retire after this many seconds without work.
IDLE_RETIRE = 60.0
#: A task still running after this many seconds has its worker niced (and replaced when done), so
#: that long queries yield the CPU to cheap ones and to the server (point lookups take ~1 ms).
SLOW_AFTER = 1.0
SLOW_NICE = 10

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_PR_SET_PDEATHSIG = 1


# -- deadlines -----------------------------------------------------------------


class Deadline:
    """When a task must end; shared by the request and the code doing the work."""

    def __init__(self, seconds: float, at: float | None = None) -> None:
        self.seconds = seconds
        #: ``time.monotonic()`` value; CLOCK_MONOTONIC is one clock for all processes of the machine.
        self.at = time.monotonic() + seconds if at is None else at
        self.cancelled = threading.Event()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.cancelled.is_set() or time.monotonic() > self.at

    def check(self) -> None:
        """Raise :class:`QueryTimeout` once the deadline has passed (or the caller gave up)."""
        if self.expired():
            raise query_timeout(self.seconds)


def query_timeout(seconds: float) -> QueryTimeout:
    return QueryTimeout(
        f"查询超过了 {seconds:g} 秒的时间限制 / the query ran longer than its time limit of {seconds:g} s",
        hint="请从最有选择性的模式开始、加上 LIMIT，或把查询限定在一个地区 / "
        "start from the most selective pattern, add a LIMIT, or scope the query to one area",
    )


def store_failed(e: BaseException) -> StoreError:
    """The store failing under a query (a file gone, a read error), wherever the answer was being made."""
    return StoreError(f"存储在回答查询时出错 / the store failed while answering: {e}",
                      hint="请再试一次；若再次出现，请查看服务器日志 / "
                           "try again; if it happens again, see the server log")


def _shutting_down() -> StoreError:
    return StoreError("服务器正在关闭 / the server is shutting down",
                      hint="请等它重新运行后再试 / try again when it is back")


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("dcpa_deadline", default=None)


#: The seconds the calls of a ``ClientSlots.hold`` block waited for a free worker (the pool adds to it): what the
#: client's time budget does not charge, since waiting used no worker.
_WAITED: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("dcpa_waited", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the task running now (in a worker process or a runner thread), if any."""
    return _CURRENT.get()


def resolve(target: str) -> Callable[..., Any]:
    """``"package.module:name"`` (or ``"module:Class.method"``) → the function it names."""
    module, _, qualname = target.partition(":")
    if not module or not qualname:
        raise ValueError(f"a target is 'module:function', not {target!r}")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{target} is not callable")
    return obj  # type: ignore[no-any-return]


def target_of(fn: Callable[..., Any]) -> str:
    """The ``"module:qualname"`` name a worker finds ``fn`` by; refused when that name does not
    lead back to ``fn`` itself (a nested function, a lambda, a name rebound since)."""
    target = f"{fn.__module__}:{fn.__qualname__}"
    try:
        found = resolve(target)
    except (ImportError, AttributeError, ValueError) as e:
        raise ValueError(f"{target} cannot be found by name in a worker") from e
    if found is not fn:
        raise ValueError(f"{target} names another object than the function given")
    return target


def invoke(store: Any, target: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``target(store, *args, **kwargs)``: how keyword arguments reach a worker, whose calls are
    positional (``runner.call("kg.workers:invoke", target_of(fn), args, kwargs, timeout=…)``)."""
    return resolve(target)(store, *args, **kwargs)


# -- the common interface ------------------------------------------------------


class QueryRunner(Protocol):
    """Runs ``f(store, *args)`` under a deadline: in worker processes or, failing that, threads."""

    async def call(self, target: str, *args: Any, timeout: float) -> Any: ...

    def start(self) -> None: ...

    def data_changed(self) -> None: ...

    def switch_store(self, path: str | Path) -> None: ...

    def close(self) -> None: ...

    @property
    def data_version(self) -> int:
        """Moves on when the runner's readers must see newer data (after ``data_changed``, ``switch_store``)."""
        ...


T = TypeVar("T")


def submit_here(pool: ThreadPoolExecutor, fn: Callable[..., T], store: Any, *args: Any) -> Future[T]:
    """``fn(store, *args)`` in one of ``pool``'s threads as part of the task running now: under its deadline,
    and with its frames (and so any Oxigraph iterator) dropped in that thread if it fails (``_run_here``)."""
    return pool.submit(_run_here, fn, store, args, current_deadline())


def _run_here(fn: Callable[..., Any], store: Any, args: tuple[Any, ...], deadline: Deadline | None) -> Any:
    """Run ``fn`` in this thread with ``deadline`` as the current one; on failure, drop its frames
    here before the error leaves the thread.

    Oxigraph's result iterators may only be dropped by the thread that made them, and a traceback
    keeps the frames (and so the iterator) alive until another thread clears it.
    """
    token = _CURRENT.set(deadline)
    try:
        return fn(store, *args)
    except BaseException as e:  # re-raised below, without the frames
        err: BaseException | None = e
    finally:
        _CURRENT.reset(token)
    seen, hops = err, 0
    while seen is not None and hops < 20:
        seen.__traceback__ = None
        seen, hops = seen.__cause__ or seen.__context__, hops + 1
    assert err is not None
    raise err


class ThreadRunner:
    """The runner for stores a process cannot open: in-memory (tests) and remote (HTTP, with its
    own client timeouts). A call past its deadline answers 503 and its thread is abandoned; code
    that checks ``current_deadline()`` stops soon after."""

    def __init__(self, store: Callable[[], Any], threads: int) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="dcpa-query")
        self._closed = False

    def start(self) -> None:
        """Nothing to start: threads are made on demand."""

    async def call(self, target: str, *args: Any, timeout: float) -> Any:
        if self._closed:
            raise _shutting_down()
        fn = resolve(target)
        deadline = Deadline(timeout)
        future = self._pool.submit(_run_here, fn, self._store(), args, deadline)
        try:
            # A little grace, so that the work's own deadline check usually answers first.
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout + 0.5)
        except TimeoutError as e:
            deadline.cancelled.set()
            future.cancel()
            raise query_timeout(timeout) from e
        except asyncio.CancelledError:
            deadline.cancelled.set()
            raise
        except DcpaError:
            raise
        except OSError as e:
            raise store_failed(e) from e

    def data_changed(self) -> None:
        """Nothing to do: the threads read the server's own store object."""

    @property
    def data_version(self) -> int:
        """Always 0: the threads read the server's store object itself, whose ``generation`` says it all."""
        return 0

    def switch_store(self, path: str | Path) -> None:
        """Nothing to do: each call reads the store of the moment."""

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- how much of the runner one client may take ---------------------------------


class ClientSlots:
    """The calls each client has running (waiting for a worker included), and the refusal of one past ``limit``;
    and, with ``seconds_a_minute``, the worker time each client has used, and the refusal of one past that.

    Why refused and not queued: a queued call would still hold a thread and its client's connection, and wait
    behind that client's own long queries to its deadline (503); refused at once, it says what to do (429, with
    a ``Retry-After``: when one of the client's calls ends at the latest). Wikidata's query service and DBpedia
    refuse so too. ``limit`` None: no limit. A client is whatever the caller names it (the API: its address);
    ``None`` is the service's own work (warming the dashboard), never counted.

    Why a time budget too: within its limit a client could keep half the workers busy for ever (three 10 s
    queries, again and again). As Wikidata's query service does (60 s of query time a minute, 120 at once), a
    client may use ``seconds_a_minute`` seconds of calls a minute on average and twice that at once: each call's
    time, less what it waited for a free worker (behind other clients' queries), is counted when it ends, its debt
    comes back at ``seconds_a_minute`` a minute, and a client whose debt
    is past twice that is refused until it is back to it (``Retry-After``: when).
    """

    def __init__(self, limit: int | None, seconds_a_minute: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds_a_minute = seconds_a_minute or None
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, list[float]] = {}  # client → the deadlines (clock()) of its calls
        self._debt: dict[str, tuple[float, float]] = {}  # client → (seconds used and not yet come back, when)

    @contextlib.contextmanager
    def hold(self, client: str | None, timeout: float) -> Iterator[None]:
        """One call of ``client`` that may run ``timeout`` seconds, for as long as the block runs (whatever ends
        it: a result, an error, the deadline, a cancelled request); TooManyQueries when the client is at its limit
        or has used its time."""
        if client is None or (self.limit is None and self.seconds_a_minute is None):
            yield
            return
        start = self._clock()
        end = start + timeout
        with self._lock:
            ends = self._running.setdefault(client, [])
            if self.limit is not None and len(ends) >= self.limit:
                raise too_many_queries(len(ends), self.limit, min(ends) - start)
            if self.seconds_a_minute is not None:
                over = self._debt_locked(client, start) - 2 * self.seconds_a_minute
                if over > 0:
                    if not ends:
                        del self._running[client]
                    raise query_time_used(self.seconds_a_minute, over * 60 / self.seconds_a_minute)
            ends.append(end)
        waited = [0.0]
        token = _WAITED.set(waited)
        try:
            yield
        finally:
            _WAITED.reset(token)
            with self._lock:
                ends.remove(end)
                if not ends:
                    del self._running[client]
                if self.seconds_a_minute is not None:
                    now = self._clock()
                    used = max(0.0, now - start - waited[0])
                    self._debt[client] = (self._debt_locked(client, now) + used, now)
                    if len(self._debt) > 4096:  # many clients (a crawler's addresses): forget those with none left
                        for other in list(self._debt):
                            self._debt_locked(other, now)

    def _debt_locked(self, client: str, now: float) -> float:
        """The seconds ``client`` has used and not yet got back, ``now``; clients back to none are forgotten."""
        assert self.seconds_a_minute is not None
        debt, when = self._debt.get(client, (0.0, now))
        left = max(0.0, debt - (now - when) * self.seconds_a_minute / 60)
        if left == 0.0:
            self._debt.pop(client, None)
        return left

    def running(self, client: str) -> int:
        """How many calls ``client`` has running now."""
        with self._lock:
            return len(self._running.get(client, ()))

    def used(self, client: str) -> float:
        """The seconds of calls ``client`` has used and not yet got back (0 without a time budget)."""
        with self._lock:
            return self._debt_locked(client, self._clock()) if self.seconds_a_minute is not None else 0.0


def too_many_queries(running: int, limit: int, wait: float) -> TooManyQueries:
    retry = max(1, math.ceil(wait))
    return TooManyQueries(
        f"这个客户端已有 {running} 个查询在运行，每个客户端最多同时运行 {limit} 个 / this client already has "
        f"{running} queries running, the most one client may run at once ({limit})",
        hint=f"请等其中一个结束后再发送（最迟 {retry} 秒后，见 Retry-After），并逐个发送查询，不要并行"
        f"（限制为 DCPA_CLIENT_QUERIES） / wait until one of them has ended (in {retry} s at the latest: "
        "Retry-After) and send your queries one after another, not in parallel (the limit is DCPA_CLIENT_QUERIES)",
        retry_after=retry,
    )


def query_time_used(seconds_a_minute: float, wait: float) -> QueryTimeUsed:
    retry = max(1, math.ceil(wait))
    return QueryTimeUsed(
        f"这个客户端用完了它的查询时间（平均每分钟 {seconds_a_minute:g} 秒，一次最多 {2 * seconds_a_minute:g} 秒） / "
        f"this client has used up its query time ({seconds_a_minute:g} s of query workers a minute on average, "
        f"{2 * seconds_a_minute:g} s at most at once)",
        hint=f"请在 {retry} 秒后再试（见 Retry-After），并减少查询或缩小其范围（限制为 DCPA_CLIENT_QUERY_SECONDS） / "
        f"try again in {retry} s (Retry-After) and send fewer queries, or narrower ones "
        "(the limit is DCPA_CLIENT_QUERY_SECONDS)",
        retry_after=retry,
    )


# -- the worker process --------------------------------------------------------


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def isolate_network() -> str:
    """Move this (single-threaded) process into a new network namespace, where only a loopback
    interface exists and is down: no address, not even 127.0.0.1, can be reached. Returns how."""
    try:
        libc = _libc()
        unshare = libc.unshare
    except (OSError, AttributeError):
        return "not isolated: unshare() is not available here"
    err = 0
    attempts = ((_CLONE_NEWNET, "network namespace"), (_CLONE_NEWUSER | _CLONE_NEWNET, "user+network namespace"))
    for flags, how in attempts:
        if unshare(flags) == 0:
            return f"isolated ({how})"
        err = ctypes.get_errno()
    return f"not isolated: unshare() failed ({os.strerror(err)})"


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere nothing)."""
    try:
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _vm_size() -> int:
    """This process's address-space size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at its size now plus ``memory_mb``: what one task may add."""
    if memory_mb <= 0:
        return
    limit = _vm_size() + memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError) as e:
        log.warning("query worker %d: no memory ceiling (%s)", os.getpid(), e)


def _error_payload(e: BaseException) -> tuple[Any, ...]:
    if isinstance(e, DcpaError):
        # what a subclass adds travels too: StoreBusy's retry_after (the API's Retry-After), ValidationFailed's issues
        extra = {k: v for k, v in vars(e).items() if k not in ("message", "hint", "details")}
        return (type(e).__module__, type(e).__qualname__, e.message, e.hint, e.details, extra)
    if isinstance(e, OSError):
        failed = store_failed(e)
        return ("kg.errors", "StoreError", failed.message, failed.hint, None, {})
    raise TypeError(e)


def _rebuild(payload: tuple[Any, ...]) -> DcpaError:
    """The worker's error, as the same DcpaError subclass in this process."""
    module, qualname, message, hint, details, extra = payload
    cls: Any = DcpaError
    try:
        found = resolve(f"{module}:{qualname}")
        if isinstance(found, type) and issubclass(found, DcpaError):
            cls = found
    except (ImportError, AttributeError, ValueError):
        pass
    err: DcpaError = cls.__new__(cls)
    DcpaError.__init__(err, message, hint=hint, details=details)
    if cls is not DcpaError:
        vars(err).update(extra)
    return err


class _WorkerStore:
    """The worker's read-only open of the store, reopened when its path or data version moves on."""

    def __init__(self, path: str, version: int) -> None:
        self.path = path
        self.version = version
        self.store: Any = self._open(path)

    @staticmethod
    def _open(path: str) -> Any:
        for attempt in range(5):
            try:
                return Store.open(path, read_only=True, create=False)
            except (StoreError, OSError, RuntimeError) as e:
                # A read-only open racing the server's flush or compaction can find a table file listed
                # and already deleted ("Corruption: … No such file"): the file set settles in milliseconds.
                if attempt == 4:
                    raise StoreError(f"无法打开 {path} 的存储来读取 / cannot open the store at {path} for reading: {e}"
                                     ) from e
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    def ensure(self, path: str, version: int, *, force: bool = False) -> Any:
        if force or path != self.path or version != self.version:
            old, self.store = self.store, None
            if old is not None:  # released before the new open: the memory ceiling counts both
                old.close()
            self.store = self._open(path)
            self.path, self.version = path, version
        return self.store


def _serve_task(state: _WorkerStore, msg: tuple[Any, ...]) -> tuple[str, Any]:
    path, version, target, args, at, seconds = msg
    token = _CURRENT.set(Deadline(seconds, at))
    try:
        fn = resolve(target)
        for attempt in (1, 2):
            try:
                return ("ok", fn(state.ensure(path, version, force=attempt == 2), *args))
            except (StoreError, OSError, RuntimeError):
                # A read-only view can miss a file the server compacted away since it opened (Oxigraph
                # says so with OSError or RuntimeError): reopen and try once more; reads are idempotent.
                if attempt == 2 or (d := current_deadline()) is None or d.expired():
                    raise
        raise AssertionError("unreachable")
    except MemoryError:
        return ("memory", None)
    except (DcpaError, OSError) as e:
        return ("error", _error_payload(e))
    except RuntimeError as e:  # the store failed under us twice
        return ("error", _error_payload(store_failed(e)))
    except Exception as e:  # noqa: BLE001 - a bug in the task: reported to the caller, who logs it
        return ("crash", (type(e).__name__, str(e), traceback.format_exc()))
    finally:
        _CURRENT.reset(token)


def _watch(lifeline: Connection) -> None:
    """End this worker as soon as the server's end of ``lifeline`` closes, whatever it is doing.

    The pool closes it; so does the kernel when the server dies, even by SIGKILL. Without this a
    worker deep in a query would outlive a killed server, and keep the fork server alive with it
    (every fork-server child holds the fork server's liveness pipe)."""
    try:
        lifeline.poll(None)
    except OSError:
        pass
    os._exit(0)


def _worker_main(
    conn: Connection, lifeline: Connection, path: str, version: int, memory_mb: int, isolate: bool
) -> None:
    """The body of a worker process: start up, then answer tasks until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group; the server stops us
    die_with_parent()
    network = isolate_network() if isolate else "not isolated (turned off)"  # while single-threaded
    threading.Thread(target=_watch, args=(lifeline,), name="lifeline", daemon=True).start()
    try:
        state = _WorkerStore(path, version)
    except BaseException as e:  # noqa: BLE001 - reported to the pool, which raises it to the caller
        payload = _error_payload(e) if isinstance(e, DcpaError | OSError) else _error_payload(StoreError(str(e)))
        conn.send(("failed", payload))
        return
    _limit_memory(memory_mb)
    conn.send(("ready", network))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        reply = _serve_task(state, msg)
        try:
            conn.send(reply)
        except MemoryError:
            reply = ("memory", None)
            conn.send(reply)
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable result: a bug, reported
            reply = ("crash", (type(e).__name__, f"cannot send the result: {e}", traceback.format_exc()))
            conn.send(reply)
        if reply[0] == "memory":
            os._exit(3)  # after a MemoryError the heap may be fragmented: let a fresh worker take over


# -- the pool ------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    proc: Any  # multiprocessing.Process (forkserver)
    conn: Connection
    path_gen: int
    idle_since: float = field(default_factory=time.monotonic)
    dead: bool = False
    killed: bool = False  # by us (deadline, cancel, close), not by the kernel
    niced: bool = False  # ran a long task at lower priority; replaced after it

    @property
    def pid(self) -> int:
        return int(self.proc.pid)


@dataclass(frozen=True)
class PoolState:
    """A snapshot of the pool, for tests, benchmarks and health pages."""

    idle: tuple[int, ...]
    busy: tuple[int, ...]
    starting: int
    waiting: int
    version: int
    path: str
    network: str | None
    answered: int  # calls a worker answered (results and errors alike) since the pool started
    #: workers that ended without the pool ending them (a crash, the OOM killer, a kill from outside), since it
    #: started. Why not compare pids: a worker also leaves when the pool replaces it on purpose, after a deadline
    #: or after a task that ran past SLOW_AFTER (niced), which a loaded machine makes of any query.
    died: int = 0

    @property
    def pids(self) -> tuple[int, ...]:
        return self.idle + self.busy


class _Job:
    def __init__(self, target: str, args: tuple[Any, ...], deadline: Deadline) -> None:
        self.target = target
        self.args = args
        self.deadline = deadline
        self.worker: _Worker | None = None
        self.cancelled = False
        self.waited = _WAITED.get()  # made where the call is made: in its client's hold, if any


class WorkerPool:
    """Worker processes over the on-disk store at ``store_path``, each stoppable (see the module doc)."""

    def __init__(
        self,
        store_path: str | Path,
        *,
        min_workers: int = 2,
        max_workers: int = 6,
        memory_mb: int = 1024,
        preload: Sequence[str] = (),
        isolate_network: bool = True,
    ) -> None:
        self.min_workers = max(0, min_workers)
        self.max_workers = max(1, max_workers, self.min_workers)
        self.memory_mb = memory_mb
        self.isolate_network = isolate_network
        self._ctx = mp.get_context("forkserver")
        # Imported once in the fork server, so that a new worker starts in ~0.05 s instead of ~1.5 s.
        # Only the first pool's list counts: there is one fork server per process.
        self._ctx.set_forkserver_preload(["kg.workers", "kg.store", *preload])
        self._cond = threading.Condition()  # an RLock inside: close() may run in a signal handler
        self._start_lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._procs: set[Any] = set()
        self._starting = 0
        self._waiting = 0
        self._path = str(store_path)
        self._path_gen = 0
        self._version = 0
        self._started = False
        self._closed = False
        self._spawn_error: DcpaError | None = None
        self._network: str | None = None
        self._answered = 0
        self._died = 0
        # Every worker holds the reading end; only this process holds the writing end (see _watch).
        self._lifeline = self._ctx.Pipe(duplex=False)
        # One thread per call in flight (running or waiting for a worker); they only wait on pipes.
        self._threads = ThreadPoolExecutor(max_workers=max(32, 4 * self.max_workers), thread_name_prefix="dcpa-pool")

    # -- public -----------------------------------------------------------------

    def start(self, *, wait: float | None = None) -> None:
        """Start the idle workers (in the background); with ``wait``, block until they are ready."""
        with self._cond:
            self._start_locked()
        if wait is not None:
            self.wait_until(lambda s: len(s.idle) >= self.min_workers, timeout=wait)

    async def call(self, target: str, *args: Any, timeout: float) -> Any:
        """Run ``target(store, *args)`` in a worker; its result, or its error re-raised here."""
        job = _Job(target, args, Deadline(timeout))
        resolve(target)  # a bad name is the caller's bug: raised here, not by a worker
        if self._closed:
            raise _shutting_down()
        future = self._threads.submit(self._run, job)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            self._cancel(job)  # the client went away: stop its work too
            raise

    def run(self, target: str, *args: Any, timeout: float) -> Any:
        """The blocking twin of :meth:`call`, for code that is not async."""
        job = _Job(target, args, Deadline(timeout))
        resolve(target)
        return self._run(job)

    def data_changed(self) -> None:
        """The server wrote to the store: every worker reopens it before its next task."""
        with self._cond:
            self._version += 1

    @property
    def data_version(self) -> int:
        """The version of the data the next task reads (moved by ``data_changed`` and ``switch_store``)."""
        with self._cond:
            return self._version

    def switch_store(self, path: str | Path) -> None:
        """Serve the store at ``path`` from now on: no task starts on the old one after this returns;
        idle workers are replaced at once and busy ones when their task ends, so the old directory
        is let go of as soon as the queries running on it finish."""
        with self._cond:
            self._path = str(path)
            self._path_gen += 1
            self._version += 1
            stale, self._idle = self._idle, []
            if self._started:
                self._top_up_locked()
        for w in stale:
            self._kill(w)

    def close(self) -> None:
        """Stop now: kill every worker; running and waiting calls end with 503. Safe to call from a
        signal handler (no lock but the pool's re-entrant one) and more than once."""
        self._closed = True
        for proc in _snapshot(self._procs):
            try:
                proc.kill()
            except (OSError, ValueError, AttributeError):
                pass
        try:
            self._lifeline[1].close()  # and any worker just being born ends by itself
        except OSError:
            pass
        with self._cond:
            self._cond.notify_all()

    def state(self) -> PoolState:
        with self._cond:
            return PoolState(
                idle=tuple(w.pid for w in self._idle),
                busy=tuple(w.pid for w in self._busy),
                starting=self._starting,
                waiting=self._waiting,
                version=self._version,
                path=self._path,
                network=self._network,
                answered=self._answered,
                died=self._died,
            )

    def wait_until(self, ready: Callable[[PoolState], bool], *, timeout: float) -> PoolState:
        """Block until ``ready(state)`` holds (a state, not a sleep); StoreError after ``timeout``."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                state = self.state()
                if ready(state):
                    return state
                if self._spawn_error is not None and not (self._idle or self._busy or self._starting):
                    raise self._spawn_error
                left = end - time.monotonic()
                if left <= 0 or self._closed:
                    # for developers: a wait of the tests and benchmarks
                    raise StoreError(f"the query pool did not reach the awaited state (now {state})")
                self._cond.wait(min(left, 0.5))

    # -- one call -----------------------------------------------------------------

    def _run(self, job: _Job) -> Any:
        worker = self._acquire(job)
        try:
            return self._execute(worker, job)
        finally:
            self._release(worker)

    def _acquire(self, job: _Job) -> _Worker:
        asked = time.monotonic()
        worker = self._take(job)
        if job.waited is not None:
            job.waited[0] += time.monotonic() - asked
        return worker

    def _take(self, job: _Job) -> _Worker:
        with self._cond:
            self._start_locked()
            self._waiting += 1
            try:
                while True:
                    if self._closed:
                        raise _shutting_down()
                    if job.cancelled:
                        raise query_timeout(job.deadline.seconds)
                    if self._idle:
                        worker = self._idle.pop()  # the most recently used: its caches are warm
                        if exited(worker.pid) or not worker.proc.is_alive():  # died idle (killed from outside)
                            self._procs.discard(worker.proc)
                            self._died += 1
                            worker.dead = True
                            worker.conn.close()
                            continue
                        self._busy.add(worker)
                        job.worker = worker
                        return worker
                    if self._spawn_error is not None and not (self._busy or self._starting):
                        raise self._spawn_error
                    self._top_up_locked()
                    left = job.deadline.remaining()
                    if left <= 0:
                        raise QueryTimeout(
                            f"在 {job.deadline.seconds:g} 秒的时限内没有空闲的查询进程 / no query worker became free "
                            f"within the time limit of {job.deadline.seconds:g} s",
                            hint="服务器正忙于其他查询，请稍后再试 / the server is busy with other queries; try again "
                                 "shortly",
                        )
                    self._cond.wait(left)
            finally:
                self._waiting -= 1
                if not self._closed:
                    self._top_up_locked()  # keep spares ready behind the one just taken

    def _execute(self, worker: _Worker, job: _Job) -> Any:
        with self._cond:
            msg = (self._path, self._version, job.target, job.args, job.deadline.at, job.deadline.seconds)
        try:
            worker.conn.send(msg)
            answered = worker.conn.poll(max(0.0, min(SLOW_AFTER, job.deadline.remaining() + KILL_GRACE)))
            if not answered and job.deadline.remaining() + KILL_GRACE > 0:
                _renice(worker)
                answered = worker.conn.poll(max(0.0, job.deadline.remaining() + KILL_GRACE))
        except (OSError, ValueError):
            answered = True  # the worker is gone: recv() below says how
        if not answered:
            self._kill(worker)
            raise query_timeout(job.deadline.seconds)
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError, ValueError) as e:
            raise self._death(worker, job) from e
        with self._cond:
            self._answered += 1
        if kind == "ok":
            return payload
        if kind == "error":
            raise _rebuild(payload)
        if kind == "memory":
            worker.dead = True
            raise self._memory_error()
        name, message, tb = payload
        log.error("a task failed in query worker %d: %s", worker.pid, tb)
        raise RuntimeError(f"{job.target} failed in a query worker: {name}: {message}")

    def _death(self, worker: _Worker, job: _Job) -> DcpaError:
        """The error for a worker that died while working for ``job``."""
        killed_by_us = worker.killed
        self._kill(worker)
        code = worker.proc.exitcode
        if self._closed:
            return _shutting_down()
        if killed_by_us or job.cancelled:
            return query_timeout(job.deadline.seconds)
        with self._cond:
            self._died += 1
        # A failed allocation under RLIMIT_AS aborts (Rust and C++ both call abort()).
        if code == -signal.SIGABRT:
            return self._memory_error()
        if code == -signal.SIGKILL:  # not by us: the kernel's OOM killer, as a rule
            return QueryMemoryLimit(
                "查询的工作进程被系统终止（SIGKILL），多半是内存不足 / "
                "the query's worker was killed by the system (SIGKILL), most likely for lack of memory",
                hint="请加上 LIMIT 或限定查询范围；若反复出现，请调低 DCPA_QUERY_MEMORY_MB 或 DCPA_QUERY_WORKERS_MAX，"
                "使工作进程装得下本机内存 / "
                "add a LIMIT or scope the query; if it keeps happening, lower DCPA_QUERY_MEMORY_MB "
                "or DCPA_QUERY_WORKERS_MAX so that the workers fit in the machine's memory",
            )
        log.error("query worker %d died (exit code %s) while running %s", worker.pid, code, job.target)
        return StoreError(
            f"查询的工作进程意外停止（退出码 {code}），已换上新的 / "
            f"the query's worker process stopped unexpectedly (exit code {code}); it has been replaced",
            hint="请再试一次；若再次出现，请报告这个查询 / try again; if it happens again, report the query",
        )

    def _memory_error(self) -> QueryMemoryLimit:
        return QueryMemoryLimit(
            f"查询所需内存超过了 {self.memory_mb} MB 的限制，已被停止 / "
            f"the query needed more memory than its limit of {self.memory_mb} MB; it was stopped",
            # no " / " in the Chinese half: it parts the two (api.errors.in_language)
            hint="请加上 LIMIT、避免在大的连接上用 ORDER BY、GROUP BY 或 DISTINCT，或限定查询范围"
            "（限制为 DCPA_QUERY_MEMORY_MB） / "
            "add a LIMIT, avoid ORDER BY / GROUP BY / DISTINCT over large joins, or scope the query "
            "(the limit is DCPA_QUERY_MEMORY_MB)",
        )

    def _release(self, worker: _Worker) -> None:
        stale = False
        with self._cond:
            self._busy.discard(worker)
            if worker.dead or worker.niced or self._closed or worker.path_gen != self._path_gen:
                stale = True
            else:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
            if not self._closed:
                self._top_up_locked()
            self._cond.notify_all()
        if stale:
            self._kill(worker)

    def _cancel(self, job: _Job) -> None:
        """The caller gave up (on the event loop): SIGKILL the job's worker, if it has one, and leave
        the reaping to the thread running the job, which sees the pipe close."""
        job.cancelled = True
        job.deadline.cancelled.set()
        worker = job.worker
        if worker is not None and not worker.dead:
            worker.killed = True
            try:
                worker.proc.kill()
            except (OSError, ValueError, AttributeError):
                pass
        with self._cond:
            self._cond.notify_all()

    # -- workers --------------------------------------------------------------------

    def _start_locked(self) -> None:
        if self._started or self._closed:
            return
        self._started = True
        self._top_up_locked()
        threading.Thread(target=self._retire_idle, name="dcpa-pool-retire", daemon=True).start()

    def _top_up_locked(self) -> None:
        """Start workers in the background until ``min_workers`` (plus one per waiting call) are idle
        or starting, within ``max_workers``."""
        want = self.min_workers + self._waiting
        have = len(self._idle) + self._starting
        room = self.max_workers - (len(self._idle) + len(self._busy) + self._starting)
        for _ in range(max(0, min(want - have, room))):
            self._starting += 1
            threading.Thread(target=self._spawn, name="dcpa-pool-spawn", daemon=True).start()

    def _spawn(self) -> None:
        worker: _Worker | None = None
        error: DcpaError | None = None
        try:
            worker = self._new_worker()
        except DcpaError as e:
            error = e
        except Exception as e:  # noqa: BLE001 - e.g. the fork server could not start
            error = StoreError(f"无法启动查询进程 / cannot start a query worker: {e}")
        stale: _Worker | None = None
        with self._cond:
            self._starting -= 1
            if worker is not None and (self._closed or worker.path_gen != self._path_gen):
                stale, worker = worker, None
            if worker is not None:
                self._idle.append(worker)
                self._spawn_error = None
            elif error is not None and not self._closed:
                self._spawn_error = error
                log.error("cannot start a query worker: %s", error.message)
            self._cond.notify_all()
        if stale is not None:
            self._kill(stale)

    def _new_worker(self) -> _Worker:
        with self._cond:
            path, gen, version = self._path, self._path_gen, self._version
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main,
            args=(child, self._lifeline[0], path, version, self.memory_mb, self.isolate_network),
            name="dcpa-query-worker",
            daemon=True,
        )
        with self._start_lock:  # one fork at a time through the fork server
            if self._closed:
                raise _shutting_down()
            proc.start()
            self._procs.add(proc)
        child.close()
        worker = _Worker(proc, parent, gen)
        try:
            if not parent.poll(START_TIMEOUT):
                raise StoreError(f"查询进程未能在 {START_TIMEOUT:g} 秒内启动 / "
                                 f"a query worker did not start within {START_TIMEOUT:g} s")
            kind, payload = parent.recv()
        except (EOFError, OSError) as e:
            self._kill(worker)
            if self._closed:
                raise _shutting_down() from e
            raise StoreError(f"查询进程在启动时停止（退出码 {proc.exitcode}） / "
                             f"a query worker died while starting (exit code {proc.exitcode})") from e
        except StoreError:
            self._kill(worker)
            raise
        if kind == "failed":
            self._kill(worker)
            raise _rebuild(payload)
        if self._network is None:
            self._network = str(payload)
            if not self._network.startswith("isolated"):
                log.warning("query workers can reach the network: %s", self._network)
        return worker

    def _kill(self, worker: _Worker) -> None:
        """Stop a worker for good (SIGKILL: nothing it holds can delay it) and reap it."""
        if not worker.dead:
            worker.killed = True
        worker.dead = True
        try:
            worker.proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
        try:
            worker.proc.join(5)
        except (OSError, ValueError, AssertionError):
            pass
        self._procs.discard(worker.proc)
        worker.conn.close()

    def _retire_idle(self) -> None:
        """Let idle workers beyond ``min_workers`` go after IDLE_RETIRE seconds without work."""
        while True:
            with self._cond:
                self._cond.wait(IDLE_RETIRE / 4)
                if self._closed:
                    return
                now = time.monotonic()
                extra = len(self._idle) - self.min_workers - self._waiting
                old = sorted((w for w in self._idle if now - w.idle_since > IDLE_RETIRE), key=lambda w: w.idle_since)
                retire = old[: max(0, extra)]
                for w in retire:
                    self._idle.remove(w)
            for w in retire:
                self._kill(w)


def _renice(worker: _Worker) -> None:
    """Lower a long-running worker's priority (only root could raise it again: it is replaced after)."""
    try:
        os.setpriority(os.PRIO_PROCESS, worker.pid, SLOW_NICE)
        worker.niced = True
    except (OSError, AttributeError):
        pass


def _snapshot(items: Iterable[Any]) -> list[Any]:
    """A copy of a set that other threads may change (close() runs without taking their lock)."""
    for _ in range(100):
        try:
            return list(items)
        except RuntimeError:  # changed size during iteration
            continue
    return []


def runner_for(
    store: Any,
    *,
    min_workers: int,
    max_workers: int,
    memory_mb: int,
    preload: Sequence[str] = (),
    current: Callable[[], Any] | None = None,
) -> Any:
    """The runner for ``store``: worker processes for an on-disk ``Store``, threads for in-memory and
    remote stores (reading ``current()`` when given: the store of the moment). Whoever writes to the
    store calls the runner's ``data_changed()`` after each write, and ``switch_store()`` after a
    rebuild (the API: ``app.state.store_listeners``, see ``api.serving``)."""
    if isinstance(store, Store) and store.path is not None:
        path = getattr(store, "real_path", None) or store.path  # the version open now, not the pointer
        return WorkerPool(path, min_workers=min_workers, max_workers=max_workers, memory_mb=memory_mb, preload=preload)
    return ThreadRunner(current or (lambda: store), max_workers)
