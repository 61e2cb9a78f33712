"""Statuses after the campaign (脱贫村, 摘帽县, 防返贫监测) keep poverty targeting useful after 2020."""

from __future__ import annotations

import rdflib

from kg.answers.poverty import poverty_of, registered_poor_villages
from kg.namespaces import DCPAV, GRAPH_SYNTHETIC
from kg.planning import plan
from kg.resources import ontology_graph
from kg.settings import Settings

from .conftest import V1, V2, V5, fixture_store

ID = "https://w3id.org/dcpa/id/"


def _with_status(village: str, status_type: str) -> rdflib.Graph:
    g = rdflib.Graph()
    st = rdflib.URIRef(f"{ID}status/post-{village}")
    dcpa = rdflib.Namespace("https://w3id.org/dcpa/ontology#")
    g.add((rdflib.URIRef(f"{ID}area/{village}"), dcpa.povertyStatus, st))
    g.add((st, rdflib.RDF.type, dcpa.PovertyStatus))
    g.add((st, dcpa.statusType, DCPAV[status_type]))
    g.add((st, dcpa.isSynthetic, rdflib.Literal(True)))
    return g


def test_the_post_2020_statuses_are_in_the_vocabulary_with_their_sources() -> None:
    v = ontology_graph()
    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    labels = {str(c).rsplit("/", 1)[1]: str(v.value(c, skos.prefLabel)) for c in v.subjects(skos.inScheme,
                                                                                          DCPAV.PovertyStatusTypes)}
    assert {"PS4", "PS5", "PS6"} <= set(labels)
    sources = {str(s) for s in v.objects(DCPAV.PS6, rdflib.URIRef("http://purl.org/dc/terms/source"))}
    assert sources == {f"{ID}policy/P21", f"{ID}policy/P22"}


def test_a_monitored_village_comes_first_and_says_why(settings: Settings) -> None:
    store = fixture_store()
    store.add_graph(str(GRAPH_SYNTHETIC) + "-post", _with_status(V2, "PS6"))
    assert V2 in registered_poor_villages(store)
    p = poverty_of(store, [V2])[V2]
    assert p.priority() == 2 and p.status_words() == "village monitored against a return to poverty (example data)"
    made = plan(store, 11_500, "2190", poor_first=True, settings=settings)
    why = {n["need"].rsplit("/", 1)[-1]: n["targeting"] for a in made.allocations for n in a.needs_covered}
    assert "village monitored against a return to poverty (example data)" in why["d"]  # V2's need d
    assert poverty_of(store, [V1])[V1].status_words() == "registered poor village (example data)"


def test_a_former_poverty_county_puts_its_villages_second() -> None:
    store = fixture_store()
    g = _with_status("219002", "PS5")  # a county removed from the list
    store.add_graph(str(GRAPH_SYNTHETIC) + "-post", g)
    assert poverty_of(store, [V5])[V5].priority() == 1  # V5 has no status of its own
