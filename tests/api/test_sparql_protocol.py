"""The /sparql endpoint as standard clients see it: SPARQLWrapper and plain HTTP on loopback."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import rdflib
from rdflib.compare import isomorphic
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, QueryBadFormed

from kg.store import Store

from .conftest import MAX_ROWS

JSON_TYPE = "application/sparql-results+json"
XML_TYPE = "application/sparql-results+xml"

VILLAGES = """PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?code ?name WHERE { ?v a dcpa:Village ; dcpa:areaCode ?code ; rdfs:label ?name } ORDER BY ?code"""
EXPECTED = [
    ("210123203200", "北四家子村委会"),
    ("210123203201", "六家子村委会"),
    ("210123203202", "三合堡村委会"),
]
CONSTRUCT = """PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
CONSTRUCT { ?n dcpa:needOf ?v ; dcpa:severity ?s ; <http://www.w3.org/2000/01/rdf-schema#label> "需求"@zh }
WHERE { ?n dcpa:needOf ?v ; dcpa:severity ?s }"""


def wrapper(url: str, query: str, fmt: str, method: str = "GET") -> SPARQLWrapper:
    w = SPARQLWrapper(url)
    w.setQuery(query)
    w.setReturnFormat(fmt)
    w.setMethod(method)
    return w


def fetch(url: str, query: str, fmt: str, method: str = "GET") -> Any:
    """Run the query with SPARQLWrapper and return what its ``convert()`` gives (type depends on the format)."""
    return wrapper(url, query, fmt, method).query().convert()


def expected_graph(store: Store) -> rdflib.Graph:
    return store.construct(CONSTRUCT)


# -- SELECT in every results format ------------------------------------------------


@pytest.mark.parametrize("method", ["GET", POST])
def test_select_json(sparql_url: str, method: str) -> None:
    res = wrapper(sparql_url, VILLAGES, JSON, method).query()
    assert res.response.headers["Content-Type"].startswith("application/sparql-results+json")
    data: Any = res.convert()
    rows = [(b["code"]["value"], b["name"]["value"]) for b in data["results"]["bindings"]]
    assert rows == EXPECTED
    assert data["results"]["bindings"][0]["name"]["xml:lang"] == "zh"


def test_select_xml(sparql_url: str) -> None:
    doc = fetch(sparql_url, VILLAGES, XML)
    ns = "{http://www.w3.org/2005/sparql-results#}"
    root = ET.fromstring(doc.toxml())
    names = [b.findtext(f"{ns}literal") for b in root.iter(f"{ns}binding") if b.get("name") == "name"]
    assert names == [n for _, n in EXPECTED]


@pytest.mark.parametrize("fmt,delim", [(CSV, ","), (TSV, "\t")])
def test_select_csv_tsv(sparql_url: str, fmt: str, delim: str) -> None:
    raw = fetch(sparql_url, VILLAGES, fmt)
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if fmt == TSV:  # TSV keeps the RDF term syntax
        lines = [line.split(delim) for line in text.splitlines()]
        assert lines[0] == ["?code", "?name"]
        assert lines[1] == ['"210123203200"', '"北四家子村委会"@zh']
    else:
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
        assert rows[0] == ["code", "name"]
        assert [tuple(r) for r in rows[1:]] == EXPECTED


def test_ask(sparql_url: str) -> None:
    res = fetch(sparql_url, "ASK { ?s <https://w3id.org/dcpa/ontology#needOf> ?v }", JSON)
    assert res["boolean"] is True
    res = fetch(sparql_url, "ASK { ?s <http://example.org/none> ?v }", XML)
    assert "false" in res.toxml()


# -- CONSTRUCT / DESCRIBE in every RDF format ------------------------------------


@pytest.mark.parametrize("fmt", [TURTLE, N3, RDFXML, JSONLD])
def test_construct_formats(sparql_url: str, store: Store, fmt: str) -> None:
    g = fetch(sparql_url, CONSTRUCT, fmt)
    if isinstance(g, bytes):  # SPARQLWrapper hands Turtle over unparsed
        assert "需求".encode() in g
        g = rdflib.Graph().parse(data=g, format="turtle")
    assert len(g) == 9
    assert isomorphic(g, expected_graph(store))


def test_construct_ntriples(sparql_url: str, store: Store) -> None:
    r = httpx.get(sparql_url, params={"query": CONSTRUCT}, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/n-triples")
    g = rdflib.Graph().parse(data=r.text, format="nt")
    assert isomorphic(g, expected_graph(store))
    assert "需求" in r.text  # Chinese as UTF-8, not escaped


@pytest.mark.parametrize("accept,fmt,media_type,reader", [
    ("text/n3", None, "text/n3", "n3"), ("application/trig", None, "application/trig", "trig"),
    ("application/n-quads", None, "application/n-quads", "nquads"),
    ("text/x-nquads", None, "application/n-quads", "nquads"),
    ("", "trig", "application/trig", "trig"), ("", "nq", "application/n-quads", "nquads"),
])
def test_a_construct_asked_as_n3_trig_or_n_quads_is_the_graph_in_it(sparql_url: str, store: Store, accept: str,
                                                                    fmt: str | None, media_type: str,
                                                                    reader: str) -> None:
    """A CONSTRUCT asked only as N3, TriG or N-Quads (Jena's and Virtuoso's habits) got a 406; it is the graph in the
    format asked, labelled so: N3 reads Turtle, and TriG and N-Quads read triples alone as the default graph."""
    r = httpx.get(sparql_url, params={"query": CONSTRUCT, **({"format": fmt} if fmt else {})},
                  headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == media_type
    ds = rdflib.Dataset()
    ds.parse(data=r.text, format=reader)
    assert isomorphic(ds.default_graph if reader != "n3" else rdflib.Graph().parse(data=r.text, format="n3"),
                      expected_graph(store))


def test_the_formats_of_a_graph_are_named_in_the_406_and_the_service_description(sparql_url: str) -> None:
    err = httpx.get(sparql_url, params={"query": CONSTRUCT}, headers={"Accept": "text/csv"}).json()["error"]
    assert {"text/n3", "application/trig", "application/n-quads"} <= set(err["details"]["available"])
    assert "application/n-quads" in err["hint"]
    g = rdflib.Graph().parse(data=httpx.get(sparql_url, headers={"Accept": "text/turtle"}).text, format="turtle")
    said = {str(o) for o in g.objects(None, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#resultFormat"))}
    assert {f"http://www.w3.org/ns/formats/{f}" for f in ("N3", "TriG", "N-Quads")} <= said
    nq = httpx.get(sparql_url, headers={"Accept": "application/n-quads"})
    assert nq.headers["content-type"].startswith("application/n-quads") and len(rdflib.Dataset().parse(
        data=nq.text, format="nquads").default_graph) == len(g)


def test_construct_jsonld_uses_the_local_context(sparql_url: str) -> None:
    r = httpx.get(sparql_url, params={"query": CONSTRUCT}, headers={"Accept": "application/ld+json"})
    doc = r.json()
    assert "@context" in doc
    assert "http" not in json.dumps(doc["@context"]).split("dcpa")[0] or isinstance(doc["@context"], dict)


@pytest.mark.parametrize("return_format", ["json", "xml"])
def test_rdflib_s_sparql_store_reads_a_construct_whatever_format_it_is_set_to(
    sparql_url: str, store: Store, return_format: str
) -> None:
    # rdflib asks every query for its one returnFormat (Accept: application/sparql-results+json for a CONSTRUCT
    # too) and reads the answer by its Content-Type
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = rdflib.Graph()
    g += SPARQLStore(sparql_url, returnFormat=return_format).query(CONSTRUCT)  # type: ignore[operator]
    assert isomorphic(g, expected_graph(store))


def test_describe(sparql_url: str) -> None:
    r = httpx.get(
        sparql_url,
        params={"query": "DESCRIBE <https://w3id.org/dcpa/id/need/N-1>"},
        headers={"Accept": "text/turtle"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (None, rdflib.URIRef("https://w3id.org/dcpa/ontology#severity"), rdflib.Literal(4)) in g


# -- the three protocol operations ---------------------------------------------------


def test_post_form_and_direct_body(sparql_url: str) -> None:
    form = httpx.post(sparql_url, data={"query": VILLAGES}, headers={"Accept": "application/sparql-results+json"})
    direct = httpx.post(
        sparql_url,
        content=VILLAGES.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
    )
    assert form.status_code == direct.status_code == 200
    assert form.json() == direct.json()
    assert len(form.json()["results"]["bindings"]) == 3


@pytest.mark.parametrize("how", ["GET", "form", "direct"])
def test_a_query_from_a_file_with_a_byte_order_mark_is_read_however_it_is_sent(sparql_url: str, how: str) -> None:
    """A .rq file saved with a BOM (Notepad's UTF-8) and sent as a form or in the URL was a syntax error at line 1,
    column 1 (an invisible U+FEFF), where sent as application/sparql-query it was answered."""
    text = "\ufeff" + VILLAGES
    r = (httpx.get(sparql_url, params={"query": text}) if how == "GET" else
         httpx.post(sparql_url, data={"query": text}) if how == "form" else
         httpx.post(sparql_url, content=text.encode(), headers={"Content-Type": "application/sparql-query"}))
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3


def test_default_and_named_graph_uri(sparql_url: str) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?n a <https://w3id.org/dcpa/ontology#Need> }"
    ref = httpx.get(sparql_url, params={"query": q, "default-graph-uri": "https://w3id.org/dcpa/graph/reference"})
    syn = httpx.get(sparql_url, params={"query": q, "default-graph-uri": "https://w3id.org/dcpa/graph/synthetic"})
    assert ref.json()["results"]["bindings"][0]["n"]["value"] == "0"
    assert syn.json()["results"]["bindings"][0]["n"]["value"] == "3"
    named = httpx.get(
        sparql_url,
        params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": "https://w3id.org/dcpa/graph/synthetic",
        },
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == ["https://w3id.org/dcpa/graph/synthetic"]


def test_accept_quality_values_are_respected(sparql_url: str) -> None:
    r = httpx.get(
        sparql_url,
        params={"query": VILLAGES},
        headers={"Accept": "application/sparql-results+json;q=0.5, text/csv;q=0.9"},
    )
    assert r.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("accept,expected", [
    ("application/sparql-results+json;q = 0, application/sparql-results+xml;q=0.5", "application/sparql-results+xml"),
    ("text/csv;q=0.9, application/sparql-results+xml;q = 0.2", "text/csv"),
    ("application/sparql-results+xml ; Q = 0.1 , text/tab-separated-values ;q=0.3", "text/tab-separated-values"),
    ('application/sparql-results+xml;note="json, csv";q=0.4, text/csv;q=0.5', "text/csv"),
])
def test_q_values_written_with_spaces_are_read_as_written(sparql_url: str, accept: str, expected: str) -> None:
    """``application/sparql-results+json;q = 0`` (spaces around "=", as headers written by hand have them) was read as
    no q-value, so as q=1, and the JSON the client had refused was sent; Accept-Encoding read the same words as 0.
    One reader (api.qvalues) reads both, and reads it as the 0 it is."""
    r = httpx.get(sparql_url, params={"query": VILLAGES}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("query,accept,expected", [
    (VILLAGES, "*/*, application/sparql-results+json;q=0", "application/sparql-results+xml"),
    (VILLAGES, "text/*, text/csv;q=0", "text/tab-separated-values"),
    (VILLAGES, "*/*;q=0.5, application/sparql-results+json;Q=0, application/sparql-results+xml;q=0", "text/csv"),
    (CONSTRUCT, "*/*;q=0.5, text/turtle;q=0", "application/n-triples"),
    (CONSTRUCT, "application/*, application/n-triples;q=0", "application/rdf+xml"),
    # a major type refused (application/*;q=0, text/*;q=0) was sent all the same for */*
    (VILLAGES, "application/*;q=0, */*", "text/csv"),
    (CONSTRUCT, "text/*;q=0, */*", "application/n-triples"),
])
def test_a_type_refused_with_q_0_is_not_sent_for_a_wildcard(sparql_url: str, query: str, accept: str,
                                                             expected: str) -> None:
    """``Accept: */*, application/sparql-results+json;q=0`` ("anything but JSON") was answered in JSON, the default the
    wildcard stood for: the most specific range decides (RFC 9110 12.5.1), so a wildcard stands for the first format
    the client has not refused."""
    r = httpx.get(sparql_url, params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("query,accept,expected", [
    (VILLAGES, "text/*;q=0.8, text/csv;q=0.1", "text/tab-separated-values"),
    (VILLAGES, "application/sparql-results+json;q=0.1, */*", "application/sparql-results+xml"),
    (CONSTRUCT, "text/turtle;q=0.1, */*;q=0.9", "application/n-triples"),
    (CONSTRUCT, "text/turtle;q=0.2, application/*;q=0.5, application/n-triples;q=0.1", "application/rdf+xml"),
])
def test_a_wildcard_stands_for_a_format_wanted_as_much_as_it_says(sparql_url: str, query: str, accept: str,
                                                                  expected: str) -> None:
    """``text/*;q=0.8, text/csv;q=0.1`` (any text but CSV, if it can be helped) was answered in CSV, the first text
    format, and ``text/turtle;q=0.1, */*;q=0.9`` in Turtle: a wildcard stood for the first format not refused, however
    little the client wanted it. Each format is now as wanted as its most specific range says (RFC 9110 12.5.1)."""
    r = httpx.get(sparql_url, params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("query,fmt", [(CONSTRUCT, "application/rdf+xml"), (VILLAGES, "application/sparql-results+xml"),
                                       (CONSTRUCT, "application/n-quads")])
def test_a_format_written_into_the_url_by_hand_keeps_its_plus(sparql_url: str, query: str, fmt: str) -> None:
    """``&format=application/rdf+xml`` written into a URL by hand (Virtuoso's examples) reached the endpoint as
    "application/rdf xml", a "+" in a URL's query being a space: no format known, so a CONSTRUCT came in Turtle and a
    SELECT in JSON. It is the format asked now."""
    r = httpx.get(f"{sparql_url}?query={quote(query)}&format={fmt}")
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == fmt


@pytest.mark.parametrize("query,accept,said", [(VILLAGES, "text/turtle", "a SELECT query"),
                                               (CONSTRUCT, "text/csv", "a CONSTRUCT query"),
                                               ("ASK { ?s ?p ?o }", "text/turtle", "an ASK query"),
                                               (None, "text/csv", "")])
def test_an_unacceptable_format_is_406_in_the_error_shape(sparql_url: str, query: str | None, accept: str,
                                                           said: str) -> None:
    r = httpx.get(sparql_url, params={"query": query} if query else {}, headers={"Accept": accept})
    assert r.status_code == 406
    err = r.json()["error"]
    assert err["code"] == "not_acceptable" and accept in err["message"] and "*/*" in err["hint"]
    assert err["message"].startswith("所接受的格式") and said in err["message"]  # Chinese first, then English


@pytest.mark.parametrize("params,accept", [({}, "text/csv"), ({"format": "csv"}, "")])
def test_a_406_for_the_service_description_speaks_of_it_not_of_a_query(sparql_url: str, params: dict[str, str],
                                                                      accept: str,
                                                                      zh_first: Callable[..., None]) -> None:
    """``Accept: text/csv`` and no query was refused for "the answer of a DESCRIBE query", which nobody had sent."""
    r = httpx.get(sparql_url, params=params, headers={"Accept": accept} if accept else {})
    assert r.status_code == 406
    err = r.json()["error"]
    assert "DESCRIBE" not in err["message"] and err["message"].endswith("hold the service description")
    zh_first(err["message"], err["message"].split(" / ", 1)[1])
    assert "服务描述" in err["message"] and "turtle" in err["hint"]


@pytest.mark.parametrize("query,fmt,said,names", [(VILLAGES, "turtle", "a SELECT query", "json, xml, csv, tsv"),
                                                (VILLAGES, "text/turtle", "a SELECT query", "json, xml, csv, tsv"),
                                                ("ASK { ?s ?p ?o }", "nt", "an ASK query", "json, xml"),
                                                (CONSTRUCT, "csv", "a CONSTRUCT query", "json, xml, turtle, nt"),
                                                (CONSTRUCT, "spreadsheet", "a CONSTRUCT query", "turtle")])
def test_a_format_parameter_the_form_has_not_is_406_naming_those_it_has(sparql_url: str, query: str, fmt: str,
                                                                         said: str, names: str,
                                                                         zh_first: Callable[..., None]) -> None:
    """``?format=turtle`` on a SELECT was answered 200 in SPARQL JSON (and ``format=csv`` on a CONSTRUCT in Turtle): a
    client reading Turtle failed on JSON with nothing to say why. It is a 406 now, as the same Accept header is,
    naming the formats the query's form can be given in."""
    r = httpx.get(sparql_url, params={"query": query, "format": fmt})
    assert r.status_code == 406
    err = r.json()["error"]
    assert err["code"] == "not_acceptable" and err["details"]["format"] == fmt
    zh_first(err["message"], f"the format asked for (format={fmt}) cannot hold the answer of {said}")
    assert names in err["hint"]


@pytest.mark.parametrize("params,accept", [({}, "text/csv"), ({}, "text/tab-separated-values"),
                                           ({"format": "csv"}, ""), ({"format": "tsv"}, "*/*")])
def test_an_ask_as_csv_or_tsv_is_406_saying_they_hold_no_boolean(sparql_url: str, params: dict[str, str], accept: str,
                                                                  zh_first: Callable[..., None]) -> None:
    """An ASK asked as CSV or TSV was a bare ``true`` line sent as text/csv, which SPARQL 1.1's CSV and TSV results
    do not define (they are tables of bindings) and a CSV reader takes for a header over no rows. It is a 406 now,
    saying why; a client that also takes JSON or XML gets that."""
    ask = "ASK { ?s <https://w3id.org/dcpa/ontology#needOf> ?v }"
    r = httpx.get(sparql_url, params={"query": ask, **params}, headers={"Accept": accept} if accept else {})
    assert r.status_code == 406
    err = r.json()["error"]
    assert err["code"] == "not_acceptable" and err["details"]["available"] == [JSON_TYPE, XML_TYPE]
    zh_first(err["hint"], err["hint"].split(" / ", 1)[1])
    assert "CSV and TSV results hold no boolean" in err["hint"]
    if not params:
        fallback = httpx.get(sparql_url, params={"query": ask}, headers={"Accept": accept + ", */*;q=0.1"})
        assert fallback.status_code == 200 and fallback.json()["boolean"] is True


# -- errors, refusals, limits ------------------------------------------------------


def test_bad_query_is_400_with_the_parser_message(sparql_url: str) -> None:
    r = httpx.get(sparql_url, params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "query_error"
    assert "error at 1:" in err["message"] or "expected" in err["message"]
    with pytest.raises(QueryBadFormed):
        wrapper(sparql_url, "SELEC ?x", JSON).query()


def test_an_undeclared_prefix_is_named_in_the_error_shape(sparql_url: str, zh_first: Callable[..., None]) -> None:
    # before: "SPARQL syntax error: error at 1:28: expected one of Prefix not found, ['%'], ['-' | '0' ..= '9' | …"
    r = httpx.post(sparql_url, data={"query": "SELECT * WHERE { ?s foo:bar ?o }"})
    assert r.status_code == 400 and set(r.json()) == {"error"}
    err = r.json()["error"]
    assert err["code"] == "query_error" and set(err) == {"code", "message", "hint", "details"}
    zh_first(err["message"], "SPARQL syntax error at line 1, column 21: the prefix foo: is not declared: "
                             "add PREFIX foo: <…> before the query")
    assert err["message"].endswith(" / SPARQL syntax error at line 1, column 21: the prefix foo: is not declared: "
                                   "add PREFIX foo: <…> before the query")
    assert "dcpa:" in err["hint"] and err["details"]["caret"] == " " * 20 + "^"


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <http://a/b> <http://a/c> <http://a/d> }",
        "PREFIX x: <http://x/> DELETE WHERE { ?s ?p ?o }",
        "# a comment\nDROP ALL",
        "CLEAR DEFAULT",
    ],
)
def test_updates_are_refused(sparql_url: str, store: Store, query: str) -> None:
    before = store.count()
    for r in (
        httpx.get(sparql_url, params={"query": query}),
        httpx.post(sparql_url, data={"update": query}),
        httpx.post(sparql_url, content=query, headers={"Content-Type": "application/sparql-update"}),
    ):
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "query_refused"
        assert "read-only" in r.json()["error"]["message"]
    assert store.count() == before


def test_the_spreadsheet_download_is_csv_that_excel_reads_right(sparql_url: str) -> None:
    """``?format=spreadsheet`` (the editor's "Download CSV"): a BOM (Excel on a Chinese system reads UTF-8 as GBK
    without one) and formulas escaped; ``text/csv`` itself stays the standard's."""
    query = 'SELECT ?x ?n WHERE { VALUES (?x ?n) { ("=HYPERLINK(1)" "张三") ("-3" "a,b") } }'
    plain = httpx.get(sparql_url, params={"query": query, "format": "csv"})
    sheet = httpx.get(sparql_url, params={"query": query, "format": "spreadsheet"})
    assert plain.content == 'x,n\r\n=HYPERLINK(1),张三\r\n-3,"a,b"\r\n'.encode()
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content == '\ufeffx,n\r\n\'=HYPERLINK(1),张三\r\n-3,"a,b"\r\n'.encode()
    assert sheet.headers["content-disposition"].startswith('attachment; filename="sparql-results.csv";')


def test_a_spreadsheet_download_cut_short_says_so_in_its_last_row_and_its_name(sparql_url: str) -> None:
    """A browser's download shows no header: a sheet cut at the row limit says so where its reader looks."""
    query = f"SELECT ?i WHERE {{ VALUES ?i {{ {' '.join(str(i) for i in range(MAX_ROWS + 5))} }} }}"
    sheet = httpx.post(sparql_url, data={"query": query, "format": "spreadsheet"})
    rows = sheet.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + MAX_ROWS + 1 and rows[-2] == str(MAX_ROWS - 1)
    assert "结果已截断" in rows[-1] and f"the first {MAX_ROWS:,} rows only" in rows[-1]
    assert f'filename="sparql-results-first-{MAX_ROWS}-rows.csv"' in sheet.headers["content-disposition"]
    whole = httpx.post(sparql_url, data={"query": "SELECT ?i WHERE { VALUES ?i { 1 2 } }", "format": "spreadsheet"})
    assert whole.content.decode("utf-8-sig").splitlines() == ["i", "1", "2"]  # nothing cut: no note


def test_an_empty_query_is_a_400_that_says_so(sparql_url: str) -> None:
    sparql_query = {"Content-Type": "application/sparql-query"}
    for r in (httpx.get(sparql_url, params={"query": ""}),
              httpx.post(sparql_url, content="PREFIX x: <http://a/>", headers=sparql_query)):
        assert r.status_code == 400 and r.json()["error"]["code"] == "query_error", r.text
        assert "empty" in r.json()["error"]["message"]


def test_load_is_refused(sparql_url: str) -> None:
    r = httpx.get(sparql_url, params={"query": "LOAD <http://127.0.0.1:9/data.ttl>"})
    assert r.status_code == 403
    assert "LOAD" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * { ?s ?p ?o . service silent <http://localhost:9/x> { ?s ?p ?q } }",
    ],
)
def test_service_is_refused(sparql_url: str, query: str) -> None:
    r = httpx.get(sparql_url, params={"query": query})
    assert r.status_code == 403
    assert "SERVICE" in r.json()["error"]["message"]


def test_keywords_inside_strings_and_iris_are_not_refusals(sparql_url: str) -> None:
    q = 'SELECT ?x WHERE { BIND("SERVICE and DROP ALL" AS ?x) FILTER(?x != <http://e/INSERT>) }  # LOAD'
    r = httpx.get(sparql_url, params={"query": q})
    assert r.status_code == 200
    assert r.json()["results"]["bindings"][0]["x"]["value"] == "SERVICE and DROP ALL"


def test_row_limit_cuts_and_says_so(sparql_url: str, settings_max_rows: int = 200) -> None:
    r = httpx.get(sparql_url, params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.status_code == 200
    assert r.headers["X-DCPA-Truncated"] == "true"
    data = r.json()
    assert len(data["results"]["bindings"]) == settings_max_rows
    assert data["dcpa"]["truncated"] is True
    csv_r = httpx.get(sparql_url, params={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "csv"})
    assert csv_r.headers["X-DCPA-Truncated"] == "true"
    assert len(csv_r.text.strip().splitlines()) == settings_max_rows + 1
    small = httpx.get(sparql_url, params={"query": VILLAGES})
    assert "X-DCPA-Truncated" not in small.headers and "dcpa" not in small.json()


def test_construct_row_limit(sparql_url: str) -> None:
    r = httpx.get(
        sparql_url, params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"}
    )
    assert r.headers["X-DCPA-Truncated"] == "true"
    assert len(r.text.strip().splitlines()) == 200


def test_oversized_query_is_refused(sparql_url: str) -> None:
    q = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 200_000
    r = httpx.post(sparql_url, data={"query": q})
    assert r.status_code == 400
    assert "limit" in r.json()["error"]["message"]


def test_a_post_without_a_query_is_400_not_the_service_description(sparql_url: str,
                                                                  zh_first: Callable[..., None]) -> None:
    r = httpx.post(sparql_url, data={"default-graph-uri": "https://w3id.org/dcpa/graph/reference"})
    assert r.status_code == 400
    zh_first(r.json()["error"]["message"], "the POST request carries no query")


def test_a_post_with_its_query_in_the_url_and_no_body_is_answered(sparql_url: str) -> None:
    """``requests.post(url, params={"query": q})`` and ``curl -X POST '…?query=…'`` send no body and no content type:
    it was a 400 about an unsupported content type '(none)'; the URL's query is answered, as by GET."""
    r = httpx.post(sparql_url, params={"query": VILLAGES, "format": "json"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3
    bare = httpx.post(sparql_url)
    assert bare.status_code == 400 and "carries no query" in bare.json()["error"]["message"]


def test_unsupported_content_type(sparql_url: str) -> None:
    r = httpx.post(sparql_url, content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert "content type" in r.json()["error"]["message"]


# -- service description and the page ---------------------------------------------


def test_service_description(sparql_url: str) -> None:
    r = httpx.get(sparql_url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = next(g.subjects(rdflib.RDF.type, sd.Service))
    assert str(service) == sparql_url
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
    names = {str(o) for o in g.objects(None, sd.name)}
    assert "https://w3id.org/dcpa/graph/synthetic" in names


@pytest.mark.parametrize("fmt,media_type", [("ttl", "text/turtle"), ("nt", "application/n-triples"),
                                            ("jsonld", "application/ld+json")])
def test_the_page_s_service_description_link_gives_the_description(sparql_url: str, fmt: str, media_type: str) -> None:
    """The query page's "Service description" link (``/sparql?format=ttl``) opened the query page again: a browser
    accepts text/html first, and the format parameter was read only with a query. It names the format, as for a
    query; and the page says it varies by Accept, so that no cache hands it to a client asking for the RDF."""
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = httpx.get(sparql_url, headers=browser)
    assert 'href="/sparql?format=ttl"' in page.text and "accept" in page.headers["vary"].lower()
    r = httpx.get(sparql_url, params={"format": fmt}, headers=browser)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media_type)
    g = rdflib.Graph().parse(data=r.text, format={"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt])
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (rdflib.URIRef(sparql_url), rdflib.RDF.type, sd.Service) in g


def test_browser_gets_the_query_page(sparql_url: str) -> None:
    r = httpx.get(sparql_url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/static/vendor/yasgui/yasgui.min.js" in r.text
    assert "/static/js/sparql-page.js" in r.text


def test_sparqlwrapper_sees_500_never(sparql_url: str) -> None:
    # A query the engine rejects at evaluation time is still a client error, not a crash.
    with pytest.raises((QueryBadFormed, EndPointInternalError)) as info:
        wrapper(sparql_url, "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s", JSON).query()
    assert info.type is QueryBadFormed
