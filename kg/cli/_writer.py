"""How a command that writes gets to write: alone, or through the running server.

``as_writer`` takes the store's writer lock when it is free and runs the command's own work; while
``dcpa serve`` holds it, the work goes to the server (``kg.handoff``); while another command holds
it, it waits for that command to finish, saying so once. A server that rebuilds answers writes
"busy": the command waits for the rebuild and tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .. import versions
from ..connect import writer_lease
from ..errors import StoreBusy, StoreError
from ..settings import get_settings
from ..writer import ServerInfo, WriterLock, holder
from ._app import err, labelled

T = TypeVar("T")

#: How long to wait for a server that holds the writer lock to answer on its admin channel (it may be
#: starting: opening the store and settling interrupted writes) before giving up.
SERVER_SILENCE = 60.0
POLL = 0.2


def as_writer(what: str, alone: Callable[[], T], served: Callable[[ServerInfo], T]) -> T:
    """Run ``alone()`` holding the writer lock, or ``served(server)`` when a server holds it."""
    store_path = get_settings().store_path
    lock = WriterLock(store_path, what)
    told = False
    silent_since: float | None = None
    while True:
        if lock.try_acquire():
            try:
                for note in versions.prepare(store_path):
                    err(labelled("注意", "note", note))
                with writer_lease(get_settings(), what, on_wait=err):  # a remote store's own lease, too
                    return alone()
            finally:
                lock.release()
        from ..handoff import find_server  # httpx: only when there may be a server to talk to

        server = find_server(store_path)
        if server is not None:
            return _retrying(served, server)
        who = holder(lock.path)
        if who is not None and who.what == "serve":
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since > SERVER_SILENCE:
                raise StoreError(
                    f"{who} 打开了存储，但不在管理通道上应答 / {who} has the store open but does not answer on its "
                    "admin channel",
                    hint="它是否还在启动？请稍后再试，或停止服务器后再运行此命令 / "
                         "is it still starting? Try again in a moment; or stop the server and run the command again",
                )
        if not told:
            err(f"等待{who or '另一个 dcpa 进程'}用完存储… / "
                f"waiting for {who or 'another dcpa process'} to finish with the store…")
            told = True
        time.sleep(POLL)


def _retrying(send: Callable[[ServerInfo], T], server: ServerInfo) -> T:
    """Send the work to the server; while it rebuilds the store, wait and send it again."""
    told = False
    while True:
        try:
            return send(server)
        except StoreBusy as e:
            if not told:
                err(f"服务器正忙，稍后自动重试 / the server is busy; waiting to try again…\n  {e.message}")
                told = True
            time.sleep(min(e.retry_after, 5))
