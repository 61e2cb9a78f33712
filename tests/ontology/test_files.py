"""The ontology files parse, and the ontology header carries the metadata users and tools look for."""

from __future__ import annotations

import json

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, XSD

from kg.namespaces import DCPA, ONTOLOGY_IRI, PREFIXES, VANN
from kg.resources import CONTEXT_FILE, ONTOLOGY_DIR, SHAPES_FILE

TTL_FILES = sorted(ONTOLOGY_DIR.glob("*.ttl"))


def test_the_ontology_folder_has_ontology_vocab_and_shapes():
    assert {p.name for p in TTL_FILES} >= {"dcpa.ttl", "vocab.ttl", "shapes.ttl"}


@pytest.mark.parametrize("path", TTL_FILES, ids=lambda p: p.name)
def test_every_turtle_file_parses_and_is_not_empty(path):
    g = rdflib.Graph().parse(path, format="turtle")
    assert len(g) > 50


def test_exactly_one_owl_ontology_across_all_files():
    found = []
    for path in TTL_FILES:
        g = rdflib.Graph().parse(path, format="turtle")
        found += [(path.name, s) for s in g.subjects(RDF.type, OWL.Ontology)]
    assert found == [("dcpa.ttl", rdflib.URIRef(ONTOLOGY_IRI))]


@pytest.mark.parametrize(
    "prop",
    [
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.creator,
        DCTERMS.created,
        DCTERMS.modified,
        OWL.versionIRI,
        OWL.versionInfo,
        VANN.preferredNamespacePrefix,
        VANN.preferredNamespaceUri,
    ],
    ids=lambda p: p.split("/")[-1].split("#")[-1],
)
def test_ontology_header_has_metadata(ontology, prop):
    assert ontology.value(rdflib.URIRef(ONTOLOGY_IRI), prop) is not None


def test_title_and_description_in_both_languages(ontology):
    o = rdflib.URIRef(ONTOLOGY_IRI)
    for p in (DCTERMS.title, DCTERMS.description):
        assert {lit.language for lit in ontology.objects(o, p)} >= {"zh", "en"}


def test_version_iri_differs_from_ontology_iri_and_carries_the_version(ontology):
    o = rdflib.URIRef(ONTOLOGY_IRI)
    version_iri = ontology.value(o, OWL.versionIRI)
    assert version_iri != o
    assert str(version_iri).endswith(str(ontology.value(o, OWL.versionInfo)))


def test_dates_are_xsd_dates_and_prefix_matches_namespace(ontology):
    o = rdflib.URIRef(ONTOLOGY_IRI)
    assert ontology.value(o, DCTERMS.created).datatype == XSD.date
    assert ontology.value(o, DCTERMS.modified).toPython() >= ontology.value(o, DCTERMS.created).toPython()
    assert str(ontology.value(o, VANN.preferredNamespacePrefix)) == "dcpa"
    assert str(ontology.value(o, VANN.preferredNamespaceUri)) == str(DCPA)


def test_external_vocabularies_are_referenced_not_imported(ontology):
    assert not list(ontology.objects(None, OWL.imports))


def test_shapes_file_holds_no_ontology_header():
    g = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    assert not list(g.subjects(RDF.type, OWL.Ontology))


# ---------------------------------------------------------------------------
# JSON-LD context
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context():
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def test_context_declares_every_prefix(context):
    for prefix, ns in PREFIXES.items():
        assert context[prefix] == ns


def test_context_has_a_term_for_every_dcpa_property_with_the_right_type(ontology, context):
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for p in ontology.subjects(RDF.type, kind):
            if not str(p).startswith(str(DCPA)):
                continue
            name = str(p)[len(str(DCPA)) :]
            term = context[name]
            assert term["@id"] == f"dcpa:{name}"
            if kind == OWL.ObjectProperty:
                assert term["@type"] == "@id", name
            else:
                rng = ontology.value(p, rdflib.RDFS.range)
                if str(rng).startswith(str(XSD)):
                    assert term["@type"] == "xsd:" + str(rng)[len(str(XSD)) :], name
                else:
                    assert "@type" not in term, name


def test_context_has_no_remote_reference(context):
    text = CONTEXT_FILE.read_text(encoding="utf-8")
    assert '"@import"' not in text
    assert isinstance(context, dict)


def test_context_round_trips_instance_data(valid_data, context):
    """Data compacted with the context expands back to the same graph, Chinese intact."""
    from rdflib.compare import isomorphic

    text = valid_data.serialize(format="json-ld", context=context, auto_compact=True)
    assert "文官村委会" in text
    assert '"needOf"' in text
    back = rdflib.Graph().parse(data=text, format="json-ld")
    assert isomorphic(back, valid_data)
