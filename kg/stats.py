"""What the store holds: triples per named graph, instances per class (real, example, derived), headline counts.

The one home of statistics: ``dcpa stats`` and ``/api/stats`` both show :func:`stats`. Counting happens
inside Oxigraph (SPARQL aggregates), so it stays fast at national scale. Nodes of the derived graph
(need summaries, addressing reasons) are neither real nor example data: they are counted as derived. Example
data is the example graph's nodes and those flagged ``dcpa:isSynthetic`` in another graph; a headline counts each
node once, however many of its classes it has.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import __version__, stamp, versions
from .codes import VILLAGE_CLASSES
from .contract import StoreAPI
from .derived import as_of_today, in_flux, marker
from .errors import DcpaError
from .facts import SCAN_THREADS, iri_values, run_parallel
from .namespaces import (
    GRAPH,
    GRAPH_DERIVED,
    GRAPH_IMPORT_PREFIX,
    GRAPH_JOURNAL,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_SYNTHETIC,
    GRAPH_WITHDRAWN_PREFIX,
    PREFIXES,
)
from .settings import Settings, get_settings

#: Nodes per graph and class: one pass over the type triples, every graph (the project's are kept by
#: ``stats``: the same filter in the query, tested on each of 3.4M rows, made 0.9 s at national scale 4.6 s).
_CLASS_QUERY = "SELECT ?g ?class (COUNT(?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } } GROUP BY ?g ?class"
_LABEL_QUERY = f"""
SELECT ?c ?zh ?en WHERE {{
  GRAPH <{GRAPH_ONTOLOGY}> {{
    ?c a <http://www.w3.org/2002/07/owl#Class> .
    OPTIONAL {{ ?c rdfs:label ?zh FILTER(langMatches(lang(?zh), "zh")) }}
    OPTIONAL {{ ?c rdfs:label ?en FILTER(langMatches(lang(?en), "en")) }}
  }}
}}
"""
#: Headline counts: name → (class IRIs as a VALUES body, extra pattern on ?s)
_HEADLINE = {
    "villages": (VILLAGE_CLASSES, ""),
    "needs": ("dcpa:Need", ""),
    "libraries": ("dcpa:Library dcpa:ProvincialLibrary dcpa:CityLibrary dcpa:CountyLibrary dcpa:TownshipBranch "
                  "dcpa:VillageServicePoint", ""),
    "resources": ("dcpa:LibraryResource dcpa:DigitalResource dcpa:Terminal dcpa:TrainingCourse dcpa:Platform", ""),
    "interventions": ("dcpa:Intervention", ""),
    "evaluations": ("dcpa:Evaluation", ""),
    "policies": ("dcpa:Policy dcpa:Law dcpa:Plan dcpa:Opinion dcpa:Decision dcpa:ProgrammeNotice", ""),
    "programmes": ("dcpa:Programme", ""),
    "imports": ("dcpa:ImportActivity", ""),
    "registered_poor_villages": ("dcpa:PovertyStatus", "?s dcpa:statusType dcpav:PS1 ."),
}


def compact(iri: str) -> str:
    """``https://w3id.org/dcpa/ontology#Village`` → ``dcpa:Village`` (unchanged when no prefix fits)."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def graph_kind(graph: str) -> str:
    """ontology / reference / synthetic / import / withdrawal / journal / derived / other."""
    if graph == str(GRAPH_ONTOLOGY):
        return "ontology"
    if graph == str(GRAPH_DERIVED):
        return "derived"
    if graph == str(GRAPH_REFERENCE):
        return "reference"
    if graph == str(GRAPH_SYNTHETIC):
        return "synthetic"
    if graph.startswith(GRAPH_IMPORT_PREFIX):
        return "import"
    if graph.startswith(GRAPH_WITHDRAWN_PREFIX):
        return "withdrawal"
    if graph.startswith(GRAPH_JOURNAL):
        return "journal"
    return "other"


def project_graphs(store: StoreAPI) -> list[str]:
    """The project's named graphs: not the write lease's or the build stamp's, nor a store's own (Virtuoso's)."""
    return [g for g in store.graphs() if g.startswith(str(GRAPH))]


def graph_counts(store: StoreAPI, graphs: list[str] | None = None) -> dict[str, int]:
    """Triples per named graph of the project (or of ``graphs``): one count per graph, the graphs in parallel.

    Why not one query grouping every quad by its graph: at national scale (33.9M quads) that took 50.3 s,
    and these 5.4 s.
    """
    graphs = project_graphs(store) if graphs is None else graphs
    with ThreadPoolExecutor(max_workers=max(1, min(SCAN_THREADS, len(graphs)))) as ex:
        return dict(zip(graphs, ex.map(store.count, graphs), strict=True))


def example_triples(counts: dict[str, int]) -> tuple[int, int]:
    """(example triples, instance triples) of the triples per graph ``counts``: instance data is every graph but the
    ontology and the derived one, example data the example graph's (``Stats.synthetic_share``, a dump's header)."""
    instance = sum(n for g, n in counts.items() if graph_kind(g) not in ("ontology", "derived"))
    return sum(n for g, n in counts.items() if graph_kind(g) == "synthetic"), instance


def build_of(store: StoreAPI) -> str | None:
    """The fingerprint of the build ``store`` holds (``kg.build.fingerprint``: same fingerprint, same inputs):
    its version's completion record for an embedded store, the stamp for a remote one; None when unknown."""
    real = getattr(store, "real_path", None)
    if isinstance(real, Path):
        record = versions.completion(real)
        found = record.get("fingerprint") if record else None
        return found if isinstance(found, str) else None
    try:
        return stamp.read(store)
    except DcpaError:  # a store that cannot say: the dump says unknown
        return None


def last_write(store: StoreAPI) -> str | None:
    """When the last import or withdrawal ended: the build's fingerprint does not change with them."""
    rows = store.select("SELECT (MAX(?t) AS ?last) WHERE { VALUES ?kind { dcpa:ImportActivity dcpa:Withdrawal } "
                        "?a a ?kind ; prov:endedAtTime ?t }")
    last = rows[0].get("last") if rows else None
    return last.isoformat() if isinstance(last, datetime) else None if last is None else str(last)


def software() -> str:
    """The program that says so: a dump's header and the statistics name it alike."""
    return f"dcpa {__version__}"


@dataclass
class Stats:
    graphs: list[dict[str, Any]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # headline → {"real", "example"}
    triples: int = 0
    instance_triples: int = 0
    synthetic_triples: int = 0
    derived_triples: int = 0
    #: The derived graph's date, the day it stays right until, and whether it answers for today.
    derived: dict[str, Any] | None = None
    #: What a dump of the store cites it by (``kg.export.about``): the program, the build's fingerprint and the end
    #: of the last import or withdrawal since; without them a number read here could not be matched to a dump.
    software: str = ""
    build: str | None = None
    last_write: str | None = None

    @property
    def synthetic_share(self) -> float:
        """Share of instance triples (everything but the ontology and the derived facts) that are example data."""
        return self.synthetic_triples / self.instance_triples if self.instance_triples else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "triples": self.triples,
            "instance_triples": self.instance_triples,
            "synthetic_triples": self.synthetic_triples,
            "real_triples": self.instance_triples - self.synthetic_triples,
            "derived_triples": self.derived_triples,
            "synthetic_share": round(self.synthetic_share, 4),
            "derived": self.derived,
            "software": self.software,
            "build": self.build,
            "last_write": self.last_write,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "counts": self.counts, "graphs": self.graphs, "classes": self.classes}


def stats(store: StoreAPI, settings: Settings | None = None, today: date | None = None) -> Stats:
    """Counts by graph, by class (real, example and derived, with zh/en labels) and headline counts, and
    which day the derived graph answers for (``current``: whether that covers ``today``, default the
    settings' as-of date or today, no write is changing it: ``write_under_way``, ``kg.derived.in_flux``, and it was
    made with the settings' validity windows: ``windows``, its own, and ``other_windows``)."""
    out = Stats(software=software(), build=build_of(store), last_write=last_write(store))
    m = marker(store)
    if m is not None:
        writing = in_flux(store)
        day = today or as_of_today(settings)
        # made with other validity windows than the settings' (DCPA_VALIDITY_MONTHS), it answers nothing: every
        # answer is live (``kg.derived.answering``), so it is not current, and says why
        other = m.other_windows((settings or get_settings()).validity_windows())
        out.derived = {"as_of": m.as_of.isoformat(),
                       "stable_until": m.stable_until.isoformat() if m.stable_until else None,
                       "next_identified": m.next_identified.isoformat() if m.next_identified else None,
                       "current": m.covers(day) and not writing and not other, "write_under_way": writing,
                       "windows": m.windows, "other_windows": other}
    ours = project_graphs(store)
    with ThreadPoolExecutor(max_workers=1) as ahead:  # counted while the classes are (national scale: 5.8 s, not 7.1)
        counting = ahead.submit(graph_counts, store, ours)
        found = _classes_and_headline(store, ours)
        counted = sorted(counting.result().items())
    for g, n in counted:
        kind = graph_kind(g)
        out.graphs.append({"graph": g, "kind": kind, "triples": n})
        out.triples += n
        if kind == "derived":
            out.derived_triples += n
    out.synthetic_triples, out.instance_triples = example_triples(dict(counted))
    labels = {str(c): (zh or "", en or "") for c, zh, en in found[0]}
    flagged = {(g, c): int(n or 0) for g, c, n in found[2]}
    by_class: dict[str, dict[str, Any]] = {}
    for graph, cls, num in found[1]:
        assert graph is not None and cls is not None
        if graph not in ours or graph == str(GRAPH_ONTOLOGY):
            continue  # not the project's (the write lease's, the build stamp's, Virtuoso's own), or the ontology
        zh, en = labels.get(cls, ("", ""))
        row = by_class.setdefault(cls, {"class": compact(cls), "label_zh": zh, "label_en": en, "total": 0, "real": 0,
                                      "synthetic": 0, "derived": 0})
        n, kind = int(num or 0), graph_kind(graph)
        row["total"] += n
        if kind == "derived":
            row["derived"] += n
        elif kind == "synthetic":
            row["synthetic"] += n
        else:
            row["synthetic"] += flagged.get((graph, cls), 0)
            row["real"] += n - flagged.get((graph, cls), 0)
    out.classes = sorted(by_class.values(), key=lambda r: (-r["total"], r["class"]))
    heads = found[3:]
    for k, name in enumerate(_HEADLINE):
        every, examples = (int(rows[0][0] or 0) if rows else 0 for rows in heads[2 * k:2 * k + 2])
        out.counts[name] = {"real": every - examples, "example": examples}
    return out


def _classes_and_headline(store: StoreAPI, ours: list[str]) -> list[list[tuple[str | None, ...]]]:
    """The rows of the labels, of the nodes per graph and class, of the example nodes of the graphs other than the
    example one, and of each headline's nodes and example nodes.

    Example data: the example graph's nodes, and those flagged dcpa:isSynthetic in another graph of instance data
    (each record's triples live in one graph). Why not look the flag up for every node: that join took 7.6 s of
    the class table and 8.4 s of the headline counts at national scale (128,000 villages), against 0.9 s and
    1-2 s for the nodes typed in each graph, and the flags looked up in the graphs other than the example one.
    """
    others = [g for g in ours if graph_kind(g) not in ("synthetic", "derived", "ontology")]
    flagged_in = f"VALUES ?g {{ {iri_values(others)} }} GRAPH ?g {{ ?s a ?c ; dcpa:isSynthetic true }}"
    example = f"{{ GRAPH <{GRAPH_SYNTHETIC}> {{ ?s a ?c }} }}" + (f" UNION {{ {flagged_in} }}" if others else "")
    jobs = [_LABEL_QUERY, _CLASS_QUERY, f"SELECT ?g ?c (COUNT(?s) AS ?n) WHERE {{ {flagged_in} }} GROUP BY ?g ?c"]
    for classes, extra in _HEADLINE.values():
        jobs += [f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?c {{ {classes} }} ?s a ?c . {extra} }}",
                 f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?c {{ {classes} }} {example} {extra} }}"]
    # with no graph to look flags up in, no query for them (an empty VALUES list is not read alike by every store)
    found = run_parallel(store, [(q, {}) for k, q in enumerate(jobs) if others or k != 2])
    return found if others else [*found[:2], [], *found[2:]]
