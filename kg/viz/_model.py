"""What a view is: a networkx graph of typed, bilingual nodes, kept small enough to draw.

Nodes are keyed by IRI and carry ``kind`` (one of ``KINDS``), ``labels`` ({zh, en}),
``synthetic``, and ``props`` (rows for the details panel). Bounding and layout happen
here, before the browser sees anything, so that no view can freeze a browser.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..answers.basis import Basis, basis
from ..answers.labels import Label

log = logging.getLogger(__name__)

#: kind → (zh, en, colour, shape). The order is the legend's order.
KINDS: dict[str, tuple[str, str, str, str]] = {
    "village": ("村", "Village", "#2e7d32", "dot"),
    "area": ("区域", "Area", "#81c784", "dot"),
    "status": ("贫困状态", "Poverty status", "#8d6e63", "square"),
    "need": ("已满足需求", "Addressed need", "#ffb300", "dot"),
    "unverified": ("已满足但未经验证", "Addressed, not verified", "#fb8c00", "triangleDown"),
    "gap": ("未满足需求", "Unaddressed need", "#e53935", "diamond"),
    "needtype": ("需求类型", "Need type", "#fdd835", "triangle"),
    "intervention": ("帮扶项目", "Intervention", "#1e88e5", "box"),
    "candidate": ("推荐候选", "Recommended candidate", "#90caf9", "box"),
    "resource": ("资源", "Resource", "#00acc1", "dot"),
    "library": ("图书馆", "Library", "#6a1b9a", "star"),
    "policy": ("政策", "Policy", "#5d4037", "box"),
    "programme": ("文化工程", "Programme", "#a1887f", "box"),
    "evaluation": ("效果评价", "Evaluation", "#26a69a", "square"),
    "source": ("证据来源", "Evidence", "#757575", "square"),
    "category": ("帮扶类别", "Intervention category", "#f4511e", "triangle"),
    "rtype": ("资源类型", "Resource type", "#80deea", "triangle"),
    "class": ("类", "Class", "#3949ab", "ellipse"),
    "external": ("外部类", "External class", "#9fa8da", "ellipse"),
}

#: Text that marks synthetic example data everywhere it is shown.
SYNTHETIC_MARK = {"zh": "示例数据", "en": "example data"}

#: Above this many nodes the server computes positions and physics stays off.
LAYOUT_THRESHOLD = 120
#: Default cap on the number of nodes of any view.
MAX_NODES = 300


@dataclass
class ViewGraph:
    """A view ready to render: the graph, its centre, a title and notes for the reader."""

    graph: nx.DiGraph
    kind: str
    title: dict[str, str]
    center: str | None = None
    notes: list[dict[str, str]] = field(default_factory=list)
    total_nodes: int = 0
    links: list[dict[str, str]] = field(default_factory=list)

    #: What the drawing rests on when that is not its nodes (a map whose colours come from needs).
    data_basis: Basis | None = None

    @property
    def synthetic(self) -> bool:
        """True when any node is synthetic example data, or the colours rest on some (the page then says so)."""
        return any(d.get("synthetic") for _, d in self.graph.nodes(data=True)) or bool(
            self.data_basis and self.data_basis.example_items)

    @property
    def basis(self) -> Basis:
        """How many of the drawn data nodes are example data (vocabulary and ontology nodes aside), or the
        ``data_basis`` the view states."""
        if self.data_basis is not None:
            return self.data_basis
        flags = [bool(d.get("synthetic")) for _, d in self.graph.nodes(data=True)
                 if d.get("kind") not in ("needtype", "category", "rtype", "class", "external")]
        return basis(flags, what_zh="个节点", what_en="nodes")


def add_node(
    g: nx.DiGraph,
    iri: str,
    kind: str,
    labels: Mapping[str, str] | Label,
    *,
    synthetic: bool = False,
    props: list[list[Any]] | None = None,
    **extra: Any,
) -> None:
    """Add a node (or upgrade it: a later, more specific kind wins over "area")."""
    labels = labels.to_dict() if isinstance(labels, Label) else dict(labels)
    if iri in g:
        node = g.nodes[iri]
        if node.get("kind") in ("area", "need") and kind not in ("area",):
            node["kind"] = kind
        node["synthetic"] = node.get("synthetic") or synthetic
        if props:
            node.setdefault("props", []).extend(props)
        node.update(extra)
        return
    if synthetic:
        labels = mark_synthetic(labels)
    g.add_node(iri, kind=kind, labels=labels, synthetic=synthetic, props=list(props or []), **extra)


def mark_synthetic(labels: dict[str, str]) -> dict[str, str]:
    """Labels of synthetic nodes start with 示例· / Example: (DATA_MODEL.md); enforce it."""
    zh, en = labels.get("zh", ""), labels.get("en", "")
    if not zh.startswith("示例"):
        zh = "示例·" + zh
    if not en.lower().startswith("example"):
        en = "Example: " + en
    return {"zh": zh, "en": en}


def add_edge(g: nx.DiGraph, s: str, o: str, zh: str, en: str, **extra: Any) -> None:
    """Add a labelled edge; a second edge between the same nodes joins its label to the first."""
    if s not in g or o not in g or s == o:
        return
    if g.has_edge(s, o):
        lab = g.edges[s, o]["labels"]
        if zh not in lab["zh"].split(", "):
            lab["zh"] += ", " + zh
            lab["en"] += ", " + en
        return
    g.add_edge(s, o, labels={"zh": zh, "en": en}, **extra)


def bound(view: ViewGraph, max_nodes: int = MAX_NODES) -> ViewGraph:
    """Keep at most ``max_nodes`` nodes, nearest the centre first, and say so when cut."""
    g = view.graph
    view.total_nodes = g.number_of_nodes()
    if g.number_of_nodes() <= max_nodes:
        return view
    und = g.to_undirected(as_view=True)
    order: list[str] = []
    if view.center is not None and view.center in g:
        order = list(nx.bfs_tree(und, view.center).nodes())
    seen = set(order)
    # Then the rest, most connected first (so the cut keeps the structure).
    order += sorted((n for n in g if n not in seen), key=lambda n: (-g.degree(n), str(n)))
    keep = order[:max_nodes]
    view.graph = g.subgraph(keep).copy()
    view.notes.append(
        {
            "zh": f"图过大：只显示 {max_nodes} / {view.total_nodes} 个节点（离中心最近者优先）。",
            "en": f"Graph cut: showing {max_nodes} of {view.total_nodes} nodes (nearest the centre first).",
        }
    )
    log.info("view %s cut from %d to %d nodes", view.kind, view.total_nodes, max_nodes)
    return view


def neighbourhood(g: nx.DiGraph, center: str, hops: int) -> nx.DiGraph:
    """The ``hops``-hop neighbourhood of ``center`` (edges in either direction)."""
    if center not in g:
        return g
    nodes = nx.ego_graph(g.to_undirected(as_view=True), center, radius=hops).nodes()
    return g.subgraph(nodes).copy()


def layout(g: nx.DiGraph, threshold: int = LAYOUT_THRESHOLD, center: str | None = None) -> bool:
    """Give large graphs server-side positions (``x``, ``y``); returns True when it did.

    A radial layout: the centre in the middle, each ring one hop further out, a node
    placed near the angle of its parent so that edges stay short. It is computed in pure
    Python (networkx's spring and Kamada–Kawai layouts need numpy, which is not a
    dependency) in O(nodes + edges). Small graphs are left to the browser's physics,
    which stops once stable.
    """
    n = g.number_of_nodes()
    if n <= threshold:
        return False
    und = g.to_undirected(as_view=True)
    if center is None or center not in g:
        center = max(g, key=lambda x: (g.degree(x), str(x)))
    rings: list[list[str]] = [[center]]
    parent: dict[str, str] = {}
    seen = {center}
    while True:
        nxt: list[str] = []
        for u in rings[-1]:
            for w in sorted(und[u], key=str):
                if w not in seen:
                    seen.add(w)
                    parent[w] = u
                    nxt.append(w)
        if not nxt:
            break
        rings.append(nxt)
    rest = sorted((x for x in g if x not in seen), key=str)
    if rest:
        rings.append(rest)
    angle: dict[str, float] = {center: 0.0}
    g.nodes[center]["x"], g.nodes[center]["y"] = 0.0, 0.0
    radius = 0.0
    for ring in rings[1:]:
        ring.sort(key=lambda x: (angle.get(parent.get(x, ""), 10.0), str(x)))
        radius = max(radius + 220.0, len(ring) * 34.0 / (2 * math.pi))
        for i, x in enumerate(ring):
            a = 2 * math.pi * i / len(ring)
            angle[x] = a
            g.nodes[x]["x"] = round(radius * math.cos(a), 1)
            g.nodes[x]["y"] = round(radius * math.sin(a), 1)
    return True


def spoke_layout(g: nx.DiGraph, center: str, spokes: dict[str, list[str]], rest: Sequence[str] = ()) -> None:
    """Positions around one centre: each spoke (a need) on an inner ring, ``rest`` (poverty status) on it
    too, and what belongs to the spokes (what meets a need, what could) on an outer ring, each at the mean
    angle of its spokes, pushed apart so that no two sit closer than their share of the ring allows."""
    inner = list(spokes) + [r for r in rest if r not in spokes]
    g.nodes[center]["x"], g.nodes[center]["y"] = 0.0, 0.0
    n = max(1, len(inner))
    r1 = max(260.0, n * 80.0 / (2 * math.pi))
    hub_angle = {hub: 2 * math.pi * i / n - math.pi / 2 for i, hub in enumerate(inner)}
    for hub, a in hub_angle.items():
        g.nodes[hub]["x"], g.nodes[hub]["y"] = round(r1 * math.cos(a), 1), round(r1 * math.sin(a), 1)
    owners: dict[str, list[str]] = {}
    for hub, leaves in spokes.items():
        for leaf in leaves:
            if leaf not in hub_angle and leaf != center:
                owners.setdefault(leaf, []).append(hub)
    wanted = {leaf: math.atan2(sum(math.sin(hub_angle[h]) for h in hs), sum(math.cos(hub_angle[h]) for h in hs))
              for leaf, hs in owners.items()}
    order = sorted(wanted, key=lambda x: (wanted[x], str(x)))
    gap = 2 * math.pi / max(1, len(order)) * 0.9
    angles: list[float] = []
    for leaf in order:  # a sweep: each at its wanted angle, or just past the one before
        angles.append(max(wanted[leaf], angles[-1] + gap) if angles else wanted[leaf])
    if angles and angles[-1] - angles[0] > 2 * math.pi - gap:  # wrapped round: spread evenly from the start
        angles = [angles[0] + i * (2 * math.pi / len(angles)) for i in range(len(angles))]
    r2 = max(r1 + 240.0, len(order) * 70.0 / (2 * math.pi))
    for k, (leaf, a) in enumerate(zip(order, angles, strict=True)):
        radius = r2 + (k % 2) * 110.0  # alternate rings: neighbours' labels do not touch
        g.nodes[leaf]["x"], g.nodes[leaf]["y"] = round(radius * math.cos(a), 1), round(radius * math.sin(a), 1)
    placed = {center, *hub_angle, *order}
    for k, x in enumerate(sorted((x for x in g if x not in placed), key=str)):  # anything else: a row below
        g.nodes[x]["x"], g.nodes[x]["y"] = round(-r2 + 180.0 * k, 1), round(r2 + 260.0, 1)


def grouped_layout(g: nx.DiGraph, center: str, groups: dict[str, list[str]], spacing: float = 60.0) -> None:
    """Positions for an area: its centre on top, one cluster per group (a township, a county) on a grid
    below, each group's hub in the middle of its members, which fill rings around it (closest first)."""
    names = list(groups)
    g.nodes[center]["x"], g.nodes[center]["y"] = 0.0, 0.0
    if not names:
        return

    def rings(count: int) -> list[int]:
        out, r = [], 1
        while count > 0:
            k = min(count, 6 * r)
            out.append(k)
            count -= k
            r += 1
        return out

    cell = max(2 * spacing * (len(rings(len(m))) + 1) for m in groups.values()) + 2 * spacing
    cols = max(1, math.ceil(math.sqrt(len(names))))
    width = (cols - 1) * cell
    for idx, hub in enumerate(names):
        cx = -width / 2 + (idx % cols) * cell
        cy = 300.0 + (idx // cols) * cell
        g.nodes[hub]["x"], g.nodes[hub]["y"] = round(cx, 1), round(cy, 1)
        members = groups[hub]
        k = 0
        for ring, count in enumerate(rings(len(members)), start=1):
            for j in range(count):
                a = 2 * math.pi * j / count - math.pi / 2 + (0.3 if ring % 2 == 0 else 0.0)
                m = members[k]
                g.nodes[m]["x"] = round(cx + ring * spacing * 1.6 * math.cos(a), 1)
                g.nodes[m]["y"] = round(cy + ring * spacing * 1.6 * math.sin(a), 1)
                k += 1


def layered_layout(g: nx.DiGraph, layers: Sequence[Sequence[str]], gap_x: float = 420.0, gap_y: float = 80.0) -> None:
    """Positions in columns, left to right (a policy, its programmes, where they go), each column centred
    on the same line; nodes of no column go in one more."""
    placed = set()
    columns = [[n for n in layer if n in g] for layer in layers]
    rest = sorted((n for n in g if not any(n in c for c in columns)), key=str)
    if rest:
        columns.append(rest)
    for i, column in enumerate(c for c in columns if c):
        top = -gap_y * (len(column) - 1) / 2
        for j, n in enumerate(column):
            if n in placed:
                continue
            g.nodes[n]["x"], g.nodes[n]["y"] = round(i * gap_x, 1), round(top + j * gap_y, 1)
            placed.add(n)
