"""Fixtures of the view tests: the ontology plus the hand-made fixture graph in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient

from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "views" / "fixture.ttl"
MALICIOUS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
#: The date the views' answers are for.
AS_OF = date(2020, 6, 30)


def fixture_store(extra: str = "") -> Store:
    """The fixture, plus ``extra`` (Turtle, in a graph of its own) when given, derived as a build does."""
    store = Store.memory()
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.add_graph(str(GRAPH_SYNTHETIC), rdflib.Graph().parse(FIXTURE, format="turtle"))
    if extra:
        store.add_graph(str(GRAPH_SYNTHETIC) + "-extra", rdflib.Graph().parse(data=extra, format="turtle"))
    derive_all(store, as_of=AS_OF)  # as a build does
    return store


def app_client(store: Store) -> TestClient:
    """A test client of the service over ``store``, writes off, answers as of ``AS_OF`` (use it in ``with``)."""
    from api.app import create_app

    return TestClient(create_app(Settings(api_token=None, as_of=AS_OF), store))


@pytest.fixture(scope="module")
def store() -> Store:
    return fixture_store()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    with app_client(store) as c:
        yield c
