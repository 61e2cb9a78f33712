"""``kg.fastshacl`` gives pySHACL's results: on the fixture graphs as they are, and broken at random."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from kg import fastshacl
from kg.importer.checks import run_shacl
from kg.namespaces import DCPA
from kg.resources import ontology_graph, shapes_graph
from kg.store import Store, to_rdflib

DATA = Path(__file__).resolve().parent.parent / "data"
FIXTURES = {"api": DATA / "api" / "fixture.trig", "views": DATA / "views" / "fixture.ttl"}


def _graph(path: Path) -> rdflib.Graph:
    store = Store.memory()
    store.inner.load(path=str(path), format=ox.RdfFormat.TRIG if path.suffix == ".trig" else ox.RdfFormat.TURTLE)
    g = rdflib.Graph()
    for q in store.inner:
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


@pytest.fixture(scope="module")
def fixtures() -> dict[str, rdflib.Graph]:
    return {name: _graph(path) for name, path in FIXTURES.items()}


def _key(r: fastshacl.Result) -> tuple[Any, ...]:
    # pySHACL drops the language tags of SPARQL constraint messages: compare the texts
    return (r.focus, r.path if isinstance(r.path, URIRef) else None, r.value, r.severity,
            frozenset(text for _, text in r.messages))


def both(data: rdflib.Graph) -> tuple[Counter[Any], Counter[Any]]:
    theirs, ours = rdflib.Graph(), rdflib.Graph()
    for t in data + ontology_graph():
        theirs.add(t)
        ours.add(t)
    _conforms, report = run_shacl(theirs)
    return (Counter(_key(r) for r in fastshacl.from_pyshacl(report)),
            Counter(_key(r) for r in fastshacl.validate(ours, shapes_graph())))


def test_every_shape_of_the_project_compiles() -> None:
    roots = fastshacl.compile_shapes(shapes_graph())
    assert len(roots) >= 30


@pytest.mark.parametrize("name", list(FIXTURES))
def test_same_results_on_the_fixtures(fixtures: dict[str, rdflib.Graph], name: str) -> None:
    pyshacl_results, ours = both(fixtures[name])
    assert ours == pyshacl_results


VALUES = [Literal("-3", datatype=XSD.integer), Literal("0", datatype=XSD.integer), Literal("7"),
          Literal("2030-01-01", datatype=XSD.date), Literal("2030-13-45", datatype=XSD.date),
          Literal("1.5", datatype=XSD.decimal), Literal("abc", datatype=XSD.integer), Literal("x", lang="zh"),
          Literal("true", datatype=XSD.boolean), Literal("2019", datatype=XSD.gYear), BNode("b1"),
          URIRef("https://w3id.org/dcpa/vocab/N22"), URIRef("https://w3id.org/dcpa/id/area/21")]


# derandomized: the same 25 graphs every run (a random one once found a case pySHACL cannot judge, below, and
# spent 347 s shrinking it inside a `make test`)
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_same_results_on_broken_graphs(fixtures: dict[str, rdflib.Graph], data: st.DataObject) -> None:
    base = fixtures[data.draw(st.sampled_from(sorted(fixtures)))]
    triples = sorted(base, key=str)
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    for _ in range(data.draw(st.integers(1, 10))):
        s, p, o = data.draw(st.sampled_from(triples))
        op = data.draw(st.sampled_from(["drop", "twice", "retype", "plain", "other"]))
        if op == "drop":
            g.remove((s, p, o))
        elif op == "twice":  # a second value: breaks maxCount, uniqueLang, …
            g.add((s, p, data.draw(st.sampled_from([o2 for _, _, o2 in triples[:200]] + VALUES))))
        elif op == "retype" and isinstance(o, Literal):
            g.remove((s, p, o))
            g.add((s, p, Literal(str(o), datatype=data.draw(st.sampled_from([XSD.integer, XSD.date, XSD.string])))))
        elif op == "plain" and isinstance(o, Literal):
            g.remove((s, p, o))
            g.add((s, p, Literal(str(o))))
        else:
            g.remove((s, p, o))
            g.add((s, p, data.draw(st.sampled_from(VALUES))))
    pyshacl_results, ours = both(g)
    assert ours == pyshacl_results


def test_a_blank_node_compared_by_less_than_or_equals_is_judged_by_neither(fixtures: dict[str, rdflib.Graph]) -> None:
    """pySHACL cannot compare a blank node (an intervention's end date made one): it raises rather than
    report; kg.fastshacl refuses the graph too (``Unsupported``) rather than guess what pySHACL would say."""
    g = rdflib.Graph()
    for t in fixtures["api"]:
        g.add(t)
    i = sorted(s for s in g.subjects(DCPA.endDate) if (s, DCPA.startDate, None) in g)[0]  # compared with its start
    g.remove((i, DCPA.endDate, None))
    g.add((i, DCPA.endDate, BNode("b1")))
    with pytest.raises(ReportableRuntimeError, match="BlankNode"):
        both(g)
    with pytest.raises(fastshacl.Unsupported, match="blank node"):
        fastshacl.validate([g, ontology_graph()], shapes_graph())


def test_a_shape_with_an_unsupported_feature_is_refused() -> None:
    shapes = rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:qualifiedMinCount 1 ] .
    """, format="turtle")
    with pytest.raises(fastshacl.Unsupported):
        fastshacl.compile_shapes(shapes)
