"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from kg import __version__

from ..deps import query_runner

router = APIRouter(tags=["health"])

#: How long a probe waits for a count of quads not yet known (the store's first, or the first after a write) before
#: it answers without it. Why: the count took 7 s at national scale (36M quads) cold, longer than monitors wait
#: (Kubernetes: 1 s by default), and a probe given up on stopped its count with it (a request gone away stops its
#: work), so such a server never answered a probe at all. The count now goes on without the probe.
COUNT_WAIT = 0.5


def quads(store: Any) -> int:
    """How many quads the store holds (run by the query runner: see ``health``)."""
    return int(store.count())


async def _count(app: FastAPI, runner: Any, key: Any) -> int:
    count = int(await runner.call("api.routes.health:quads", timeout=app.state.settings.query_timeout))
    app.state.health_quads = (key, count)
    return count


@router.get("/health", summary="Service health / 服务状态")
async def health(request: Request) -> dict[str, Any]:
    """Say the service is up and how many quads the store holds (``null`` while they are being counted).

    The count runs in a query worker and is remembered until the next write: counting 4 million quads takes
    ~0.5 s and holds the GIL all along, so done here every probe stalled the server. It runs apart from the
    probe that began it (``COUNT_WAIT``), once however many probes ask meanwhile.
    """
    app = request.app
    runner = query_runner(request)
    state = getattr(runner, "state", None)
    # the data counted: the workers' store version, or the threads' data version (memory and remote stores)
    key = (state().path, state().version) if state is not None else ("threads", runner.data_version)
    known: tuple[Any, int] | None = getattr(app.state, "health_quads", None)
    if known is not None and known[0] == key:
        return _answer(known[1])
    counting: tuple[Any, asyncio.Task[int]] | None = getattr(app.state, "health_counting", None)
    if (counting is None or counting[0] != key or counting[1].done()
            or counting[1].get_loop() is not asyncio.get_running_loop()):  # a test client's loop a request
        counting = (key, asyncio.ensure_future(_count(app, runner, key)))
        app.state.health_counting = counting
    try:
        return _answer(await asyncio.wait_for(asyncio.shield(counting[1]), COUNT_WAIT))
    except TimeoutError:
        return _answer(None)


def _answer(count: int | None) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "quads": count}
