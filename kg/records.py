"""Records: policies, programmes, libraries, resources, interventions and evaluations, as plain dicts.

One page of records of a kind, or one record, each with its id, IRI, types, labels, example flag and
every property (local names of the ontology terms). The API pages and formats these; it builds no
SPARQL of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import rdflib

from .answers.basis import Basis, basis, example_nodes
from .answers.labels import local_name
from .contract import StoreAPI
from .errors import NotFound
from .facts import iri_values
from .namespaces import DCPA, GRAPH_SYNTHETIC, ID, PREFIXES, node
from .search import normalise, searchable

SYNTHETIC = str(DCPA.isSynthetic)
#: The columns of a record table before its properties, each from a fixed field of the record.
FIXED_COLUMNS = ("id", "iri", "label_zh", "label_en", "synthetic", "types")
#: What the fixed fields are read from: never among a record's properties.
_FIXED_PREDICATES = frozenset({str(rdflib.RDF.type), str(rdflib.RDFS.label), SYNTHETIC})


@dataclass(frozen=True)
class RecordKind:
    path: str  # URL segment and CLI name, e.g. "policies"
    kind: str  # IRI segment, e.g. "policy"
    root: str  # root class, e.g. "dcpa:Policy"
    title: str


RECORD_KINDS: dict[str, RecordKind] = {
    k.path: k
    for k in (
        RecordKind("policies", "policy", "dcpa:Policy", "Policies / 政策"),
        RecordKind("programmes", "programme", "dcpa:Programme", "Programmes / 工程项目"),
        RecordKind("libraries", "library", "dcpa:Library", "Libraries / 图书馆"),
        RecordKind("resources", "resource", "dcpa:LibraryResource", "Library resources / 图书馆资源"),
        RecordKind("interventions", "intervention", "dcpa:Intervention", "Interventions / 帮扶项目"),
        RecordKind("evaluations", "evaluation", "dcpa:Evaluation", "Evaluations / 效果评估"),
    )
}


def key_of(iri: str, kind: str) -> str:
    """The id of a data node under ``id:{kind}/`` (its IRI otherwise)."""
    prefix = f"{ID}{kind}/"
    return iri[len(prefix):] if iri.startswith(prefix) else iri


def _expand(curie: str) -> str:
    p, _, local = curie.partition(":")
    return PREFIXES[p] + local


def classes(store: StoreAPI, root: str) -> list[str]:
    """A root class and its subclasses (from the ontology in the store)."""
    rows = store.select(f"SELECT DISTINCT ?c WHERE {{ ?c rdfs:subClassOf* {root} }}")
    iris = {r["c"] for r in rows if isinstance(r.get("c"), str) and not r["c"].startswith("_:")}
    iris.add(_expand(root))
    return sorted(iris)


@dataclass
class RecordPage:
    total: int
    items: list[dict[str, Any]]
    basis: Basis


@dataclass(frozen=True)
class RecordIndex:
    """Every record of a kind, in IRI order: its labels as search compares them, and whether it is example data.

    Why: a page of a record list read every record of the kind and sorted it, and a search (``q``) every label,
    on each request: at national scale (59,793 interventions, through the server) 0.4-0.6 s a page, 1.0-1.6 s a
    search. The server keeps the index until the next write (``api.kept``), and a page is then the index's slice
    and its records described (40-90 ms). The labels are read only for a search: the records and their flags take
    0.4-0.7 s to read, their labels 1.5-2.5 s more (two a record, each a lookup).
    """

    kind: str
    iris: tuple[str, ...]
    example: tuple[bool, ...]
    texts: tuple[str, ...] | None = None  # the labels as search compares them (kg.search.searchable), one a line

    def select(self, q: str | None = None, real_only: bool = False) -> list[str]:
        """The IRIs (in order) whose labels hold every word of ``q`` (any case, full or half width), real ones
        alone with ``real_only``."""
        terms = record_terms(q)
        if not terms:
            return [iri for iri, ex in zip(self.iris, self.example, strict=True) if not (real_only and ex)]
        if self.texts is None:
            raise ValueError("this index was read without labels: read it with labels=True to search")
        return [iri for iri, text, ex in zip(self.iris, self.texts, self.example, strict=True)
                if not (real_only and ex) and all(t in text for t in terms)]


def record_terms(q: str | None) -> list[str]:
    """The words a record's labels must hold (none: every record; only then are the labels not needed)."""
    return normalise(q) if q else []


def record_index(store: StoreAPI, kind: RecordKind, *, labels: bool = True) -> RecordIndex:
    """Read the index of a kind: one pass over its typed records with their graphs (and labels, to search).

    Example data: a record of the example graph, or one flagged ``dcpa:isSynthetic`` in another graph (each
    record lives in one graph; the flags of the few records elsewhere are looked up, as ``kg.stats`` does).
    """
    rows = store.query(f"SELECT ?s ?g ?l WHERE {{ VALUES ?c {{ {iri_values(classes(store, kind.root))} }} "
                       f"GRAPH ?g {{ ?s a ?c }} {'OPTIONAL { ?s rdfs:label ?l }' if labels else ''} }}")
    found: dict[str, set[str]] = {}
    elsewhere: set[str] = set()
    for sol in rows:
        s = sol["s"]
        if not isinstance(s, ox.NamedNode):
            continue
        texts = found.setdefault(s.value, set())
        if labels and sol["l"] is not None:
            texts.add(searchable(sol["l"].value))
        if sol["g"].value != str(GRAPH_SYNTHETIC):
            elsewhere.add(s.value)
    flagged = example_nodes(store, elsewhere)
    iris = tuple(sorted(found))
    return RecordIndex(kind.path, iris, tuple(i not in elsewhere or i in flagged for i in iris),
                       tuple("\n".join(sorted(found[i])) for i in iris) if labels else None)


def record_page(total: int, items: list[dict[str, Any]], kind: RecordKind, *, real_only: bool = False) -> RecordPage:
    """A page of described records, with its data basis."""
    return RecordPage(total, items, basis([r["synthetic"] for r in items], real_only=real_only, what_zh="条记录",
                                          what_en=f"records ({kind.path})"))


def list_records(store: StoreAPI, kind: RecordKind, *, q: str | None = None, limit: int = 50, offset: int = 0,
                 real_only: bool = False) -> RecordPage:
    """One page of records of a kind, in IRI order, each with all its properties (``q``: words of its labels)."""
    chosen = record_index(store, kind, labels=bool(record_terms(q))).select(q, real_only)
    return record_page(len(chosen), describe_records(store, chosen[int(offset):int(offset) + int(limit)], kind),
                       kind, real_only=real_only)


def describe_records(store: StoreAPI, iris: list[str], kind: RecordKind) -> list[dict[str, Any]]:
    """Records as dicts: id, IRI, types, labels, example flag and every property (local names)."""
    if not iris:
        return []
    rows = store.select(
        f"""SELECT ?s ?p ?o ?oLabel WHERE {{ VALUES ?s {{ {iri_values(iris)} }} ?s ?p ?o .
              OPTIONAL {{ ?o skos:prefLabel|rdfs:label ?oLabel
                          FILTER(isIRI(?o) && (langMatches(lang(?oLabel), 'zh') || lang(?oLabel) = '')) }} }}"""
    )
    recs: dict[str, dict[str, Any]] = {
        i: {"id": key_of(i, kind.kind), "iri": i, "types": [], "label_zh": None, "label_en": None,
            "synthetic": False, "properties": {}}
        for i in iris
    }
    seen: set[tuple[str, str, str]] = set()
    labels: dict[str, dict[str, str]] = {}
    for r in rows:
        rec = recs[r["s"]]
        p, o = r["p"], r["o"]
        if (r["s"], p, str(o)) in seen:
            continue
        seen.add((r["s"], p, str(o)))
        if p == str(rdflib.RDF.type):
            rec["types"].append(local_name(o))
        elif p == SYNTHETIC:
            rec["synthetic"] = bool(o)
        if p in _FIXED_PREDICATES:
            continue
        name = local_name(p)
        value: Any = o
        if isinstance(o, str) and o.startswith(("http://", "https://")):
            value = {"iri": o, "label": r.get("oLabel")}
        rec["properties"].setdefault(name, []).append(value)
    for sol in store.query(f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {iri_values(iris)} }} ?s rdfs:label ?l }}"):
        tag = (sol["l"].language or "").lower()
        slot = labels.setdefault(sol["s"].value, {})
        slot.setdefault("zh" if tag.startswith("zh") else "en" if tag.startswith("en") else "", sol["l"].value)
    for i, rec in recs.items():
        lab = labels.get(i, {})
        rec["label_zh"] = lab.get("zh") or lab.get("")
        rec["label_en"] = lab.get("en")
        rec["properties"] = {k: v[0] if len(v) == 1 else v for k, v in rec["properties"].items()}
    return [recs[i] for i in iris]


def get_record(store: StoreAPI, kind: RecordKind, key: str) -> dict[str, Any]:
    iri = node(kind.kind, key)
    if not store.ask(f"ASK {{ VALUES ?c {{ {iri_values(classes(store, kind.root))} }} "
                     f"VALUES ?s {{ {iri_values([iri])} }} ?s a ?c }}"):
        zh = kind.title.rsplit(" / ", 1)[-1]
        raise NotFound(f"没有编号为 {key!r} 的{zh} / no {kind.kind} with id {key!r}",
                       hint=f"/api/{kind.path} 列出全部{zh} / list them with /api/{kind.path}")
    return describe_records(store, [iri], kind)[0]


def records_graph(store: StoreAPI, iris: Iterable[str]) -> rdflib.Graph:
    """The triples about the records (for JSON-LD answers)."""
    g = rdflib.Graph()
    for p, ns in PREFIXES.items():
        g.bind(p, ns)
    iris = list(iris)
    if iris:
        g += store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {iri_values(iris)} }} ?s ?p ?o }}")
    return g


def record_columns(store: StoreAPI, kind: RecordKind) -> list[str]:
    """The header of a kind's record table: the fixed columns, then every property any record of the kind has
    (local names, alphabetical), whatever the page or filter, so that pages can be appended.

    Why from the store: a page's own properties made the header change from page to page (a library with
    ``branchOf`` on one, ``evidenceQuote`` on the next; ``sourceSheet`` only among real records). The ontology
    says what a record may have, not what it has: policies carry ``programmeCategory``, whose ``rdfs:domain`` is
    Programme, and ``prov:wasDerivedFrom`` is declared by no domain; a list from it would drop values. The
    importer's specs leave out the reference data's kinds and properties. One DISTINCT over the kind's triples
    (2-32 ms a kind for 373,444 triples), which the server keeps until the next write.
    """
    rows = store.select(f"SELECT DISTINCT ?p WHERE {{ VALUES ?c {{ {iri_values(classes(store, kind.root))} }} "
                        "?s a ?c ; ?p ?o }")
    names = {local_name(r["p"]) for r in rows if r["p"] not in _FIXED_PREDICATES}
    return [*FIXED_COLUMNS, *sorted(names - set(FIXED_COLUMNS))]


def record_table(recs: Iterable[dict[str, Any]], columns: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The records as flat rows under ``columns`` (``record_columns``), and the header: ``columns``, then any
    property they lack (one a write added since they were read), so that no value is ever left out."""
    rows = []
    for rec in recs:
        row: dict[str, Any] = {k: rec[k] for k in FIXED_COLUMNS}
        row.update((k, v) for k, v in rec["properties"].items() if k not in FIXED_COLUMNS)
        rows.append(row)
    known = set(columns)
    extra = list(dict.fromkeys(k for row in rows for k in row if k not in known))
    return [*columns, *extra], rows


__all__ = ["FIXED_COLUMNS", "RECORD_KINDS", "RecordIndex", "RecordKind", "RecordPage", "describe_records", "get_record",
           "key_of", "list_records", "record_columns", "record_index", "record_page", "record_table", "record_terms",
           "records_graph"]
