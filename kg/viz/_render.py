"""Turn a view into vis-network data (through pyvis) and into an HTML page.

pyvis converts the networkx graph into vis-network's node/edge lists; its own HTML
templates load scripts from CDNs, so pages come from the project's Jinja templates
(``kg/viz/templates``: the page scaffolding the service's pages extend too), with assets linked from
``/static`` (the service serves ``kg/viz/static`` there) or inlined (export).
Every label is data: it reaches the page only inside JSON (``embed_json``) and the
browser sets it with ``textContent``; vis-network shows string titles as plain text.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from pyvis.network import Network

from ..answers.labels import CHINESE_RUN, LANGS, Label, language_runs
from ..answers.plan_tables import yuan
from ..errors import ConfigurationError
from ..resources import PACKAGE
from ._model import KINDS, LAYOUT_THRESHOLD, SYNTHETIC_MARK, ViewGraph
from .versions import asset_url

#: The package's own (importlib.resources, as for the ontology): the service reads these, never the other way.
TEMPLATES_DIR = PACKAGE / "viz" / "templates"
STATIC_DIR = PACKAGE / "viz" / "static"
VIS_JS = STATIC_DIR / "vendor" / "vis-network" / "vis-network.min.js"
GRAPH_JS = STATIC_DIR / "js" / "graph.js"
GRAPH_CSS = STATIC_DIR / "css" / "views.css"



def embed_json(data: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026`` (as Django's
    ``json_script`` does): stricter than escaping ``</`` as ``<\\/``, so no label can close
    the element, open a comment or even look like a tag in the page source.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _kind_text(kind: str, lang: str) -> str:
    zh, en, _, _ = KINDS[kind]
    return zh if lang == "zh" else en


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("en") or value.get("zh") or "")
    return str(value)


def network_data(
    view: ViewGraph, lang: str = "zh", node_json: str | None = "/views/node.json?iri="
) -> dict[str, Any]:
    """The nodes, edges, options and legend the page script draws (JSON-ready)."""
    lang = lang if lang in LANGS else "zh"
    g = nx.DiGraph()
    counts: dict[str, int] = {}
    for n, d in view.graph.nodes(data=True):
        kind = d.get("kind", "source")
        counts[kind] = counts.get(kind, 0) + 1
        _, _, colour, shape = KINDS[kind]
        labels = d["labels"]
        title = f"{labels[lang]}\n{_kind_text(kind, lang)}"
        if d.get("synthetic"):
            title += f"\n{SYNTHETIC_MARK['zh']} / {SYNTHETIC_MARK['en']}"
        attrs: dict[str, Any] = {
            "label": labels[lang],
            "label_zh": labels["zh"],
            "label_en": labels["en"],
            "kind": kind,
            "title": title,
            "color": d.get("color", colour),
            "shape": shape,
            "size": 28 if n == view.center else 20 if kind == "gap" else d.get("size", 14),
            "synthetic": bool(d.get("synthetic")),
            "props": [[zh, en, v] for zh, en, v in d.get("props", [])],
        }
        if d.get("synthetic"):
            attrs["shapeProperties"] = {"borderDashes": [4, 3]}
            attrs["borderWidth"] = 2
        if kind == "gap":
            attrs["borderWidth"] = 3
            attrs["font"] = {"color": "#b71c1c"}
        elif shape in _LABEL_INSIDE:  # the label sits on the node's colour: white on dark colours
            attrs["font"] = {"color": text_colour(attrs["color"])}
        if d.get("font_size"):  # a map's clusters: named large enough to read before zooming in
            attrs["font"] = {**attrs.get("font", {}), "size": d["font_size"]}
        if "x" in d:
            attrs["x"], attrs["y"] = d["x"], d["y"]
        if d.get("href"):  # a drill-down: the details panel links to it
            attrs["href"] = d["href"]
        g.add_node(n, **attrs)
    for s, o, d in view.graph.edges(data=True):
        labels = d["labels"]
        quiet = bool(d.get("quiet"))  # drawn without its label (a map's "within" edges), named on hover
        attrs = {
            "label": "" if quiet else labels[lang],
            "label_zh": "" if quiet else labels["zh"],
            "label_en": "" if quiet else labels["en"],
            "title": labels[lang],
        }
        if d.get("dashes"):
            attrs["dashes"] = True
        g.add_edge(s, o, **attrs)
    net = Network(directed=True)
    net.from_nx(g, default_node_size=14)
    nodes = [{k: v for k, v in n.items() if k != "font" or isinstance(v, dict)} for n in net.nodes]
    large = view.graph.number_of_nodes() > LAYOUT_THRESHOLD or any("x" in n for n in nodes)
    options: dict[str, Any] = {
        # Arrow keys pan and +/- zoom once the canvas has the focus; nodes are reached by search and by the
        # neighbour buttons of the details panel.
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False,
                        "keyboard": {"enabled": True, "bindToWindow": False}},
        "edges": {
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
            "font": {"size": 9, "align": "middle"},
            "smooth": False if large else {"type": "continuous"},
            "color": {"color": "#9e9e9e"},
        },
        "nodes": {
            "font": {"size": 12, "face": "Noto Sans CJK SC, sans-serif"},
            "widthConstraint": {"maximum": 180},
        },
        # A fixed seed: the same view is drawn the same way each time (and a click at a node's place
        # finds it; with random starting positions it could land under a neighbour's label).
        "layout": {"randomSeed": 7},
        "physics": {"enabled": False}
        if large
        else {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "stabilization": {"enabled": True, "iterations": 300, "fit": True},
        },
    }
    legend = [
        {"kind": k, "zh": zh, "en": en, "color": c, "text": text_colour(c), "shape": sh, "count": counts[k]}
        for k, (zh, en, c, sh) in KINDS.items()
        if k in counts
    ]
    # What else the drawing says besides a node's kind: without it, on paper, a dashed arrow or border meant nothing.
    marks: list[dict[str, str]] = []
    dashed: dict[str, str] = {}  # each dashed edge label, zh → en
    for _, _, d in view.graph.edges(data=True):
        if d.get("dashes"):
            dashed.setdefault(d["labels"]["zh"], d["labels"]["en"])
    if dashed:
        marks.append({"mark": "dashed", "zh": "虚线箭头：" + "、".join(dashed),
                      "en": "dashed arrow: " + ", ".join(dashed.values())})
    if any(d.get("synthetic") for _, d in view.graph.nodes(data=True)):
        marks.append({"mark": "example", "zh": "虚线边框：" + SYNTHETIC_MARK["zh"], "en": "dashed border: "
                      + SYNTHETIC_MARK["en"]})
    return {
        "view": view.kind,
        "lang": lang,
        "title": view.title,
        "center": view.center,
        "nodes": nodes,
        "edges": net.edges,
        "options": options,
        "legend": legend,
        "marks": marks,
        "notes": view.notes,
        "links": view.links,
        "synthetic": view.synthetic,
        "node_json": node_json,
        "total_nodes": view.total_nodes or view.graph.number_of_nodes(),
        # what graph.js marks as Chinese on an English page (and English on a Chinese one), as the templates do
        "chinese_run": CHINESE_RUN,
    }


@lru_cache(maxsize=4)
def environment(*extra: Path, assets: tuple[Path, ...] = ()) -> Environment:
    """The Jinja environment over ``kg/viz/templates`` and ``extra`` folders searched first (the service's
    pages); autoescaping on for every template. Templates link a browser asset as ``asset(static, path)``: its
    URL with its fingerprint (``kg.viz.versions``), the file looked for in ``assets`` (the service's own
    static folders), then in ``kg/viz/static``."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in extra] + [FileSystemLoader(str(TEMPLATES_DIR))]),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    roots = (*assets, STATIC_DIR)
    env.globals["asset"] = lambda static, path: asset_url(static, path, roots)
    env.filters["yuan"] = yuan  # an amount with its fen, as plans write it
    env.filters["in_own_lang"] = in_own_lang
    return env


@pass_context
def in_own_lang(ctx: Context, value: Any) -> Markup:
    """A value as the page shows it, each part in another language than the page's marked with its ``lang``
    (``kg.answers.labels.language_runs``): a screen reader read 朱碌科镇 on an English page with its English
    voice. A name (a ``Label``, ``{"zh":…, "en":…}``) is taken in the page's language first. Pages write
    ``{{ value | in_own_lang }}`` for every name and value that comes from the data."""
    lang = ctx.get("lang", "zh")
    if isinstance(value, Label | dict):
        value = value.get(lang) if isinstance(value, Label) else _text(value, lang)
    text = "" if value is None else str(value)
    return Markup("").join(
        Markup('<span lang="{}">{}</span>').format(tag, part) if tag else escape(part)
        for part, tag in language_runs(text, lang))


def _script_safe(text: str, tag: str) -> str:
    """Make inlined code unable to close its own element early."""
    return text.replace(f"</{tag}", f"<\\/{tag}")


def inline_assets(*, charts: bool = False) -> dict[str, str]:
    """The browser code and CSS, read from ``kg/viz/static`` for a self-contained file."""
    files = {"vis_js": VIS_JS, "graph_js": GRAPH_JS, "css": GRAPH_CSS}
    missing = [str(p) for p in files.values() if not Path(p).exists()]
    if missing:
        raise ConfigurationError(
            "缺少浏览器资源文件 / browser assets are missing: " + ", ".join(missing),
            hint="请运行 `make assets`（或 .venv/bin/python scripts/vendor_assets.py） / "
                 "run `make assets` (or .venv/bin/python scripts/vendor_assets.py)",
        )
    out = {k: Path(p).read_text(encoding="utf-8") for k, p in files.items()}
    out["vis_js"] = _script_safe(out["vis_js"], "script")
    out["graph_js"] = _script_safe(out["graph_js"], "script")
    out["css"] = _script_safe(out["css"], "style")
    return out


def page_context(lang: str) -> dict[str, Any]:
    """What every page template needs besides its own data."""
    lang = lang if lang in LANGS else "zh"
    return {"lang": lang, "t": lambda zh, en: zh if lang == "zh" else en, "mark": SYNTHETIC_MARK}


#: Shapes that draw their label inside (on the node's colour) rather than below it.
_LABEL_INSIDE = {"box", "ellipse", "circle", "database", "text"}


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (``#rrggbb``), by WCAG relative luminance."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def _in_lang(href: str, lang: str) -> str:
    """A page link that keeps the page's language (JSON links under /api/ have none)."""
    if href.startswith("/api/") or "lang=" in href:
        return href
    return href + ("&" if "?" in href else "?") + "lang=" + lang


def render_view(
    view: ViewGraph, lang: str = "zh", *, standalone: bool = False, static: str = "/static",
    lang_hrefs: tuple[str, str] = ("?lang=zh", "?lang=en"),
) -> str:
    """The HTML page of a view: served (assets from ``static``) or standalone (all inlined, offline).
    ``lang_hrefs``: where its language switch leads (Chinese, English); a served view keeps its other choices."""
    data = network_data(view, lang, node_json=None if standalone else "/views/node.json?iri=")
    ctx = page_context(lang)
    ctx.update(
        view=view,
        title=_text(view.title, ctx["lang"]),
        data_json=embed_json(data),
        standalone=standalone,
        static=static,
        lang_hrefs=lang_hrefs,
        inline=inline_assets() if standalone else None,
        links=[] if standalone else [{**link, "href": _in_lang(link["href"], ctx["lang"])} for link in view.links],
    )
    return environment().get_template("views/graph.html").render(**ctx)
