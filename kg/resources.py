"""Where the project's own files live (ontology, queries, reference data).

Everything the code reads at run time is inside the ``kg`` package (and so in its wheel): nothing is
read from outside it and nothing is fetched from the network.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import rdflib

from .namespaces import PREFIXES

#: The package's own files, found through importlib.resources, so that an installed wheel has them
#: (a wheel installs as plain files: the traversable is a directory on disk). In a source checkout the
#: top-level ``ontology/`` and ``queries/`` are links to these.
PACKAGE = Path(str(resources.files("kg")))
ROOT = PACKAGE.parent
ONTOLOGY_DIR = PACKAGE / "ontology"
QUERIES_DIR = PACKAGE / "queries"
DATA_DIR = PACKAGE / "data"

ONTOLOGY_FILE = ONTOLOGY_DIR / "dcpa.ttl"
VOCAB_FILE = ONTOLOGY_DIR / "vocab.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"


def _bind(g: rdflib.Graph) -> rdflib.Graph:
    for p, ns in PREFIXES.items():
        g.bind(p, ns, override=True)
    return g


@lru_cache(maxsize=1)
def _ontology_cached() -> rdflib.Graph:
    g = _bind(rdflib.Graph())
    g.parse(ONTOLOGY_FILE, format="turtle")
    g.parse(VOCAB_FILE, format="turtle")
    return g


def shared_ontology_graph() -> rdflib.Graph:
    """The ontology and its SKOS schemes, read once per process (shared, do not modify)."""
    return _ontology_cached()


def ontology_graph() -> rdflib.Graph:
    """The ontology and its SKOS schemes as one rdflib graph (a fresh copy)."""
    g = _bind(rdflib.Graph())
    for t in _ontology_cached():
        g.add(t)
    return g


@lru_cache(maxsize=1)
def _shapes_cached() -> rdflib.Graph:
    g = _bind(rdflib.Graph())
    g.parse(SHAPES_FILE, format="turtle")
    return g


def shapes_graph() -> rdflib.Graph:
    """The SHACL shapes graph (shared, do not modify)."""
    return _shapes_cached()
