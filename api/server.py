"""How `dcpa serve` and the tests' live server run uvicorn: httptools with a deadline for request headers.

uvicorn closes a keep-alive connection that stays idle after a response, but it has no limit for
a connection that never sends a request, nor for request headers sent one byte at a time
(slowloris): a handful of clients could hold every connection open forever. ``GuardedHttpToolsProtocol``
gives each request ``settings.header_timeout`` seconds to complete its request line and headers,
counted from the connection (first request) or from the request's first byte (later requests on
a kept-alive connection); when time is up it answers 408 in the API's JSON error shape and closes. A head
longer than a GET request of the largest query the endpoint takes (``head_limit``) is answered 431 and the
connection closed: httptools itself keeps every header it is sent (uvicorn's h11 stopped at 16 KiB, which
refused GET queries of a few thousand characters). httptools reads no URL longer than 65,535 bytes (its offsets
are 16-bit), so a longer one is answered 414 with a hint to POST the query. Every other request the parser cannot
read gets 400 in the JSON error shape too (uvicorn's own answer is plain text). An answer its client does not read
(below ``settings.body_min_rate`` over each ``settings.body_timeout``) has its connection reset, so that the server
does not hold it for as long as the client likes. Request bodies are bounded by
``api.guards.BodyLimits``. A request line in raw UTF-8 (a Chinese URL typed into curl) is read as its
percent-encoding, as a browser would have sent it.

Why httptools (uvicorn's C parser) and not h11 (its pure-Python one): a SPARQL request cost the HTTP
process 1.0 ms of CPU with h11; with httptools the endpoint answered 7% more point lookups at 8 clients
on two cores (471-480 against 437-450 req/s, the default build) and ``/health`` cost 0.23 ms instead of
0.29 ms (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import re
import socket
import struct
import termios
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kg.settings import Settings

from .errors import error_body
from .guards import SECURITY_HEADERS
from .sparql import body_limit

#: Longest URL httptools can read (``parse_url`` keeps offsets and lengths in 16 bits).
MAX_URL_BYTES = 65_535


def head_limit(max_query_bytes: int) -> int:
    """The longest request head accepted: a GET request of the largest query (percent-encoded in its URL, as
    much as a form body holds: ``api.sparql.body_limit``) and 8 KiB of other headers."""
    return body_limit(max_query_bytes) + 8192


#: What to do about a query too long for a URL (a head past its limit, a URL past httptools').
_BY_POST = ("请用 POST 发送长查询（application/sparql-query 或表单），不要放在网址里 / "
            "send a long query by POST (application/sparql-query or a form), not in the URL")
#: (message, hint) for a request the HTTP parser cannot read.
NOT_HTTP = ("请求不是有效的 HTTP/1.1，服务器无法读取 / the request is not valid HTTP/1.1: the server cannot read it",
            "请检查请求行和各请求头（每行一个 `Name: value`） / "
            "check the request line and the headers (one `Name: value` a line)")


def head_too_large(limit: int) -> tuple[str, str]:
    """(message, hint) for a request head past ``limit`` bytes (431)."""
    return (f"请求行和请求头超过 {limit} 字节 / the request line and headers are longer than {limit} bytes", _BY_POST)


def url_too_long(length: int) -> tuple[str, str]:
    """(message, hint) for a URL of ``length`` bytes, past what httptools reads (414)."""
    return (f"请求网址有 {length} 字节，服务器最多读取 {MAX_URL_BYTES} 字节 / "
            f"the request URL is {length} bytes long; the server reads at most {MAX_URL_BYTES}", _BY_POST)


def head_too_slow(seconds: float) -> tuple[str, str]:
    """(message, hint) for a request head not complete within ``seconds`` (408)."""
    return (f"请求行和请求头未在 {seconds:g} 秒内到达 / "
            f"the request line and headers did not arrive within {seconds:g} seconds",
            "请一次发出完整的请求头（限制：DCPA_HEADER_TIMEOUT） / "
            "send the whole request head at once (limit: DCPA_HEADER_TIMEOUT)")


#: A byte of a request line that HTTP/1.1 leaves to be percent-encoded (RFC 9112 3.2: the target is ASCII).
_NOT_ASCII = re.compile(rb"[\x80-\xff]")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit for the request line and headers."""

    header_timeout: float = 20.0
    max_head_bytes: int = head_limit(100_000)  # the default DCPA_MAX_QUERY_BYTES's
    send_timeout: float = 20.0  # DCPA_BODY_TIMEOUT: a client reading an answer takes at least …
    send_min_rate: float = 500.0  # … DCPA_BODY_MIN_RATE bytes of it in every such span

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_head = True  # a connection that sends nothing is timed out too
        self._head_bytes = 0  # bytes received while the head was incomplete
        self._heads = 0  # heads read whole on this connection
        self._in_line = True  # the next bytes are (the start of) a request line
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if self._in_line:
            data = self._encoded_line(data)
        # The bytes of a chunk read while a head was incomplete and that ended none: a chunk that ends a head (and
        # holds a body) or begins one (after a body) is not counted, and holds at most one read's worth of head.
        counted, heads = self._awaiting_head, self._heads
        super().data_received(data)
        if counted and self._awaiting_head and self._heads == heads:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
                self._refuse(431, "Request Header Fields Too Large", "request_head_too_large",
                             *head_too_large(self.max_head_bytes))

    def _encoded_line(self, data: bytes) -> bytes:
        """``data`` with the UTF-8 of its request line percent-encoded, as a browser sends it.

        Why: curl, wget and scripts send what is typed (`curl "…/api/villages?q=新民"`) as raw UTF-8, which
        both of uvicorn's parsers refuse ("Invalid char in url query": a bare 400 to a steward trying the API
        from a shell). The request line ends at its LF; the bytes after it (headers, body) are left as sent, and a
        request pipelined behind another's body in one read is left to the parser too."""
        start = len(data) - len(data.lstrip(b"\r\n"))  # blank lines before a request line are skipped
        if start == len(data):
            return data
        end = data.find(b"\n", start)
        line, rest = (data, b"") if end < 0 else (data[: end + 1], data[end + 1 :])
        self._in_line = end < 0
        if line.isascii():
            return data
        return _NOT_ASCII.sub(lambda m: b"%%%02X" % m[0][0], line) + rest

    def on_message_complete(self) -> None:
        self._in_line = True
        super().on_message_complete()

    def on_message_begin(self) -> None:
        """The first byte of a request: its head is due within the deadline from now (kept-alive connections
        wait between requests under uvicorn's own keep-alive timeout)."""
        self._awaiting_head = True
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._heads += 1
        self._disarm()
        if len(self.url) > MAX_URL_BYTES:  # uvicorn's parse_url would fail: say why, in the API's shape
            self._refuse(414, "URI Too Long", "uri_too_long", *url_too_long(len(self.url)))
            raise httptools.HttpParserInvalidURLError("URL too long")  # stops the parser; answered above
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request its parser cannot read, in the API's JSON shape (its own is plain text);
        nothing when the guard has answered already (a refusal stops the parser with an error)."""
        if self.transport.is_closing():
            return
        self._refuse(400, "Bad Request", "bad_request", *NOT_HTTP)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._stop_send_watch()
        super().connection_lost(exc)

    # A client that does not read its answer: the server holds the whole answer (up to DCPA_MAX_ANSWER_BYTES) for
    # as long as the connection stays open, and uvicorn has no limit for that (four clients that never read a
    # 64 MB answer held 270 MB, for good). While the answer waits for the client (the transport paused writing),
    # the client must take send_min_rate bytes a second of it, measured over each send_timeout; else the
    # connection is dropped, and the answer with it (an answer cannot be refused once it has begun).

    def pause_writing(self) -> None:
        super().pause_writing()
        self._send_left = self._unsent()
        self._send_timer: asyncio.TimerHandle | None = self.loop.call_later(self.send_timeout, self._check_send)

    def resume_writing(self) -> None:
        self._stop_send_watch()
        super().resume_writing()

    def _stop_send_watch(self) -> None:
        timer = getattr(self, "_send_timer", None)
        if timer is not None:
            timer.cancel()
            self._send_timer = None

    def _unsent(self) -> int:
        """The bytes of the answer the client has not taken yet: the transport's buffer and the kernel's send queue
        (``TIOCOUTQ``: not sent, or not acknowledged). Why both: the kernel takes more of the buffer only when a third
        of its send buffer (up to 4 MB) has gone out, so the buffer alone stood still for minutes while a slow link
        read steadily at ten times the minimum rate, and the download was reset."""
        left = self.transport.get_write_buffer_size()
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, ValueError):  # not Linux, or the socket is gone: the buffer alone
                left += struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        return left

    def _check_send(self) -> None:
        self._send_timer = None
        if self.transport.is_closing():
            return
        left = self._unsent()
        if self._send_left - left < self.send_min_rate * self.send_timeout:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:  # reset, not closed: the kernel lets go of what it holds for the client too
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
            return
        self._send_left = left
        self._send_timer = self.loop.call_later(self.send_timeout, self._check_send)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._awaiting_head:
            return
        self._refuse(408, "Request Timeout", "request_timeout", *head_too_slow(self.header_timeout))

    def _refuse(self, status: int, reason: str, code: str, message: str, hint: str) -> None:
        """Answer ``status`` in the API's JSON error shape, with the security headers, and close."""
        self._disarm()
        body = json.dumps(error_body(code, message, hint), ensure_ascii=False).encode("utf-8")
        head = [
            f"HTTP/1.1 {status} {reason}".encode("ascii"),
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode("ascii"),
            b"connection: close",
            *(k + b": " + v for k, v in SECURITY_HEADERS),
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()


def protocol_class(header_timeout: float, max_head_bytes: int, send_timeout: float = 20.0,
                   send_min_rate: float = 500.0) -> type[GuardedHttpToolsProtocol]:
    """``GuardedHttpToolsProtocol`` with its limits (uvicorn instantiates the class itself)."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,),
                {"header_timeout": header_timeout, "max_head_bytes": max_head_bytes, "send_timeout": send_timeout,
                 "send_min_rate": send_min_rate})


def server_options(settings: Settings) -> dict[str, Any]:
    """Options for ``uvicorn.run`` / ``uvicorn.Config`` that every server of the app uses.

    X-Forwarded-For is believed from ``settings.trusted_proxies`` alone (uvicorn then takes the client as the
    nearest address in it that is not a trusted proxy: the one the proxy saw; the ones before it are whatever the
    client wrote). uvicorn's own default believed it from any client on this machine, which could so name itself
    anyone and pass the per-client limit (``api.deps.client_of``)."""
    trusted = [a.strip() for a in (settings.trusted_proxies or "").split(",") if a.strip()]
    return {"http": protocol_class(settings.header_timeout, head_limit(settings.max_query_bytes),
                                   settings.body_timeout, settings.body_min_rate),
            "proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}
