"""``dcpa viz …``: write a graph view as one self-contained HTML file that opens offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..connect import open_store
from ..contract import StoreAPI
from ..errors import DcpaError
from ..settings import get_settings
from ._app import Command, Group, LangOption, app, fail, wrote

if TYPE_CHECKING:
    from ..viz import ViewGraph

viz_app = typer.Typer(
    cls=Group,
    help="把图谱视图写成自包含的 HTML 文件（内嵌 vis-network，无需联网） / "
    "Write graph views as self-contained HTML files (vis-network inlined; no internet needed).\n\n"
    "示例 / Examples:\n\n"
    "  dcpa viz village 211381107205 -o village.html\n\n"
    "  dcpa viz area 211381 -o county.html --lang en\n\n"
    "  dcpa viz policy P02 -o policy.html\n\n"
    "  dcpa viz ontology -o ontology.html",
    no_args_is_help=True,
)
app.add_typer(viz_app, name="viz")

OutOption = Annotated[Path, typer.Option("--output", "-o", help="要写入的 HTML 文件 / HTML file to write.")]
MaxOption = Annotated[int, typer.Option("--max-nodes", help="最多绘制的节点数（截断时页面会说明） / "
                                                            "Most nodes drawn (the page says when it cut).")]


def _store() -> StoreAPI:
    return open_store(get_settings(), read_only=True)


def _write(build: Callable[[], ViewGraph], out: Path, lang: str) -> None:
    from .. import viz

    try:
        view = build()
        html = viz.render_view(view, lang, standalone=True)
    except DcpaError as e:
        raise fail(e) from e
    out.write_text(html, encoding="utf-8")
    nodes, edges = view.graph.number_of_nodes(), view.graph.number_of_edges()
    wrote(out, f"（{nodes} 个节点，{edges} 条边）", f" ({nodes} nodes, {edges} edges)")


@viz_app.command("village", cls=Command)
def village(
    code: Annotated[str, typer.Argument(help="12 位村代码 / 12-digit village code.")],
    output: OutOption,
    lang: LangOption = "zh",
    hops: Annotated[int | None, typer.Option(help="只保留 N 跳以内的邻域 / Keep only the N-hop neighbourhood.")] = None,
    max_nodes: MaxOption = 300,
    real_only: Annotated[bool, typer.Option(
        "--real-only", help="只画真实数据所说的 / Draw what real data alone says.")] = False,
) -> None:
    """一个村、它的需求（未解决的为红色）、解决或可能解决它们的措施及原因 /
    A village, its needs (unaddressed in red), what addresses them or could, and why.

    示例 / Example: dcpa viz village 211381107205 -o village.html --real-only
    """
    from .. import viz

    _write(lambda: viz.village_view(_store(), code, hops=hops, max_nodes=max_nodes, real_only=real_only), output,
           lang)


@viz_app.command("area", cls=Command)
def area(
    code: Annotated[str, typer.Argument(help="县（6 位）或市（4 位）代码 / County (6-digit) or city (4-digit) code.")],
    output: OutOption,
    lang: LangOption = "zh",
    max_nodes: MaxOption = 300,
    real_only: Annotated[bool, typer.Option(
        "--real-only", help="只按真实需求着色 / Colour it by real needs alone.")] = False,
) -> None:
    """按未解决的严重需求所占比例给地区内的村着色，并画出其图书馆 /
    Villages of an area coloured by share of unaddressed severe need, with their libraries.

    示例 / Example: dcpa viz area 211381 -o county.html --lang en
    """
    from .. import viz

    _write(lambda: viz.area_view(_store(), code, max_nodes=max_nodes, real_only=real_only), output, lang)


@viz_app.command("policy", cls=Command)
def policy(
    ident: Annotated[str, typer.Argument(help="政策或项目编号，如 P02 / Policy or programme id, e.g. P02.")],
    output: OutOption,
    lang: LangOption = "zh",
    max_nodes: MaxOption = 300,
    area: Annotated[str | None, typer.Option("--area", help="缩小到此地区（县及以下：完整绘制；"
                                              "以上：按下级地区汇总） / "
                                              "Narrow to this area (a county or below: drawn "
                                              "in full; above: summed up by the areas below it).")] = None,
    real_only: Annotated[bool, typer.Option(
        "--real-only", help="只要它的真实干预措施 / Its real interventions alone.")] = False,
) -> None:
    """政策 → 项目 → 其干预措施的去向，按地区汇总（用 --area 缩小范围） /
    Policy → programmes → where their interventions go, summed up by area (--area to narrow).

    示例 / Example: dcpa viz policy P02 --area 211381 -o policy.html
    """
    from .. import viz

    _write(lambda: viz.policy_view(_store(), ident, area_code=area, max_nodes=max_nodes, real_only=real_only),
           output, lang)


@viz_app.command("ontology", cls=Command)
def ontology(output: OutOption, lang: LangOption = "zh") -> None:
    """本体的类和对象属性（不需要存储） /
    Classes and object properties of the ontology (needs no store).

    示例 / Example: dcpa viz ontology -o ontology.html
    """
    from .. import viz

    _write(viz.ontology_view, output, lang)
