"""The typer application, shared error handling and output helpers.

Everything the CLI prints goes through ``kg.safetext``: messages and tables show control and
bidi characters (which stored or entered text may carry) as visible escapes instead of letting
them act on the terminal; JSON escapes them the JSON way (lossless); CSV neutralises formula
injection and is escaped like the rest only when it goes to a terminal (as ``ls`` does), so that
a file written with ``> out.csv`` keeps the data exactly.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from typer.core import TyperCommand, TyperGroup

from .. import __version__
from ..answers.labels import LANGS
from ..errors import DcpaError, ValidationFailed, halves, labelled
from ..safetext import csv_text, display_width, for_terminal, json_for_terminal, spreadsheet_file, whole


def _is(e: BaseException, name: str) -> bool:
    """Whether ``e`` is a Click exception of this class (Typer ships its own copy of Click: known by name)."""
    return any(c.__name__ == name for c in type(e).__mro__)


def _usage_said(e: Any) -> str:
    """A usage mistake Click found (an option missing, a value it cannot read, an unknown option or command), said as
    every message is: ``中文 / English`` (the English as Click words it; a message of ``usage()`` parted in two)."""
    english = e.format_message()
    names = " ".join(re.findall(r"'[^']*'", english.split(":", 1)[0]))
    if _is(e, "MissingParameter"):
        kind = e.param_type or (e.param.param_type_name if e.param else "")
        zh = f"缺少{'选项' if kind == 'option' else '参数'} {names}".rstrip()
    elif _is(e, "BadParameter"):
        zh_said, en_said = halves(e.message)
        english = english.replace(e.message, en_said)
        zh = (f"{names} 的值无效" if names else "值无效") + (f"：{zh_said}" if zh_said != en_said else "")
    elif _is(e, "NoSuchOption"):
        zh = f"没有选项 {e.option_name}"
    elif _is(e, "BadOptionUsage"):
        zh = f"选项 {e.option_name} 的用法不对"
    elif english.startswith("No such command"):
        zh = f"没有命令 {names}"
    else:
        zh = "命令的用法不对"
    return f"{zh} / {english}"


def _chinese_first(e: Exception) -> Exception:
    """A usage mistake Click found, said Chinese first (any other exception, and Click's help for a bare group, as
    they are)."""
    if not _is(e, "UsageError") or _is(e, "NoArgsIsHelpError"):
        return e
    _typer_words()  # the panel it is drawn in, and the hint under it
    usage_error = next(c for c in type(e).__mro__ if c.__name__ == "UsageError")
    said: Any = usage_error(_usage_said(e), ctx=getattr(e, "ctx", None))
    said.exit_code = getattr(e, "exit_code", 2)
    return cast(Exception, said)


@contextlib.contextmanager
def _said_chinese_first() -> Iterator[None]:
    """Raise a usage mistake Click finds within as ``_chinese_first`` says it; anything else as it was."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - a usage mistake is said again, anything else raised as it was
        said = _chinese_first(e)
        if said is e:
            raise
        raise said from e


#: The words Typer and Click draw around dcpa's own help (panel titles, defaults, the hint after a mistake, the
#: help option and the completion options), said as every message is: ``中文 / English``. Typer keeps them in module
#: constants and in the options it makes; its gettext catalogue has no Chinese.
_TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": "参数 / Arguments",
    "OPTIONS_PANEL_TITLE": "选项 / Options",
    "COMMANDS_PANEL_TITLE": "命令 / Commands",
    "ERRORS_PANEL_TITLE": "错误 / Error",
    "ABORTED_TEXT": "已中止 / Aborted.",
    "DEFAULT_STRING": "[默认 / default: {}]",
    "ENVVAR_STRING": "[环境变量 / env var: {}]",
    "REQUIRED_LONG_STRING": "[必填 / required]",
    "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助 / Try [blue]'{command_path} {help_option}'[/] "
                 "for help.",
}
USAGE_PREFIX = "用法 / Usage: "
HELP_TEXT = "显示此帮助并退出 / Show this message and exit."
_OWN_OPTIONS = {
    "install_completion": "为当前 shell 安装命令补全 / Install completion for the current shell.",
    "show_completion": "显示当前 shell 的命令补全脚本，可复制或自定义安装 / Show completion for the current shell, "
                       "to copy it or customize the installation.",
}


def _typer_words() -> None:
    """Put ``_TYPER_WORDS`` in Typer's help drawer (imported only when help or a mistake is drawn: 60 ms), and have it
    fold a help text too long for its column rather than cut it.

    Why fold: Rich breaks lines at spaces only, and cuts a word wider than its table cell with "…"; a Chinese sentence
    has no spaces, so at 80 columns ``dcpa --help`` read "每行注明是否依据示例数…", a word lost."""
    from typer import rich_utils

    for name, text in _TYPER_WORDS.items():
        setattr(rich_utils, name, text)
    made = rich_utils._make_rich_text
    if getattr(made, "folds", False):
        return

    def folded(**kwargs: Any) -> Any:
        text = made(**kwargs)
        if hasattr(text, "overflow"):  # a Text (Markdown, in markdown mode, wraps as it does)
            text.overflow = "fold"
        return text

    folded.folds = True  # type: ignore[attr-defined]
    rich_utils._make_rich_text = folded


class _Bilingual:
    """What dcpa's groups and commands draw of their own help in both languages: the usage line, the help option,
    Typer's completion options."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _typer_words()
        for param in self.params:  # type: ignore[attr-defined]
            if param.name in _OWN_OPTIONS:  # added by Typer after the group is made
                param.help = _OWN_OPTIONS[param.name]
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option


class Group(_Bilingual, TyperGroup):
    """dcpa's commands (and a group of them under a name: ``dcpa ontology``, ``dcpa viz``), whose usage mistakes
    (found by Click before a command runs: reading the group's options and naming the command, then the command's)
    are said Chinese first."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _said_chinese_first():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _said_chinese_first():
            return super().invoke(ctx)


class Command(_Bilingual, TyperCommand):
    """A dcpa command (``@app.command(cls=Command)``): its help drawn in both languages."""


app = typer.Typer(
    cls=Group,
    name="dcpa",
    help=(
        "公共图书馆数字文化扶贫知识图谱 / Knowledge graph for digital cultural poverty alleviation by public libraries."
        "\n\n示例 / Examples:\n\n"
        "  dcpa build                 用随附数据构建图谱 / build the graph from the bundled data\n\n"
        "  dcpa serve                 在 http://127.0.0.1:8000 上提供服务 / serve it on http://127.0.0.1:8000\n\n"
        "  dcpa query --list          列出查询目录 / list the query catalogue"
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
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="显示版本并退出 / Show the version and exit.")
    ] = False,
) -> None:
    """公共图书馆数字文化扶贫知识图谱 / Knowledge graph for digital cultural poverty alleviation by public libraries."""


def err(message: str) -> None:
    """Print a message to stderr (hidden characters from data shown as escapes)."""
    typer.echo(for_terminal(message), err=True)


def wrote(path: object, zh: str = "", en: str = "") -> None:
    """Say on stderr that a command wrote ``path`` (``zh`` and ``en``: what it holds, said after it)."""
    err(f"已写入 {path}{zh} / wrote {path}{en}")


def write_json(obj: Any, output: Path | None = None, **kwargs: Any) -> None:
    """Write ``obj`` to stdout (or ``output``) as indented UTF-8 JSON (control and bidi characters as \\u escapes)."""
    text = json_for_terminal(obj, indent=2, **kwargs) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        _write_file(output, text.encode("utf-8"))


def _write_file(output: Path, data: bytes) -> None:
    """``data`` to the file ``-o`` names, said on stderr; a file that cannot be written is a usage mistake."""
    try:
        output.write_bytes(data)
    except OSError as e:
        raise cannot_write(output, e) from None
    wrote(output)


def cannot_write(output: Path, e: OSError) -> typer.BadParameter:
    """The usage mistake of a file ``-o`` names that cannot be written (a missing folder, no permission)."""
    return usage(f"无法写入 {output}：{e.strerror}", f"cannot write {output}: {e.strerror}")


def _stdout_is_a_file() -> bool:
    """Whether stdout was sent to a file (``> gaps.csv``), not a terminal or a pipe."""
    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def usage(zh: str, en: str, **kwargs: Any) -> typer.BadParameter:
    """A mistake in how a command is called (exit 2), said as every message is: ``中文 / English``."""
    return typer.BadParameter(f"{zh} / {en}", **kwargs)


def parse_day(text: str | None, option: str = "--as-of") -> date | None:
    """An option's date (YYYY-MM-DD), None when not given; anything else is a usage mistake."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise usage(f"{option} {text!r} 不是 YYYY-MM-DD 格式的日期",
                    f"{option} {text!r} is not a date YYYY-MM-DD") from None


FORMATS_TEXT = ("请使用 table、json 或 csv", "use table, json or csv")


def fail(e: DcpaError) -> typer.Exit:
    """Report a library error on stderr and return the Exit carrying its exit code."""
    err(labelled("错误", "error", e.message))
    if isinstance(e, ValidationFailed):
        for issue in e.issues:
            err(f"  - {issue}")
    if e.hint:
        err(labelled("提示", "hint", e.hint))
    return typer.Exit(e.exit_code)


#: Said when CSV goes to a file through stdout: the file has no BOM, so Excel and WPS read its Chinese as GBK.
CSV_TO_FILE_HINT = labelled(
    "提示", "hint", "用 Excel 或 WPS 打开时中文会乱码：请改用 -o 文件名.csv（带 BOM） / "
    "Excel and WPS show this file's Chinese garbled: write it with -o FILE.csv instead (with a BOM)")


def emit_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None,
              output: Path | None = None, heads: Sequence[str] | None = None, *, offers_o: bool = False) -> None:
    """Write rows to stdout, or to the file ``output``, as a table, JSON or CSV (UTF-8, Chinese kept as is).
    ``heads``: the table's headings, one per column, in the answer's language (JSON and CSV keep the columns'
    keys, which scripts read).

    CSV on stdout is plain UTF-8, so that pipes and scripts read it as it is; a CSV file written with ``-o`` is
    for a spreadsheet program: with a BOM and CRLF, as the API's ``format=csv`` downloads and the templates are
    (Excel and WPS read a CSV without a BOM as GBK). Sent to a file by ``>``, the CSV says how to get that when the
    command takes ``-o`` (``offers_o``; told to one that does not, `dcpa history` answered "No such option: -o")."""
    cols = list(columns) if columns else _columns(rows)
    if fmt == "json":
        write_json(list(rows), output, default=str)
    elif fmt == "csv":
        body = ([_value(r.get(k)) for k in cols] for r in rows)
        if output is not None:
            _write_file(output, spreadsheet_file(cols, body))
            return
        text = csv_text(cols, body, lineterminator="\n")
        sys.stdout.write(for_terminal(text) if sys.stdout.isatty() else text)
        if offers_o and _stdout_is_a_file():
            err(CSV_TO_FILE_HINT)
    elif fmt == "table":
        table = render_table(rows, cols, heads)
        if output is None:
            sys.stdout.write(table)
        else:
            _write_file(output, table.encode("utf-8"))
    else:
        raise usage(f"未知的格式 {fmt!r}；{FORMATS_TEXT[0]}", f"unknown format {fmt!r}; {FORMATS_TEXT[1]}")


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def _value(v: Any) -> Any:
    """A cell's value: None empty, lists and mappings as JSON, numbers kept (CSV leaves them unescaped),
    booleans as XSD and the API's CSV write them (``true``, not Python's ``True``)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return json_for_terminal(v, default=str)
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        return v
    return str(v)


def _cell(v: Any) -> str:
    """A table cell: one line, hidden characters escaped; a whole amount without its ``.0`` (``whole``: a plan's table
    read 1700.0 yuan and a weight of 6.0, where the page and the workbook say 1,700 and 6), as CSV writes it."""
    return for_terminal(str(_value(whole(v))), keep_newlines=False)


def render_table(rows: Sequence[dict[str, Any]], cols: Sequence[str], heads: Sequence[str] | None = None) -> str:
    """A plain aligned text table that lines up with Chinese text (headed by ``heads``, else by ``cols``)."""
    if not rows:
        return "（没有结果） / (no rows)\n"
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    heads = [_cell(h) for h in (heads or cols)]
    widths = [max([display_width(h)] + [display_width(row[i]) for row in cells]) for i, h in enumerate(heads)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(heads), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out) + "\n"


FormatOption = Annotated[str, typer.Option("--format", "-f", help="输出格式：table、json 或 csv / Output format: "
                                                                  "table, json or csv.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                   help="写入此文件而不是标准输出（CSV 带 BOM，"
                                                        "供 Excel 和 WPS 打开） / Write to this file instead of "
                                                        "stdout (CSV: with a BOM, for Excel and WPS).")]


def _language(value: str) -> str:
    """The one check of every command's ``--lang``: a language the labels have, else a usage error (exit 2)."""
    if value not in LANGS:
        raise usage(f"未知的语言 {value!r}；请使用 {' 或 '.join(LANGS)}",
                    f"unknown language {value!r}; use {' or '.join(LANGS)}")
    return value


LangOption = Annotated[str, typer.Option("--lang", callback=_language,
                                         help=f"标签语言：{' 或 '.join(LANGS)} / Language of labels: "
                                              f"{' or '.join(LANGS)}.")]

__all__ = ["app", "Command", "Group", "main", "cannot_write",
           "err", "fail", "usage", "wrote", "labelled", "parse_day", "emit_rows", "render_table",
           "write_json", "FormatOption", "LangOption", "OutputOption"]


def main() -> None:
    """Entry point of the ``dcpa`` console script."""
    try:
        app()
    except DcpaError as e:  # errors not handled by a command
        raise SystemExit(fail(e).exit_code) from e


@contextlib.contextmanager
def progress_bar(quiet: bool = False) -> Iterator[object]:
    """A progress callback drawing one rich bar per step (build, import) on stderr; nothing when quiet or
    when stderr is not a terminal (a log file or a script reads the report, not the bars)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, object] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done, total=total)  # type: ignore[arg-type]

    with bar:
        yield progress
