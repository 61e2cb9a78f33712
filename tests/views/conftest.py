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


def fixture_store() -> Store:
    store = Store.memory()
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.add_graph(str(GRAPH_SYNTHETIC), rdflib.Graph().parse(FIXTURE, format="turtle"))
    derive_all(store, as_of=AS_OF)  # as a build does
    return store


@pytest.fixture(scope="module")
def store() -> Store:
    return fixture_store()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(Settings(api_token=None, as_of=AS_OF), store)) as c:
        yield c
