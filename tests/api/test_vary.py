"""What an answer varies by, and who gets an error as a page: a cache between the server and a county library's
users (a proxy) keeps an answer by the URL and the headers ``Vary`` names."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Client = Callable[..., TestClient]
GAPS = ("/api/gaps", {"area": "210123"})


def _vary(r: object) -> set[str]:
    return {v.strip().lower() for v in r.headers.get("vary", "").split(",") if v.strip()}  # type: ignore[attr-defined]


def test_an_answer_chosen_by_accept_says_it_varies_by_accept(make_client: Client) -> None:
    """/api/gaps sent CSV to one client and JSON to another by their Accept headers, with only
    ``Vary: Accept-Encoding``: a cache could hand the first client's CSV to the second."""
    client = make_client()
    path, params = GAPS
    as_csv = client.get(path, params=params, headers={"Accept": "text/csv", "Accept-Encoding": "gzip"})
    as_json = client.get(path, params=params, headers={"Accept": "application/json", "Accept-Encoding": "gzip"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_json.headers["content-type"].startswith("application/json")
    for r in (as_csv, as_json):
        assert "accept" in _vary(r), r.headers
        if r.headers.get("content-encoding") == "gzip":
            assert "accept-encoding" in _vary(r)  # what the compression says is kept
    named = client.get(path, params={**params, "format": "csv"}, headers={"Accept": "application/json"})
    assert named.headers["content-type"].startswith("text/csv") and "accept" not in _vary(named)
    other = client.get(path, params={**params, "xformat": "csv"}, headers={"Accept": "text/csv"})
    assert other.headers["content-type"].startswith("text/csv") and "accept" in _vary(other)  # not format=


def test_a_browser_refusing_html_gets_the_error_as_json(make_client: Client) -> None:
    """``text/html;q=0`` was read as asking for a page: the word was looked for, not its q-value."""
    client = make_client()
    refused = client.get("/dashboard/nosuch", headers={"Accept": "text/html;q=0, application/json"})
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/json")
    page = client.get("/dashboard/nosuch", headers={"Accept": "text/html,application/xhtml+xml;q=0.9"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
