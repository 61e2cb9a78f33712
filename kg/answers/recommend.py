"""Recommendations: ranked resources and interventions for a village's unaddressed needs.

Each candidate gets a score in [0, 1] from five components (weights in ``WEIGHTS``):

* ``type_fit`` — 1.0 when the candidate addresses the need's own type, 0.7 per level
  when it addresses a broader type (skos:broader), 0.4 when only a narrower type;
* ``reach`` — how close the providing library is: it serves the village (1.0), its
  township (0.8), county (0.6), city (0.4) or province (0.2);
* ``policy`` — 0.5 when a policy supports the need type (or a broader one) plus 0.5
  when the candidate itself is backed by a policy (an intervention's ``supportedBy``,
  directly or through its programme; for a resource, an intervention using it);
* ``availability`` — cost and remaining capacity: 0.5·1/(1+cost/10 000) +
  0.5·min(capacity, 10)/10 (unknown values count 0.5); resources with no capacity
  left are not candidates;
* ``evidence`` — the share of evaluations met (actual ≥ target) among the evaluations
  of interventions of the same category (intervention) or resource type (resource)
  in villages of the same county that have a need of the same type.

Ties are broken by lower unit cost, then by IRI, so the order is deterministic.
Only libraries that serve the village or an area containing it are considered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..namespaces import DCPA, DCPAV, SKOS, area
from ..store import Store
from ._common import (
    FITS_PATH,
    AreaInfo,
    ancestors_path,
    labels,
    need_rows,
    need_type_tree,
    parse_reach,
    prefixes,
    resolve_area,
    to_jsonable,
)

log = logging.getLogger(__name__)

WEIGHTS = {"type_fit": 0.30, "reach": 0.25, "policy": 0.15, "availability": 0.15, "evidence": 0.15}
REACH_SCORE = {12: 1.0, 9: 0.8, 6: 0.6, 4: 0.4, 2: 0.2}
BROADER_STEP = 0.7
NARROWER_FIT = 0.4
CANDIDATE_STATUSES = (str(DCPAV.S1), str(DCPAV.S2))


@dataclass
class Step:
    """One edge of an explanation path: subject —predicate→ object, with labels."""

    subject: str
    subject_label: str | None
    predicate: str
    object: str
    object_label: str | None


@dataclass
class Candidate:
    kind: str  # "resource" or "intervention"
    iri: str
    label: str | None
    library: str
    library_label: str | None
    fit: str  # exact / broader / narrower
    fit_type: str
    score: float
    components: dict[str, float]
    unit_cost: float | None
    capacity: float | None
    explanation: list[Step] = field(default_factory=list)


@dataclass
class NeedRecommendation:
    need: str
    need_type: str
    need_type_label: str | None
    severity: int
    people_affected: int | None
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class RecommendationReport:
    village: AreaInfo
    reach: list[str]
    weights: dict[str, float]
    addressed: list[dict[str, Any]]
    needs: list[NeedRecommendation]

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def _village_needs(store: Store, vil: AreaInfo, modes: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = need_rows(store, vil, modes)
    people = {r["need"]: r.get("people") for r in store.select(
        "SELECT ?scope ?need ?people WHERE { ?need dcpa:needOf ?scope . "
        "OPTIONAL { ?need dcpa:peopleAffected ?people } }",
        bindings={"scope": ox.NamedNode(vil.iri)})}
    return [{"need": r.need, "t": r.need_type, "sev": r.severity, "people": people.get(r.need),
             "addressed": r.addressed} for r in rows]


def _chain(vil: AreaInfo) -> dict[str, str]:
    """The village and every area containing it (IRI → code), from the nesting of the official codes."""
    return {area(c): c for c in prefixes(vil.code)}


def _values(iris: Iterable[str]) -> str:
    """A VALUES body of IRIs from the store or kg.namespaces, re-serialised by Oxigraph."""
    return " ".join(str(ox.NamedNode(i)) for i in sorted(set(iris)))


def _resources(store: Store, chain: dict[str, str]) -> list[dict[str, Any]]:
    q = f"""SELECT ?lib ?served ?res ?rt ?own ?fit ?cap ?cost WHERE {{
    VALUES ?served {{ {_values(chain)} }}
    ?lib dcpa:serves ?served .
    ?res dcpa:heldBy ?lib .
    OPTIONAL {{ ?res dcpa:resourceType ?rt }}
    {{ ?res dcpa:addressesNeedType ?fit . BIND(true AS ?own) }}
    UNION {{ ?res dcpa:resourceType ?rt2 . ?rt2 dcpa:addressesNeedType ?fit }}
    OPTIONAL {{ ?res dcpa:capacity ?cap }}
    OPTIONAL {{ ?res dcpa:unitCost ?cost }}
  }}"""
    return store.select(q)


def _interventions(store: Store, vil: AreaInfo, chain: dict[str, str],
                   modes: tuple[str, ...]) -> tuple[list[dict[str, Any]], set[str]]:
    q = f"""SELECT ?i ?lib ?served ?st ?cat ?fit ?budget WHERE {{
    VALUES ?served {{ {_values(chain)} }}
    ?lib dcpa:serves ?served .
    ?i dcpa:providedBy ?lib ; dcpa:interventionStatus ?st .
    FILTER(?st = dcpav:S1 || ?st = dcpav:S2)
    {FITS_PATH}
    OPTIONAL {{ ?i dcpa:category ?cat }}
    OPTIONAL {{ ?i dcpa:budget ?budget }}
  }}"""
    # The OPTIONALs come after the fit path: placed before it, they made Oxigraph evaluate the path
    # without ?i bound (~150 ms instead of ~2 ms per village at province scale).
    rows = store.select(q)
    # which of these candidates already reach the village under the reach rule
    cands = {r["i"] for r in rows}
    if not cands:
        return rows, set()
    ivals = _values(cands)
    reach_q = []
    if "direct" in modes or "area" in modes:
        targets = [vil.iri] if "area" not in modes else list(chain)
        reach_q.append(f"SELECT ?i WHERE {{ VALUES ?i {{ {ivals} }} VALUES ?a {{ {_values(targets)} }} "
                       "?i dcpa:targetsArea ?a }")
    if "library" in modes:
        reach_q.append(f"SELECT ?i WHERE {{ VALUES ?i {{ {ivals} }} VALUES ?a {{ {_values(chain)} }} "
                       "?i dcpa:providedBy ?l . ?l dcpa:serves ?a }")
    reaching = {r["i"] for q2 in reach_q for r in store.select(q2)}
    return rows, reaching


def _policies(store: Store, candidates: set[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(need type → supporting policies, candidate → its own policies)."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for r in store.select("SELECT ?p ?t WHERE { ?p dcpa:supportsNeedType ?t }"):
        by_type[r["t"]].append(r["p"])
    own: dict[str, list[str]] = defaultdict(list)
    if candidates:
        values = " ".join(str(ox.NamedNode(c)) for c in sorted(candidates))
        q = (
            "SELECT ?c ?p WHERE { VALUES ?c { " + values + " } "
            "{ ?c dcpa:supportedBy ?p } UNION { ?c dcpa:partOfProgramme/dcpa:supportedBy ?p } "
            "UNION { ?i dcpa:usesResource ?c ; dcpa:supportedBy ?p } }"
        )
        for r in store.select(q):
            if r["p"] not in own[r["c"]]:
                own[r["c"]].append(r["p"])
    return by_type, own


def _evidence(store: Store, chain: dict[str, str], need_types: set[str]) -> list[dict[str, Any]]:
    """Evaluations in the village's county (else city, province): category, resource type, need types there."""
    by_len = {len(c): a for a, c in chain.items()}
    scope = by_len.get(6) or by_len.get(4) or by_len.get(2)
    if scope is None or not need_types:
        return []
    evs = store.select(
        """SELECT ?scope ?e ?w ?i ?ok WHERE {
    ?w dcpa:withinArea ?scope .
    ?e dcpa:evaluatedArea ?w ; dcpa:evaluates ?i ; dcpa:targetValue ?tv ; dcpa:actualValue ?av .
    BIND(?av >= ?tv AS ?ok)
  }""",
        bindings={"scope": ox.NamedNode(scope)},
    )
    # category and resource types of the evaluated interventions, as plain look-ups (no OPTIONAL joins)
    kinds: dict[str, set[str]] = defaultdict(set)
    if evs:
        ivals = _values(r["i"] for r in evs)
        for q in (f"SELECT ?i ?k WHERE {{ VALUES ?i {{ {ivals} }} ?i dcpa:category ?k }}",
                  f"SELECT ?i ?k WHERE {{ VALUES ?i {{ {ivals} }} ?i dcpa:usesResource/dcpa:resourceType ?k }}"):
            for r in store.select(q):
                kinds[r["i"]].add(r["k"])
    if not evs:
        return []
    # One VALUES block only: with a second one over ?t, Oxigraph starts from every need of those
    # types (seconds at province scale); the need types are filtered here instead.
    needs = store.select(
        f"SELECT DISTINCT ?w ?t WHERE {{ VALUES ?w {{ {_values(r['w'] for r in evs)} }} "
        f"?n dcpa:needOf ?w ; dcpa:needType ?t }}"
    )
    types_at: dict[str, set[str]] = defaultdict(set)
    for r in needs:
        if r["t"] in need_types:
            types_at[r["w"]].add(r["t"])
    return [dict(r, t=t, keys=sorted(kinds.get(r["i"], ()))) for r in evs for t in sorted(types_at.get(r["w"], ()))]


def _availability(cost: float | None, cap: float | None) -> float:
    c = 0.5 if cost is None else 1.0 / (1.0 + float(cost) / 10_000.0)
    k = 0.5 if cap is None else min(float(cap), 10.0) / 10.0
    return round(0.5 * c + 0.5 * k, 4)


def _fit(t: str, fit: str, up: dict[str, list[str]], narrower_of_t: set[str]) -> tuple[str, float, list[str]] | None:
    if fit in up:
        path = up[fit]
        if len(path) == 1:
            return "exact", 1.0, path
        return "broader", round(BROADER_STEP ** (len(path) - 1), 4), path
    if fit in narrower_of_t:
        return "narrower", NARROWER_FIT, [t]
    return None


def recommend(
    store: Store, village_code: str, *, limit: int = 10, reach: str | None = None, lang: str = "zh"
) -> RecommendationReport:
    """Ranked candidates for every unaddressed need of a village, each with its explanation path."""
    modes = parse_reach(reach)
    vil = resolve_area(store, village_code, lang=lang)
    needs = _village_needs(store, vil, modes)
    chain = _chain(vil)
    broader, narrower = need_type_tree(store)
    res_rows = _resources(store, chain)
    int_rows, reaching = _interventions(store, vil, chain, modes)
    cand_iris = {r["res"] for r in res_rows} | {r["i"] for r in int_rows}
    pol_by_type, pol_own = _policies(store, cand_iris)
    ev_rows = _evidence(store, chain, {n["t"] for n in needs if not n.get("addressed")})

    # evidence tallies: (kind key, need type) -> [met, total, a met evaluation]
    tally: dict[tuple[str, str], list[Any]] = {}
    seen_ev: set[tuple[str, str, str]] = set()
    for r in ev_rows:
        for key in r["keys"]:
            if (r["e"], key, r["t"]) in seen_ev:
                continue
            seen_ev.add((r["e"], key, r["t"]))
            t = tally.setdefault((key, r["t"]), [0, 0, None])
            t[1] += 1
            if r.get("ok"):
                t[0] += 1
                t[2] = t[2] or (r["e"], r["i"])

    addressed = [
        {"need": n["need"], "need_type": n["t"], "severity": n["sev"]}
        for n in needs
        if n.get("addressed")
    ]
    out_needs: list[NeedRecommendation] = []
    for n in sorted((n for n in needs if not n.get("addressed")), key=lambda n: (-n["sev"], n["need"])):
        t = n["t"]
        up = ancestors_path(t, broader)
        down = set(_descendants(t, narrower))
        cands: dict[str, Candidate] = {}
        supported_types = [x for x in up if pol_by_type.get(x)]
        for r in res_rows:
            cap = r.get("cap")
            if cap is not None and float(cap) <= 0:
                continue
            f = _fit(t, r["fit"], up, down)
            if f is None:
                continue
            served_code = chain.get(r["served"], "")
            reach_s = REACH_SCORE.get(len(served_code), 0.0)
            ev = tally.get((r.get("rt") or "", t))
            comp = {
                "type_fit": f[1],
                "reach": reach_s,
                "policy": 0.5 * bool(supported_types) + 0.5 * bool(pol_own.get(r["res"])),
                "availability": _availability(r.get("cost"), cap),
                "evidence": round(ev[0] / ev[1], 4) if ev else 0.0,
            }
            c = _candidate("resource", r["res"], r["lib"], f, r["fit"], comp, r.get("cost"), cap)
            c.explanation = _resource_path(n, vil.iri, r, f, supported_types, pol_by_type, ev)
            _keep(cands, c)
        for r in int_rows:
            if r["st"] == str(DCPAV.S2) and r["i"] in reaching:
                continue  # already reaches the village, so it does not fit this need
            f = _fit(t, r["fit"], up, down)
            if f is None:
                continue
            ev = tally.get((r.get("cat") or "", t))
            comp = {
                "type_fit": f[1],
                "reach": REACH_SCORE.get(len(chain.get(r["served"], "")), 0.0),
                "policy": 0.5 * bool(supported_types) + 0.5 * bool(pol_own.get(r["i"])),
                "availability": _availability(r.get("budget"), None),
                "evidence": round(ev[0] / ev[1], 4) if ev else 0.0,
            }
            c = _candidate("intervention", r["i"], r["lib"], f, r["fit"], comp, r.get("budget"), None)
            c.explanation = _intervention_path(n, vil.iri, r, f, supported_types, pol_by_type, pol_own, ev)
            _keep(cands, c)
        ranked = sorted(
            cands.values(),
            key=lambda c: (-c.score, float("inf") if c.unit_cost is None else c.unit_cost, c.iri),
        )[:limit]
        out_needs.append(
            NeedRecommendation(
                need=n["need"], need_type=t, need_type_label=None, severity=n["sev"],
                people_affected=n.get("people"), candidates=ranked,
            )
        )
    _label_everything(store, out_needs, lang)
    return RecommendationReport(village=vil, reach=list(modes), weights=dict(WEIGHTS), addressed=addressed,
                                needs=out_needs)


def _descendants(t: str, narrower: dict[str, list[str]]) -> list[str]:
    out, stack = [], list(narrower.get(t, []))
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(narrower.get(x, []))
    return out


def _candidate(kind: str, iri: str, lib: str, f: tuple[str, float, list[str]], fit: str,
               comp: dict[str, float], cost: Any, cap: Any) -> Candidate:
    score = round(sum(WEIGHTS[k] * v for k, v in comp.items()), 4)
    return Candidate(kind=kind, iri=iri, label=None, library=lib, library_label=None, fit=f[0], fit_type=fit,
                     score=score, components=comp, unit_cost=cost, capacity=cap)


def _keep(cands: dict[str, Candidate], c: Candidate) -> None:
    """One entry per candidate: its best-scoring way of meeting the need (ties: nearer library, IRI)."""
    old = cands.get(c.iri)
    if old is None or (c.score, -len(c.library), c.library) > (old.score, -len(old.library), old.library):
        cands[c.iri] = c


def _s(s: str, p: Any, o: str) -> Step:
    return Step(subject=s, subject_label=None, predicate=str(p), object=o, object_label=None)


def _type_steps(t: str, f: tuple[str, float, list[str]], fit: str) -> list[Step]:
    if f[0] == "broader":
        path = f[2]
        return [_s(a, SKOS.broader, b) for a, b in zip(path, path[1:], strict=False)]
    if f[0] == "narrower":
        return [_s(fit, SKOS.broader + "+", t)]
    return []


def _tail(vil: str, lib: str, served: str, supported: list[str], pol_by_type: dict[str, list[str]],
          ev: list[Any] | None) -> list[Step]:
    steps = [_s(lib, DCPA.serves, served)]
    if served != vil:
        steps.append(_s(vil, DCPA.withinArea, served))
    for x in supported[:1]:
        steps.append(_s(sorted(pol_by_type[x])[0], DCPA.supportsNeedType, x))
    if ev and ev[2]:
        e, i = ev[2]
        steps.append(_s(e, DCPA.evaluates, i))
    return steps


def _resource_path(n: dict[str, Any], vil: str, r: dict[str, Any], f: tuple[str, float, list[str]],
                   supported: list[str], pol_by_type: dict[str, list[str]], ev: list[Any] | None) -> list[Step]:
    steps = [_s(n["need"], DCPA.needOf, vil), _s(n["need"], DCPA.needType, n["t"])]
    steps += _type_steps(n["t"], f, r["fit"])
    if r.get("own"):
        steps.append(_s(r["res"], DCPA.addressesNeedType, r["fit"]))
    else:
        steps += [_s(r["res"], DCPA.resourceType, r["rt"]), _s(r["rt"], DCPA.addressesNeedType, r["fit"])]
    steps.append(_s(r["res"], DCPA.heldBy, r["lib"]))
    return steps + _tail(vil, r["lib"], r["served"], supported, pol_by_type, ev)


def _intervention_path(n: dict[str, Any], vil: str, r: dict[str, Any], f: tuple[str, float, list[str]],
                       supported: list[str], pol_by_type: dict[str, list[str]], pol_own: dict[str, list[str]],
                       ev: list[Any] | None) -> list[Step]:
    steps = [_s(n["need"], DCPA.needOf, vil), _s(n["need"], DCPA.needType, n["t"])]
    steps += _type_steps(n["t"], f, r["fit"])
    steps.append(_s(r["i"], DCPA.interventionStatus, r["st"]))
    if r.get("cat"):
        steps.append(_s(r["i"], DCPA.category, r["cat"]))
    steps.append(_s(r["i"], DCPA.providedBy, r["lib"]))
    for p in sorted(pol_own.get(r["i"], []))[:1]:
        steps.append(_s(r["i"], DCPA.supportedBy, p))
    return steps + _tail(vil, r["lib"], r["served"], supported, pol_by_type, ev)


def _label_everything(store: Store, needs: list[NeedRecommendation], lang: str) -> None:
    iris: set[str] = set()
    for n in needs:
        iris.add(n.need_type)
        for c in n.candidates:
            iris.update((c.iri, c.library))
            for s in c.explanation:
                iris.update((s.subject, s.object))
    names = labels(store, iris, lang)
    for n in needs:
        n.need_type_label = names.get(n.need_type)
        for c in n.candidates:
            c.label, c.library_label = names.get(c.iri), names.get(c.library)
            for s in c.explanation:
                s.subject_label, s.object_label = names.get(s.subject), names.get(s.object)


__all__ = ["Candidate", "NeedRecommendation", "RecommendationReport", "Step", "WEIGHTS", "recommend"]
