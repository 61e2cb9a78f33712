"""``dcpa template``, ``dcpa import``, ``dcpa history``, ``dcpa withdraw`` and ``dcpa validate``: getting
user data in safely, and back out when it was wrong."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

from ..connect import open_store
from ..contract import StoreAPI
from ..errors import DcpaError
from ..importer import RECORD_KINDS, ImportReport, ImportUsageError, WithdrawReport, history, import_files, withdraw
from ..settings import get_settings
from ..writer import ServerInfo
from ._app import Command, FormatOption, app, emit_rows, err, fail, labelled, progress_bar, write_json, wrote
from ._writer import as_writer


def _default_user() -> str:
    s = get_settings()
    if s.default_user:
        return s.default_user
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.command("template", cls=Command)
def template_cmd(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="xlsx（一个工作簿）或 csv（每类一个文件） / "
                                            "xlsx (one workbook) or csv (one file per kind).")
    ] = "xlsx",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="要写入的文件（xlsx）或目录；默认：当前目录 / "
                                                    "File (xlsx) or directory to write; default: here.")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="只要这些类别（可重复）：" + "、".join(RECORD_KINDS)
                                                    + " / Only these kinds (repeatable): " + ", ".join(RECORD_KINDS))
    ] = None,
    villages: Annotated[
        bool, typer.Option("--villages/--no-villages", help="加上列出全部村代码的工作表（xlsx） / "
                                                        "Add the sheet of all village codes (xlsx).")
    ] = True,
) -> None:
    """写出供 `dcpa import` 使用的填写模板 / Write fill-in templates for `dcpa import`.

    示例 / Examples:

      dcpa template                          writes dcpa-template.xlsx

      dcpa template --format csv -o forms/   writes forms/needs.csv, forms/libraries.csv …

      dcpa template --kind needs -o needs.xlsx
    """
    from ..templates import write_csv_templates, write_xlsx_template

    for k in kind or []:
        if k not in RECORD_KINDS:
            err(f"错误：未知的记录种类 {k!r}；请使用以下之一：{', '.join(RECORD_KINDS)} / "
                f"error: unknown kind {k!r}; use one of {', '.join(RECORD_KINDS)}")
            raise typer.Exit(2)
    if fmt == "xlsx":
        target = output or Path("dcpa-template.xlsx")
        if target.is_dir():
            target = target / "dcpa-template.xlsx"
        write_xlsx_template(target, kind, with_villages=villages)
        wrote(target)
    elif fmt == "csv":
        paths = write_csv_templates(output or Path("dcpa-templates"), kind)
        for p in paths:
            wrote(p)
    else:
        err(f"错误：未知的格式 {fmt!r}；请使用 xlsx 或 csv / error: unknown format {fmt!r}; use xlsx or csv")
        raise typer.Exit(2)


@app.command("import", cls=Command)
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="由 `dcpa template` 生成的 XLSX 或 CSV 文件 / "
                                                            "XLSX or CSV files made from `dcpa template`.")],
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="导入人（默认：$USER） / Who imports (default: $USER).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="全部检查，但不写入 / Check everything, write nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条 / No progress bar.")] = False,
    fmt: FormatOption = "table",
) -> None:
    """导入填好的模板：所有文件的所有行，要么全部导入，要么都不导入 /
    Import filled-in templates: all rows of all files, or nothing.

    `dcpa serve` 运行时由服务器导入（检查相同，报告相同）。
    While `dcpa serve` runs, the server does the import (same checks, same report).

    示例 / Examples:

      dcpa import needs.xlsx --dry-run       check only

      dcpa import needs.xlsx libraries.csv --user 张三
    """
    settings = get_settings()
    who = user or _default_user()

    def alone() -> ImportReport:
        store = open_store(settings)
        try:
            with progress_bar(quiet or fmt == "json") as progress:
                return import_files(store, files, user=who, settings=settings, dry_run=dry_run,
                                    progress=progress)  # type: ignore[arg-type]
        finally:
            store.close()

    def served(server: ServerInfo) -> ImportReport:
        from .. import handoff

        return handoff.import_files(server, files, user=who, dry_run=dry_run)

    try:
        for f in files:  # usage errors before opening the store
            if not f.is_file():
                raise ImportUsageError(f"没有这个文件：{f} / no such file: {f}", hint="请检查路径 / check the path")
        report = as_writer("import", alone, served)
    except DcpaError as e:
        raise fail(e) from None
    if fmt == "json":
        write_json(report.to_dict())
    else:
        rows = [{"kind": k, "records": v} for k, v in report.counts.items()]
        emit_rows(rows, fmt, ["kind", "records"])
    for w in report.warnings:
        err(labelled("警告", "warning", w))
    if report.skipped_examples:
        err(f"跳过了 {report.skipped_examples} 行模板示例 / skipped {report.skipped_examples} template example row(s)")
    total = sum(report.counts.values())
    if dry_run:
        err(f"试运行：{total} 条记录有效（{report.triples} 个三元组），什么都没有写入 / "
            f"dry run: {total} record(s) valid ({report.triples} triples); nothing was written")
    else:
        err(f"已导入 {total} 条记录，批次 {report.batch_id}（{report.triples} 个三元组），导入人 {report.user} / "
            f"imported {total} record(s) as batch {report.batch_id} ({report.triples} triples), by {report.user}")


@app.command("history", cls=Command)
def history_cmd(
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", min=1, help="只列最近 N 次写入 / Only the newest N writes.")] = None,
    fmt: FormatOption = "table",
) -> None:
    """列出导入和替换，最新的在前：谁、何时、什么、是否已撤回 /
    List the imports and replacements, newest first: who, when, what, and whether withdrawn.

    示例 / Example: dcpa history -n 10
    """
    entries = history(get_settings().imports_path, limit=limit)
    if fmt == "json":
        write_json([e.to_dict() for e in entries])
        return
    rows = [{"batch": e.batch_id, "time": e.time, "user": e.user, "source": e.source,
             "records": sum(e.counts.values()), "files": "; ".join(e.files), "state": e.state,
             "withdrawn": f"{e.withdrawn_at} {e.withdrawn_by}: {e.withdrawal_reason}".strip(" :")
             if e.withdrawn_at else ""} for e in entries]
    emit_rows(rows, fmt, ["batch", "time", "user", "source", "records", "files", "state", "withdrawn"])
    if not entries:
        err("还没有导入：`dcpa template` 生成填报模板，`dcpa import FILE` 导入填好的文件 / "
            "no imports yet: `dcpa template` writes the forms, `dcpa import FILE` brings them in")


@app.command("withdraw", cls=Command)
def withdraw_cmd(
    batch: Annotated[str, typer.Argument(help="批次编号，即 `dcpa history` 列出的 / "
                                                   "The batch id, as `dcpa history` lists it.")],
    reason: Annotated[str, typer.Option(
        "--reason", "-r", help="原因（与撤回一起保存） / Why (kept with the withdrawal).")] = "",
    user: Annotated[str | None, typer.Option(
        "--user", "-u", help="撤回人（默认：$USER） / Who withdraws (default: $USER).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查：说明会撤回什么，不做改动 / "
                                                         "Check only: say what would go, change nothing.")] = False,
    fmt: FormatOption = "table",
) -> None:
    """撤回一个导入批次：其记录离开图谱；批次和撤回都留有记录 /
    Withdraw an import batch: its records leave the graph; the batch and its withdrawal stay on record.

    其他批次的记录引用它时拒绝撤回（请先撤回那些）。`dcpa serve` 运行时由服务器完成。

    Refused when records of other batches refer to it (withdraw those first). While `dcpa serve`
    runs, the server does it.

    示例 / Example: dcpa withdraw 20261126T150102Z-ab12cd --reason "wrong county's file"
    """
    settings = get_settings()
    who = user or _default_user()

    def alone() -> WithdrawReport:
        store = open_store(settings)
        try:
            return withdraw(store, batch, user=who, reason=reason, settings=settings, dry_run=dry_run)
        finally:
            store.close()

    def served(server: ServerInfo) -> WithdrawReport:
        from .. import handoff

        return handoff.withdraw(server, batch, user=who, reason=reason, dry_run=dry_run)

    try:
        report = as_writer("withdraw", alone, served)
    except DcpaError as e:
        raise fail(e) from None
    if fmt == "json":
        write_json(report.to_dict())
    else:
        emit_rows([{"kind": k, "records": v} for k, v in report.counts.items()], fmt, ["kind", "records"])
    if dry_run:
        err(f"试运行：批次 {batch} 可以撤回（{report.triples} 个三元组），什么都没有改变 / "
            f"dry run: batch {batch} can be withdrawn ({report.triples} triples); nothing was changed")
    else:
        err(f"已撤回批次 {batch}（{report.triples} 个三元组），撤回人 {report.user}；其文件仍保留 / "
            f"withdrew batch {batch} ({report.triples} triples), by {report.user}; its files are kept")
    for k in report.kept:
        err(f"保留：{k['record']}（{k['kind']}）此后已在批次 {k['replaced_in']} 中被替换；"
            "要删除它，请在撤回本批次后再撤回那个批次 / "
            f"stays: {k['record']} ({k['kind']}) was replaced since, in batch {k['replaced_in']}; to remove it, "
            "withdraw that batch once this one is withdrawn")


@app.command("validate", cls=Command)
def validate_cmd(
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample", "-n", help="检查 N 个节点的随机样本（默认：全部；超过 50,000 个三元组时为 500） / "
                 "Check a random sample of N nodes (default: all; 500 above 50,000 triples)."
        ),
    ] = None,
    reasoner: Annotated[bool, typer.Option(
        "--reasoner/--no-reasoner", help="运行 HermiT 检查 / Run the HermiT check.")] = True,
    seed: Annotated[int, typer.Option("--seed", help="抽样的随机种子 / Seed of the sample.")] = 0,
    fmt: FormatOption = "table",
) -> None:
    """检查已构建的图谱：SHACL 形状和 HermiT 一致性（图大时抽样） /
    Check the built graph: SHACL shapes and HermiT consistency (on a sample when large).

    图谱违反形状或不一致时，退出码为 1。
    Exit code 1 when the graph violates a shape or is inconsistent.

    示例 / Example: dcpa validate --sample 500
    """
    from ..validate import validate

    store: StoreAPI | None = None
    try:
        store = open_store(get_settings(), read_only=True)
        report = validate(store, sample=sample, reasoner=reasoner, seed=seed)
    except DcpaError as e:
        raise fail(e) from None
    finally:
        del store  # read-only: nothing to flush (Store.close() would try), dropping it releases the files
    if fmt == "json":
        write_json(report.to_dict())
    else:
        emit_rows(report.results, fmt, ["severity", "focus", "path", "value", "message"])
    for line in report.summary():
        err(line)
    if not report.conforms:
        raise typer.Exit(1)
