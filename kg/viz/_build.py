"""Build the four views (village, area, policy, ontology) as networkx graphs from the store."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import networkx as nx
from rdflib import OWL, RDF, RDFS, SKOS, URIRef
from rdflib.collection import Collection

from ..answers.areas import resolve_area
from ..answers.needs import NeedRow, need_rows
from ..answers.recommend import recommend
from ..errors import NotFound
from ..namespaces import DCPA, DCPAV, ID, area, node
from ..resources import ontology_graph
from ..rule import NeedState
from ..store import Store
from . import _data
from ._model import MAX_NODES, ViewGraph, add_edge, add_node, bound, layout, neighbourhood

log = logging.getLogger(__name__)

#: One step of an explanation path: (subject, predicate or None, object).
Step = tuple[str, str | None, str]
#: A candidate: (the need it is for, the candidate IRI, its explanation).
Found = tuple[str | None, str, list[Step]]

_VILLAGE_CLASSES = {str(DCPA[c]) for c in ("Village", "UrbanCommunity", "VillageLevelUnit")}
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


def _add_labelled(g: nx.DiGraph, store: Store, iris: Iterable[str], kind: str | None = None) -> None:
    """Add nodes for ``iris`` with their labels and synthetic flag, kind guessed when not given."""
    iris = [i for i in set(iris) if i not in g]
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
    store: Store,
    code: str,
    *,
    reach: str | None = None,
    hops: int | None = None,
    max_nodes: int = MAX_NODES,
    candidates: int = 3,
) -> ViewGraph:
    """A village, its needs and their types, what addresses them or could, and why.

    Unaddressed needs are of kind ``gap``. ``hops`` keeps only the N-hop neighbourhood.
    """
    vil = resolve_area(store, code)
    if not vil.is_village:
        raise NotFound(f"no village-level unit with code {code!r}", hint="use a 12-digit statistical code")
    v = vil.iri
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

    _add_status(g, store, v)
    rows = need_rows(store, vil, reach=reach, with_reasons=True).rows
    _add_needs(g, store, v, rows)
    direct = [r["i"] for r in _data.select(store, "SELECT DISTINCT ?i WHERE { ?i dcpa:targetsArea ?v }", v=v)]
    interventions = {i for r in rows for i in r.interventions} | set(direct)
    _add_interventions(g, store, interventions, v)
    for i in direct:
        add_edge(g, i, v, "帮扶对象", "targets")
    for r in rows:
        for reason in r.reasons:
            until = reason.valid_until.isoformat() if reason.valid_until else "—"
            how = {"direct": ("直接", "direct"), "area": ("全域在线", "whole area online")}[reason.mode.value]
            add_edge(g, reason.intervention, r.iri, f"满足（{how[0]}，至 {until}）",
                     f"addresses ({how[1]}, until {until})")
    _add_serving_libraries(g, store, v)
    _add_candidates(g, store, code, [r for r in rows if r.state is not NeedState.ADDRESSED], candidates)
    _add_policy_support(g, store, {r.need_type for r in rows})

    title = {"zh": f"村视图：{labs.zh}", "en": f"Village view: {labs.en}"}
    view = ViewGraph(g, "village", title, center=v)
    view.links.append({"zh": "村 JSON", "en": "village JSON", "href": f"/api/villages/{code}"})
    if hops is not None:
        view.graph = neighbourhood(g, v, hops)
    bound(view, max_nodes)
    layout(view.graph, center=view.center)
    return view


def _is_village(store: Store, iri: str) -> bool:
    rows = _data.select(store, "SELECT ?c WHERE { ?a a ?c }", a=iri)
    return any(r["c"] in _VILLAGE_CLASSES for r in rows)


def _add_status(g: nx.DiGraph, store: Store, v: str) -> None:
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


def _add_needs(g: nx.DiGraph, store: Store, v: str, rows: list[NeedRow]) -> None:
    labs = _data.labels(store, [r.iri for r in rows] + [r.need_type for r in rows])
    for r in rows:
        tl = labs[r.need_type]
        add_node(g, r.need_type, "needtype", tl, props=_props(("IRI", "IRI", r.need_type)))
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
                ("IRI", "IRI", r.iri),
            ),
        )
        add_edge(g, v, r.iri, "需求", "has need")
        add_edge(g, r.iri, r.need_type, "需求类型", "need type")
    ev = (
        store.select(
            f"SELECT ?n ?src WHERE {{ VALUES ?n {{ {_data.iri_list(r.iri for r in rows)} }} "
            "?n prov:wasDerivedFrom ?src }"
        )
        if rows
        else []
    )
    _add_labelled(g, store, [e["src"] for e in ev], "source")
    for e in ev:
        add_edge(g, e["n"], e["src"], "证据", "evidence")


def _add_interventions(g: nx.DiGraph, store: Store, interventions: set[str], v: str | None) -> None:
    if not interventions:
        return
    chunk = _data.iri_list(interventions)
    rows = _data.select(
        store,
        f"""SELECT ?i ?cat ?st ?start ?end ?budget WHERE {{ VALUES ?i {{ {chunk} }}
            OPTIONAL {{ ?i dcpa:category ?cat }} OPTIONAL {{ ?i dcpa:interventionStatus ?st }}
            OPTIONAL {{ ?i dcpa:startDate ?start }} OPTIONAL {{ ?i dcpa:endDate ?end }}
            OPTIONAL {{ ?i dcpa:budget ?budget }} }}""",
    )
    concept_labels = _data.labels(store, [r[k] for r in rows for k in ("cat", "st") if k in r])
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
                ("开始日期", "start", r.get("start")),
                ("结束日期", "end", r.get("end")),
                ("预算（元）", "budget (CNY)", r.get("budget")),
                ("IRI", "IRI", i),
            ),
        )
    links = store.select(
        f"""SELECT ?i ?p ?o WHERE {{ VALUES ?i {{ {chunk} }}
            VALUES ?p {{ dcpa:usesResource dcpa:providedBy dcpa:supportedBy dcpa:partOfProgramme }}
            ?i ?p ?o }}"""
    )
    kinds = {
        str(DCPA.usesResource): ("resource", "使用资源", "uses resource"),
        str(DCPA.providedBy): ("library", "实施馆", "provided by"),
        str(DCPA.supportedBy): ("policy", "政策依据", "supported by"),
        str(DCPA.partOfProgramme): ("programme", "所属工程", "part of programme"),
    }
    for kind in ("resource", "library", "policy", "programme"):
        _add_labelled(g, store, [r["o"] for r in links if kinds[r["p"]][0] == kind], kind)
    for r in links:
        _, zh, en = kinds[r["p"]]
        add_edge(g, r["i"], r["o"], zh, en)
    if v is not None:
        evals = store.select(
            f"""SELECT ?e ?i WHERE {{ VALUES ?i {{ {chunk} }} ?e dcpa:evaluates ?i ;
                dcpa:evaluatedArea <{v}> }}"""
        )
        _add_labelled(g, store, [e["e"] for e in evals], "evaluation")
        for e in evals:
            add_edge(g, e["e"], e["i"], "评价", "evaluates")


def _add_serving_libraries(g: nx.DiGraph, store: Store, v: str) -> None:
    rows = _data.select(
        store,
        "SELECT DISTINCT ?l WHERE { { ?l dcpa:serves ?v } UNION { ?v dcpa:withinArea ?a . ?l dcpa:serves ?a } }",
        v=v,
    )
    _add_labelled(g, store, [r["l"] for r in rows], "library")
    for r in rows:
        add_edge(g, r["l"], v, "服务", "serves")


def _add_policy_support(g: nx.DiGraph, store: Store, need_types: set[str]) -> None:
    """Policies in the view that explicitly support a need type in it."""
    policies = [n for n, d in g.nodes(data=True) if d.get("kind") == "policy"]
    if not policies or not need_types:
        return
    rows = _data.select(
        store,
        f"""SELECT ?p ?t WHERE {{ VALUES ?p {{ {_data.iri_list(policies)} }}
            VALUES ?t {{ {_data.iri_list(need_types)} }} ?p dcpa:supportsNeedType ?t }}""",
    )
    for r in rows:
        add_edge(g, r["p"], r["t"], "支持需求类型", "supports need type")


def _add_candidates(g: nx.DiGraph, store: Store, code: str, gaps: list[NeedRow], limit: int) -> None:
    """What could address the unmet needs: ``kg.answers.recommend``'s top candidates and their explanations."""
    if not gaps or limit <= 0:
        return
    try:
        report = recommend(store, code, limit=limit)
    except NotFound:
        return
    found: list[Found] = []
    for n in report.needs:
        for c in n.candidates:
            found.append((n.need, c.iri, [(s.subject, s.predicate, s.object) for s in c.explanation]))
    gap_iris = {r.iri for r in gaps}
    _add_labelled(g, store, [c for _, c, _ in found if c not in g], "candidate")
    for need, cand, path in found:
        if need is not None and need in gap_iris and cand in g and need in g:
            add_edge(g, cand, need, "可满足", "could address", dashes=True)
        _add_path(g, store, path)


def _add_path(g: nx.DiGraph, store: Store, path: list[Step]) -> None:
    """Draw a recommendation's explanation (``(subject, predicate, object)`` steps) with dashed edges."""
    if not path:
        return
    _add_labelled(g, store, [x for s, _, o in path for x in (s, o) if x not in g])
    names = _data.labels(store, [p for _, p, _ in path if p])
    for s, p, o in path:
        if not g.has_edge(s, o) and not g.has_edge(o, s):
            lab = names[p].to_dict() if p and p in names else {"zh": "解释路径", "en": "explanation"}
            add_edge(g, s, o, lab["zh"], lab["en"], dashes=True)


# ---------------------------------------------------------------------------
# Area
# ---------------------------------------------------------------------------


def village_shares(rows: list[NeedRow]) -> dict[str, dict[str, Any]]:
    """Per village: needs, gaps, severe needs, severe gaps and the share of severe need unaddressed."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(area(r.village), {"code": r.village, "needs": 0, "gaps": 0, "severe": 0, "severe_gaps": 0})
        gap = r.state is NeedState.UNADDRESSED
        s["needs"] += 1
        s["gaps"] += int(gap)
        if r.severe:
            s["severe"] += 1
            s["severe_gaps"] += int(gap)
    for s in out.values():
        s["share"] = round(s["severe_gaps"] / s["severe"], 3) if s["severe"] else None
    return out


def share_colour(share: float | None) -> str:
    """Green (all severe need met) to red (none met); grey when there is no severe need."""
    if share is None:
        return "#bdbdbd"
    r = int(67 + (229 - 67) * share)
    gr = int(160 + (57 - 160) * share)
    b = int(71 + (53 - 71) * share)
    return f"#{r:02x}{gr:02x}{b:02x}"


def area_view(store: Store, code: str, *, reach: str | None = None, max_nodes: int = MAX_NODES) -> ViewGraph:
    """Villages of a county or city, coloured by share of unaddressed severe need, and their libraries."""
    info = resolve_area(store, code)
    if info.is_village:
        raise NotFound(
            f"no county, city or province with code {code!r}", hint="use a 2-, 4-, 6- or 9-digit code"
        )
    a = info.iri
    g = nx.DiGraph()
    labs = info.label
    add_node(g, a, "area", labs, props=_props(("区划代码", "code", code), ("IRI", "IRI", a)))
    rows = need_rows(store, info, reach=reach).rows
    shares = village_shares(rows)
    # Intermediate level: township under a county, county under a city or province.
    mid_len = {2: 4, 4: 6, 6: 9}.get(len(code))
    villages = sorted(shares, key=lambda vi: (-(shares[vi]["share"] or 0), shares[vi]["code"]))
    mids = {node("area", shares[vi]["code"][:mid_len]) for vi in villages if mid_len and shares[vi]["code"]}
    mid_labels = _data.labels(store, mids)
    for m in sorted(mids):
        add_node(g, m, "area", mid_labels[m], props=_props(("IRI", "IRI", m)))
        add_edge(g, m, a, "所属", "within")
    vlabs = _data.labels(store, villages)
    vsynth = _data.synthetic(store, villages)
    for vi in villages:
        s = shares[vi]
        share_txt = "—" if s["share"] is None else f"{round(100 * s['share'])}%"
        add_node(
            g,
            vi,
            "village",
            vlabs[vi],
            synthetic=vi in vsynth,
            color=share_colour(s["share"]),
            props=_props(
                ("区划代码", "code", s["code"]),
                ("需求", "needs", s["needs"]),
                ("未满足", "unaddressed", s["gaps"]),
                ("严重需求", "severe needs", s["severe"]),
                ("未满足的严重需求", "unaddressed severe", s["severe_gaps"]),
                ("未满足严重需求占比", "share of severe need unaddressed", share_txt),
                ("IRI", "IRI", vi),
            ),
        )
        parent = node("area", s["code"][:mid_len]) if mid_len and s["code"] else a
        add_edge(g, vi, parent if parent in g else a, "所属", "within")
    _add_area_libraries(g, store, a)
    title = {"zh": f"区域视图：{labs.zh}", "en": f"Area view: {labs.en}"}
    view = ViewGraph(g, "area", title, center=a)
    view.notes.append(
        {
            "zh": "村的颜色：未满足的严重需求（严重度 ≥ 4）占比，绿色 0% → 红色 100%，"
            "灰色为无严重需求；只显示有需求记录的村。",
            "en": "Village colour: share of severe needs (severity ≥ 4) unaddressed, green 0% → red 100%, "
            "grey when none is severe; only villages with recorded needs are shown.",
        }
    )
    view.links.append({"zh": "本区域缺口看板", "en": "gaps of this area", "href": f"/dashboard?area={code}"})
    bound(view, max_nodes)
    layout(view.graph, center=view.center)
    return view


def _add_area_libraries(g: nx.DiGraph, store: Store, a: str) -> None:
    rows = _data.select(
        store,
        """SELECT DISTINCT ?l ?served WHERE { { ?l dcpa:serves ?a . BIND(?a AS ?served) }
            UNION { ?served dcpa:withinArea ?a . ?l dcpa:serves ?served }
            UNION { ?a dcpa:withinArea ?served . ?l dcpa:serves ?served } }""",
        a=a,
    )
    _add_labelled(g, store, [r["l"] for r in rows], "library")
    for r in rows:
        target = r["served"] if r["served"] in g else a
        add_edge(g, r["l"], target, "服务", "serves")


# ---------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------


def policy_view(store: Store, ident: str, *, max_nodes: int = MAX_NODES) -> ViewGraph:
    """Policy → programme → interventions → the villages and areas they target."""
    start = None
    for kind in ("policy", "programme"):
        iri = node(kind, ident)
        if _data.ask(store, "ASK { ?p a ?c }", p=iri):
            start = iri
            break
    if start is None:
        raise NotFound(
            f"no policy or programme with id {ident!r}", hint="ids look like P01 (see policies.csv)"
        )
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
        ints = {
            r["i"]
            for r in _data.select(
                store, "SELECT DISTINCT ?i WHERE { ?i dcpa:supportedBy ?p . ?i a dcpa:Intervention }", p=start
            )
        }
    else:
        progs = {start}
        pols = {
            r["p"]
            for r in _data.select(store, "SELECT DISTINCT ?p WHERE { ?g dcpa:supportedBy ?p }", g=start)
        }
        _add_labelled(g, store, pols, "policy")
        for p in pols:
            add_edge(g, p, start, "支持", "supports")
        ints = set()
    if progs:
        ints |= {
            r["i"]
            for r in store.select(
                f"SELECT DISTINCT ?i WHERE {{ VALUES ?g {{ {_data.iri_list(progs)} }} ?i dcpa:partOfProgramme ?g }}"
            )
        }
    _add_labelled(g, store, ints, "intervention")
    links = (
        store.select(
            f"""SELECT ?i ?p ?o WHERE {{ VALUES ?i {{ {_data.iri_list(ints)} }}
            VALUES ?p {{ dcpa:partOfProgramme dcpa:supportedBy dcpa:targetsArea }} ?i ?p ?o }}"""
        )
        if ints
        else []
    )
    targets = [r["o"] for r in links if r["p"] == str(DCPA.targetsArea)]
    _add_labelled(g, store, targets, "area")
    villages = [t for t in targets if _is_village(store, t)]
    for t in villages:
        g.nodes[t]["kind"] = "village"
    for r in links:
        if r["p"] == str(DCPA.partOfProgramme):
            add_edge(g, r["o"], r["i"], "包含项目", "includes")
        elif r["p"] == str(DCPA.targetsArea):
            add_edge(g, r["i"], r["o"], "帮扶对象", "targets")
        elif r["o"] == start:
            if not any(g.has_edge(pr, r["i"]) for pr in progs):
                add_edge(g, start, r["i"], "支持", "supports")
    labs = g.nodes[start]["labels"]
    title = {"zh": f"政策视图：{labs['zh']}", "en": f"Policy view: {labs['en']}"}
    view = ViewGraph(g, "policy", title, center=start)
    bound(view, max_nodes)
    layout(view.graph, center=view.center)
    return view


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
