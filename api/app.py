"""The application factory.

Routers are listed in ``ROUTERS``; each lives in ``api/routes/<resource>.py``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from kg import __version__
from kg.settings import Settings, get_settings
from kg.store import Store
from kg.workers import QueryRunner, runner_for

from .errors import install_error_handlers

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Route modules under ``api.routes``, each exposing ``router``.
ROUTERS: tuple[str, ...] = ("health", "ontology", "sparql", "docs", "villages", "gaps", "plans", "catalogue")
ROUTERS += ("records", "stats", "writes")
ROUTERS += ("views", "dashboard")


def open_store(settings: Settings) -> Store:
    """The store the app serves: a remote endpoint when configured, else the embedded store."""
    if settings.sparql_endpoint:
        from .remote import RemoteStore

        return RemoteStore.from_settings(settings)  # type: ignore[return-value]  # same read methods
    return Store.open(settings.store_path, create=False)


def query_runner_for(settings: Settings, store: Any) -> QueryRunner:
    """Worker processes for an on-disk store (told of every write), threads for in-memory and
    remote stores (see kg.workers). The parser and serialisers are loaded into the fork server."""
    runner: QueryRunner = runner_for(
        store,
        min_workers=settings.query_workers,
        max_workers=settings.query_workers_max,
        memory_mb=settings.query_memory_mb,
        preload=("api.sparql",),
    )
    return runner


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app. Pass ``store`` to serve an existing (e.g. in-memory) store."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from .routes.dashboard import warm

        warm(app.state.store, settings.reach)  # the province dashboard counts every need: start early
        app.state.query_runner.start()  # query workers start in the background
        try:
            yield
        finally:
            app.state.query_runner.close()

    app = FastAPI(
        lifespan=lifespan,
        title="DCPA knowledge graph API",
        version=__version__,
        description="Digital cultural poverty alleviation by public libraries: SPARQL endpoint, "
        "planners' JSON API and graph views. 公共图书馆数字文化扶贫知识图谱。",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store if store is not None else open_store(settings)
    app.state.query_runner = query_runner_for(settings, app.state.store)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for name in ROUTERS:
        module = importlib.import_module(f"api.routes.{name}")
        app.include_router(module.router)
    return app
