"""``/sparql`` readable by other sites' pages (CORS), as public SPARQL endpoints are.

Why: a researcher's browser tools query an endpoint from their own origin: YASGUI at yasgui.org, a notebook in the
browser (JupyterLite, Observable), another project's SPARQL editor. Without ``Access-Control-Allow-Origin`` the
browser keeps the answer from them ("blocked by CORS policy"), and the preflight of a POST with
``application/sparql-query`` was a 405. Fuseki and rdflib-endpoint answer every origin; so does this, for
``/sparql`` alone: it is read-only and anonymous (no cookie, no token: ``*`` lets a browser send none), so another
site's page can read no more than ``curl`` can, where ``curl`` reaches the server. On an intranet it does not: a
page of any site a user visits could read through the user's browser what only the intranet reaches, so
``DCPA_SPARQL_ORIGINS`` names the sites allowed (``*`` by default), or none. The write API and the pages stay
same-origin.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .result_cache import CACHE_HEADER
from .sparql import TRUNCATED_HEADER

#: The paths other sites' pages may read.
OPEN_PATHS = frozenset({"/sparql"})


def origins(setting: str) -> list[str]:
    """The origins ``DCPA_SPARQL_ORIGINS`` names: ``["*"]``, a list, or none."""
    return [o.strip().rstrip("/") for o in setting.split(",") if o.strip()]


class OpenSparql:
    """CORS (the ``allowed`` origins, no credentials) on ``OPEN_PATHS``; every other path as it is."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=allowed, allow_methods=["GET", "HEAD", "POST"], allow_headers=["*"],
            # what a script may read of the answer beyond the simple headers: whether it was cut, and when to retry
            expose_headers=[TRUNCATED_HEADER, CACHE_HEADER, "Retry-After", "Content-Disposition"], max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in OPEN_PATHS:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
