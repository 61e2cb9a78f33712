"""``/docs``: the OpenAPI documentation page, served with swagger-ui from ``/static`` (no CDN).

Its script is a static file (``static/js/docs-page.js``): the Content-Security-Policy allows no inline script.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from ..paths import pages

router = APIRouter(tags=["docs"])


@router.get("/docs", summary="API documentation / API 文档", response_class=HTMLResponse, include_in_schema=False)
def docs_page() -> HTMLResponse:
    return HTMLResponse(pages().get_template("docs.html").render())
