"""HTTP methods as RFC 9110 has them: HEAD wherever GET is, and a 405 whose ``Allow`` lists every method.

FastAPI routes answer only the methods they declare, so ``HEAD /`` (``curl -I``, link checkers, uptime
monitors) got 405; and Starlette's 405 names the methods of the first route that matched the path, so
``PUT /sparql`` said ``Allow: GET`` though POST is answered too.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Set in the scope of a GET that answers a HEAD: for a route whose body costs work it can skip (``/api/dump``).
HEAD_KEY = "dcpa.head"


class HeadAsGet:
    """Answer ``HEAD`` as ``GET`` without the body: the same status and headers (``Content-Length`` too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_KEY: True}, receive, without_body)


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route answers at this path (with HEAD where GET is), for a 405's ``Allow``.

    The routes are read as FastAPI's OpenAPI reads them (``iter_route_contexts``: into included routers)."""
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        match, _ = route.matches(scope)
        if match is not Match.NONE:  # PARTIAL: the path matches, the method does not
            methods |= set(route.methods or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
