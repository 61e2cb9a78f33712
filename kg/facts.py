"""Reading the rule's inputs from a store: needs, interventions, evaluations, the need-type tree.

Why a reader of its own: the rule (``kg.rule``) is pure Python, and one SPARQL join of
needs × reach × fit is planned badly by Oxigraph (seconds per county, minutes nationally). Here
each input is one or two simple, well-ordered queries whose rows are joined in Python.

Query text is built only from fixed fragments and IRIs re-serialised by Oxigraph itself
(``ox.NamedNode``); values from users reach the engine as typed bindings.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyoxigraph as ox

from .contract import StoreAPI
from .memo import per_data
from .namespaces import ID
from .rule import (
    ONLINE,
    REACH_MODES,
    VILLAGE_CODE_LENGTH,
    WHOLE_AREA,
    EvaluationFacts,
    Fit,
    InterventionFacts,
    NeedFacts,
    Outcome,
    ReachMode,
    Rule,
    prefixes,
)

log = logging.getLogger(__name__)

AREA_PREFIX = str(ID) + "area/"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
_TRUE = "true"

#: Worker threads for the independent queries of one read (Oxigraph releases the GIL while it evaluates).
SCAN_THREADS = 4


def code_of(iri: str) -> str:
    """The official code at the end of an area IRI (IRIs come from ``kg.namespaces.area``)."""
    return iri.rsplit("/", 1)[-1]


def iri_values(iris: Iterable[str]) -> str:
    """A VALUES body of IRIs, each re-serialised by Oxigraph (so no text can break out of it)."""
    return " ".join(str(ox.NamedNode(i)) for i in sorted(set(iris)))


#: IRIs per VALUES list when many things are read by IRI (a VALUES list is matched in linear time: 16,173
#: needs' 222,297 reason triples in 1.1 s at national scale; 98,588 needs' digests took 4.0-4.1 s in chunks
#: of 10,000 and 4.0-4.6 s in chunks of 2,000).
IRIS_PER_QUERY = 10_000


def iri_chunks(iris: Iterable[str]) -> list[str]:
    """``iri_values`` bodies of ``iris`` in parts of at most ``IRIS_PER_QUERY``, one per query."""
    ids = sorted(set(iris))
    return [iri_values(ids[i:i + IRIS_PER_QUERY]) for i in range(0, len(ids), IRIS_PER_QUERY)]


def iri_in(iris: Iterable[str]) -> str:
    """The list of ``FILTER(?x IN (…))`` from IRIs, each re-serialised by Oxigraph. Where the other patterns
    should lead: as VALUES, Oxigraph started from the values (every status, every programme's interventions
    of the country)."""
    return ", ".join(str(ox.NamedNode(i)) for i in sorted(set(iris)))


def area_values(codes: Iterable[str]) -> str:
    return iri_values(AREA_PREFIX + c for c in codes)


def run_parallel(store: StoreAPI, jobs: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str | None, ...]]]:
    """Run SELECT queries in worker threads; each row as a tuple of lexical values (None when unbound).

    Reading ``.value`` of raw Oxigraph terms in the worker avoids the generic conversion of
    ``Store.select``, which at province scale (~10^5 rows) costs more than the query.
    """

    def one(job: tuple[str, dict[str, Any]]) -> list[tuple[str | None, ...]]:
        q, b = job
        return [tuple(None if t is None else t.value for t in sol) for sol in store.query(q, bindings=b or None)]

    if len(jobs) <= 1:
        return [one(j) for j in jobs]
    with ThreadPoolExecutor(max_workers=min(SCAN_THREADS, len(jobs))) as ex:
        return list(ex.map(one, jobs))


def scope_patterns(codes: list[str], var: str = "?v", also: Iterable[str] = ()) -> list[str]:
    """Two patterns binding ``var`` to the areas of ``codes`` (and ``also``), and to every area inside one.

    Two queries, not one UNION: Oxigraph evaluates a UNION on its own and then joins it, so the
    patterns after it ran over the whole store (40 s for one county of the national graph).
    """
    return [f"VALUES {var} {{ {area_values(set(codes) | set(also))} }}",
            f"VALUES ?scope {{ {area_values(codes)} }} {var} dcpa:withinArea ?scope ."]


def above(codes: Iterable[str]) -> set[str]:
    """The codes of every area containing one of ``codes`` (not the codes themselves)."""
    return {a for c in codes for a in prefixes(c)[:-1]}


def minimal_areas(codes: Iterable[str]) -> list[str]:
    """The codes not contained in another code of the set (the NBS codes nest by prefix)."""
    s = set(codes)
    return sorted(c for c in s if not any(p in s for p in prefixes(c)[:-1]))


def parse_date(text: str | None) -> date | None:
    """A date as the rule reads one: None for none, or for a value that is not a date (the shapes refuse it)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# needs
# ---------------------------------------------------------------------------

_NEED_ATTRS = ("dcpa:needType ?t ; dcpa:severity ?sev . OPTIONAL { ?need dcpa:peopleAffected ?people } "
               "OPTIONAL { ?need dcpa:isSynthetic ?ex }")


@dataclass(frozen=True)
class Period:
    """Needs identified between ``start`` and ``end`` (needs without a date always count)."""

    start: date
    end: date

    def filter(self) -> str:
        # a date that does not compare as one (ill-formed, a string) counts as none, as it does for the derived graph:
        # its marker's next identification never names it (``later_identified``), so the graph holds such a need
        return (f"OPTIONAL {{ ?need dcpa:identifiedOn ?idon }} FILTER(!BOUND(?idon) || "
                f"COALESCE(?idon >= {_date_term(self.start)} && ?idon <= {_date_term(self.end)}, true))")


@per_data(1)
def latest_identified(store: StoreAPI) -> date | None:
    """The day the latest need in the store was identified (None when no need has a date)."""
    # the dates that compare as dates only: another (ill-formed, a string) counts as none (``Period.filter``)
    rows = run_parallel(store, [("SELECT (MAX(?d) AS ?m) WHERE { ?n dcpa:identifiedOn ?d "
                                 f"FILTER(COALESCE(?d >= {_date_term(date.min)}, false)) }}", {})])[0]
    try:
        return date.fromisoformat(str(rows[0][0])) if rows and rows[0][0] else None
    except ValueError:  # a date the shapes refuse; no cut is better than a wrong one
        return None


def known_by(store: StoreAPI, day: date, period: Period | None = None) -> Period | None:
    """The needs an answer as of ``day`` may count, when the store holds needs identified after it: those
    identified by ``day`` (and those without a date); None when every need was identified by then. With a
    ``period`` that ends after ``day``, its needs identified by ``day``; None when it ends by then.

    The latest date is read (every need's: 0.25 s for 768,523 needs at national scale), once a version of the
    data, whatever the day: an import refuses a need identified after its own day but one, but a store loaded
    otherwise (a remote one, a planned survey) may hold later ones, and the derived graph for a day after
    tomorrow leaves them out (``kg.derived``), so the rule applied live must too. An answer read from the
    derived graph asks its marker instead (``kg.derived.Marker.known``), which knows it for free.
    """
    if period is not None:
        return Period(period.start, day) if day < period.end else None
    latest = latest_identified(store)
    return Period(date.min, day) if latest is not None and latest > day else None


def outside_period(store: StoreAPI, scope: list[str] | None, period: Period) -> set[str]:
    """The needs of ``scope`` (area codes; None: every need) that ``period.filter()`` leaves out: identified on
    dates that compare as dates, none of them inside the period.

    Why: a gap report for a period reads every need known on the day (they share capacities) and kept those of
    the period by reading the scope's needs a second time (7 s of a province's 20 s at national scale); their
    dates alone, counted in the engine, take 1.4–2.0 s (a `FILTER NOT EXISTS` for a second date took 8 s: the
    engine ran it for every need first)."""
    inside = f"COALESCE(?d >= {_date_term(period.start)} && ?d <= {_date_term(period.end)}, true)"
    jobs: list[tuple[str, dict[str, Any]]] = [(
        f"SELECT ?need WHERE {{ {head} ?need dcpa:needOf ?v ; dcpa:identifiedOn ?d }} "
        f"GROUP BY ?need HAVING(SUM(IF({inside}, 1, 0)) = 0)", {}) for head in _scope_heads(_finer(store, scope))]
    return {row[0] for rows in run_parallel(store, jobs) for row in rows if row[0]}


def later_identified(store: StoreAPI, day: date, scope: list[str] | None = None) -> date | None:
    """The first day after ``day`` on which a need of ``scope`` (area codes; None: every need) was identified;
    None when none was. What the derived graph made for ``day`` leaves out, and when it must move on
    (``kg.derived``)."""
    after = f"?need dcpa:identifiedOn ?d FILTER(?d > {_date_term(day)})"
    wheres = [f"{head} ?need dcpa:needOf ?v . {after}" if head else after for head in _scope_heads(scope)]
    jobs: list[tuple[str, dict[str, Any]]] = [(f"SELECT (MIN(?d) AS ?m) WHERE {{ {w} }}", {}) for w in wheres]
    found = [parse_date(row[0]) for rows in run_parallel(store, jobs) for row in rows]
    return min((d for d in found if d is not None), default=None)


def identified_on(store: StoreAPI, day: date) -> bool:
    """Whether a need in the store was identified on ``day``."""
    return bool(run_parallel(store, [(f"SELECT ?need WHERE {{ ?need dcpa:identifiedOn {_date_term(day)} }} LIMIT 1",
                                      {})])[0])


def identified_after(store: StoreAPI, iris: Iterable[str], day: date) -> dict[str, date]:
    """Those of the needs ``iris`` identified after ``day``, with their dates."""
    jobs: list[tuple[str, dict[str, Any]]] = [
        (f"SELECT ?need ?d WHERE {{ VALUES ?need {{ {chunk} }} ?need dcpa:identifiedOn ?d "
         f"FILTER(?d > {_date_term(day)}) }}", {}) for chunk in iri_chunks(iris)]
    out = {}
    for rows in run_parallel(store, jobs):
        for n, d in rows:
            when = parse_date(d)
            if n and when is not None:
                out[n] = when
    return out


def identified_between(store: StoreAPI, start: date, end: date, scope: list[str] | None = None) -> dict[str, str]:
    """The needs (of ``scope``, area codes; None: every need) identified after ``start`` and by ``end``, with their
    villages' codes: those a derived graph moved from one of the two days to the other takes in or leaves out."""
    between = f"?need dcpa:identifiedOn ?d FILTER(?d > {_date_term(start)} && ?d <= {_date_term(end)})"
    jobs: list[tuple[str, dict[str, Any]]] = [
        (f"SELECT ?need ?v WHERE {{ {head} ?need dcpa:needOf ?v . {between} }}", {}) for head in _scope_heads(scope)]
    return {str(n): code_of(str(v)) for rows in run_parallel(store, jobs) for n, v in rows if n and v}


def _date_term(d: date) -> str:
    return str(ox.Literal(d.isoformat(), datatype=ox.NamedNode(XSD_DATE)))


def need_queries(scope: list[str] | None, period: Period | None = None,
                 types: Iterable[str] | None = None) -> list[str]:
    """SELECT ?need ?v ?t ?sev ?people ?ex over the needs of the villages in ``scope`` (codes; None: all), of
    ``types`` only when given (a province's needs of three types of seventeen: 2.2 s against 4.7 s)."""
    pf = period.filter() if period else ""
    if types is not None:
        pf += f" FILTER(?t IN ({iri_in(types)}))"
    head = "SELECT ?need ?v ?t ?sev ?people ?ex WHERE {"
    return [f"{head} {scoped} ?need dcpa:needOf ?v ; {_NEED_ATTRS} {pf} }}" for scoped in _scope_heads(scope)]


def parts_of(store: StoreAPI, code: str) -> list[str]:
    """The areas a province or a city directly contains, when its villages may be read through them (two or
    more, none a village: ``dcpa:withinArea`` holds every ancestor, so each of its villages is within one);
    ``[code]`` otherwise (a county and below, or an area holding villages directly)."""
    if len(code) > 4:
        return [code]
    rows = run_parallel(store, [(f"SELECT ?c WHERE {{ ?c dcpa:parentArea <{AREA_PREFIX}{code}> }}", {})])[0]
    children = sorted(code_of(r[0]) for r in rows if r[0])
    if len(children) < 2 or any(len(c) == VILLAGE_CODE_LENGTH for c in children):
        return [code]
    return children


def _finer(store: StoreAPI, scope: list[str] | None) -> list[str] | None:
    """``scope`` with a lone province or city replaced by its parts (``parts_of``), so that its needs are read
    in ``SCAN_THREADS`` queries at once: a province's 100,476 needs took 6.5 s as one query at national scale."""
    return parts_of(store, scope[0]) if scope is not None and len(scope) == 1 else scope


def _scope_heads(scope: list[str] | None) -> list[str]:
    """Patterns binding ``?v`` to the villages of ``scope`` (codes), one a query to run at once; ``[""]`` for
    every village (None)."""
    if scope is None:
        return [""]
    villages = [c for c in scope if len(c) == VILLAGE_CODE_LENGTH]
    areas = [c for c in scope if len(c) < VILLAGE_CODE_LENGTH]
    out = []
    if villages:
        out.append(f"VALUES ?v {{ {area_values(villages)} }}")
    # only the areas' insides (the areas themselves have no needs), in up to SCAN_THREADS queries that
    # run_parallel runs at once: a refresh of 96 counties read their 198,588 needs in 17.6 s as one query
    parts = min(SCAN_THREADS, len(areas))
    for i in range(parts):
        out.append(f"VALUES ?scope {{ {area_values(areas[i::parts])} }} ?v dcpa:withinArea ?scope .")
    return out


def need_facts(rows: Iterable[tuple[str | None, ...]]) -> list[NeedFacts]:
    out = {}
    for need, v, t, sev, people, ex in rows:
        if need is None or v is None or t is None:
            continue
        out[need] = NeedFacts(need, code_of(v), t, _int(sev) or 0, _int(people), ex == _TRUE)
    return sorted(out.values(), key=lambda n: (n.village, n.iri))


def read_needs(store: StoreAPI, scope: list[str] | None, period: Period | None = None,
               types: Iterable[str] | None = None) -> list[NeedFacts]:
    """The needs of the villages in ``scope`` (area codes; None: every need), of ``types`` when given."""
    jobs: list[tuple[str, dict[str, Any]]] = [(q, {}) for q in need_queries(_finer(store, scope), period, types)]
    return need_facts(row for rows in run_parallel(store, jobs) for row in rows)


def needs_of_queries(iris: Iterable[str]) -> list[str]:
    """SELECT ?need ?v ?t ?sev ?people ?ex over the needs with these IRIs (``need_facts`` reads the rows).

    Why not also ask that the village lies within an area, as ``need_queries`` does for a scope: that
    doubled the lookups of 100,000 needs (3.6 s -> 4.5-5.7 s at national scale), and ``derive_all``, which
    reads every need, does not ask it either.
    """
    return [f"SELECT ?need ?v ?t ?sev ?people ?ex WHERE {{ VALUES ?need {{ {chunk} }} ?need dcpa:needOf ?v ; "
            f"{_NEED_ATTRS} }}" for chunk in iri_chunks(iris)]


def needs_by_iri(store: StoreAPI, iris: Iterable[str]) -> list[NeedFacts]:
    """The facts of the needs with these IRIs (those in the store)."""
    return need_facts(row for part in run_parallel(store, [(q, {}) for q in needs_of_queries(iris)]) for row in part)


# ---------------------------------------------------------------------------
# interventions
# ---------------------------------------------------------------------------


def _intervention_ids(store: StoreAPI, within: list[str] | None) -> list[str] | None:
    """The interventions that can reach a village inside ``within``: targeting one of those areas, an area
    inside one, or an area above one. ``None`` (every intervention) when ``within`` is None."""
    if within is None:
        return None
    jobs: list[tuple[str, dict[str, Any]]] = [
        (f"SELECT DISTINCT ?i WHERE {{ {place} ?i dcpa:targetsArea ?ra }}", {})
        for place in scope_patterns(within, "?ra", also=above(within))
    ]
    return sorted({row[0] for rows in run_parallel(store, jobs) for row in rows if row[0]})


def read_interventions(store: StoreAPI, within: list[str] | None = None) -> dict[str, InterventionFacts]:
    """Every intervention that can reach a village inside ``within`` (codes; None: all), as the rule sees it."""
    ids = _intervention_ids(store, within)
    if ids is not None and not ids:
        return {}
    head = f"VALUES ?i {{ {iri_values(ids)} }}" if ids is not None else "?i a dcpa:Intervention ."
    jobs: list[tuple[str, dict[str, Any]]] = [
        (f"""SELECT ?i ?st ?cat ?start ?end ?isu ?rs ?pr ?vc ?ex WHERE {{ {head}
            OPTIONAL {{ ?i dcpa:interventionStatus ?st }} OPTIONAL {{ ?i dcpa:category ?cat }}
            OPTIONAL {{ ?i dcpa:startDate ?start }} OPTIONAL {{ ?i dcpa:endDate ?end }}
            OPTIONAL {{ ?i dcpa:inServiceUntil ?isu }} OPTIONAL {{ ?i dcpa:reachScope ?rs }}
            OPTIONAL {{ ?i dcpa:peopleReached ?pr }} OPTIONAL {{ ?i dcpa:villageCapacity ?vc }}
            OPTIONAL {{ ?i dcpa:isSynthetic ?ex }} }}""", {}),
        (f"SELECT ?i ?a WHERE {{ {head} ?i dcpa:targetsArea ?a }}", {}),
        (f"SELECT ?i ?c ?t WHERE {{ {head} ?i dcpa:category ?c . ?c dcpa:addressesNeedType ?t }}", {}),
        # a resource's own fits and its type's (two queries: a UNION here ran over every resource)
        (f"SELECT ?i ?r ?t WHERE {{ {head} ?i dcpa:usesResource ?r . ?r dcpa:addressesNeedType ?t }}", {}),
        (f"SELECT ?i ?r ?rt ?t WHERE {{ {head} ?i dcpa:usesResource ?r . ?r dcpa:resourceType ?rt . "
         "?rt dcpa:addressesNeedType ?t }", {}),
        # its delivery mode: its own, else its type's
        (f"""SELECT ?i ?r ?rdm ?tdm WHERE {{ {head} ?i dcpa:usesResource ?r .
            OPTIONAL {{ ?r dcpa:deliveryMode ?rdm }}
            OPTIONAL {{ ?r dcpa:resourceType ?rt . ?rt dcpa:deliveryMode ?tdm }} }}""", {}),
    ]
    base, targets, cat_fits, own_fits, type_fits, delivery = run_parallel(store, jobs)
    attrs: dict[str, tuple[str | None, ...]] = {}
    for row in base:
        attrs.setdefault(str(row[0]), row)
    villages: dict[str, set[str]] = defaultdict(set)
    areas: dict[str, set[str]] = defaultdict(set)
    for i, a in targets:
        if i and a and a.startswith(AREA_PREFIX):
            c = code_of(a)
            (villages if len(c) == VILLAGE_CODE_LENGTH else areas)[i].add(c)
    named: dict[str, set[Fit]] = defaultdict(set)
    online: dict[str, set[Fit]] = defaultdict(set)
    for i, cat, t in cat_fits:
        if i and cat and t:
            named[i].add(Fit(t, cat, "category"))
    online_resources = {(i, r) for i, r, rdm, tdm in delivery if (rdm or tdm) == ONLINE}
    for i, r, t in own_fits:
        if i and r and t:
            named[i].add(Fit(t, r, "resource"))
            if (i, r) in online_resources:
                online[i].add(Fit(t, r, "resource"))
    for i, r, rt, t in type_fits:
        if i and r and rt and t:
            named[i].add(Fit(t, rt, "resource_type"))
            if (i, r) in online_resources:
                online[i].add(Fit(t, rt, "resource_type"))
    out: dict[str, InterventionFacts] = {}
    for i, (_, st, cat, start, end, isu, rs, pr, vc, ex) in attrs.items():
        whole = rs == WHOLE_AREA
        fits = tuple(sorted(named.get(i, ())))
        out[i] = InterventionFacts(
            iri=i, example=ex == _TRUE, status=st, category=cat,
            category_code=cat.rsplit("/", 1)[-1] if cat else None,
            start=parse_date(start), end=parse_date(end), in_service_until=parse_date(isu),
            villages=tuple(sorted(villages.get(i, ()))), areas=tuple(sorted(areas.get(i, ()))),
            whole_area=whole, named_fits=fits,
            area_fits=fits if whole else tuple(sorted(online.get(i, ()))),
            people_reached=_int(pr), village_capacity=_int(vc),
        )
    return out


def ended_by(day: date, var: str = "?e") -> str:
    """The pattern keeping the evaluations ``var`` whose period had ended by ``day`` (or is undated), as the rule reads
    them (``kg.rule.ended_by``): a value recorded before its period's end is not yet a result. The end is read as
    ``parse_date`` reads it, its first ten characters as a date (a dateTime's day: compared as written, SPARQL could
    not, and held a period still running as ended); one that is no date then counts as none."""
    return (f"OPTIONAL {{ {var} dcpa:periodEnd ?_end }} FILTER(!BOUND(?_end) || "
            f"COALESCE(xsd:date(SUBSTR(STR(?_end), 1, 10)) <= {_date_term(day)}, true)) ")


def read_evaluations(store: StoreAPI, interventions: Iterable[str] | None) -> list[EvaluationFacts]:
    """The evaluations of the given interventions (None: all) with their area, target, actual and period."""
    ids = None if interventions is None else sorted(set(interventions))
    if ids is not None and not ids:
        return []
    head = f"VALUES ?i {{ {iri_values(ids)} }}" if ids is not None else ""
    rows = run_parallel(store, [(
        f"""SELECT ?e ?i ?a ?tv ?av ?pe ?ex WHERE {{ {head} ?e dcpa:evaluates ?i ; dcpa:evaluatedArea ?a .
            OPTIONAL {{ ?e dcpa:targetValue ?tv }} OPTIONAL {{ ?e dcpa:actualValue ?av }}
            OPTIONAL {{ ?e dcpa:periodEnd ?pe }} OPTIONAL {{ ?e dcpa:isSynthetic ?ex }} }}""", {})])[0]
    return [EvaluationFacts(str(e), str(i), code_of(str(a)), _float(tv), _float(av), parse_date(pe), ex == _TRUE)
            for e, i, a, tv, av, pe, ex in rows if e and i and a]


def need_type_tree(store: StoreAPI) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(broader, narrower) maps of the need-type scheme, from the graph."""
    broader: dict[str, list[str]] = defaultdict(list)
    narrower: dict[str, list[str]] = defaultdict(list)
    for t, b in run_parallel(store, [("SELECT ?t ?b WHERE { ?t a dcpa:NeedType ; skos:broader ?b }", {})])[0]:
        if t and b:
            broader[t].append(b)
            narrower[b].append(t)
    return dict(broader), dict(narrower)


# ---------------------------------------------------------------------------
# everything the rule needs for a scope
# ---------------------------------------------------------------------------


@dataclass
class Inputs:
    """The rule for a scope, the needs in the scope, and the other needs sharing capacity with them."""

    rule: Rule
    needs: list[NeedFacts]
    context: list[NeedFacts]  # needs outside the scope, of villages named by a capacity-limited intervention

    def outcomes(self, modes: Iterable[ReachMode] = REACH_MODES) -> dict[str, Outcome]:
        """The outcome of every need in the scope (capacity shared with the context needs)."""
        result = self.rule.outcomes(self.needs + self.context, modes)
        return {n.iri: result[n.iri] for n in self.needs}

    def outside_villages(self) -> set[str]:
        """Villages outside the scope whose needs share capacity with the scope's."""
        return {n.village for n in self.context}


def read_rule(store: StoreAPI, scope: list[str] | None, as_of: date, windows: dict[str, int]) -> Rule:
    """The rule as of ``as_of`` over the interventions that can reach a village in ``scope`` (area codes;
    None: every intervention), with their evaluations and the need-type tree."""
    interventions = read_interventions(store, None if scope is None else minimal_areas(scope))
    evaluations = read_evaluations(store, None if scope is None else interventions)
    broader, _ = need_type_tree(store)
    return Rule(interventions, evaluations, broader, as_of, windows)


def read_inputs(store: StoreAPI, scope: list[str] | None, as_of: date, windows: dict[str, int],
                period: Period | None = None) -> Inputs:
    """The rule (interventions in force as of ``as_of`` that can reach the scope), the scope's needs and
    their capacity context. ``scope`` is a list of area codes (None: the whole store)."""
    needs = read_needs(store, scope, period)
    rule = read_rule(store, scope, as_of, windows)
    context: list[NeedFacts] = []
    if scope is not None:
        inside = {n.village for n in needs}
        covered = set(scope)
        outside = sorted({v for i in rule.interventions.values() if i.capacity_limited and rule.in_force(i.iri)
                          for v in i.villages if v not in inside and not covered.intersection(prefixes(v))})
        if outside:
            context = read_needs(store, outside, period)
    return Inputs(rule, needs, context)


__all__ = [
    "AREA_PREFIX",
    "Inputs",
    "Period",
    "above",
    "area_values",
    "code_of",
    "iri_chunks",
    "iri_values",
    "identified_after",
    "identified_between",
    "identified_on",
    "known_by",
    "later_identified",
    "latest_identified",
    "minimal_areas",
    "need_type_tree",
    "read_evaluations",
    "read_inputs",
    "read_interventions",
    "read_needs",
    "needs_of_queries",
    "read_rule",
    "run_parallel",
    "scope_patterns",
]
