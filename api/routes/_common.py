"""Pieces shared by the API routes: documented error responses and the parameters every answer takes.

Parameter types come from the library's own enumerations (``kg.rule.ReachMode``,
``kg.answers.gaps.GapDimension``, ``kg.answers.plan.PlanMethod``), so the API can never offer an
option the library does not have (a contract test compares the OpenAPI document with them).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from kg.codes import TYPED_NOTATION_PATTERN
from kg.rule import SEVERITY_MAX, SEVERITY_MIN, ReachMode


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no area with code 210102001999 in the graph"])
    hint: str | None = Field(default=None, examples=["check the code (search with /api/villages?q=…)"])
    details: Any = None


class ErrorResponse(BaseModel):
    """The one JSON error shape of the whole API."""

    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A search or query that cannot be run (the message says why: "
                                                 "e.g. a search of more than five words)"},
    404: {"model": ErrorResponse, "description": "Not found"},
    422: {"model": ErrorResponse, "description": "Invalid request or data"},
    503: {"model": ErrorResponse, "description": "Time limit reached or store unavailable"},
}

RealOnlyParam = Annotated[bool, Query(description="Answer from real data alone: leave out example data "
                                                  "(dcpa:isSynthetic). The answer says so, and why when empty.")]
AsOfParam = Annotated[date | None, Query(description="Date the answer is for (YYYY-MM-DD): which interventions "
                                                     "are in force, and which needs were known (identified by then). "
                                                     "Default: DCPA_AS_OF, else today.")]
NeedTypeParam = Annotated[str | None, Query(pattern=TYPED_NOTATION_PATTERN, description="Only needs of this "
                                            "type and its narrower types (a code of the need-type scheme: N1, N22…)")]
MinSeverityParam = Annotated[int | None, Query(ge=SEVERITY_MIN, le=SEVERITY_MAX,
                                               description="Only needs at least this severe (1–5)")]
PoorFirstParam = Annotated[bool, Query(description="Poverty targeting: the needs linked to the village's "
                                                   "poverty causes first, and why")]
ReachParam = Annotated[list[ReachMode] | None, Query(description="Reach modes that count for \"addressed\" "
                                                                 "(repeat the parameter; default DCPA_REACH). A "
                                                                 "library's service area never counts.")]


def reach_text(reach: list[ReachMode] | None) -> str | None:
    """The library's comma form of a reach parameter (None: the setting)."""
    return ",".join(m.value for m in reach) if reach else None


#: A need's evidence kind (``kg.answers.evidence.EVIDENCE_KINDS``) as the pages name it: (zh, en).
EVIDENCE_TEXT = {"interview": ("访谈", "interview"), "survey": ("调查", "survey"), "document": ("文献", "document"),
                 "example": ("示例数据", "example data"), "imported file": ("导入文件", "imported file"),
                 "project judgement": ("项目判断", "project judgement"), "unknown": ("未说明", "not stated")}
