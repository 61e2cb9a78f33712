"""One JSON error shape for every error the API returns.

{"error": {"code": "...", "message": "...", "hint": "...", "details": ...}}

A browser asking for a page (``Accept`` lists ``text/html``; not ``/api/…``, not the SPARQL endpoint) gets the
same error as an HTML page in its language (``?lang=en``), with a way back, instead of raw JSON.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg import viz
from kg.errors import DcpaError, halves, is_chinese

from .methods import allowed_methods
from .paths import pages
from .qvalues import preferred

log = logging.getLogger(__name__)


def error_body(code: str, message: str, hint: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "hint": hint, "details": details}}


#: Paths whose errors stay JSON whatever the client accepts: the API and the protocol endpoints.
_MACHINE_PATHS = ("/api/", "/sparql", "/static/", "/admin", "/health", "/ontology.ttl", "/ontology.jsonld")
_HEADINGS = {
    400: ("请求有误", "Bad request"), 401: ("需要登录令牌", "Token needed"), 403: ("不允许", "Not allowed"),
    404: ("没有找到", "Not found"), 405: ("不支持此操作", "Not allowed here"), 422: ("请求有误", "Bad request"),
    429: ("请求过多", "Too many requests"), 500: ("服务器出错", "Server error"),
    503: ("服务繁忙或超时", "Busy or timed out"),
    507: ("超出内存限制", "Over the memory limit"),
}


#: Starlette's own words for an address or method it does not know (English alone), as every message is written.
_HTTP_WORDS = {
    404: "这个地址没有页面，请核对链接或从首页进入 / there is no page at this address: check the link, or start "
         "from the home page",
    405: "这个地址不接受这种请求 / this address does not take this method",
}


def in_language(text: str | None, lang: str) -> str | None:
    """The half of a ``中文 / English`` message that a page in ``lang`` shows (the first " / " parts them, as every
    message is written); the JSON keeps both for programs. A text that is not two halves is shown whole."""
    if not text:
        return text
    zh, en = halves(text)
    return zh if lang == "zh" else en


#: What a field's value must be, by pydantic's error type, in the page's language (its message is English).
_FIELD_RULES: dict[str, tuple[str, str]] = {
    "missing": ("缺少此项", "is missing"),
    "greater_than": ("须大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("须不小于 {ge}", "must be at least {ge}"),
    "less_than": ("须小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("须不大于 {le}", "must be at most {le}"),
    "string_too_long": ("太长（最多 {max_length} 个字符）", "is too long (at most {max_length} characters)"),
    "string_too_short": ("太短（至少 {min_length} 个字符）", "is too short (at least {min_length} characters)"),
    "string_pattern_mismatch": ("格式不对", "is not in the expected form"),
    "int_parsing": ("须为整数", "must be a whole number"),
    "int_from_float": ("须为整数", "must be a whole number"),
    "string_type": ("须为文字", "must be text"),
    "too_long": ("太多（最多 {max_length} 项）", "has too many items (at most {max_length})"),
    "too_short": ("太少（至少 {min_length} 项）", "has too few items (at least {min_length})"),
    "extra_forbidden": ("不认识此项", "is not a known field"),
    "float_parsing": ("须为数字", "must be a number"),
    "bool_parsing": ("须为 true 或 false", "must be true or false"),
    "date_parsing": ("须为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "date_from_datetime_parsing": ("须为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "enum": ("须为以下之一：{expected}", "must be one of {expected}"),
    "literal_error": ("须为以下之一：{expected}", "must be one of {expected}"),
    "multiple_of": ("须为 {multiple_of} 的整数倍", "must be a multiple of {multiple_of}"),
    "finite_number": ("须为有限的数字", "must be a finite number"),
    "int_type": ("须为整数", "must be a whole number"),
    "float_type": ("须为数字", "must be a number"),
    "bool_type": ("须为 true 或 false", "must be true or false"),
    "date_type": ("须为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "list_type": ("须为列表", "must be a list"),
    "dict_type": ("须为对象（键和值）", "must be an object (keys and values)"),
    "model_type": ("须为对象（键和值）", "must be an object (keys and values)"),
    "model_attributes_type": ("须为对象（键和值）", "must be an object (keys and values)"),
    "json_invalid": ("不是有效的 JSON", "is not valid JSON"),
}
#: Where a parameter came from, left out of its name on a page.
_PLACES = ("query", "path", "body", "header", "cookie")


def _number(v: float) -> str:
    """A bound as a planner reads it: every digit of a whole number (a budget's bound read 1e+12), else ``{:g}``."""
    return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1e6 else f"{v:g}"


def field_problems(details: list[dict[str, Any]], lang: str) -> list[dict[str, str]]:
    """Each invalid field of a request as a page shows it: its name, what is wrong (in ``lang``), what was sent."""
    out = []
    for d in details:
        loc = [str(part) for part in d.get("loc", ())]
        name = ".".join(part for part in loc[1:] if loc and loc[0] in _PLACES) or ".".join(loc) or "request"
        rule = _FIELD_RULES.get(str(d.get("type")))
        ctx = {k: _number(v) if isinstance(v, float) else v for k, v in (d.get("ctx") or {}).items()}
        if lang == "zh" and isinstance(ctx.get("expected"), str):
            ctx["expected"] = ctx["expected"].replace(" or ", ", ").replace(", ", "、")
        said = str(d.get("message") or "")
        try:
            text = (rule[0] if lang == "zh" else rule[1]).format(**ctx) if rule else ""
        except (KeyError, IndexError):  # a rule whose context pydantic did not give
            text = ""
        if not text:  # a rule not translated: pydantic's English, under a Chinese heading on a Chinese page
            text = f"不符合要求（{said}）" if lang == "zh" and said else said
        given = d.get("input")
        shown = str(given)[:80] if isinstance(given, (str, int, float)) and d.get("type") != "missing" else ""
        out.append({"field": name, "problem": text, "given": shown})
    return out


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a program): it gets errors as pages."""
    accept = request.headers.get("accept", "")  # by the q-values: text/html;q=0 is a refusal, not a wish
    return ("text/html" in preferred(accept) and request.method in ("GET", "HEAD")
            and not request.url.path.startswith(_MACHINE_PATHS))


def respond(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Any:
    """The error as JSON, or as a page for a browser asking for one (the same status and headers)."""
    if not wants_page(request):
        return JSONResponse(body, status_code=status, headers=headers)
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    err = body["error"]
    zh, en = _HEADINGS.get(status, ("出错了", "Something went wrong"))
    ctx = viz.page_context(lang)
    fields = field_problems(err["details"], lang) if err["code"] == "invalid_request" and err.get("details") else []
    ctx.update(status=status, code=err["code"], message=in_language(err["message"], lang),
               hint=in_language(err.get("hint"), lang), fields=fields,
               heading=zh if lang == "zh" else en, static="/static")
    html = pages().get_template("dashboard/error.html").render(**ctx)
    return HTMLResponse(html, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DcpaError)
    async def _dcpa(request: Request, exc: DcpaError) -> Any:
        retry = getattr(exc, "retry_after", None)  # StoreBusy: a rebuild is running; TooManyQueries
        headers = {"Retry-After": str(retry)} if retry else None
        return respond(request, exc.to_dict(), exc.http_status, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
            408: "request_timeout",
            413: "request_too_large",
        }.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        allowed = allowed_methods(request.app.router.routes, request.scope) if exc.status_code == 405 else []
        if allowed:  # every method this path answers, not only the first matching route's (a mount names its own)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        detail = str(exc.detail)
        if exc.status_code in _HTTP_WORDS and detail == HTTPStatus(exc.status_code).phrase:  # English alone
            detail = _HTTP_WORDS[exc.status_code]
        elif not is_chinese(detail):  # Starlette's own words ("Missing boundary in multipart."): under the heading
            detail = f"{_HEADINGS.get(exc.status_code, ('出错了', ''))[0]} / {detail}"
        return respond(request, error_body(code, detail), exc.status_code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Any:
        errors = exc.errors()
        details = [{"loc": list(e.get("loc", ())), "message": e.get("msg"), "type": e.get("type")} for e in errors]
        # with the rule's context and the value sent: for the message and a page, not for the JSON's details
        full = [dict(d, ctx=e.get("ctx"), input=e.get("input")) for d, e in zip(details, errors, strict=True)]
        # Chinese first, then English, as every message of the library (a planner's script shows it as it is)
        zh = "；".join(f"{p['field']}：{p['problem']}" for p in field_problems(full, "zh"))
        en = "; ".join(f"{p['field']}: {p['problem']}" for p in field_problems(full, "en"))
        body = error_body("invalid_request", f"请求无效：{zh[:240]} / the request is not valid: {en[:240]}",
                          "请改正所列各项（details 逐项列出） / correct the fields named (details lists each)", details)
        if wants_page(request):  # the page shows each field with what was sent, in its language
            body["error"]["details"] = full
        return respond(request, body, 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Any:
        # A bug, not a user error: log the traceback, answer in the same shape without internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = error_body("internal_error", "服务器出现意外错误 / an unexpected error occurred",
                          "请查看服务器日志并报告此问题 / see the server log; please report it")
        return respond(request, body, 500)
