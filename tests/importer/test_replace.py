"""Replacing one record: same checks as an import, the IRI kept, one transaction, replayed on rebuild."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.derived import derive_all
from kg.errors import NotFound, StoreError, ValidationFailed
from kg.importer import import_records, replace_record, replay_retained
from kg.namespaces import DCPA, GRAPH_ONTOLOGY, GRAPH_SYNTHETIC, import_graph
from kg.settings import Settings
from kg.store import Store

from .conftest import NEED, load_fixture, nquads

LIB = [{"id": "LIB-R", "name_zh": "替换测试馆", "library_type": "county", "located_in": "210124"}]
INTERVENTION: dict[str, Any] = {
    "id": "INT-R",
    "name_zh": "示例·数字阅读推广",
    "category": "C1",
    "provided_by": "LIB-R",
    "target_areas": "210123206200",
    "status": "S1",
    "source": "document",
}


def _need(store: Store, settings: Settings, **changes: Any) -> str:
    """Import one need; return its id (the last segment of its IRI)."""
    report = import_records(store, "needs", [{**NEED, **changes}], user="录入员", settings=settings)
    [iri] = [r["n"] for r in store.select(f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")]
    return str(iri).rsplit("/", 1)[1]


def _data(store: Store) -> bytes:
    """Sorted N-Quads of every graph but the ontology (its blank nodes differ from load to load)."""
    return b"\n".join(q for q in nquads(store).splitlines() if str(GRAPH_ONTOLOGY).encode() not in q)


def _values(store: Store, iri: str, prop: str) -> list[tuple[str, Any]]:
    """(graph, value) of every ``prop`` triple about ``iri``, in every graph."""
    rows = store.select(f"SELECT ?g ?v WHERE {{ GRAPH ?g {{ <{iri}> {prop} ?v }} }}")
    return sorted((r["g"], r["v"]) for r in rows)


def test_replacing_a_need_changes_its_severity_everywhere_with_provenance(store, settings):
    need_id = _need(store, settings)
    iri = f"https://w3id.org/dcpa/id/need/{need_id}"
    report = replace_record(store, "needs", need_id, {**NEED, "severity": 2}, user="李四", settings=settings)
    assert report.replaced == iri and report.counts == {"needs": 1} and not report.dry_run
    # the old value is gone from every graph; the new one is in the replacement's own graph only
    assert _values(store, iri, "dcpa:severity") == [(report.graph, 2)]
    assert len(store.select(f"SELECT ?t WHERE {{ <{iri}> a ?t }}")) == 1
    # who and when, and which record the activity invalidated
    prov = store.select(
        f"""SELECT ?who ?when WHERE {{ GRAPH <{report.graph}> {{
              ?a a dcpa:ImportActivity ; dcpa:recordedBy ?who ; prov:endedAtTime ?when ;
                 prov:invalidated <{iri}> }} }}"""
    )
    assert [r["who"] for r in prov] == ["李四"] and str(prov[0]["when"]).startswith("20")
    manifest = json.loads((settings.imports_path / "manifest.json").read_text(encoding="utf-8"))
    last = manifest["batches"][-1]
    assert (last["source"], last["kind"], last["record_id"], last["user"]) == ("replace", "needs", need_id, "李四")


def test_changed_identifying_values_keep_the_iri(store, settings):
    need_id = _need(store, settings)
    iri = f"https://w3id.org/dcpa/id/need/{need_id}"
    report = replace_record(
        store, "needs", need_id, {**NEED, "identified_on": "2018-06-01"}, user="李四", settings=settings
    )
    assert report.replaced == iri
    assert _values(store, iri, "dcpa:identifiedOn") == [(report.graph, "2018-06-01")]
    assert store.select("SELECT (COUNT(?n) AS ?c) WHERE { ?n a dcpa:Need }")[0]["c"] == 1


def test_identifying_values_of_another_record_are_refused(store, settings):
    first = _need(store, settings)
    _need(store, settings, need_type="N11")
    before = nquads(store)
    with pytest.raises(ValidationFailed) as exc:
        replace_record(store, "needs", first, {**NEED, "need_type": "N11"}, user="李四", settings=settings)
    assert "another record" in str(exc.value.issues[0])
    assert nquads(store) == before


def test_a_synthetic_record_is_replaced_in_its_own_graph_too(store, settings):
    iri = URIRef("https://w3id.org/dcpa/id/need/SYN-1")
    g = [
        (iri, RDF.type, DCPA.Need),
        (iri, DCPA.needOf, URIRef("https://w3id.org/dcpa/id/area/210123206200")),
        (iri, DCPA.severity, Literal("5", datatype=XSD.integer)),
        (iri, DCPA.isSynthetic, Literal(True)),
    ]
    graph = rdflib.Graph()
    for t in g:
        graph.add(t)
    store.add_graph(str(GRAPH_SYNTHETIC), graph)
    report = replace_record(store, "needs", "SYN-1", {**NEED, "severity": 3}, user="李四", settings=settings)
    assert _values(store, str(iri), "dcpa:severity") == [(report.graph, 3)]
    assert _values(store, str(iri), "dcpa:isSynthetic") == []
    assert store.count(str(GRAPH_SYNTHETIC)) == 0


def test_an_invalid_replacement_leaves_the_store_byte_identical(store, settings):
    need_id = _need(store, settings)
    before = nquads(store)
    manifest = (settings.imports_path / "manifest.json").read_bytes()
    with pytest.raises(ValidationFailed) as exc:
        replace_record(
            store,
            "needs",
            need_id,
            {**NEED, "severity": 9, "need_type": "N99"},
            user="李四",
            settings=settings,
        )
    assert {i.column for i in exc.value.issues} == {"severity", "need_type"}
    assert nquads(store) == before
    assert (settings.imports_path / "manifest.json").read_bytes() == manifest


def test_dry_run_checks_but_writes_nothing(store, settings):
    need_id = _need(store, settings)
    before = nquads(store)
    report = replace_record(
        store, "needs", need_id, {**NEED, "severity": 1}, user="李四", settings=settings, dry_run=True
    )
    assert report.dry_run and report.counts == {"needs": 1}
    assert nquads(store) == before


def test_unknown_record_is_not_found(store, settings):
    before = nquads(store)
    with pytest.raises(NotFound):
        replace_record(store, "needs", "imp-000000000000", NEED, user="李四", settings=settings)
    with pytest.raises(NotFound):  # an existing IRI of another kind is not an intervention
        replace_record(store, "interventions", "imp-000000000000", INTERVENTION, user="李四", settings=settings)
    assert nquads(store) == before


def test_a_failed_retain_undoes_the_store_write(store, settings, tmp_path):
    need_id = _need(store, settings)
    before = nquads(store)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("x")
    bad = settings.model_copy(update={"imports_path": blocked / "imports"})
    with pytest.raises(StoreError):
        replace_record(store, "needs", need_id, {**NEED, "severity": 1}, user="李四", settings=bad)
    assert nquads(store) == before


def test_intervention_id_may_be_left_out_but_not_changed(store, settings):
    import_records(store, "libraries", LIB, user="api", settings=settings)
    import_records(store, "interventions", [INTERVENTION], user="api", settings=settings)
    ev = {
        "intervention_id": "INT-R",
        "indicator": "I01",
        "area_code": "210123206200",
        "actual_value": 5,
        "period_start": "2019-01-01",
        "period_end": "2019-12-31",
    }
    import_records(store, "evaluations", [ev], user="api", settings=settings)
    with pytest.raises(ValidationFailed) as exc:
        replace_record(store, "interventions", "INT-R", {**INTERVENTION, "id": "INT-X"}, user="李四", settings=settings)
    assert [i.column for i in exc.value.issues] == ["id"]
    body = {k: v for k, v in INTERVENTION.items() if k != "id"}
    replace_record(store, "interventions", "INT-R", {**body, "status": "S2"}, user="李四", settings=settings)
    iri = "https://w3id.org/dcpa/id/intervention/INT-R"
    assert [v.rsplit("/", 1)[1] for _, v in _values(store, iri, "dcpa:interventionStatus")] == ["S2"]
    # the evaluation still points at the (kept) intervention IRI
    assert store.ask(f"ASK {{ ?e dcpa:evaluates <{iri}> }}")


def test_replay_after_a_rebuild_reproduces_the_replaced_state(store, settings):
    need_id = _need(store, settings)
    replace_record(store, "needs", need_id, {**NEED, "severity": 2}, user="李四", settings=settings)
    replace_record(
        store, "needs", need_id, {**NEED, "severity": 1, "people_affected": 7}, user="王五", settings=settings
    )
    live = _data(store)
    fresh = load_fixture(Store.memory())
    assert replay_retained(fresh, settings.imports_path) == 3
    derive_all(fresh)  # as the build does after replaying
    # the derived graph kept current write by write equals one derived from scratch
    assert _data(fresh) == live
    replay_retained(fresh, settings.imports_path)  # a second replay (idempotent rebuild) changes nothing
    derive_all(fresh)
    assert _data(fresh) == live
    iri = f"https://w3id.org/dcpa/id/need/{need_id}"
    assert [v for _, v in _values(fresh, iri, "dcpa:severity")] == [1]
    assert all(g.startswith(import_graph("")) for g, _ in _values(fresh, iri, "dcpa:severity"))


def test_a_resource_is_replaced_by_id(store, settings):
    import_records(store, "libraries", LIB, user="api", settings=settings)
    res = {"id": "RES-R", "name_zh": "示例·阅读器", "resource_type": "R22", "held_by": "LIB-R", "capacity": 5}
    import_records(store, "resources", [res], user="api", settings=settings)
    report = replace_record(store, "resources", "RES-R", {**res, "capacity": 8}, user="李四", settings=settings)
    assert _values(store, "https://w3id.org/dcpa/id/resource/RES-R", "dcpa:capacity") == [(report.graph, 8)]


def test_replacing_an_intervention_replaces_its_personnel_by_role(store, settings):
    base = {"id": "INT-P1", "name_zh": "示例·人员测试", "category": "C1", "provided_by": "liaoning-provincial-library",
            "target_areas": "210123206200", "status": "S2", "funding_source": "省级专项资金",
            "personnel": "驻村第一书记:1;馆员:2"}
    import_records(store, "interventions", [base], user="t", settings=settings)
    replace_record(store, "interventions", "INT-P1", {**base, "personnel": "志愿者:6", "funding_source": "FS5"},
                   user="t", settings=settings)
    rows = store.select("SELECT ?p ?role ?n WHERE { ?p a dcpa:PersonnelInput ; dcpa:personnelRole ?role ; "
                        "dcpa:personCount ?n }")
    assert [(str(r["role"]).rsplit("/", 1)[1], r["n"]) for r in rows] == [("PR4", 6)]  # the old roles are gone
    funds = store.select("SELECT ?f WHERE { <https://w3id.org/dcpa/id/intervention/INT-P1> dcpa:fundedBy ?f }")
    assert [str(r["f"]).rsplit("/", 1)[1] for r in funds] == ["FS5"]
