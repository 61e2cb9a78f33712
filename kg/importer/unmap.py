"""The imported records back as template rows: the inverse of ``kg.importer.mapping``.

A data steward exports what was imported (``dcpa export --format xlsx``), corrects or extends it in
the template's own layout and imports it again (into a fresh store, or record by record through
``replace``). Only records of import batches are written: reference data and synthetic example data
are not records anyone imported, and exporting the example data as rows would let it come back
looking like a steward's own. Every column is read through its spec (property, type, coded list),
so a column added to ``kg.importer.specs`` is exported without a change here; the few columns that
are not one property of the record (its class, its evidence, its quote) are read below.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS
from rdflib.term import Node

from ..contract import StoreAPI
from ..namespaces import DCPA, GRAPH_IMPORT_PREFIX, area
from .mapping import REF_CLASS, RESOURCE_CLASS, quote_iri
from .specs import RECORD_KINDS, Column, RecordSpec
from .vocab import CLASS_LISTS, Code, CodeList, code_lists

_AREA = area("")

#: The classes a record of each kind has (the class is how a stored record tells its kind).
KIND_CLASSES: dict[str, tuple[URIRef, ...]] = {
    "needs": (DCPA.Need,),
    "interviews": (DCPA.Interview,),
    "poverty_status": (DCPA.PovertyStatus,),
    "households": (DCPA.HouseholdAggregate,),
    "libraries": tuple(cls for _, cls, _ in CLASS_LISTS["library_types"]),
    "resources": (REF_CLASS["resources"], *RESOURCE_CLASS.values()),
    "interventions": (DCPA.Intervention,),
    "evaluations": (DCPA.Evaluation,),
    "policies": tuple(cls for _, cls, _ in CLASS_LISTS["policy_kinds"]),
}


def imported_graph(store: StoreAPI) -> rdflib.Graph:
    """Every triple of every import batch still in the store (withdrawn batches are gone).

    Graph by graph: a pattern over every graph filtered by its name read every quad of the store (the
    records workbook of a national store took 43 s for a handful of records)."""
    g = rdflib.Graph()
    for name in store.graphs():
        if name.startswith(GRAPH_IMPORT_PREFIX):
            for t in store.triples(name):
                g.add(t)
    return g


def export_rows(store: StoreAPI, kinds: Iterable[str] | None = None,
                lists: dict[str, CodeList] | None = None) -> dict[str, list[dict[str, str]]]:
    """The imported records of each kind as rows of cells keyed by column key, as the template writes them.

    Rows are ordered by the record's identifying values, so two exports of the same data are equal.
    """
    g = imported_graph(store)
    lists = lists or code_lists()
    by_term = {name: {c.term: c for c in cl.codes} for name, cl in lists.items()}
    out: dict[str, list[dict[str, str]]] = {}
    for kind in kinds or RECORD_KINDS:
        spec = RECORD_KINDS[kind]
        records = {r for cls in KIND_CLASSES[kind] for r in g.subjects(RDF.type, cls)
                   if isinstance(r, URIRef) and (r, DCPA.sourceSheet, None) in g}
        rows = [_row(g, spec, r, by_term) for r in records]
        rows.sort(key=lambda row: tuple(row.get(k, "") for k in spec.identity))
        out[kind] = rows
    return out


def _row(g: rdflib.Graph, spec: RecordSpec, rec: URIRef, by_term: dict[str, dict[Any, Code]]) -> dict[str, str]:
    # what the record derives from, read once for the columns that need it: an interview record it names, or
    # the evidence node of its `source` column (or the imported file)
    evidence = g.value(rec, PROV.wasDerivedFrom)
    interview = evidence if (evidence, DCPA.sourceSheet, None) in g and (evidence, RDF.type, DCPA.Interview) in g \
        else None
    row: dict[str, str] = {}
    for col in spec.columns:
        if col.type == "id":
            value = _last(rec)
        elif col.prop is None:
            value = _special(g, spec, col, rec, evidence, interview, by_term)
        else:
            value = _cell(g, col, rec, by_term)
        if value:
            row[col.key] = value
    return row


def _last(iri: object) -> str:
    return unquote(str(iri).rsplit("/", 1)[-1])


def _code(by_term: dict[str, dict[Any, Code]], col: Column, term: object, short: bool = False) -> str:
    """A coded value as the template's drop-down writes it (``N22 电子商务技能``), or its bare code."""
    code = by_term[col.codes or ""].get(term)
    return "" if code is None else code.code if short else code.display


def _cell(g: rdflib.Graph, col: Column, rec: URIRef, by_term: dict[str, dict[Any, Code]]) -> str:
    """A column that is one property of the record."""
    assert col.prop is not None
    objects = list(g.objects(rec, col.prop))
    if col.type in ("label_zh", "label_en"):
        lang = col.type[-2:]
        return next((str(o) for o in objects if isinstance(o, Literal) and o.language == lang), "")
    if col.type in ("village", "area", "areas"):
        values = sorted(str(o)[len(_AREA):] for o in objects if str(o).startswith(_AREA))
    elif col.type in ("ref", "refs"):
        values = sorted(_last(o) for o in objects)
    elif col.type in ("code", "codes"):
        values = sorted(c for c in (_code(by_term, col, o) for o in objects) if c)
    elif col.type == "role_counts":
        values = sorted(f"{_code(by_term, col, g.value(part, DCPA.personnelRole), short=True)}:"
                        f"{g.value(part, DCPA.personCount)}"
                        for part in objects)
    else:
        values = sorted(str(o) for o in objects if isinstance(o, Literal))
    return ";".join(values)


def _special(g: rdflib.Graph, spec: RecordSpec, col: Column, rec: URIRef, evidence: Node | None, interview: Node | None,
             by_term: dict[str, dict[Any, Code]]) -> str:
    """The columns that are not one property of the record."""
    if col.key in ("library_type", "kind"):  # the record's class
        return next((c for c in (_code(by_term, col, t) for t in g.objects(rec, RDF.type)) if c), "")
    if col.key == "area_code":  # a poverty status hangs on its area
        holder = g.value(None, DCPA.povertyStatus, rec)
        return str(holder)[len(_AREA):] if holder is not None else ""
    if col.key == "interview":
        return _last(interview) if interview is not None else ""
    if col.key == "quote":
        text = g.value(quote_iri(rec), DCPA.quoteText)
        return str(text) if text is not None else ""
    if col.key in ("source", "source_title"):
        if evidence is None or (evidence, RDF.type, DCPA.ImportedFile) in g:
            return ""
        code = next((by_term["source_kinds"][t] for t in g.objects(evidence, RDF.type) if t in by_term["source_kinds"]),
                    None)
        if code is None:
            return ""
        if col.key == "source":
            return code.display
        return "" if interview is not None else _title(g, evidence, code)
    raise AssertionError(f"no export rule for column {spec.kind}.{col.key}")


def _title(g: rdflib.Graph, evidence: Node, code: Code) -> str:
    """The evidence's title as the steward wrote it; empty when the importer named it after the file."""
    file_name = g.value(g.value(evidence, PROV.wasDerivedFrom), DCPA.fileName)
    generated = {f"{code.zh}（{file_name}）", f"{code.en} ({file_name})"}
    titles = sorted(str(o) for o in g.objects(evidence, RDFS.label))
    return next((t for t in titles if t not in generated), "")
