"""One writer per store: a lock that only one process holds, and the file a running server leaves.

RocksDB (under Oxigraph) lets one process open a store for writing. The processes that write —
``dcpa serve`` for as long as it runs, ``dcpa import``, ``dcpa derive`` and ``dcpa build`` while they
work — first take the **writer lock**, an ``flock`` on ``.<store name>.writer.lock`` beside the
store path. The kernel drops it when its holder exits, even by ``kill -9``, so it is never stale.
The holder writes its pid and what it does into the file, so that a process waiting for it can
say whom it waits for.

A running server also writes ``<store name>.server.json`` beside the store path (mode 0600): its
pid, its loopback URL and a random token made at every start. A command that finds the writer
lock taken reads it and hands its work to the server through the server's ``/admin`` routes
(``kg.handoff``) instead of waiting for the server to stop.

Within one process the lock is re-entrant: the server holds it, and a build the server runs
takes it again without waiting for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from .atomic import write_json
from .errors import StoreBusy


def _base(store_path: Path | str) -> Path:
    """The store path as configured (absolute, the pointer itself: symlinks are not followed)."""
    return Path(os.path.abspath(store_path))


def lock_path(store_path: Path | str) -> Path:
    p = _base(store_path)
    return p.parent / f".{p.name}.writer.lock"


def server_file(store_path: Path | str) -> Path:
    p = _base(store_path)
    return p.parent / f"{p.name}.server.json"


@dataclass
class Holder:
    """Who holds the writer lock: a process id and what it does (serve, build, import, derive)."""

    pid: int
    what: str
    since: float

    def __str__(self) -> str:
        return f"dcpa {self.what} (pid {self.pid})"


@dataclass
class _Held:
    fh: IO[str]
    count: int


_HELD: dict[Path, _Held] = {}
_GUARD = threading.Lock()


def _forget_in_child() -> None:
    """A forked child (say, a query worker of the server) must not keep the writer lock alive after
    its parent dies: close its copies of the lock files (without unlocking: the lock is the parent's)."""
    global _GUARD
    _GUARD = threading.Lock()
    for held in _HELD.values():
        with contextlib.suppress(OSError):
            held.fh.close()  # flock belongs to the open file: the parent's descriptor keeps it locked
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


class WriterLock:
    """The writer lock of the store at ``store_path``, taken for ``what`` (shown to those who wait)."""

    def __init__(self, store_path: Path | str, what: str) -> None:
        self.store_path = _base(store_path)
        self.path = lock_path(store_path)
        self.what = what
        self._mine = False

    def try_acquire(self) -> bool:
        """Take the lock if it is free (or already held by this process); never waits."""
        if self._mine:
            return True
        with _GUARD:
            held = _HELD.get(self.path)
            if held is not None:
                held.count += 1
                self._mine = True
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open while the lock is held
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                return False
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(asdict(Holder(os.getpid(), self.what, time.time()))))
            fh.flush()
            _HELD[self.path] = _Held(fh, 1)
            self._mine = True
            return True

    def acquire_or_fail(self) -> None:
        """Take the lock now, or raise ``StoreBusy`` saying who holds it."""
        if not self.try_acquire():
            who = holder(self.path)
            raise StoreBusy(
                f"{who or '另一个 dcpa 进程'} 正在写入 {self.store_path} 的存储 / "
                f"{who or 'another dcpa process'} is writing the store at {self.store_path}",
                hint="请等它结束；`dcpa serve` 运行期间，请使用 dcpa 命令（它们把工作交给服务器）或 API / "
                "wait for it to finish; while `dcpa serve` runs, use the dcpa commands (they hand their "
                "work to the server) or the API",
            )

    def release(self) -> None:
        if not self._mine:
            return
        self._mine = False
        with _GUARD:
            held = _HELD[self.path]
            held.count -= 1
            if held.count == 0:
                del _HELD[self.path]
                fcntl.flock(held.fh.fileno(), fcntl.LOCK_UN)
                held.fh.close()

    def __enter__(self) -> WriterLock:
        self.acquire_or_fail()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(path: Path) -> Holder | None:
    """Who holds (or last held) the writer lock ``path``, as it wrote itself into the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["what"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------------------
# The running server's registration
# ---------------------------------------------------------------------------


@dataclass
class ServerInfo:
    """What a running server tells the commands: where to reach it, and the token it accepts."""

    pid: int
    url: str
    token: str
    instance: str
    store: str


def register_server(store_path: Path | str, info: ServerInfo) -> Path:
    """Write ``<store>.server.json`` (mode 0600, replaced atomically) for the commands to find."""
    target = server_file(store_path)
    write_json(target, asdict(info), mode=0o600)
    return target


def unregister_server(store_path: Path | str, instance: str) -> None:
    """Remove the server file if it is still this server's (a newer server may have replaced it)."""
    target = server_file(store_path)
    info = read_server(store_path)
    if info is not None and info.instance == instance:
        with contextlib.suppress(OSError):
            target.unlink()


def read_server(store_path: Path | str) -> ServerInfo | None:
    """The registration of the server of this store, if its file is there and readable.

    Raises ``PermissionError`` when the file exists but this user may not read it (the server runs
    as someone else): the caller says so rather than pretending there is no server.
    """
    try:
        data: dict[str, Any] = json.loads(server_file(store_path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except PermissionError:
        raise
    except (OSError, ValueError):
        return None
    try:
        return ServerInfo(int(data["pid"]), str(data["url"]), str(data["token"]), str(data["instance"]),
                          str(data["store"]))
    except (KeyError, TypeError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True
