"""``/api/dump``: the whole store as a file to download, for a researcher without a shell on the server (the same
bytes as ``dcpa export``: ``kg.export``, which says what the dump is at its top and that it is whole at its end).

The dump is written in a thread of the server, reading the store's own handle, into a short queue the response
reads from: a dump is as large as the store (N-Quads of the national build: gigabytes), so it is never held whole,
and a client reading slowly slows the writing instead of filling the memory. Why one dump at a time
(``MAX_DUMPS``): a dump reads every quad, minutes at national scale, on the cores that answer everyone else; a
second is refused with ``Retry-After`` rather than queued. A client that goes away stops the writing at its next
chunk; one that stops reading without going away, after ``IDLE_SECONDS``.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from kg.contract import StoreAPI
from kg.errors import StoreBusy
from kg.export import DUMP_FILES, DumpFormat, check_settled, dump_name, export

from ..deps import StoreDep
from ..methods import HEAD_KEY
from ..representation import attachment

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/dump", tags=["data / 数据"])

#: Dumps written at once (see the module's note).
MAX_DUMPS = 1
#: Bytes handed to the response at a time (the compression middleware gzips chunks this large in a thread).
CHUNK = 256 * 1024
#: Chunks written ahead of the reader: at most this many times ``CHUNK`` held per dump.
AHEAD = 8
#: A dump whose reader takes no chunk for this long is given up (its slot freed).
IDLE_SECONDS = 120.0


class _Gone(Exception):
    """The reader is gone: the writing stops."""


class Pipe(io.RawIOBase):
    """Bytes from the dump's thread to the response, ``AHEAD`` chunks at most in between."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self.gone = threading.Event()
        self.idle_seconds = idle_seconds
        self._last_read = time.monotonic()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if not self._put(chunk):
            raise _Gone
        return len(chunk)

    def end(self) -> None:
        """The last chunk is written (or the writing failed): the reader stops after what it has."""
        self._put(None)

    def _put(self, item: bytes | None) -> bool:
        """Hand ``item`` to the reader, waiting while it is ``AHEAD`` chunks behind; False when it is gone (or
        has taken nothing for ``idle_seconds``)."""
        while not self.gone.is_set():
            try:
                self._chunks.put(item, timeout=0.5)
                return True
            except queue.Full:
                if time.monotonic() - self._last_read > self.idle_seconds:
                    self.gone.set()
        return False

    def read_chunk(self) -> bytes | None:
        """The next chunk (blocking), None at the end."""
        chunk = self._chunks.get()
        self._last_read = time.monotonic()
        return chunk

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks, for the response; its closing (the client gone) stops the writing."""
        try:
            while (chunk := await anyio.to_thread.run_sync(self.read_chunk)) is not None:
                yield chunk
        finally:
            self.gone.set()


def _slots(state: Any) -> threading.BoundedSemaphore:
    slots = getattr(state, "dump_slots", None)
    if slots is None:
        slots = state.dump_slots = threading.BoundedSemaphore(MAX_DUMPS)
    return slots


def write_dump(store: StoreAPI, fmt: str, pipe: Pipe, slots: threading.BoundedSemaphore) -> None:
    """Write the dump into ``pipe`` (in the dump's thread); free the slot however it ends."""
    try:
        out = io.BufferedWriter(pipe, buffer_size=CHUNK)
        export(store, fmt, out)
        out.flush()
    except _Gone:
        log.info("a %s dump was given up: its reader went away", fmt)
    except Exception:  # noqa: BLE001 - the stream is cut without its last line, which tells the reader
        log.exception("a %s dump failed", fmt)
    finally:
        slots.release()  # first: the reader may be told the end and ask for the next dump at once
        pipe.end()


@router.get("", summary="Download the whole store / 下载整个存储",
            response_class=StreamingResponse, response_model=None,
            responses={200: {"content": {media: {} for media, _ in DUMP_FILES.values()},
                             "description": "The dump, streamed; Turtle, TriG and N-Quads end with the line "
                                            "`# 转储到此结束，完整无缺 / end of dump: it is whole`"},
                       503: {"description": "Another dump is being written: try again after Retry-After"}})
async def get_dump(
    request: Request,
    store: StoreDep,
    fmt: Annotated[DumpFormat, Query(alias="format", description="nq, trig (with the named graphs), ttl (their "
                                     "union) or jsonld")] = DumpFormat.nq,
) -> Response:
    """Every quad of the store, with what to cite it by at its top (``dcpa export``); the catalogue queries that
    read the derived graph need a format with the named graphs (nq, trig, jsonld)."""
    media, _ = DUMP_FILES[fmt.value]
    headers = {**attachment(dump_name(fmt.value, date.today())), "Cache-Control": "no-store"}
    if request.scope.get(HEAD_KEY):  # a link checker's HEAD: the headers, without writing a dump to drop
        return Response(media_type=media, headers=headers)
    await run_in_threadpool(check_settled, store)  # before the 200: once streaming, a refusal only cuts the dump
    slots = _slots(request.app.state)
    if not slots.acquire(blocking=False):
        raise StoreBusy("服务器正在生成另一份转储，请几分钟后再试 / the server is writing another dump; try again in a "
                        "few minutes", hint="或用 SPARQL 端点查询所需的部分 / or query the part you need at /sparql",
                        retry_after=60)
    pipe = Pipe()
    try:
        threading.Thread(target=write_dump, args=(store, fmt.value, pipe, slots), name="dcpa-dump",
                         daemon=True).start()
    except BaseException:
        slots.release()
        raise
    return StreamingResponse(pipe.chunks(), media_type=media, headers=headers)
