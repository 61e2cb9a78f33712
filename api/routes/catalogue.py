"""``/api/queries``: the stored query catalogue (``queries/*.rq``), listed and run with parameters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kg.catalogue import CatalogueQuery, answer, check_params, load_catalogue, params_of
from kg.errors import NotFound, QueryTimeout
from kg.safetext import download_name

from .. import urls
from ..deps import AnswersDep, SettingsDep
from ..representation import FormatParam, LimitParam, OffsetParam, Page, csv_response, json_response, wanted
from ..sparql import TRUNCATED_HEADER
from ._common import ERROR_RESPONSES, RealOnlyParam

router = APIRouter(prefix="/api/queries", tags=["query catalogue / 查询目录"])

_RESERVED = {"limit", "offset", "format", "real_only"}


#: The query the schemas' examples show (/docs): one of the catalogue, as a reader who tries it finds it.
_EXAMPLE = "needs_by_type"


class ParamInfo(BaseModel):
    name: str = Field(examples=["area"])
    type: str = Field(examples=["area"], description="one of kg.catalogue.PARAM_TYPES")
    default: Any = Field(default=None, examples=["21"])
    description: str | None = None
    levels: list[int] = Field(default=[], examples=[[2, 4, 6, 9]], description="for an area parameter: the lengths "
                              "of the codes it takes (12: a village-level unit), when not every level; others are "
                              "refused")


class QueryInfo(BaseModel):
    name: str = Field(examples=[_EXAMPLE])
    title_zh: str | None = Field(default=None, examples=["区域内各类需求"])
    title_en: str | None = Field(default=None, examples=["Needs of the villages in an area, by type"])
    description: str | None = None
    question: str | None = None
    parameters: list[ParamInfo] = []
    href: str = Field(examples=[f"/api/queries/{_EXAMPLE}"])
    text: str | None = Field(default=None, description="The SPARQL text")
    cost: str = Field(default="", description="What the query costs, measured, when it scans a whole area")
    faster: str | None = Field(default=None, description="A query answering the same counts from materialised data")


class QueryList(BaseModel):
    total: int
    items: list[QueryInfo]


class QueryAnswer(Page):
    name: str
    truncated: bool = Field(description="True when the query had more rows than DCPA_MAX_ROWS")
    columns: list[str]
    rows: list[dict[str, Any]]
    example: list[bool] = Field(description="For each row of the page: whether it rests on example data")
    basis: dict[str, Any] = Field(description="How much of the whole answer rests on example data")
    derived_as_of: str | None = Field(default=None, description="The derived graph's date, for queries that read it")
    notes: list[str] = Field(default_factory=list, description="What to know of the derived graph read: made with "
                             "other validity windows than the server's DCPA_VALIDITY_MONTHS")


def _info(q: CatalogueQuery, *, text: bool = False) -> dict[str, Any]:
    return {
        "name": q.name,
        "title_zh": q.title_zh,
        "title_en": q.title_en,
        "description": q.description,
        "question": q.question,
        "parameters": [
            {"name": p.name, "type": p.type, "default": p.default, "description": p.description,
             "levels": list(p.levels)} for p in q.parameters
        ],
        "href": urls.query(q.name),
        "text": q.text if text else None,
        "cost": q.cost,
        "faster": q.faster,
    }


@router.get("", summary="List stored queries / 查询目录", response_model=QueryList)
def list_queries() -> Response:
    items = [_info(q) for q in load_catalogue().values()]
    return json_response({"total": len(items), "items": items})


@router.get(
    "/{name}",
    summary="Run a stored query / 运行目录查询",
    description="Runs the query with its parameters given as query parameters (`?area=2101`); "
    "unknown parameters are refused. The answer is a table: JSON rows (a page of `limit`, with the total) "
    "or CSV (the whole answer, unless `limit` or `offset` asks for a page).",
    response_model=QueryAnswer,
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def run_stored_query(
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    name: str,
    limit: LimitParam = 100,
    offset: OffsetParam = 0,
    real_only: RealOnlyParam = False,
    format: FormatParam = None,
) -> Response:
    catalogue = load_catalogue()
    if name not in catalogue:
        raise NotFound(f"查询目录中没有名为 {name!r} 的查询 / no stored query named {name!r}",
                       hint="/api/queries 列出全部查询 / list them with /api/queries")
    q = catalogue[name]
    params = params_of((k, v) for k, v in request.query_params.multi_items() if k not in _RESERVED)
    check_params(q, params)
    try:
        result = await answers(answer, name, params, limit=settings.max_rows, real_only=real_only, settings=settings)
    except QueryTimeout as e:
        if q.faster:  # a query that reads a whole area says which one answers its counts from the derived graph
            zh, _, en = (e.hint or "").partition(" / ")
            e.hint = (f"{q.faster} 从派生图中几毫秒就能给出同样的计数：/api/queries/{q.faster}；或者{zh} / "
                      f"{q.faster} answers the same counts from the derived graph in milliseconds: "
                      f"/api/queries/{q.faster}; or {en or zh}")
        raise
    csv = wanted(request, format) == "csv"
    if csv and not {"limit", "offset"} & set(request.query_params):
        # a CSV is the whole answer unless a page is asked for: cut at the JSON's 100 rows, it said nowhere that
        # rows were left out, and a paper's table lost them
        limit = len(result.rows)
    page = result.rows[offset : offset + limit]
    flags = result.example[offset : offset + limit]
    if csv:
        rows = [dict(r, example=f) for r, f in zip(page, flags, strict=True)]
        # named by the query and what it was asked (a village's code, a need type)
        response = csv_response(rows, [*result.columns, "example"],
                                name=download_name(name, "csv", details=[v for _, v in sorted(params.items())]))
        if result.truncated:  # past DCPA_MAX_ROWS: said as /sparql says it (the JSON has its `truncated`)
            response.headers[TRUNCATED_HEADER] = "true"
        return response
    return json_response(
        {
            "name": name,
            "columns": result.columns,
            "rows": page,
            "example": flags,
            "total": len(result.rows),
            "limit": limit,
            "offset": offset,
            "truncated": result.truncated,
            "basis": result.basis.to_dict(),
            "derived_as_of": result.derived_as_of,
            "notes": result.notes,
        }
    )
