"""Shared pieces of the answers: the reach rule, the query fragments of "addressed", areas, labels.

The semantics follow docs/DATA_MODEL.md ("Semantics of addressed"): a need of type T
in village V is addressed when an active (S2) or completed (S3) intervention reaches
V and fits T (its category, a resource it uses, or that resource's type
``dcpa:addressesNeedType`` T or a broader type of T).

Query text is assembled only from the fixed fragments below; values from users
(area codes, dates) reach the engine as typed bindings (SEP-0007). Oxigraph pushes
a binding into the query only where the outer SELECT projects it, so the
variables ``?scope``, ``?pstart`` and ``?pend`` are projected by every query here.
IRIs of areas derived from a validated code (``kg.namespaces.area``), IRIs read back
from the store and validated dates go into the text re-serialised by Oxigraph itself.
The rule is applied in one place, ``kg.derived`` (``need_rows`` reads its stored outcome,
or applies it live for a period).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date
from typing import Any, NamedTuple

import pyoxigraph as ox

from ..errors import DataError, NotFound
from ..namespaces import area
from ..settings import get_settings
from ..store import Store

log = logging.getLogger(__name__)

REACH_MODES = ("direct", "area", "library")
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"

#: Level of an area from the length of its official code.
LEVEL_BY_CODE_LENGTH = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}


def parse_reach(reach: str | Iterable[str] | None) -> tuple[str, ...]:
    """The reach rule as a sorted tuple of modes; ``None`` means ``settings.reach``."""
    if reach is None:
        reach = get_settings().reach
    modes = [m.strip() for m in (reach.split(",") if isinstance(reach, str) else reach) if m.strip()]
    bad = [m for m in modes if m not in REACH_MODES]
    if bad or not modes:
        raise DataError(
            f"unknown reach mode(s) {', '.join(bad) or '(none)'}",
            hint="reach is a comma list of direct, area, library (e.g. area,library)",
        )
    return tuple(m for m in REACH_MODES if m in modes)


def period_filter(period: bool) -> str:
    """Needs identified inside the period (needs without a date always count)."""
    if not period:
        return ""
    return (
        "OPTIONAL { ?need dcpa:identifiedOn ?idon }\n"
        "    FILTER(!BOUND(?idon) || (?idon >= ?pstart && ?idon <= ?pend))"
    )


def period_bindings(period: tuple[str, str] | None) -> dict[str, Any]:
    """Typed xsd:date bindings for a (start, end) period; DataError on bad dates."""
    if period is None:
        return {}
    try:
        start, end = (date.fromisoformat(str(p)) for p in period)
    except (TypeError, ValueError) as e:
        raise DataError(f"bad period {period!r}", hint="give two dates YYYY-MM-DD, start ≤ end") from e
    if start > end:
        raise DataError(f"period starts after it ends: {period!r}", hint="give start ≤ end")
    dt = ox.NamedNode(XSD_DATE)
    return {"pstart": ox.Literal(start.isoformat(), datatype=dt), "pend": ox.Literal(end.isoformat(), datatype=dt)}


@dataclass(frozen=True)
class AreaInfo:
    """An administrative area as the answers need it."""

    iri: str
    code: str
    label: str | None
    level: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_area(store: Store, code: str, *, lang: str = "zh") -> AreaInfo:
    """Look an area up by its official code; NotFound (with a hint) when it is not in the graph."""
    code = str(code).strip()
    if not code.isdigit() or len(code) not in LEVEL_BY_CODE_LENGTH:
        raise NotFound(
            f"no area with code {code!r}",
            hint="area codes have 2, 4, 6, 9 or 12 digits (e.g. 21 for Liaoning, 12 digits for a village)",
        )
    iri = area(code)
    rows = store.select(
        "SELECT ?scope ?code WHERE { ?scope dcpa:areaCode ?code }", bindings={"scope": ox.NamedNode(iri)}
    )
    if not rows:
        raise NotFound(f"no area with code {code} in the graph", hint="check the code, or run `dcpa build` first")
    rows = [{"label": labels(store, [iri], lang).get(iri)}]
    return AreaInfo(iri=iri, code=code, label=rows[0].get("label"), level=LEVEL_BY_CODE_LENGTH[len(code)])


def labels(store: Store, iris: Iterable[str], lang: str = "zh") -> dict[str, str]:
    """Labels (rdfs:label or skos:prefLabel) of the given IRIs: in ``lang`` if there is one, else any."""
    wanted = sorted({i for i in iris if i and i.startswith("http")})
    if not wanted:
        return {}
    # IRIs here come from the store or from kg.namespaces, and are re-serialised by Oxigraph.
    values = " ".join(str(ox.NamedNode(i)) for i in wanted)
    res = store.query(
        "SELECT ?x ?l WHERE { VALUES ?x { " + values + " } { ?x rdfs:label ?l } UNION { ?x skos:prefLabel ?l } }"
    )
    out: dict[str, tuple[int, str]] = {}
    for sol in res:
        x, lit = sol["x"], sol["l"]
        if not isinstance(x, ox.NamedNode) or not isinstance(lit, ox.Literal):
            continue
        tag = (lit.language or "").lower()
        rank = 0 if tag == lang.lower() or tag.startswith(lang.lower() + "-") else (1 if not tag else 2)
        best = out.get(x.value)
        if best is None or (rank, lit.value) < best:
            out[x.value] = (rank, lit.value)
    return {k: v for k, (_, v) in out.items()}


def need_type_tree(store: Store) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(broader, narrower) maps of the need-type scheme, from the graph."""
    rows = store.select(
        "SELECT ?t ?b WHERE { ?t a dcpa:NeedType ; skos:broader ?b }",
    )
    broader: dict[str, list[str]] = defaultdict(list)
    narrower: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        broader[r["t"]].append(r["b"])
        narrower[r["b"]].append(r["t"])
    return dict(broader), dict(narrower)


def ancestors_path(t: str, broader: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every type reachable from ``t`` by skos:broader* with one path from ``t`` to it."""
    paths = {t: [t]}
    frontier = [t]
    while frontier:
        nxt = []
        for x in frontier:
            for b in sorted(broader.get(x, [])):
                if b not in paths:
                    paths[b] = paths[x] + [b]
                    nxt.append(b)
        frontier = nxt
    return paths


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, lists and dicts to plain JSON values (Chinese kept as is)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: to_jsonable(v) for k, v in asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------
# "addressed", computed from a few simple queries
# ---------------------------------------------------------------------------
# Oxigraph plans joins greedily and without the outer bindings inside OPTIONAL /
# EXISTS, so one query with the whole rule (a union of reach branches joined with a
# union of fit branches) degrades to seconds per village on real-sized data. The
# library therefore asks small, well-ordered questions — which need types do the
# active interventions that target or serve each area fit? — and joins in Python.

FITS_PATH = "?i (dcpa:category|dcpa:usesResource|dcpa:usesResource/dcpa:resourceType)/dcpa:addressesNeedType ?fit ."
ACTIVE = "?i dcpa:interventionStatus ?ist . FILTER(?ist = dcpav:S2 || ?ist = dcpav:S3)"


def code_of(iri: str) -> str:
    """The official code at the end of an area IRI (IRIs come from ``kg.namespaces.area``)."""
    return iri.rsplit("/", 1)[-1]


def prefixes(code: str) -> list[str]:
    """The codes of an area and of every area containing it (the NBS codes nest by prefix)."""
    return [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]


#: Worker threads for the few independent queries of ``need_rows`` and ``kg.derived`` (Oxigraph
#: releases the GIL while it evaluates).
SCAN_THREADS = 4


def run_parallel(store: Store, jobs: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, ...]]]:
    """Run SELECT queries in worker threads; each result as tuples of the terms' lexical values.

    Reading ``.value`` of raw Oxigraph terms in the worker avoids the generic conversion of
    ``Store.select``, which at province scale (~10^5 rows) costs more than the query.
    """

    def one(job: tuple[str, dict[str, Any]]) -> list[tuple[str, ...]]:
        q, b = job
        return [tuple(t.value for t in sol) for sol in store.query(q, bindings=b or None)]

    if len(jobs) <= 1:
        return [one(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=min(SCAN_THREADS, len(jobs))) as ex:
        return list(ex.map(one, jobs))


class NeedRow(NamedTuple):
    """One need and whether it is addressed (a named tuple: gaps makes 10^5 of them)."""

    need: str  # "" when need_rows was asked for no IRIs
    village: str  # code
    need_type: str
    severity: int
    addressed: bool


def need_rows(store: Store, scope: AreaInfo | None, modes: tuple[str, ...],
              period: tuple[str, str] | None = None, *, with_iri: bool = True) -> list[NeedRow]:
    """Every need in the scope with its addressed flag (DATA_MODEL semantics).

    Without a period the flags are read from the derived graph (``kg.derived``), one lookup per
    need. With a period (needs identified in it, interventions started by its end), or on a store
    without a current derived graph, the rule is applied here, by ``kg.derived``'s code.
    ``with_iri=False`` leaves ``NeedRow.need`` empty: counting answers (gaps) do not need the IRIs,
    and decoding 10^5 of them is a fifth of the time.
    """
    from .. import derived  # kg.derived builds on this module

    pb = period_bindings(period)
    proj = "".join(f" ?{k}" for k in pb)
    pf = period_filter(bool(pb))
    need = " ?need" if with_iri else ""
    use_derived = not pb and derived.is_current(store)
    flag = ""
    if use_derived:
        values = " ".join(f"<{derived.MODE_CONCEPT[m]}>" for m in sorted(derived.covered_modes(modes)))
        flag = f" BIND(EXISTS {{ ?need dcpa:addressedThrough ?m . VALUES ?m {{ {values} }} }} AS ?a)"
    attrs = f"dcpa:needType ?t ; dcpa:severity ?sev . {pf}{flag}"
    out_vars = f"{need} ?v ?t ?sev" + (" ?a" if use_derived else "")
    jobs: list[tuple[str, dict[str, Any]]] = []
    if scope is None:
        jobs.append((f"SELECT{proj}{out_vars} WHERE {{ ?need dcpa:needOf ?v ; {attrs} }}", dict(pb)))
    elif scope.level == "village":
        jobs.append((f"SELECT ?scope{proj}{out_vars} WHERE {{ ?need dcpa:needOf ?scope ; {attrs} "
                     "BIND(?scope AS ?v) }", dict(pb, scope=ox.NamedNode(scope.iri))))
    else:
        # One query: reading a province per city in parallel threads was no faster on disk and
        # twice as slow on the in-memory store (measured at province scale on two cores).
        jobs.append((f"SELECT ?scope{proj}{out_vars} WHERE {{ ?v dcpa:withinArea ?scope . "
                     f"?need dcpa:needOf ?v ; {attrs} }}", dict(pb, scope=ox.NamedNode(scope.iri))))
    if use_derived:
        return [NeedRow(row[-5] if with_iri else "", code_of(row[-4]), row[-3], int(row[-2]), row[-1] == "true")
                for row in run_parallel(store, jobs)[0]]
    # the rule applied here (kg.derived's): the needs are read in the pool of the intervention queries
    until = str(pb["pend"].value) if pb else None
    inv = derived.read_interventions(store, jobs, within=[scope.code] if scope else None, until=until)
    cache: dict[tuple[str, str], bool] = {}
    out = []
    for row in inv.extra[0]:
        v_iri, t, sev = row[-3:]
        v = code_of(v_iri)
        hit = cache.get((v, t))
        if hit is None:
            hit = cache[(v, t)] = bool(inv.addressing(v, t, modes))
        out.append(NeedRow(row[-4] if with_iri else "", v, t, int(sev), hit))
    return out
