"""Data entry in Chromium, as a data steward without a terminal does it: check a file, read the located
problems, check the corrected file, import it, see it in the history, withdraw it; offline, error-free."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.testing import LiveServer
from kg.settings import Settings

from .conftest import AS_OF, Watched, view_store_graph

TOKEN = "browser-data-token"
HEADER = "village_code,need_type,severity,people_affected,source,identified_on,surveyor\n"
GOOD = HEADER + "211322101200,N22,4,60,survey,2019-05-12,示例·县图书馆\n"
BAD = HEADER + "211322101200,N99,4,60,survey,2019-05-12,示例·县图书馆\n"


@pytest.fixture()
def writable(tmp_path: Path) -> Iterator[str]:
    from api.app import create_app

    settings = Settings(_env_file=None, api_token=TOKEN, sparql_endpoint=None, as_of=AS_OF,  # type: ignore[call-arg]
                        imports_path=tmp_path / "imports", store_path=tmp_path / "store")
    server = LiveServer(create_app(settings, view_store_graph()))
    yield server.url
    server.stop()


def _csv(text: str) -> dict[str, Any]:
    return {"name": "needs.csv", "mimeType": "text/csv", "buffer": ("\ufeff" + text).encode("utf-8")}


def test_a_steward_checks_imports_and_withdraws_a_file_in_the_browser(browser: Any, writable: str) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        w = Watched(page)
        page.on("request", lambda r: w.requests.append(r.url))
        page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: w.errors.append(str(e)))
        page.on("dialog", lambda d: d.accept())  # the withdrawal asks to confirm
        page.goto(writable + "/data", wait_until="load")
        page.wait_for_selector("body[data-entry-ready='1']")

        # A wrong need type: the problem is shown with its file, row and column; nothing can be imported.
        page.set_input_files("#dcpa-files", _csv(BAD))
        page.fill("#dcpa-user", "张三")
        page.fill("#dcpa-token", TOKEN)
        page.click("#dcpa-check")
        page.wait_for_selector("#dcpa-report[data-state='error'] table.dcpa-issues")
        cells = page.locator("table.dcpa-issues tbody tr").first.locator("td").all_text_contents()
        assert cells[0] == "needs.csv" and cells[2] == "2" and "N99" in " ".join(cells)
        assert page.is_disabled("#dcpa-confirm")

        # The corrected file passes the check, and only then can be imported.
        page.set_input_files("#dcpa-files", _csv(GOOD))
        page.click("#dcpa-check")
        page.wait_for_selector("#dcpa-report[data-state='ok']")
        assert "1 条记录可以导入" in (page.text_content("#dcpa-report") or "")
        assert not httpx.get(writable + "/api/imports").json()  # a check writes nothing
        page.click("#dcpa-confirm")
        page.wait_for_selector("#dcpa-history tr[data-state='done']")  # the page reloads with the history
        page.wait_for_selector("#dcpa-report[data-state='ok']")
        assert "已导入 1 条记录" in (page.text_content("#dcpa-report") or "")
        [entry] = httpx.get(writable + "/api/imports").json()
        assert entry["user"] == "张三" and entry["counts"] == {"needs": 1}
        w.shot("data-entry-imported")

        # Withdrawn with a reason: the row says so, and the need is gone from the village.
        row = f"#dcpa-history tr[data-batch='{entry['batch_id']}']"
        page.fill("#dcpa-token", TOKEN)  # typed again after the reload
        page.fill(f"{row} input[name=reason]", "录错了村")
        page.click(f"{row} button")
        page.wait_for_selector(f"{row}[data-state='withdrawn']")
        assert "录错了村" in (page.text_content(row) or "")
        needs = httpx.get(writable + "/api/villages/211322101200").json()["needs"]
        assert not [n for n in needs if n["identified_on"] == "2019-05-12"]
        # Chromium logs the refused check's answer itself (a 422 the page then shows); nothing else.
        assert w.errors == ["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]
        w.errors.clear()
        w.check(("http://127.0.0.1:",))
    finally:
        ctx.close()


def test_an_import_and_a_withdrawal_are_recorded_with_the_steward_s_name(browser: Any, writable: str) -> None:
    """A name left empty was recorded as the API's default user, and the page forgot the name at each reload (after
    every import and withdrawal): the import asks for it, and the page keeps it in the browser, not the token."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.on("dialog", lambda d: d.accept())
        page.goto(writable + "/data", wait_until="load")
        page.wait_for_selector("body[data-entry-ready='1']")
        page.set_input_files("#dcpa-files", _csv(GOOD))
        page.fill("#dcpa-token", TOKEN)
        page.click("#dcpa-check")  # a check writes nothing: no name needed
        page.wait_for_selector("#dcpa-report[data-state='ok']")
        page.click("#dcpa-confirm")
        page.wait_for_selector("#dcpa-report[data-state='error']")
        assert "请先在上方填写录入人" in (page.text_content("#dcpa-report") or "")
        assert page.evaluate("document.activeElement.id") == "dcpa-user"
        assert not httpx.get(writable + "/api/imports", timeout=30).json()  # nothing was written
        page.fill("#dcpa-user", "李四")
        page.click("#dcpa-confirm")
        page.wait_for_selector("#dcpa-history tr[data-state='done']")
        page.wait_for_selector("#dcpa-report[data-state='ok']")
        assert page.input_value("#dcpa-user") == "李四"  # kept over the reload…
        assert page.input_value("#dcpa-token") == ""  # …the token not
        [entry] = httpx.get(writable + "/api/imports", timeout=30).json()
        assert entry["user"] == "李四"
        row = f"#dcpa-history tr[data-batch='{entry['batch_id']}']"
        page.fill("#dcpa-token", TOKEN)
        page.fill(f"{row} input[name=reason]", "重复录入")
        page.click(f"{row} button")
        page.wait_for_selector(f"{row}[data-state='withdrawn']")
        [entry] = httpx.get(writable + "/api/imports", timeout=30).json()
        assert entry["withdrawn_by"] == "李四"
    finally:
        ctx.close()


def test_the_problems_and_refusals_are_said_in_the_pages_language(browser: Any, writable: str) -> None:
    """The problem table and a refused token read "未知的需求类型 / unknown need type" and "失败: 令牌不正确 / the
    bearer token is not valid" on the Chinese page: each page now shows its own language's half."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        for lang, problem, refused, other in (("zh", "未知的需求类型", "失败：令牌不正确", "unknown need type"),
                                              ("en", "unknown need type", "Failed: the bearer token is not valid",
                                               "未知的需求类型")):
            page = ctx.new_page()
            page.goto(f"{writable}/data?lang={lang}", wait_until="load")
            page.wait_for_selector("body[data-entry-ready='1']")
            page.set_input_files("#dcpa-files", _csv(BAD))
            page.fill("#dcpa-token", "not-the-token")
            page.click("#dcpa-check")
            page.wait_for_selector("#dcpa-report[data-state='error'] p")
            said = page.text_content("#dcpa-report") or ""
            assert said.startswith(refused) and (" / " not in said), said
            page.fill("#dcpa-token", TOKEN)
            page.click("#dcpa-check")
            page.wait_for_selector("#dcpa-report[data-state='error'] table.dcpa-issues")
            cells = page.locator("table.dcpa-issues tbody tr").first.locator("td").all_text_contents()
            assert cells[5] == problem and other not in " ".join(cells[5:]), cells
            page.close()
    finally:
        ctx.close()
