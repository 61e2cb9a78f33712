"""Pure ASGI middleware that guards the app against hostile requests, before any route runs.

- ``WriteGate``: a write (POST/PUT/PATCH/DELETE on a route that needs the bearer token) is
  refused with 401/403 *before its body is read* — FastAPI reads and parses the body before it
  runs dependencies, so the route's own check comes after a 200 MB upload has been taken in.
  The ``X-DCPA-User`` header is checked there too (422).
- ``WriteGate`` also checks the admin channel's requests (from this machine, with the admin token) before
  their body is read: the admin routes checked them only after FastAPI had read it.
- ``BodyLimits``: a body larger than ``max_request_bytes`` is refused with 413 (from its
  Content-Length before anything is read, or as soon as a streamed body passes the limit). Only a
  request whose token the gate checked may send that much (imports, record writes, the admin channel);
  any other (a SPARQL query, a plan) at most what the largest query takes as a form
  (``api.sparql.body_limit``): FastAPI parses a JSON body whole, so an anonymous 45 MB plan request
  grew the server by 500 MB, which it kept. A
  body that arrives too slowly is refused with 408: it has ``body_timeout`` seconds, plus one
  second for every ``body_min_rate`` bytes received (Apache's mod_reqtimeout rule), so a
  legitimate slow upload keeps going while one byte a second (slowloris) does not.
- ``SecurityHeaders``: every response gets a Content-Security-Policy and the other headers that
  stop pages being framed, sniffed or leaking their address.

Refusals answer in the API's one JSON error shape and close the connection (the rest of the body
is never read). Slow *headers* are the server's business: see ``api.server``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import HTTPException
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.errors import DcpaError
from kg.settings import Settings

from .auth import check_token, require_writer, writer_name
from .errors import error_body
from .methods import HeadAsGet
from .routes.admin import require_admin
from .sparql import body_limit

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The Content-Security-Policy of every response. Scripts only from this server (no inline script,
#: no eval); styles also inline, because the ontology page, the SPARQL page and the vendored
#: libraries (YASGUI, Swagger UI, vis-network) set style attributes and <style> elements. Page text
#: is HTML-escaped by Jinja, so no user data can add markup that would use that allowance.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    hint: str | None = None,
    details: Any = None,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer in the one JSON error shape and ask the server to close the connection afterwards."""
    body = json.dumps(error_body(code, message, hint, details), ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _depends_on(route: RouteContext, call: Callable[..., Any]) -> bool:
    dependant = getattr(route, "dependant", None)
    stack = [dependant] if dependant is not None else []
    while stack:
        d = stack.pop()
        if d.call is call:
            return True
        stack.extend(d.dependencies)
    return False


def write_routes(routes: Sequence[BaseRoute]) -> list[RouteContext]:
    """The routes that need the bearer token: their dependencies include ``require_writer``.

    Found from the routes themselves (as FastAPI's OpenAPI does, through ``iter_route_contexts``,
    which also sees into included routers), so a new write route is guarded without being listed.
    """
    return [r for r in iter_route_contexts(routes) if _depends_on(r, require_writer)]


def admin_routes(routes: Sequence[BaseRoute]) -> list[RouteContext]:
    """The routes of the admin channel: their dependencies include ``require_admin``."""
    return [r for r in iter_route_contexts(routes) if _depends_on(r, require_admin)]


def _matches(routes: Sequence[RouteContext], scope: Scope) -> bool:
    return any(r.matches(scope)[0] == Match.FULL for r in routes)


def _gated(scope: Scope) -> bool:
    """Whether ``WriteGate`` checked this request's token (it may then send up to ``max_request_bytes``)."""
    return bool(scope.get(_GATED))


#: The scope key ``WriteGate`` sets on a request whose token it checked.
_GATED = "dcpa.gated"


class WriteGate:
    """Check the token (and the author header) of requests to write routes, and the admin channel's checks of
    its requests, before their body is read."""

    def __init__(self, app: ASGIApp, settings: Settings, routes: Sequence[RouteContext],
                 admin: Sequence[RouteContext] = ()) -> None:
        self.app = app
        self.settings = settings
        self.routes = routes
        self.admin = admin

    def _is_write(self, scope: Scope) -> bool:
        return _matches(self.routes, scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _matches(self.admin, scope):
            try:
                require_admin(Request(scope))
            except HTTPException as e:
                code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(e.status_code, "http_error")
                extra = [(k.lower().encode(), v.encode()) for k, v in (e.headers or {}).items()]
                await send_error(send, e.status_code, code, str(e.detail), headers=extra)
                return
            scope = {**scope, _GATED: True}
        elif scope["type"] == "http" and scope["method"] in WRITE_METHODS and self._is_write(scope):
            authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            try:
                check_token(authorization.decode("latin-1"), self.settings)
                writer_name(scope, self.settings)
            except HTTPException as e:
                code = {401: "unauthorized", 403: "forbidden"}.get(e.status_code, "http_error")
                extra = [(k.lower().encode(), v.encode()) for k, v in (e.headers or {}).items()]
                await send_error(send, e.status_code, code, str(e.detail), headers=extra)
                return
            except DcpaError as e:
                await send_error(send, e.http_status, e.code, e.message, e.hint, e.details)
                return
            scope = {**scope, _GATED: True}
        await self.app(scope, receive, send)


class _Refused(Exception):
    """Raised from ``receive()`` once the body broke a limit; the app's answer is replaced."""


def content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", []):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before the app sees it
    return None


def body_too_large(limit: int, *, gated: bool) -> tuple[str, str]:
    """(message, hint) for a body past ``limit``: a request whose token the gate checked (``gated``) or another."""
    if not gated:
        return (f"请求正文超过 {limit} 字节，这是不带写入令牌的请求最多能发送的量 / "
                f"the request body is larger than {limit} bytes, the most a request without the write token may send",
                "请发送较短的查询或请求（记录和文件用令牌写入，上限为 DCPA_MAX_REQUEST_BYTES） / "
                "send a shorter query or request (records and files are written with the token, up to "
                "DCPA_MAX_REQUEST_BYTES)")
    return (f"请求正文超过 {limit} 字节 / the request body is larger than {limit} bytes",
            "请分批发送（拆分文件或记录列表），或调高 DCPA_MAX_REQUEST_BYTES / "
            "send less at once (split the file or the list of records), or raise DCPA_MAX_REQUEST_BYTES")


def body_too_slow(received: int, min_rate: float) -> tuple[str, str]:
    """(message, hint) for a body that arrived slower than ``min_rate`` bytes a second, after ``received`` bytes."""
    return (f"请求正文到达得太慢（已收到 {received} 字节） / "
            f"the request body arrived too slowly (after {received} bytes)",
            f"请以每秒不少于 {min_rate:g} 字节的速度发送正文（限制：DCPA_BODY_TIMEOUT、DCPA_BODY_MIN_RATE） / "
            f"send the body at {min_rate:g} bytes per second or faster (limits: DCPA_BODY_TIMEOUT, "
            "DCPA_BODY_MIN_RATE)")


class BodyLimits:
    """413 for bodies over the size limit, 408 for bodies that arrive too slowly (see the module doc)."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float, min_rate: float, open_bytes: int | None = None
                 ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.open_bytes = min(max_bytes, open_bytes) if open_bytes is not None else max_bytes
        self.timeout = timeout
        self.min_rate = min_rate

    def _too_large(self, limit: int) -> tuple[int, str, str, str]:
        return (413, "request_too_large", *body_too_large(limit, gated=limit >= self.max_bytes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes if _gated(scope) else self.open_bytes
        length = content_length(scope)
        if length is not None and length > limit:
            await send_error(send, *self._too_large(limit))
            return
        chunked = any(k == b"transfer-encoding" for k, _ in scope["headers"])
        state: dict[str, Any] = {
            "done": not (chunked or length),  # the whole body has been received
            "received": 0,
            "deadline": time.monotonic() + self.timeout,
            "error": None,  # (status, code, message, hint) once a limit is broken
            "started": False,  # whether a response has started
        }

        async def guarded_receive() -> Message:
            if state["error"]:
                raise _Refused
            if state["done"]:  # after the body: disconnect notices, which may take any time
                return await receive()
            remaining = state["deadline"] - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                state["error"] = (408, "request_timeout", *body_too_slow(state["received"], self.min_rate))
                raise _Refused from None
            if message["type"] == "http.request":
                size = len(message.get("body", b""))
                state["received"] += size
                state["deadline"] += size / self.min_rate
                if state["received"] > limit:
                    state["error"] = self._too_large(limit)
                    raise _Refused
                if not message.get("more_body", False):
                    state["done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["error"]:
                return  # the app's answer to a refused body; ours is sent below
            if message["type"] == "http.response.start":
                state["started"] = True
                if not state["done"]:  # the body was not read: do not wait for the rest of it
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if not state["error"]:
                raise
        if state["error"] and not state["started"]:
            await send_error(send, *state["error"])


class StopOnDisconnect:
    """Cancel a request's handler when its client goes away before the answer is sent.

    Why: the server notices a closed connection only when it reads from it, and a handler awaiting a query
    worker reads nothing; a client that gave up (a closed tab, its own timeout) left its worker busy until
    the time limit. Once the request's body has been read (at once for a request without one), this reads
    the connection on its behalf; a disconnect before the last byte of the answer cancels the handler, and a
    cancelled call stops its work (``kg.workers``: the worker is killed). The handler, reading again, is told
    of the disconnect as the server would tell it. Not for writes (the requests ``WriteGate`` checked): one
    cancelled while its thread writes on would skip what follows the write (the readers told of new data).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _gated(scope):  # a write is never cut short: it ends, and says so to readers
            await self.app(scope, receive, send)
            return
        length = content_length(scope)
        chunked = any(k == b"transfer-encoding" for k, _ in scope["headers"])
        body_read = not (chunked or length)
        gone = asyncio.Event()
        read: asyncio.Queue[Message] = asyncio.Queue()  # what the watch read, for the handler (a GET's empty body)
        answered = False
        handler: asyncio.Task[None] | None = None
        watch: asyncio.Task[None] | None = None

        async def watching() -> None:
            while True:
                message = await receive()
                read.put_nowait(message)
                if message["type"] == "http.disconnect":
                    gone.set()
                    if not answered and handler is not None:
                        handler.cancel()
                    return

        def start_watching() -> None:
            nonlocal watch
            watch = asyncio.ensure_future(watching())

        async def handler_receive() -> Message:
            nonlocal body_read
            if not body_read:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                elif not message.get("more_body", False):
                    body_read = True
                    start_watching()
                return message
            if gone.is_set() and read.empty():
                return {"type": "http.disconnect"}
            return await read.get()

        async def handler_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True  # from here on a disconnect is the end of an answered request
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, handler_receive, handler_send))
        if body_read:
            start_watching()
        try:
            await handler
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not (gone.is_set() and handler.cancelled()) or (current is not None and current.cancelling()):
                raise  # not ours: the server is stopping
        finally:
            if watch is not None:
                watch.cancel()


class SecurityHeaders:
    """Add ``SECURITY_HEADERS`` to every response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_guards(app: Any, settings: Settings) -> None:
    """Add the guards to ``app``, after its routers (outermost first: headers, token, body limits, a client gone
    away; then HEAD answered as GET, ``api.methods``)."""
    app.add_middleware(HeadAsGet)
    app.add_middleware(StopOnDisconnect)
    app.add_middleware(BodyLimits, settings.max_request_bytes, settings.body_timeout, settings.body_min_rate,
                       body_limit(settings.max_query_bytes))
    app.add_middleware(WriteGate, settings, write_routes(app.routes), admin_routes(app.routes))
    app.add_middleware(SecurityHeaders)
