"""What the store holds: triples per named graph, instances per class, real versus synthetic.

Counting happens inside Oxigraph (SPARQL aggregates), so it stays fast at national scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .namespaces import (
    GRAPH_DERIVED,
    GRAPH_IMPORT_PREFIX,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_SYNTHETIC,
    PREFIXES,
)
from .store import Store

_GRAPH_QUERY = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_CLASS_QUERY = f"""
SELECT ?g ?class (COUNT(?s) AS ?n) WHERE {{
  GRAPH ?g {{ ?s a ?class }}
  FILTER(?g != <{GRAPH_ONTOLOGY}>)
}} GROUP BY ?g ?class
"""
_LABEL_QUERY = f"""
SELECT ?c ?zh ?en WHERE {{
  GRAPH <{GRAPH_ONTOLOGY}> {{
    ?c a <http://www.w3.org/2002/07/owl#Class> .
    OPTIONAL {{ ?c rdfs:label ?zh FILTER(langMatches(lang(?zh), "zh")) }}
    OPTIONAL {{ ?c rdfs:label ?en FILTER(langMatches(lang(?en), "en")) }}
  }}
}}
"""


def compact(iri: str) -> str:
    """``https://w3id.org/dcpa/ontology#Village`` → ``dcpa:Village`` (unchanged when no prefix fits)."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def graph_kind(graph: str) -> str:
    """ontology / reference / synthetic / import / derived / other."""
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
    return "other"


def graph_counts(store: Store) -> dict[str, int]:
    """Triples per named graph."""
    return {r["g"]: int(r["n"]) for r in store.select(_GRAPH_QUERY, union=False) if "g" in r}


@dataclass
class Stats:
    graphs: list[dict[str, Any]] = field(default_factory=list)
    classes: list[dict[str, Any]] = field(default_factory=list)
    triples: int = 0
    instance_triples: int = 0
    synthetic_triples: int = 0

    @property
    def synthetic_share(self) -> float:
        """Share of instance triples (everything but the ontology and the derived facts) that are synthetic."""
        return self.synthetic_triples / self.instance_triples if self.instance_triples else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "triples": self.triples,
            "instance_triples": self.instance_triples,
            "synthetic_triples": self.synthetic_triples,
            "real_triples": self.instance_triples - self.synthetic_triples,
            "synthetic_share": round(self.synthetic_share, 4),
        }


def stats(store: Store) -> Stats:
    """Counts by graph and by class (with zh/en labels), split into real and synthetic."""
    out = Stats()
    for g, n in sorted(graph_counts(store).items()):
        kind = graph_kind(g)
        out.graphs.append({"graph": g, "kind": kind, "triples": n})
        out.triples += n
        if kind not in ("ontology", "derived"):  # derived facts are computed from the others
            out.instance_triples += n
        if kind == "synthetic":
            out.synthetic_triples += n
    labels = {r["c"]: r for r in store.select(_LABEL_QUERY, union=False)}
    by_class: dict[str, dict[str, Any]] = {}
    for r in store.select(_CLASS_QUERY, union=False):
        c = r["class"]
        row = by_class.setdefault(
            c,
            {
                "class": compact(c),
                "label_zh": labels.get(c, {}).get("zh", ""),
                "label_en": labels.get(c, {}).get("en", ""),
                "total": 0,
                "real": 0,
                "synthetic": 0,
            },
        )
        n = int(r["n"])
        row["total"] += n
        row["synthetic" if graph_kind(r["g"]) == "synthetic" else "real"] += n
    out.classes = sorted(by_class.values(), key=lambda r: (-r["total"], r["class"]))
    return out
