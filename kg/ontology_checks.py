"""Automated pitfall checks of the ontology, in the spirit of OOPS! and ``robot report``.

Each check is a plain function ``graph -> list[Finding]`` registered in :data:`CHECKS`, so the CLI, the
tests and any other caller run the same list. Severities: ``error`` (must be fixed: the ontology is
wrong or misleading), ``warning`` (should be looked at), ``info``. ``dcpa ontology check`` exits 1 on
any error.

The checks look at the terms of our own namespaces (``dcpa:`` classes and properties, ``dcpav:``
concepts and schemes); referenced external terms (PROV, SKOS, schema.org…) are only declared, and are
not judged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from .namespaces import DCPA, DCPAV, VANN
from .resources import ontology_graph

ERROR, WARNING, INFO = "error", "warning", "info"
LANGS = ("zh", "en")

_PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
_UPPER_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LOWER_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class Finding:
    """One problem found in the ontology."""

    code: str
    severity: str
    term: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _own(term: object) -> bool:
    return isinstance(term, URIRef) and (str(term).startswith(str(DCPA)) or str(term).startswith(str(DCPAV)))


def _dcpa(term: object) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(str(DCPA))


def _local(term: URIRef) -> str:
    s = str(term)
    return s.rsplit("#", 1)[-1] if "#" in s else s.rsplit("/", 1)[-1]


def _short(term: object) -> str:
    s = str(term)
    for prefix, ns in (("dcpa:", str(DCPA)), ("dcpav:", str(DCPAV))):
        if s.startswith(ns):
            return prefix + s[len(ns) :]
    return s


def classes(g: rdflib.Graph) -> list[Any]:
    """Our own classes (``dcpa:`` IRIs typed ``owl:Class``)."""
    return sorted(c for c in g.subjects(RDF.type, OWL.Class) if _dcpa(c))


def properties(g: rdflib.Graph) -> list[Any]:
    """Our own object and datatype properties."""
    out = {p for t in (OWL.ObjectProperty, OWL.DatatypeProperty) for p in g.subjects(RDF.type, t) if _dcpa(p)}
    return sorted(out)


def concepts(g: rdflib.Graph) -> list[Any]:
    """SKOS concepts of our vocabularies (anything typed skos:Concept or a subclass of it)."""
    concept_classes = {SKOS.Concept} | set(g.transitive_subjects(RDFS.subClassOf, SKOS.Concept))
    out = {c for cc in concept_classes for c in g.subjects(RDF.type, cc) if _own(c)}
    out |= {c for c in g.subjects(SKOS.inScheme, None) if _own(c)}
    return sorted(out)


def schemes(g: rdflib.Graph) -> list[Any]:
    return sorted(s for s in g.subjects(RDF.type, SKOS.ConceptScheme) if _own(s))


def _class_expressions(g: rdflib.Graph, node: object) -> Iterable[URIRef]:
    """Named classes inside a class expression (unions, intersections, restrictions)."""
    if isinstance(node, URIRef):
        yield node
        return
    if not isinstance(node, BNode):
        return
    for p in (OWL.unionOf, OWL.intersectionOf):
        for lst in g.objects(node, p):
            for member in Collection(g, lst):
                yield from _class_expressions(g, member)
    for p in (OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass, OWL.complementOf):
        for o in g.objects(node, p):
            yield from _class_expressions(g, o)


# ---------------------------------------------------------------------------
# Ontology-level checks
# ---------------------------------------------------------------------------


def check_ontology_metadata(g: rdflib.Graph) -> list[Finding]:
    """Exactly one owl:Ontology with title, description, license, creator, dates, version IRI and prefix."""
    onts = list(g.subjects(RDF.type, OWL.Ontology))
    if len(onts) != 1:
        return [Finding("ontology_count", ERROR, "", f"expected exactly one owl:Ontology, found {len(onts)}")]
    o = onts[0]
    out = []
    required = {
        DCTERMS.title: "title",
        DCTERMS.description: "description",
        DCTERMS.license: "license",
        DCTERMS.creator: "creator",
        DCTERMS.created: "created date",
        DCTERMS.modified: "modified date",
        OWL.versionInfo: "version info",
        OWL.versionIRI: "version IRI",
        VANN.preferredNamespacePrefix: "preferred namespace prefix",
        VANN.preferredNamespaceUri: "preferred namespace URI",
    }
    for p, name in required.items():
        if g.value(o, p) is None:
            code = "missing_license" if p == DCTERMS.license else "missing_metadata"
            out.append(Finding(code, ERROR, str(o), f"the ontology has no {name} ({g.qname(p)})"))
    version_iri = g.value(o, OWL.versionIRI)
    if version_iri is not None and version_iri == o:
        out.append(Finding("version_iri", ERROR, str(o), "owl:versionIRI must differ from the ontology IRI"))
    for p in (DCTERMS.title, DCTERMS.description):
        langs = {lit.language for lit in g.objects(o, p) if isinstance(lit, Literal)}
        for lang in LANGS:
            if g.value(o, p) is not None and lang not in langs:
                out.append(Finding("missing_metadata", WARNING, str(o), f"{g.qname(p)} has no @{lang} value"))
    return out


# ---------------------------------------------------------------------------
# Class and property checks (OOPS! / ROBOT report)
# ---------------------------------------------------------------------------


def check_unconnected_classes(g: rdflib.Graph) -> list[Finding]:
    """OOPS! P04: a class related to nothing (no superclass, subclass, domain, range or axiom)."""
    used: set[object] = set()
    for p in (RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith):
        for s, o in g.subject_objects(p):
            if isinstance(o, URIRef) and o != OWL.Thing:
                used.add(s)
            used.update(_class_expressions(g, o))
            if p != RDFS.subClassOf:
                used.add(s)
    for p in (RDFS.domain, RDFS.range, OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass):
        for o in g.objects(None, p):
            used.update(_class_expressions(g, o))
    for lst in g.objects(None, OWL.members):
        used.update(Collection(g, lst))
    used.update(o for o in g.objects(None, RDF.type) if _dcpa(o))
    return [
        Finding("unconnected_class", ERROR, str(c), f"{_short(c)} is not connected to any other term")
        for c in classes(g)
        if c not in used
    ]


def check_domain_range(g: rdflib.Graph) -> list[Finding]:
    """Every property has exactly one rdfs:domain and one rdfs:range (OOPS! P11; ROBOT multiple_*)."""
    out = []
    for p in properties(g):
        for rel, name in ((RDFS.domain, "domain"), (RDFS.range, "range")):
            values = list(g.objects(p, rel))
            if not values:
                out.append(Finding(f"missing_{name}", ERROR, str(p), f"{_short(p)} has no rdfs:{name}"))
            elif len(values) > 1:
                out.append(
                    Finding(
                        f"multiple_{name}s",
                        ERROR,
                        str(p),
                        f"{_short(p)} has {len(values)} rdfs:{name} values (their intersection applies; "
                        f"use one owl:unionOf class if a union is meant)",
                    )
                )
        if (p, RDF.type, OWL.ObjectProperty) in g:
            rng = g.value(p, RDFS.range)
            if rng is not None and ((rng, RDF.type, RDFS.Datatype) in g or str(rng).startswith(str(XSD))):
                out.append(Finding("range_kind", ERROR, str(p), f"object property {_short(p)} has a datatype range"))
        if (p, RDF.type, OWL.DatatypeProperty) in g:
            rng = g.value(p, RDFS.range)
            if rng is not None and (rng, RDF.type, OWL.Class) in g:
                out.append(Finding("range_kind", ERROR, str(p), f"datatype property {_short(p)} has a class range"))
    return out


def check_naming(g: rdflib.Graph) -> list[Finding]:
    """Classes in UpperCamelCase, properties in lowerCamelCase (OOPS! P22)."""
    out = []
    for c in classes(g):
        if not _UPPER_CAMEL.match(_local(c)):
            out.append(Finding("class_naming", ERROR, str(c), f"class name {_local(c)!r} is not UpperCamelCase"))
    for p in properties(g):
        if not _LOWER_CAMEL.match(_local(p)):
            out.append(Finding("property_naming", ERROR, str(p), f"property name {_local(p)!r} is not lowerCamelCase"))
    return out


def check_untyped_terms(g: rdflib.Graph) -> list[Finding]:
    """A dcpa: IRI used as a class or property but not declared as one (OOPS! P34/P35)."""
    declared_classes = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, RDFS.Datatype))
    declared_props = {p for t in _PROPERTY_TYPES for p in g.subjects(RDF.type, t)}
    used_as_class: set[object] = set()
    for p in (RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith):
        for s, o in g.subject_objects(p):
            used_as_class.add(s)
            used_as_class.update(_class_expressions(g, o))
    for p in (RDFS.domain, RDFS.range):
        for o in g.objects(None, p):
            used_as_class.update(_class_expressions(g, o))
    for lst in g.objects(None, OWL.members):
        used_as_class.update(Collection(g, lst))
    used_as_class.update(g.objects(None, RDF.type))
    used_as_prop = set(g.predicates()) | set(g.subjects(RDFS.subPropertyOf)) | set(g.objects(None, RDFS.subPropertyOf))
    used_as_prop |= set(g.objects(None, OWL.onProperty))
    out = []
    for c in sorted(str(t) for t in used_as_class if _dcpa(t) and t not in declared_classes):
        out.append(
            Finding("untyped_class", ERROR, str(c), f"{_short(c)} is used as a class but not declared owl:Class")
        )
    for prop in sorted(str(t) for t in used_as_prop if _dcpa(t) and t not in declared_props):
        out.append(
            Finding("untyped_property", ERROR, prop, f"{_short(prop)} is used as a property but not declared as one")
        )
    return out


def _label_property(g: rdflib.Graph, term: URIRef) -> URIRef:
    return SKOS.prefLabel if term in set(concepts(g)) | set(schemes(g)) else RDFS.label


def check_labels(g: rdflib.Graph) -> list[Finding]:
    """Exactly one label and one definition per language in {zh, en}; no untagged label (OOPS! P08)."""
    out = []
    concept_set = set(concepts(g)) | set(schemes(g))
    for term in [*classes(g), *properties(g), *sorted(concept_set)]:
        label_p = SKOS.prefLabel if term in concept_set else RDFS.label
        for p, what in ((label_p, "label"), (SKOS.definition, "definition")):
            values = [v for v in g.objects(term, p) if isinstance(v, Literal)]
            for v in values:
                if not v.language:
                    out.append(Finding(f"untagged_{what}", ERROR, str(term), f"{_short(term)} has an untagged {what}"))
            for lang in LANGS:
                n = sum(1 for v in values if v.language == lang)
                if n != 1:
                    out.append(
                        Finding(
                            f"{what}_count",
                            ERROR,
                            str(term),
                            f"{_short(term)} has {n} {what}s in @{lang} (exactly one expected)",
                        )
                    )
    return out


def check_duplicate_labels(g: rdflib.Graph) -> list[Finding]:
    """Two classes, or two properties, sharing a label in one language (OOPS! P32; ROBOT duplicate_label).

    A class and a property may share a label ("需求类型" names the class dcpa:NeedType and the
    property dcpa:needType): their roles tell them apart. Concepts are checked per scheme in the SKOS checks.
    """
    out = []
    for kind, terms in (("class", classes(g)), ("property", properties(g))):
        seen: dict[tuple[str | None, str], list[URIRef]] = defaultdict(list)
        for t in terms:
            for v in g.objects(t, RDFS.label):
                if isinstance(v, Literal):
                    seen[(v.language, str(v).strip().casefold())].append(t)
        for (lang, label), ts in sorted(seen.items(), key=lambda kv: str(kv[0])):
            if len(ts) > 1:
                names = ", ".join(_short(t) for t in ts)
                out.append(
                    Finding("duplicate_label", ERROR, str(ts[0]), f"{kind} label {label!r}@{lang} is shared by {names}")
                )
    return out


def _disjoint_pairs(g: rdflib.Graph) -> set[frozenset[object]]:
    pairs: set[frozenset[object]] = set()
    for a, b in g.subject_objects(OWL.disjointWith):
        pairs.add(frozenset((a, b)))
    for axiom in g.subjects(RDF.type, OWL.AllDisjointClasses):
        for lst in g.objects(axiom, OWL.members):
            members = list(Collection(g, lst))
            pairs.update(frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1 :])
    return pairs


def check_sibling_disjointness(g: rdflib.Graph) -> list[Finding]:
    """Sibling dcpa: classes (same direct superclass) should be declared disjoint (OOPS! P10).

    Disjointness inherited from disjoint ancestors counts.
    """
    pairs = _disjoint_pairs(g)

    def ancestors(c: Any) -> set[Any]:
        return set(g.transitive_objects(c, RDFS.subClassOf))

    def disjoint(a: Any, b: Any) -> bool:
        return any(frozenset((x, y)) in pairs for x in ancestors(a) for y in ancestors(b))

    children: dict[Any, list[Any]] = defaultdict(list)
    for c in classes(g):
        for sup in g.objects(c, RDFS.subClassOf):
            if isinstance(sup, URIRef):
                children[sup].append(c)
    out = []
    for sup, subs in sorted(children.items(), key=lambda kv: str(kv[0])):
        for i, a in enumerate(subs):
            for b in subs[i + 1 :]:
                if not disjoint(a, b):
                    out.append(
                        Finding(
                            "missing_disjointness",
                            ERROR,
                            str(a),
                            f"sibling classes {_short(a)} and {_short(b)} (under {_short(sup)}) are not disjoint",
                        )
                    )
    return out


# ---------------------------------------------------------------------------
# SKOS integrity
# ---------------------------------------------------------------------------


def check_skos(g: rdflib.Graph) -> list[Finding]:
    """SKOS integrity: schemes, top concepts, broader cycles, notations, label clashes."""
    out = []
    all_schemes = set(schemes(g))
    tops_of: dict[object, set[object]] = defaultdict(set)
    for c, s in g.subject_objects(SKOS.topConceptOf):
        tops_of[s].add(c)
    for s, c in g.subject_objects(SKOS.hasTopConcept):
        tops_of[s].add(c)
    for s in sorted(all_schemes):
        if not tops_of[s]:
            out.append(Finding("scheme_without_top_concepts", ERROR, str(s), f"scheme {_short(s)} has no top concept"))
    for c in concepts(g):
        in_schemes = set(g.objects(c, SKOS.inScheme))
        if not in_schemes:
            out.append(Finding("concept_without_scheme", ERROR, str(c), f"{_short(c)} is in no concept scheme"))
        for s in set(g.objects(c, SKOS.topConceptOf)) - in_schemes:
            out.append(
                Finding("top_concept_not_in_scheme", ERROR, str(c), f"{_short(c)} is top of {_short(s)} but not in it")
            )
        is_top = any(c in tops_of[s] for s in tops_of)
        broader = list(g.objects(c, SKOS.broader))
        if is_top and broader:
            out.append(
                Finding("top_concept_with_broader", ERROR, str(c), f"top concept {_short(c)} has a broader concept")
            )
        if not is_top and not broader:
            out.append(
                Finding("orphan_concept", ERROR, str(c), f"{_short(c)} is neither a top concept nor has a broader one")
            )
        for b in broader:
            if not set(g.objects(b, SKOS.inScheme)) & in_schemes:
                out.append(
                    Finding(
                        "broader_across_schemes",
                        WARNING,
                        str(c),
                        f"{_short(c)} and its broader {_short(b)} share no scheme",
                    )
                )
        if c in set(g.transitive_objects(c, SKOS.broader)) - {c} or any(
            c in set(g.transitive_objects(b, SKOS.broader)) for b in broader
        ):
            out.append(Finding("broader_cycle", ERROR, str(c), f"{_short(c)} is its own broader concept (a cycle)"))
        if not list(g.objects(c, SKOS.notation)):
            out.append(Finding("missing_notation", ERROR, str(c), f"{_short(c)} has no skos:notation"))
        for lang in LANGS:
            prefs = {str(v) for v in g.objects(c, SKOS.prefLabel) if isinstance(v, Literal) and v.language == lang}
            alt = {str(v) for v in g.objects(c, SKOS.altLabel) if isinstance(v, Literal) and v.language == lang}
            if prefs & alt:
                out.append(
                    Finding(
                        "pref_alt_clash",
                        ERROR,
                        str(c),
                        f"{_short(c)} has {sorted(prefs & alt)} as both prefLabel and altLabel @{lang}",
                    )
                )
            if len(prefs) > 1:
                out.append(
                    Finding("multiple_preflabels", ERROR, str(c), f"{_short(c)} has {len(prefs)} prefLabels @{lang}")
                )
    # notations and prefLabels unique per scheme
    for s in sorted(all_schemes):
        members = sorted(set(g.subjects(SKOS.inScheme, s)), key=str)
        notation: dict[str, list[object]] = defaultdict(list)
        pref: dict[tuple[str | None, str], list[object]] = defaultdict(list)
        for c in members:
            for nt in g.objects(c, SKOS.notation):
                notation[str(nt)].append(c)
            for v in g.objects(c, SKOS.prefLabel):
                if isinstance(v, Literal):
                    pref[(v.language, str(v))].append(c)
        for n, cs in sorted(notation.items()):
            if len(cs) > 1:
                out.append(
                    Finding(
                        "duplicate_notation",
                        ERROR,
                        str(cs[0]),
                        f"notation {n!r} is used {len(cs)} times in {_short(s)}",
                    )
                )
        for (plang, label), cs in sorted(pref.items(), key=lambda kv: str(kv[0])):
            if len(cs) > 1:
                out.append(
                    Finding(
                        "duplicate_preflabel",
                        ERROR,
                        str(cs[0]),
                        f"prefLabel {label!r}@{plang} is used {len(cs)} times in {_short(s)}",
                    )
                )
    return out


def check_individual_cycles(g: rdflib.Graph) -> list[Finding]:
    """No cycle of object links among owl:NamedIndividuals (e.g. stating both broader and narrower).

    pySHACL's ontology mixing (``ont_graph=``) deep-copies every named individual along its links to a
    depth of ten; a cycle makes that exponential, so SHACL validation would not finish.
    """
    individuals = set(g.subjects(RDF.type, OWL.NamedIndividual))
    edges: dict[object, set[object]] = defaultdict(set)
    for s in individuals:
        for p, o in g.predicate_objects(s):
            if p != RDF.type and isinstance(o, URIRef) and o in individuals and o != s:
                edges[s].add(o)
    out = []
    state: dict[object, int] = {}

    def visit(n: object, path: list[object]) -> None:
        state[n] = 1
        for m in sorted(edges[n], key=str):
            if state.get(m) == 1:
                cycle = path[path.index(m) :] + [m] if m in path else [n, m]
                out.append(
                    Finding(
                        "individual_cycle",
                        ERROR,
                        str(m),
                        "named individuals link in a cycle: " + " → ".join(_short(x) for x in cycle),
                    )
                )
            elif m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(individuals, key=str):
        if n not in state:
            visit(n, [n])
    return out


#: Every check, by name, in the order they are reported.
CHECKS: dict[str, Callable[[rdflib.Graph], list[Finding]]] = {
    "metadata": check_ontology_metadata,
    "unconnected": check_unconnected_classes,
    "domain_range": check_domain_range,
    "naming": check_naming,
    "untyped": check_untyped_terms,
    "labels": check_labels,
    "duplicate_labels": check_duplicate_labels,
    "disjointness": check_sibling_disjointness,
    "skos": check_skos,
    "individual_cycles": check_individual_cycles,
}


def run_checks(graph: rdflib.Graph | None = None, only: Iterable[str] | None = None) -> list[Finding]:
    """Run the pitfall checks (all, or those named in ``only``) on ``graph`` (default: our ontology)."""
    g = graph if graph is not None else ontology_graph()
    names = list(only) if only is not None else list(CHECKS)
    findings: list[Finding] = []
    for name in names:
        findings.extend(CHECKS[name](g))
    return findings


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


__all__ = ["CHECKS", "ERROR", "Finding", "INFO", "WARNING", "concepts", "errors", "run_checks", "schemes"]
