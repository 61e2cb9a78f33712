"""The facts the views and dashboards draw: labels, needs and whether they are addressed.

Why a module of its own: the views must flag unaddressed needs node by node, and draw which
interventions meet each one, which a gap *report* (an aggregate) cannot do. The rule is
DATA_MODEL.md's "Semantics of addressed", applied by ``kg.derived.Interventions.addressing`` (the
same code that fills the derived graph), with the reach from ``DCPA_REACH``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..answers._common import parse_reach
from ..derived import read_interventions
from ..errors import QueryError
from ..namespaces import DCPA
from ..store import Store

log = logging.getLogger(__name__)

#: Severity from which a need counts as severe (1 slight … 5 most severe).
SEVERE = 4


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
    if len(area_iri.rsplit("/", 1)[-1]) == 12:  # a village-level unit: itself
        return f"VALUES ?v {{ <{area_iri}> }}"
    # no UNION with the area itself: Oxigraph would evaluate the union apart and join it with every need
    return f"?v dcpa:withinArea <{area_iri}> ."


def _int(term: Any) -> int:
    try:
        return int(term.value) if term is not None else 0
    except ValueError:
        return 0


def needs(
    store: Store,
    *,
    area_iri: str | None = None,
    village_iris: Iterable[str] | None = None,
    reach: str = "area,library",
) -> list[NeedRow]:
    """Every need of the villages in scope, each with the interventions that address it.

    Why in Python: one SPARQL join of needs × reach × fit is planned badly by Oxigraph
    (12 s for a county at province scale); the needs in scope and the interventions that can
    reach them are each a fast query, and the join is a dictionary lookup.
    """
    villages = list(village_iris) if village_iris is not None else None
    scope = _scope(area_iri, villages)
    res = store.query(
        f"""SELECT ?need ?v ?code ?t ?sev ?people WHERE {{
            {{ SELECT ?v ?need ?t WHERE {{ {scope} ?need dcpa:needOf ?v ; dcpa:needType ?t . }} }}
            OPTIONAL {{ ?v dcpa:areaCode ?code }}
            OPTIONAL {{ ?need dcpa:severity ?sev }}
            OPTIONAL {{ ?need dcpa:peopleAffected ?people }}
        }}"""
    )
    result: dict[str, NeedRow] = {}
    for sol in res:  # raw terms: converting 10^5 rows through Store.select took seconds
        need, sev, people, code = sol["need"].value, sol["sev"], sol["people"], sol["code"]
        if need not in result:
            result[need] = NeedRow(
                need=need,
                village=sol["v"].value,
                village_code=code.value if code is not None else "",
                need_type=sol["t"].value,
                severity=_int(sev),
                people=_int(people),
            )
    if not result:
        return []
    modes = parse_reach(reach)
    if area_iri is not None:
        within: list[str] | None = [area_iri.rsplit("/", 1)[-1]]
    elif villages is not None:
        within = sorted({n.village_code for n in result.values()})
    else:
        within = None
    # the rule itself is kg.derived's: the interventions that can reach the scope, then per need
    inv = read_interventions(store, within=within)
    for n in result.values():
        n.addressed_by = inv.addressing(n.village_code, n.need_type, modes)
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
