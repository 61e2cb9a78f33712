"""Fixtures of the API tests: a store with the ontology and a small hand-made graph, and live
uvicorn servers on free loopback ports (SPARQLWrapper and httpx talk to them as real clients)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.testing import LiveServer
from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "api"
FIXTURE = DATA / "fixture.trig"
TOKEN = "test-token-42"
#: The live server's row limit: below the size of the ontology, so `SELECT * {?s ?p ?o}` is cut.
MAX_ROWS = 200
#: The date the API tests' answers are for (INT-1 ended in 2019: its C2 window runs to 2024-12-31).
AS_OF = date(2020, 6, 30)


def load_fixture(store: Store) -> Store:
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.inner.load(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
    derive_all(store, as_of=AS_OF)  # as a build does
    return store


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store_path": tmp / "store",
        "imports_path": tmp / "imports",
        "sparql_endpoint": None,
        "api_token": None,
        "query_timeout": 10.0,
        "max_rows": MAX_ROWS,
        "as_of": AS_OF,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def store() -> Store:
    return load_fixture(Store.memory())


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="session")
def server(store: Store, settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(create_app(settings, store))
    yield live
    live.stop()


@pytest.fixture(scope="session")
def base_url(server: LiveServer) -> str:
    return server.url


@pytest.fixture(scope="session")
def sparql_url(base_url: str) -> str:
    return base_url + "/sparql"


@pytest.fixture()
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A TestClient over a fresh in-memory store with the fixture, with settings overridden."""
    clients: list[TestClient] = []

    def factory(store: Store | None = None, **overrides: Any) -> TestClient:
        s = store if store is not None else load_fixture(Store.memory())
        client = TestClient(create_app(make_settings(tmp_path, **overrides), s), raise_server_exceptions=True)
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.close()
