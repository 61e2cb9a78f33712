"""What a replacement drops: the old version of a record, in every graph but the replacement's own.

Its own module because two steps run it: the replacement's request (``kg.importer.replace``) and the
journal's recovery of a replacement cut short after its new version landed (``kg.importer.journal``).
"""

from __future__ import annotations

from rdflib import URIRef

from ..namespaces import DCPA, GRAPH_DERIVED
from .mapping import quote_iri


def superseded_ops(iri: URIRef | str, graph: str) -> list[str]:
    """The update operations dropping what every graph but ``graph`` (the replacement's) says about the
    record ``iri``: its parts (personnel by role) first, while the record still points at them, its quote,
    then the record itself. Not its derived facts: the write's refresh replaces them (their digest tells it
    what changed), and recovery may run this again after that refresh."""
    keep = f"FILTER(?g != <{graph}> && ?g != <{GRAPH_DERIVED}>)"
    parts = f"<{iri}> <{DCPA.personnelInput}> ?part . ?part ?pp ?po"
    return [f"DELETE {{ GRAPH ?g {{ {pattern} }} }} WHERE {{ GRAPH ?g {{ {pattern} }} {keep} }}"
            for pattern in (parts, f"<{quote_iri(iri)}> ?p ?o", f"<{iri}> ?p ?o")]
