"""Villages with a similar need profile, and what worked there.

A village's profile is its vector of severity sums per need type; similarity is the
cosine of two profiles. Candidates are the other village-level units of the same
prefecture city by default (``within`` widens or narrows that), which keeps the
answer interactive at national scale and compares villages under similar policy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..errors import NotFound
from ..store import Store
from ._common import AreaInfo, labels, resolve_area, to_jsonable


@dataclass
class SimilarVillage:
    """Another village, how alike its needs are, and evaluations met there."""

    code: str
    iri: str
    label: str | None
    similarity: float
    shared_need_types: list[str]
    what_worked: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def _profiles(store: Store, scope: str) -> dict[str, dict[str, float]]:
    rows = store.select(
        "SELECT ?scope ?w ?t (SUM(?s) AS ?sev) WHERE { ?w dcpa:withinArea ?scope . "
        "?n dcpa:needOf ?w ; dcpa:needType ?t ; dcpa:severity ?s } GROUP BY ?scope ?w ?t",
        bindings={"scope": ox.NamedNode(scope)},
    )
    prof: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        prof[r["w"]][r["t"]] = float(r["sev"])
    return prof


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def similar(
    store: Store, village_code: str, *, limit: int = 10, within: str | None = None, lang: str = "zh"
) -> list[SimilarVillage]:
    """The ``limit`` most similar villages (cosine of need profiles; ties by code)."""
    vil: AreaInfo = resolve_area(store, village_code, lang=lang)
    code = vil.code
    scope_code = within or (code[:4] if len(code) > 4 else code[:2])
    scope = resolve_area(store, scope_code).iri
    prof = _profiles(store, scope)
    mine = prof.get(vil.iri)
    if mine is None:
        mine = {r["t"]: float(r["sev"]) for r in store.select(
            "SELECT ?scope ?t (SUM(?s) AS ?sev) WHERE { ?n dcpa:needOf ?scope ; dcpa:needType ?t ; "
            "dcpa:severity ?s } GROUP BY ?scope ?t", bindings={"scope": ox.NamedNode(vil.iri)})}
    if not mine:
        raise NotFound(f"village {code} has no identified needs to compare", hint="record its needs first")
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
    worked = _what_worked(store, [w for _, w, _ in top])
    names = labels(store, [w for _, w, _ in top] + [t for *_, ts in top for t in ts], lang)
    out = []
    for sim, w, shared in top:
        out.append(
            SimilarVillage(
                code=codes[w], iri=w, label=names.get(w), similarity=sim,
                shared_need_types=[names.get(t, t) for t in shared], what_worked=worked.get(w, []),
            )
        )
    return out


def _what_worked(store: Store, villages: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Evaluations in these villages whose actual value met the target."""
    if not villages:
        return {}
    values = " ".join(str(ox.NamedNode(w)) for w in villages)
    rows = store.select(
        "SELECT ?w ?e ?i ?cat ?ind ?b ?tv ?av WHERE { VALUES ?w { " + values + " } "
        "?e dcpa:evaluatedArea ?w ; dcpa:evaluates ?i ; dcpa:indicator ?ind ; dcpa:targetValue ?tv ; "
        "dcpa:actualValue ?av . OPTIONAL { ?e dcpa:baselineValue ?b } OPTIONAL { ?i dcpa:category ?cat } "
        "FILTER(?av >= ?tv) } ORDER BY ?w ?e"
    )
    names = labels(store, {r["i"] for r in rows} | {r["ind"] for r in rows} | {r.get("cat", "") for r in rows})
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r["w"]].append({
            "evaluation": r["e"], "intervention": r["i"], "intervention_label": names.get(r["i"]),
            "category": r.get("cat"), "category_label": names.get(r.get("cat", "")),
            "indicator": r["ind"], "indicator_label": names.get(r["ind"]),
            "baseline": r.get("b"), "target": r["tv"], "actual": r["av"],
        })
    return dict(out)


__all__ = ["SimilarVillage", "similar"]
