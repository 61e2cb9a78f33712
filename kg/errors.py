"""The exception tree of ``kg``, and the CLI exit code of each branch.

    DcpaError                      exit 2 (usage or runtime error)
    ├── ConfigurationError         exit 2  bad settings, missing store
    ├── StoreError                 exit 2  the store could not be opened or written
    │   └── StoreBusy              exit 2  another writer has the store (a rebuild, a deadlock): try again
    ├── QueryError                 exit 2  a query failed (syntax, refused form)
    │   ├── QueryTimeout           exit 2  a query ran past its time limit
    │   ├── QueryMemoryLimit       exit 2  a query needed more memory than its limit
    │   ├── TooManyQueries         exit 2  the client has as many queries running as one may (HTTP 429)
    │   │   └── QueryTimeUsed      exit 2  the client has used its query time for a while (HTTP 429)
    │   ├── QueryRefused           exit 2  update/LOAD/SERVICE in a read-only context
    │   └── NotAcceptable          exit 2  no answer format the client accepts (HTTP 406)
    ├── NotFound                   exit 2  no such village, query, policy…
    └── DataError                  exit 1  invalid input data
        └── ValidationFailed       exit 1  SHACL or reference checks failed (carries issues)

The API maps every one of them to the same JSON error shape (see ``api``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class DcpaError(Exception):
    """Base of every error the package raises on purpose."""

    exit_code = 2
    http_status = 500
    code = "error"

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape: ``{"error": {code, message, hint, details}}``."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "hint": self.hint,
                "details": self.details,
            }
        }


class ConfigurationError(DcpaError):
    code = "configuration_error"


class StoreError(DcpaError):
    code = "store_error"
    http_status = 503


class StoreBusy(StoreError):
    """The store is being rebuilt, written by another process, or (a remote store) gave the update up for
    another at the same moment: nothing was done; try again.

    ``retry_after`` is a guess, in seconds, of when to try again (the API sends it as ``Retry-After``).
    """

    code = "store_busy"

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None, retry_after: int = 10) -> None:
        super().__init__(message, hint=hint, details=details)
        self.retry_after = max(1, int(retry_after))


class QueryError(DcpaError):
    code = "query_error"
    http_status = 400


class QueryTimeout(QueryError):
    code = "query_timeout"
    http_status = 503


class QueryMemoryLimit(QueryError):
    """The query's worker process ran out of its memory ceiling and was stopped (507 Insufficient Storage)."""

    code = "query_memory_limit"
    http_status = 507


class AnswerTooLarge(QueryError):
    """The answer, within the row limit, is more bytes than an answer may be (507, as a query past its memory):
    the whole answer passes through the server, so its size is the server's memory, not the worker's."""

    code = "answer_too_large"
    http_status = 507


class TooManyQueries(QueryError):
    """The client already has as many queries running as one client may (HTTP 429): nothing was run; try again
    once one of them has ended. ``retry_after`` is a guess, in seconds (the API sends it as ``Retry-After``)."""

    code = "too_many_queries"
    http_status = 429

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None, retry_after: int = 1) -> None:
        super().__init__(message, hint=hint, details=details)
        self.retry_after = max(1, int(retry_after))


class QueryTimeUsed(TooManyQueries):
    """The client has used the query time one client may use a while (HTTP 429, with ``retry_after``)."""

    code = "query_time_used"


class QueryRefused(QueryError):
    code = "query_refused"
    http_status = 403


class NotAcceptable(QueryError):
    """The client accepts none of the formats this answer can take (HTTP 406): a SELECT asked for Turtle, say.
    Answering in another format anyway gave a program bytes it had said it could not read."""

    code = "not_acceptable"
    http_status = 406


class NotFound(DcpaError):
    code = "not_found"
    http_status = 404


class Conflict(DcpaError):
    """The request cannot be done to the data as it stands (say, a batch that was already withdrawn)."""

    code = "conflict"
    http_status = 409


class DataError(DcpaError):
    exit_code = 1
    code = "invalid_data"
    http_status = 422


class InvalidParameter(DataError):
    """A parameter of a request is wrong (an unknown query parameter, a bad reach mode, a period that
    ends before it starts): a usage mistake, so the CLI exits 2 like its other usage errors; HTTP 422."""

    exit_code = 2
    code = "invalid_parameter"


def is_chinese(text: str) -> bool:
    """Whether ``text`` holds a Chinese character (CJK Unified Ideographs)."""
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def halves(text: str) -> tuple[str, str]:
    """The Chinese and the English half of a ``中文 / English`` text (the first " / " parts them, as every message
    is written); a text not so written is both halves."""
    zh, sep, en = text.partition(" / ")
    return (zh, en) if sep and is_chinese(zh) else (text, text)


def labelled(zh_label: str, en_label: str, text: str) -> str:
    """A message under its label, each half under its own: ``错误：中文 / error: English`` (``文件名 / file name: 中文 /
    English`` was parted after 文件名, the English half holding the Chinese)."""
    zh, en = halves(text)
    return f"{zh_label}：{zh} / {en_label}: {en}"


@dataclass
class Issue:
    """One problem in input data, located as precisely as the input allows."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    hint: str | None = None
    severity: str = "error"
    extra: dict[str, Any] = field(default_factory=dict)

    def location(self) -> str:
        """Where, in English: ``needs.csv, row 4, column date``."""
        parts = [p for p in (self.file, self.sheet) if p]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:  # a column known by its place is named so already ("column 3")
            parts.append(self.column if self.column.removeprefix("column ").isdigit() else f"column {self.column}")
        return ", ".join(parts) or "(data)"

    def location_zh(self) -> str:
        """Where, in Chinese: ``needs.csv，第 4 行，“date”列`` (a column known by its place: ``第 3 列``)."""
        parts = [p for p in (self.file, self.sheet) if p]
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            place = self.column.removeprefix("column ")
            parts.append(f"第 {place} 列" if place.isdigit() else f"“{self.column}”列")
        return "，".join(parts) or "（数据）"

    def __str__(self) -> str:
        """The problem as a line, ``中文 / English``: each half with its place, message, value and hint."""
        message, hint = halves(self.message), halves(self.hint) if self.hint else None
        zh = f"{self.location_zh()}：{message[0]}"
        en = f"{self.location()}: {message[1]}"
        if self.value is not None:
            zh += f"（值：{self.value!r}）"
            en += f" (value: {self.value!r})"
        if hint:
            zh += f"——{hint[0]}"
            en += f" — {hint[1]}"
        return f"{zh} / {en}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d["extra"]:
            d.pop("extra")
        return d


class ValidationFailed(DataError):
    """Input data failed validation; nothing was written."""

    code = "validation_failed"

    def __init__(self, issues: list[Issue], message: str | None = None) -> None:
        self.issues = issues
        # Chinese first, as each problem below it is said
        n = len(issues)
        msg = message or f"发现 {n} 个问题，什么都没有写入 / {n} problem(s) found; nothing was written"
        super().__init__(msg, details=[i.to_dict() for i in issues])
