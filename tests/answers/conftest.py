"""The hand-made fixture graph (tests/data/answers/fixture.ttl) in an in-memory store."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "answers"
FIXTURE = DATA / "fixture.ttl"

V1, V2, V3, V4, V5 = "219001001001", "219001001002", "219001002001", "219002001001", "219002001002"


def need(key: str) -> str:
    return f"https://w3id.org/dcpa/id/need/{key}"


def fixture_store(*, derived: bool = True) -> Store:
    """The fixture graph; with its derived graph (as a build makes it) unless ``derived=False``."""
    store = Store.memory()
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    g = rdflib.Graph()
    g.parse(FIXTURE, format="turtle")
    store.add_graph(str(GRAPH_SYNTHETIC), g)
    if derived:
        derive_all(store)
    return store


@pytest.fixture(scope="session")
def store() -> Store:
    return fixture_store()
