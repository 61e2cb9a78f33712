"""Villages with a similar need profile, and what worked there.

A village's profile is its vector of severity sums per need type; similarity is the
cosine of two profiles. Candidates are the other village-level units of the same
prefecture city by default (``within`` widens or narrows that), which keeps the
answer interactive at national scale and compares villages under similar policy.
A village whose compared needs are example data is marked, and so is every evaluation
that is; ``real_only`` compares real needs and shows real evaluations only. As of a past day
(``DCPA_AS_OF``, ``as_of``) profiles hold the needs known then (``kg.facts.known_by``), as every other
answer for that day counts them. What worked holds the evaluations whose period had ended by the day (today's
too), as the rule reads them (``kg.facts.ended_by``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

import pyoxigraph as ox

from .. import derived
from ..contract import StoreAPI
from ..errors import InvalidParameter
from ..facts import Period, ended_by, iri_values, known_by
from ..memo import per_data
from ..settings import Settings
from .areas import Area, resolve_area
from .basis import Basis, basis
from .jsonable import to_jsonable
from .labels import labels
from .needs import left_out_note, no_needs_note


@dataclass
class SimilarVillage:
    """Another village, how alike its needs are, and evaluations met there."""

    code: str
    iri: str
    label: str | None
    similarity: float
    shared_need_types: list[str]
    example: bool  # its needs are example data
    what_worked: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SimilarReport:
    village: Area
    within: str
    real_only: bool
    items: list[SimilarVillage]
    basis: Basis
    notes: list[str] = field(default_factory=list)  # why the answer is empty (a village with no needs recorded)
    as_of: date | None = None  # the day whose needs are compared

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


@per_data(16)
def _profiles(store: StoreAPI, scope: str, real_only: bool,
              cut: Period | None = None) -> tuple[dict[str, dict[str, float]], set[str]]:
    """Need profiles of the villages in an area (of the needs identified within ``cut``, or all), and the villages
    whose profile rests on example needs.

    The same for every village of the area (a city): kept until the next write (0.5 s at national scale).
    """
    rows = store.select(
        "SELECT ?scope ?w ?t ?ex (SUM(?s) AS ?sev) WHERE { ?w dcpa:withinArea ?scope . "
        "?need dcpa:needOf ?w ; dcpa:needType ?t ; dcpa:severity ?s . OPTIONAL { ?need dcpa:isSynthetic ?ex } "
        + (cut.filter() if cut else "") + "} GROUP BY ?scope ?w ?t ?ex",
        bindings={"scope": ox.NamedNode(scope)},
    )
    prof: dict[str, dict[str, float]] = defaultdict(dict)
    example: set[str] = set()
    for r in rows:
        if r.get("ex"):
            if real_only:
                continue
            example.add(r["w"])
        prof[r["w"]][r["t"]] = prof[r["w"]].get(r["t"], 0.0) + float(r["sev"])
    return prof, example


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def similar(
    store: StoreAPI, village_code: str, *, limit: int = 10, within: str | None = None, real_only: bool = False,
    lang: str = "zh", as_of: date | None = None, settings: Settings | None = None,
) -> SimilarReport:
    """The ``limit`` most similar villages (cosine of need profiles; ties by code), as of ``as_of`` (else the
    settings' day, else today).

    A county's or a city's code is a usage mistake (InvalidParameter), said as such: a profile is one
    village's needs, and an area above a village has none of its own to compare."""
    vil = resolve_area(store, village_code)
    code = vil.code
    if not vil.is_village:
        raise InvalidParameter(
            f"{code}（{vil.label.get('zh')}）不是村级单位，相似村按村比较 / {code} ({vil.label.get('en')}) is a "
            f"{vil.level}, not a village-level unit: similar villages are compared for one village",
            hint="请给出村的 12 位代码（用 `dcpa search 名称` 查找） / give the village's 12-digit code (find it "
                 "with `dcpa search NAME`)")
    scope_code = within or (code[:4] if len(code) > 4 else code[:2])
    scope = resolve_area(store, scope_code).iri
    day = as_of or derived.as_of_today(settings)
    cut = known_by(store, day)  # as of a past day: the needs known then
    prof, example = _profiles(store, scope, real_only, cut)
    mine = prof.get(vil.iri)
    if mine is None:
        rows = store.select(
            "SELECT ?scope ?t ?ex (SUM(?s) AS ?sev) WHERE { ?need dcpa:needOf ?scope ; dcpa:needType ?t ; "
            "dcpa:severity ?s . OPTIONAL { ?need dcpa:isSynthetic ?ex } " + (cut.filter() if cut else "")
            + "} GROUP BY ?scope ?t ?ex",
            bindings={"scope": ox.NamedNode(vil.iri)})
        mine = {}
        for r in rows:
            if not (real_only and r.get("ex")):
                mine[r["t"]] = mine.get(r["t"], 0.0) + float(r["sev"])
    # a village that exists with nothing recorded yet: no village is similar, and the answer says why
    notes = [] if mine else [no_needs_note(vil, real_only=real_only, then_zh="无从比较相似村",
                                           then_en="so there is nothing to compare")]
    if cut is not None:
        notes.append(left_out_note(day))
    scored = []
    for w, p in prof.items():
        if w == vil.iri:
            continue
        sim = _cosine(mine, p)
        if sim > 0:
            scored.append((round(sim, 4), w, sorted(set(mine) & set(p))))
    codes = {w: w.rsplit("/", 1)[-1] for _, w, _ in scored}
    scored.sort(key=lambda x: (-x[0], codes[x[1]]))
    top = scored[:limit]
    # only the evaluations whose period had ended by the day, as the rule reads them (a value recorded before
    # the period's end is not yet a result), whatever the day
    worked = _what_worked(store, [w for _, w, _ in top], real_only, lang, day)
    names = labels(store, [w for _, w, _ in top] + [t for *_, ts in top for t in ts])
    items = [
        SimilarVillage(
            code=codes[w], iri=w, label=names[w].get(lang) if w in names else None, similarity=sim,
            shared_need_types=[names[t].get(lang) if t in names else t for t in shared],
            example=w in example, what_worked=worked.get(w, []),
        )
        for sim, w, shared in top
    ]
    flags = [v.example for v in items] + [bool(x["example"]) for v in items for x in v.what_worked]
    b = basis(flags, real_only=real_only, what_zh="项（相似村与成效）", what_en="items (villages and what worked)")
    return SimilarReport(vil, scope_code, real_only, items, b, notes, day)


def _what_worked(store: StoreAPI, villages: list[str], real_only: bool, lang: str,
                 day: date) -> dict[str, list[dict[str, Any]]]:
    """Evaluations in these villages whose actual value met the target and whose period ended by ``day``."""
    if not villages:
        return {}
    rows = store.select(
        "SELECT ?w ?e ?i ?cat ?ind ?b ?tv ?av ?ex WHERE { VALUES ?w { " + iri_values(villages) + " } "
        "?e dcpa:evaluatedArea ?w ; dcpa:evaluates ?i ; dcpa:indicator ?ind ; dcpa:targetValue ?tv ; "
        "dcpa:actualValue ?av . OPTIONAL { ?e dcpa:baselineValue ?b } OPTIONAL { ?i dcpa:category ?cat } "
        "OPTIONAL { ?e dcpa:isSynthetic ?ex } " + ended_by(day) + "FILTER(?av >= ?tv) } ORDER BY ?w ?e"
    )
    if real_only:
        rows = [r for r in rows if not r.get("ex")]
    names = labels(store, {r["i"] for r in rows} | {r["ind"] for r in rows} | {r.get("cat", "") for r in rows})

    def name(i: str | None) -> str | None:
        return names[i].get(lang) if i and i in names else None

    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r["w"]].append({
            "evaluation": r["e"], "intervention": r["i"], "intervention_label": name(r["i"]),
            "category": r.get("cat"), "category_label": name(r.get("cat")),
            "indicator": r["ind"], "indicator_label": name(r["ind"]),
            "baseline": r.get("b"), "target": r["tv"], "actual": r["av"], "example": bool(r.get("ex")),
        })
    return dict(out)


__all__ = ["SimilarReport", "SimilarVillage", "similar"]
