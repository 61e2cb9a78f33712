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
from ._app import LangOption, app, fail, wrote

if TYPE_CHECKING:
    from ..viz import ViewGraph

viz_app = typer.Typer(
    help="Write graph views as self-contained HTML files (vis-network inlined; no internet needed).\n\n"
    "Examples:\n\n"
    "  dcpa viz village 211381107205 -o village.html\n\n"
    "  dcpa viz area 211381 -o county.html --lang en\n\n"
    "  dcpa viz policy P02 -o policy.html\n\n"
    "  dcpa viz ontology -o ontology.html",
    no_args_is_help=True,
)
app.add_typer(viz_app, name="viz")

OutOption = Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")]
MaxOption = Annotated[int, typer.Option("--max-nodes", help="Most nodes drawn (the page says when it cut).")]


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


@viz_app.command("village")
def village(
    code: Annotated[str, typer.Argument(help="12-digit village code.")],
    output: OutOption,
    lang: LangOption = "zh",
    hops: Annotated[int | None, typer.Option(help="Keep only the N-hop neighbourhood.")] = None,
    max_nodes: MaxOption = 300,
    real_only: Annotated[bool, typer.Option("--real-only", help="Draw what real data alone says.")] = False,
) -> None:
    """A village, its needs (unaddressed in red), what addresses them or could, and why.

    Example: dcpa viz village 211381107205 -o village.html --real-only
    """
    from .. import viz

    _write(lambda: viz.village_view(_store(), code, hops=hops, max_nodes=max_nodes, real_only=real_only), output,
           lang)


@viz_app.command("area")
def area(
    code: Annotated[str, typer.Argument(help="County (6-digit) or city (4-digit) code.")],
    output: OutOption,
    lang: LangOption = "zh",
    max_nodes: MaxOption = 300,
    real_only: Annotated[bool, typer.Option("--real-only", help="Colour it by real needs alone.")] = False,
) -> None:
    """Villages of an area coloured by share of unaddressed severe need, with their libraries.

    Example: dcpa viz area 211381 -o county.html --lang en
    """
    from .. import viz

    _write(lambda: viz.area_view(_store(), code, max_nodes=max_nodes, real_only=real_only), output, lang)


@viz_app.command("policy")
def policy(
    ident: Annotated[str, typer.Argument(help="Policy or programme id, e.g. P02.")],
    output: OutOption,
    lang: LangOption = "zh",
    max_nodes: MaxOption = 300,
    area: Annotated[str | None, typer.Option("--area", help="Narrow to this area (a county or below: drawn "
                                              "in full; above: summed up by the areas below it).")] = None,
    real_only: Annotated[bool, typer.Option("--real-only", help="Its real interventions alone.")] = False,
) -> None:
    """Policy → programmes → where their interventions go, summed up by area (--area to narrow).

    Example: dcpa viz policy P02 --area 211381 -o policy.html
    """
    from .. import viz

    _write(lambda: viz.policy_view(_store(), ident, area_code=area, max_nodes=max_nodes, real_only=real_only),
           output, lang)


@viz_app.command("ontology")
def ontology(output: OutOption, lang: LangOption = "zh") -> None:
    """Classes and object properties of the ontology (needs no store).

    Example: dcpa viz ontology -o ontology.html
    """
    from .. import viz

    _write(viz.ontology_view, output, lang)
