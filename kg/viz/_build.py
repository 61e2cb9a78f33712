"""Build the four views (village, area, policy, ontology) as networkx graphs from the store."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import networkx as nx
import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, SKOS, URIRef
from rdflib.collection import Collection

from ..answers.areas import child_areas, resolve_area
from ..answers.basis import basis
from ..answers.gaps import Tally, map_tallies
from ..answers.needs import SEVERE, NeedRow, need_rows
from ..answers.recommend import recommend
from ..contract import StoreAPI
from ..errors import NotFound
from ..facts import iri_in, run_parallel
from ..namespaces import DCPA, DCPAV, ID, area, node
from ..resources import ontology_graph
from ..rule import NeedState, prefixes
from ..search import short_name
from ..settings import Settings
from . import _data
from ._model import (
    MAX_NODES,
    ViewGraph,
    add_edge,
    add_node,
    bound,
    grouped_layout,
    layered_layout,
    layout,
    neighbourhood,
    spoke_layout,
)

log = logging.getLogger(__name__)

_ID_KINDS = {
    "area": "area",
    "need": "need",
    "library": "library",
    "resource": "resource",
    "intervention": "intervention",
    "policy": "policy",
    "programme": "programme",
    "source": "source",
    "evaluation": "evaluation",
    "status": "status",
}


def guess_kind(iri: str) -> str:
    """The view kind of a node from its IRI (data nodes and vocabulary concepts)."""
    if iri.startswith(str(ID)):
        return _ID_KINDS.get(iri[len(str(ID)) :].split("/", 1)[0], "source")
    if iri.startswith(str(DCPAV)):
        code = iri[len(str(DCPAV)) :]
        return {"N": "needtype", "C": "category", "R": "rtype"}.get(code[:1], "category")
    return "external"


def _props(*rows: tuple[str, str, Any]) -> list[list[Any]]:
    """Detail-panel rows; labels become {zh, en} (the panel picks the language)."""
    return [[zh, en, v.to_dict() if isinstance(v, _data.Label) else v] for zh, en, v in rows if v not in (None, "")]


def _add_labelled(g: nx.DiGraph, store: StoreAPI, iris: Iterable[str], kind: str | None = None) -> None:
    """Add nodes for ``iris`` with their labels and synthetic flag, kind guessed when not given; in IRI order,
    so that a layout does not change from one process to the next (a set's order does)."""
    iris = sorted({i for i in iris if i not in g})
    if not iris:
        return
    labs = _data.labels(store, iris)
    synth = _data.synthetic(store, iris)
    for i in iris:
        add_node(g, i, kind or guess_kind(i), labs[i], synthetic=i in synth, props=_props(("IRI", "IRI", i)))


# ---------------------------------------------------------------------------
# Village
# ---------------------------------------------------------------------------


def village_view(
    store: StoreAPI,
    code: str,
    *,
    reach: str | None = None,
    hops: int | None = None,
    max_nodes: int = MAX_NODES,
    candidates: int = 3,
    settings: Settings | None = None,
    real_only: bool = False,
) -> ViewGraph:
    """A village laid out around its needs: each need, coloured by its state, with the interventions that
    meet it and the best candidates that could (dashed), and the village's poverty status.

    The candidates' explanation paths are on the village page and in the recommendations API; drawn
    here they made a 77-label hairball. ``hops`` keeps only the N-hop neighbourhood. ``real_only`` draws what
    real data alone says (real needs and statuses, the real interventions and candidates for them), as the
    village page with "real data only" does.
    """
    vil = resolve_area(store, code)
    if not vil.is_village:
        raise NotFound(f"没有代码为 {code!r} 的村级单位 / no village-level unit with code {code!r}",
                       hint="请使用 12 位统计用区划代码 / use a 12-digit statistical code")
    code, v = vil.code, vil.iri  # the code as the graph writes it, not as typed
    g = nx.DiGraph()
    labs = vil.label
    add_node(
        g,
        v,
        "village",
        labs,
        synthetic=bool(_data.synthetic(store, [v])),
        props=_props(("区划代码", "code", code), ("IRI", "IRI", v)),
    )
    _add_status(g, store, v, real_only)
    rows = need_rows(store, vil, reach=reach, with_reasons=True, real_only=real_only, settings=settings).rows
    _add_needs(g, store, v, rows)
    meeting = {r.iri: sorted({reason.intervention for reason in r.reasons}) for r in rows}
    _add_interventions(g, store, {i for found in meeting.values() for i in found})
    for r in rows:
        for reason in r.reasons:
            until = reason.valid_until.isoformat() if reason.valid_until else "—"
            how = {"direct": ("直接", "direct"), "area": ("全域在线", "whole area online")}[reason.mode.value]
            add_edge(g, reason.intervention, r.iri, "满足", "meets")
            name = g.nodes[reason.intervention]["labels"] if reason.intervention in g else {"zh": "", "en": ""}
            g.nodes[r.iri]["props"].append(["满足它的项目", "met by",
                                            {"zh": f"{name['zh']}（{how[0]}，至 {until}）",
                                             "en": f"{name['en']} ({how[1]}, until {until})"}])
    could = _add_candidates(g, store, code, [r for r in rows if r.state is not NeedState.ADDRESSED], candidates,
                            settings, real_only)

    title = {"zh": f"村视图：{labs.zh}", "en": f"Village view: {labs.en}"}
    view = ViewGraph(g, "village", title, center=v)
    view.notes.append({
        "zh": "围绕各项需求：实线为已满足它的帮扶项目，虚线为可满足它的推荐候选（每项最多 "
              f"{candidates} 个；理由见村页面）。",
        "en": "Around each need: solid lines are the interventions that meet it, dashed ones the candidates "
              f"that could (at most {candidates} a need; the reasons are on the village page).",
    })
    only = "?real_only=true" if real_only else ""  # the pages it leads to answer from the same data
    view.links.append({"zh": "村页面", "en": "village page", "href": f"/dashboard/village/{code}{only}"})
    view.links.append({"zh": "村 JSON", "en": "village JSON", "href": f"/api/villages/{code}{only}"})
    if not real_only:
        view.links.append({"zh": "只看真实数据", "en": "real data only",
                           "href": f"/views/village/{code}?real_only=true"})
    if hops is not None:
        view.graph = neighbourhood(g, v, hops)
    bound(view, max_nodes)
    kept = view.graph
    spokes = {r.iri: [x for x in meeting[r.iri] + could.get(r.iri, []) if x in kept] for r in rows if r.iri in kept}
    statuses = [n for n, d in kept.nodes(data=True) if d.get("kind") == "status"]
    spoke_layout(kept, v, spokes, statuses)
    return view


def _add_status(g: nx.DiGraph, store: StoreAPI, v: str, real_only: bool = False) -> None:
    rows = _data.select(
        store,
        """SELECT ?s ?type ?reg ?exit ?hh ?pop WHERE { ?v dcpa:povertyStatus ?s .
            OPTIONAL { ?s dcpa:statusType ?type } OPTIONAL { ?s dcpa:registeredYear ?reg }
            OPTIONAL { ?s dcpa:exitYear ?exit } OPTIONAL { ?s dcpa:poorHouseholds ?hh }
            OPTIONAL { ?s dcpa:poorPopulation ?pop } }""",
        v=v,
    )
    if not rows:
        return
    type_labels = _data.labels(store, [r["type"] for r in rows if "type" in r])
    synth = _data.synthetic(store, [r["s"] for r in rows])
    for r in rows:
        if real_only and r["s"] in synth:
            continue
        tl = type_labels.get(r.get("type", ""), {"zh": "贫困状态", "en": "poverty status"})
        add_node(
            g,
            r["s"],
            "status",
            tl,
            synthetic=r["s"] in synth,
            props=_props(
                ("认定年份", "registered", r.get("reg")),
                ("退出年份", "exit year", r.get("exit")),
                ("贫困户数", "poor households", r.get("hh")),
                ("贫困人口", "poor population", r.get("pop")),
                ("IRI", "IRI", r["s"]),
            ),
        )
        add_edge(g, v, r["s"], "贫困状态", "poverty status")


_STATE_TEXT = {
    NeedState.ADDRESSED: ("need", {"zh": "已满足", "en": "addressed"}),
    NeedState.UNVERIFIED: ("unverified", {"zh": "已满足但未经验证（评估未达标）", "en": "addressed, not verified "
                                          "(evaluated below target)"}),
    NeedState.UNADDRESSED: ("gap", {"zh": "未满足", "en": "unaddressed"}),
}


def _add_needs(g: nx.DiGraph, store: StoreAPI, v: str, rows: list[NeedRow]) -> None:
    """Each need, named by its type and severity (its type and evidence are in its details)."""
    labs = _data.labels(store, [r.need_type for r in rows])
    ev = (
        store.select(
            f"SELECT ?n ?src WHERE {{ VALUES ?n {{ {_data.iri_list(r.iri for r in rows)} }} "
            "?n prov:wasDerivedFrom ?src }"
        )
        if rows
        else []
    )
    sources = _data.labels(store, [e["src"] for e in ev])
    evidence: dict[str, list[dict[str, str]]] = {}
    for e in ev:
        evidence.setdefault(e["n"], []).append(sources[e["src"]].to_dict())
    for r in rows:
        tl = labs[r.need_type]
        kind, state = _STATE_TEXT[r.state]
        nl = {"zh": f"{tl.zh}（严重度 {r.severity}）", "en": f"{tl.en} (severity {r.severity})"}
        add_node(
            g,
            r.iri,
            kind,
            nl,
            synthetic=r.example,
            props=_props(
                ("状态", "state", state),
                ("需求类型", "need type", tl.to_dict()),
                ("严重程度", "severity", r.severity),
                ("受影响人数", "people affected", r.people),
                *(("证据", "evidence", e) for e in evidence.get(r.iri, [])),
                ("IRI", "IRI", r.iri),
            ),
        )
        add_edge(g, v, r.iri, "需求", "has need", quiet=True)


def _add_interventions(g: nx.DiGraph, store: StoreAPI, interventions: set[str]) -> None:
    """The interventions, each with its category, status, dates, budget and library in its details."""
    if not interventions:
        return
    chunk = _data.iri_list(interventions)
    rows = _data.select(
        store,
        f"""SELECT ?i ?cat ?st ?start ?end ?budget ?lib WHERE {{ VALUES ?i {{ {chunk} }}
            OPTIONAL {{ ?i dcpa:category ?cat }} OPTIONAL {{ ?i dcpa:interventionStatus ?st }}
            OPTIONAL {{ ?i dcpa:startDate ?start }} OPTIONAL {{ ?i dcpa:endDate ?end }}
            OPTIONAL {{ ?i dcpa:budget ?budget }} OPTIONAL {{ ?i dcpa:providedBy ?lib }} }}""",
    )
    concept_labels = _data.labels(store, [r[k] for r in rows for k in ("cat", "st", "lib") if k in r])
    labs = _data.labels(store, interventions)
    synth = _data.synthetic(store, interventions)
    for r in rows:
        i = r["i"]
        add_node(
            g,
            i,
            "intervention",
            labs[i],
            synthetic=i in synth,
            props=_props(
                ("帮扶类别", "category", concept_labels.get(r.get("cat", ""))),
                ("项目状态", "status", concept_labels.get(r.get("st", ""))),
                ("实施馆", "library", concept_labels.get(r.get("lib", ""))),
                ("开始日期", "start", r.get("start")),
                ("结束日期", "end", r.get("end")),
                ("预算（元）", "budget (CNY)", r.get("budget")),
                ("IRI", "IRI", i),
            ),
        )


def _add_candidates(g: nx.DiGraph, store: StoreAPI, code: str, gaps: list[NeedRow], limit: int,
                    settings: Settings | None = None, real_only: bool = False) -> dict[str, list[str]]:
    """What could meet the unmet needs (``kg.answers.recommend``'s best candidates): need → candidates."""
    if not gaps or limit <= 0:
        return {}
    try:
        report = recommend(store, code, limit=limit, settings=settings, real_only=real_only)
    except NotFound:
        return {}
    gap_iris = {r.iri for r in gaps}
    out: dict[str, list[str]] = {}
    # the library and the area it serves named in both languages too (the report's names are Chinese)
    names = _data.labels(store, [i for n in report.needs for c in n.candidates for i in (c.iri, c.library, c.served)])
    for n in report.needs:
        if n.need not in gap_iris or n.need not in g:
            continue
        for c in n.candidates:
            if c.iri not in g:
                add_node(g, c.iri, "candidate", names[c.iri],
                         synthetic=c.example,
                         props=_props(("得分", "score", c.score), ("图书馆", "library", names.get(c.library)),
                                      ("服务范围", "library serves", names.get(c.served) or c.served),
                                      ("单价/预算（元）", "cost (CNY)", c.unit_cost), ("余量", "left", c.capacity),
                                      ("IRI", "IRI", c.iri)))
            add_edge(g, c.iri, n.need, "可满足", "could meet", dashes=True)
            out.setdefault(n.need, []).append(c.iri)
    return out


# ---------------------------------------------------------------------------
# Area
# ---------------------------------------------------------------------------


def tally_shares(tallies: list[Tally]) -> dict[str, dict[str, Any]]:
    """Per area counted (a village, or a county of a province): needs, gaps, severe needs, severe gaps and
    the share of severe need unaddressed."""
    out: dict[str, dict[str, Any]] = {}
    for t in tallies:
        s = out.setdefault(area(t.code), {"code": t.code, "needs": 0, "gaps": 0, "severe": 0, "severe_gaps": 0})
        s["needs"] += t.needs
        s["gaps"] += t.gaps
        if t.severity >= SEVERE:
            s["severe"] += t.needs
            s["severe_gaps"] += t.gaps
    for s in out.values():
        s["share"] = round(s["severe_gaps"] / s["severe"], 3) if s["severe"] else None
    return out


#: The share scale (ColorBrewer RdYlBu, reversed: safe for the common colour-vision deficiencies):
#: blue when all severe need is met, pale yellow half way, red when none is.
SHARE_SCALE = ((0.0, (44, 123, 182)), (0.5, (255, 255, 191)), (1.0, (215, 25, 28)))


def share_colour(share: float | None) -> str:
    """The colour of a share of severe need unaddressed on ``SHARE_SCALE``; grey when there is no severe need."""
    if share is None:
        return "#bdbdbd"
    x = min(1.0, max(0.0, share))
    (a, ca), (b, cb) = next((lo, hi) for lo, hi in zip(SHARE_SCALE, SHARE_SCALE[1:], strict=False) if x <= hi[0])
    f = (x - a) / (b - a)
    r, g, bl = (round(u + (v - u) * f) for u, v in zip(ca, cb, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"


def area_view(store: StoreAPI, code: str, *, reach: str | None = None, max_nodes: int = MAX_NODES,
              real_only: bool = False, settings: Settings | None = None) -> ViewGraph:
    """An area drawn as a map of its parts: one cluster per child area (the townships of a county, the
    counties of a city or province), its members around it (the villages with recorded needs; for a
    province, the counties), each coloured by the share of its severe need left unaddressed; a township
    is one cluster of its villages. Every part links to its own view. ``real_only`` colours it by the real
    needs alone, and the views it leads to answer from real data too. ``settings``: the server's (its day and
    validity windows), else the process's."""
    info = resolve_area(store, code)
    if info.is_village:
        raise NotFound(
            f"没有代码为 {code!r} 的县、市或省 / no county, city or province with code {code!r}",
            hint="请使用 2、4、6 或 9 位代码 / use a 2-, 4-, 6- or 9-digit code",
        )
    code, a = info.code, info.iri  # the code as the graph writes it, not as typed
    g = nx.DiGraph()
    labs = info.label
    tallies = map_tallies(store, info, reach=reach, settings=settings)
    if real_only:
        tallies = [t for t in tallies if not t.example]
    only = "?real_only=true" if real_only else ""
    shares = tally_shares(tallies)
    member_len = 6 if len(code) == 2 else 12  # a province's clusters show counties, the others villages
    hub_len = {2: 4, 4: 6, 6: 9, 9: 9}[len(code)]
    tally = _tally_by(shares, {hub_len, member_len, len(code)})
    add_node(g, a, "area", labs, color=share_colour(_share(tally.get(code))), font_size=40,
             props=_props(("区划代码", "code", code), *_share_props(tally.get(code)), ("IRI", "IRI", a)))
    # The child areas with needs first (in code order), then those without.
    hubs = [a] if len(code) == 9 else sorted((area(c.code) for c in child_areas(store, code)),
                                              key=lambda h: (h.rsplit("/", 1)[-1] not in tally, h))
    members = sorted({c[:member_len] for c in tally if len(c) == member_len})
    names = _data.labels(store, [h for h in hubs if h != a] + [area(m) for m in members])
    vsynth = _data.synthetic(store, [area(m) for m in members if len(m) == 12])
    groups: dict[str, list[str]] = {h: [] for h in hubs}
    for h in hubs:
        if h == a:
            continue
        hc = h.rsplit("/", 1)[-1]
        add_node(g, h, "area", names[h], color=share_colour(_share(tally.get(hc))), href=f"/views/area/{hc}{only}",
                 size=24, font_size=32,
                 props=_props(("区划代码", "code", hc), *_share_props(tally.get(hc)), ("IRI", "IRI", h)))
    for m in members:
        iri = area(m)
        hub = a if len(code) == 9 else area(m[:hub_len])
        if hub not in g:
            continue
        village = len(m) == 12
        label = names[iri]
        add_node(g, iri, "village" if village else "area",
                 {"zh": short_name(label.zh), "en": label.en}, synthetic=iri in vsynth,
                 color=share_colour(_share(tally.get(m))),
                 href=f"/dashboard/village/{m}{only}" if village else f"/views/area/{m}{only}",
                 props=_props(("区划代码", "code", m), *_share_props(tally.get(m)), ("IRI", "IRI", iri)))
        add_edge(g, iri, hub, "所属", "within", quiet=True)
        groups.setdefault(hub, []).append(iri)
    title = {"zh": f"区域视图：{labs.zh}", "en": f"Area view: {labs.en}"}
    view = ViewGraph(g, "area", title, center=a)
    view.data_basis = basis((t.example for t in tallies for _ in range(t.needs)), real_only=real_only,
                            what_zh="项需求（颜色的依据）", what_en="needs (behind the colours)")
    view.notes.append(
        {
            "zh": "颜色：未满足的严重需求（严重度 ≥ 4）占比，蓝 0% → 淡黄 50% → 红 100%，灰色为无严重需求；"
            "按下级区域分组，只画有需求记录的村。点一个区域或村，详情里有它自己的页面。",
            "en": "Colour: share of severe needs (severity ≥ 4) unaddressed, blue 0% → pale yellow 50% → red 100%, "
            "grey when none is severe; grouped by the areas below, villages drawn when they have recorded needs. "
            "Click an area or a village: its details link to its own page.",
        }
    )
    view.links.append({"zh": "本区域缺口看板", "en": "gaps of this area",
                       "href": f"/dashboard?area={code}" + ("&real_only=true" if real_only else "")})
    if not real_only:
        view.links.append({"zh": "只看真实数据", "en": "real data only", "href": f"/views/area/{code}?real_only=true"})
    bound(view, max_nodes)
    kept = view.graph
    grouped_layout(kept, a, {h: [m for m in ms if m in kept] for h, ms in groups.items() if h in kept and h != a}
                   if len(code) != 9 else {a: [m for m in groups.get(a, []) if m in kept]})
    return view


def _tally_by(shares: dict[str, dict[str, Any]], lengths: set[int]) -> dict[str, dict[str, int]]:
    """Needs, gaps, severe needs and severe gaps summed by code prefix (one entry per prefix length asked)."""
    out: dict[str, dict[str, int]] = {}
    for s in shares.values():
        for n in lengths:
            t = out.setdefault(s["code"][:n], {"needs": 0, "gaps": 0, "severe": 0, "severe_gaps": 0})
            for k in t:
                t[k] += s[k]
    return out


def _share(t: dict[str, int] | None) -> float | None:
    return round(t["severe_gaps"] / t["severe"], 3) if t and t["severe"] else None


def _share_props(t: dict[str, int] | None) -> list[tuple[str, str, Any]]:
    if not t:
        return [("需求", "needs", "0")]
    share = _share(t)
    return [("需求", "needs", t["needs"]), ("未满足", "unaddressed", t["gaps"]),
            ("严重需求", "severe needs", t["severe"]), ("未满足的严重需求", "unaddressed severe", t["severe_gaps"]),
            ("未满足严重需求占比", "share of severe need unaddressed",
             "—" if share is None else f"{round(100 * share)}%")]


# ---------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------


def policy_view(store: StoreAPI, ident: str, *, area_code: str | None = None, max_nodes: int = MAX_NODES,
                real_only: bool = False) -> ViewGraph:
    """A policy (or programme), the programmes it supports, and where their interventions go (``real_only``:
    its real interventions alone, and the views it leads to answer from real data too).

    Where they go is summed up by area, one level below ``area_code`` (cities for the whole province,
    counties for a city): each area says how many interventions and villages, and links to this view
    narrowed to it. Narrowed to a county or below, the interventions and the villages they name are
    drawn themselves. A ring of every intervention and village, cut at ``max_nodes``, told nothing.
    """
    start = None
    for kind in ("policy", "programme"):
        iri = node(kind, ident)
        if _data.ask(store, "ASK { ?p a ?c }", p=iri):
            start = iri
            break
    if start is None:
        raise NotFound(
            f"没有编号为 {ident!r} 的政策或文化工程 / no policy or programme with id {ident!r}",
            hint="编号形如 P01（见 policies.csv） / ids look like P01 (see policies.csv)",
        )
    scope = resolve_area(store, area_code) if area_code else None
    g = nx.DiGraph()
    _add_labelled(g, store, [start])
    if g.nodes[start]["kind"] == "policy":
        progs = {
            r["g"]
            for r in _data.select(
                store,
                """SELECT DISTINCT ?g WHERE { { ?g dcpa:supportedBy ?p . ?g a dcpa:Programme }
                UNION { ?i dcpa:supportedBy ?p ; dcpa:partOfProgramme ?g } }""",
                p=start,
            )
        }
        _add_labelled(g, store, progs, "programme")
        for pr in progs:
            add_edge(g, start, pr, "支持", "supports")
        # the interventions it supports itself (with their programme, if any, as below)
        heads = [f"?i dcpa:supportedBy {ox.NamedNode(start)} ; a dcpa:Intervention . "
                 "OPTIONAL { ?i dcpa:partOfProgramme ?g }"]
    else:
        progs = {start}
        pols = {
            r["p"]
            for r in _data.select(store, "SELECT DISTINCT ?p WHERE { ?g dcpa:supportedBy ?p }", g=start)
        }
        _add_labelled(g, store, pols, "policy")
        for p in pols:
            add_edge(g, p, start, "支持", "supports")
        heads = []
    if progs and scope is None:
        heads.append(f"VALUES ?g {{ {_data.iri_list(progs)} }} ?i dcpa:partOfProgramme ?g .")
    elif progs:  # from the area's interventions (below): as VALUES, Oxigraph started from the programmes
        heads.append(f"?i dcpa:partOfProgramme ?g . FILTER(?g IN ({iri_in(progs)}))")
    # Each intervention with its programme, its targets and its example flag, found from the policy or the
    # programmes: the interventions first and their links by VALUES (41,825 of them for P02 at national
    # scale) took 3.9 s, and with the two links as a second VALUES block Oxigraph read every triple of the
    # store (past the 60 s limit); so, the view 2.1-2.3 s served (the engine joining 65,292 targets 1.0-1.4 s)
    # Narrowed to an area, from the areas: those in it and those holding it (a county of P02 read from the
    # policy's every intervention: 1.3-2.1 s; so, 0.2-0.25 s)
    if scope is None:
        from_areas, their = "", "OPTIONAL { ?i dcpa:targetsArea ?o }"
    else:
        holding = " ".join(str(ox.NamedNode(area(c))) for c in prefixes(scope.code))
        from_areas = (f"{{ ?o dcpa:withinArea {ox.NamedNode(scope.iri)} }} UNION {{ VALUES ?o {{ {holding} }} }} "
                      "?i dcpa:targetsArea ?o .")
        their = ""
    prog_of: dict[str, str] = {}
    targets: dict[str, list[str]] = {}
    flagged: set[str] = set()
    for rows in run_parallel(store, [(f"SELECT ?i ?g ?o ?ex WHERE {{ {from_areas} {head} {their} "
                                      "OPTIONAL { ?i dcpa:isSynthetic ?ex } }", {}) for head in heads]):
        for i, prog, o, ex in rows:
            if i is None:
                continue
            if prog is not None and prog in g:
                prog_of.setdefault(i, prog)
            if o is not None:
                codes = targets.setdefault(i, [])
                if o.rsplit("/", 1)[-1] not in codes:
                    codes.append(o.rsplit("/", 1)[-1])
            if ex == "true":
                flagged.add(i)
    within = scope.code if scope else ""
    targets = {i: [c for c in cs if c.startswith(within) or within.startswith(c)] for i, cs in targets.items()}
    targets = {i: cs for i, cs in targets.items() if cs and not (real_only and i in flagged)}
    only = "real_only=true" if real_only else ""
    labs = g.nodes[start]["labels"]
    where = f"（{scope.label.zh}）" if scope else ""
    title = {"zh": f"政策视图：{labs['zh']}{where}", "en": f"Policy view: {labs['en']}"
             + (f" ({scope.label.en})" if scope else "")}
    view = ViewGraph(g, "policy", title, center=start)
    if scope is not None:
        up = scope.parent.code if scope.parent else None
        query = "&".join(q for q in (f"area={up}" if up and len(up) > 2 else "", only) if q)
        view.links.append({"zh": "上一级", "en": "one level up",
                           "href": f"/views/policy/{ident}" + (f"?{query}" if query else "")})
    if not real_only:
        view.links.append({"zh": "只看真实数据", "en": "real data only", "href": f"/views/policy/{ident}?"
                           + "&".join(q for q in (f"area={scope.code}" if scope else "", "real_only=true") if q)})
    view.data_basis = basis([i in flagged for i in targets], real_only=real_only, what_zh="个帮扶项目",
                            what_en="interventions")
    if scope is None or len(scope.code) <= 4:
        _policy_by_area(g, store, ident, start, targets, prog_of, len(scope.code) if scope else 2, only)
        view.notes.append({"zh": "按地区汇总各项目与村数；点一个地区，详情里可进入该地区的明细。",
                           "en": "Interventions and villages summed up by area; click an area: its details lead "
                                 "to the view narrowed to it."})
    else:
        _add_labelled(g, store, list(targets), "intervention")
        names = _data.labels(store, [area(c) for cs in targets.values() for c in cs])
        for i, cs in targets.items():
            add_edge(g, prog_of.get(i, start), i, "包含项目", "includes")
            for c in cs:
                t = area(c)
                add_node(g, t, "village" if len(c) == 12 else "area", names[t],
                         href=(f"/dashboard/village/{c}" if len(c) == 12 else f"/views/area/{c}")
                         + (f"?{only}" if only else ""))
                add_edge(g, i, t, "帮扶对象", "targets")
    bound(view, max_nodes)
    kept = view.graph
    first = [n for n in kept if kept.nodes[n].get("kind") == "policy"] if start in progs else [start]
    programmes = [n for n in kept if kept.nodes[n].get("kind") == "programme"]
    interventions = sorted((n for n in kept if kept.nodes[n].get("kind") == "intervention"),
                           key=lambda i: (prog_of.get(i, ""), i))
    places = sorted((n for n in kept if kept.nodes[n].get("kind") in ("area", "village")), key=str)
    layered_layout(kept, [first, [p for p in programmes if p not in first], interventions, places])
    return view


def _policy_by_area(g: nx.DiGraph, store: StoreAPI, ident: str, start: str, targets: dict[str, list[str]],
                    prog_of: dict[str, str], level: int, only: str = "") -> None:
    """One node per area one level below ``level`` (by code prefix): how many interventions and villages of
    the policy go there, linked from each programme with its count, and to the view narrowed to it."""
    size = {2: 4, 4: 6}[level]
    per_area: dict[str, set[str]] = {}
    villages: dict[str, set[str]] = {}
    for i, codes in targets.items():
        for c in codes:
            key = c[:size] if len(c) >= size else c
            per_area.setdefault(key, set()).add(i)
            if len(c) == 12:
                villages.setdefault(key, set()).add(c)
    names = _data.labels(store, [area(k) for k in per_area])
    for key, ints in sorted(per_area.items()):
        n, m = len(ints), len(villages.get(key, ()))
        name = names[area(key)]
        node_iri = f"{area(key)}#policy-{ident}"  # the area as this view sums it up (not the area node itself)
        add_node(g, node_iri, "area",
                 {"zh": f"{name.zh}：{n} 个项目，{m} 个村", "en": f"{name.en}: {n} interventions, {m} villages"},
                 href=f"/views/policy/{ident}?area={key}" + (f"&{only}" if only else ""), size=min(28, 10 + n // 3),
                 props=_props(("区划代码", "code", key), ("项目", "interventions", n), ("村", "villages", m)))
        by_prog: dict[str, int] = {}
        for i in ints:
            by_prog[prog_of.get(i, start)] = by_prog.get(prog_of.get(i, start), 0) + 1
        for prog, count in by_prog.items():
            add_edge(g, prog, node_iri, f"{count} 个项目", f"{count} interventions")


# ---------------------------------------------------------------------------
# Ontology
# ---------------------------------------------------------------------------


def ontology_view(max_nodes: int = MAX_NODES) -> ViewGraph:
    """Classes (subclass edges) and object properties (domain → range edges) of the ontology."""
    og = ontology_graph()
    g = nx.DiGraph()

    def lab(term: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for lit in list(og.objects(term, RDFS.label)) + list(og.objects(term, SKOS.prefLabel)):
            lang = (getattr(lit, "language", None) or "").lower()
            if lang[:2] in ("zh", "en") and lang[:2] not in out:
                out[lang[:2]] = str(lit)
        name = _data.local_name(str(term))
        return {"zh": out.get("zh", name), "en": out.get("en", name)}

    def defs(term: Any) -> list[list[Any]]:
        d: dict[str, str] = {}
        for lit in og.objects(term, SKOS.definition):
            lang = (getattr(lit, "language", None) or "")[:2]
            d[lang] = str(lit)
        rows = [["定义", "definition", {"zh": d.get("zh", ""), "en": d.get("en", "")}]] if d else []
        return rows + [["IRI", "IRI", str(term)]]

    def classes(term: Any) -> list[Any]:
        if isinstance(term, URIRef):
            return [term]
        union = og.value(term, OWL.unionOf)
        return list(Collection(og, union)) if union is not None else []

    def ensure(term: Any) -> None:
        if str(term) not in g:
            kind = "class" if str(term).startswith(str(DCPA)) else "external"
            add_node(g, str(term), kind, lab(term), props=defs(term))

    for c in og.subjects(RDF.type, OWL.Class):
        if isinstance(c, URIRef):
            ensure(c)
    for c, sup in og.subject_objects(RDFS.subClassOf):
        if isinstance(c, URIRef) and isinstance(sup, URIRef):
            ensure(c)
            ensure(sup)
            add_edge(g, str(c), str(sup), "子类", "subclass of", dashes=True)
    for p in og.subjects(RDF.type, OWL.ObjectProperty):
        if not str(p).startswith(str(DCPA)):
            continue
        pl = lab(p)
        for d in og.objects(p, RDFS.domain):
            for r in og.objects(p, RDFS.range):
                for dc in classes(d):
                    for rc in classes(r):
                        ensure(dc)
                        ensure(rc)
                        add_edge(g, str(dc), str(rc), pl["zh"], pl["en"])
    view = ViewGraph(
        g, "ontology", {"zh": "本体视图：类与属性", "en": "Ontology view: classes and properties"}
    )
    view.links.append({"zh": "本体文档", "en": "ontology documentation", "href": "/ontology.html"})
    bound(view, max_nodes)
    layout(view.graph, center=view.center)
    return view
