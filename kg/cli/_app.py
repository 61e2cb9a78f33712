"""The typer application, shared error handling and output helpers."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from .. import __version__
from ..errors import DcpaError, ValidationFailed

app = typer.Typer(
    name="dcpa",
    help=(
        "Knowledge graph for digital cultural poverty alleviation by public libraries.\n\n"
        "Examples:\n\n"
        "  dcpa build                 build the graph from the bundled data\n\n"
        "  dcpa serve                 serve it on http://127.0.0.1:8000\n\n"
        "  dcpa query --list          list the query catalogue"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None if os.environ.get("NO_COLOR") else "rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dcpa {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Knowledge graph for digital cultural poverty alleviation by public libraries."""


def err(message: str) -> None:
    """Print a message to stderr."""
    typer.echo(message, err=True)


def fail(e: DcpaError) -> typer.Exit:
    """Report a library error on stderr and return the Exit carrying its exit code."""
    err(f"error: {e.message}")
    if isinstance(e, ValidationFailed):
        for issue in e.issues:
            err(f"  - {issue}")
    if e.hint:
        err(f"hint: {e.hint}")
    return typer.Exit(e.exit_code)


def emit_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> None:
    """Write rows to stdout as a table, JSON or CSV (UTF-8, Chinese kept as is)."""
    cols = list(columns) if columns else _columns(rows)
    if fmt == "json":
        sys.stdout.write(json.dumps(list(rows), ensure_ascii=False, indent=2, default=str) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k)) for k in cols})
        sys.stdout.write(buf.getvalue())
    elif fmt == "table":
        sys.stdout.write(render_table(rows, cols))
    else:
        raise typer.BadParameter(f"unknown format {fmt!r}; use table, json or csv")


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _width(s: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def render_table(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    """A plain aligned text table that lines up with Chinese text."""
    if not rows:
        return "(no rows)\n"
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max([_width(c)] + [_width(row[i]) for row in cells]) for i, c in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(cols), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out) + "\n"


FormatOption = Annotated[str, typer.Option("--format", "-f", help="Output format: table, json or csv.")]

__all__ = ["app", "main", "err", "fail", "emit_rows", "render_table", "FormatOption"]


def main() -> None:
    """Entry point of the ``dcpa`` console script."""
    try:
        app()
    except DcpaError as e:  # errors not handled by a command
        raise SystemExit(fail(e).exit_code) from e
