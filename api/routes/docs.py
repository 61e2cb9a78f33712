"""``/docs``: the OpenAPI documentation page, served with swagger-ui from ``/static`` (no CDN).

Its script is a static file (``static/js/docs-page.js``): the Content-Security-Policy allows no inline script.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["docs"])

_PAGE = """<!doctype html>
<html lang="zh">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <title>API 文档 · DCPA</title>
  <link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/js/docs-page.js"></script>
</body>
</html>
"""


@router.get("/docs", summary="API documentation / API 文档", response_class=HTMLResponse, include_in_schema=False)
def docs_page() -> HTMLResponse:
    return HTMLResponse(_PAGE)
