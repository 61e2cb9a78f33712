"""``/api/gaps``: needs that nothing addresses, aggregated, with drill-down to child areas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from .. import lookup
from ..deps import StoreDep
from ..representation import FormatParam, report_response
from ._common import ERROR_RESPONSES, library_call

router = APIRouter(prefix="/api/gaps", tags=["gaps / 缺口"])

_EXAMPLE = {
    "area": {"code": "2101", "name": "沈阳市"},
    "by": "area",
    "rows": [{"area_code": "210102", "area_name": "和平区", "needs": 40, "gaps": 12}],
    "drill_down": [{"code": "210102", "name": "和平区", "href": "/api/gaps?area=210102&by=area"}],
}


@router.get(
    "",
    summary="Gap report / 需求缺口",
    description="Needs that no active or completed intervention addresses (DATA_MODEL.md), aggregated "
    "`by` area (child areas of `area`), need type, category or period. `drill_down` links to each child "
    "area's report.",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
    openapi_extra={"responses": {"200": {"content": {"application/json": {"example": _EXAMPLE}}}}},
)
def gap_report(
    request: Request,
    store: StoreDep,
    area: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$", description="Area code (2–12 digits)")
    ] = None,
    by: Annotated[str, Query(pattern="^(area|need_type|category|period)$")] = "area",
    period: Annotated[str | None, Query(max_length=20, description="e.g. 2018 or 2018-2020")] = None,
    reach: Annotated[str | None, Query(pattern=r"^(direct|area|library)(,(direct|area|library))*$")] = None,
    format: FormatParam = None,
) -> Response:
    area_ref: dict[str, Any] | None = None
    if area:
        info = lookup.area_info(store, area)
        area_ref = {"code": area, "name": info["name"], "type": info["type"]}
    matching = library_call("kg.matching")
    report = matching.gaps(store, area, by=by, period=period, reach=reach).to_dict()
    if isinstance(report, dict):
        report.setdefault("area", area_ref)
        report["drill_down"] = [
            {**c, "href": f"/api/gaps?area={c['code']}&by={by}"} for c in lookup.child_areas(store, area)
        ]
        if area_ref and info["within"]:
            parent = info["within"][-1]["code"]
            report["up"] = f"/api/gaps?area={parent}&by={by}"
    return report_response(request, report, format, name=f"gaps-{area or 'all'}")
