"""``/static`` with cache headers that suit slow links and still never serve a stale script.

A URL carrying its file's current fingerprint (``?v=…``, as every page links its assets: ``kg.viz.versions``)
is kept by the browser for a year and never asked again (``immutable``); a new release links another URL.
Any other request for a file (no fingerprint, or an old page's) is revalidated each time (``no-cache``:
a 304 without a body while the file is unchanged), where no ``Cache-Control`` at all let browsers guess how
long to keep it, and run an old script against a new page after an upgrade.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from kg.viz.versions import fingerprint

#: What a fingerprinted URL may be kept for (a year: RFC 9111 caches treat it as "for good").
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Assets(StaticFiles):
    """Starlette's ``StaticFiles`` with ``Cache-Control`` set by the URL's fingerprint (see the module)."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [None])[-1]
        current = asked and fingerprint(Path(full_path))
        response.headers["Cache-Control"] = IMMUTABLE if current and asked == current else REVALIDATE
        return response
