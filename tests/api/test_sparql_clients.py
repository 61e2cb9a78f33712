"""/sparql as rdflib's SPARQLStore and SPARQLWrapper use it: the requests those libraries build (their parameters,
``format``/``output``/``results``, their Accept headers, GET, form POST and direct POST), sent over the ASGI test
client in place of the network (their ``urlopen`` is swapped for one that hands the request to the app)."""

from __future__ import annotations

import email.message
import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic
from rdflib.plugins.stores import sparqlconnector
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, URLENCODED, XML, Wrapper
from SPARQLWrapper import SPARQLWrapper as Client

from api.app import create_app
from kg.store import Store

from .conftest import make_settings

ENDPOINT = "http://testserver/sparql"
SELECT = """PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
SELECT ?code WHERE { ?v a dcpa:Village ; dcpa:areaCode ?code } ORDER BY ?code"""
CODES = ["210123203200", "210123203201", "210123203202"]
ASK = "ASK { ?n <https://w3id.org/dcpa/ontology#needOf> ?v }"
CONSTRUCT = """PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
CONSTRUCT { ?n dcpa:needOf ?v ; dcpa:severity ?s } WHERE { ?n dcpa:needOf ?v ; dcpa:severity ?s }"""


class _Response(io.BytesIO):
    """What ``urlopen`` returns, as far as the two libraries read it."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__(body)
        self.status = self.code = status
        self.headers = email.message.Message()
        for k, v in headers.items():
            self.headers[k] = v

    def info(self) -> email.message.Message:
        return self.headers

    def getcode(self) -> int:
        return self.status


@pytest.fixture(scope="module")
def client(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("clients")), store)) as c:
        yield c


@pytest.fixture()
def over_asgi(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Both libraries' ``urlopen`` sending to the app; the requests sent (method, URL, headers, body) are listed."""
    sent: list[Any] = []

    def urlopen(request: urllib.request.Request | str, data: bytes | None = None, timeout: float | None = None) -> Any:
        if isinstance(request, str):
            request = urllib.request.Request(request, data=data)
        handler = next(h for h in urllib.request.build_opener().handlers if isinstance(h, urllib.request.HTTPHandler))
        request = handler.do_request_(request)  # what urllib adds on the way: a body's Content-Type
        headers = dict(request.header_items())
        body = request.data if isinstance(request.data, bytes) else None
        method = request.get_method()
        sent.append((method, request.full_url, headers, body))
        r = client.request(method, request.full_url, headers=headers, content=body)
        answer = _Response(r.status_code, r.content, dict(r.headers))
        if r.status_code >= 400:
            raise urllib.error.HTTPError(request.full_url, r.status_code, r.reason_phrase, answer.headers, answer)
        return answer

    monkeypatch.setattr(Wrapper, "urlopener", urlopen)
    monkeypatch.setattr(sparqlconnector, "urlopen", urlopen)
    yield sent


def _wrapper(query: str, fmt: str, method: str = "GET", request_method: str = URLENCODED) -> Any:
    w = Client(ENDPOINT)
    w.setQuery(query)
    w.setReturnFormat(fmt)
    w.setMethod(method)
    w.setRequestMethod(request_method)
    return w.query()


@pytest.mark.parametrize("method,request_method", [("GET", URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_in_each_results_format(over_asgi: list[Any], fmt: str, method: str,
                                                     request_method: str) -> None:
    res = _wrapper(SELECT, fmt, method, request_method)
    data = res.convert()
    if fmt == JSON:
        assert [b["code"]["value"] for b in data["results"]["bindings"]] == CODES
    elif fmt == XML:
        assert [n.firstChild.data for n in data.getElementsByTagName("literal")] == CODES
    else:
        lines = data.decode() if isinstance(data, bytes) else data
        assert [line.strip('"') for line in lines.splitlines()[1:]] == CODES
    assert res.response.headers["Content-Type"].split(";")[0] == {
        JSON: "application/sparql-results+json", XML: "application/sparql-results+xml", CSV: "text/csv",
        TSV: "text/tab-separated-values"}[fmt]


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_sparqlwrapper_ask(over_asgi: list[Any], fmt: str) -> None:
    data = _wrapper(ASK, fmt).convert()
    assert (data["boolean"] if fmt == JSON else data.getElementsByTagName("boolean")[0].firstChild.data) in (True,
                                                                                                             "true")


@pytest.mark.parametrize("method,request_method", [("GET", URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)])
@pytest.mark.parametrize("fmt", [TURTLE, N3, XML, RDFXML, JSONLD, JSON])
def test_sparqlwrapper_construct_in_each_rdf_format(over_asgi: list[Any], store: Store, fmt: str, method: str,
                                                    request_method: str) -> None:
    res = _wrapper(CONSTRUCT, fmt, method, request_method)
    data = res.convert()
    if isinstance(data, bytes):  # Turtle and N3 are handed over unparsed
        data = rdflib.Graph().parse(data=data, format="turtle")
    elif isinstance(data, dict):  # JSON: the graph as JSON-LD, read by its Content-Type
        assert res.response.headers["Content-Type"].startswith("application/ld+json")
        data = rdflib.Graph().parse(data=json.dumps(data), format="json-ld")
    assert isomorphic(data, store.construct(CONSTRUCT))


@pytest.mark.parametrize("return_format", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_select_and_ask(over_asgi: list[Any], return_format: str, method: str) -> None:
    graph = rdflib.Graph(SPARQLStore(ENDPOINT, returnFormat=return_format, method=method))
    assert [str(row[0]) for row in graph.query(SELECT)] == CODES
    if return_format in ("json", "xml"):
        assert graph.query(ASK).askAnswer is True


@pytest.mark.parametrize("return_format", ["json", "xml", "turtle", "application/rdf+xml"])
@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_construct(over_asgi: list[Any], store: Store, return_format: str, method: str) -> None:
    graph = rdflib.Graph(SPARQLStore(ENDPOINT, returnFormat=return_format, method=method))
    got = rdflib.Graph()
    got += graph.query(CONSTRUCT)  # type: ignore[operator]
    assert isomorphic(got, store.construct(CONSTRUCT))


def test_rdflib_sparqlstore_a_named_graph_is_the_default_graph_uri(over_asgi: list[Any]) -> None:
    """A SPARQLStore graph named by an IRI sends it as ``default-graph-uri``: the query reads that graph only."""
    store = SPARQLStore(ENDPOINT, returnFormat="json")
    synthetic = rdflib.Graph(store, identifier=rdflib.URIRef("https://w3id.org/dcpa/graph/synthetic"))
    reference = rdflib.Graph(store, identifier=rdflib.URIRef("https://w3id.org/dcpa/graph/reference"))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?n a <https://w3id.org/dcpa/ontology#Need> }"
    assert [int(r[0]) for r in synthetic.query(count)] == [3]
    assert [int(r[0]) for r in reference.query(count)] == [0]
    assert "default-graph-uri=https" in over_asgi[-1][1]


@pytest.mark.parametrize("query,form", [(ASK, "ASK"), (CONSTRUCT, "CONSTRUCT")])
def test_sparqlwrapper_set_to_csv_for_a_form_without_csv_is_told_406(over_asgi: list[Any], query: str,
                                                                       form: str) -> None:
    """SPARQLWrapper asks ``format=csv&output=csv&results=csv`` with Accept text/csv (an ASK) or */* (a CONSTRUCT):
    a 406 that names the form, not a 200 in a format it did not ask for."""
    with pytest.raises(urllib.error.HTTPError) as info:
        _wrapper(query, CSV)
    assert info.value.code == 406
    assert json.loads(info.value.read())["error"]["details"]["form"] == form
    assert "format=csv" in over_asgi[-1][1] and "output=csv" in over_asgi[-1][1]
