"""The dataset of a /sparql query: the protocol's (default-graph-uri, named-graph-uri) over the
query's own (FROM, FROM NAMED) over the union of all graphs; bad graph IRIs are 400, and the size
limit counts the decoded query."""

from __future__ import annotations

import httpx
import pytest

REFERENCE = "https://w3id.org/dcpa/graph/reference"
SYNTHETIC = "https://w3id.org/dcpa/graph/synthetic"
NEEDS = "SELECT (COUNT(?n) AS ?c) {} WHERE {{ ?n a dcpa:Need }}"
GRAPHS = "SELECT DISTINCT ?g {} WHERE {{ GRAPH ?g {{ ?n a dcpa:Need }} }}"


def one(url: str, query: str, **params: str) -> list[str]:
    """The first column of every row."""
    r = httpx.get(url, params={"query": query, **params})
    assert r.status_code == 200, r.text
    data = r.json()
    var = data["head"]["vars"][0]
    return [b[var]["value"] for b in data["results"]["bindings"] if var in b]


@pytest.mark.parametrize(
    "dataset,needs",
    [
        ("", "3"),  # no dataset: the union of every graph
        (f"FROM <{REFERENCE}>", "0"),  # was 3 while the union replaced FROM
        (f"FROM <{SYNTHETIC}>", "3"),
        (f"FROM <{REFERENCE}> FROM <{SYNTHETIC}>", "3"),
        (f"FROM NAMED <{SYNTHETIC}>", "0"),  # named graphs only: the default graph is empty
    ],
)
def test_the_query_dataset_is_honoured(sparql_url: str, dataset: str, needs: str) -> None:
    assert one(sparql_url, NEEDS.format(dataset)) == [needs]


def test_from_named_limits_the_named_graphs(sparql_url: str) -> None:
    assert one(sparql_url, GRAPHS.format("")) == [SYNTHETIC]
    assert one(sparql_url, GRAPHS.format(f"FROM NAMED <{REFERENCE}>")) == []
    assert one(sparql_url, GRAPHS.format(f"FROM NAMED <{SYNTHETIC}>")) == [SYNTHETIC]


def test_the_protocol_dataset_replaces_the_query_dataset(sparql_url: str) -> None:
    assert one(sparql_url, NEEDS.format(f"FROM <{REFERENCE}>"), **{"default-graph-uri": SYNTHETIC}) == ["3"]
    assert one(sparql_url, NEEDS.format(f"FROM <{SYNTHETIC}>"), **{"default-graph-uri": REFERENCE}) == ["0"]
    # named-graph-uri alone: the protocol's dataset has no default graph, whatever FROM says
    assert one(sparql_url, NEEDS.format(f"FROM <{SYNTHETIC}>"), **{"named-graph-uri": SYNTHETIC}) == ["0"]
    assert one(sparql_url, GRAPHS.format(f"FROM NAMED <{SYNTHETIC}>"), **{"named-graph-uri": REFERENCE}) == []
    form = httpx.post(sparql_url, data={"query": NEEDS.format(""), "default-graph-uri": REFERENCE})
    assert form.json()["results"]["bindings"][0]["c"]["value"] == "0"


@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("value", ["reference", "graph/reference", "http://a b/", "<https://w3id.org/dcpa/graph/reference>"])
def test_a_bad_graph_iri_is_400_saying_which(sparql_url: str, name: str, value: str) -> None:
    for r in (
        httpx.get(sparql_url, params={"query": NEEDS.format(""), name: value}),
        httpx.post(sparql_url, data={"query": NEEDS.format(""), name: value}),
    ):
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["code"] == "query_error"
        assert name in err["message"] and "absolute IRI" in err["message"]
        assert err["details"] == {"parameter": name, "value": value}
        assert "https://w3id.org/dcpa/graph/" in err["hint"]


def test_the_size_limit_counts_the_decoded_query(sparql_url: str) -> None:
    """A 34 KB Chinese query (~100 KB once URL-encoded) is under the 100,000-byte limit."""
    text = "中文查询" * 2_900
    query = f'SELECT ?x WHERE {{ BIND("{text}" AS ?x) }}'
    assert 34_000 < len(query.encode("utf-8")) < 35_000
    r = httpx.post(sparql_url, data={"query": query})
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["x"]["value"] == text
    direct = httpx.post(sparql_url, content=query.encode(), headers={"Content-Type": "application/sparql-query"})
    assert direct.status_code == 200
    too_long = f'SELECT ?x WHERE {{ BIND("{"中" * 33_330}" AS ?x) }}'  # just over 100,000 bytes decoded
    r = httpx.post(sparql_url, data={"query": too_long})
    assert r.status_code == 400
    assert "100024 bytes long (UTF-8); the limit is 100000" in r.json()["error"]["message"]


def test_the_server_remembers_each_parse_for_every_worker(sparql_url: str) -> None:
    """A worker's parse comes back with its answer; the next request with the same text carries it,
    so no other worker parses that text again."""
    from api import sparql as sp

    text = NEEDS.format(f"FROM <{SYNTHETIC}>") + " # remembered by the server"
    assert sp.known(text) is None
    assert one(sparql_url, text) == ["3"]
    assert sp.known(text) == sp.Analysis("SELECT", True)
    assert one(sparql_url, text) == ["3"]  # answered from the remembered parse
    refused = "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } # remembered?"
    assert httpx.get(sparql_url, params={"query": refused}).status_code == 403
    assert sp.known(refused) is None  # only what passed the check is remembered
