"""Derived facts: whether each need is addressed, materialised in the graph ``GRAPH_DERIVED``.

Deciding whether a need is addressed walks from its village through every area containing it to the
active interventions targeting those areas or provided by libraries serving them, then checks type
fit through ``skos:broader*``. Inside one SPARQL query over a province, Oxigraph repeats that walk for
every need (seconds at province scale, minutes at national scale). Here it is done once, in Python,
and its outcome is stored on each need, so queries read a flag instead of repeating the walk::

    ?need dcpa:addressedThrough dcpav:RM1 | dcpav:RM2 | dcpav:RM3   # direct / area / library reach
    ?need dcpa:addressedByCategory ?category                         # any reach mode
    ?need dcpa:addressingInterventionCount ?n                        # any reach mode; 0 = a gap

and, for every province, city and county, a ``dcpa:NeedSummary`` per need type and severity with its
``dcpa:needCount`` and ``dcpa:gapCount``, so that a province's gap report reads a few hundred rows
instead of 10^5 needs.

``derive_all`` writes the graph for a whole store (the build); ``refresh`` recomputes the counties a
change touches (``affected_areas``) and the summaries above them, and writes only the difference, in
one transaction (the importer, after every import and replacement). Answers restricted to a period (needs identified and
interventions started in it) cannot use the flags and are computed live (``kg.answers._common``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import PROV, RDF, RDFS, XSD

from .answers._common import (
    ACTIVE,
    FITS_PATH,
    ancestors_path,
    code_of,
    need_type_tree,
    prefixes,
    run_parallel,
)
from .namespaces import DCPA, DCPAV, DERIVED_RULE, GRAPH_DERIVED, GRAPH_ONTOLOGY, ID, node
from .store import Store

log = logging.getLogger(__name__)

#: The concept standing for each reach mode of ``settings.reach``.
MODE_CONCEPT = {"direct": str(DCPAV.RM1), "area": str(DCPAV.RM2), "library": str(DCPAV.RM3)}


def covered_modes(modes: Iterable[str]) -> set[str]:
    """The reach modes a reach rule counts: ``area`` also counts interventions targeting the village."""
    wanted = set(modes)
    return wanted | {"direct"} if "area" in wanted else wanted


_AREA_PREFIX = str(ID) + "area/"
_THROUGH = str(DCPA.addressedThrough)
_BY_CATEGORY = str(DCPA.addressedByCategory)
_COUNT = str(DCPA.addressingInterventionCount)
_DERIVED_PREDICATES = (_THROUGH, _BY_CATEGORY, _COUNT)


@dataclass
class Interventions:
    """The active (S2/S3) interventions as the rule needs them."""

    fits: dict[str, frozenset[str]]  # intervention -> need types it fits (before skos:broader*)
    categories: dict[str, frozenset[str]]  # intervention -> its categories
    targets: dict[str, set[str]]  # area code -> interventions targeting the area
    served: dict[str, set[str]]  # area code -> interventions whose provider library serves the area
    broader: dict[str, list[str]]  # need type -> broader types
    extra: list[list[tuple[str, ...]]] = field(default_factory=list)  # rows of read_interventions(extra=…)
    _reach: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict, repr=False)
    _ups: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def reaching(self, village_code: str) -> dict[str, frozenset[str]]:
        """The interventions reaching a village, by reach mode: ``direct`` (they target it), ``area``
        (they target an area containing it), ``library`` (their library serves it or such an area)."""
        groups = self._reach.get(village_code)
        if groups is None:  # villages of one township share every area above them: once per village
            chain = prefixes(village_code)
            area: set[str] = set()
            library: set[str] = set()
            for c in chain[:-1]:
                area |= self.targets.get(c, set())
            for c in chain:
                library |= self.served.get(c, set())
            groups = self._reach[village_code] = {
                "direct": frozenset(self.targets.get(village_code, ())),
                "area": frozenset(area),
                "library": frozenset(library),
            }
        return groups

    def fitting(self, interventions: Iterable[str], need_type: str) -> set[str]:
        """Those of ``interventions`` that fit ``need_type``: they address it or a broader type."""
        up = self._ups.get(need_type)
        if up is None:
            up = self._ups[need_type] = frozenset(ancestors_path(need_type, self.broader))
        return {i for i in interventions if not up.isdisjoint(self.fits.get(i, ()))}

    def addressing(self, village_code: str, need_type: str, modes: Iterable[str]) -> set[str]:
        """The interventions addressing a need of ``need_type`` in the village under a reach rule
        (``area`` includes the interventions targeting the village itself)."""
        groups = self.reaching(village_code)
        return self.fitting((i for m in covered_modes(modes) for i in groups.get(m, ())), need_type)


@dataclass(frozen=True)
class Outcome:
    """Whether one need is addressed: by how many interventions, through which modes and categories."""

    count: int
    modes: frozenset[str]  # "direct", "area", "library"
    categories: frozenset[str]


_NEEDS = "SELECT ?need ?v ?t ?sev WHERE { ?need dcpa:needOf ?v ; dcpa:needType ?t ; dcpa:severity ?sev }"


def read_interventions(store: Store, extra: list[tuple[str, dict[str, Any]]] | None = None,
                       within: list[str] | None = None, until: str | None = None) -> Interventions:
    """The active interventions with where they reach and what they fit (queries run in parallel).

    ``within`` (area codes) keeps only the interventions that can reach a village inside those areas:
    the ones targeting or served at one of the areas, an area inside them or an area above them. A
    write touches a few counties; reading every intervention of a national graph took seconds.
    ``until`` (an ISO date) keeps only the interventions started by then (or without a start date).
    ``extra`` queries run in the same pool; their rows are appended to ``Interventions.extra``.
    """
    active = ACTIVE
    if until is not None:
        day = ox.Literal(date.fromisoformat(until).isoformat(), datatype=ox.NamedNode(str(XSD.date)))
        active += f" OPTIONAL {{ ?i dcpa:startDate ?isd }} FILTER(!BOUND(?isd) || ?isd <= {day})"
    link = {"t": "?i dcpa:targetsArea ?ra .", "s": "?l dcpa:serves ?ra . ?i dcpa:providedBy ?l ."}
    if within is None:
        reach_jobs: list[tuple[str, dict[str, Any]]] = [
            (f"SELECT DISTINCT ?i ?ra WHERE {{ {link[k]} {active} }}", {}) for k in ("t", "s")]
    else:
        places = _area_patterns(within, "?ra", also=_above(within))
        reach_jobs = [(f"SELECT DISTINCT ?i ?ra WHERE {{ {place} {link[k]} {active} }}", {})
                      for k in ("t", "s") for place in places]
    results = run_parallel(store, reach_jobs + list(extra or []))
    half = len(reach_jobs) // 2
    targeted = [row for rows in results[:half] for row in rows]
    served = [row for rows in results[half:len(reach_jobs)] for row in rows]
    more = results[len(reach_jobs):]
    if within is None:
        detail = ""
    else:
        found = {i for i, _ in targeted} | {i for i, _ in served}
        detail = f"VALUES ?i {{ {' '.join(str(ox.NamedNode(i)) for i in sorted(found))} }}"
    fit_rows, cat_rows = run_parallel(store, [
        (f"SELECT DISTINCT ?i ?fit WHERE {{ {detail} {ACTIVE} {FITS_PATH} }}", {}),
        (f"SELECT DISTINCT ?i ?c WHERE {{ {detail} {ACTIVE} ?i dcpa:category ?c }}", {}),
    ]) if within is None or found else ([], [])
    fits: dict[str, set[str]] = {}
    for i, fit in fit_rows:
        fits.setdefault(i, set()).add(fit)
    cats: dict[str, set[str]] = {}
    for i, c in cat_rows:
        cats.setdefault(i, set()).add(c)
    by_area: list[dict[str, set[str]]] = [{}, {}]
    for index, rows in enumerate((targeted, served)):
        for i, ra in rows:
            if ra.startswith(_AREA_PREFIX) and i in fits:  # an intervention fitting nothing addresses nothing
                by_area[index].setdefault(code_of(ra), set()).add(i)
    broader, _ = need_type_tree(store)
    return Interventions(
        fits={i: frozenset(f) for i, f in fits.items()},
        categories={i: frozenset(c) for i, c in cats.items()},
        targets=by_area[0],
        served=by_area[1],
        broader=broader,
        extra=more,
    )


def _above(codes: Iterable[str]) -> set[str]:
    """The codes of every area containing one of ``codes`` (not the codes themselves)."""
    return {a for c in codes for a in prefixes(c)[:-1]}


def outcomes(inv: Interventions, needs: Iterable[tuple[str, ...]]) -> dict[str, Outcome]:
    """The outcome of every ``(need IRI, village IRI, need type IRI)``, by need IRI.

    The needs of one village share their few types, so the work is cached per (village, type).
    """
    cache: dict[tuple[str, str], Outcome] = {}
    out: dict[str, Outcome] = {}
    for need, village, need_type, *_ in needs:
        v = code_of(village)
        key = (v, need_type)
        o = cache.get(key)
        if o is None:
            hits: set[str] = set()
            modes = set()
            for mode, ids in inv.reaching(v).items():
                fitting = inv.fitting(ids, need_type)
                if fitting:
                    modes.add(mode)
                    hits |= fitting
            cats = frozenset(c for i in hits for c in inv.categories.get(i, ()))
            o = cache[key] = Outcome(len(hits), frozenset(modes), cats)
        out[need] = o
    return out


def _lines(need: str, o: Outcome) -> list[str]:
    """The derived triples of one need as N-Triples lines (the form ``str()`` of Oxigraph terms gives)."""
    n = f"<{need}> "
    out = [f'{n}<{_COUNT}> "{o.count}"^^<{XSD.integer}> .\n']
    out += [f"{n}<{_THROUGH}> <{MODE_CONCEPT[m]}> .\n" for m in sorted(o.modes)]
    out += [f"{n}<{_BY_CATEGORY}> <{c}> .\n" for c in sorted(o.categories)]
    return out


def _rule_triples() -> set[tuple[str, str, str]]:
    """The provenance of the derived graph (also the marker that it is present and current)."""
    g, r = f"<{GRAPH_DERIVED}>", f"<{DERIVED_RULE}>"
    return {
        (g, f"<{PROV.wasGeneratedBy}>", r),
        (r, f"<{RDF.type}>", f"<{PROV.Activity}>"),
        (r, f"<{RDFS.label}>", '"派生：需求是否已被满足（规则第 1 版）"@zh'),
        (r, f"<{RDFS.label}>", '"Derived: whether each need is addressed (rule version 1)"@en'),
        (r, f"<{RDFS.comment}>", '"A need of type T in village V is addressed through a reach mode when an active '
         'or completed intervention reaching V that way fits T: its category, a resource it uses or that '
         "resource's type addresses T or a broader type of T. Computed by kg.derived from the other graphs."
         '"@en'),
        (r, f"<{PROV.used}>", f"<{GRAPH_ONTOLOGY}>"),
    }


def _rule_lines() -> list[str]:
    return [f"{s} {p} {o} .\n" for s, p, o in sorted(_rule_triples())]


# ---------------------------------------------------------------------------
# Need summaries: counts per (area, need type, severity) for provinces, cities and counties
# ---------------------------------------------------------------------------

#: Code lengths of the areas that get summaries (province, city, county). Townships and villages
#: are small enough to count from their needs.
SUMMARY_LEVELS = (2, 4, 6)

#: (area code, need type IRI, severity) -> [needs, gaps]
Tally = dict[tuple[str, str, int], list[int]]


def summary_iri(code: str, need_type: str, severity: int) -> str:
    return node("summary", f"{code}-{need_type.rsplit('/', 1)[-1]}-{severity}")


def _tally(rows: Iterable[tuple[str, ...]], result: dict[str, Outcome], within: tuple[str, ...] | None = None) -> Tally:
    """Counts of needs and gaps per summarised area; only areas inside one of ``within`` (codes), if given."""
    out: Tally = {}
    for need, village, need_type, sev in rows:
        code, s = code_of(village), int(sev)
        gap = 1 if result[need].count == 0 else 0
        for n in SUMMARY_LEVELS:
            a = code[:n]
            if len(code) >= n and (within is None or any(a.startswith(w) for w in within)):
                c = out.setdefault((a, need_type, s), [0, 0])
                c[0] += 1
                c[1] += gap
    return out


def _summary_lines(key: tuple[str, str, int], counts: list[int]) -> list[str]:
    code, need_type, sev = key
    s = f"<{summary_iri(code, need_type, sev)}> "
    integer = f"^^<{XSD.integer}>"
    return [
        f"{s}<{RDF.type}> <{DCPA.NeedSummary}> .\n",
        f"{s}<{DCPA.summaryOf}> <{_AREA_PREFIX}{code}> .\n",
        f"{s}<{DCPA.summaryNeedType}> <{need_type}> .\n",
        f'{s}<{DCPA.summarySeverity}> "{sev}"{integer} .\n',
        f'{s}<{DCPA.needCount}> "{counts[0]}"{integer} .\n',
        f'{s}<{DCPA.gapCount}> "{counts[1]}"{integer} .\n',
        f"{s}<{PROV.wasGeneratedBy}> <{DERIVED_RULE}> .\n",
    ]


def derive_all(store: Store, *, bulk: bool = False, workdir: Path | None = None) -> int:
    """Compute the derived graph for every need and write it whole; returns the number of needs.

    ``bulk=True`` uses Oxigraph's non-transactional loader (a fresh store being built), through a
    file in ``workdir`` when given (the national graph's 4·10^6 lines held as one string took gigabytes);
    otherwise the graph is replaced in one transaction.
    """
    inv = read_interventions(store, [(_NEEDS, {})])
    rows = inv.extra[0]
    result = outcomes(inv, rows)
    tally = _tally(rows, result)
    del rows, inv

    def chunks() -> Iterator[str]:
        yield "".join(_rule_lines())
        for need, o in result.items():
            yield "".join(_lines(need, o))
        for key in sorted(tally):
            yield "".join(_summary_lines(key, tally[key]))

    if bulk and workdir is not None:
        path = Path(workdir) / "derived.nt"
        with path.open("w", encoding="utf-8") as f:
            f.writelines(chunks())
        store.bulk_load(path, "nt", str(GRAPH_DERIVED))
        path.unlink()
    else:
        data = "".join(chunks()).encode("utf-8")
        if bulk:
            store.bulk_load(data, "nt", str(GRAPH_DERIVED))
        else:
            store.replace_graph(str(GRAPH_DERIVED), data)
    log.info("derived graph: %d needs, %d summaries", len(result), len(tally))
    return len(result)


def is_current(store: Store) -> bool:
    """Whether the store holds a derived graph made by this version of the rule."""
    return store.ask(f"ASK {{ GRAPH <{GRAPH_DERIVED}> {{ <{GRAPH_DERIVED}> prov:wasGeneratedBy <{DERIVED_RULE}> }} }}")


def minimal_areas(codes: Iterable[str]) -> list[str]:
    """The codes not contained in another code of the set (the NBS codes nest by prefix)."""
    s = set(codes)
    return sorted(c for c in s if not any(p in s for p in prefixes(c)[:-1]))


def _iris(codes: Iterable[str]) -> str:
    return " ".join(str(ox.NamedNode(_AREA_PREFIX + c)) for c in sorted(codes))


def _old_summaries(store: Store, codes: list[str]) -> tuple[set[str], Tally]:
    """The summary triples (as lines) of the areas in or above ``codes``, and their counts."""
    above = {a for a in _above(codes) if len(a) in SUMMARY_LEVELS}
    lines: set[str] = set()
    tally: Tally = {}
    parts: dict[str, dict[str, str]] = {}
    queries = [f"SELECT ?s ?p ?o WHERE {{ {place} GRAPH <{GRAPH_DERIVED}> {{ ?s dcpa:summaryOf ?a . ?s ?p ?o }} }}"
               for place in _area_patterns(codes, "?a", also=above)]
    for sol in (sol for q in queries for sol in store.query(q)):
        s, p, o = sol["s"], sol["p"], sol["o"]
        lines.add(f"{s} {p} {o} .\n")
        parts.setdefault(s.value, {})[p.value] = o.value
    for d in parts.values():
        key = (code_of(d[str(DCPA.summaryOf)]), d[str(DCPA.summaryNeedType)], int(d[str(DCPA.summarySeverity)]))
        tally[key] = [int(d[str(DCPA.needCount)]), int(d[str(DCPA.gapCount)])]
    return lines, tally


def _new_summaries(codes: list[str], rows: list[tuple[str, ...]], result: dict[str, Outcome],
                   old: Tally) -> Tally:
    """Summaries of the areas in or above ``codes`` after a refresh of exactly the needs in ``codes``.

    Areas inside a code are counted from ``rows`` (which hold all their needs); an area above one
    keeps its old counts, minus the old and plus the new counts of the codes under it.
    """
    new = _tally(rows, result, tuple(codes))
    above: dict[str, list[str]] = {}
    for c in codes:
        for a in prefixes(c)[:-1]:
            if len(a) in SUMMARY_LEVELS:
                above.setdefault(a, []).append(c)
    for a, under in above.items():
        counts: dict[tuple[str, int], list[int]] = {(t, s): list(v) for (x, t, s), v in old.items() if x == a}
        for c in under:
            for sign, tally in ((-1, old), (1, new)):
                for (x, t, s), (n, g) in tally.items():
                    if x == c:
                        cur = counts.setdefault((t, s), [0, 0])
                        cur[0] += sign * n
                        cur[1] += sign * g
        for (t, s), v in counts.items():
            if v[0] > 0:
                new[(a, t, s)] = v
    return new


def _area_patterns(codes: list[str], v: str = "?v", also: Iterable[str] = ()) -> list[str]:
    """Two patterns binding ``v`` to the areas of ``codes`` (and ``also``), and to every area inside one.

    Two queries, not one UNION: Oxigraph evaluates a UNION on its own and then joins it, so the
    patterns after it ran over the whole store (40 s for one county of the national graph).
    """
    return [f"VALUES {v} {{ {_iris(set(codes) | set(also))} }}",
            f"VALUES ?scope {{ {_iris(codes)} }} {v} dcpa:withinArea ?scope ."]


def refresh(store: Store, areas: Iterable[str], needs: Iterable[str] = ()) -> int:
    """Recompute the needs of every county containing one of ``areas`` (codes), their summaries and
    those of the areas above, and forget derived facts of ``needs`` no longer in the graph; write
    the difference in one transaction. Returns how many needs and summaries changed.

    A store without a current derived graph gets a whole one instead.
    """
    valid = [c for c in areas if c.isdigit() and len(c) in (2, 4, 6, 9, 12)]
    codes = minimal_areas(c[:6] for c in valid)  # whole counties, so that their summaries can be recounted
    extra = sorted(set(needs))
    if not codes and not extra:
        return 0
    if not is_current(store):
        log.warning("the store had no current derived graph: deriving it for every need")
        return derive_all(store)
    preds = " ".join(f"<{p}>" for p in _DERIVED_PREDICATES)
    queries = []
    rows: list[tuple[str, ...]] = []
    old: set[str] = set()
    old_tally: Tally = {}
    if codes:
        places = _area_patterns(codes)
        found = run_parallel(store, [(f"SELECT ?need ?v ?t ?sev WHERE {{ {place} ?need dcpa:needOf ?v ; "
                                      "dcpa:needType ?t ; dcpa:severity ?sev }", {}) for place in places])
        rows = [row for part in found for row in part]
        queries += [f"SELECT ?need ?p ?o WHERE {{ {place} ?need dcpa:needOf ?v . "
                    f"GRAPH <{GRAPH_DERIVED}> {{ ?need ?p ?o }} VALUES ?p {{ {preds} }} }}" for place in places]
        old, old_tally = _old_summaries(store, codes)
    if extra:
        values = " ".join(str(ox.NamedNode(n)) for n in extra)
        queries.append(f"SELECT ?need ?p ?o WHERE {{ VALUES ?need {{ {values} }} "
                       f"GRAPH <{GRAPH_DERIVED}> {{ ?need ?p ?o }} VALUES ?p {{ {preds} }} }}")
    # str() of an Oxigraph term is its N-Triples form, the form _lines writes
    old |= {f'{s["need"]} {s["p"]} {s["o"]} .\n' for q in queries for s in store.query(q)}
    inv = read_interventions(store, within=codes)
    result = outcomes(inv, rows)
    new = {line for need, o in result.items() for line in _lines(need, o)}
    if codes:
        for key, counts in _new_summaries(codes, rows, result, old_tally).items():
            new.update(_summary_lines(key, counts))
    drop, add = old - new, new - old
    if drop or add:
        store.update(f"DELETE DATA {{ GRAPH <{GRAPH_DERIVED}> {{\n{''.join(sorted(drop))}}} }} ;\n"
                     f"INSERT DATA {{ GRAPH <{GRAPH_DERIVED}> {{\n{''.join(sorted(add))}}} }}")
    changed = len({line.split(" ", 1)[0] for line in drop | add})
    log.info("derived graph refreshed for %s: %d node(s) changed", ", ".join(codes) or "(removed needs)", changed)
    return changed


def affected_areas(store: Store, triples: Iterable[tuple[str, str, str]]) -> tuple[set[str], set[str]]:
    """The area codes whose needs a change to ``triples`` can touch, and the needs they describe.

    ``triples`` are (subject, predicate, object) lexical values of what was added or removed: a need
    touches its village; an intervention the areas it targets and those its provider serves; a
    library the areas it serves; a resource (its type or fit) the reach of the interventions using it.
    Call it with the old and the new triples of a change, before the store forgets the old ones.
    """
    codes: set[str] = set()
    needs: set[str] = set()
    providers: set[str] = set()
    resources: set[str] = set()
    for s, p, o in triples:
        if p == str(DCPA.needOf):
            needs.add(s)
            codes.add(code_of(o))
        elif p in (str(DCPA.targetsArea), str(DCPA.serves)):
            codes.add(code_of(o))
        elif p == str(DCPA.providedBy):
            providers.add(o)
        elif p in (str(DCPA.resourceType), str(DCPA.addressesNeedType)) and s.startswith(str(ID)):
            resources.add(s)
    queries = []
    if providers:
        values = " ".join(str(ox.NamedNode(x)) for x in sorted(providers))
        queries.append(f"SELECT DISTINCT ?a WHERE {{ VALUES ?l {{ {values} }} ?l dcpa:serves ?a }}")
    if resources:
        values = " ".join(str(ox.NamedNode(x)) for x in sorted(resources))
        queries.append(f"SELECT DISTINCT ?a WHERE {{ VALUES ?r {{ {values} }} ?i dcpa:usesResource ?r . "
                       "{ ?i dcpa:targetsArea ?a } UNION { ?i dcpa:providedBy/dcpa:serves ?a } }")
    for q in queries:
        codes |= {code_of(row[0]) for row in run_parallel(store, [(q, {})])[0]}
    return {c for c in codes if c.isdigit()}, needs


def graph_triples(g: rdflib.Graph) -> list[tuple[str, str, str]]:
    """The lexical (subject, predicate, object) values of an rdflib graph, for ``affected_areas``."""
    return [(str(s), str(p), str(o)) for s, p, o in g]
