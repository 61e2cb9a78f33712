"""The facts the views and dashboards draw: labels, needs and whether they are addressed.

Why a module of its own: the views must flag unaddressed needs node by node, which a
gap *report* (an aggregate) cannot do. The rule is DATA_MODEL.md's "Semantics of
addressed" (status S2/S3, fit through ``skos:broader*``, reach from ``DCPA_REACH``);
each query is scoped to its villages in a sub-select first, as DESIGN.md advises.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import QueryError
from ..namespaces import DCPA, DCPAV, area
from ..store import Store

log = logging.getLogger(__name__)

#: Severity from which a need counts as severe (1 slight … 5 most severe).
SEVERE = 4
_ACTIVE = (str(DCPAV["S2"]), str(DCPAV["S3"]))


def iri_list(iris: Iterable[str]) -> str:
    """A SPARQL VALUES body from IRIs (IRIs come from the store, never from users)."""
    return " ".join(f"<{i}>" for i in sorted(set(iris)) if ">" not in i and " " not in i)


_BAD_IRI_CHARS = set('<>"{}|\\^` \n\r\t')


def ref(iri: str) -> str:
    """``<iri>`` for a SPARQL text, refusing anything that could break out of the IRI."""
    if not iri.startswith(("http://", "https://", "urn:")) or _BAD_IRI_CHARS & set(iri):
        raise QueryError(f"not an IRI: {iri!r}", hint="pass a full http(s) IRI")
    return f"<{iri}>"


def select(store: Store, sparql: str, **values: str) -> list[dict[str, Any]]:
    """Run a SELECT with ``?name`` fixed to IRIs (``VALUES`` placed first in the outer WHERE)."""
    return store.select(_with_values(sparql, values))


def ask(store: Store, sparql: str, **values: str) -> bool:
    return store.ask(_with_values(sparql, values))


def _with_values(sparql: str, values: dict[str, str]) -> str:
    block = " ".join(f"VALUES ?{k} {{ {ref(v)} }}" for k, v in values.items())
    i = sparql.index("{") + 1
    return sparql[:i] + " " + block + " " + sparql[i:]


def local_name(iri: str) -> str:
    """The last path or fragment segment of an IRI, as a fallback label."""
    for sep in ("#", "/"):
        if sep in iri:
            tail = iri.rsplit(sep, 1)[1]
            if tail:
                return tail
    return iri


def labels(store: Store, iris: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{iri: {"zh": …, "en": …}}`` from rdfs:label / skos:prefLabel; both keys always set."""
    iris = list(set(iris))
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(iris), 500):
        chunk = iri_list(iris[start : start + 500])
        if not chunk:
            continue
        rows = store.select(
            f"""SELECT ?s ?l (LANG(?l) AS ?lang) WHERE {{
                VALUES ?s {{ {chunk} }}
                ?s rdfs:label|skos:prefLabel ?l }}"""
        )
        for r in rows:
            lang = str(r.get("lang") or "").lower()
            key = "zh" if lang.startswith("zh") else "en" if lang.startswith("en") else ""
            text = str(r["l"])
            if key and key not in found[r["s"]]:
                found[r["s"]][key] = text
            elif not key:
                found[r["s"]].setdefault("", text)
    out: dict[str, dict[str, str]] = {}
    for i in iris:
        f = found.get(i, {})
        zh = f.get("zh") or f.get("") or f.get("en") or local_name(i)
        en = f.get("en") or f.get("") or f.get("zh") or local_name(i)
        out[i] = {"zh": zh, "en": en}
    return out


def synthetic(store: Store, iris: Iterable[str]) -> set[str]:
    """Which of ``iris`` are synthetic example data."""
    chunk = iri_list(iris)
    if not chunk:
        return set()
    rows = store.select(f"SELECT ?s WHERE {{ VALUES ?s {{ {chunk} }} ?s dcpa:isSynthetic true }}")
    return {r["s"] for r in rows}


@dataclass
class NeedRow:
    """One identified need and whether (and by which interventions) it is addressed."""

    need: str
    village: str
    village_code: str
    need_type: str
    severity: int = 0
    people: int = 0
    addressed_by: set[str] = field(default_factory=set)

    @property
    def addressed(self) -> bool:
        return bool(self.addressed_by)

    @property
    def severe(self) -> bool:
        return self.severity >= SEVERE


def _scope(area_iri: str | None, village_iris: Iterable[str] | None) -> str:
    """The pattern that binds ?v to the villages in scope."""
    if village_iris is not None:
        return f"VALUES ?v {{ {iri_list(village_iris)} }}"
    if area_iri is None:
        return "?v a/rdfs:subClassOf* dcpa:VillageLevelUnit ."
    return f"{{ ?v dcpa:withinArea <{area_iri}> }} UNION {{ VALUES ?v {{ <{area_iri}> }} }}"


def _modes(reach: str) -> set[str]:
    return {m.strip() for m in reach.split(",") if m.strip()}


def _ancestors(code: str) -> list[str]:
    """The areas a village-level unit is within, from its code (DATA_MODEL.md: codes nest 2/4/6/9/12)."""
    return [area(code[:n]) for n in (2, 4, 6, 9) if n < len(code)]


def _active_interventions(
    store: Store,
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    """Active/completed interventions: need types each fits; areas each targets; areas its library serves."""
    active = " ".join(f"<{s}>" for s in _ACTIVE)
    fits: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        f"""SELECT DISTINCT ?i ?t2 WHERE {{ VALUES ?st {{ {active} }} ?i dcpa:interventionStatus ?st .
            {{ ?i dcpa:category/dcpa:addressesNeedType ?t2 }}
            UNION {{ ?i dcpa:usesResource/dcpa:resourceType/dcpa:addressesNeedType ?t2 }}
            UNION {{ ?i dcpa:usesResource/dcpa:addressesNeedType ?t2 }} }}"""
    ):
        fits[r["i"]].add(r["t2"])
    targets: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        f"SELECT ?i ?a WHERE {{ VALUES ?st {{ {active} }} ?i dcpa:interventionStatus ?st ; dcpa:targetsArea ?a }}"
    ):
        targets[r["a"]].add(r["i"])
    served: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        f"""SELECT ?i ?a WHERE {{ VALUES ?st {{ {active} }} ?i dcpa:interventionStatus ?st ;
            dcpa:providedBy ?l . ?l dcpa:serves ?a }}"""
    ):
        served[r["a"]].add(r["i"])
    return fits, targets, served


def broader_closure(store: Store) -> dict[str, set[str]]:
    """``{need type: {itself and every broader type}}`` (``skos:broader+``)."""
    up: dict[str, set[str]] = defaultdict(set)
    for r in store.select("SELECT ?t ?b WHERE { ?t skos:broader+ ?b }"):
        up[r["t"]].add(r["b"])
    return up


def needs(
    store: Store,
    *,
    area_iri: str | None = None,
    village_iris: Iterable[str] | None = None,
    reach: str = "area,library",
) -> list[NeedRow]:
    """Every need of the villages in scope, each with the interventions that address it.

    Why in Python: one SPARQL join of needs × reach × fit is planned badly by Oxigraph
    (12 s for a county at province scale); the needs in scope, the active interventions
    (few) and the type tree are each one fast query, and the join is a dictionary lookup.
    """
    scope = _scope(area_iri, list(village_iris) if village_iris is not None else None)
    rows = store.select(
        f"""SELECT ?need ?v ?code ?t ?sev ?people WHERE {{
            {{ SELECT ?v ?need ?t WHERE {{ {scope} ?need dcpa:needOf ?v ; dcpa:needType ?t . }} }}
            OPTIONAL {{ ?v dcpa:areaCode ?code }}
            OPTIONAL {{ ?need dcpa:severity ?sev }}
            OPTIONAL {{ ?need dcpa:peopleAffected ?people }}
        }}"""
    )
    result: dict[str, NeedRow] = {}
    for r in rows:
        result.setdefault(
            r["need"],
            NeedRow(
                need=r["need"],
                village=r["v"],
                village_code=str(r.get("code", "")),
                need_type=r["t"],
                severity=int(r.get("sev", 0) or 0),
                people=int(r.get("people", 0) or 0),
            ),
        )
    if not result:
        return []
    modes = _modes(reach)
    fits, targets, served = _active_interventions(store)
    up = broader_closure(store)
    for n in result.values():
        ancestors = _ancestors(n.village_code)
        reachers = set(targets.get(n.village, ()))
        if "area" in modes:
            for a in ancestors:
                reachers |= targets.get(a, set())
        if "library" in modes:
            for a in [n.village, *ancestors]:
                reachers |= served.get(a, set())
        types = {n.need_type} | up.get(n.need_type, set())
        n.addressed_by = {i for i in reachers if fits.get(i, set()) & types}
    log.debug("needs in scope: %d", len(result))
    return sorted(result.values(), key=lambda n: (n.village_code, -n.severity, n.need))


def categories_fitting(store: Store) -> dict[str, set[str]]:
    """``{need type: {intervention categories whose addressed types are it or broader}}``."""
    rows = store.select(
        f"""SELECT DISTINCT ?t ?c WHERE {{
            ?c a <{DCPA.InterventionCategory}> ; dcpa:addressesNeedType ?t2 .
            ?t skos:broader* ?t2 . }}"""
    )
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        out[r["t"]].add(r["c"])
    return dict(out)


def categories_of(store: Store, interventions: Iterable[str]) -> dict[str, str]:
    """``{intervention: category}``."""
    chunk = iri_list(interventions)
    if not chunk:
        return {}
    rows = store.select(f"SELECT ?i ?c WHERE {{ VALUES ?i {{ {chunk} }} ?i dcpa:category ?c }}")
    return {r["i"]: r["c"] for r in rows}


def all_categories(store: Store) -> list[str]:
    rows = store.select(f"SELECT ?c WHERE {{ ?c a <{DCPA.InterventionCategory}> }} ORDER BY ?c")
    return [r["c"] for r in rows]


def area_info(store: Store, code: str) -> dict[str, str] | None:
    """IRI and class of the area with official ``code`` (None when unknown)."""
    if not code.isdigit():
        return None
    rows = store.select(
        f'SELECT ?a ?cls WHERE {{ ?a dcpa:areaCode "{code}" ; a ?cls . FILTER(STRSTARTS(STR(?cls), STR(dcpa:))) }}'
    )
    if not rows:
        return None
    return {"iri": rows[0]["a"], "class": rows[0]["cls"], "code": code}


def any_synthetic_need(store: Store, area_iri: str) -> bool:
    """Whether any need in the area is synthetic example data (the page must then say so)."""
    return ask(
        store,
        """ASK { { ?v dcpa:withinArea ?a } UNION { BIND(?a AS ?v) }
            ?n dcpa:needOf ?v ; dcpa:isSynthetic true }""",
        a=area_iri,
    )
