"""The ontology as served by the API and printed, documented and checked by the CLI."""

from __future__ import annotations

import json
import re

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from api.app import create_app
from kg.cli import app as cli_app
from kg.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(store=Store.memory()))


def test_turtle_route_parses_back_to_the_ontology(client, ontology):
    r = client.get("/ontology.ttl")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert isomorphic(g, ontology)
    assert "数字素养与技能" in r.text


def test_jsonld_route_uses_the_local_context_and_round_trips(client, ontology):
    r = client.get("/ontology.jsonld")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    doc = json.loads(r.text)
    assert doc["@context"]["dcpa"] == "https://w3id.org/dcpa/ontology#"
    assert "数字素养与技能" in r.text  # not \\u-escaped
    g = rdflib.Graph().parse(data=r.text, format="json-ld")
    assert isomorphic(g, ontology)


@pytest.mark.parametrize("path", ["/ontology.html", "/ontology"])
def test_html_routes_show_chinese_labels_without_external_assets(client, path):
    r = client.get(path, headers={"accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "需求类型" in r.text and "致贫原因" in r.text
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="https?://', r.text)


def test_html_route_switches_language(client):
    r = client.get("/ontology.html?lang=en")
    assert '<html lang="en">' in r.text and "Need types" in r.text


@pytest.mark.parametrize(
    "accept, media",
    [("text/turtle", "text/turtle"), ("application/ld+json", "application/ld+json"), ("text/html", "text/html")],
)
def test_content_negotiation(client, accept, media):
    r = client.get("/ontology", headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)


@pytest.mark.parametrize("accept, media", [
    ("application/rdf+xml, application/xml;q=0.5, */*;q=0.1", "application/rdf+xml"),  # the OWL API (Protégé)
    ("text/turtle;q=0, text/html", "text/html"),
    ("text/turtle;q=0.2, application/ld+json", "application/ld+json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),  # a browser
    ("", "text/html"),
])
def test_content_negotiation_reads_the_q_values_and_says_it_varies(client, ontology, accept, media):
    """/ontology searched its Accept header for words: Protégé's request for RDF/XML got the HTML page, and
    "text/turtle;q=0, text/html" Turtle; nor did it say that it varies by Accept, so a cache could hand a program the
    page. The q-values choose now, RDF/XML among the formats, and every answer varies by Accept."""
    r = client.get("/ontology", headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert "Accept" in [v.strip() for v in r.headers["vary"].split(",")]
    if media == "application/rdf+xml":
        assert isomorphic(rdflib.Graph().parse(data=r.content, format="xml"), ontology)


def test_cli_docs_writes_a_page(tmp_path):
    out = tmp_path / "docs" / "ontology.html"
    result = CliRunner().invoke(cli_app, ["ontology", "docs", "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Need types" in page
    # the language switch leads to the other language's file, written beside it (it reloaded the same file)
    twin = out.with_name("ontology.zh.html")
    assert 'class="switch" href="ontology.zh.html"' in page
    assert 'class="switch" href="ontology.html"' in twin.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in twin.read_text(encoding="utf-8")
    named = tmp_path / "o" / "ontology.zh.html"
    assert CliRunner().invoke(cli_app, ["ontology", "docs", "-o", str(named), "--lang", "zh"]).exit_code == 0
    assert 'class="switch" href="ontology.en.html"' in named.read_text(encoding="utf-8")
    assert (tmp_path / "o" / "ontology.en.html").is_file()


def test_cli_docs_rejects_unknown_language(tmp_path):
    result = CliRunner().invoke(cli_app, ["ontology", "docs", "-o", str(tmp_path / "x.html"), "--lang", "fr"])
    assert result.exit_code == 2


def test_cli_check_passes_on_our_ontology():
    result = CliRunner().invoke(cli_app, ["ontology", "check", "--no-reasoner", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_cli_check_fails_on_an_error_finding(monkeypatch):
    from kg import ontology_checks

    broken = ontology_checks.Finding("missing_license", "error", "x", "the ontology has no license")
    monkeypatch.setitem(ontology_checks.CHECKS, "injected", lambda g: [broken])
    result = CliRunner().invoke(cli_app, ["ontology", "check", "--no-reasoner", "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["code"] == "missing_license"
