"""``/data``: data entry in the browser, for data stewards who do not use a terminal.

The page offers the fill-in template, checks uploaded files with a dry run and shows every located
problem in the page, imports them once the check passes, and lists the import history with a way to
withdraw a batch. It formats only: the checks, the import and the withdrawal are the JSON API's
(``POST /api/imports``, ``POST /api/imports/{batch}/withdraw``), called by ``/static/js/data-entry.js``
with the bearer token the user types in; the history is ``kg.importer.history``.
"""

from __future__ import annotations

import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from kg import viz
from kg.contract import StoreAPI
from kg.importer import RECORD_KINDS, history
from kg.importer.readers import READERS
from kg.importer.unmap import export_rows
from kg.safetext import download_name
from kg.templates import write_xlsx_template

from .. import urls
from ..deps import SettingsDep, StoreDep
from ..paths import pages
from ..representation import attachment

router = APIRouter(tags=["pages"])

#: Writes shown in the page's history (the newest); ``GET /api/imports`` lists them all.
HISTORY_SHOWN = 200
TEMPLATE_NAME = "dcpa-template.xlsx"
RECORDS_NAME = "dcpa-records.xlsx"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: What the page's script says (``{n}``-style fields filled in by the script), in each language.
_TEXT = {
    "zh": {
        "checking": "正在检查……", "importing": "正在导入……", "withdrawing": "正在撤回……",
        "checked": "检查通过：{records} 条记录可以导入（{triples} 个三元组）。"
                   "还没有写入任何数据，确认无误请点“确认导入”。",
        "imported": "已导入 {records} 条记录，批次 {batch}。", "withdrawn": "已撤回批次 {batch}。",
        "problems": "发现 {n} 个问题，什么都没有写入。请改正后重新检查：",
        "skipped": "跳过了 {n} 行模板示例。", "warning": "提醒",
        "need_token": "请先在上方填写写入令牌。", "need_files": "请先选择文件。",
        "need_user": "请先在上方填写录入人：每次导入和撤回都记下是谁做的。",
        "confirm_withdraw": "撤回批次 {batch}？其数据将离开图谱（批次和撤回记录保留）。",
        "failed": "失败", "offline": "连不上服务器：{error}", "lang": "zh", "colon": "：", "dash": "——",
        "cols": ["文件", "工作表", "行", "列", "值", "问题", "如何改正"],
    },
    "en": {
        "checking": "Checking…", "importing": "Importing…", "withdrawing": "Withdrawing…",
        "checked": "Check passed: {records} record(s) can be imported ({triples} triples). Nothing is written yet: "
                   "press Import to write them.",
        "imported": "Imported {records} record(s) as batch {batch}.", "withdrawn": "Batch {batch} withdrawn.",
        "problems": "{n} problem(s) found; nothing was written. Correct them and check again:",
        "skipped": "{n} template example row(s) skipped.", "warning": "Warning",
        "need_token": "Enter the write token above first.", "need_files": "Choose the files first.",
        "need_user": "Enter your name above first: every import and withdrawal records who made it.",
        "confirm_withdraw": "Withdraw batch {batch}? Its data leaves the graph (the batch and the withdrawal stay "
                            "on record).",
        "failed": "Failed", "offline": "Cannot reach the server: {error}", "lang": "en", "colon": ": ", "dash": " — ",
        "cols": ["File", "Sheet", "Row", "Column", "Value", "Problem", "How to fix"],
    },
}


@router.get("/data", summary="Data entry page / 数据录入", response_class=HTMLResponse)
def data_page(settings: SettingsDep,
              lang: Annotated[str, Query(description="Page language: zh or en / 页面语言")] = "zh") -> HTMLResponse:
    """Upload filled-in templates (checked first, then imported), and the import history with withdrawal."""
    lang = "en" if lang == "en" else "zh"
    ctx = viz.page_context(lang)
    ctx.update(
        static="/static",
        entries=history(settings.imports_path, limit=HISTORY_SHOWN),
        shown=HISTORY_SHOWN,
        kinds=list(RECORD_KINDS.values()),
        kinds_by_key=RECORD_KINDS,
        text_json=viz.embed_json(_TEXT[lang]),
        writes_on=bool(settings.api_token),
        max_mb=max(1, settings.max_import_bytes // (1024 * 1024)),
        max_rows=settings.max_import_rows,
        # what dcpa import reads, no more: Excel's "Unicode text" is a .txt, which a picker for .xlsx,.csv hid
        accept=",".join(sorted(READERS)),
        template_href=urls.data_template(),
        records_href=urls.data_records(),
        home_href=urls.home(lang=lang),
        dashboard_href=urls.dashboard(lang=lang),
        zh_href=urls.data_page(lang="zh"),
        en_href=urls.data_page(lang="en"),
    )
    return HTMLResponse(pages().get_template("dashboard/data.html").render(**ctx))


@router.get("/data/" + TEMPLATE_NAME, summary="Fill-in template / 填报模板",
            response_class=Response, responses={200: {"content": {_XLSX: {}}}})
async def data_template() -> Response:
    """The XLSX template of ``dcpa template``: one sheet per kind, bilingual headers, drop-down lists."""
    body = await run_in_threadpool(_template_bytes)
    return Response(body, media_type=_XLSX, headers=attachment(download_name(Path(TEMPLATE_NAME).stem, "xlsx")))


@lru_cache(maxsize=1)
def _template_bytes() -> bytes:
    """The template depends on the bundled code lists and village codes only: made once (1.3 s, 0.5 MB)."""
    with tempfile.TemporaryDirectory(prefix="dcpa-template-") as tmp:
        path = write_xlsx_template(Path(tmp) / TEMPLATE_NAME)
        return path.read_bytes()


@router.get("/data/" + RECORDS_NAME, summary="Imported records as a template / 已导入记录（模板格式）",
            response_class=Response, responses={200: {"content": {_XLSX: {}}}})
async def data_records(store: StoreDep) -> Response:
    """The records of every import batch, in the template's layout, to correct and import again
    (``dcpa export --format xlsx``). Reference and example data are left out."""
    body = await run_in_threadpool(_records_bytes, store)
    # the records as they are today: a download of last month's is another file
    name = download_name(Path(RECORDS_NAME).stem, "xlsx", day=date.today())
    return Response(body, media_type=_XLSX, headers=attachment(name))


def _records_bytes(store: StoreAPI) -> bytes:
    with tempfile.TemporaryDirectory(prefix="dcpa-records-") as tmp:
        path = write_xlsx_template(Path(tmp) / RECORDS_NAME, records=export_rows(store), with_villages=False)
        return path.read_bytes()
