"""``/api/stats``: the counts a reader wants first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import lookup
from ..deps import StoreDep
from ..representation import json_response

router = APIRouter(prefix="/api/stats", tags=["statistics / 统计"])


class Stats(BaseModel):
    counts: dict[str, int] = Field(examples=[{"villages": 16727, "registered_poor_villages": 1791, "needs": 9500}])
    interventions_by_status: list[dict[str, Any]]
    interventions_by_category: list[dict[str, Any]]
    graphs: list[dict[str, Any]] = Field(
        examples=[[{"graph": "https://w3id.org/dcpa/graph/reference", "triples": 250000}]]
    )
    triples: int


@router.get("", summary="Statistics / 统计", response_model=Stats)
def get_stats(store: StoreDep) -> Response:
    return json_response(lookup.stats(store))
