"""The study's model for one county or village: the four stages, the means behind them, the broken chains.

The model (identify poverty and needs → build digital resources → choose interventions → evaluate effects,
carried by personnel, funds and technology) made visible for a place:

1. **resources available**: held by a library that serves the place, an area holding it, or a place in it;
2. **needs identified**: the needs of its villages, with the kind of evidence each rests on;
3. **interventions chosen**: those that target it, a place in it, or that reach its needs from a larger area;
4. **interventions evaluated**: their evaluations, how many of those ended by the answer's day met their target,
   how many are still running, and how many ended without a result (no target or no actual value): those two
   neither met nor missed, as the rule reads them;

and the **broken chains**, where the model stops: completed interventions never evaluated, needs that nothing
could meet (``recommend`` offers no candidate), poor villages (registered, lifted out or monitored) with no
identified need, resources that no intervention has used. Need states and candidates come from their one
home (``need_rows``, ``recommend``); this module only gathers and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from ..codes import LEVEL_ZH
from ..contract import StoreAPI
from ..errors import InvalidParameter
from ..facts import ended_by, iri_in, iri_values
from ..namespaces import DCPAV, area
from ..rule import NeedState, prefixes
from ..settings import Settings, get_settings
from .areas import Area, resolve_area
from .basis import Basis, basis
from .evidence import need_evidence
from .jsonable import to_jsonable
from .labels import labels
from .needs import need_rows
from .poverty import POOR_VILLAGE_TYPES
from .recommend import WITHIN_LEVELS, recommend_within

#: The levels the page is for: a county (or anything below it, down to one village), those whose villages
#: ``recommend_within`` answers for at once.
LEVELS = WITHIN_LEVELS
COMPLETED = str(DCPAV.S3)
#: Broken chains listed in full up to this many each; the counts are always complete.
LISTED = 200


@dataclass
class Stage:
    key: str  # resources / needs / interventions / evaluations
    count: int
    example: int
    by: dict[str, int] = field(default_factory=dict)  # count per type / category / evidence kind / outcome


@dataclass
class Means:
    personnel: int
    volunteers: int
    budget: float
    funding: dict[str, float]  # budget per funding source (a scheme concept, or the words written for older data)
    technology: list[str]  # scheme concepts, or the words written
    roles: dict[str, int]  # people per personnel role (scheme concept)
    interventions_with_inputs: int


@dataclass
class BrokenChain:
    key: str  # unevaluated / no_candidate / poor_without_need / unused_resource
    count: int
    items: list[dict[str, Any]]  # iri, label, example (+ village for needs)


@dataclass
class ModelReport:
    area: Area
    stages: list[Stage]
    means: Means
    broken: list[BrokenChain]
    cases: list[dict[str, Any]]  # documented cases (real, cited) in the place, in a place within it or above it
    labels: dict[str, dict[str, str]]
    basis: Basis

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


def _within(scope: Area, var: str, then: str) -> str:
    """``then`` for ``var`` bound to the scope itself or to any area in it, the areas found first (joined the
    other way round, a county's resources took 5.0 s at province scale instead of 0.01 s)."""
    return f"{{ VALUES {var} {{ <{scope.iri}> }} {then} }} UNION {{ {var} dcpa:withinArea <{scope.iri}> . {then} }}"


def _resources(store: StoreAPI, scope: Area, real_only: bool = False) -> list[dict[str, Any]]:
    """Resources held by a library serving the scope, an area holding it or a place in it, and whether an
    intervention uses them (a real one, with ``real_only``)."""
    chain = iri_values(area(c) for c in prefixes(scope.code))
    real = "FILTER NOT EXISTS { ?i dcpa:isSynthetic true }" if real_only else ""
    q = f"""SELECT DISTINCT ?r ?type ?ex ?used WHERE {{
      {{ SELECT DISTINCT ?lib WHERE {{
          {{ VALUES ?served {{ {chain} }} ?lib dcpa:serves ?served }}
          UNION {_within(scope, '?s', '?lib dcpa:serves ?s .')}
      }} }}
      ?r dcpa:heldBy ?lib .
      OPTIONAL {{ ?r dcpa:resourceType ?type }}
      OPTIONAL {{ ?r dcpa:isSynthetic ?ex }}
      BIND(EXISTS {{ ?i dcpa:usesResource ?r {real} }} AS ?used)
    }}"""
    return store.select(q)


def _interventions(store: StoreAPI, scope: Area, reaching: set[str], day: date) -> list[dict[str, Any]]:
    """The interventions targeting the scope or a place in it, and those ``reaching`` its needs from a larger
    area, with their evaluations: all of them (``evals``), and of those ended by ``day`` how many met their target
    (``met``; ``ended``): a value recorded before its period's end is not yet a result, as the rule reads it
    (``kg.facts.ended_by``), so a running evaluation is neither met nor missed; nor is one ended without a target
    or an actual value (``no_result``: the rule reads an evaluation only with its result). The IRIs first, then
    their details and their evaluations by VALUES, apart: one query joining the three took 5.8 s for a county at
    province scale, these 0.1 s. An evaluation's two values in two OPTIONALs: as one, Oxigraph read every
    evaluation of the country (a county at national scale: 0.60 s against 0.003 s; the same counts either way)."""
    found = {str(r["i"]) for r in store.select(
        f"SELECT DISTINCT ?i WHERE {{ {_within(scope, '?t', '?i dcpa:targetsArea ?t .')} }}")}
    ivs = sorted(found | reaching)
    out: list[dict[str, Any]] = []
    for start in range(0, len(ivs), 500):
        chunk = iri_values(ivs[start:start + 500])
        rows = store.select(f"""SELECT ?i ?cat ?status ?budget ?pc ?vc ?ex WHERE {{ VALUES ?i {{ {chunk} }}
          ?i a dcpa:Intervention .
          OPTIONAL {{ ?i dcpa:category ?cat }} OPTIONAL {{ ?i dcpa:interventionStatus ?status }}
          OPTIONAL {{ ?i dcpa:budget ?budget }} OPTIONAL {{ ?i dcpa:personnelCount ?pc }}
          OPTIONAL {{ ?i dcpa:volunteerCount ?vc }} OPTIONAL {{ ?i dcpa:isSynthetic ?ex }} }}""")
        evals = {str(r["i"]): r for r in store.select(f"""SELECT ?i (COUNT(DISTINCT ?e) AS ?evals)
            WHERE {{ VALUES ?i {{ {chunk} }} ?e dcpa:evaluates ?i . }} GROUP BY ?i""")}
        ended = {str(r["i"]): r for r in store.select(f"""SELECT ?i (COUNT(DISTINCT ?e) AS ?ended)
            (SUM(COALESCE(IF(?actual >= ?target, 1, 0), 0)) AS ?met)
            (SUM(IF(BOUND(?actual) && BOUND(?target), 0, 1)) AS ?blank) WHERE {{ VALUES ?i {{ {chunk} }}
            ?e dcpa:evaluates ?i . {ended_by(day)} OPTIONAL {{ ?e dcpa:actualValue ?actual }}
            OPTIONAL {{ ?e dcpa:targetValue ?target }} }} GROUP BY ?i""")}
        for r in rows:
            e, d = evals.get(str(r["i"]), {}), ended.get(str(r["i"]), {})
            out.append({**r, "evals": int(e.get("evals", 0)), "ended": int(d.get("ended", 0)),
                        "met": int(d.get("met", 0)), "no_result": int(d.get("blank", 0))})
    return out


def _means(store: StoreAPI, interventions: list[str]) -> list[dict[str, Any]]:
    """(intervention, kind, value, people) of every funding source, technology and role: the scheme's concept, or
    the words written where older data has no code."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(interventions), 500):
        q = f"""SELECT ?i ?kind ?v ?n WHERE {{ VALUES ?i {{ {iri_values(interventions[start:start + 500])} }}
          {{ ?i dcpa:fundedBy ?v BIND("funds" AS ?kind) }} UNION {{ ?i dcpa:fundingSource ?v BIND("funds" AS ?kind) }}
          UNION {{ ?i dcpa:usesTechnology ?v BIND("technology" AS ?kind) }}
          UNION {{ ?i dcpa:technology ?v BIND("technology" AS ?kind) }}
          UNION {{ ?i dcpa:personnelInput ?p . ?p dcpa:personnelRole ?v ; dcpa:personCount ?n BIND("role" AS ?kind) }}
        }}"""
        out += store.select(q)
    return out


def _cases(store: StoreAPI, scope: Area) -> list[dict[str, Any]]:
    """Documented cases placed in the scope, in an area within it, or in an area that holds it."""
    chain = iri_values(area(c) for c in prefixes(scope.code))
    return store.select(f"""SELECT DISTINCT ?case ?cat ?lib ?year ?a ?quote ?publisher ?seen ?confidence WHERE {{
      {{ VALUES ?a {{ {chain} }} ?case dcpa:caseArea ?a }}
      UNION {{ ?a dcpa:withinArea <{scope.iri}> . ?case dcpa:caseArea ?a }}
      ?case a dcpa:DocumentedCase ; dcpa:caseCategory ?cat ; dcpa:caseLibraryName ?lib ; dcpa:evidenceQuote ?quote ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> ?src .
      ?src dcpa:originalPublisher ?publisher ; dcpa:seenAt ?seen ; dcpa:confidence ?confidence .
      OPTIONAL {{ ?case dcpa:caseYear ?year }}
    }} ORDER BY ?year ?case""")


def _poor_villages(store: StoreAPI, scope: Area) -> list[dict[str, Any]]:
    """The scope's poor villages without any need. The types as a FILTER: as VALUES, Oxigraph started from
    them, from every status of the country (a county at national scale: 0.17 s against 0.004 s)."""
    q = f"""SELECT DISTINCT ?v ?ex WHERE {{
      {{ SELECT DISTINCT ?v WHERE {{ {_within(scope, '?v', '?v dcpa:povertyStatus ?x .')} }} }}
      ?v dcpa:povertyStatus ?st . ?st dcpa:statusType ?type .
      FILTER(?type IN ({iri_in(POOR_VILLAGE_TYPES)}))
      OPTIONAL {{ ?st dcpa:isSynthetic ?ex }}
      FILTER NOT EXISTS {{ ?n dcpa:needOf ?v }}
    }}"""
    return store.select(q)


def model_view(store: StoreAPI, code: str, *, real_only: bool = False, lang: str = "zh",
               settings: Settings | None = None) -> ModelReport:
    """The four stages, their means and their broken chains for a county, township or village."""
    settings = settings or get_settings()
    scope = resolve_area(store, code)
    if scope.level not in LEVELS:
        zh = LEVEL_ZH.get(scope.level, scope.level)
        raise InvalidParameter(f"模型页面只适用于县、乡镇或村，{scope.code} 是{zh} / "
                               f"the model page is for a county, a township or a village, not a {scope.level}",
                               hint="请打开一个县（6 位代码），如 211381 / open a county (6 digits), e.g. 211381")
    ns = need_rows(store, scope, with_reasons=True, real_only=real_only, settings=settings)
    needs = list(ns.rows)
    reaching = {r.intervention for n in needs for r in n.reasons}
    res = [r for r in _resources(store, scope, real_only) if not (real_only and r.get("ex"))]
    ivs = [r for r in _interventions(store, scope, reaching, ns.as_of) if not (real_only and r.get("ex"))]
    kinds = {n: e.kind for n, e in need_evidence(store, [n.iri for n in needs]).items()}

    stages = [
        Stage("resources", len(res), sum(bool(r.get("ex")) for r in res),
              dict(Counter(str(r.get("type", "")) for r in res))),
        Stage("needs", len(needs), sum(n.example for n in needs),
              dict(Counter(kinds.get(n.iri) or "unknown" for n in needs))),
        Stage("interventions", len(ivs), sum(bool(r.get("ex")) for r in ivs),
              dict(Counter(str(r.get("cat", "")) for r in ivs))),
        Stage("evaluations", sum(int(r.get("evals", 0)) > 0 for r in ivs),
              sum(int(r.get("evals", 0)) > 0 and bool(r.get("ex")) for r in ivs),
              {"evaluations": sum(int(r.get("evals", 0)) for r in ivs), "met": sum(int(r.get("met", 0)) for r in ivs),
               "running": sum(int(r.get("evals", 0)) - int(r.get("ended", 0)) for r in ivs),
               "no_result": sum(int(r.get("no_result", 0)) for r in ivs)}),
    ]
    budget_of = {str(r["i"]): float(r["budget"]) for r in ivs if r.get("budget") is not None}
    funding: dict[str, float] = {}
    technology: set[str] = set()
    roles: dict[str, int] = {}
    has_means: set[str] = set()
    for m in _means(store, sorted(str(r["i"]) for r in ivs)):
        i, v = str(m["i"]), str(m["v"])
        has_means.add(i)
        if m["kind"] == "funds":  # an intervention with two sources counts under both
            funding[v] = funding.get(v, 0.0) + budget_of.get(i, 0.0)
        elif m["kind"] == "technology":
            technology.add(v)
        else:
            roles[v] = roles.get(v, 0) + int(m.get("n") or 0)
    means = Means(
        personnel=sum(int(r.get("pc") or 0) for r in ivs),
        volunteers=sum(int(r.get("vc") or 0) for r in ivs),
        budget=float(sum(budget_of.values())),
        funding=dict(sorted(funding.items(), key=lambda kv: (-kv[1], kv[0]))),
        technology=sorted(technology),
        roles=dict(sorted(roles.items())),
        interventions_with_inputs=sum(str(r["i"]) in has_means or any(r.get(k) is not None for k in ("pc", "vc",
                                                                                                     "budget"))
                                      for r in ivs),
    )

    unevaluated = [{"iri": str(r["i"]), "example": bool(r.get("ex"))} for r in ivs
                   if str(r.get("status", "")) == COMPLETED and int(r.get("evals", 0)) == 0]
    no_candidate: list[dict[str, Any]] = []
    gap_villages = sorted({n.village for n in needs if n.state is NeedState.UNADDRESSED})
    # recommend is the one home of "what could meet this need"; all villages at once (a county's 297
    # villages with gaps at national scale, one by one: 4.3 s)
    for rep in recommend_within(store, scope.code, villages=gap_villages, needs=ns, limit=1, real_only=real_only,
                                lang=lang, settings=settings).villages:
        v = rep.village.code
        no_candidate += [{"iri": r.need, "need_type": r.need_type, "village": v, "village_iri": area(v),
                          "example": r.example}
                         for r in rep.needs if r.state == NeedState.UNADDRESSED and not r.candidates]
    poor = [{"iri": str(r["v"]), "example": bool(r.get("ex"))} for r in _poor_villages(store, scope)
            if not (real_only and r.get("ex"))]
    unused = [{"iri": str(r["r"]), "example": bool(r.get("ex"))} for r in res if not _true(r.get("used"))]
    broken = [BrokenChain(k, len(items), items[:LISTED]) for k, items in
              (("unevaluated", unevaluated), ("no_candidate", no_candidate), ("poor_without_need", poor),
               ("unused_resource", unused))]

    cases = [{"iri": str(c["case"]), "category": str(c["cat"]), "library": str(c["lib"]), "year": c.get("year"),
              "area": str(c["a"]), "quote": str(c["quote"]), "publisher": str(c["publisher"]),
              "seen_at": str(c["seen"]), "confidence": str(c["confidence"])} for c in _cases(store, scope)]
    shown: set[str] = {str(it["iri"]) for b in broken for it in b.items}
    shown |= {str(c[k]) for c in cases for k in ("iri", "category", "area")}
    shown |= {it.get("village_iri", "") for b in broken for it in b.items}
    shown |= {k for s in stages for k in s.by if k.startswith("http")}
    shown |= {*means.funding, *means.technology, *means.roles}
    shown |= {str(it["need_type"]) for it in no_candidate[:LISTED]}
    names = labels(store, sorted(x for x in shown if x.startswith("http")))
    flags = [n.example for n in needs] + [bool(r.get("ex")) for r in res] + [bool(r.get("ex")) for r in ivs]
    return ModelReport(scope, stages, means, broken, cases, {k: v.to_dict() for k, v in names.items()},
                       basis(flags, real_only=real_only, what_zh="项（需求、资源、项目）",
                             what_en="items (needs, resources, interventions)"))


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


__all__ = ["LEVELS", "BrokenChain", "Means", "ModelReport", "Stage", "model_view"]
