"""The application factory.

Routers are listed in ``ROUTERS``; each lives in ``api/routes/<resource>.py``.

``app.state.store`` is the store the routes read (it changes when a rebuild switches versions);
``app.state.served`` (``api.serving.ServedStore``) is how the app writes; ``app.state.store_listeners``
is the list of objects told about writes and switches (see ``api.serving``); ``app.state.query_runner``
(``kg.workers``) runs queries under a deadline and is one of them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from kg import __version__
from kg.connect import open_store
from kg.contract import StoreAPI
from kg.settings import Settings, get_settings
from kg.workers import ClientSlots, QueryRunner, runner_for

from .assets import Assets
from .compression import Compression
from .cross_origin import OpenSparql, origins
from .errors import install_error_handlers
from .guards import install_guards
from .paths import STATIC_DIR, missing_assets
from .representation import VaryByAccept
from .result_cache import ResultCache
from .routes import (
    admin,
    areas,
    catalogue,
    dashboard,
    data_entry,
    docs,
    dump,
    gaps,
    health,
    history,
    home,
    model_page,
    ontology,
    plan_page,
    plans,
    records,
    sparql,
    stats,
    views,
    villages,
    writes,
)
from .routes.dashboard import warm
from .serving import DerivedKeeper, ServedStore

#: Route modules under ``api.routes``, each exposing ``router`` (in the order their routes match).
ROUTERS = (home, health, ontology, sparql, docs, areas, villages, gaps, plans, catalogue, records, stats, dump,
           writes, history, views, dashboard, model_page, data_entry, plan_page, admin)


#: The service's own log (``dcpa serve`` prints warnings).
log = logging.getLogger(__name__)


def query_runner_for(settings: Settings, state: Any) -> QueryRunner:
    """Where SPARQL queries (and, through ``call``, other read-only work) run under a deadline:
    worker processes for an on-disk store, threads reading ``state.store`` for in-memory and remote
    stores (see kg.workers). The parser and serialisers are loaded into the workers' fork server."""
    runner: QueryRunner = runner_for(
        state.store,
        current=lambda: state.store,
        min_workers=settings.query_workers,
        max_workers=settings.query_workers_max,
        memory_mb=settings.query_memory_mb,
        preload=("api.sparql",),
    )
    return runner


def create_app(settings: Settings | None = None, store: StoreAPI | None = None) -> FastAPI:
    """Build the app. Pass ``store`` to serve an existing (e.g. in-memory) store."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keeper = DerivedKeeper(app.state.served)
        if app.state.served.keeps_derived:
            keeper.start()  # moves the derived graph when the day passes its stable-until date
        app.state.query_runner.start()  # query workers start in the background
        warm(app.state)  # the province dashboard counts every need: start early
        if missing := missing_assets():
            log.warning("the pages' browser libraries are missing from api/static/vendor (%s): charts, the SPARQL "
                        "editor, the API docs and the graph views will not work; run `make setup` (npm ci and "
                        "scripts/vendor_assets.py)", ", ".join(missing))
        yield
        app.state.query_runner.close()  # every query worker stops, also one in the middle of a query
        if app.state.served.keeps_derived:
            keeper.stop()
        app.state.served.close()  # an owned store: closed, writer lock released

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
    app.state.store_listeners = []
    if store is not None or settings.sparql_endpoint:
        app.state.store = store if store is not None else open_store(settings)
        app.state.served = ServedStore(app.state, settings)
    else:
        ServedStore.open(app.state, settings)  # the writer of its store: lock, recovery, admin channel
    app.state.query_runner = query_runner_for(settings, app.state)
    # what one client may run at once, and use a minute
    app.state.client_slots = ClientSlots(settings.client_query_limit(), settings.client_query_seconds)
    app.state.result_cache = ResultCache(settings.result_cache_mb * 1024 * 1024)
    app.state.store_listeners.append(app.state.query_runner)  # told of every write and store switch
    install_error_handlers(app)
    # the service's assets, then the library's (the graph pages' script, style and vis-network)
    app.mount("/static", Assets(directory=STATIC_DIR, packages=[("kg.viz", "static")]), name="static")
    for module in ROUTERS:
        app.include_router(module.router)
    app.add_middleware(VaryByAccept)  # inside the compression, which adds Accept-Encoding to what it says
    if settings.compress_level:  # inside the guards: HEAD answers with the compressed GET's headers
        app.add_middleware(Compression, settings.compress_level)
    install_guards(app, settings)
    if allowed := origins(settings.sparql_origins):  # outermost: a guard's refusal (413, 408) is readable too
        app.add_middleware(OpenSparql, allowed)
    return app
