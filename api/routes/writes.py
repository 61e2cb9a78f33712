"""Writes for planners and data stewards: needs, interventions, evaluations and whole import files.

Every write needs the bearer token (see :mod:`api.auth`), goes through ``kg.importer`` — the
same validation as ``dcpa import`` — and is all-or-nothing: a record with a problem gets 422
with the issues and nothing is written. Accepted records land in their own named graph with
who and when, are visible to the next read, and live in the on-disk store across restarts.
Writes take turns through ``app.state.served.writing()`` (``api.serving``), so two batches never
interleave their checks; while the store is rebuilt they are answered 503 with ``Retry-After``.

PUT replaces one existing record (``kg.importer.replace_record``): the same checks, the record keeps
its IRI, the old triples go and the new version lands as its own batch in one transaction.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg import importer
from kg.errors import DataError, ValidationFailed

from ..auth import WriterDep
from ..deps import SettingsDep
from ..representation import json_response
from ..serving import ServedStore, collect_here
from ._common import ERROR_RESPONSES, ErrorResponse

router = APIRouter(prefix="/api", tags=["writes / 写入"])

_MAX_RECORDS = 10_000

_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong bearer token"},
    403: {"model": ErrorResponse, "description": "Writes are off (no token configured)"},
    **ERROR_RESPONSES,
}

_EXAMPLES = {
    "needs": {
        "village_code": "210123206200",
        "need_type": "N22",
        "severity": 4,
        "people_affected": 120,
        "source": "survey",
        "source_title": "2018年村级数字文化需求调查",
        "identified_on": "2018-05-12",
        "surveyor": "县图书馆",
    },
    "interviews": {
        "id": "ITV-2018-001",
        "interviewee_role": "IR1",
        "interviewed_on": "2018-05-10",
        "place_code": "210123206200",
        "interviewer": "县图书馆调研组",
        "consent": "CO1",
        "anonymisation": "AN1",
    },
    "interventions": {
        "id": "INT-2018-001",
        "name_zh": "电子阅览室建设",
        "category": "C2",
        "provided_by": "LIB-1",
        "target_areas": "210123206200",
        "status": "S2",
        "start_date": "2018-03-01",
        "budget": 50000,
        "source": "document",
    },
    "evaluations": {
        "intervention_id": "INT-2018-001",
        "indicator": "I01",
        "area_code": "210123206200",
        "baseline_value": 10,
        "target_value": 100,
        "actual_value": 120,
        "period_start": "2018-01-01",
        "period_end": "2018-12-31",
        "source": "survey",
    },
}


class WriteResult(BaseModel):
    """What the importer accepted (its report)."""

    kind: str | None = Field(default=None, examples=["needs"])
    id: str | None = Field(default=None, description="The replaced record's id (PUT only)", examples=["INT-2018-001"])
    user: str = Field(examples=["api"])
    dry_run: bool = False
    report: dict[str, Any] = Field(
        examples=[
            {
                "batch_id": "20260101T120000Z-ab12cd",
                "counts": {"needs": 1},
                "triples": 14,
                "graph": "https://w3id.org/dcpa/graph/import/…",
            }
        ]
    )


def _cell(value: Any) -> Any:
    """A JSON value as the importer reads a cell: lists joined with ``;``, numbers as text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(_cell(v)) for v in value)
    return str(value)


def _records(body: Any) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else [body]
    if not items:
        raise DataError("没有记录 / no records given",
                        hint="请发送一条记录（一个对象）或一个记录列表 / send one record (an object) or a list of them")
    if len(items) > _MAX_RECORDS:
        raise DataError(f"一次请求有 {len(items)} 条记录，上限为 {_MAX_RECORDS} 条 / "
                        f"{len(items)} records in one request; the limit is {_MAX_RECORDS}",
                        hint=f"请分多次发送，每次不超过 {_MAX_RECORDS} 条 / send them in requests of at most "
                        f"{_MAX_RECORDS}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DataError(f"第 {i + 1} 条记录不是对象 / record {i + 1} is not an object",
                            hint="每条记录是一个以列名为键的 JSON 对象 / each record is a JSON object of columns")
        out.append({str(k): _cell(v) for k, v in item.items()})
    return out


def _report(report: Any) -> dict[str, Any]:
    if hasattr(report, "to_dict"):
        d: dict[str, Any] = report.to_dict()
        return d
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return dataclasses.asdict(report)
    return {"result": str(report)}


def _served(request: Request) -> ServedStore:
    served: ServedStore = request.app.state.served
    return served


def _write_records(served: ServedStore, settings: Any, user: str, kind: str, body: Any, dry_run: bool) -> Response:
    records = _records(body)
    with served.writing() as store:
        try:
            report = importer.import_records(
                store, kind, records, user=user, settings=settings, source_name="api", dry_run=dry_run
            )
        finally:
            collect_here()
    if not dry_run:
        served.changed()
    return json_response(
        {"kind": kind, "user": user, "dry_run": dry_run, "report": _report(report)},
        status_code=200 if dry_run else 201,
    )


def _body(kind: str) -> Any:
    return Body(
        description=f"One {kind} record (an object of columns, as in the import template) or a list of them.",
        openapi_examples={
            "one": {"summary": "one record", "value": _EXAMPLES[kind]},
            "many": {"summary": "a list", "value": [_EXAMPLES[kind]]},
        },
    )


DryRun = Annotated[bool, Query(description="Check only: validate and report, write nothing.")]


@router.post(
    "/needs",
    summary="Add needs / 新增需求",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def post_needs(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    body: Annotated[dict[str, Any] | list[dict[str, Any]], _body("needs")],
    dry_run: DryRun = False,
) -> Response:
    return _write_records(_served(request), settings, user, "needs", body, dry_run)


@router.post(
    "/interviews",
    summary="Add interviews / 新增访谈",
    description="Interviews that needs rest on (a need's `interview` column names one, its `quote` keeps the words "
    "said): the interviewee's role, never a name; date, place, interviewer, consent and anonymisation.",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def post_interviews(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    body: Annotated[dict[str, Any] | list[dict[str, Any]], _body("interviews")],
    dry_run: DryRun = False,
) -> Response:
    return _write_records(_served(request), settings, user, "interviews", body, dry_run)


@router.post(
    "/interventions",
    summary="Add interventions / 新增帮扶项目",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def post_interventions(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    body: Annotated[dict[str, Any] | list[dict[str, Any]], _body("interventions")],
    dry_run: DryRun = False,
) -> Response:
    return _write_records(_served(request), settings, user, "interventions", body, dry_run)


@router.post(
    "/evaluations",
    summary="Add evaluations / 新增效果评估",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def post_evaluations(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    body: Annotated[dict[str, Any] | list[dict[str, Any]], _body("evaluations")],
    dry_run: DryRun = False,
) -> Response:
    return _write_records(_served(request), settings, user, "evaluations", body, dry_run)


def _replace_record(
    served: ServedStore, settings: Any, user: str, kind: str, record_id: str, body: Any, dry_run: bool
) -> Response:
    if not isinstance(body, dict):
        raise DataError("替换只能是一条记录 / a replacement is one record",
                        hint="请发送一个以列名为键的 JSON 对象 / send one JSON object of columns")
    record = {str(k): _cell(v) for k, v in body.items()}
    with served.writing() as store:
        try:
            report = importer.replace_record(
                store, kind, record_id, record, user=user, settings=settings, dry_run=dry_run
            )
        finally:
            collect_here()
    if not dry_run:
        served.changed()
    return json_response({"kind": kind, "id": record_id, "user": user, "dry_run": dry_run, "report": _report(report)})


def _put_body(kind: str) -> Any:
    return Body(
        description=f"The whole new version of the {kind} record (an object of columns, as in the import "
        "template); columns left out are no longer stated.",
        openapi_examples={"one": {"summary": "one record", "value": _EXAMPLES[kind]}},
    )


RecordId = Annotated[str, PathParam(max_length=200, description="The record's id (last part of its IRI)")]


_PUT_DESCRIPTION = (
    "Replace one record by a corrected version: checked like an import, all or nothing; the record keeps "
    "its IRI and id, the change is recorded with who and when. 404 when there is no such record."
)


@router.put(
    "/needs/{id}",
    summary="Replace a need / 修改需求",
    description=_PUT_DESCRIPTION,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def put_need(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    id: RecordId,
    body: Annotated[dict[str, Any], _put_body("needs")],
    dry_run: DryRun = False,
) -> Response:
    return _replace_record(_served(request), settings, user, "needs", id, body, dry_run)


@router.put(
    "/interviews/{id}",
    summary="Replace an interview / 修改访谈",
    description=_PUT_DESCRIPTION,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def put_interview(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    id: RecordId,
    body: Annotated[dict[str, Any], _put_body("interviews")],
    dry_run: DryRun = False,
) -> Response:
    return _replace_record(_served(request), settings, user, "interviews", id, body, dry_run)


@router.put(
    "/interventions/{id}",
    summary="Replace an intervention / 修改帮扶项目",
    description=_PUT_DESCRIPTION,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def put_intervention(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    id: RecordId,
    body: Annotated[dict[str, Any], _put_body("interventions")],
    dry_run: DryRun = False,
) -> Response:
    return _replace_record(_served(request), settings, user, "interventions", id, body, dry_run)


@router.put(
    "/evaluations/{id}",
    summary="Replace an evaluation / 修改效果评估",
    description=_PUT_DESCRIPTION,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
def put_evaluation(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    id: RecordId,
    body: Annotated[dict[str, Any], _put_body("evaluations")],
    dry_run: DryRun = False,
) -> Response:
    return _replace_record(_served(request), settings, user, "evaluations", id, body, dry_run)


_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


@router.post(
    "/imports",
    summary="Import files / 导入文件",
    description="Multipart upload of one or more import files (the XLSX template or CSV files, as for "
    "`dcpa import`). All files are checked together; nothing is written unless all pass.",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
)
async def post_imports(
    request: Request,
    user: WriterDep,
    files: Annotated[list[UploadFile], File(description="Import files (.xlsx, .csv)")],
    dry_run: DryRun = False,
) -> Response:
    served = _served(request)
    settings = request.app.state.settings
    bad_names = [i for i in (importer.file_name_issue(f.filename or "") for f in files) if i is not None]
    if bad_names:  # before a name reaches the file system
        raise ValidationFailed(bad_names)
    with tempfile.TemporaryDirectory(prefix="dcpa-upload-") as tmp:
        paths: list[Path] = []
        # the steward's names, shown in the problems and the history: the temporary paths' are made safe
        shown = [f.filename or f"upload-{i}" for i, f in enumerate(files)]
        limit = settings.max_import_bytes
        for i, f in enumerate(files):
            data = await f.read(limit + 1)
            if len(data) > limit:  # the library's refusal of a file too large, read no further than the limit
                raise ValidationFailed([importer.too_large_issue(f.filename or f"upload-{i}", None, settings)])
            name = _SAFE_NAME.sub("_", Path(f.filename or f"upload-{i}").name) or f"upload-{i}"
            target, n = Path(tmp) / name, i
            while target.exists():  # two files of one name; "2-a.csv" may be a name sent too, never overwritten
                target, n = Path(tmp) / f"{n}-{name}", n + len(files)
            target.write_bytes(data)
            paths.append(target)

        def work() -> Any:
            with served.writing() as store:
                try:
                    return importer.import_files(store, paths, user=user, settings=settings, dry_run=dry_run,
                                                 names=shown)
                finally:
                    collect_here()

        report = await run_in_threadpool(work)
    if not dry_run:
        served.changed()
    return json_response(
        {"kind": None, "user": user, "dry_run": dry_run, "report": _report(report)},
        status_code=200 if dry_run else 201,
    )
