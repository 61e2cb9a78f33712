"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kg import __version__

from ..deps import query_runner

router = APIRouter(tags=["health"])


def quads(store: Any) -> int:
    """How many quads the store holds (run by the query runner: see ``health``)."""
    return int(store.count())


@router.get("/health", summary="Service health / 服务状态")
async def health(request: Request) -> dict[str, Any]:
    """Say the service is up and how many quads the store holds.

    The count runs in a query worker and is remembered until the next write: counting 4 million
    quads takes ~0.5 s and holds the GIL all along, so done here every probe stalled the server.
    """
    runner = query_runner(request)
    state = getattr(runner, "state", None)
    key = (state().path, state().version) if state is not None else None
    known: tuple[Any, int] | None = getattr(request.app.state, "health_quads", None)
    if key is not None and known is not None and known[0] == key:
        count = known[1]
    else:
        count = await runner.call("api.routes.health:quads", timeout=request.app.state.settings.query_timeout)
        request.app.state.health_quads = (key, count)
    return {"status": "ok", "version": __version__, "quads": count}
