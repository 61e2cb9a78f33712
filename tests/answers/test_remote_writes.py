"""Writes over a remote store keep it as they keep the embedded one: a sequence of imports, replacements of
records, a province-wide intervention, its cancellation and a withdrawal, made side by side on the embedded
store and on Oxigraph server or Virtuoso 7 (each with its Graph Store Protocol service), leave the same data
and a derived graph that is the one a fresh derivation gives, write after write."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import rdflib

from kg.build import build_into
from kg.contract import StoreAPI
from kg.derived import derive_all, marker
from kg.importer import import_records
from kg.importer.journal import advance_marked
from kg.importer.replace import replace_record
from kg.importer.withdraw import withdraw
from kg.namespaces import GRAPH_DERIVED, GRAPH_ONTOLOGY, GRAPH_SYNTHETIC
from kg.remote import RemoteStore
from kg.resources import ontology_graph
from kg.store import Store
from kg.updates import DATA_OP_TRIPLES

from .conftest import AS_OF, FIXTURE, V3, V4, fixture_store, settings_for
from .test_derived import INTERVENTION, _assert_current, _derived_as_of


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"start_{request.param}")()


@pytest.fixture
def remote(server: Any) -> RemoteStore:
    return _emptied(server)


def _emptied(server: Any) -> RemoteStore:
    """The remote store, emptied of the project's graphs."""
    store = RemoteStore(server.query_url, update_endpoint=server.update_url, timeout=120,
                        graph_store=server.graph_store_url)
    for g in store.graphs():
        store.remove_graph(g)
    return store


def _data(store: StoreAPI) -> set[tuple[str, ...]]:
    """Every quad outside the derived graph and the ontology (its blank nodes are named by each store; no write
    touches it), with what each place makes of its own left out."""
    return {_same(q) for q in store.quads() if q.graph_name.value not in (str(GRAPH_DERIVED), str(GRAPH_ONTOLOGY))}


def _same(q: Any) -> tuple[str, ...]:
    return tuple(_MADE_HERE.sub(lambda m: "integer" if m[0].endswith("Integer") else "…", str(t)) for t in q)


#: What each place makes of its own in a write: the batch id (its time and a random part), the time written;
#: and the integer subtypes, which the embedded store reads back as xsd:integer (pyoxigraph 0.5.13, however
#: written) and Oxigraph server and Virtuoso keep.
_MADE_HERE = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}|\"\d{4}-\d\d-\d\dT[^\"]*\"\^\^<[^>]*#dateTime>|"
                        r"(?<=\^\^<http://www.w3.org/2001/XMLSchema#)(nonNegative|positive)Integer(?=>)")


def _derived(store: StoreAPI) -> set[tuple[str, ...]]:
    """The derived graph (it has no blank nodes), with each place's batch ids left out: the class partitions
    of an import's graph are named after it."""
    return {_same(q) for q in store.quads(graph=str(GRAPH_DERIVED))}


def _both(places: tuple[StoreAPI, StoreAPI], tmp_path: Path, write: Callable[[StoreAPI, Any], Any]) -> list[Any]:
    """``write`` on each place (settings of its own), then the same data and derived graph in both, and the
    remote one current."""
    out = [write(p, settings_for(tmp_path / name)) for p, name in zip(places, ("here", "there"), strict=True)]
    here, there = places
    assert _data(there) == _data(here)
    assert _derived(there) == _derived(here)
    _assert_current(there)  # type: ignore[arg-type]
    return out


def test_a_sequence_of_writes_over_a_remote_store(remote: RemoteStore, tmp_path: Path) -> None:
    remote.bulk_load(rdflib.Graph().parse(FIXTURE).serialize(format="nt", encoding="utf-8"), "nt",
                     str(GRAPH_SYNTHETIC))
    remote.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    derive_all(remote, as_of=AS_OF)
    places = (fixture_store(), remote)
    need = {"village_code": V3, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
            "identified_on": "2020-03-01", "surveyor": "示例·调查员"}
    _both(places, tmp_path, lambda s, st: import_records(s, "needs", [need], user="录入员", settings=st))
    _both(places, tmp_path, lambda s, st: replace_record(
        s, "interventions", "I4", {**INTERVENTION, "status": "S2", "start_date": "2020-01-01"}, user="李四",
        settings=st))
    wide = {**INTERVENTION, "id": "I-PROV", "name_zh": "测试·全省村史数字馆藏", "category": "C3",
            "provided_by": "city", "uses_resources": "local", "target_areas": "21", "status": "S2",
            "start_date": "2020-01-01"}
    batches = _both(places, tmp_path, lambda s, st: import_records(s, "interventions", [wide], user="李四",
                                                                   settings=st).batch_id)
    _both(places, tmp_path, lambda s, st: replace_record(
        s, "interventions", "I-PROV", {**wide, "status": "S4", "target_areas": V4}, user="李四", settings=st))
    _both(places, tmp_path, lambda s, st: replace_record(s, "interventions", "I-PROV", wide, user="李四",
                                                         settings=st))
    ids = iter(batches)
    _both(places, tmp_path, lambda s, st: withdraw(s, next(ids), user="李四", reason="测试", settings=st))
    day = date(2022, 1, 1)  # the daily move of the derived graph: two interventions' windows have closed
    for place, name in zip(places, ("here", "there"), strict=True):
        advance_marked(place, day, settings_for(tmp_path / name))
    assert marker(remote) == marker(places[0]) and marker(remote).as_of == day  # type: ignore[union-attr]
    assert _derived(remote) == _derived(_derived_as_of(places[0], day))


def test_a_province_wide_write_larger_than_one_update_operation(start_virtuoso: Callable[[], Any],
                                                                tmp_path: Path) -> None:
    """Digital collections offered to the whole province at example scale change thousands of derived
    triples in one refresh: more than Virtuoso's parser takes in one operation (``kg.updates``; Oxigraph
    server has no such limit)."""
    remote = _emptied(start_virtuoso())
    here = Store.memory()
    for store in (here, remote):
        build_into(store, example_villages=40, seed=7)
        # in place: on the remote store, in transactions of bounded size; on a day every example need is known by
        derive_all(store, as_of=date(2026, 1, 1))
    before = set(_derived(here))
    resources = [r["r"].rsplit("/", 1)[1] for r in here.select(
        "SELECT ?r WHERE { ?r a dcpa:DigitalResource } ORDER BY ?r LIMIT 12")]
    library = here.select("SELECT ?l WHERE { ?r a dcpa:DigitalResource ; dcpa:heldBy ?l } ORDER BY ?l LIMIT 1")
    collection = {"id": "I-WIDE", "name_zh": "测试·全省数字文化馆藏", "category": "C3", "target_areas": "21",
                  "provided_by": library[0]["l"].rsplit("/", 1)[1], "uses_resources": ";".join(resources),
                  "status": "S2", "start_date": "2020-01-01", "source": "document"}
    for store, name in ((here, "here"), (remote, "there")):
        import_records(store, "interventions", [collection], user="李四", settings=settings_for(tmp_path / name))
    changed = before ^ set(_derived(here))
    assert len(changed) > 5 * DATA_OP_TRIPLES, len(changed)
    assert _derived(remote) == _derived(here)
    _assert_current(here, ("21",))  # and so the remote one (read whole, Virtuoso's 280,000 quads take minutes)
