"""/sparql readable by other sites' pages (api.cross_origin): YASGUI at yasgui.org, a notebook in the browser."""

from __future__ import annotations

import httpx
import pytest

ORIGIN = {"Origin": "https://yasgui.org"}
SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/dcpa/ontology#Village> } LIMIT 2"


@pytest.mark.parametrize("params,status", [({"query": SELECT}, 200), ({"query": "SELECT"}, 400), ({}, 200)])
def test_another_site_s_page_may_read_the_answers_and_errors(sparql_url: str, params: dict[str, str],
                                                             status: int) -> None:
    """A browser kept /sparql's answers from another site's page (no Access-Control-Allow-Origin): YASGUI at
    yasgui.org said "blocked by CORS policy". Every origin may read them now, errors too, and whether it was cut."""
    r = httpx.get(sparql_url, params=params, headers={**ORIGIN, "Accept": "application/sparql-results+json"})
    assert r.status_code == status and r.headers["access-control-allow-origin"] == "*"
    assert "x-dcpa-truncated" in r.headers["access-control-expose-headers"].lower()
    if status == 200:
        assert "accept" in r.headers["vary"].lower()  # what it varies by is kept


def test_the_preflight_of_a_direct_post_is_answered(sparql_url: str) -> None:
    """POST with Content-Type application/sparql-query asks the browser for a preflight, which was a 405."""
    r = httpx.options(sparql_url, headers={**ORIGIN, "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type, accept"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    post = httpx.post(sparql_url, content=SELECT.encode(),
                      headers={**ORIGIN, "Content-Type": "application/sparql-query"})
    assert post.status_code == 200 and post.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/api/villages", "/dashboard", "/"])
def test_the_rest_stays_same_origin(base_url: str, path: str) -> None:
    r = httpx.get(base_url + path, headers=ORIGIN)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = httpx.options(base_url + "/api/needs", headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


@pytest.mark.parametrize(("setting", "origin", "allowed"), [
    ("", "https://yasgui.org", None),
    ("https://yasgui.org, https://notebook.example/", "https://yasgui.org", "https://yasgui.org"),
    ("https://yasgui.org, https://notebook.example/", "https://notebook.example", "https://notebook.example"),
    ("https://yasgui.org", "https://evil.example", None),
])
def test_an_intranet_endpoint_names_the_sites_that_may_read_it(make_client, setting: str, origin: str,  # noqa: ANN001
                                                               allowed: str | None) -> None:
    """Every site's pages could read /sparql, with no way to say otherwise: on an intranet, a page of any site a
    user visited could read through their browser what only the intranet reaches. DCPA_SPARQL_ORIGINS names them."""
    client = make_client(sparql_origins=setting)
    r = client.get("/sparql", params={"query": SELECT}, headers={"Origin": origin})
    assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") == allowed
    pre = client.options("/sparql", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert (pre.headers.get("access-control-allow-origin") == allowed) if allowed else pre.status_code != 200 or \
        "access-control-allow-origin" not in pre.headers
