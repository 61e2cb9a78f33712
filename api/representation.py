"""How the JSON API writes its answers: JSON (default), CSV for tables, JSON-LD for records.

One place decides the format from ``?format=`` and the Accept header, pages lists with
``limit``/``offset`` and a total, and turns nested values into CSV cells, so that every
route formats the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

import rdflib
from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.errors import InvalidParameter
from kg.safetext import DownloadName, spreadsheet_file

from .compression import vary_with
from .qvalues import preferred
from .sparql import jsonld_context

CSV_TYPE = "text/csv; charset=utf-8"
JSONLD_TYPE = "application/ld+json"

FormatParam = Annotated[
    str | None,
    Query(
        pattern="^(json|csv|jsonld)$",
        description="Answer format: `json` (default), `csv` (tables) or `jsonld` (records); "
        "also chosen by the Accept header.",
    ),
]
LimitParam = Annotated[int, Query(ge=1, le=1000, description="Most items in one page.")]
OffsetParam = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip (paging).")]


#: The media types of the formats an answer may have (the JSON of every answer also by its wildcards).
_FORMATS = {"application/json": "json", "text/csv": "csv", "application/ld+json": "jsonld"}
#: What most answers can be: JSON, and their table as CSV (records add JSON-LD, a village JSON-LD and no table).
TABLE = ("json", "csv")


def wanted(request: Request, fmt: str | None, offers: Sequence[str] = TABLE) -> str:
    """``json``, ``csv`` or ``jsonld``, among those the answer ``offers``: the query parameter wins over the
    Accept header. A format asked by name that the answer has not is refused (it was answered in JSON, 200, as if
    it were the format asked); one the Accept header prefers falls back to JSON, as HTTP lets it."""
    if fmt:
        if fmt not in offers:
            raise InvalidParameter(
                f"这个回答没有 format={fmt} 的格式 / this answer has no format={fmt}",
                hint=f"可用的格式：{', '.join(offers)} / its formats: {', '.join(offers)}",
            )
        return fmt
    # by the q-values (api.qvalues), the best the answer has deciding: only the header's first type was read, so
    # "text/csv;q=0.1, application/json" got CSV and "application/json;q=0.5, text/csv" JSON
    for media_type in preferred(request.headers.get("accept", "")):
        name = _FORMATS.get(media_type)
        if name is not None and name in offers:
            return name
        if media_type in ("*/*", "application/*"):
            break
    return "json"


class VaryByAccept:
    """``Vary: Accept`` on the answers under ``/api/`` that the Accept header chose the format of (``wanted``: no
    ``format=`` in the URL): without it a cache between (a county library's proxy) could hand the CSV one client
    asked for to another that asked for JSON. Added to what the answer varies by already (``Accept-Encoding``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not scope["path"].startswith("/api/")
                or "format" in parse_qs(scope.get("query_string", b"").decode("latin-1"))):
            await self.app(scope, receive, send)
            return

        async def varied(message: Message) -> None:
            if message["type"] == "http.response.start":
                said = message.get("headers", [])
                message = {**message, "headers": [*((k, v) for k, v in said if k.lower() != b"vary"),
                                                   (b"vary", vary_with(said, b"Accept"))]}
            await send(message)

        await self.app(scope, receive, varied)


class Page(BaseModel):
    """A page of a list: the items and how many there are in all."""

    total: int = Field(description="How many items match, over all pages.", examples=[42])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])


class SearchPage(Page):
    """A page of search hits."""

    read_as: str | None = Field(
        default=None, examples=[None],
        description="The query in simplified characters, searched when the query as typed (traditional "
                    "characters: 瀋陽) found nothing")


def json_response(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """JSON with Chinese left as is (UTF-8, not ``\\uXXXX``)."""
    return _Utf8JSON(data, status_code=status_code, headers=headers)


class _Utf8JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=str, separators=(",", ":")).encode("utf-8")


def cell(value: Any) -> Any:
    """A CSV cell: lists joined with ``; ``, mappings by their label or id, None empty, numbers kept."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value  # a number: the CSV writer leaves it a number (no formula escaping)
    if isinstance(value, dict):
        for k in ("label_zh", "label", "name", "zh", "code", "id", "iri"):
            if k in value:
                return cell(value[k])
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "; ".join(str(cell(v)) for v in value)
    return str(value)


def attachment(name: DownloadName) -> dict[str, str]:
    """The header that makes a download a file called ``name`` (``kg.safetext.download_name``): the name with its
    Chinese as RFC 6266's ``filename*=UTF-8''…`` (RFC 5987), which browsers use, and its ASCII name as ``filename=``
    for a client that reads only that. Every download route names its file here."""
    return {"Content-Disposition": f'attachment; filename="{name.ascii}"; '
                                   f"filename*=UTF-8''{quote(name.name, safe='')}"}


def csv_response(
    rows: Iterable[dict[str, Any]], columns: Sequence[str] | None = None, *, name: DownloadName
) -> Response:
    """A CSV table (UTF-8 with BOM so spreadsheet programs read the Chinese right) downloaded as ``name``.

    Written by ``kg.safetext.spreadsheet_file``, which neutralises formula injection in text cells.
    """
    rows = list(rows)
    cols = list(columns) if columns else _columns(rows)
    return Response(
        spreadsheet_file(cols, ([cell(r.get(c)) for c in cols] for r in rows)),
        media_type=CSV_TYPE,
        headers=attachment(name),
    )


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def jsonld_response(graph: rdflib.Graph) -> Response:
    text = graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    return Response(text.encode("utf-8"), media_type=JSONLD_TYPE)


def table_rows(data: Any) -> list[dict[str, Any]] | None:
    """The table inside a report dict (its first list of dicts), for CSV answers."""
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return data
    if isinstance(data, dict):
        for key in ("rows", "items", "groups", "recommendations", "assignments", "villages", "gaps"):
            v = data.get(key)
            if isinstance(v, list) and all(isinstance(r, dict) for r in v):
                return v
        for v in data.values():
            if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
                return v
    return None


def report_response(request: Request, data: Any, fmt: str | None, *, name: DownloadName) -> Response:
    """A report from the library as JSON, or its table as CSV."""
    if wanted(request, fmt) == "csv":
        rows = table_rows(data)
        if rows is not None:
            return csv_response(rows, name=name)
    return json_response(data)
