"""``/api/villages``: find villages, read one, its recommendations and similar villages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import lookup
from ..deps import SettingsDep, StoreDep
from ..representation import (
    FormatParam,
    LimitParam,
    OffsetParam,
    Page,
    csv_response,
    json_response,
    jsonld_response,
    report_response,
    wanted,
)
from ._common import ERROR_RESPONSES, library_call

router = APIRouter(prefix="/api/villages", tags=["villages / 村"])

CodeParam = Annotated[
    str, Path(pattern=r"^\d{12}$", description="12-digit statistical code of the village", examples=["210102001002"])
]


class AreaRef(BaseModel):
    code: str = Field(examples=["210102001"])
    name: str | None = Field(default=None, examples=["泉园街道"])


class VillageSummary(BaseModel):
    code: str = Field(examples=["210102001002"])
    name: str | None = Field(default=None, examples=["水源地社区"])
    type: str = Field(examples=["UrbanCommunity"])
    iri: str = Field(examples=["https://w3id.org/dcpa/id/area/210102001002"])
    township: AreaRef | None = None
    poverty_registered: bool = Field(description="Has a recorded poverty status", examples=[False])
    href: str = Field(examples=["/api/villages/210102001002"])


class VillagePage(Page):
    items: list[VillageSummary]


class VillageDetail(BaseModel):
    """One village: poverty status, needs, interventions reaching it, evaluations, evidence."""

    code: str = Field(examples=["210102001002"])
    iri: str
    name: str | None = None
    type: str
    within: list[AreaRef] = Field(description="Ancestor areas, province first")
    synthetic: bool = Field(description="True when any fact shown is generated example data")
    synthetic_note: str | None = None
    poverty_status: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    interventions: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    links: dict[str, str]


@router.get(
    "",
    summary="Find villages / 查找村",
    response_model=VillagePage,
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
def list_villages(
    request: Request,
    store: StoreDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Code prefix (digits) or part of the name, e.g. `2101` or `水源`"),
    ] = None,
    poor: Annotated[
        bool | None, Query(description="Only villages with (true) / without (false) a poverty status")
    ] = None,
    limit: LimitParam = 50,
    offset: OffsetParam = 0,
    format: FormatParam = None,
) -> Response:
    total, items = lookup.search_villages(store, q, poor=poor, limit=limit, offset=offset)
    if wanted(request, format) == "csv":
        return csv_response(items, name="villages")
    return json_response({"total": total, "limit": limit, "offset": offset, "items": items})


@router.get(
    "/{code}",
    summary="One village / 村详情",
    description="JSON by default; `Accept: application/ld+json` (or `?format=jsonld`) gives the graph "
    "of the village, its poverty status and its needs as JSON-LD.",
    response_model=VillageDetail,
    responses={200: {"content": {"application/ld+json": {}}}, **ERROR_RESPONSES},
)
def get_village(
    request: Request, store: StoreDep, settings: SettingsDep, code: CodeParam, format: FormatParam = None
) -> Response:
    detail = lookup.village_detail(store, code, reach=settings.reach)
    if wanted(request, format) == "jsonld":
        iris = [detail["iri"], *(s["iri"] for s in detail["poverty_status"]), *(n["iri"] for n in detail["needs"])]
        return jsonld_response(lookup.records_graph(store, iris))
    return json_response(detail)


@router.get(
    "/{code}/recommendations",
    summary="Recommendations for a village / 村的帮扶推荐",
    description="Ranked resources and interventions for the village's unaddressed needs, each with its "
    "explanation (the path in the graph that justifies it).",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
def recommendations(
    request: Request,
    store: StoreDep,
    code: CodeParam,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    reach: Annotated[str | None, Query(pattern=r"^(direct|area|library)(,(direct|area|library))*$")] = None,
    format: FormatParam = None,
) -> Response:
    lookup.area_info(store, code)  # 404 for an unknown code
    matching = library_call("kg.matching")
    report = matching.recommend(store, code, limit=limit, reach=reach).to_dict()
    if wanted(request, format) == "csv":
        return csv_response(_candidate_rows(code, report), name=f"recommendations-{code}")
    return json_response(report)


def _candidate_rows(code: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per (need, candidate), ranked within each need; the explanation stays in JSON."""
    rows = []
    for need in report.get("needs", []):
        for rank, c in enumerate(need.get("candidates", []), start=1):
            rows.append(
                {
                    "village": code,
                    "need": need.get("need"),
                    "need_type": need.get("need_type"),
                    "need_type_label": need.get("need_type_label"),
                    "severity": need.get("severity"),
                    "rank": rank,
                    **{k: v for k, v in c.items() if k not in ("explanation", "components")},
                }
            )
    return rows


@router.get(
    "/{code}/similar",
    summary="Similar villages / 相似村",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
def similar(
    request: Request,
    store: StoreDep,
    code: CodeParam,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    format: FormatParam = None,
) -> Response:
    lookup.area_info(store, code)
    matching = library_call("kg.matching")
    items = [s.to_dict() for s in matching.similar(store, code, limit=limit)]
    return report_response(request, {"village": code, "items": items}, format, name=f"similar-{code}")
