"""Shared pieces of the answers: the reach rule, the "addressed" pattern, areas and labels.

The semantics follow docs/DATA_MODEL.md ("Semantics of addressed"): a need of type T
in village V is addressed when an active (S2) or completed (S3) intervention reaches
V and fits T (its category, a resource it uses, or that resource's type
``dcpa:addressesNeedType`` T or a broader type of T).

Query text is assembled only from the fixed fragments below; values from users
(area codes, dates) reach the engine as typed bindings (SEP-0007). Oxigraph pushes
a binding into the query only where the outer SELECT projects it, so the
variables ``?scope``, ``?pstart`` and ``?pend`` are projected by every query here.
IRIs of areas derived from a validated code (``kg.namespaces.area``) and IRIs read
back from the store go into ``VALUES`` blocks re-serialised by Oxigraph itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date
from typing import Any

import pyoxigraph as ox

from ..errors import DataError, NotFound
from ..namespaces import DCPA, DCPAV, area
from ..settings import get_settings
from ..store import Store

log = logging.getLogger(__name__)

REACH_MODES = ("direct", "area", "library")
ACTIVE_STATUSES = (str(DCPAV.S2), str(DCPAV.S3))
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


def reach_pattern(modes: tuple[str, ...], v: str = "?v", i: str = "?i", tag: str = "r") -> str:
    """SPARQL union binding ``i`` to every intervention that reaches village ``v``."""
    branches = []
    if "direct" in modes or "area" in modes:
        branches.append(f"{{ {i} dcpa:targetsArea {v} }}")
    if "area" in modes:
        branches.append(f"{{ {v} dcpa:withinArea ?{tag}a . {i} dcpa:targetsArea ?{tag}a }}")
    if "library" in modes:
        branches.append(f"{{ ?{tag}l dcpa:serves {v} . {i} dcpa:providedBy ?{tag}l }}")
        branches.append(
            f"{{ {v} dcpa:withinArea ?{tag}s . ?{tag}l dcpa:serves ?{tag}s . {i} dcpa:providedBy ?{tag}l }}"
        )
    return "\n      UNION ".join(branches)


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


DCPA_NS = str(DCPA)


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


@dataclass
class ReachIndex:
    """Need types fitted by active interventions, per area they target or whose library serves it."""

    modes: tuple[str, ...]
    targeted: dict[str, set[str]]  # area code -> fit types of interventions targeting it
    served: dict[str, set[str]]  # area code -> fit types of interventions whose provider serves it
    by_area_i: dict[tuple[str, str], set[str]]  # (kind, area code) -> interventions (for explanations)

    def fits_at(self, village_code: str) -> set[str]:
        """Every need type some intervention reaching the village fits (before skos:broader*)."""
        out: set[str] = set()
        chain = prefixes(village_code)
        if "direct" in self.modes or "area" in self.modes:
            out |= self.targeted.get(village_code, set())
        if "area" in self.modes:
            for c in chain[:-1]:
                out |= self.targeted.get(c, set())
        if "library" in self.modes:
            for c in chain:
                out |= self.served.get(c, set())
        return out


def reach_index(store: Store, scope_code: str | None, modes: tuple[str, ...],
                bindings: dict[str, Any] | None = None) -> ReachIndex:
    """Build the reach index for an area (its ancestors and descendants), or for everything."""
    b = dict(bindings or {})
    when = "OPTIONAL { ?i dcpa:startDate ?isd } FILTER(!BOUND(?isd) || ?isd <= ?pend)" if "pend" in b else ""
    proj_p = " ?pend" if "pend" in b else ""
    b.pop("pstart", None)
    targeted: dict[str, set[str]] = defaultdict(set)
    served: dict[str, set[str]] = defaultdict(set)
    by_i: dict[tuple[str, str], set[str]] = defaultdict(set)
    link = {"t": "?i dcpa:targetsArea ?ra .", "s": "?l dcpa:serves ?ra . ?i dcpa:providedBy ?l ."}
    kinds = [k for k, on in (("t", "direct" in modes or "area" in modes), ("s", "library" in modes)) if on]
    for kind in kinds:
        queries = []
        if scope_code is None:
            queries.append((f"SELECT{proj_p} ?ra ?i ?fit WHERE {{ {link[kind]} {ACTIVE} {when} {FITS_PATH} }}", b))
        else:
            values = " ".join(str(ox.NamedNode(area(c))) for c in prefixes(scope_code))
            queries.append((f"SELECT{proj_p} ?ra ?i ?fit WHERE {{ VALUES ?ra {{ {values} }} {link[kind]} {ACTIVE} "
                            f"{when} {FITS_PATH} }}", b))
            if len(scope_code) < 12:
                bb = dict(b, scope=ox.NamedNode(area(scope_code)))
                queries.append((f"SELECT ?scope{proj_p} ?ra ?i ?fit WHERE {{ ?ra dcpa:withinArea ?scope . "
                                f"{link[kind]} {ACTIVE} {when} {FITS_PATH} }}", bb))
        for q, qb in queries:
            for r in store.select(q, bindings=qb or None):
                c = code_of(r["ra"])
                (targeted if kind == "t" else served)[c].add(r["fit"])
                by_i[(kind, c)].add(r["i"])
    return ReachIndex(modes, dict(targeted), dict(served), dict(by_i))


@dataclass(frozen=True)
class NeedRow:
    need: str
    village: str  # code
    need_type: str
    severity: int
    addressed: bool


def need_rows(store: Store, scope: AreaInfo | None, modes: tuple[str, ...],
              period: tuple[str, str] | None = None) -> list[NeedRow]:
    """Every need in the scope with its addressed flag (DATA_MODEL semantics)."""
    pb = period_bindings(period)
    proj = " ".join(f"?{k}" for k in pb)
    pf = period_filter(bool(pb))
    if scope is None:
        q, b = f"SELECT {proj} ?need ?v ?t ?sev WHERE {{ ?need dcpa:needOf ?v ; dcpa:needType ?t ; " \
               f"dcpa:severity ?sev . {pf} }}", dict(pb)
    elif scope.level == "village":
        q, b = f"SELECT ?scope {proj} ?need ?t ?sev WHERE {{ ?need dcpa:needOf ?scope ; dcpa:needType ?t ; " \
               f"dcpa:severity ?sev . {pf} }}", dict(pb, scope=ox.NamedNode(scope.iri))
    else:
        q, b = f"SELECT ?scope {proj} ?need ?v ?t ?sev WHERE {{ ?v dcpa:withinArea ?scope . " \
               f"?need dcpa:needOf ?v ; dcpa:needType ?t ; dcpa:severity ?sev . {pf} }}", \
               dict(pb, scope=ox.NamedNode(scope.iri))
    # Raw results: at province scale there are ~10^5 needs, and the generic conversion costs more than the query.
    res = store.query(q, bindings=b or None)
    idx = reach_index(store, scope.code if scope else None, modes, pb)
    broader, _ = need_type_tree(store)
    up_cache: dict[str, set[str]] = {}
    fit_cache: dict[str, set[str]] = {}
    out = []
    for sol in res:
        v = code_of(sol["v"].value) if scope is None or scope.level != "village" else scope.code
        t = sol["t"].value
        up = up_cache.get(t)
        if up is None:
            up = up_cache[t] = set(ancestors_path(t, broader))
        fits = fit_cache.get(v)
        if fits is None:
            fits = fit_cache[v] = idx.fits_at(v)
        out.append(NeedRow(sol["need"].value, v, t, int(sol["sev"].value), bool(up & fits)))
    return out
