"""Bearer-token authorisation of writes.

No token configured means writes are off (403), so a fresh deployment is read-only until
someone chooses a secret; a missing or wrong token is 401. The author recorded with each
write is ``settings.api_user``, or the ``X-DCPA-User`` header of an authorised request.
The token is checked twice: by ``api.guards.WriteGate`` before the request body is read, and
by the ``WriterDep`` dependency of each write route (which also gives the author's name).

Header values are bytes; Starlette decodes them as Latin-1, which turns a Chinese name sent as
UTF-8 into mojibake. ``header_text`` decodes the raw bytes as UTF-8 and understands the two
ASCII-only spellings too: percent-encoded UTF-8 (``%E5%BC%A0%E4%B8%89``) and RFC 8187
(``UTF-8''%E5%BC%A0%E4%B8%89``). Names with control or bidi characters are refused.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, HTTPException, Request
from starlette.types import Scope

from kg.errors import Issue, ValidationFailed
from kg.safetext import for_terminal, text_problem
from kg.settings import Settings

from .deps import SettingsDep

USER_HEADER = "X-DCPA-User"
#: Longest author name recorded (longer names are cut).
MAX_USER_CHARS = 100


def require_writer(request: Request, settings: SettingsDep) -> str:
    """Check the bearer token and return the name to record as the author of the write."""
    check_token(request.headers.get("authorization", ""), settings)
    return writer_name(request.scope, settings)


def check_token(authorization: str, settings: Settings) -> None:
    """Raise 403 when writes are off, 401 when the bearer token is missing or wrong."""
    if not settings.api_token:
        raise HTTPException(
            status_code=403,
            detail="此服务器未开放写入：没有配置 API 令牌（请设置 DCPA_API_TOKEN） / "
                   "writes are switched off on this server: no API token is configured (set DCPA_API_TOKEN)",
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status_code=401,
            detail="写入需要请求头 `Authorization: Bearer <令牌>` / "
                   "this write needs the header `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # ASCII whitespace only: read as Latin-1, the last byte of 你 or 内 (0xA0, 0x85) is Unicode whitespace too
    if not hmac.compare_digest(header_bytes(token.strip(" \t")), settings.api_token.encode("utf-8")):
        raise HTTPException(
            status_code=401, detail="令牌不正确 / the bearer token is not valid", headers={"WWW-Authenticate": "Bearer"}
        )


def header_bytes(value: str) -> bytes:
    """A header value as the bytes the client sent: Starlette (and ``WriteGate``) decode them as Latin-1, so a
    token of Chinese characters sent as UTF-8 would, encoded as UTF-8 again, never match the configured one."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not read from a header: text of its own
        return value.encode("utf-8")


def raw_header(scope: Scope, name: str) -> bytes | None:
    """The raw bytes of the first header called ``name`` (as the client sent them), if any."""
    key = name.lower().encode("ascii")
    for k, v in scope.get("headers", []):
        if k.lower() == key:
            return bytes(v)
    return None


def header_text(raw: bytes, name: str) -> str:
    """A header value as text: UTF-8 bytes, percent-encoded UTF-8 or RFC 8187 ``UTF-8''…``."""

    def refuse(problem: str, hint: str) -> ValidationFailed:
        return ValidationFailed(
            [Issue(f"请求头 {name} / header {name}: {problem}", column=name, value=for_terminal(repr(raw)), hint=hint)]
        )

    hint = "send the name as UTF-8, percent-encoded UTF-8 (%E5%BC%A0%E4%B8%89) or UTF-8''%E5%BC%A0%E4%B8%89"
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise refuse("不是 UTF-8 / not UTF-8 text", hint) from None
    charset, quote1, rest = text.partition("'")
    _lang, quote2, value = rest.partition("'")
    try:
        if quote1 and quote2 and charset.lower() == "utf-8":  # RFC 8187 ext-value: charset'language'value
            return unquote(value, errors="strict")
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise refuse("百分号编码不是 UTF-8 / the percent-encoded bytes are not UTF-8", hint) from None


def writer_name(scope: Scope, settings: Settings) -> str:
    """The author to record: the ``X-DCPA-User`` header (checked), else ``settings.api_user``."""
    raw = raw_header(scope, USER_HEADER)
    user = header_text(raw, USER_HEADER).strip() if raw is not None else ""
    problem = text_problem(user, None)
    if problem:
        raise ValidationFailed(
            [
                Issue(
                    f"请求头 {USER_HEADER} / header {USER_HEADER}: {problem[0]}",
                    column=USER_HEADER,
                    value=for_terminal(user),
                    hint=problem[1],
                )
            ]
        )
    return user[:MAX_USER_CHARS] if user else settings.api_user


WriterDep = Annotated[str, Depends(require_writer)]
