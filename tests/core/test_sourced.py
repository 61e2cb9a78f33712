"""Cited policy links, real libraries and documented cases: each in the graph with its words and its source,
and what researchers ask of them answers from them."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, RDFS

from kg import fastshacl, sourced
from kg import reference as ref
from kg.catalogue import run_query
from kg.errors import DcpaError
from kg.namespaces import DCPA, DCPAV, GRAPH_ONTOLOGY, GRAPH_REFERENCE, PREFIXES
from kg.resources import ontology_graph, shapes_graph
from kg.store import Store, graph_to_ntriples

PROV = rdflib.Namespace(PREFIXES["prov"])


@pytest.fixture(scope="module")
def reference() -> rdflib.Graph:
    return ref.reference_graph()


@pytest.fixture(scope="module")
def store(reference: rdflib.Graph) -> Store:
    s = Store.memory()
    s.bulk_load(graph_to_ntriples(ontology_graph()), "nt", str(GRAPH_ONTOLOGY))
    s.bulk_load(ref.reference_ntriples(), "nt", str(GRAPH_REFERENCE))
    return s


def _source_ok(g: rdflib.Graph, node: rdflib.term.Node) -> None:
    sources = list(g.objects(node, PROV.wasDerivedFrom))
    assert sources, node
    for src in sources:
        assert (src, RDF.type, DCPA.DocumentSource) in g
        assert str(g.value(src, DCPA.confidence)) in ("high", "medium", "low")
        assert str(g.value(src, DCPA.originalPublisher)) and str(g.value(src, DCPA.seenAt))


def test_every_cited_link_is_a_triple_with_its_quote_and_source(reference: rdflib.Graph) -> None:
    links = list(reference.subjects(RDF.type, DCPA.CitedLink))
    assert len(links) == len(sourced.policy_links())
    for link in links:
        s, p, o = (reference.value(link, DCPA[k]) for k in ("linkSubject", "linkProperty", "linkObject"))
        assert (s, p, o) in reference, link
        quote = reference.value(link, DCPA.evidenceQuote)
        assert quote is not None and quote.language == "zh" and str(quote)
        _source_ok(reference, link)


def test_policies_by_need_type_answers_for_every_top_need_type(store: Store) -> None:
    rows = run_query(store, "policies_by_need_type", {"lang": "en"}).rows
    assert rows, "no policy is linked to a need type"
    # every top need type (N1…N4) has a sourced policy for it or for one of its narrower types
    tops = {str(r["need_type"]).rsplit("/", 1)[1][:2] for r in rows}
    assert tops == {"N1", "N2", "N3", "N4"}
    labelled = [r for r in rows if r.get("policy_label") and r.get("need_type_label")]
    assert labelled and all(str(r["policy"]).startswith("https://w3id.org/dcpa/id/") for r in rows)


def test_the_policy_chain_shows_programmes_and_implementation_links(store: Store, reference: rdflib.Graph) -> None:
    programmes = {o for o in reference.subjects(DCPA.supportedBy, None) if (o, RDF.type, DCPA.Programme) in reference}
    assert programmes, "no programme is linked to the policy it is carried out under"
    assert set(reference.subject_objects(DCPA.implementsPolicy))
    for prog in reference.subjects(RDF.type, DCPA.Programme):
        for c in reference.objects(prog, DCPA.programmeCategory):
            assert c in {DCPAV.C1, DCPAV.C2, DCPAV.C3, DCPAV.C4}


def test_real_libraries_are_located_in_real_areas_and_cited(reference: rdflib.Graph) -> None:
    rows = sourced.libraries()
    assert {r["area_code"][:4] for r in rows if r["level"] == "city"} >= {"2101", "2113", "2114"}
    for r in rows:
        lib = rdflib.URIRef(sourced.library_iri(r))
        place = reference.value(lib, DCPA.locatedIn)
        assert place is not None and (place, DCPA.areaCode, None) in reference, r["name_zh"]
        assert str(reference.value(lib, RDFS.label)) and (lib, DCPA.isSynthetic, None) not in reference
        _source_ok(reference, lib)


def test_documented_cases_have_a_category_a_quote_and_a_source(reference: rdflib.Graph) -> None:
    cases = list(reference.subjects(RDF.type, DCPA.DocumentedCase))
    assert len(cases) == len(sourced.cases())
    liaoning = [c for c in cases if reference.value(c, DCPA.caseArea) is not None]
    assert liaoning, "no case is placed in a Liaoning area"
    for c in cases:
        assert reference.value(c, DCPA.caseCategory) in {DCPAV.C1, DCPAV.C2, DCPAV.C3, DCPAV.C4}
        _source_ok(reference, c)


def test_the_sourced_data_meet_the_shapes(reference: rdflib.Graph) -> None:
    assert fastshacl.validate([reference, ontology_graph()], shapes_graph()) == []


def test_a_link_to_an_unknown_policy_is_refused_with_its_row(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = ({"subject": "P01", "relation": "implements_policy", "object": "P99", "evidence_zh": "x",
            "confidence": "low", "original_publisher": "x", "seen_at": "x", "note": ""},)
    monkeypatch.setattr(sourced, "policy_links", lambda: bad)
    with pytest.raises(DcpaError, match=r"policy_links.csv, row 2: object 'P99'"):
        list(sourced.link_lines())


def test_example_data_hangs_on_the_real_library_where_one_is_known(tmp_path_factory: pytest.TempPathFactory) -> None:
    from kg.build import build_into
    from kg.settings import Settings

    s, built = Settings(), Store.memory()
    build_into(built, example_villages=s.example_villages, seed=s.example_seed, workdir=tmp_path_factory.mktemp("b"))
    real: dict[str, set[str]] = {}
    for r in sourced.libraries():
        if r["level"] == "city":
            real.setdefault(r["area_code"], set()).add(sourced.library_iri(r))
    city_libs = built.select("SELECT ?lib ?code ?ex WHERE { ?lib a dcpa:CityLibrary ; dcpa:serves ?a . "
                             "?a dcpa:areaCode ?code OPTIONAL { ?lib dcpa:isSynthetic ?ex } }")
    assert city_libs
    for row in city_libs:
        if row["code"] in real:  # no example library stands beside the real one …
            assert str(row["lib"]) in real[row["code"]] and not row.get("ex"), row
    # … and what hangs on a real library is example data, marked as such
    (shenyang,) = real["2101"]
    held = built.select(f"SELECT ?r ?ex WHERE {{ ?r dcpa:heldBy <{shenyang}> OPTIONAL {{ ?r dcpa:isSynthetic ?ex }} }}")
    assert held and all(r.get("ex") is True for r in held)
