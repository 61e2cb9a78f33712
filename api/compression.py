"""Responses compressed for the county libraries' slow links: gzip for every client that accepts it.

Why: a planner's village page fetched 654 KB of vis-network and the dashboard 210 KB of Chart.js, the SPARQL
page 1 MB of YASGUI, and a search answer 41 KB of JSON; gzip (level 6) makes them 155 KB, 71 KB, 282 KB and
3 KB (``benchmarks/bench_pages.py``). On a 1 Mbit/s line the village page's script alone came down from 5.2 s
to 1.2 s. Starlette's ``GZipMiddleware`` does the work (bodies of 128 KiB and more in a thread, so the event
loop keeps answering); this module chooses what it leaves alone and keeps the caches right:

- Formats that are compressed already (XLSX is a zip file; images, fonts) go as they are.
- A compressed response's ``ETag`` is made weak (``W/"…"``): a strong one promises the same bytes, and the
  compressed bytes differ from the file's (RFC 9110 8.8.1; nginx does the same). Starlette's ``StaticFiles``
  compares either form, so a browser's revalidation still gets 304, which carries the weak tag of the copy it
  revalidates (and ``Vary: Accept-Encoding``), as the 200 did.
- Whether a client takes gzip is read from its ``Accept-Encoding`` by the q-values (RFC 9110 12.5.3), not by
  the word: Starlette looks for "gzip" in the header, so a client refusing it (``gzip;q=0``, ``*;q=0``) got it
  all the same. A client that takes no coding we have gets the bytes as they are (never a 406: identity is
  what HTTP falls back on).
- ``DCPA_COMPRESS_LEVEL=0`` turns it off (a proxy in front that compresses already).
"""

from __future__ import annotations

import zlib

import anyio.to_thread
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .qvalues import weighted

#: Media types sent as they are: zip-based office files (XLSX, ODS) and what Starlette leaves alone.
ALREADY_COMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
)

#: Bodies shorter than this go as they are: gzip's header and trailer (18 bytes) and a round of
#: compression gain nothing on a short JSON error or a point lookup's few rows.
MIN_BYTES = 1024
#: Bodies from this size are compressed in a thread, as GZipMiddleware does, so the event loop keeps answering.
THREAD_BYTES = 128 * 1024


class Compression:
    """gzip for clients that accept it (``GZipMiddleware``), with a weak ``ETag`` on what it compresses."""

    def __init__(self, app: ASGIApp, level: int) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MIN_BYTES, compresslevel=level,
                                   exclude_content_types=ALREADY_COMPRESSED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        asked = b",".join(v for k, v in scope["headers"] if k == b"if-none-match")
        # GZipMiddleware decides on the word "gzip" in the header: it is shown the header only when the q-values
        # take gzip, and then as plain "gzip"
        offered = [v for k, v in scope["headers"] if k == b"accept-encoding"]
        headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
        if offered and takes_gzip(b",".join(offered).decode("latin-1")):
            headers.append((b"accept-encoding", b"gzip"))
        scope = {**scope, "headers": headers}

        async def weakened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(k.lower() == b"content-encoding" and v == b"gzip" for k, v in headers):
                    message = {**message, "headers": _weak_etag(headers)}
                elif message["status"] == 304 and _revalidates_compressed(asked, headers):
                    # the compressed copy's tag, as its 200 had (RFC 9110 15.4.5), and what it varies by
                    message = {**message, "headers": [*_weak_etag([(k, v) for k, v in headers if k.lower() != b"vary"]),
                                                      (b"vary", vary_with(headers, b"Accept-Encoding"))]}
            await send(message)

        await self.gzip(scope, receive, weakened)


def takes_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value takes gzip: named (or ``x-gzip``), else by ``*``, with a q-value
    above 0 (RFC 9110 12.5.3, read by ``api.qvalues``); the most specific entry decides (``*;q=0, gzip`` takes it,
    ``*, gzip;q=0`` not); and not below ``identity`` where the client names it (``identity;q=1, gzip;q=0.5``:
    the plain bytes are preferred)."""
    quality = dict(weighted(accept_encoding))  # the last of a coding named twice, as before
    q = next((quality[n] for n in ("gzip", "x-gzip", "*") if n in quality), 0.0)
    return q > 0 and q >= quality.get("identity", 0.0)


async def gzipped(body: bytes, level: int) -> bytes:
    """``body`` gzip-compressed at ``level``, as GZipMiddleware would send it: for an answer that keeps its
    compressed bytes (``api.result_cache``), which the middleware then passes on as they are."""
    def pack() -> bytes:
        packer = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return packer.compress(body) + packer.flush()

    return await anyio.to_thread.run_sync(pack) if len(body) >= THREAD_BYTES else pack()


def _weak_etag(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with their ``ETag`` made weak (``W/"…"``), the others as they are."""
    return [(k, b"W/" + v if k.lower() == b"etag" and not v.startswith(b"W/") else v) for k, v in headers]


def _revalidates_compressed(asked: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a 304 answers a copy held compressed: the client asked with the weak form of the 304's tag."""
    etag = next((v for k, v in headers if k.lower() == b"etag"), None)
    return etag is not None and not etag.startswith(b"W/") and b"W/" + etag in [t.strip() for t in asked.split(b",")]


def vary_with(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    """The ``Vary`` value of ``headers`` with ``name`` added when it is not there yet (every ``Vary`` header merged):
    what an answer varies by, as a cache between reads it."""
    said = [v.strip() for k, value in headers if k.lower() == b"vary" for v in value.split(b",") if v.strip()]
    return b", ".join([*said, *([] if any(v.lower() == name.lower() for v in said) else [name])])
