"""RDF namespaces and the IRI scheme of the DCPA graph.

One place decides how every node is named, so that importers, the generator,
queries and the API agree on IRIs without talking to each other.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

DCPA = Namespace("https://w3id.org/dcpa/ontology#")
DCPAV = Namespace("https://w3id.org/dcpa/vocab/")
ID = Namespace("https://w3id.org/dcpa/id/")
GRAPH = Namespace("https://w3id.org/dcpa/graph/")
SCHEMA = Namespace("https://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VANN = Namespace("http://purl.org/vocab/vann/")
SH = Namespace("http://www.w3.org/ns/shacl#")

ONTOLOGY_IRI = "https://w3id.org/dcpa/ontology"

#: Named graphs of the store. Imports each get their own graph under ``import/``.
GRAPH_ONTOLOGY = GRAPH["ontology"]
GRAPH_REFERENCE = GRAPH["reference"]
GRAPH_SYNTHETIC = GRAPH["synthetic"]
#: Facts derived from the others (whether each need is addressed), kept current by ``kg.derived``.
GRAPH_DERIVED = GRAPH["derived"]
#: The activity that makes the derived graph, versioned: a store whose derived graph another version made
#: is treated as having none (v3 added the coverage summaries, v4 the class partitions, v5 the village gap
#: summaries and the areas' village counts, v6 holds only the needs identified by its day, v7 follows the rule's
#: version 3: a capacity's villages with real needs ranked by those alone, an evaluation read only with its result).
DERIVED_RULE = ID["activity/derive-addressed-v7"]
GRAPH_IMPORT_PREFIX = str(GRAPH) + "import/"
#: Each withdrawn import batch leaves its withdrawal record in a graph of its own under ``withdrawn/``.
GRAPH_WITHDRAWN_PREFIX = str(GRAPH) + "withdrawn/"
#: Each write in progress has a marker in a graph of its own under ``journal/`` (``kg.importer.journal``).
GRAPH_JOURNAL = str(GRAPH) + "journal/"
JOURNAL = Namespace("https://w3id.org/dcpa/journal#")

#: Prefixes used in every query, export and page.
PREFIXES: dict[str, str] = {
    "dcpa": str(DCPA),
    "dcpav": str(DCPAV),
    "id": str(ID),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "schema": str(SCHEMA),
    "org": str(ORG),
    "eli": str(ELI),
    "dcat": str(DCAT),
    "vann": str(VANN),
    "sh": str(SH),
}


def sparql_prefixes() -> str:
    """The PREFIX block shared by all generated queries."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def node(kind: str, key: str) -> str:
    """IRI of a data node, e.g. ``node("area", "210102001002")``.

    ``key`` is percent-encoded, so user-supplied identifiers cannot break the IRI.
    """
    return f"{ID}{kind}/{quote(str(key), safe='-_.~')}"


def area(code: str) -> str:
    """IRI of an administrative area from its official statistical code."""
    return node("area", code)


def import_graph(batch_id: str) -> str:
    """Named graph holding one import batch."""
    return GRAPH_IMPORT_PREFIX + quote(batch_id, safe="-_.~")


def batch_of(graph: str) -> str | None:
    """The batch id of an import batch's graph (``import_graph``'s inverse), None for any other graph."""
    return unquote(graph[len(GRAPH_IMPORT_PREFIX):]) if graph.startswith(GRAPH_IMPORT_PREFIX) else None


def withdrawal_graph(batch_id: str) -> str:
    """Named graph holding the withdrawal record of one import batch."""
    return GRAPH_WITHDRAWN_PREFIX + quote(batch_id, safe="-_.~")
