"""Lists and single records: policies, programmes, libraries, resources, interventions, evaluations.

JSON by default, CSV for lists (``?format=csv`` or ``Accept: text/csv``), JSON-LD with the
project context on ``Accept: application/ld+json``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg import records as rec_lib
from kg.records import RECORD_KINDS, RecordKind
from kg.safetext import DownloadName, download_name

from .. import urls
from ..deps import Answers, AnswersDep
from ..kept import Kept
from ..representation import (
    FormatParam,
    LimitParam,
    OffsetParam,
    Page,
    csv_response,
    json_response,
    jsonld_response,
    wanted,
)
from ._common import ERROR_RESPONSES, RealOnlyParam

router = APIRouter(prefix="/api", tags=["records / 记录"])


class Record(BaseModel):
    """One record with all its properties (local names of the ontology terms)."""

    id: str = Field(examples=["P01"])
    iri: str = Field(examples=["https://w3id.org/dcpa/id/policy/P01"])
    types: list[str] = Field(examples=[["Plan"]])
    label_zh: str | None = Field(default=None, examples=["“十三五”脱贫攻坚规划"])
    label_en: str | None = Field(default=None, examples=["13th Five-Year Plan for Poverty Alleviation"])
    synthetic: bool = Field(description="Generated example data, not a real fact", examples=[False])
    properties: dict[str, Any] = Field(
        examples=[{"issuerName": "国务院", "policyLevel": "national",
                   "wasDerivedFrom": {"iri": "https://w3id.org/dcpa/id/source/policy-P01", "label": None}}]
    )
    href: str = Field(examples=["/api/policies/P01"])


class RecordPage(Page):
    items: list[Record]
    basis: dict[str, Any] = Field(description="How many records of the page are example data")


_CONTENT = {200: {"content": {"text/csv": {}, "application/ld+json": {}}}, **ERROR_RESPONSES}


def _with_href(kind: RecordKind, rec: dict[str, Any]) -> dict[str, Any]:
    return dict(rec, href=urls.record(kind.path, rec["id"]))


#: Each kind's record index (``kg.records.RecordIndex``), with and without labels, kept until the next write.
_INDEXES = Kept(2 * len(RECORD_KINDS))
#: Each kind's CSV header (``kg.records.record_columns``), kept until the next write.
_COLUMNS = Kept(len(RECORD_KINDS))


async def record_index(request: Request, answers: Answers, kind: RecordKind, *, labels: bool) -> rec_lib.RecordIndex:
    """The kind's index on the served data: read in a query worker (at national scale 0.4-0.7 s, with the labels
    2-3 s), then kept."""
    index: rec_lib.RecordIndex = await _INDEXES.get(request.app.state.store, answers.runner,
                                                    ("record index", kind.path, labels),
                                                    lambda: answers(rec_lib.record_index, kind, labels=labels))
    return index


async def _csv(request: Request, answers: Answers, kind: RecordKind, recs: list[dict[str, Any]],
               name: DownloadName) -> Response:
    """Records as CSV under their kind's one header, the same on every page, filter and single record."""
    columns: list[str] = await _COLUMNS.get(request.app.state.store, answers.runner, ("record columns", kind.path),
                                            lambda: answers(rec_lib.record_columns, kind))
    header, rows = rec_lib.record_table(recs, columns)
    return csv_response(rows, header, name=name)


def _list_endpoint(kind: RecordKind) -> Callable[..., Awaitable[Response]]:
    async def list_kind(
        request: Request,
        answers: AnswersDep,
        q: Annotated[str | None, Query(max_length=100, description="Words of its labels, any case")] = None,
        limit: LimitParam = 50,
        offset: OffsetParam = 0,
        real_only: RealOnlyParam = False,
        format: FormatParam = None,
    ) -> Response:
        index = await record_index(request, answers, kind, labels=bool(rec_lib.record_terms(q)))
        found = await run_in_threadpool(index.select, q, real_only)  # 5-30 ms for 60,000 records: not in the loop
        described = await answers(rec_lib.describe_records, found[offset:offset + limit], kind)
        page = rec_lib.record_page(len(found), described, kind, real_only=real_only)
        items = [_with_href(kind, r) for r in page.items]
        fmt = wanted(request, format, ("json", "csv", "jsonld"))
        if fmt == "csv":
            return await _csv(request, answers, kind, items, download_name(kind.path, "csv", details=[q]))
        if fmt == "jsonld":
            return jsonld_response(await answers(rec_lib.records_graph, [r["iri"] for r in items]))
        return json_response({"total": page.total, "limit": limit, "offset": offset, "items": items,
                              "basis": page.basis.to_dict()})

    return list_kind


def _one_endpoint(kind: RecordKind) -> Callable[..., Awaitable[Response]]:
    async def get_kind(
        request: Request,
        answers: AnswersDep,
        id: Annotated[str, Path(max_length=200, description="The record's id (last part of its IRI)")],
        format: FormatParam = None,
    ) -> Response:
        rec = _with_href(kind, await answers(rec_lib.get_record, kind, id))
        fmt = wanted(request, format, ("json", "csv", "jsonld"))
        if fmt == "jsonld":
            return jsonld_response(await answers(rec_lib.records_graph, [rec["iri"]]))
        if fmt == "csv":
            return await _csv(request, answers, kind, [rec], download_name(kind.kind, "csv", details=[id]))
        return json_response(rec)

    return get_kind


for _kind in RECORD_KINDS.values():
    router.add_api_route(
        f"/{_kind.path}",
        _list_endpoint(_kind),
        methods=["GET"],
        summary=f"List {_kind.title}",
        response_model=RecordPage,
        responses=_CONTENT,
        operation_id=f"list_{_kind.path}",
    )
    router.add_api_route(
        f"/{_kind.path}/{{id}}",
        _one_endpoint(_kind),
        methods=["GET"],
        summary=f"One of {_kind.title}",
        response_model=Record,
        responses=_CONTENT,
        operation_id=f"get_{_kind.kind}",
    )
