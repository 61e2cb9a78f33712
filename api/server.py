"""How `dcpa serve` and the tests' live server run uvicorn: httptools with a deadline for request headers.

uvicorn closes a keep-alive connection that stays idle after a response, but it has no limit for
a connection that never sends a request, nor for request headers sent one byte at a time
(slowloris): a handful of clients could hold every connection open forever. ``GuardedHttpToolsProtocol``
gives each request ``settings.header_timeout`` seconds to complete its request line and headers,
counted from the connection (first request) or from the request's first byte (later requests on
a kept-alive connection); when time is up it answers 408 in the API's JSON error shape and closes.
Request bodies are bounded by ``api.guards.BodyLimits``.

Why httptools (uvicorn's C parser) and not h11 (its pure-Python one): a SPARQL request cost the HTTP
process 1.0 ms of CPU with h11; with httptools the endpoint answered 7% more point lookups at 8 clients
on two cores (471-480 against 437-450 req/s, the default build) and ``/health`` cost 0.23 ms instead of
0.29 ms (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kg.settings import Settings

from .errors import error_body
from .guards import SECURITY_HEADERS


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the request line and headers."""

    header_timeout: float = 20.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_head = True  # a connection that sends nothing is timed out too
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def on_message_begin(self) -> None:
        """The first byte of a request: its head is due within the deadline from now (kept-alive connections
        wait between requests under uvicorn's own keep-alive timeout)."""
        self._awaiting_head = True
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._awaiting_head:
            return
        body = json.dumps(
            error_body(
                "request_timeout",
                f"the request line and headers did not arrive within {self.header_timeout:g} seconds",
                "send the whole request head at once (limit: DCPA_HEADER_TIMEOUT)",
            )
        ).encode("utf-8")
        head = [
            b"HTTP/1.1 408 Request Timeout",
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode("ascii"),
            b"connection: close",
            *(k + b": " + v for k, v in SECURITY_HEADERS),
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()


def protocol_class(header_timeout: float) -> type[GuardedHttpToolsProtocol]:
    """``GuardedHttpToolsProtocol`` with its header deadline (uvicorn instantiates the class itself)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"header_timeout": header_timeout})


def server_options(settings: Settings) -> dict[str, Any]:
    """Options for ``uvicorn.run`` / ``uvicorn.Config`` that every server of the app uses."""
    return {"http": protocol_class(settings.header_timeout)}
