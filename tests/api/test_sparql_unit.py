"""The protocol helpers alone: the parser's decisions (form, dataset, refusals), requests, negotiation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from api import sparql as sp
from kg.errors import NotAcceptable, QueryError, QueryRefused, StoreBusy
from kg.importer.journal import Marker
from kg.store import Store

from .conftest import load_fixture


@pytest.mark.parametrize(
    "query,form",
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("PREFIX ex: <http://e/>\nBASE <http://b/>\nask { ?s ex:p ?o }", "ASK"),
        ("# CONSTRUCT in a comment\nDESCRIBE <http://e/x>", "DESCRIBE"),
        ("PREFIX load: <http://e/> CONSTRUCT { ?s load:p ?o } WHERE { ?s load:p ?o }", "CONSTRUCT"),
        ('SELECT ?x { BIND("INSERT" AS ?x) }', "SELECT"),
        ("SELECT ?service { ?service ?p ?o }", "SELECT"),  # a variable named service is fine
        ("PREFIX service: <http://e/> SELECT * { ?s service:p ?o }", "SELECT"),  # and so is a prefix
        ('SELECT * { ?s ?p "SERVICE <http://e/> { }" . FILTER(?o != <http://e/SERVICE>) }', "SELECT"),
        ("SELECT * { ?s ?p ?o } # SERVICE <http://e/> { ?s ?p ?o }", "SELECT"),  # a comment
    ],
)
def test_analyse_finds_the_form(query: str, form: str) -> None:
    assert sp.analyse(query).form == form


def test_analyse_finds_the_dataset() -> None:
    assert not sp.analyse("SELECT * { ?s ?p ?o }").has_dataset
    assert sp.analyse("SELECT * FROM <http://g/a> { ?s ?p ?o }").has_dataset
    assert sp.analyse("PREFIX g: <http://g/> SELECT * FROM NAMED g:b { GRAPH ?g { ?s ?p ?o } }").has_dataset
    assert sp.analyse("ASK FROM <http://g/a> { ?s ?p ?o }").has_dataset


L = "<http://127.0.0.1:9/sparql>"
#: Ways to write a SERVICE call; every one must be refused (it is parsed, not matched as text).
SERVICE_TRICKS = {
    "plain": f"SELECT * WHERE {{ SERVICE {L} {{ ?s ?p ?o }} }}",
    "mixed case": f"SELECT * {{ ?s ?p ?o . SeRvIcE {L} {{ ?s ?p ?q }} }}",
    "silent": f"select * {{ service silent {L} {{ ?s ?p ?q }} }}",
    "variable": "SELECT * { ?s ?p ?o . SERVICE ?endpoint { ?s ?p ?q } }",
    "bound variable": f"SELECT * {{ BIND({L} AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "< inside FILTER": f"SELECT * {{ VALUES ?z {{ 4 }} FILTER(?z < 3 || ?z > 5) SERVICE {L} {{ ?s ?p ?o }} }}",
    "< and > in FILTER around it": f"SELECT * {{ ?a ?b ?c FILTER(?c < 1) SERVICE {L} {{ ?s ?p ?o }} FILTER(?c > 2) }}",
    "comment ended by CR": f"SELECT * WHERE {{ # note\r SERVICE {L} {{ ?s ?p ?o }} \n }}",
    "comment ended by CR LF": f"SELECT * WHERE {{ # note\r\n SERVICE {L} {{ ?s ?p ?o }} }}",
    "\\u escape in the IRI": "SELECT * { SERVICE <http://127.0.0.1:9/\\u0073parql> { ?s ?p ?o } }",
    "\\u escape in the keyword": f"SELECT * {{ \\u0053ERVICE {L} {{ ?s ?p ?o }} }}",
    "prefixed name": "PREFIX s: <http://127.0.0.1:9/> SELECT * { SERVICE s:sparql { ?s ?p ?o } }",
    "prefix named service": "PREFIX service: <http://127.0.0.1:9/> SELECT * { SERVICE service: { ?s ?p ?o } }",
    "base IRI": "BASE <http://127.0.0.1:9/> SELECT * { SERVICE <sparql> { ?s ?p ?o } }",
    "sub-query": f"SELECT * {{ {{ SELECT * {{ {{ SELECT * {{ SERVICE {L} {{ ?s ?p ?o }} }} }} }} }} }}",
    "EXISTS": f"SELECT * {{ ?a ?b ?c FILTER EXISTS {{ SERVICE {L} {{ ?s ?p ?o }} }} }}",
    "NOT EXISTS": f"SELECT * {{ ?a ?b ?c FILTER NOT EXISTS {{ SERVICE {L} {{ ?s ?p ?o }} }} }}",
    "EXISTS in BIND": f"SELECT * {{ BIND(EXISTS {{ SERVICE {L} {{ ?s ?p ?o }} }} AS ?x) }}",
    "OPTIONAL": f"SELECT * {{ ?a ?b ?c OPTIONAL {{ SERVICE {L} {{ ?s ?p ?o }} }} }}",
    "MINUS": f"SELECT * {{ ?a ?b ?c MINUS {{ SERVICE {L} {{ ?a ?b ?c }} }} }}",
    "GRAPH": f"SELECT * {{ GRAPH ?g {{ SERVICE {L} {{ ?s ?p ?o }} }} }}",
    "UNION": f"SELECT * {{ {{ ?a ?b ?c }} UNION {{ SERVICE {L} {{ ?s ?p ?o }} }} }}",
    "ASK": f"ASK {{ SERVICE {L} {{ ?s ?p ?o }} }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE {L} {{ ?s ?p ?o }} }}",
    "DESCRIBE": f"DESCRIBE ?s WHERE {{ SERVICE {L} {{ ?s ?p ?o }} }}",
    "after a string with SERVICE": f'SELECT * {{ BIND("SERVICE" AS ?x) SERVICE {L} {{ ?s ?p ?o }} }}',
}


@pytest.mark.parametrize("query", SERVICE_TRICKS.values(), ids=SERVICE_TRICKS.keys())
def test_service_is_refused_however_it_is_written(query: str) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        sp.analyse(query)


@pytest.mark.parametrize(
    "query,word",
    [
        ("INSERT DATA { <a:b> <a:c> <a:d> }", "read-only"),
        ("prefix x: <http://x/> with <http://g> delete { ?s ?p ?o } where { ?s ?p ?o }", "read-only"),
        ("# SELECT * { ?s ?p ?o }\nDROP ALL", "read-only"),
        ("cLeAr DEFAULT", "read-only"),
        ("LOAD <http://example.org/x.ttl>", "LOAD"),
        ("CLEAR ALL ; load silent <http://example.org/x.ttl> INTO GRAPH <http://g>", "LOAD"),
    ],
)
def test_updates_and_load_are_refused(query: str, word: str) -> None:
    with pytest.raises(QueryRefused, match=word):
        sp.analyse(query)


@pytest.mark.parametrize("query", ["", "  \n", "# only a comment", "PREFIX x: <http://a/>", "BASE <http://a/>\n"])
def test_an_empty_query_is_an_error_not_a_refused_update(query: str) -> None:
    """The grammar reads an empty text as an empty update: it asks nothing, and must not be told it writes."""
    with pytest.raises(QueryError, match="the query is empty") as caught:
        sp.analyse(query)
    assert not isinstance(caught.value, QueryRefused) and "SELECT * WHERE" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "query",
    [
        "not sparql at all",
        # SPARQL 1.2 syntax that Oxigraph runs but the checking parser cannot read, with "service" in it:
        # it goes to the checking parser, and is refused (fail closed).
        f"SELECT * WHERE {{ LATERAL {{ SERVICE {L} {{ ?s ?p ?o }} }} }}",
        "SELECT * { " * 400 + "}" * 400,
    ],
)
def test_what_the_parser_cannot_read_is_refused_with_where(query: str) -> None:
    with pytest.raises(QueryError) as info:
        sp.analyse(query)
    assert not isinstance(info.value, QueryRefused)
    assert "line 1, column" in info.value.message or "nested" in info.value.message


def test_a_broken_plain_query_is_reported_with_where_when_it_runs() -> None:
    """A plain query passes on its tokens; the engine's parser finds the fault, reported as the checking
    parser words it (line and column)."""
    query = "SELECT ?x WHERE { ?x ?y }"
    assert sp.analyse(query).form == "SELECT"
    with pytest.raises(QueryError) as info:
        sp.answer(Store.memory(), sp.SparqlRequest(query), "", 10)
    assert not isinstance(info.value, QueryRefused)
    assert "line 1, column 19" in info.value.message


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { << ?s ?p ?o >> ?q ?r }",  # SPARQL 1.2
        "SELECT * WHERE { <<( ?s ?p ?o )>> ?q ?r }",
        "SELECT * { ?s ?p -1.5 }",  # rdflib 7 cannot read a negative decimal as an object
    ],
)
def test_plain_queries_the_checking_parser_cannot_read_run(query: str) -> None:
    answer = sp.answer(Store.memory(), sp.SparqlRequest(query), "", 10)
    assert json.loads(answer.body)["results"]["bindings"] == []


def test_the_parse_is_remembered() -> None:
    text = "SELECT * { ?s ?p ?o } # remembered"
    sp.analyse(text)
    hits = sp._analyse_cached.cache_info().hits
    assert sp.analyse(text).form == "SELECT"
    assert sp._analyse_cached.cache_info().hits == hits + 1
    with pytest.raises(QueryRefused):  # a refusal is remembered too, and raised afresh every time
        sp.analyse(SERVICE_TRICKS["plain"])
    with pytest.raises(QueryRefused):
        sp.analyse(SERVICE_TRICKS["plain"])


@pytest.mark.parametrize(
    "form,accept,fmt,expected",
    [
        ("SELECT", "", None, sp.JSON_RESULTS),
        ("SELECT", "*/*", None, sp.JSON_RESULTS),
        ("SELECT", "application/sparql-results+xml", None, sp.XML_RESULTS),
        ("ASK", "text/csv, application/sparql-results+xml;q=0.1", None, sp.XML_RESULTS),
        ("SELECT", "text/html", "csv", sp.CSV),
        ("CONSTRUCT", "", None, sp.TURTLE),
        ("CONSTRUCT", "application/json", None, sp.JSONLD),
        ("CONSTRUCT", "application/sparql-results+json", None, sp.JSONLD),  # rdflib's SPARQLStore, set to json
        ("DESCRIBE", "application/sparql-results+xml", None, sp.RDFXML),
        ("DESCRIBE", "application/rdf+xml", None, sp.RDFXML),
        ("CONSTRUCT", "text/plain", None, sp.NTRIPLES),
        ("CONSTRUCT", "", "xml", sp.RDFXML),
        ("SELECT", "", "xml", sp.XML_RESULTS),
    ],
)
def test_negotiate(form: str, accept: str, fmt: str | None, expected: str) -> None:
    assert sp.negotiate(form, accept, fmt) == expected


@pytest.mark.parametrize(
    "form,accept,expected",
    [
        ("SELECT", "text/*", sp.CSV),
        ("SELECT", "application/*", sp.JSON_RESULTS),
        ("CONSTRUCT", "application/*", sp.NTRIPLES),
        ("CONSTRUCT", "text/*;q=0.5, application/rdf+xml;q=0.1", sp.TURTLE),
        ("SELECT", "text/turtle, */*;q=0.1", sp.JSON_RESULTS),
        ("SELECT", "garbage", sp.JSON_RESULTS),  # no media range at all: as no Accept
    ],
)
def test_negotiate_wildcards(form: str, accept: str, expected: str) -> None:
    assert sp.negotiate(form, accept) == expected


@pytest.mark.parametrize(
    "form,accept",
    [
        ("SELECT", "text/turtle"),
        ("ASK", "application/ld+json"),
        ("CONSTRUCT", "text/csv"),
        ("DESCRIBE", "text/tab-separated-values"),
        ("SELECT", "image/*"),
        ("SELECT", "application/sparql-results+json;q=0"),  # refused by the client itself
        ("ASK", "text/csv;q=0.2, text/tab-separated-values"),  # SPARQL CSV/TSV results hold no boolean
    ],
)
def test_negotiate_refuses_what_the_client_cannot_read(form: str, accept: str) -> None:
    with pytest.raises(NotAcceptable) as info:
        sp.negotiate(form, accept)
    assert info.value.http_status == 406 and form in info.value.message


def test_parse_request_limits_the_decoded_query() -> None:
    text = "SELECT * { ?s ?p \"" + "中" * 20 + "\" }"  # 60 bytes of Chinese, 180 once URL-encoded
    body = urlencode({"query": text}).encode()
    form = "application/x-www-form-urlencoded"
    limit = len(text.encode("utf-8"))
    r = sp.parse_request("POST", form, "", body, max_bytes=limit)
    assert r is not None and r.query == text
    with pytest.raises(QueryError, match=f"{limit} bytes long.*limit is {limit - 1}"):
        sp.parse_request("POST", form, "", body, max_bytes=limit - 1)


@pytest.mark.parametrize("value", ["reference", "urn x", "<https://w3id.org/dcpa/graph/reference>", "http://a b/"])
def test_parse_request_refuses_bad_graph_iris(value: str) -> None:
    for name in ("default-graph-uri", "named-graph-uri"):
        with pytest.raises(QueryError, match=f"{name} .* is not an absolute IRI") as info:
            sp.parse_request("GET", "", urlencode({"query": "ASK {}", name: value}), b"", max_bytes=1000)
        assert info.value.details == {"parameter": name, "value": value}


def test_parse_request_forms() -> None:
    r = sp.parse_request("GET", "", "query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fg", b"", max_bytes=1000)
    assert r is not None and r.query == "ASK{}" and r.default_graphs == ["http://g"]
    r = sp.parse_request("POST", "application/sparql-query; charset=utf-8", "", b"ASK{}", max_bytes=1000)
    assert r is not None and r.query == "ASK{}"
    assert sp.parse_request("GET", "", "", b"", max_bytes=1000) is None
    with pytest.raises(QueryError, match="carries no query"):
        sp.parse_request("POST", "application/x-www-form-urlencoded", "", b"querry=ASK%7B%7D", max_bytes=1000)
    with pytest.raises(QueryError, match="more than one"):
        sp.parse_request("GET", "", "query=ASK%7B%7D&query=ASK%7B%7D", b"", max_bytes=1000)
    with pytest.raises(QueryRefused):
        sp.parse_request("POST", "application/x-www-form-urlencoded", "", b"update=CLEAR+ALL", max_bytes=1000)


def test_every_example_of_the_query_page_passes_the_check() -> None:
    """The catalogue, as the query page offers it, is readable by the checking parser (else /sparql refuses it)."""
    from api.routes.sparql import _examples

    examples = _examples("en")
    assert len(examples) >= 16
    for tab in examples:
        assert sp.analyse(tab["text"]).form == "SELECT", tab["name"]


RACE = """
import sys, threading
from api import sparql as sp
from rdflib.plugins.sparql import parser

queries = [
    "SELECT * { VALUES ?z { 4 } FILTER(?z < 3 || ?z > 5) }",
    "SELECT * { ?a ?b ?c FILTER(?c < 1) FILTER(?c > 2) }",
    "SELECT (COUNT(?x) AS ?n) { ?x ?y ?z } GROUP BY ?x HAVING (COUNT(?x) > 1)",
    "ASK { FILTER(1 <= 2 || 1 != 2) }",
]
start, errors = threading.Barrier(8), []

def first_use(i):
    start.wait()
    try:
        sp.analyse(queries[i % 4] + f" # {i}")
        parser.parseQuery(queries[i % 4])  # as pySHACL parses its SPARQL constraints, in other threads
    except Exception as e:
        errors.append(repr(e))

threads = [threading.Thread(target=first_use, args=(i,)) for i in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
for q in queries:
    try:
        sp.analyse(q)
    except Exception as e:
        errors.append("afterwards: " + repr(e))
print("\\n".join(errors))
sys.exit(1 if errors else 0)
"""


def test_threads_parsing_at_once_leave_the_parser_working() -> None:
    """pyparsing learns how to call each parse action on first use; threads doing that at once broke
    rdflib's parser for the rest of the process (the API parses in threads for in-memory and remote
    stores, pySHACL in the import threads). Checked in a fresh process, where every use is a first."""
    r = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


DERIVED = "https://w3id.org/dcpa/graph/derived"
REFERENCE = "https://w3id.org/dcpa/graph/reference"


@pytest.mark.parametrize(
    "query,graphs,reads",
    [
        ("SELECT * { ?s ?p ?o }", {}, True),  # the union of every graph
        ("SELECT * { GRAPH ?g { ?s ?p ?o } }", {}, True),
        (f"SELECT * FROM <{REFERENCE}> {{ ?s ?p ?o }}", {}, False),
        (f"SELECT * FROM <{DERIVED}> {{ ?s ?p ?o }}", {}, True),
        (f"SELECT * FROM <{REFERENCE}> FROM NAMED <{DERIVED}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}, True),
        ("PREFIX g: <https://w3id.org/dcpa/graph/> SELECT * FROM g:derived { ?s ?p ?o }", {}, True),
        ("BASE <https://w3id.org/dcpa/graph/> ASK FROM <derived> { ?s ?p ?o }", {}, True),
        # relative IRIs as the engine resolves them (RFC 3986) and rdflib does not: any BASE counts as the derived graph
        ("BASE <https://w3id.org/dcpa/graph/> ASK FROM <./x:y/../derived> { ?s ?p ?o }", {}, True),
        ("BASE <https://w3id.org/dcpa/> BASE <graph/> ASK FROM <derived> { ?s ?p ?o }", {}, True),
        ("BASE <https://w3id.org/dcpa/graph/derived#x> ASK FROM <> { ?s ?p ?o }", {}, True),
        ("BASE <https://w3id.org/dcpa/> PREFIX g: <./a:b/../graph/> ASK FROM g:derived { ?s ?p ?o }", {}, True),
        # the derived graph's name in a comment or a string is not its dataset
        (f'SELECT * FROM <{REFERENCE}> {{ ?s ?p "{DERIVED}" }} # FROM <{DERIVED}>', {}, False),
        ("SELECT * { ?s ?p ?o }", {"default_graphs": [REFERENCE]}, False),  # the protocol's dataset wins
        (f"SELECT * FROM <{DERIVED}> {{ ?s ?p ?o }}", {"default_graphs": [REFERENCE]}, False),
        ("SELECT * { ?s ?p ?o }", {"named_graphs": [DERIVED]}, True),
    ],
)
def test_whether_a_query_reads_the_derived_graph_is_its_dataset(query: str, graphs: dict, reads: bool) -> None:
    req = sp.SparqlRequest(query=query, **graphs)
    assert sp.reads_derived(req, sp.analyse(query)) is reads


def test_during_a_write_queries_of_the_derived_graph_say_try_again_and_others_are_answered() -> None:
    """A journal marker in the store (a write refreshing the derived graph, or one cut short): a query whose
    dataset holds the derived graph is refused with ``store_busy`` rather than counting states half refreshed;
    one naming other graphs is answered; once the marker goes, both are."""
    store = load_fixture(Store.memory())
    union = "SELECT (COUNT(?n) AS ?c) { ?n a <https://w3id.org/dcpa/ontology#Need> }"
    named = union.replace("{", "FROM <https://w3id.org/dcpa/graph/synthetic> {", 1)  # where the needs are
    before = {q: json.loads(sp.answer(store, sp.SparqlRequest(query=q), "", 100).body) for q in (union, named)}
    assert before[named]["results"]["bindings"][0]["c"]["value"] == "3"
    marker = Marker("20201231T000000Z-000000", {"210123"})
    store.add_graph(marker.graph, marker.ntriples())
    with pytest.raises(StoreBusy, match="a write is refreshing") as e:
        sp.answer(store, sp.SparqlRequest(query=union), "", 100)
    assert "FROM" in (e.value.hint or "")
    assert e.value.message.startswith("此查询的数据集包含派生图")  # Chinese first, as every message
    assert json.loads(sp.answer(store, sp.SparqlRequest(query=named), "", 100).body) == before[named]
    with pytest.raises(StoreBusy):  # a remote store: refused whatever the dataset (see api.sparql.answer)
        sp.answer(_Remote(store), sp.SparqlRequest(query=named), "", 100)
    store.update(marker.delete())
    assert json.loads(sp.answer(store, sp.SparqlRequest(query=union), "", 100).body) == before[union]
    assert json.loads(sp.answer(_Remote(store), sp.SparqlRequest(query=named), "", 100).body) == before[named]


class _Remote:
    """A store that is not the embedded one (as a remote store is not), over the same data."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_query_s_own_dataset_is_parsed_only_while_a_write_is_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deciding on a query's FROM takes rdflib's parse (35-100 ms): never when no write is under way."""
    parses: list[str] = []
    real = sp._dataset_graphs
    monkeypatch.setattr(sp, "_dataset_graphs", lambda q: parses.append(q) or real(q))
    store = load_fixture(Store.memory())
    query = "SELECT (COUNT(*) AS ?c) FROM <https://w3id.org/dcpa/graph/synthetic> { ?s ?p ?o }"
    for _ in range(3):
        sp.answer(store, sp.SparqlRequest(query=query), "", 100)
    assert parses == []
    marker = Marker("20201231T000000Z-000000", {"210123"})
    store.add_graph(marker.graph, marker.ntriples())
    sp.answer(store, sp.SparqlRequest(query=query), "", 100)
    assert parses == [query]


#: Terms of every kind a JSON answer writes: IRIs, blank nodes, plain, typed and tagged literals, and text that
#: JSON escapes (quotes, backslashes, control characters, line breaks, Chinese, an emoji, U+2028).
AWKWARD = (
    'SELECT ?s ?o ?x WHERE { VALUES (?o ?x) { ("六家子村 \\"引号\\" \\\\ 反斜杠\\n换行\\t" UNDEF) '
    '("x\\u0001\\u2028 😀"@zh-Hans 1) ("2021-01-01"^^<http://www.w3.org/2001/XMLSchema#date> -1.5e3) '
    '(<https://w3id.org/dcpa/id/area/21> true) } BIND(BNODE() AS ?s) }'
)


@pytest.mark.parametrize("name", ["needs_of_village", "unmet_needs_by_area", "coverage_by_category",
                                  "policy_chain", "synthetic_share", "awkward terms", "base directions"])
def test_json_answers_are_oxigraph_s_own_serialisation(name: str) -> None:
    """The SELECT answer written as text (each term's JSON remembered) is, byte for byte, what Oxigraph
    writes for the same solutions; blank nodes aside, whose labels each engine call makes anew."""
    from kg.catalogue import default_values, get_query
    from kg.inline import inline
    from kg.namespaces import sparql_prefixes

    store = load_fixture(Store.memory())
    if name == "awkward terms":
        text = AWKWARD
    elif name == "base directions":  # RDF 1.2: "abc"@en--rtl, also inside a triple term
        text = ('VERSION "1.2" SELECT ?o ?t WHERE { VALUES (?o ?t) { ("abc"@en--rtl <<( <http://e/s> <http://e/p> '
                '"مرحبا"@ar--rtl )>>) ("x"@zh--ltr UNDEF) } }')
    else:
        query = get_query(name)
        values = {**default_values(query), **({"village": "<https://w3id.org/dcpa/id/area/210123203200>"}
                                               if name == "needs_of_village" else {})}
        text = sparql_prefixes() + inline(query.text, values)
    ours = sp.answer(store, sp.SparqlRequest(query=text), sp.JSON_RESULTS, 10_000).body
    theirs = store.query(text).serialize(format=ox.QueryResultsFormat.JSON)
    bnode = re.compile(rb'"type":"bnode","value":"[^"]*"')
    assert bnode.sub(b"B", ours) == bnode.sub(b"B", theirs) and json.loads(ours)["results"]["bindings"]


def test_the_remembered_terms_stay_few_and_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sp, "_TERM_TEXT", {})
    monkeypatch.setattr(sp, "_TERM_TEXT_MAX", 50)
    long_text = "长" * 400
    values = " ".join(f'("{i}")' for i in range(120)) + f' ("{long_text}")'
    body = sp.answer(Store.memory(), sp.SparqlRequest(f"SELECT ?v WHERE {{ VALUES (?v) {{ {values} }} }}"),
                     sp.JSON_RESULTS, 1_000).body
    assert len(json.loads(body)["results"]["bindings"]) == 121 and long_text in body.decode()
    assert 0 < len(sp._TERM_TEXT) <= 50 and all(len(t) <= 300 for t in sp._TERM_TEXT.values())


@pytest.mark.parametrize(("term", "what"), [("<<( <http://e/s> <http://e/p> <http://e/o> )>>", "triple term"),
                                            ('"مرحبا"@ar--rtl', "base direction")])
def test_a_json_ld_answer_refuses_what_json_ld_cannot_hold(term: str, what: str) -> None:
    """RDF 1.2 terms in a CONSTRUCT asked as JSON-LD: a triple term was a 500 (rdflib has no such term), a
    base direction was dropped without a word ("x"@ar--rtl came back as "x"@ar). Now a 400 naming the term and
    the formats that hold it; Turtle still answers."""
    store = load_fixture(Store.memory())
    text = f'VERSION "1.2" CONSTRUCT {{ <http://e/a> <http://e/b> ?t }} WHERE {{ BIND({term} AS ?t) }}'
    with pytest.raises(QueryError, match=what) as info:
        sp.answer(store, sp.SparqlRequest(query=text), sp.JSONLD, 100)
    assert "Turtle" in str(info.value.hint)
    assert sp.answer(store, sp.SparqlRequest(query=text), sp.TURTLE, 100).body


@pytest.mark.parametrize(("method", "ctype", "url", "body"), [
    ("GET", "", "query=ASK%7B%3Fs%3Fp%22%FF%22%7D", b""),
    ("POST", "application/x-www-form-urlencoded", "", b"query=ASK%7B%3Fs%3Fp%22%FF%22%7D"),
    ("GET", "", "query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fg%2F%E4", b""),
])
def test_percent_encoded_bytes_that_are_not_utf_8_are_refused(method: str, ctype: str, url: str, body: bytes) -> None:
    """%FF in a query was read as U+FFFD, so the query that ran was not the one sent (a raw body that is not UTF-8
    was refused all along)."""
    with pytest.raises(QueryError, match="not UTF-8"):
        sp.parse_request(method, ctype, url, body, max_bytes=1000)


def test_the_spreadsheet_download_is_made_in_the_worker() -> None:
    """What the query worker sends is the sheet itself: made by the server, a 60 MB answer held its event loop (and
    so every other request, /health too) for 2 s; in the worker it is work under the query's deadline."""
    query = 'SELECT ?x WHERE { VALUES ?x { "=HYPERLINK(1)" "a" "b" } }'
    sheet = sp.answer(Store.memory(), sp.SparqlRequest(query, format=sp.SPREADSHEET), "", 2)
    rows = sheet.body.decode("utf-8").splitlines()
    assert rows[:3] == ["\ufeffx", "'=HYPERLINK(1)", "a"] and "结果已截断" in rows[3] and sheet.truncated
    plain = sp.answer(Store.memory(), sp.SparqlRequest(query, format="csv"), "", 2)
    assert plain.body.decode("utf-8").splitlines() == ["x", "=HYPERLINK(1)", "a"]
