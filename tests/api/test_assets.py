"""Pages link their scripts by fingerprint, and /static tells browsers how long to keep them (api.assets)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import httpx
import pytest

from api.assets import IMMUTABLE, REVALIDATE
from api.paths import STATIC_DIR
from kg.viz import STATIC_DIR as VIZ_STATIC_DIR
from kg.viz.versions import asset_url, fingerprint

VILLAGE = "210123203200"  # in the fixture
PAGES = ["/dashboard", f"/dashboard/village/{VILLAGE}", f"/views/area/{VILLAGE[:6]}", f"/plan?area={VILLAGE[:6]}",
         "/data", "/sparql", "/docs"]
LINK = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def _links(base_url: str, path: str) -> list[str]:
    r = httpx.get(base_url + path, headers={"Accept": "text/html"}, timeout=60)
    assert r.status_code == 200, (path, r.text[:300])
    return LINK.findall(r.text)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_links_its_assets_by_their_content(base_url: str, path: str) -> None:
    links = _links(base_url, path)
    assert links, f"{path} links no script or style sheet"
    for link in links:
        name, _, query = link.removeprefix("/static/").partition("?")
        file = STATIC_DIR / name if (STATIC_DIR / name).is_file() else VIZ_STATIC_DIR / name
        assert query == "v=" + hashlib.sha256(file.read_bytes()).hexdigest()[:12], link
        got = httpx.get(base_url + link)
        assert got.status_code == 200 and got.headers["cache-control"] == IMMUTABLE, link


def test_a_file_asked_without_or_with_an_old_fingerprint_is_revalidated(base_url: str) -> None:
    url = base_url + "/static/js/graph.js"
    for asked in (url, url + "?v=000000000000"):  # a bookmark, or a page cached before an upgrade
        r = httpx.get(asked)
        assert r.status_code == 200 and r.headers["cache-control"] == REVALIDATE
    again = httpx.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == REVALIDATE


def test_a_changed_file_gets_a_new_url(tmp_path: Path) -> None:
    script = tmp_path / "js" / "x.js"
    script.parent.mkdir()
    script.write_text("let a = 1;", encoding="utf-8")
    first = asset_url("/static", "js/x.js", [tmp_path])
    script.write_text("let a = 2;", encoding="utf-8")  # a release replaces the file, same size
    os.utime(script, ns=(0, script.stat().st_mtime_ns + 1_000_000))
    second = asset_url("/static", "js/x.js", [tmp_path])
    assert first.startswith("/static/js/x.js?v=") and second.startswith("/static/js/x.js?v=") and first != second
    assert second == "/static/js/x.js?v=" + fingerprint(script)


def test_the_service_s_copy_of_a_file_comes_before_the_library_s(tmp_path: Path) -> None:
    """As /static serves them: the service's folder first, so the fingerprint is of the file served."""
    own, lib = tmp_path / "own", tmp_path / "lib"
    for root, text in ((own, "own"), (lib, "library")):
        (root / "js").mkdir(parents=True)
        (root / "js" / "x.js").write_text(text, encoding="utf-8")
    assert asset_url("/static", "js/x.js", [own, lib]) == "/static/js/x.js?v=" + fingerprint(own / "js" / "x.js")
    assert asset_url("/static", "js/missing.js", [own, lib]) == "/static/js/missing.js"  # still a link
