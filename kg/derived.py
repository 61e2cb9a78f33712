"""The rule of "addressed" (``kg.rule``), materialised in the named graph ``GRAPH_DERIVED``.

Deciding whether a need is addressed takes every intervention that can reach its village, its
fit through ``skos:broader*``, its dates, capacity and evaluations. Inside one SPARQL query over a
province, Oxigraph repeats that for every need (seconds at province scale, minutes nationally);
here it is done once, in Python, and its outcome stored, so queries read a fact instead::

    ?need dcpa:needState dcpav:NS1 | dcpav:NS2 | dcpav:NS3      # addressed / not verified / unaddressed
    ?need dcpa:addressedBy ?reason .                            # one per addressing intervention:
    ?reason dcpa:byIntervention ?i ; dcpa:reachMode dcpav:RM1 ; dcpa:reachTarget ?area ;
            dcpa:fitType ?t ; dcpa:fitVia ?via ; dcpa:fitPath "N22 → N2" ; dcpa:validUntil ?d .

and, for every province, city and county, a ``dcpa:NeedSummary`` per need type, severity and basis
(real or example data) with its counts, so that a province's gap report reads a few hundred rows
instead of 10^5 needs; and a ``dcpa:CoverageSummary`` per need type, intervention category and basis:
how many of those needs an intervention of the category addresses (the counts of the catalogue's
``coverage_by_category``, which reads every need of the area). For every village-level unit with
unaddressed needs, a ``dcpa:VillageGapSummary`` per severity and basis with their number (what
``top_unaddressed_villages`` ranks villages by, where it read every need of the area); for every area
above village level, how many village-level units it holds (``dcpa:villageCount``, for
``libraries_served``; written by ``derive_all`` only, since only the build writes areas). And, per named
graph and DCPA class, a VoID class partition with its nodes and example nodes (what ``synthetic_share``
counts over the whole store, 12 s at national scale), recounted for the graphs each write changes.

The graph is computed as of a date (``dcpa:derivedAsOf`` on the graph) and stays current until the first
date on which an outcome can change without a new fact (``dcpa:stableUntil``: an intervention's
validity ends, a later one starts, an evaluation period closes). ``is_current(store, as_of)`` says
whether it answers for a date; otherwise answers apply the rule live.

``derive_all`` writes the graph for a whole store (the build, ``dcpa derive``); ``refresh`` recomputes
the counties a change touches and writes only the difference (``_write``: one transaction, or for a
large difference its deletions in parts, its lines in one load, then the marker) (every import and
replacement, through ``kg.importer.landing``); for a write that only adds needs, or only changes
interventions and their evaluations, it recomputes the needs the write can move and moves the summaries
by the difference.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import pyoxigraph as ox
import rdflib
from rdflib.namespace import PROV, RDF, RDFS, SKOS, VOID, XSD

from . import facts
from .contract import StoreAPI
from .errors import StoreBusy
from .facts import AREA_PREFIX, Period, above, area_values, code_of, minimal_areas, run_parallel, scope_patterns
from .namespaces import DCPA, DERIVED_RULE, GRAPH, GRAPH_DERIVED, GRAPH_JOURNAL, GRAPH_ONTOLOGY, ID, JOURNAL, node
from .rule import NeedFacts, NeedState, Outcome, Reason, Rule, parse_validity, prefixes
from .settings import Settings, get_settings
from .store import BULK_FROM
from .updates import data_ops, deletions, request

log = logging.getLogger(__name__)

#: Code lengths of the areas that get summaries (province, city, county). Townships and villages
#: are small enough to count from their needs.
SUMMARY_LEVELS = (2, 4, 6)

_G = f"<{GRAPH_DERIVED}>"
_RULE = f"<{DERIVED_RULE}>"
_DATE = f"^^<{XSD.date}>"
_INT = f"^^<{XSD.integer}>"
_TRUE = f'"true"^^<{XSD.boolean}>'


def as_of_today(settings: Settings | None = None) -> date:
    """The date answers are for: ``settings.as_of``, else today."""
    s = settings or get_settings()
    return s.as_of or date.today()


def reason_iri(need: str, intervention: str) -> str:
    """A stable IRI per (need, intervention): refreshes rewrite the same nodes."""
    return node("reason", hashlib.sha1(f"{need} {intervention}".encode()).hexdigest()[:20])


def summary_iri(code: str, need_type: str, severity: int, example: bool) -> str:
    return node("summary", f"{code}-{need_type.rsplit('/', 1)[-1]}-{severity}" + ("-ex" if example else ""))


def gap_iri(code: str, severity: int, example: bool) -> str:
    return node("gaps", f"{code}-{severity}" + ("-ex" if example else ""))


def coverage_iri(code: str, need_type: str, category: str, example: bool) -> str:
    return node("coverage", f"{code}-{_notation(need_type)}-{_notation(category)}" + ("-ex" if example else ""))


def _notation(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _lit(text: str) -> str:
    return str(ox.Literal(text))


# ---------------------------------------------------------------------------
# lines
# ---------------------------------------------------------------------------


class _P:
    """The predicates of derived lines in N-Triples form, made once (an rdflib namespace look-up per
    line took 0.15 s of a county's 1.3 s refresh at national scale)."""

    state, count, through, by_category, until, by = (f"<{DCPA[p]}>" for p in (
        "needState", "addressingInterventionCount", "addressedThrough", "addressedByCategory", "addressedUntil",
        "addressedBy"))
    intervention, mode, target, fit_type, fit_via, fit_path, valid_until, below = (f"<{DCPA[p]}>" for p in (
        "byIntervention", "reachMode", "reachTarget", "fitType", "fitVia", "fitPath", "validUntil", "belowTarget"))
    type, synthetic, reason_class = f"<{RDF.type}>", f"<{DCPA.isSynthetic}>", f"<{DCPA.AddressingReason}>"
    digest = f"<{DCPA.derivedDigest}>"


def need_lines(need: NeedFacts, o: Outcome) -> list[str]:
    """The derived triples of one need, as N-Triples lines (the form ``str()`` of Oxigraph terms gives),
    ending with its digest (``digest_line``)."""
    out = _need_lines(need, o)
    out.append(digest_line(need.iri, out))
    return out


def digest_line(need: str, lines: list[str]) -> str:
    """``dcpa:derivedDigest``: a fingerprint of a need's other derived lines.

    Why: a refresh must find the needs whose derived triples differ. Reading the old triples back
    cost 12 µs a triple at national scale (Oxigraph decodes every term), 32 s for a province's 2.6M;
    one digest per need is a 26th of that, and a need whose digest is unchanged is not touched.
    """
    digest = hashlib.sha1("".join(lines).encode("utf-8")).hexdigest()[:20]
    return f'<{need}> {_P.digest} "{digest}" .\n'


def _need_lines(need: NeedFacts, o: Outcome) -> list[str]:
    n = f"<{need.iri}> "
    out = [f"{n}{_P.state} <{o.state.concept}> .\n",
           f'{n}{_P.count} "{len(o.reasons)}"{_INT} .\n']
    out += [f"{n}{_P.through} <{m.concept}> .\n" for m in sorted(o.modes)]
    out += [f"{n}{_P.by_category} <{c}> .\n" for c in sorted(o.categories)]
    until = o.valid_until
    if until is not None:
        out.append(f'{n}{_P.until} "{until.isoformat()}"{_DATE} .\n')
    for r in o.reasons:
        out += reason_lines(need, r)
    return out


def reason_lines(need: NeedFacts, r: Reason) -> list[str]:
    iri = reason_iri(need.iri, r.intervention)
    s = f"<{iri}> "
    out = [
        f"<{need.iri}> {_P.by} <{iri}> .\n",
        f"{s}{_P.type} {_P.reason_class} .\n",
        f"{s}{_P.intervention} <{r.intervention}> .\n",
        f"{s}{_P.mode} <{r.mode.concept}> .\n",
        f"{s}{_P.target} <{AREA_PREFIX}{r.target}> .\n",
        f"{s}{_P.fit_type} <{r.fit.need_type}> .\n",
        f"{s}{_P.fit_via} <{r.fit.via}> .\n",
        f"{s}{_P.fit_path} {_lit(' → '.join(_notation(t) for t in r.fit_path))} .\n",
    ]
    if r.valid_until is not None:
        out.append(f'{s}{_P.valid_until} "{r.valid_until.isoformat()}"{_DATE} .\n')
    if r.below_target:
        out.append(f"{s}{_P.below} {_TRUE} .\n")
    if need.example:
        out.append(f"{s}{_P.synthetic} {_TRUE} .\n")
    return out


@dataclass
class Counts:
    """Needs of one (area, need type, severity, basis): how many, unaddressed, not verified, people unaddressed."""

    needs: int = 0
    gaps: int = 0
    unverified: int = 0
    gap_people: int = 0

    def add(self, other: Counts, sign: int = 1) -> None:
        self.needs += sign * other.needs
        self.gaps += sign * other.gaps
        self.unverified += sign * other.unverified
        self.gap_people += sign * other.gap_people


class SummaryKey(NamedTuple):
    """What one need summary counts: the needs of one area, need type, severity and basis."""

    area: str  # code
    need_type: str
    severity: int
    example: bool


class CoverageKey(NamedTuple):
    """What one coverage summary counts: the needs of one area, need type and basis that an
    intervention of one category addresses (verified or not). Only ``Counts.needs`` is used."""

    area: str  # code
    need_type: str
    category: str
    example: bool


class GapKey(NamedTuple):
    """What one village gap summary counts: the unaddressed needs of one village-level unit, severity and
    basis. Only ``Counts.gaps`` is used; a village with none of a severity has no summary of it."""

    area: str  # the village's code
    severity: int
    example: bool


#: A summary's key; every kind has the area first and the basis last, so that the counts of an area
#: above a refreshed county are rolled up the same way (``_new_summaries``; a village's gap summaries are
#: never rolled up: every village of a refreshed county is counted from its needs).
Key = SummaryKey | CoverageKey | GapKey
_KINDS = (SummaryKey, CoverageKey, GapKey)


def _order(key: Key) -> tuple[int, Key]:
    """Sort order of keys of every kind (a severity and a category do not compare)."""
    return _KINDS.index(type(key)), key


def _kept(key: Key, c: Counts) -> bool:
    """Whether a summary with these counts is stored: one counts needs, a gap summary gaps."""
    return (c.gaps if isinstance(key, GapKey) else c.needs) > 0


class Counted(Protocol):
    """What ``tally`` reads of a need's outcome (an ``Outcome``, or one read back from the graph)."""

    @property
    def state(self) -> NeedState: ...

    @property
    def categories(self) -> frozenset[str]: ...


def tally(needs: Iterable[NeedFacts], result: Mapping[str, Counted],
          within: tuple[str, ...] | None = None) -> dict[Key, Counts]:
    """Counts per summarised area; only areas inside one of ``within`` (codes), if given."""
    out: dict[Key, Counts] = {}
    # "inside one of within" as set lookups of the code's prefixes: a refresh of 96 counties' 198,588 needs
    # (a 100,000-row import at national scale) had made it 48.7 million startswith calls, 18 s.
    inside = set(within) if within is not None else set()
    lengths = sorted({len(w) for w in inside})
    for n in needs:
        outcome = result[n.iri]
        state, categories = outcome.state, outcome.categories
        if state is NeedState.UNADDRESSED and (within is None or any(n.village[:k] in inside for k in lengths)):
            out.setdefault(GapKey(n.village, n.severity, n.example), Counts()).gaps += 1
        for length in SUMMARY_LEVELS:
            a = n.village[:length]
            if len(n.village) >= length and (within is None or any(a[:k] in inside for k in lengths if k <= length)):
                c = out.setdefault(SummaryKey(a, n.need_type, n.severity, n.example), Counts())
                c.needs += 1
                if state is NeedState.UNADDRESSED:
                    c.gaps += 1
                    c.gap_people += n.people or 0
                elif state is NeedState.UNVERIFIED:
                    c.unverified += 1
                for category in categories:
                    out.setdefault(CoverageKey(a, n.need_type, category, n.example), Counts()).needs += 1
    return out


def key_iri(key: Key) -> str:
    """The IRI of the summary node of ``key``."""
    if isinstance(key, GapKey):
        return gap_iri(key.area, key.severity, key.example)
    if isinstance(key, CoverageKey):
        return coverage_iri(key.area, key.need_type, key.category, key.example)
    return summary_iri(key.area, key.need_type, key.severity, key.example)


def summary_lines(key: Key, c: Counts) -> list[str]:
    """The lines of one summary, need or coverage summary by the kind of its key."""
    if isinstance(key, GapKey):
        code, sev, example = key
        return _summary_lines(key_iri(key), DCPA.VillageGapSummary, example, [
            f"<{DCPA.gapsOf}> <{AREA_PREFIX}{code}>",
            f'<{DCPA.summarySeverity}> "{sev}"{_INT}',
            f'<{DCPA.gapCount}> "{c.gaps}"{_INT}',
        ])
    if isinstance(key, CoverageKey):
        code, need_type, category, example = key
        return _summary_lines(key_iri(key), DCPA.CoverageSummary, example, [
            f"<{DCPA.summaryOf}> <{AREA_PREFIX}{code}>",
            f"<{DCPA.summaryNeedType}> <{need_type}>",
            f"<{DCPA.summaryCategory}> <{category}>",
            f'<{DCPA.needCount}> "{c.needs}"{_INT}',
        ])
    code, need_type, sev, example = key
    return _summary_lines(key_iri(key), DCPA.NeedSummary, example, [
        f"<{DCPA.summaryOf}> <{AREA_PREFIX}{code}>",
        f"<{DCPA.summaryNeedType}> <{need_type}>",
        f'<{DCPA.summarySeverity}> "{sev}"{_INT}',
        f'<{DCPA.needCount}> "{c.needs}"{_INT}',
        f'<{DCPA.gapCount}> "{c.gaps}"{_INT}',
        f'<{DCPA.unverifiedCount}> "{c.unverified}"{_INT}',
        f'<{DCPA.gapPeople}> "{c.gap_people}"{_INT}',
    ])


def _summary_lines(iri: str, cls: str, example: bool, facts_: list[str]) -> list[str]:
    """What every kind of summary states: its class, its own facts (predicate and object: what it is of
    and its counts), the rule, and the example flag."""
    s = f"<{iri}> "
    out = [
        f"{s}<{RDF.type}> <{cls}> .\n",
        *(f"{s}{po} .\n" for po in facts_),
        f"{s}<{PROV.wasGeneratedBy}> {_RULE} .\n",
    ]
    if example:
        out.append(f"{s}<{DCPA.isSynthetic}> {_TRUE} .\n")
    return out


def _marker_lines(m: Marker) -> list[str]:
    """The provenance of the derived graph (also the marker that it is present and current)."""
    lines = [
        f"{_G} <{PROV.wasGeneratedBy}> {_RULE} .\n",
        f'{_G} <{DCPA.derivedAsOf}> "{m.as_of.isoformat()}"{_DATE} .\n',
        f"{_RULE} <{RDF.type}> <{PROV.Activity}> .\n",
        f"{_RULE} <{RDFS.label}> {ox.Literal(_LABEL_ZH, language='zh')} .\n",
        f"{_RULE} <{RDFS.label}> {ox.Literal(_LABEL_EN, language='en')} .\n",
        f"{_RULE} <{RDFS.comment}> {ox.Literal(RULE_TEXT, language='en')} .\n",
        f"{_RULE} <{PROV.used}> <{GRAPH_ONTOLOGY}> .\n",
    ]
    if m.stable_until is not None:
        lines.append(f'{_G} <{DCPA.stableUntil}> "{m.stable_until.isoformat()}"{_DATE} .\n')
    if m.next_identified is not None:
        lines.append(f'{_G} <{DCPA.nextIdentifiedOn}> "{m.next_identified.isoformat()}"{_DATE} .\n')
    if m.windows is not None:
        lines.append(f"{_G} <{DCPA.validityWindows}> {ox.Literal(m.windows)} .\n")
    return lines


_LABEL_ZH = "派生：需求是否已被满足（规则第 3 版，派生图第 7 版）"
_LABEL_EN = "Derived: whether each need is addressed (rule version 3, derived graph version 7)"
RULE_TEXT = (
    "A need of type T in village V is addressed as of a date when an intervention reaches V (it names V, "
    "or targets an area containing V with an online resource or a declared whole-area reach scope), fits T "
    "(its category, a resource it uses or that resource's type addresses T or a broader type) and is in force "
    "(active or completed, started, within its validity window or in service), within the capacity and "
    "people it declares (villages served real needs first, a village with real needs ranked by those alone); it "
    "is addressed but not verified when every such intervention's latest evaluation with a result, ended by "
    "that date, was below target. A library's service area never makes a need addressed. Example data never "
    "decides anything about real needs. Computed by kg.derived from the other graphs."
)


# ---------------------------------------------------------------------------
# village counts: how many village-level units each area above them holds
# ---------------------------------------------------------------------------


def village_count_lines(store: StoreAPI) -> list[str]:
    """``<area> dcpa:villageCount n`` for every area holding village-level units (12-digit codes).

    What ``libraries_served`` gives for each area a library serves: counting them there looked up every
    village of every served area (72,314 pairs for province 21 at national scale: 1.63-1.70 s for the query,
    0.78-0.88 s with the counts read instead). Areas are written only by the build, whose derivation writes
    these: no refresh changes them.
    """
    rows = store.query("SELECT ?a (COUNT(?v) AS ?n) WHERE { ?v dcpa:withinArea ?a ; dcpa:areaCode ?c "
                       "FILTER(STRLEN(?c) = 12) } GROUP BY ?a")
    return sorted(f'<{a.value}> <{DCPA.villageCount}> "{int(n.value)}"{_INT} .\n' for a, n in rows)


# ---------------------------------------------------------------------------
# class partitions: how many nodes of each class each graph holds, and how many are example data
# ---------------------------------------------------------------------------

#: Graphs whose classes are counted: the project's, but for the derived graph and the journal's markers.
_COUNTED = (f'STRSTARTS(STR(?g), "{GRAPH}") && ?g != {_G} && !STRSTARTS(STR(?g), "{GRAPH_JOURNAL}") '
            f'&& STRSTARTS(STR(?c), "{DCPA}")')


def partition_iri(graph: str, cls: str) -> str:
    """A stable IRI per (graph, class), from their names: refreshes rewrite the same nodes."""
    return node("partition", f"{graph.removeprefix(str(GRAPH))}/{cls.removeprefix(str(DCPA))}")


def count_partitions(store: StoreAPI, graphs: Iterable[str] | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """(graph, class) -> (nodes of the class in the graph, those flagged ``dcpa:isSynthetic`` there), for
    the DCPA classes of ``graphs`` (default every counted graph).

    What ``synthetic_share`` counts over the whole store, kept per graph so that a write recounts only the
    graphs it changed: an import's own graph, the graphs a replacement took a record from, a withdrawn one.
    Each record's triples live in one graph (an import mints new IRIs; a replacement drops what other graphs
    say about its record), so the sums over graphs are the store's counts. The flags are joined as one table,
    not looked up per node (docs/PERFORMANCE.md, rule 3): every graph of the national store in 15.0 s.
    """
    values = ""
    if graphs is not None:
        if not (chosen := set(graphs)):
            return {}
        values = f"VALUES ?g {{ {facts.iri_values(chosen)} }}"
    q = f"""SELECT ?g ?c (COUNT(?x) AS ?n) (SUM(IF(BOUND(?f), 1, 0)) AS ?s) WHERE {{
      {values} GRAPH ?g {{ ?x a ?c }} FILTER({_COUNTED})
      OPTIONAL {{ SELECT ?g ?x ?f WHERE {{ {values} GRAPH ?g {{ ?x <{DCPA.isSynthetic}> ?f }}
                                         FILTER(?f && ?g != {_G}) }} }}
    }} GROUP BY ?g ?c"""
    return {(str(g.value), str(c.value)): (int(n.value), int(x.value)) for g, c, n, x in store.query(q)}


def partition_lines(graph: str, cls: str, nodes: int, synthetic: int) -> list[str]:
    """The lines of one class partition (VoID's ``void:classPartition``, with the example nodes counted)."""
    s = f"<{partition_iri(graph, cls)}> "
    return [
        f"<{graph}> <{VOID.classPartition}> {s}.\n",
        f"{s}<{VOID['class']}> <{cls}> .\n",
        f'{s}<{VOID.entities}> "{nodes}"{_INT} .\n',
        f'{s}<{DCPA.syntheticEntities}> "{synthetic}"{_INT} .\n',
        f"{s}<{PROV.wasGeneratedBy}> {_RULE} .\n",
    ]


def _partitions_text(counts: dict[tuple[str, str], tuple[int, int]]) -> Iterator[str]:
    for (g, c), (n, x) in sorted(counts.items()):
        yield "".join(partition_lines(g, c, n, x))


def _old_partition_lines(store: StoreAPI, graphs: list[str]) -> set[str]:
    """The class partitions of ``graphs`` as the derived graph holds them, as lines."""
    link = f"VALUES ?g {{ {facts.iri_values(graphs)} }} GRAPH {_G} {{ ?g {_PARTITION} ?p"
    out = {f"{g} {_PARTITION} {p} .\n" for g, p in store.query(f"SELECT ?g ?p WHERE {{ {link} }} }}")}
    out.update(f"{p} {pp} {o} .\n" for p, pp, o in store.query(f"SELECT ?p ?pp ?o WHERE {{ {link} . ?p ?pp ?o }} }}"))
    return out


# ---------------------------------------------------------------------------
# the whole graph
# ---------------------------------------------------------------------------


def derive_all(store: StoreAPI, *, as_of: date | None = None, settings: Settings | None = None,
               bulk: bool = False, workdir: Path | None = None) -> int:
    """Compute the derived graph for every need and write it whole; returns the number of needs.

    ``bulk=True`` uses Oxigraph's non-transactional loader (a fresh store being built), through a
    file in ``workdir`` when given (the national graph's lines held as one string took gigabytes);
    otherwise the graph is replaced in place, in transactions of bounded size (``_replace``).
    """
    settings = settings or get_settings()
    day = as_of or as_of_today(settings)
    later = facts.later_identified(store, day)
    windows = settings.validity_windows()
    to = Marker(day, None, later, window_text(windows))
    inputs = facts.read_inputs(store, None, day, windows, to.known())
    result = inputs.outcomes()
    counts = tally(inputs.needs, result)
    to = to.bounded(inputs.rule.next_change())
    needs = inputs.needs
    del inputs
    partitions = count_partitions(store)
    villages = village_count_lines(store)

    def chunks() -> Iterator[str]:
        for n in needs:
            yield "".join(need_lines(n, result[n.iri]))
        for key in sorted(counts, key=_order):
            yield "".join(summary_lines(key, counts[key]))
        yield from _partitions_text(partitions)
        yield "".join(villages)

    marker_text = "".join(_marker_lines(to))
    if bulk and workdir is not None:
        path = Path(workdir) / "derived.nt"
        with path.open("w", encoding="utf-8") as f:
            f.writelines(chunks())
            f.write(marker_text)
        store.bulk_load(path, "nt", str(GRAPH_DERIVED))
        path.unlink()
    elif bulk:
        store.bulk_load(("".join(chunks()) + marker_text).encode("utf-8"), "nt", str(GRAPH_DERIVED))
    else:
        _replace(store, chunks(), marker_text)
    log.info("derived graph as of %s: %d needs, %d summaries, stable until %s", day, len(needs), len(counts),
             to.stable_until)
    return len(needs)


#: Characters of N-Triples per transaction when the derived graph is replaced in place (about 400,000 triples).
REPLACE_CHUNK_CHARS = 50_000_000


def _replace(store: StoreAPI, parts: Iterable[str], marker_text: str) -> None:
    """Replace the derived graph in transactions of at most ``REPLACE_CHUNK_CHARS``, its marker last.

    Why not one transaction: replacing the national derived graph (about 10^7 triples) in one took over
    24 GB and was killed (`dcpa derive` on the 33.9M-quad national build, December 2026). The marker is
    the commit point: it is removed first, so that from then on the store reads as having no derived
    graph (answers are computed live, queries that need it are refused) until the last transaction
    writes the new one. A crash in between leaves no marker, and the next ``derive_all`` (``dcpa
    derive``, the server's ``ensure_current`` or the next write's ``refresh``) starts over.
    """
    store.update(f"DELETE WHERE {{ GRAPH {_G} {{ {_G} ?p ?o }} }}")
    # The old triples are read in one pass and deleted batch by batch. Deleting with a `LIMIT` sub-select
    # until an ASK said the graph was empty re-read the graph from its start each time, across every
    # triple already deleted: it had not finished after 11 minutes at national scale.
    old = (f"{s} {p} {o} .\n" for s, p, o in store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {_G} {{ ?s ?p ?o }} }}"))
    g = str(GRAPH_DERIVED)
    for text in _batches(old):
        store.update(request(data_ops("DELETE", text.splitlines(keepends=True), g)))
    pending = ""  # one batch behind, so that the last one carries the marker
    for text in _batches(parts):
        if pending:
            store.update(request(data_ops("INSERT", pending.splitlines(keepends=True), g)))
        pending = text
    store.update(request(data_ops("INSERT", (pending + marker_text).splitlines(keepends=True), g)))


def _batches(parts: Iterable[str]) -> Iterator[str]:
    """``parts`` joined into texts of about ``REPLACE_CHUNK_CHARS`` characters (one transaction each)."""
    batch: list[str] = []
    size = 0
    for part in parts:
        batch.append(part)
        size += len(part)
        if size >= REPLACE_CHUNK_CHARS:
            yield "".join(batch)
            batch, size = [], 0
    if batch:
        yield "".join(batch)


@dataclass(frozen=True)
class Marker:
    """What the derived graph says of itself: the day it is for, the first day it may be wrong on without a
    new fact, and the first day after its own on which a need in the store was identified (None: none was).

    The graph holds the needs identified by its day (and those without a date) and no other: an answer as of a
    day counts the needs known by then (``kg.facts.known_by``). Its stable-until day is never after the next
    identification, so on every day it covers it holds the needs known that day.
    """

    as_of: date
    stable_until: date | None
    next_identified: date | None = None
    #: The validity windows it was made with (``window_text``); None in a graph made before they were recorded.
    windows: str | None = None

    def made_with(self, settings: Settings) -> dict[str, int]:
        """The validity windows that keep this graph consistent with itself: its own (a refresh or a move to
        another day under other settings would mix two rules in one graph), else the settings'."""
        return parse_validity(self.windows) if self.windows is not None else settings.validity_windows()

    def other_windows(self, windows: Mapping[str, int] | None) -> bool:
        """Whether it was made with validity windows other than ``windows`` (None: not asked)."""
        return windows is not None and self.windows is not None and self.windows != window_text(windows)

    def covers(self, day: date) -> bool:
        return self.as_of <= day and (self.stable_until is None or day < self.stable_until)

    def known(self, day: date | None = None) -> Period | None:
        """The needs the graph holds, when some in the store are later (``kg.facts.known_by``'s answer): those
        identified by ``day``, a day it covers (the same needs: none was identified in between), else by its own.
        Why the day asked: an answer says which day's needs it counts, and that is the same read live or not."""
        return Period(date.min, day or self.as_of) if self.next_identified is not None else None

    def bounded(self, *days: date | None) -> Marker:
        """This marker with its stable-until day moved to the earliest of ``days`` before it, and never after
        the next identification."""
        until = _earliest(self.stable_until, self.next_identified, *days)
        return Marker(self.as_of, until, self.next_identified, self.windows)

    def moved_to(self, day: date) -> Marker:
        """The marker of this graph dated ``day``, a later day it covers: nothing it holds changes (no outcome
        changes and no need is identified before ``stable_until``), so neither do the days it names."""
        assert self.as_of <= day and self.covers(day)
        return Marker(day, self.stable_until, self.next_identified, self.windows)

    def later(self, day: date | None) -> Marker:
        """This marker knowing of a need identified on ``day`` (None: of none), after its own day."""
        return Marker(self.as_of, self.stable_until, _earliest(self.next_identified, day), self.windows).bounded()


def window_text(windows: Mapping[str, int]) -> str:
    """``{"C2": 60, "C1": 24}`` → ``"C1=24,C2=60"``: how the derived graph records its validity windows."""
    return ",".join(f"{k}={windows[k]}" for k in sorted(windows))


def other_windows_words(m: Marker, windows: Mapping[str, int]) -> tuple[str, str]:
    """That the graph of ``m`` was made with validity windows other than ``windows`` (the settings'), in Chinese
    and in English, for a note to go on with what it means for the answer."""
    now = window_text(windows)
    return (f"派生图是按另一组有效期（{m.windows}）生成的，与当前设置（{now}，DCPA_VALIDITY_MONTHS）不同",
            f"the derived graph was made with other validity windows ({m.windows}) than the current settings "
            f"({now}, DCPA_VALIDITY_MONTHS)")


def _earliest(*days: date | None) -> date | None:
    return min((d for d in days if d is not None), default=None)


def marker(store: StoreAPI) -> Marker | None:
    """The derived graph's date and validity, or None when the store has none made by this rule."""
    rows = run_parallel(store, [(
        f"SELECT ?a ?s ?n ?w WHERE {{ GRAPH {_G} {{ {_G} <{PROV.wasGeneratedBy}> {_RULE} ; <{DCPA.derivedAsOf}> ?a . "
        f"OPTIONAL {{ {_G} <{DCPA.stableUntil}> ?s }} OPTIONAL {{ {_G} <{DCPA.nextIdentifiedOn}> ?n }} "
        f"OPTIONAL {{ {_G} <{DCPA.validityWindows}> ?w }} }} }}",
        {})])[0]
    if not rows or rows[0][0] is None:
        return None
    a, s, n, w = rows[0]
    return Marker(date.fromisoformat(str(a)), date.fromisoformat(s) if s else None,
                  date.fromisoformat(n) if n else None, w)


def is_current(store: StoreAPI, as_of: date | None = None) -> bool:
    """Whether the store holds a derived graph made by this rule that answers for ``as_of`` (default today),
    and no write is changing it (``in_flux``)."""
    return answering(store, as_of) is not None


def answering(store: StoreAPI, as_of: date | None = None, windows: Mapping[str, int] | None = None) -> Marker | None:
    """The marker of the derived graph when it answers for ``as_of`` (``is_current``) under the validity
    ``windows`` (None: any), else None.

    Why the windows: a server started with another ``DCPA_VALIDITY_MONTHS`` over an existing store answered its
    gap reports from the graph made with the old ones, and its live answers (a period, another day) with the
    new: two figures for one need."""
    m = marker(store)
    return (m if m is not None and m.covers(as_of or as_of_today()) and not m.other_windows(windows)
            and not in_flux(store) else None)


#: The graphs of the journal's markers (``kg.importer.journal``), found by the predicate every marker has. Why
#: not list the store's graphs: every write and answer looks for markers, and Virtuoso lists graphs by reading
#: every quad (14-47 s for the 280,000 quads of a 60-village build); a predicate is an index lookup on both.
MARKED = f"GRAPH ?g {{ ?m <{JOURNAL.batch}> ?b }} FILTER(STRSTARTS(STR(?g), \"{GRAPH_JOURNAL}\"))"


def in_flux(store: StoreAPI) -> bool:
    """Whether a write is under way, or was cut short and awaits recovery (a journal marker is in the store).

    Why: a write lands its data, then refreshes the derived graph in writes of its own (``_write``), then drops
    its marker; a reader opening the store in between (a command, a query worker started meanwhile, any
    reader of a remote store) would read counts and states half refreshed, or stale. Answers apply the rule
    live instead, and say why.
    """
    return store.ask(f"ASK {{ {MARKED} }}")


def check_settled(store: StoreAPI, reader: tuple[str, str], hint: str | None = None) -> None:
    """Raise ``unsettled(reader, hint)`` when a write is refreshing the derived graph (``in_flux``)."""
    if in_flux(store):
        raise unsettled(reader, hint)


def unsettled(reader: tuple[str, str], hint: str | None = None) -> StoreBusy:
    """The refusal of a query of the derived graph while a write refreshes it: ``reader`` (a phrase in Chinese and
    in English: "查询 'x' 读取派生图", "query 'x' reads the derived graph") would read counts and states of no one
    moment, and a query has no live rule to fall back on."""
    zh, en = reader
    return StoreBusy(
        f"{zh}，而一次写入正在刷新派生图（或一次中断的写入使其只刷新了一半）：其计数和状态不属于同一时刻 / "
        f"{en}, which a write is refreshing now (or one cut short left half refreshed): its counts and "
        "states would not be those of any one moment",
        hint=hint or "请在写入结束后重试；中断的写入会由下一次写入或 `dcpa serve` 完成 / try again when the write "
        "ends; a write cut short is finished by the next write or `dcpa serve`",
    )


# ---------------------------------------------------------------------------
# refreshing after a write
# ---------------------------------------------------------------------------


def _old_digests(store: StoreAPI, needs: Iterable[str]) -> dict[str, str]:
    """The digest (``dcpa:derivedDigest``) of each of ``needs`` that has derived facts ("" for one
    written before digests were).

    Chunks of ``VALUES`` in parallel queries (``run_parallel``): 98,588 needs at national scale in
    3.9 s, against 7.4-7.6 s for one index lookup per need on one thread, and 45 µs a need for a join
    over their counties.
    """
    iris = list(needs)

    def jobs(pred: str, among: list[str], keep: str = "") -> list[tuple[str, dict[str, Any]]]:
        return [(f"SELECT ?n ?o WHERE {{ VALUES ?n {{ {chunk} }} GRAPH {_G} {{ ?n <{pred}> ?o {keep} }} }}", {})
                for chunk in facts.iri_chunks(among)]

    out = {str(n): str(d) for rows in run_parallel(store, jobs(str(DCPA.derivedDigest), iris, "FILTER(isLiteral(?o))"))
           for n, d in rows}
    rest = [iri for iri in iris if iri not in out]
    for rows in run_parallel(store, jobs(str(DCPA.needState), rest)):
        out.update((str(n), "") for n, _ in rows)
    return out


def _digest_of(lines: list[str]) -> str:
    """The digest value of ``need_lines`` output (its last line)."""
    return lines[-1].rsplit('"', 2)[-2]


def _lines_of(store: StoreAPI, needs: list[str]) -> set[str]:
    """The derived triples (as lines) of ``needs`` and of their reasons, read back (for the needs whose
    digest says they changed, so that only the difference is written)."""
    out = _lines_about(store, needs)
    for values in facts.iri_chunks(needs):
        out.update(f"{s} {p} {o} .\n" for s, p, o in store.query(
            f"SELECT ?r ?p ?o WHERE {{ VALUES ?n {{ {values} }} "
            f"GRAPH {_G} {{ ?n <{DCPA.addressedBy}> ?r . ?r ?p ?o }} }}"))
    return out


def _lines_about(store: StoreAPI, nodes: Iterable[str]) -> set[str]:
    """The derived triples (as lines) whose subject is one of ``nodes``."""
    out: set[str] = set()
    for values in facts.iri_chunks(nodes):
        # str() of an Oxigraph term is its N-Triples form, the form need_lines writes
        out.update(f"{s} {p} {o} .\n" for s, p, o in store.query(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH {_G} {{ ?s ?p ?o }} }}"))
    return out


def _subject(line: str) -> str:
    return line[1:line.index(">")]


def _read_back(store: StoreAPI, diffed: Mapping[str, list[str]],
               settled: Callable[[str], bool]) -> tuple[set[str], set[str]]:
    """The stored lines of the needs ``diffed`` (IRI → new lines) that can have changed, and the new lines to
    set against them: each need's own lines (its state, counts and links to its reasons), and the lines of
    those reasons that go, or whose intervention is not ``settled``; the new lines but those of the reasons
    not read.

    ``settled(intervention)``: a reason by it is the same as long as the need keeps one (the write changed
    neither the intervention nor its evaluations, and it shares out no capacity, which could move the reason
    from direct to area reach). What a reason says is drawn from the need, the intervention and the day alone
    (``Rule.outcomes``), all three unchanged; the stored lines are those of the marker's day.

    Why: the province-wide online collection changes 23,301 needs; reading their lines whole (755,208, two
    in three of them their reasons' own) took 4.8 s of its 17.5-s refresh at national scale, these 2.9 s.
    """
    old = _lines_about(store, diffed)
    new = {line for lines in diffed.values() for line in lines}
    by: dict[str, str] = {}  # reason node → its intervention, in the new lines
    for line in new:
        _, p, o = line.split(" ", 2)
        if p == _P.intervention:
            by[_subject(line)] = o[1:o.index(">")]
    kept: set[str] = set()  # reasons of a need before and after, of a settled intervention: not read
    read: list[str] = []
    for line in old:
        _, p, o = line.split(" ", 2)
        if p == _P.by:
            r = o[1:o.index(">")]
            if r in by and settled(by[r]):
                kept.add(r)
            else:
                read.append(r)
    old |= _lines_about(store, read)
    if kept:
        new = {line for line in new if _subject(line) not in kept}
    return old, new


def _old_summaries(store: StoreAPI, codes: list[str], *, gaps: bool = True) -> dict[Key, Counts]:
    """The counts of the summaries of the areas in or above ``codes`` (one row per summary), with the
    gap summaries of the villages in ``codes`` unless ``gaps`` is false."""
    ups = {a for a in above(codes) if len(a) in SUMMARY_LEVELS}
    places = scope_patterns(codes, "?a", also=ups)
    queries = [f"""SELECT ?a ?t ?sev ?n ?g ?u ?gp ?ex WHERE {{ {place} GRAPH {_G} {{ ?s dcpa:summaryOf ?a ;
                   dcpa:summaryNeedType ?t ; dcpa:summarySeverity ?sev ; dcpa:needCount ?n ; dcpa:gapCount ?g .
                   OPTIONAL {{ ?s dcpa:unverifiedCount ?u }} OPTIONAL {{ ?s dcpa:gapPeople ?gp }}
                   OPTIONAL {{ ?s dcpa:isSynthetic ?ex }} }} }}"""
               for place in places]
    counts: dict[Key, Counts] = {}
    for a, t, sev, n, g, u, gp, ex in (row for q in queries for row in store.query(q)):
        key = SummaryKey(code_of(a.value), t.value, int(sev.value), ex is not None and ex.value == "true")
        counts[key] = Counts(int(n.value), int(g.value), int(u.value) if u else 0, int(gp.value) if gp else 0)
    coverage = [f"""SELECT ?a ?t ?c ?n ?ex WHERE {{ {place} GRAPH {_G} {{ ?s dcpa:summaryOf ?a ;
                    dcpa:summaryCategory ?c ; dcpa:summaryNeedType ?t ; dcpa:needCount ?n .
                    OPTIONAL {{ ?s dcpa:isSynthetic ?ex }} }} }}"""
                for place in places]
    for a, t, c, n, ex in (row for q in coverage for row in store.query(q)):
        counts[CoverageKey(code_of(a.value), t.value, c.value, ex is not None and ex.value == "true")] = Counts(
            int(n.value))
    villages = [f"""SELECT ?a ?sev ?g ?ex WHERE {{ {place} GRAPH {_G} {{ ?s dcpa:gapsOf ?a ;
                    dcpa:summarySeverity ?sev ; dcpa:gapCount ?g . OPTIONAL {{ ?s dcpa:isSynthetic ?ex }} }} }}"""
                for place in scope_patterns(codes, "?a")[1:]] if gaps else []  # only areas inside ``codes``
    for a, sev, g, ex in (row for q in villages for row in store.query(q)):
        counts[GapKey(code_of(a.value), int(sev.value), ex is not None and ex.value == "true")] = Counts(
            gaps=int(g.value))
    return counts


def _new_summaries(codes: list[str], needs: list[NeedFacts], result: dict[str, Outcome],
                   old: dict[Key, Counts]) -> dict[Key, Counts]:
    """Summaries of the areas in or above ``codes`` after a refresh of exactly the needs in ``codes``.

    Areas inside a code are counted from ``needs`` (all of their needs); an area above one keeps its
    old counts, minus the old and plus the new counts of the codes under it.
    """
    new = tally(needs, result, tuple(codes))
    ups: dict[str, list[str]] = {}
    for c in codes:
        for a in prefixes(c)[:-1]:
            if len(a) in SUMMARY_LEVELS:
                ups.setdefault(a, []).append(c)
    for a, under in ups.items():
        counts: dict[Key, Counts] = {}  # keyed with the area left empty
        for key, v in old.items():
            if key.area == a:
                counts[key._replace(area="")] = Counts(v.needs, v.gaps, v.unverified, v.gap_people)
        for c in under:
            for sign, table in ((-1, old), (1, new)):
                for key, v in table.items():
                    if key.area == c:
                        counts.setdefault(key._replace(area=""), Counts()).add(v, sign)
        for key, v in counts.items():
            if v.needs > 0:
                new[key._replace(area=a)] = v
    return new


#: Up to how many counties a refresh looks for later needs in them alone, rather than in every need.
LATER_IN_COUNTIES = 10


def refresh(store: StoreAPI, areas: Iterable[str], needs: Iterable[str] = (), *, graphs: Iterable[str] = (),
            settings: Settings | None = None, repair: bool = False, added: bool = False,
            interventions: Iterable[str] | None = None, gone: Sequence[NeedFacts] = ()) -> int:
    """Recompute the needs of every county containing one of ``areas`` (codes), their summaries and
    those of the areas above, forget derived facts of ``needs`` no longer in the graph, and recount the
    class partitions of ``graphs`` (named graphs a write added, changed or dropped); write the difference
    (``_write``). Returns how many nodes changed: needs, summaries and partitions, and the graph's
    own node when its dates moved.

    The derived graph keeps its date; a store without a current derived graph gets a whole one.
    Counties whose needs compete for the capacity of an intervention naming villages in them are
    recomputed together (the allocation of its capacity can move between them).

    ``repair`` trusts nothing derived in the scope: for the journal's recovery of a write whose refresh
    may have been cut short on a store that commits each operation of a request on its own (Virtuoso):
    every need is compared line by line, every summary node read whole, the summaries of the areas above
    summed from their counties.

    ``added`` says the write only added ``needs`` (an import of needs); ``interventions`` (not None) that it
    changed nothing the rule reads but those interventions and their evaluations; ``gone``, the facts of the
    needs it removed, read before it (a withdrawal of needs), that it changed nothing else the rule reads.
    Either way only the needs the write can move are recomputed, and the summaries moved by the difference
    (``_partial``).
    """
    settings = settings or get_settings()
    valid = [c for c in areas if c.isdigit() and len(c) in (2, 4, 6, 9, 12)]
    codes = minimal_areas(c[:6] for c in valid)  # whole counties, so that their summaries can be recounted
    extra = sorted(set(needs))
    recount = sorted(set(graphs))
    if not codes and not extra and not recount:
        return 0
    m = marker(store)
    if m is None:
        log.warning("the store had no derived graph of this rule: deriving it for every need")
        return derive_all(store, settings=settings)
    today = as_of_today(settings)
    if m.as_of < today and m.covers(today):
        # a graph made on an earlier day that still answers for today is today's too: dated today, a survey
        # identified since its day is counted at once, not left out until the server's keeper moves the graph
        # (which answers would have computed live meanwhile: seconds each at national scale)
        to = m.moved_to(today)
        _write(store, m, to, set(), [])
        m = to
    if not repair and gone and {n.iri for n in gone} == set(extra):
        done = _partial(store, m, [], codes, settings, recount, gone=gone)
        if done is not None:
            return done
    elif not repair and ((added and extra) or (interventions is not None and not extra)):
        done = _partial(store, m, extra, codes, settings, recount, interventions)
        if done is not None:
            return done
    # a need the write brought that was identified after the graph's day is left out, and the graph moves on then;
    # looked for in the counties, or in every need for many (a province's 100 counties' dates took 0.9-1.4 s at
    # national scale, every need's 0.31 s, ten counties' 0.1-0.2 s)
    to = m.later(facts.later_identified(store, m.as_of, codes if len(codes) <= LATER_IN_COUNTIES else None)) \
        if codes else m
    if m.next_identified is not None and not facts.identified_on(store, m.next_identified):
        # the need(s) it named were withdrawn or re-dated: the next identification is read anew, in every need (a
        # marker that kept the gone day made every answer say later needs were left out when none were)
        to = Marker(to.as_of, to.stable_until, facts.later_identified(store, m.as_of), to.windows)
    return _rewrite(store, m, codes, extra, to, settings, graphs=recount, repair=repair)


def _partial(store: StoreAPI, m: Marker, iris: list[str], codes: list[str], settings: Settings,
         graphs: list[str], interventions: Iterable[str] | None = None, *,
         gone: Sequence[NeedFacts] = ()) -> int | None:
    """The refresh of a write that only added the needs ``iris`` (in the counties ``codes``), only removed the
    needs ``gone`` (their facts as they were), or only changed the ``interventions`` (their records or their
    evaluations): the outcomes of the needs added, of the needs those interventions reach before or after the
    write, and of the needs that share a capacity with the added or removed ones, with the summaries moved by
    the difference (``_write``); None (nothing written) when the store does not hold what this relies on, for
    ``_rewrite`` to do it whole.

    Why: ``_rewrite`` recomputes every need of the counties a write touches, and a survey's needs reach
    many counties: 1,000 rows over 87 counties of Liaoning re-read 10^5 needs at national scale (14.9 s of
    a 16 s import). An added (or removed) need changes no other need's outcome but through a capacity: a
    capacity-limited intervention naming its village and fitting it shares its capacity out again among the
    needs of the villages it names. A changed intervention changes the outcomes of the needs it reached (a stored reason
    names it) and of those it now reaches (in its villages and areas, of a type it fits); a capacity is
    shared out by the intervention that declares it alone. Those needs are recomputed (with every need of
    the villages named by a capacity-limited intervention reaching them, as context); a summary moves by the
    new needs' counts, minus the removed needs' stored ones, plus the new and minus the stored counts of the
    needs whose derived facts changed.
    None when a need is not in the store or already derived, or when a stored need or summary is missing
    what a refresh writes.
    """
    windows = m.made_with(settings)
    changed = set(interventions or ())
    cut = m.known()  # the needs the graph holds, when the store has later ones
    # the rule for the counties the write names, read while the needs are (they are the needs' counties)
    with ThreadPoolExecutor(max_workers=1) as ahead:
        early = ahead.submit(facts.read_rule, store, codes, m.as_of, windows) if codes else None
        reads: list[tuple[str, dict[str, Any]]] = [(q, {}) for q in facts.needs_of_queries(iris)]
        rows = run_parallel(store, reads + _any_jobs(iris, _HAS_STATE) + _any_jobs([n.iri for n in gone], _IS_NEED))
        needs = facts.need_facts(row for part in rows[:len(reads)] for row in part)
        counties = minimal_areas(n.village[:6] for n in [*needs, *gone])
        rule = early.result() if early is not None else None
    if len(needs) != len(iris) or any(rows[len(reads):]):
        return None  # not in the store, or derived already (counted in the summaries); or a removed one still there
    # an added need identified after the graph's day is left out of it until the graph moves to that day
    later = facts.identified_after(store, iris, m.as_of) if iris else {}
    needs = [n for n in needs if n.iri not in later]
    if later:
        cut = Period(date.min, m.as_of)
    scope = minimal_areas(codes + counties)  # what the rule must cover
    if rule is None or scope != minimal_areas(codes):  # a need outside ``codes``
        rule = facts.read_rule(store, scope, m.as_of, windows)
    added_in: dict[str, list[NeedFacts]] = {}  # the needs added or removed, by village
    for n in [*needs, *gone]:
        added_in.setdefault(n.village, []).append(n)
    claimed = [i for i in rule.interventions.values() if i.capacity_limited and rule.in_force(i.iri)
               and any(rule.competes(n, i) for v in i.villages for n in added_in.get(v, ()))]
    shared = sorted({v for i in claimed for v in i.villages})
    new = set(iris) | {n.iri for n in gone}
    # the needs whose outcome can move: sharing a capacity with an added need, reached by a changed intervention
    moving = {n.iri: n for n in _reached(store, rule, changed, cut) if n.iri not in new}
    if shared:
        moving.update((n.iri, n) for n in facts.read_needs(store, shared, cut) if n.iri not in new)
    others = sorted(moving.values(), key=lambda n: (n.village, n.iri))
    wider = minimal_areas(scope + [n.village[:6] for n in others])
    if wider != scope:
        rule = facts.read_rule(store, wider, m.as_of, windows)
    # every need of the villages named by a capacity-limited intervention that one of them claims a share of: its
    # capacity is shared out among them all
    claiming: dict[str, list[NeedFacts]] = {}
    for n in others + needs:
        claiming.setdefault(n.village, []).append(n)
    around = sorted({v for i in rule.interventions.values() if i.capacity_limited and rule.in_force(i.iri)
                     and any(rule.competes(n, i) for w in i.villages for n in claiming.get(w, ())) for v in i.villages})
    context = [n for n in facts.read_needs(store, around, cut) if n.iri not in new and n.iri not in moving] \
        if around else []
    result = rule.outcomes(needs + others + context)
    lines = [line for n in needs for line in need_lines(n, result[n.iri])]
    drop: set[str] = set()
    delta = tally(needs, result)
    if gone:  # their lines out, their stored counts taken off the summaries
        gone_lines = _lines_of(store, [n.iri for n in gone])
        stored_gone = _stored_outcomes(gone_lines)
        if stored_gone.keys() != {n.iri for n in gone}:
            return None
        drop |= gone_lines
        for key, c in tally(gone, stored_gone).items():
            delta.setdefault(key, Counts()).add(c, -1)
    old_digests = _old_digests(store, [n.iri for n in others])
    if len(old_digests) != len(others):
        return None
    diffed = {n.iri: need_lines(n, result[n.iri]) for n in others}
    diffed = {iri: new_lines for iri, new_lines in diffed.items() if old_digests[iri] != _digest_of(new_lines)}
    if diffed:
        old_lines, new_lines = _read_back(store, diffed, lambda i: i not in changed and i in rule.interventions
                                          and not rule.interventions[i].capacity_limited)
        stored = _stored_outcomes(old_lines)
        if not stored.keys() >= diffed.keys():
            return None
        drop |= old_lines - new_lines
        lines += sorted(new_lines - old_lines)
        moved = [n for n in others if n.iri in diffed]
        for sign, outcomes in ((1, result), (-1, stored)):
            for key, c in tally(moved, outcomes).items():
                delta.setdefault(key, Counts()).add(c, sign)
    old = _counts_of(store, delta)
    summaries = 0
    for key in sorted(delta, key=_order):
        if delta[key] == Counts():
            continue
        now = Counts()
        now.add(old.get(key, Counts()))
        now.add(delta[key])
        if min(now.needs, now.gaps, now.unverified, now.gap_people) < 0:
            return None  # a stored summary missing counts it should hold: recount the counties whole
        before = set(summary_lines(key, old[key])) if key in old else set()
        after = summary_lines(key, now) if _kept(key, now) else []
        drop.update(before.difference(after))
        lines += [line for line in after if line not in before]
        summaries += 1
    partitions = _recount(store, graphs, drop, lines)
    to = m.later(min(later.values(), default=None)).bounded(rule.next_change())
    _write(store, m, to, drop, lines)
    log.info("derived graph refreshed for %d added need(s), %d removed and %d changed intervention(s) as of %s: "
             "%d other need(s) changed, %d summar(ies), %d class partition(s) changed", len(needs), len(gone),
             len(changed), m.as_of, len(diffed), summaries, partitions)
    return len(needs) + len(gone) + len(diffed) + summaries + partitions + (1 if to != m else 0)


def _reached(store: StoreAPI, rule: Rule, interventions: Iterable[str], cut: Period | None = None) -> list[NeedFacts]:
    """The needs ``interventions`` reach before the write (a stored reason names one) or after it (in force,
    in the villages they name or the areas they target, of a type they fit), of those in ``cut`` when given."""
    ids = sorted(set(interventions))
    if not ids:
        return []
    jobs: list[tuple[str, dict[str, Any]]] = [
        (f"SELECT DISTINCT ?n WHERE {{ VALUES ?i {{ {chunk} }} "
         f"GRAPH {_G} {{ ?r <{DCPA.byIntervention}> ?i . ?n <{DCPA.addressedBy}> ?r }} }}", {})
        for chunk in facts.iri_chunks(ids)]
    before = {str(n) for rows in run_parallel(store, jobs) for (n,) in rows if n}
    # where each reaches with which fits: the villages it names with its own, the areas it targets with those
    # that reach a whole area (its online resources, or all when it declares the whole area)
    fits: dict[str, set[str]] = {}  # village or area code -> need types fitting there
    for iri in ids:
        i = rule.interventions.get(iri)
        if i is not None and rule.in_force(iri):
            for places, through in ((i.villages, i.named_fits), (i.areas, i.area_fits)):
                for code in places if through else ():
                    fits.setdefault(code, set()).update(f.need_type for f in through)
    # read of the types that can fit only (a province's needs of three types of seventeen: 2.2 s against 4.7 s)
    every = set(rule.broader) | {b for up in rule.broader.values() for b in up} | {t for f in fits.values() for t in f}
    types = {t for t in every if any(f.intersection(rule.ups(t)) for f in fits.values())}
    after = [n for n in facts.read_needs(store, sorted(fits), cut, types=types)
             if any(fits.get(code, set()).intersection(rule.ups(n.need_type)) for code in prefixes(n.village))] \
        if fits else []
    found = {n.iri for n in after}
    return after + facts.need_facts(row for part in run_parallel(
        store, [(q, {}) for q in facts.needs_of_queries(before - found)]) for row in part)


class _Stored(NamedTuple):
    """What the summaries count of a need's stored outcome."""

    state: NeedState
    categories: frozenset[str]


def _stored_outcomes(lines: Iterable[str]) -> dict[str, _Stored]:
    """The state and categories of each need in ``lines`` (derived lines read back) that has a state."""
    state_of = {f"<{s.concept}>": s for s in NeedState}
    states: dict[str, NeedState] = {}
    categories: dict[str, set[str]] = {}
    for line in lines:
        s_, p, o = line.split(" ", 2)
        if p == _P.state:
            states[s_[1:-1]] = state_of[o.rsplit(" ", 1)[0]]
        elif p == _P.by_category:
            categories.setdefault(s_[1:-1], set()).add(o.rsplit(" ", 1)[0][1:-1])
    return {iri: _Stored(state, frozenset(categories.get(iri, ()))) for iri, state in states.items()}


#: Patterns about ``?n`` for ``_any_jobs``: a need in the store (a withdrawn batch's need that another graph also
#: holds is), a need with a derived state.
_IS_NEED = f"?n <{DCPA.needOf}> ?v"
_HAS_STATE = f"GRAPH {_G} {{ ?n <{DCPA.needState}> ?s }}"


def _any_jobs(needs: list[str], pattern: str) -> list[tuple[str, dict[str, Any]]]:
    """Queries that answer a row when ``pattern`` holds for one of ``needs``."""
    return [(f"SELECT ?n WHERE {{ VALUES ?n {{ {chunk} }} {pattern} }} LIMIT 1", {})
            for chunk in facts.iri_chunks(needs)]


_COUNTS = {str(DCPA.needCount): "needs", str(DCPA.gapCount): "gaps", str(DCPA.unverifiedCount): "unverified",
           str(DCPA.gapPeople): "gap_people"}


def _counts_of(store: StoreAPI, keys: Iterable[Key]) -> dict[Key, Counts]:
    """The stored counts of the summaries of ``keys`` that exist, each read by its IRI."""
    by_iri = {key_iri(k): k for k in keys}
    # A gap summary holds one count and a coverage summary one: that predicate is read alone (one index lookup a
    # node; the province-wide collection's 14,404 gap summaries and 702 coverage summaries among its 16,824 keys).
    # A need summary's four counts come with every triple of the node, kept in Python: a second VALUES for the
    # predicates made Oxigraph scan the derived graph (28 s for 4,000 summaries at national scale).
    one = {GapKey: str(DCPA.gapCount), CoverageKey: str(DCPA.needCount)}
    jobs: list[tuple[str, dict[str, Any]]] = []
    for kind, pred in one.items():
        jobs += [(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} BIND(<{pred}> AS ?p) GRAPH {_G} {{ ?s ?p ?o }} }}",
                  {}) for chunk in facts.iri_chunks(i for i, k in by_iri.items() if type(k) is kind)]
    jobs += [(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} GRAPH {_G} {{ ?s ?p ?o }} }}", {})
             for chunk in facts.iri_chunks(i for i, k in by_iri.items() if type(k) not in one)]
    out: dict[Key, Counts] = {}
    for rows in run_parallel(store, jobs):
        for s_, p, o in rows:
            if s_ and p in _COUNTS and o:
                setattr(out.setdefault(by_iri[s_], Counts()), _COUNTS[p], int(o))
    return out


def _rewrite(store: StoreAPI, m: Marker, codes: list[str], extra: list[str], to: Marker, settings: Settings,
             *, keep: bool = False, graphs: list[str] | None = None, repair: bool = False) -> int:
    """Recompute the needs of ``codes`` (counties) as of ``to``'s day, those it holds (``Marker.known``), and
    forget those of ``extra`` that are not; write the difference, and the marker when it moves (``_write``).
    The marker becomes ``to`` with its stable-until date moved earlier to the recomputed counties' next
    change, or stays ``m`` with ``keep`` (a move to another day in parts, but its last)."""
    windows = to.made_with(settings)
    day, cut = to.as_of, to.known()
    inputs = facts.read_inputs(store, codes, day, windows, cut) if codes else None
    for _ in range(5):  # capacity shared with villages outside: widen to their counties (rarely more than once)
        if inputs is None or not inputs.context:
            break
        codes = minimal_areas(codes + [v[:6] for v in inputs.outside_villages()])
        inputs = facts.read_inputs(store, codes, day, windows, cut)
    if repair and cut is not None and codes:
        # repair trusts nothing derived: a move to a later day cut short between its parts (``advance``) has
        # written the needs identified up to that day into some of these counties under the old marker; the
        # graph holds none identified after its day, so they go as the needs of ``extra`` do
        extra = sorted(set(extra) | set(facts.identified_between(store, day, date.max, codes)))
    # a need of the scope is one of inputs.needs (read from the same data); one gone is in ``extra``. Each
    # once: an import names its new needs in ``extra`` too, and they had been looked up twice
    scope = list(dict.fromkeys([n.iri for n in inputs.needs] + extra)) if inputs else extra
    # repair: "" compares line by line (a need cut short may have lost its digest and its state line too)
    old_digests = dict.fromkeys(scope, "") if repair else _old_digests(store, scope)
    diffed: dict[str, list[str]] = {}  # needs whose derived triples change, with their new lines
    lines: list[str] = []  # what is inserted (summaries and marker; the needs' difference is added below)
    drop: set[str] = set()  # what is removed
    summaries_changed = 0
    if inputs is not None:
        result = inputs.outcomes()
        for n in inputs.needs:
            new = need_lines(n, result[n.iri])
            if old_digests.get(n.iri) != _digest_of(new):  # changed, new, or written before digests ("")
                diffed[n.iri] = new
        if repair:
            summaries_changed = _repair_summaries(store, codes, inputs.needs, result, drop, lines)
        else:
            old_counts = _old_summaries(store, codes)
            new_counts = _new_summaries(codes, inputs.needs, result, old_counts)
            for key in sorted(old_counts.keys() | new_counts.keys(), key=_order):
                if old_counts.get(key) != new_counts.get(key):
                    # only the lines that differ: a count that moved is one line out and one in, where the
                    # whole node had been (a 100,000-row import changes the gap summaries of most villages)
                    summaries_changed += 1
                    before = set(summary_lines(key, old_counts[key])) if key in old_counts else set()
                    after = summary_lines(key, new_counts[key]) if key in new_counts else []
                    drop.update(before.difference(after))
                    lines += [line for line in after if line not in before]
        to = to.bounded(inputs.rule.next_change())
    partitions_changed = _recount(store, graphs or [], drop, lines)
    current = {n.iri for n in inputs.needs} if inputs is not None else set()
    gone = [iri for iri in old_digests if iri not in current]
    # only the changed needs' old triples are read back (a province's whole 2.6M took 32 s at national
    # scale); removing them by a DELETE ... WHERE pattern instead was slower still (88 s for 24,571 needs)
    touched = sorted(diffed) + gone
    if touched:
        old_lines = _lines_of(store, [iri for iri in touched if iri in old_digests])
        new_lines = {line for v in diffed.values() for line in v}
        drop |= old_lines - new_lines
        lines += sorted(new_lines - old_lines)
    if keep:
        to = m
    _write(store, m, to, drop, lines)
    changed = len(touched) + summaries_changed + partitions_changed + (1 if to != m else 0)
    log.info("derived graph refreshed for %s as of %s: %d need(s), %d summar(ies), %d class partition(s) changed",
             ", ".join(codes) or "(removed needs or recounted graphs)", day, len(touched), summaries_changed,
             partitions_changed)
    return changed


def _recount(store: StoreAPI, graphs: list[str], drop: set[str], lines: list[str]) -> int:
    """The class partitions of ``graphs`` counted again: adds their changed lines to ``drop`` and ``lines``;
    returns how many partition nodes changed (a handful of nodes per graph, compared line by line, so that
    a repair needs nothing more)."""
    if not graphs:
        return 0
    old_parts = _old_partition_lines(store, graphs)
    new_parts = {line for (g, c), (n, x) in count_partitions(store, graphs).items()
                 for line in partition_lines(g, c, n, x)}
    drop |= old_parts - new_parts
    lines += sorted(new_parts - old_parts)
    return len({_partition_of(line) for line in old_parts ^ new_parts})


def _write(store: StoreAPI, m: Marker, to: Marker, drop: set[str], lines: list[str]) -> None:
    """Remove ``drop`` and insert ``lines`` in the derived graph and move its marker from ``m`` to ``to``.

    In one transaction, or from ``BULK_FROM`` lines in or out, in writes in this order: the deletions (in parts:
    ``kg.updates.deletions``), the lines (one load: ``add_graph``, bulk from ``BULK_FROM``), the marker's move. Why: the
    refresh of a 100,000-row import at national scale (354,159 lines in, 54,159 out) took 12.7 s and 950 MB
    more as one update, that of its withdrawal (354,159 lines out) 7.6 s and 800 MB more. Cut short in between, the
    graph is as a store that commits each operation on its own (Virtuoso) leaves it (see ``_dropped_first``),
    the marker not yet moved, and the write runs under the journal's marker, whose recovery repairs it."""
    moved = ""
    if to != m:  # one operation: the graph's dates never read as half moved
        old_marker = set(_marker_lines(m))
        new_marker = set(_marker_lines(to))
        out, into = "".join(sorted(old_marker - new_marker)), "".join(sorted(new_marker - old_marker))
        moved = " ".join([f"DELETE {{ GRAPH {_G} {{\n{out}}} }}" if out else "",
                          f"INSERT {{ GRAPH {_G} {{\n{into}}} }}" if into else "", "WHERE {}"]).strip() \
            if out or into else ""
    dropped = sorted(drop, key=_dropped_first)
    if len(lines) < BULK_FROM and len(dropped) < BULK_FROM:
        ops = [*data_ops("DELETE", dropped, str(GRAPH_DERIVED)),
               *data_ops("INSERT", sorted(lines, key=_inserted_first), str(GRAPH_DERIVED)), moved]
        if any(ops):
            store.update(request(ops))
        return
    for text in deletions(dropped, str(GRAPH_DERIVED)):
        store.update(text)
    if lines:
        store.add_graph(str(GRAPH_DERIVED), "".join(lines).encode("utf-8"))
    if moved:
        store.update(request([moved]))


def _dropped_first(line: str) -> tuple[int, str]:
    """The order of a refresh's deletions: digests first, the links that find a node (a need's reasons,
    a summary's area, a graph's partitions) last. A store that commits each operation on its own
    (Virtuoso), cut short, then leaves needs without a digest (compared line by line next time) and no
    node that cannot be found."""
    return (0 if _P.digest in line else 2 if _links(line) else 1), line


def _inserted_first(line: str) -> tuple[int, str]:
    """The order of a refresh's insertions: the links first, digests last (see ``_dropped_first``)."""
    return (2 if _P.digest in line else 0 if _links(line) else 1), line


_SUMMARY_OF = f"<{DCPA.summaryOf}>"
_GAPS_OF = f"<{DCPA.gapsOf}>"
_PARTITION = f"<{VOID.classPartition}>"


def _links(line: str) -> bool:
    return _P.by in line or _SUMMARY_OF in line or _GAPS_OF in line or _PARTITION in line


def _partition_of(line: str) -> str:
    """The partition node a partition line is about (the object of the graph's link, else the subject)."""
    return line.rsplit(" ", 2)[-2] if _PARTITION in line else line.split(" ", 1)[0]


def _repair_summaries(store: StoreAPI, codes: list[str], needs: list[NeedFacts], result: dict[str, Outcome],
                      drop: set[str], lines: list[str]) -> int:
    """The summaries of the areas in or above ``codes`` made again, whatever a refresh cut short left of
    them: the areas in ``codes`` counted from ``needs``, those above summed from their counties (the ones
    outside ``codes`` read as they are), compared with every line of the summary nodes there. Adds to
    ``drop`` and ``lines``; returns how many summary nodes changed."""
    new = tally(needs, result, tuple(codes))
    ups = sorted(a for a in above(codes) if len(a) in SUMMARY_LEVELS)
    if ups:
        counties = _old_summaries(store, minimal_areas(ups), gaps=False)  # every area under the topmost ones
        for key, v in counties.items():
            if len(key.area) == 6 and not any(key.area.startswith(c) for c in codes):
                new[key] = v
        for key, v in list(new.items()):
            if len(key.area) == 6:
                for a in ups:
                    if key.area.startswith(a):
                        new.setdefault(key._replace(area=a), Counts()).add(v)
        new = {k: v for k, v in new.items() if len(k.area) != 6 or any(k.area.startswith(c) for c in codes)
               or k.area in ups}
    want: dict[str, set[str]] = {}
    for key, c in new.items():
        if _kept(key, c):
            text = summary_lines(key, c)
            want.setdefault(text[0].split(" ", 1)[0], set()).update(text)
    have: dict[str, set[str]] = {}
    for place in scope_patterns(codes, "?a", also=ups):
        for link in ("dcpa:summaryOf", "dcpa:gapsOf"):
            for s_, p, o in store.query(f"SELECT ?s ?p ?o WHERE {{ {place} GRAPH {_G} {{ ?s {link} ?a . "
                                        "?s ?p ?o } }"):
                have.setdefault(str(s_), set()).add(f"{s_} {p} {o} .\n")
    changed = 0
    for node_ in have.keys() | want.keys():
        old, now = have.get(node_, set()), want.get(node_, set())
        if old != now:
            changed += 1
            drop.update(old - now)
            lines.extend(sorted(now - old))
    return changed


#: Counties recomputed per transaction when the derived graph moves to another date.
ADVANCE_CHUNK = 64


def changed_areas(store: StoreAPI, old: date, new: date,
                  windows: Mapping[str, int] | None = None) -> tuple[set[str], Rule]:
    """The area codes where an outcome can differ between ``old`` and ``new`` without a new fact, and
    the rule as of ``new`` (which knows the next change after it).

    An outcome changes only where an intervention comes into or goes out of force, or an evaluation
    period closes, between the two dates: the areas that intervention targets; and a need is counted from
    the day it was identified on: its village. Reading the interventions, evaluations and identification
    dates alone keeps this small at national scale. ``windows``: the graph's own (``Marker.made_with``), else the
    process settings'.
    """
    windows = dict(windows) if windows is not None else get_settings().validity_windows()
    interventions = facts.read_interventions(store, None)
    evaluations = facts.read_evaluations(store, None)
    before = Rule(interventions, evaluations, {}, old, windows)
    after = Rule(interventions, evaluations, {}, new, windows)
    moved = {iri for iri in interventions if before.in_force(iri) != after.in_force(iri)}
    lo, hi = min(old, new), max(old, new)
    for e in evaluations:
        if e.period_end is not None and lo < e.period_end <= hi:  # counted from its period's end on
            moved.add(e.intervention)
    codes = {c for iri in moved if iri in interventions
             for c in (*interventions[iri].villages, *interventions[iri].areas)}
    codes |= {e.area for e in evaluations
              if e.period_end is not None and lo < e.period_end <= hi and e.area.isdigit()}
    # and where a need becomes known (or, moving back, is not yet): the graph holds the needs known by its day
    codes |= set(facts.identified_between(store, lo, hi).values())
    return codes, after


#: What ``advance`` holds while it writes: given the counties it will rewrite, a context that marks
#: them stale in the store until the move is done (``kg.importer.journal.advance_marked``).
Journal = Callable[[list[str]], AbstractContextManager[object]]


def advance(store: StoreAPI, day: date | None = None, *, settings: Settings | None = None,
            journal: Journal | None = None) -> int:
    """Move the derived graph to ``day`` (default today): recompute only the counties where an outcome
    can change between its date and ``day`` (``changed_areas``), writing their differences in
    transactions of ``ADVANCE_CHUNK`` counties, the new date and stable-until date with the last.
    Returns how many nodes changed (as ``refresh``). Without a derived graph, derives it whole.

    Why not ``derive_all``: replacing the national derived graph (10^7 triples) in one transaction
    took over 24 GB, and the server that did it each morning was killed for lack of memory; a day's
    change touches a few counties. A crash between chunks leaves the old date on the graph, so the
    next ``advance`` redoes the rest (counties already moved have no difference left). A crash *inside*
    a chunk's request, on a store that commits each operation on its own (Virtuoso), can leave a
    summary half written, which no later difference sees: ``journal`` marks the counties stale while
    the move runs, so that the journal's recovery repairs them.
    """
    settings = settings or get_settings()
    day = day or as_of_today(settings)
    m = marker(store)
    if m is None:
        return derive_all(store, as_of=day, settings=settings)
    if m.as_of == day:
        return 0
    codes, rule = changed_areas(store, m.as_of, day, m.made_with(settings))
    counties = minimal_areas(c[:6] for c in codes if len(c) >= 2)
    chunks = [counties[i:i + ADVANCE_CHUNK] for i in range(0, len(counties), ADVANCE_CHUNK)]
    to = Marker(day, rule.next_change(), facts.later_identified(store, day), m.windows).bounded()
    # moving back: the needs identified after the new day leave (forward, those identified by it are read anyway)
    leaving = facts.identified_between(store, day, m.as_of) if day < m.as_of else {}
    changed = 0
    with journal(counties) if journal is not None and counties else nullcontext():
        for i, chunk in enumerate(chunks or [[]]):  # under the old marker: it moves with the last chunk
            gone = sorted(n for n, v in leaving.items() if any(v.startswith(c) for c in chunk))
            changed += _rewrite(store, m, chunk, gone, to, settings, keep=i < len(chunks) - 1)
    log.info("derived graph moved from %s to %s: %d area(s) recomputed, %d node(s) changed",
             m.as_of, day, len(counties), changed)
    return changed


def ensure_current(store: StoreAPI, as_of: date | None = None, *, settings: Settings | None = None,
                   journal: Journal | None = None) -> bool:
    """Move the derived graph to ``as_of`` (default today) when it does not answer for it; True if it did."""
    settings = settings or get_settings()
    day = as_of or as_of_today(settings)
    m = marker(store)
    if m is not None and m.covers(day):
        return False
    advance(store, day, settings=settings, journal=journal)
    return True


def affected_areas(store: StoreAPI, triples: Iterable[tuple[str, str, str]]) -> tuple[set[str], set[str]]:
    """The area codes whose needs a change to ``triples`` can touch, and the needs they describe.

    ``triples`` are (subject, predicate, object) lexical values of what was added or removed: a need
    touches its village; an intervention the areas it targets; an evaluation the area it evaluates and
    the targets of its intervention; a resource (its type, fit or delivery) the targets of the
    interventions using it. A library's service area never changes whether a need is addressed.
    Call it with the old and the new triples of a change, before the store forgets the old ones.
    """
    codes: set[str] = set()
    needs: set[str] = set()
    resources: set[str] = set()
    subjects: set[str] = set()
    evaluated: set[str] = set()
    need_of, evaluates, ident = str(DCPA.needOf), str(DCPA.evaluates), str(ID)  # once, not per triple
    to_area = {str(DCPA.targetsArea), str(DCPA.evaluatedArea)}
    of_resource = {str(DCPA.resourceType), str(DCPA.addressesNeedType), str(DCPA.deliveryMode)}
    intervention = ident + "intervention/"
    for s, p, o in triples:
        if p == need_of:
            needs.add(s)
            codes.add(code_of(o))
        elif p in to_area:
            codes.add(code_of(o))
        elif p == evaluates:
            evaluated.add(o)
        elif p in of_resource and s.startswith(ident):
            resources.add(s)
        elif s.startswith(intervention):
            subjects.add(s)
    queries = []
    if resources:
        queries.append(f"SELECT DISTINCT ?a WHERE {{ VALUES ?r {{ {facts.iri_values(resources)} }} "
                       "?i dcpa:usesResource ?r . ?i dcpa:targetsArea ?a }")
    if subjects | evaluated:
        queries.append(f"SELECT DISTINCT ?a WHERE {{ VALUES ?i {{ {facts.iri_values(subjects | evaluated)} }} "
                       "?i dcpa:targetsArea ?a }")
    for q in queries:
        codes |= {code_of(str(row[0])) for row in run_parallel(store, [(q, {})])[0] if row[0]}
    return {c for c in codes if c.isdigit()}, needs


#: What the rule reads (``kg.facts``): of needs, interventions, evaluations, resources, areas and the need types.
RULE_READS = frozenset(str(p) for p in (
    DCPA.needOf, DCPA.needType, DCPA.severity, DCPA.peopleAffected, DCPA.isSynthetic, DCPA.withinArea,
    DCPA.interventionStatus, DCPA.category, DCPA.startDate, DCPA.endDate, DCPA.inServiceUntil, DCPA.reachScope,
    DCPA.peopleReached, DCPA.villageCapacity, DCPA.targetsArea, DCPA.usesResource, DCPA.addressesNeedType,
    DCPA.resourceType, DCPA.deliveryMode, DCPA.evaluates, DCPA.evaluatedArea, DCPA.targetValue,
    DCPA.actualValue, DCPA.periodEnd, SKOS.broader))


def needs_only(triples: Iterable[tuple[str, str, str]]) -> bool:
    """Whether what ``triples`` (a write's new ones) hold that the rule reads is needs alone (interviews,
    poverty statuses, household figures beside them are not read)."""
    need, found = str(ID) + "need/", False
    for s, p, _ in triples:
        if p in RULE_READS:
            if not s.startswith(need):
                return False
            found = True
    return found


def changed_interventions(triples: Iterable[tuple[str, str, str]]) -> set[str] | None:
    """The interventions a change to ``triples`` (old and new, as for ``affected_areas``) bears on, when what
    it changes that the rule reads is interventions and evaluations alone (their whole records); None when it
    changes anything else the rule reads (a need, a resource, an area)."""
    out: set[str] = set()
    evaluations: set[str] = set()
    evaluated: set[str] = set()
    evaluates, ident = str(DCPA.evaluates), str(ID)
    intervention, evaluation = ident + "intervention/", ident + "evaluation/"
    for s, p, o in triples:
        if p not in RULE_READS:
            continue
        if s.startswith(intervention):
            out.add(s)
        elif s.startswith(evaluation):
            evaluations.add(s)
            if p == evaluates:
                out.add(o)
                evaluated.add(s)
        else:
            return None
    return out if evaluations <= evaluated else None


def graph_triples(g: rdflib.Graph) -> list[tuple[str, str, str]]:
    """The lexical (subject, predicate, object) values of an rdflib graph, for ``affected_areas``."""
    return [(str(s), str(p), str(o)) for s, p, o in g]


__all__ = [
    "SUMMARY_LEVELS",
    "Counts",
    "Marker",
    "affected_areas",
    "area_values",
    "as_of_today",
    "derive_all",
    "Journal",
    "ensure_current",
    "advance",
    "changed_areas",
    "changed_interventions",
    "needs_only",
    "graph_triples",
    "in_flux",
    "check_settled",
    "other_windows_words",
    "unsettled",
    "is_current",
    "marker",
    "need_lines",
    "reason_iri",
    "refresh",
    "summary_iri",
    "tally",
]
