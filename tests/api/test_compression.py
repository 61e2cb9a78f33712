"""Responses gzip-compressed for clients that accept it (api.compression), over the live server."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
VIS = "/static/vendor/vis-network/vis-network.min.js"


def _raw(url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its bytes as they came over the wire (httpx decodes gzip in ``content``)."""
    with httpx.stream("GET", url, headers=headers, timeout=30) as r:
        return r, b"".join(r.iter_raw())


@pytest.mark.parametrize("path", [VIS, "/sparql", "/dashboard", "/api/villages?q=%E6%9D%91"])
def test_large_answers_travel_compressed_and_decode_to_the_same_bytes(base_url: str, path: str) -> None:
    accept = {"Accept": "text/html"} if path in ("/sparql", "/dashboard") else {}
    plain, plain_bytes = _raw(base_url + path, {**IDENTITY, **accept})
    packed, packed_bytes = _raw(base_url + path, {**GZIP, **accept})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert gzip.decompress(packed_bytes) == plain_bytes
    assert len(packed_bytes) < len(plain_bytes) / 2  # pages, scripts and JSON shrink 3-12 times


def test_a_compressed_file_keeps_its_revalidation(base_url: str) -> None:
    """A browser's cached copy of a compressed script is revalidated with its (weak) ETag: 304, no body."""
    first, _ = _raw(base_url + VIS, GZIP)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')  # other bytes than the file's: not a strong validator (RFC 9110 8.8.1)
    again = httpx.get(base_url + VIS, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    plain, _ = _raw(base_url + VIS, IDENTITY)
    assert not plain.headers["etag"].startswith("W/")  # the file's own bytes keep the strong one


def test_head_says_what_get_sends(base_url: str) -> None:
    head = httpx.head(base_url + "/sparql", headers={**GZIP, "Accept": "text/html"})
    get, body = _raw(base_url + "/sparql", {**GZIP, "Accept": "text/html"})
    assert head.headers["content-encoding"] == get.headers["content-encoding"] == "gzip"
    assert head.headers.get("content-length") == get.headers.get("content-length")
    assert not head.content


def test_short_answers_and_xlsx_go_as_they_are(base_url: str) -> None:
    health, _ = _raw(base_url + "/health", GZIP)
    assert health.status_code == 200 and "content-encoding" not in health.headers  # a few bytes: nothing to gain
    xlsx, body = _raw(base_url + "/data/dcpa-template.xlsx", GZIP)
    assert xlsx.status_code == 200 and body[:2] == b"PK"  # a zip file already: sent as it is
    assert "content-encoding" not in xlsx.headers


def test_level_zero_sends_everything_as_it_is(make_client: Callable[..., TestClient]) -> None:
    client = make_client(compress_level=0)
    r = client.get("/sparql", headers={**GZIP, "Accept": "text/html"})
    assert r.status_code == 200 and "content-encoding" not in r.headers


def test_a_revalidated_compressed_file_keeps_its_tag(make_client: Callable[..., TestClient]) -> None:
    """A browser's (or a county library proxy's) compressed copy, revalidated, was answered 304 with the strong tag
    of the file's own bytes, another tag than the copy held (RFC 9110 15.4.5: a 304 carries the tag a 200 would);
    a cache matching by tag would refresh the uncompressed copy, or none. The 304 now says the tag of the copy, and
    that it varies by Accept-Encoding."""
    client = make_client()
    first = client.get(VIS, headers=GZIP)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["content-encoding"] == "gzip"
    again = client.get(VIS, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert "accept-encoding" in again.headers.get("vary", "").lower()
    plain = client.get(VIS, headers={**IDENTITY, "If-None-Match": etag.removeprefix("W/")})
    assert plain.status_code == 304 and plain.headers["etag"] == etag.removeprefix("W/")  # the file's own bytes


@pytest.mark.parametrize("accept_encoding,compressed", [
    ("gzip;q=0", False), ("gzip;q=0, identity", False), ("br, gzip;q=0", False), ("*;q=0", False),
    ("*, gzip;q=0", False), ("identity", False), ("", False), ("deflate", False),
    ("gzip", True), ("GZIP;Q=0.5", True), ("*", True), ("*;q=0, gzip;q=0.1", True), ("identity;q=0, x-gzip", True),
    # read by the one reader of q-values (api.qvalues), as /sparql reads Accept: spaces around ";" and "="
    ("gzip ; q = 0", False), ("gzip;q= 0, *;q =0", False), ("gzip ;q = 0.5", True), ("gzip;q=high", False),
    # a stated preference for the plain bytes (identity above gzip) is followed; a tie or less takes gzip
    ("identity;q=1, gzip;q=0.5", False), ("gzip;q=0.5, identity", False), ("identity;q=0.5, gzip", True),
    ("gzip, identity", True),
])
def test_a_client_refusing_gzip_gets_the_bytes_as_they_are(make_client: Callable[..., TestClient],
                                                             accept_encoding: str, compressed: bool) -> None:
    """A client saying gzip;q=0 (or *;q=0) got gzip all the same, which it had said it cannot read: Starlette
    looked for the word. The q-values now decide (RFC 9110 12.5.3); refusing every coding gets the plain bytes."""
    client = make_client()
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 100"},
                   headers={"Accept-Encoding": accept_encoding})
    assert r.status_code == 200 and len(r.content) > 4096
    assert r.headers.get("content-encoding") == ("gzip" if compressed else None)
    assert "accept-encoding" in r.headers["vary"].lower()  # either way: what a cache keys it by
