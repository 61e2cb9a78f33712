"""The protocol helpers alone: query-form detection, refusals and content negotiation."""

from __future__ import annotations

import pytest

from api import sparql as sp
from kg.errors import QueryError, QueryRefused


@pytest.mark.parametrize(
    "query,form",
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("PREFIX ex: <http://e/>\nBASE <http://b/>\nask { ?s ex:p ?o }", "ASK"),
        ("# CONSTRUCT in a comment\nDESCRIBE <http://e/x>", "DESCRIBE"),
        ("PREFIX load: <http://e/> CONSTRUCT { ?s load:p ?o } WHERE { ?s load:p ?o }", "CONSTRUCT"),
        ('SELECT ?x { BIND("INSERT" AS ?x) }', "SELECT"),
        ("SELECT ?service { ?service ?p ?o }", "SELECT"),  # a variable named service is fine
        ("not sparql at all", "SELECT"),  # left to the parser, which reports the error
    ],
)
def test_query_form(query: str, form: str) -> None:
    assert sp.query_form(query) == form


@pytest.mark.parametrize(
    "query,word",
    [
        ("INSERT DATA { <a:b> <a:c> <a:d> }", "read-only"),
        ("prefix x: <http://x/> with <http://g> delete { ?s ?p ?o } where { ?s ?p ?o }", "read-only"),
        ("LOAD <http://example.org/x.ttl>", "LOAD"),
        ("SELECT * { SERVICE <http://e/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * { ?s ?p ?o . SeRvIcE ?endpoint { ?s ?p ?q } }", "SERVICE"),
    ],
)
def test_refused(query: str, word: str) -> None:
    with pytest.raises(QueryRefused, match=word):
        sp.query_form(query)


@pytest.mark.parametrize(
    "form,accept,fmt,expected",
    [
        ("SELECT", "", None, sp.JSON_RESULTS),
        ("SELECT", "*/*", None, sp.JSON_RESULTS),
        ("SELECT", "application/sparql-results+xml", None, sp.XML_RESULTS),
        ("ASK", "text/csv;q=0.2, text/tab-separated-values", None, sp.TSV),
        ("SELECT", "text/html", "csv", sp.CSV),
        ("CONSTRUCT", "", None, sp.TURTLE),
        ("CONSTRUCT", "application/json", None, sp.JSONLD),
        ("DESCRIBE", "application/rdf+xml", None, sp.RDFXML),
        ("CONSTRUCT", "text/plain", None, sp.NTRIPLES),
        ("CONSTRUCT", "", "xml", sp.RDFXML),
        ("SELECT", "", "xml", sp.XML_RESULTS),
    ],
)
def test_negotiate(form: str, accept: str, fmt: str | None, expected: str) -> None:
    assert sp.negotiate(form, accept, fmt) == expected


def test_parse_request_forms() -> None:
    r = sp.parse_request("GET", "", "query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fg", b"", max_bytes=1000)
    assert r is not None and r.query == "ASK{}" and r.default_graphs == ["http://g"]
    r = sp.parse_request("POST", "application/sparql-query; charset=utf-8", "", b"ASK{}", max_bytes=1000)
    assert r is not None and r.query == "ASK{}"
    assert sp.parse_request("GET", "", "", b"", max_bytes=1000) is None
    with pytest.raises(QueryError, match="more than one"):
        sp.parse_request("GET", "", "query=ASK%7B%7D&query=ASK%7B%7D", b"", max_bytes=1000)
    with pytest.raises(QueryRefused):
        sp.parse_request("POST", "application/x-www-form-urlencoded", "", b"update=CLEAR+ALL", max_bytes=1000)


def test_inline_parameters() -> None:
    text = "SELECT ?v ?n WHERE { { SELECT ?v (COUNT(*) AS ?n) WHERE { ?x <http://e/p> ?v } GROUP BY ?v } }"
    out = sp.inline_parameters(text, {"v": "<http://e/v>"})
    assert out == "SELECT ?n WHERE { { SELECT (COUNT(*) AS ?n) WHERE { ?x <http://e/p> <http://e/v> } } }"
    kept = sp.inline_parameters("SELECT ?a WHERE { ?a <http://e/p> ?v } GROUP BY ?a ?v", {"v": '"x"'})
    assert kept == 'SELECT ?a WHERE { ?a <http://e/p> "x" } GROUP BY ?a'
    import pyoxigraph as ox

    ox.Store().query(out)  # still valid SPARQL
