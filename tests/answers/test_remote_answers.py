"""The answers over a remote store are the answers over the embedded one.

The fixture (with its real part) is written into Oxigraph server (through SPARQL updates) and into Virtuoso 7
(through its Graph Store Protocol service), other processes reached through the SPARQL 1.1 protocols only,
by ``kg.remote.RemoteStore``; its derived graph is made there by
``derive_all``, and every answer is compared with the embedded store's: the catalogue, gaps, recommend,
similar and plan."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.answers.jsonable import to_jsonable
from kg.catalogue import load_catalogue, run_query
from kg.derived import derive_all, marker
from kg.matching import gaps, recommend, similar
from kg.namespaces import GRAPH_DERIVED, GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_SYNTHETIC
from kg.planning import plan
from kg.remote import RemoteStore
from kg.resources import ontology_graph
from kg.store import Store

from .conftest import AS_OF, FIXTURE, FIXTURE_REAL, V1, V2, V4, settings_for
from .test_catalogue import PARAMS, _canonical

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso+gsp"])
def remote(request: pytest.FixtureRequest) -> RemoteStore:
    engine, _, gsp = request.param.partition("+")
    server = request.getfixturevalue(f"start_{engine}")()
    store = RemoteStore(server.query_url, update_endpoint=server.update_url, timeout=60, batch_bytes=20_000,
                        gsp_batch_triples=20_000, graph_store=server.graph_store_url if gsp else None)
    store.bulk_load(rdflib.Graph().parse(FIXTURE).serialize(format="nt", encoding="utf-8"), "nt", str(GRAPH_SYNTHETIC))
    store.add_graph(str(GRAPH_REFERENCE), rdflib.Graph().parse(FIXTURE_REAL))
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    derive_all(store, as_of=AS_OF)
    return store


def test_the_remote_store_holds_the_same_graphs(remote: RemoteStore, mixed: Store) -> None:
    assert remote.graphs() == mixed.graphs()
    for g in mixed.graphs():
        assert remote.count(g) == mixed.count(g), g
    assert marker(remote) == marker(mixed)


def test_the_derived_graph_made_remotely_is_the_embedded_one(remote: RemoteStore, mixed: Store) -> None:
    assert isomorphic(remote.to_rdflib(str(GRAPH_DERIVED)), mixed.to_rdflib(str(GRAPH_DERIVED)))


@pytest.mark.parametrize("real_only", [False, True])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_answers_are_the_same(remote: RemoteStore, mixed: Store, name: str, real_only: bool) -> None:
    """Every query, on both engines (three were written around Virtuoso 7.2's planner: see their comments)."""
    here = run_query(mixed, name, PARAMS.get(name, {}), real_only=real_only)
    there = run_query(remote, name, PARAMS.get(name, {}), real_only=real_only)
    assert there.columns == here.columns
    assert _canonical(there.rows) == _canonical(here.rows)
    assert there.truncated == here.truncated


@pytest.mark.parametrize("area", [None, "21", "2190", "219001", "219002001"])
@pytest.mark.parametrize("by", ["area", "need_type", "category", "severity"])
def test_gaps_are_the_same(remote: RemoteStore, mixed: Store, area: str | None, by: str) -> None:
    settings = settings_for()
    assert to_jsonable(gaps(remote, area, by=by, settings=settings)) == to_jsonable(
        gaps(mixed, area, by=by, settings=settings))


@pytest.mark.parametrize("village", [V1, V2, V4])
def test_recommendations_and_similar_villages_are_the_same(remote: RemoteStore, mixed: Store, village: str) -> None:
    settings = settings_for()
    assert to_jsonable(recommend(remote, village, settings=settings)) == to_jsonable(
        recommend(mixed, village, settings=settings))
    assert to_jsonable(similar(remote, village)) == to_jsonable(similar(mixed, village))


@pytest.mark.parametrize("area", [None, "2190", "219001"])
def test_plans_are_the_same(remote: RemoteStore, mixed: Store, area: str | None) -> None:
    settings = settings_for()
    assert to_jsonable(plan(remote, 50_000, area, settings=settings)) == to_jsonable(
        plan(mixed, 50_000, area, settings=settings))


@pytest.mark.parametrize("area", [None, "21", "2190", "219002001"])
def test_gaps_for_a_period_are_the_same(remote: RemoteStore, mixed: Store, area: str | None) -> None:
    """A period's needs are told by their dates, counted in the engine (GROUP BY, HAVING over IF), and a province
    is read through its cities: both engines answer as the embedded store does."""
    settings = settings_for()
    period = ("2019-01-01", "2019-12-31")
    assert to_jsonable(gaps(remote, area, period=period, settings=settings)) == to_jsonable(
        gaps(mixed, area, period=period, settings=settings))
