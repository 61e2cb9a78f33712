"""The hand-made fixture graph (tests/data/answers/fixture.ttl) in an in-memory store, as of 2020-06-30."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import rdflib

from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "answers"
FIXTURE = DATA / "fixture.ttl"
FIXTURE_REAL = DATA / "fixture_real.ttl"
#: The date the hand-worked answers of tests/answers/README.md are for.
AS_OF = date(2020, 6, 30)

V1, V2, V3, V4, V5 = "219001001001", "219001001002", "219001002001", "219002001001", "219002001002"


def need(key: str) -> str:
    return f"https://w3id.org/dcpa/id/need/{key}"


def settings_for(tmp: Path | None = None, **kw: object) -> Settings:
    """Settings whose answers are for ``AS_OF`` (and whose paths, when given, are under ``tmp``)."""
    paths = {"store_path": tmp / "store", "imports_path": tmp / "imports"} if tmp is not None else {}
    return Settings(**{"as_of": AS_OF, **paths, **kw})  # type: ignore[arg-type]


def fixture_store(*, derived: bool = True, real: bool = False) -> Store:
    """The fixture graph (and its real part, with ``real``); with its derived graph as of ``AS_OF``."""
    store = Store.memory()
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    g = rdflib.Graph()
    g.parse(FIXTURE, format="turtle")
    store.add_graph(str(GRAPH_SYNTHETIC), g)
    if real:
        r = rdflib.Graph()
        r.parse(FIXTURE_REAL, format="turtle")
        store.add_graph(str(GRAPH_REFERENCE), r)
    if derived:
        derive_all(store, as_of=AS_OF)
    return store


@pytest.fixture(scope="session")
def store() -> Store:
    return fixture_store()


@pytest.fixture(scope="session")
def mixed() -> Store:
    """The fixture with its real part."""
    return fixture_store(real=True)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return settings_for()
