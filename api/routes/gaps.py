"""``/api/gaps``: needs nothing addresses, aggregated, with drill-down to child areas (``kg.answers.gaps``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kg.answers.gaps import GapDimension
from kg.codes import TYPED_AREA_CODE_PATTERN
from kg.errors import InvalidParameter
from kg.matching import gaps
from kg.safetext import download_name

from .. import urls
from ..deps import AnswersDep, SettingsDep
from ..representation import FormatParam, report_response
from ._common import (
    ERROR_RESPONSES,
    AsOfParam,
    MinSeverityParam,
    NeedTypeParam,
    ReachParam,
    RealOnlyParam,
    reach_text,
)

router = APIRouter(prefix="/api/gaps", tags=["gaps / 缺口"])

_EXAMPLE = {
    "area": {"iri": "https://w3id.org/dcpa/id/area/2101", "code": "2101", "level": "city", "kind": "PrefectureCity",
             "label": {"zh": "沈阳市", "en": "沈阳市"}, "within": [{"code": "21", "label": {"zh": "辽宁省",
                                                                                     "en": "辽宁省"}}]},
    "by": "area",
    "reach": ["direct", "area"],
    "as_of": "2026-12-01",
    "period": None,
    "real_only": False,
    "filters": {"need_type": None, "min_severity": None},
    "source": "summaries",
    "totals": {"needs": 653, "addressed": 262, "unverified": 0, "unaddressed": 391, "unaddressed_share": 0.5988,
               "severity_total": 2008, "severity_unaddressed": 1180, "severe_unaddressed": 154,
               "people_unaddressed": 103027, "example_needs": 653, "severity_weighted_unaddressed_share": 0.5876},
    "groups": [{"key": "https://w3id.org/dcpa/id/area/211381", "code": "211381",
                "label": {"zh": "北票市", "en": "北票市"}, "needs": 120, "addressed": 40, "unverified": 2,
                "unaddressed": 78, "unaddressed_share": 0.65, "severity_total": 360, "severity_unaddressed": 240,
                "severe_unaddressed": 30, "people_unaddressed": 20000, "example_needs": 120, "example": True}],
    "children": [{"code": "211381", "label": {"zh": "北票市", "en": "北票市"}}],
    "basis": {"items": 653, "example_items": 653, "example_share": 1.0, "real_only": False,
              "note_zh": "653 项需求中有 653 项（100%）依据示例数据，不是真实情况。",
              "note_en": "653 of 653 needs (100%) rest on example data, not on real facts."},
    "notes": [],
    "drill_down": [{"code": "211381", "label": {"zh": "北票市", "en": "北票市"},
                    "href": "/api/gaps?area=211381&by=area"}],
    "up": "/api/gaps?area=21&by=area",
}


@router.get(
    "",
    summary="Gap report / 需求缺口",
    description="Needs that no intervention addresses under the rule of \"addressed\" (docs/DATA_MODEL.md), "
    "aggregated `by` child area, need type, category or severity, with needs addressed but not verified "
    "counted apart. `start`/`end` keep the needs identified in that period and judge them as of its end; "
    "`need_type` keeps a type and its narrower types, `min_severity` the needs at least that severe. "
    "`drill_down` links to each child area's report; `basis` says how much rests on example data.",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
    openapi_extra={"responses": {"200": {"content": {"application/json": {"example": _EXAMPLE}}}}},
)
async def gap_report(
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    area: Annotated[
        str | None, Query(pattern=TYPED_AREA_CODE_PATTERN, description="Area code (2–12 digits)")
    ] = None,
    by: Annotated[GapDimension, Query(description="How to group the needs")] = GapDimension.AREA,
    start: Annotated[date | None, Query(description="Period start (YYYY-MM-DD), with end")] = None,
    end: Annotated[date | None, Query(description="Period end (YYYY-MM-DD), with start")] = None,
    need_type: NeedTypeParam = None,
    min_severity: MinSeverityParam = None,
    reach: ReachParam = None,
    as_of: AsOfParam = None,
    real_only: RealOnlyParam = False,
    format: FormatParam = None,
) -> Response:
    if (start is None) != (end is None):
        raise InvalidParameter("请同时给出 start 和 end，或都不给 / give both start and end, or neither",
                               hint="例如 start=2018-01-01&end=2018-12-31 / e.g. start=2018-01-01&end=2018-12-31")
    period = (start, end) if start and end else None
    report = await answers(gaps, area, by=by, period=period, reach=reach_text(reach), as_of=as_of, real_only=real_only,
                           need_type=need_type, min_severity=min_severity, settings=settings)
    data: dict[str, Any] = report.to_dict()
    # every question the report answers goes with its links, so that drilling down never changes the numbers
    keep = {"by": by.value, "real_only": real_only or None, "need_type": need_type, "min_severity": min_severity,
            "start": start, "end": end, "reach": [m.value for m in reach] if reach else None, "as_of": as_of}
    data["drill_down"] = [{**c.to_dict(), "href": urls.gaps(c.code, **keep)} for c in report.children]
    if report.area is not None and report.area.parent is not None:  # a lone province is the top: no way up
        data["up"] = urls.gaps(report.area.parent.code, **keep)
    # named by what it holds: two reports of an area (by need type, another day, severe needs only) are two files
    day = f"{start}_{end}" if start and end else report.as_of
    details = [f"by-{by.value}", _code(report.filters.get("need_type")),
               f"severity-{min_severity}+" if min_severity else None,
               "+".join(m.value for m in reach) if reach else None, "real-only" if real_only else None]
    name = download_name("gaps", "csv", code=report.area.code if report.area else "all",
                         name=report.area.label.zh if report.area else None, details=details, day=day)
    return report_response(request, data, format, name=name)


def _code(need_type: str | None) -> str | None:
    """A need type's code (N22), as a file name says it, from its IRI."""
    return need_type.rsplit("/", 1)[-1] if need_type else None
