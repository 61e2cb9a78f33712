"""``dcpa ontology …``: the ontology, its documentation and its checks."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import halves
from ..resources import ontology_graph
from ._app import Command, FormatOption, Group, LangOption, app, emit_rows, err, fail, usage

ontology_app = typer.Typer(
    cls=Group, help="本体：打印、生成文档、检查 / The ontology: print it, document it, check it.", no_args_is_help=True)
app.add_typer(ontology_app, name="ontology")


@ontology_app.command("show", cls=Command)
def show(
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="ttl、nt、xml 或 json-ld / ttl, nt, xml or json-ld.")] = "ttl",
) -> None:
    """打印本体及其 SKOS 概念体系 / Print the ontology and its SKOS schemes.

    示例 / Example: dcpa ontology show --format json-ld > dcpa.jsonld
    """
    formats = {"ttl": "turtle", "nt": "nt", "xml": "xml", "json-ld": "json-ld", "jsonld": "json-ld"}
    if fmt not in formats:
        raise usage(f"未知的格式 {fmt!r}；请使用以下之一：{', '.join(formats)}",
                    f"unknown format {fmt!r}; use one of {', '.join(formats)}")
    sys.stdout.write(ontology_graph().serialize(format=formats[fmt]))


@ontology_app.command("docs", cls=Command)
def docs(
    output: Annotated[str, typer.Option("--output", "-o", help="要写入的文件；'-' 为标准输出 / "
                                                                      "File to write; '-' for stdout.")] = "-",
    lang: LangOption = "zh",
) -> None:
    """写出本体的双语 HTML 文档 / Write the bilingual HTML documentation of the ontology.

    To a file, it writes the other language beside it too (``ontology.html`` and ``ontology.zh.html`` for
    ``--lang en``; ``ontology.zh.html`` and ``ontology.en.html``), each page's language switch leading to the
    other file.

    示例 / Example: dcpa ontology docs -o build/ontology.html --lang en
    """
    from pathlib import Path

    from ..docs import ontology_html

    if output == "-":
        sys.stdout.write(ontology_html(lang=lang))
        return
    path = Path(output)
    other = "en" if lang == "zh" else "zh"
    base = path.stem.removesuffix(f".{lang}")  # ontology.zh.html's twin is ontology.en.html
    twin = path.with_name(f"{base}.{other}{path.suffix or '.html'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ontology_html(lang=lang, switch_href=twin.name), encoding="utf-8")
    twin.write_text(ontology_html(lang=other, switch_href=path.name), encoding="utf-8")
    err(f"已写入 {path}（{lang}）和 {twin}（{other}） / wrote {path} ({lang}) and {twin} ({other})")


@ontology_app.command("check", cls=Command)
def check(
    fmt: FormatOption = "table",
    reasoner: Annotated[bool, typer.Option(
        "--reasoner/--no-reasoner", help="同时运行 HermiT / Also run HermiT.")] = True,
) -> None:
    """对本体运行常见缺陷检查（OOPS!/ROBOT 式）和 HermiT /
    Run the pitfall checks (OOPS!/ROBOT style) and HermiT on the ontology.

    结果写到标准输出；有错误级的发现或本体不一致时，退出码为 1。
    Findings go to stdout; exits 1 on any error-level finding or an inconsistent ontology.

    示例 / Example: dcpa ontology check --format json
    """
    from ..errors import DcpaError
    from ..ontology_checks import errors, run_checks

    findings = run_checks()
    rows = [f.to_dict() for f in findings]
    failed = bool(errors(findings))
    if reasoner:
        from ..reasoning import check_consistency

        try:
            report = check_consistency()
        except DcpaError as e:
            raise fail(e) from e
        zh, en = halves(report.message)
        err(f"HermiT：{zh}（{report.triples} 个三元组，{report.seconds:.1f} 秒） / "
            f"HermiT: {en} ({report.triples} triples, {report.seconds:.1f} s)")
        if not report.consistent:
            rows.append({"code": "inconsistent", "severity": "error", "term": "", "message": report.message})
            failed = True
        for iri in report.unsatisfiable:
            rows.append(
                {"code": "unsatisfiable_class", "severity": "error", "term": iri, "message": "no instance possible"}
            )
            failed = True
    emit_rows(rows, fmt, columns=["severity", "code", "term", "message"])
    err(f"{len(rows)} 项发现，{'未通过' if failed else '通过'} / "
        f"{len(rows)} finding(s), {'FAILED' if failed else 'ok'}")
    if failed:
        raise typer.Exit(1)
