"""``dcpa build``, ``generate``, ``derive``, ``stats``, ``export``: make the graph, describe it, dump it."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from ..contract import StoreAPI
from ..errors import DcpaError
from ..settings import get_settings
from ._app import (
    Command,
    FormatOption,
    app,
    cannot_write,
    emit_rows,
    err,
    fail,
    labelled,
    parse_day,
    progress_bar,
    usage,
    write_json,
    wrote,
)

if TYPE_CHECKING:
    pass


@app.command("build", cls=Command)
def build_cmd(
    force: Annotated[bool, typer.Option(
        "--force", help="即使没有变化也重建 / Rebuild even when nothing changed.")] = False,
    example_villages: Annotated[
        int | None,
        typer.Option("--example-villages", help="生成示例数据的村级单位数（0 = 不生成） / "
                     "Village-level units given example data (0 = none)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="示例数据的随机种子 / Seed of the example data.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条 / No progress bar.")] = False,
) -> None:
    """用本体、参考数据、示例数据和保留的导入构建存储 /
    Build the store from the ontology, reference data, example data and retained imports.

    幂等：输入没有变化时什么也不做（用 --force 强制重建）。构建失败或被终止时，旧存储保持原样；重建保留用户导入的一切。
    `dcpa serve` 运行时，由服务器构建新版本并切换过去（期间写入等待，读取照常）。

    Idempotent: does nothing when no input changed (use --force). A failed or killed build leaves
    the old store as it was; a rebuild keeps everything users imported. While `dcpa serve` runs, the
    server builds the new version and switches to it (writes wait meanwhile; reads go on).

    示例 / Examples:

      dcpa build

      dcpa build --example-villages 16727 --seed 7 --force
    """
    from .. import handoff
    from ..build import build
    from ._writer import as_writer

    # the server builds with its own settings: what this command's environment sets (DCPA_EXAMPLE_VILLAGES,
    # DCPA_EXAMPLE_SEED) goes with the request, so a build works the same whether or not `dcpa serve` runs
    mine = get_settings()
    if example_villages is None and "example_villages" in mine.model_fields_set:
        example_villages = mine.example_villages
    if seed is None and "example_seed" in mine.model_fields_set:
        seed = mine.example_seed
    try:
        with progress_bar(quiet) as progress:
            report = as_writer(
                "build",
                lambda: build(
                    get_settings(),
                    example_villages=example_villages,
                    seed=seed,
                    force=force,
                    progress=progress,  # type: ignore[arg-type]
                ),
                lambda server: handoff.build(
                    server, force=force, example_villages=example_villages, seed=seed, progress=progress  # type: ignore[arg-type]
                ),
            )
    except DcpaError as e:
        raise fail(e) from e
    if report.skipped:
        err(f"{report.store_path} 的存储已是最新的（{report.triples:,} 个三元组）；要重建请加 --force / "
            f"the store at {report.store_path} is up to date ({report.triples:,} triples); use --force to rebuild")
        return
    err(
        f"已构建 {report.store_path}：{report.triples:,} 个三元组，用时 {report.seconds:.1f} 秒"
        f"（{report.example_villages} 个示例村，种子 {report.seed}，"
        f"重放了 {report.imports_replayed or 0} 次保留的导入） / "
        f"built {report.store_path}: {report.triples:,} triples in {report.seconds:.1f} s "
        f"({report.example_villages} example villages, seed {report.seed}, "
        f"{report.imports_replayed or 0} retained import(s) replayed)"
    )
    for note in report.notes:
        err(labelled("注意", "note", note))


@app.command("generate", cls=Command)
def generate_cmd(
    villages: Annotated[int, typer.Option("--villages", "-n", help="村级单位数 / How many village-level units.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="要写入的 N-Triples 文件（'-' 为标准输出） / "
                                                                 "N-Triples file to write ('-' = stdout).")],
    area: Annotated[
        str | None, typer.Option("--area", help="只生成此地区代码内的村（如 2101、211324） / "
                                          "Only villages within this area code (e.g. 2101, 211324).")
    ] = None,
    seed: Annotated[int, typer.Option(
        "--seed", help="随机种子（种子相同，字节相同） / Random seed (same seed, same bytes).")] = 42,
) -> None:
    """生成合成的示例数据（需求、图书馆、资源、干预措施…），写成 N-Triples /
    Write synthetic example data (needs, libraries, resources, interventions…) as N-Triples.

    生成的每个节点都标有 dcpa:isSynthetic 和“示例· / Example:”标签。除 16,727 个真实的村级单位外，虚构的村级单位
    放在 99 省。

    Every generated node is marked dcpa:isSynthetic and labelled 示例· / Example:. Beyond the
    16,727 real village-level units, fictitious ones are made in province 99.

    示例 / Examples:

      dcpa generate --villages 600 -o example.nt

      dcpa generate --villages 200 --area 2114 --seed 7 -o huludao.nt

      dcpa generate --villages 128000 -o national.nt
    """
    from ..synthetic import generate

    try:
        if str(output) == "-":
            report = generate(sys.stdout.buffer, villages=villages, seed=seed, area_code=area)
        else:
            with output.open("wb") as f:
                report = generate(f, villages=villages, seed=seed, area_code=area)
    except DcpaError as e:
        raise fail(e) from e
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    wrote(output, f"（{report.villages:,} 个村的 {report.triples:,} 个三元组）",
          f" ({report.triples:,} triples for {report.villages:,} villages)")


def _open_store() -> StoreAPI:
    from ..connect import open_store

    return open_store(get_settings(), read_only=True)


@app.command("stats", cls=Command)
def stats_cmd(fmt: FormatOption = "table") -> None:
    """按类（真实与合成）和命名图计数 /
    Counts by class (real and synthetic) and by named graph.

    示例 / Examples:

      dcpa stats

      dcpa stats --format json
    """
    from ..stats import stats

    try:
        s = stats(_open_store())
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        write_json(s.to_dict())
        return
    emit_rows(s.classes, fmt, ["class", "label_zh", "label_en", "total", "real", "synthetic", "derived"])
    if fmt == "table":
        sys.stdout.write("\n")
        emit_rows(s.graphs, fmt, ["graph", "kind", "triples"])
        sm = s.summary()
        sys.stdout.write(
            f"\n共 {sm['triples']:,} 个三元组；实例数据 {sm['instance_triples']:,}，其中示例数据 "
            f"{sm['synthetic_triples']:,}（{sm['synthetic_share']:.1%}）；派生 {sm['derived_triples']:,} / "
            f"{sm['triples']:,} triples; instance data {sm['instance_triples']:,}, "
            f"of which synthetic {sm['synthetic_triples']:,} ({sm['synthetic_share']:.1%}); "
            f"derived {sm['derived_triples']:,}\n"
        )
        d = sm["derived"]
        if d is None:
            sys.stdout.write("还没有派生图：回答按规则实时计算（运行 `dcpa derive`） / "
                             "no derived graph: answers apply the rule live (run `dcpa derive`)\n")
        else:
            until_zh = f"{d['stable_until']} 之前有效" if d["stable_until"] else "未知何时变化"
            until = f"stable until {d['stable_until']}" if d["stable_until"] else "no known change ahead"
            state_zh = ("是最新的" if d["current"]
                        else "有一次写入正在进行（或被中断：任何写入或 `dcpa serve` 会完成它），"
                             "结束前回答按规则实时计算"
                        if d["write_under_way"]
                        else f"按另一组有效期（{d['windows']}）生成，与 DCPA_VALIDITY_MONTHS 不同：回答按规则实时计算"
                             "（运行 `dcpa derive` 可按当前设置重新生成）"
                        if d["other_windows"]
                        else "已不适用于今天：请运行 `dcpa derive`（在此之前回答按规则实时计算）")
            state = ("current" if d["current"]
                     else "a write is under way (or was cut short: any write or `dcpa serve` finishes it); until it "
                     "ends answers apply the rule live" if d["write_under_way"]
                     else f"made with other validity windows ({d['windows']}) than DCPA_VALIDITY_MONTHS: answers "
                     "apply the rule live (run `dcpa derive` to make it again with the current ones)"
                     if d["other_windows"]
                     else "out of date for today: run `dcpa derive` (until then answers apply the rule live)")
            sys.stdout.write(f"派生图截至 {d['as_of']}，{until_zh}：{state_zh} / "
                             f"derived graph as of {d['as_of']}, {until}: {state}\n")
            if d["next_identified"]:
                sys.stdout.write(f"它未计入 {d['as_of']} 之后识别的需求（最早在 {d['next_identified']}）："
                                 "截至某日的回答只计入当日已知的需求 / "
                                 f"it leaves out the needs identified after {d['as_of']} (the first on "
                                 f"{d['next_identified']}): an answer as of a day counts the needs known by then\n")
        # what a dump of this store cites it by (its header): a number read here is matched to a dump by them
        build, last = sm["build"] or "未知", sm["last_write"] or "（无）"
        sys.stdout.write(f"{sm['software']}；构建 {build}（其输入的指纹）；最近一次导入或撤回 {last} / "
                         f"{sm['software']}; build {sm['build'] or 'unknown'} (the fingerprint of its inputs); "
                         f"last import or withdrawal {sm['last_write'] or '(none)'}\n")


@app.command("export", cls=Command)
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", "-f", help="nq、trig（含命名图）、ttl（合并各图）或 jsonld："
                                     "整个存储；xlsx 或 csv：导入的记录，写成填好的模板 / "
                                     "nq, trig (with graphs), ttl (union) "
                                     "or jsonld: the whole store; xlsx or csv: the imported records as a filled-in "
                                     "template.")] = "nq",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="要写入的文件（默认标准输出）；xlsx 为工作簿"
                                                "（默认 dcpa-records-年-月-日.xlsx，与数据页的下载同名），csv 为目录"
                                                "（默认 dcpa-records/） / File to write (default stdout); for xlsx "
                                                "the workbook (default dcpa-records-YYYY-MM-DD.xlsx, today's "
                                                "date, as the data page's download), for csv a directory "
                                                "(default dcpa-records/).")] = None,
) -> None:
    """导出整个存储（N-Quads、TriG、Turtle 或 JSON-LD），或把导入的记录导出为可编辑的模板 /
    Dump the whole store (N-Quads, TriG, Turtle or JSON-LD), or the imported records as a template to edit.

    xlsx 和 csv 按 `dcpa template` 的格式写出每个导入批次的记录，每类一个工作表（或文件）；`dcpa import` 可以读回。
    参考数据和示例数据不在其中。

    xlsx and csv write the records of every import batch in the layout of `dcpa template`, one sheet
    (or file) per kind; `dcpa import` reads them back. Reference data and example data are left out.

    示例 / Examples:

      dcpa export --format nq -o dcpa.nq

      dcpa export --format jsonld -o dcpa.jsonld

      dcpa export --format ttl | head

      dcpa export --format xlsx -o records.xlsx
    """
    from ..atomic import replacing, shared_mode
    from ..export import EXPORTERS, export

    if fmt not in (*EXPORTERS, *RECORD_FORMATS):
        known = ", ".join((*EXPORTERS, *RECORD_FORMATS))
        raise usage(f"未知的格式 {fmt!r}；请使用以下之一：{known}", f"unknown format {fmt!r}; use one of: {known}")
    try:
        store = _open_store()
        if fmt in RECORD_FORMATS:
            for path in _export_records(store, fmt, output):
                wrote(path)
        elif output is None:
            out: IO[bytes] = sys.stdout.buffer
            export(store, fmt, out)
            out.flush()
        else:
            try:
                with replacing(output, mode=shared_mode()) as f:  # refused or cut short: no file, not a torn one
                    export(store, fmt, f)
            except OSError as e:
                raise cannot_write(output, e) from None
            wrote(output)
    except DcpaError as e:
        raise fail(e) from e


#: Formats that write the imported records as a filled-in template rather than the store's RDF.
RECORD_FORMATS = ("xlsx", "csv")


def _export_records(store: StoreAPI, fmt: str, output: Path | None) -> list[Path]:
    from ..importer.unmap import export_rows
    from ..safetext import download_name
    from ..templates import write_csv_templates, write_xlsx_template

    rows = export_rows(store)
    if fmt == "csv":
        return write_csv_templates(output or Path("dcpa-records"), records=rows)
    # named as the data page's download is (kg.safetext.download_name): today's export does not overwrite last
    # month's, which a planner keeps to compare
    target = output or Path(download_name("dcpa-records", "xlsx", day=date.today()).name)
    return [write_xlsx_template(target, records=rows, with_villages=False)]


@app.command("derive", cls=Command)
def derive_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="派生所对应的日期，YYYY-MM-DD"
                                              "（默认：DCPA_AS_OF 或今天） / Date to derive for, YYYY-MM-DD (default: "
                                              "DCPA_AS_OF or today).")] = None,
) -> None:
    """就地重算存储的派生图（截至某日每项需求是否已解决） /
    Recompute the derived graph (whether each need is addressed, as of a date) of the store in place.

    `dcpa build` 和每次导入都已做这一步；日期超过派生图的“有效至”日期时（此时答案会说明是现场计算的），或存储是用
    其他方式加载的（如不含派生图的 N-Quads 转储），运行它。`dcpa serve` 运行时由服务器完成。单独运行时，之后会压缩
    存储（全国规模需数分钟）。

    `dcpa build` and every import do this already; run it when the date moves past the derived graph's
    "stable until" date (answers then say they were computed live), or on a store loaded some other way
    (say, from an N-Quads dump without the derived graph). While `dcpa serve` runs, the server does it.
    Run alone, it compacts the store afterwards (minutes at national scale).

    示例 / Examples:

      dcpa derive

      dcpa derive --as-of 2020-12-31
    """
    import time

    from .. import handoff
    from ..connect import open_store
    from ..derived import derive_all, marker
    from ..importer.journal import recover
    from ._writer import as_writer

    day = parse_day(as_of)

    def alone() -> handoff.Derived:
        started = time.perf_counter()
        settings = get_settings()
        store = open_store(settings)
        try:
            recover(store, settings)  # interrupted writes first: their batches are in or out
            n = derive_all(store, as_of=day)
            m = marker(store)
            # Why: the old graph's deleted triples stay behind as tombstones until compaction; at national
            # scale coverage_by_category took 8.7 s right after a re-derive and 3.4 s after this (160 s).
            store.optimize()
        finally:
            store.close()
        return handoff.Derived(n, time.perf_counter() - started, m.as_of if m else None,
                               m.stable_until if m else None)

    try:
        done = as_writer("derive", alone, lambda info: handoff.derive(info, day))
    except DcpaError as e:
        raise fail(e) from e
    when = f" as of {done.as_of}, stable until {done.stable_until or 'no known change'}" if done.as_of else ""
    when_zh = (f"（截至 {done.as_of}，{f'{done.stable_until} 之前有效' if done.stable_until else '未知何时变化'}）"
               if done.as_of else "")
    err(f"派生图{when_zh}：{done.needs:,} 条需求，用时 {done.seconds:.1f} 秒 / "
        f"derived graph{when}: {done.needs:,} need(s) in {done.seconds:.1f} s")


