"""Checks of a batch against the store: references, records that already exist, SHACL shapes.

All checks only read the store. Each finds every problem it can, so the user fixes a file once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from .. import fastshacl
from ..batchgraph import batch_graph
from ..contract import StoreAPI
from ..errors import Issue, halves, is_chinese
from ..facts import run_parallel
from ..namespaces import DCPA, GRAPH_DERIVED, GRAPH_IMPORT_PREFIX, SH
from ..resources import SHAPES_FILE, ontology_graph, shapes_graph, shared_ontology_graph
from ..store import to_rdflib
from .mapping import Batch, Located
from .specs import RECORD_KINDS, REPLACEABLE
from .vocab import subclasses

log = logging.getLogger(__name__)

_CHUNK = 400

_REF_NAMES = {
    DCPA.Library: ("图书馆", "library", "libraries"),
    DCPA.LibraryResource: ("资源", "resource", "resources"),
    DCPA.Intervention: ("帮扶项目", "intervention", "interventions"),
    DCPA.Policy: ("政策", "policy", "policies"),
    DCPA.Programme: ("文化工程", "programme", "policies"),
    DCPA.Interview: ("访谈", "interview", "interviews"),
}


def _values(iris: Iterable[URIRef]) -> str:
    return " ".join(f"<{i}>" for i in iris)


def _chunks(items: list[URIRef]) -> Iterable[list[URIRef]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def store_types(store: StoreAPI, iris: Iterable[URIRef]) -> dict[URIRef, set[URIRef]]:
    """The ``rdf:type``s the store holds for each IRI (absent: the IRI is unknown)."""
    out: dict[URIRef, set[URIRef]] = defaultdict(set)
    for chunk in _chunks(sorted(set(iris))):
        for row in store.select(f"SELECT ?x ?t WHERE {{ VALUES ?x {{ {_values(chunk)} }} ?x a ?t }}"):
            out[URIRef(row["x"])].add(URIRef(row["t"]))
    return out


def reference_context(store: StoreAPI, batch: Batch) -> rdflib.Graph:
    """The store's triples about the records and areas the batch points at (not those it creates).

    Read once per batch: the reference check takes their types from it and the shapes read it as
    context. Why once: each referenced node costs an index seek of 0.25–1 ms at national scale
    (11,500 villages for 20,000 need rows: 8.5 s a read), and the two checks had read them twice.
    """
    if batch.context is None:
        batch.context = batch_graph()
        for chunk in _chunks(sorted({r.iri for r in batch.references if r.iri not in batch.minted})):
            res = store.query(f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ VALUES ?x {{ {_values(chunk)} }} ?x ?p ?o }}")
            for t in res:
                batch.context.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
            # Drop the Oxigraph result now: a frame pySHACL keeps would otherwise hold it, and with it
            # the on-disk store's lock, until a garbage collection on some other thread.
            del res
    return batch.context


def check_references(store: StoreAPI, batch: Batch, vocab: rdflib.Graph) -> None:
    """Does every area code exist (a village where one is needed), every referenced record?"""
    context = reference_context(store, batch)
    found: dict[URIRef, set[URIRef]] = defaultdict(set)
    for x, t in context.subject_objects(RDF.type):
        found[x].add(t)  # type: ignore[index,arg-type]
    allowed_cache: dict[URIRef, set[URIRef]] = {}
    folded: dict[str, URIRef] | None = None  # the batch's records by their IRIs case-folded, made on the first need
    for r in batch.references:
        allowed = allowed_cache.get(r.cls)
        if allowed is None:  # not setdefault: that walks the class tree for every reference (7.7 of 25 s)
            allowed = allowed_cache[r.cls] = subclasses(vocab, r.cls)
        types = {batch.minted[r.iri][0]} if r.iri in batch.minted else found.get(r.iri, set())
        if types & allowed:
            continue
        w = r.where
        if r.cls in (DCPA.AdministrativeArea, DCPA.VillageLevelUnit):
            if r.village and not types:
                batch.issues.append(
                    w.issue(
                        "未知的村级代码 / unknown village code",
                        r.column,
                        r.value,
                        "请使用模板 villages 表中的 12 位代码（dcpa template --format xlsx） / "
                        "use a 12-digit code from the 'villages' sheet of the template (dcpa template --format xlsx)",
                    )
                )
            elif r.village:
                batch.issues.append(
                    w.issue(
                        "不是村级单位 / not a village-level unit",
                        r.column,
                        r.value,
                        "需求属于某个村或社区：请填写它的 12 位代码 / "
                        "a need belongs to a village or community: use its 12-digit code",
                    )
                )
            else:
                batch.issues.append(
                    w.issue(
                        "未知的区划代码 / unknown area code",
                        r.column,
                        r.value,
                        "请使用辽宁省的统计用区划代码（2、4、6、9 或 12 位） / "
                        "use an official statistical code of Liaoning (2, 4, 6, 9 or 12 digits)",
                    )
                )
            continue
        zh, en, sheet = _REF_NAMES.get(r.cls, ("记录", "record", "?"))
        if not types:
            if folded is None:
                folded = {str(x).casefold(): x for x in batch.minted}
            # IDs are told apart by case (LIB-1 is not Lib-1), while the rows of one import that differ only so are
            # refused as duplicates: "unknown library ID" for Lib-1 beside a row of LIB-1 said nothing of it
            near = folded.get(str(r.iri).casefold())
            hint = (f"图谱和本次导入中都没有这个编号的{zh}：请在 '{sheet}' 表中添加它"
                    "（可在本文件中，或在之前的导入中），或更正编号 / "
                    f"no {en} with this ID in the graph or in this import: add it on the '{sheet}' sheet "
                    "(in this file or an earlier import) or correct the ID")
            if near is not None:
                named = unquote(near.rsplit("/", 1)[-1])
                hint = (f"编号区分大小写：本次导入中的{zh}编号是“{named}”，请写得完全一样 / "
                        f"IDs are case-sensitive: the {en} of this import is '{named}'; write its ID exactly so")
            batch.issues.append(w.issue(f"未知的{zh}编号 / unknown {en} ID", r.column, r.value, hint))
        else:
            batch.issues.append(
                w.issue(
                    f"编号不是{zh} / the ID names something that is not a {en}",
                    r.column,
                    r.value,
                    f"请填写一个{zh}的编号 / use the ID of a {en}",
                )
            )


def check_existing(store: StoreAPI, batch: Batch) -> None:
    """Refuse records that are already in the store: an import adds records, it never changes them.

    One issue per record, naming the graphs of instance data that hold it (the derived graph states facts about
    every need, and would name itself to a user who never wrote to it), with a way forward that fits the kind: a
    record keyed by an ID can take a new one; one keyed by what it says (a need by its village, type and date) is
    changed by replacing it or withdrawing the batch that holds it.
    """
    jobs: list[tuple[str, dict[str, Any]]] = [
        (f"SELECT DISTINCT ?x ?g WHERE {{ VALUES ?x {{ {_values(chunk)} }} GRAPH ?g {{ ?x ?p ?o }} }}", {})
        for chunk in _chunks(sorted(batch.minted))
    ]
    held: dict[URIRef, set[str]] = defaultdict(set)
    for rows in run_parallel(store, jobs):  # in threads: 100,000 new records 2.8 s on one, 1.5 s here
        for x_value, g_value in rows:
            held[URIRef(str(x_value))].add(str(g_value))
    for x in sorted(held):
        graphs = sorted(held[x] - {str(GRAPH_DERIVED)}) or sorted(held[x])
        origin = ", ".join(f"import batch {g[len(GRAPH_IMPORT_PREFIX):]}" if g.startswith(GRAPH_IMPORT_PREFIX)
                           else g for g in graphs)
        origin_zh = "、".join(f"导入批次 {g[len(GRAPH_IMPORT_PREFIX):]}" if g.startswith(GRAPH_IMPORT_PREFIX)
                              else g for g in graphs)
        where = batch.minted[x][1]
        spec = RECORD_KINDS[where.kind] if where.kind else None
        key = spec.identity[0] if spec else None
        if not any(g.startswith(GRAPH_IMPORT_PREFIX) for g in graphs):  # example or reference data: no batch
            hint = (f"图谱中已有这条记录（{origin_zh}），它不是导入写入的：请删去这一行"
                    "（导入只添加记录，不修改记录） / "
                    f"it is already in the graph ({origin}), which no import wrote; leave the row out "
                    "(an import adds records, it does not change them)")
        elif spec is None or spec.identity == ("id",):
            hint = (f"图谱中已有这条记录（{origin_zh}）：请换一个新编号，或删去这一行（导入只添加记录，不修改记录） / "
                    f"it is already in the graph ({origin}); use a new ID, or leave the row out "
                    "(an import adds records, it does not change them)")
        else:
            put = f"PUT /api/{spec.kind}/{x.split('/')[-1]}"
            replaceable = spec.kind in REPLACEABLE
            change = f"replace it ({put}) or withdraw" if replaceable else "withdraw"
            change_zh = f"替换它（{put}），或先撤回" if replaceable else "先撤回"
            names_zh = "、".join(f"“{spec.column(k).zh}”" for k in spec.identity)
            hint = (f"图谱中已有{names_zh}相同的记录（{origin_zh}）：请删去这一行；"
                    f"如要修改那条记录，请{change_zh}包含它的批次（导入只添加记录，不修改记录） / "
                    f"a record with the same {', '.join(spec.identity)} is already in the graph ({origin}); leave "
                    f"the row out, or, to change that record, {change} the batch that holds it first "
                    "(an import adds records, it does not change them)")
        batch.issues.append(where.issue("记录已存在 / this record already exists", key,
                                        batch.identities.get(x, x.split("/")[-1]), hint))


def shacl_issues(store: StoreAPI, batch: Batch) -> tuple[list[Issue], list[str]]:
    """Validate the batch (with the records it refers to as context) against the SHACL shapes.

    Returns (violations as issues, warnings). Results about context nodes are not the import's
    business and are dropped.
    """
    if not SHAPES_FILE.exists():
        return [], ["没有找到 SHACL 约束（ontology/shapes.ttl）：只做了引用检查 / "
                    "SHACL shapes (ontology/shapes.ttl) not found: only the reference checks ran"]
    context_graph = reference_context(store, batch)
    context = {r.iri for r in batch.references if r.iri not in batch.minted}
    # Results about nodes the batch creates count; nodes it only points at (areas…) are context.
    own = {s for s in batch.graph.subjects() if isinstance(s, URIRef)} - context
    results = check_shapes([batch.graph, context_graph], own)
    issues: list[Issue] = []
    warnings: list[str] = []
    for r in results:
        if r.focus not in own:
            continue
        msg = _message(r.messages)
        where: Located | None = batch.minted[r.focus][1] if r.focus in batch.minted else None  # type: ignore[index]
        column = _column_for(where, r.path)
        text = str(r.value) if isinstance(r.value, Literal | URIRef) else None
        if r.severity != SH.Violation:  # said with its place, as a problem is
            warnings.append(str(Issue(msg, file=where.file, sheet=where.sheet, row=where.row)) if where else msg)
            continue
        if where is None:
            zh, en = halves(msg)
            issues.append(Issue(f"{zh}（{r.focus}） / {en} ({r.focus})", value=text))
        else:
            issues.append(where.issue(msg, column, text,
                                      "请查看模板 readme 表中这一列的说明 / see the column's help on the readme sheet"))
    return issues, warnings


def check_shapes(graphs: list[rdflib.Graph], focus_on: set[URIRef]) -> list[fastshacl.Result]:
    """The SHACL results about ``focus_on`` in the union of ``graphs`` (a batch and its context) with
    the ontology.

    ``kg.fastshacl`` gives pySHACL's results at a small fraction of its cost, reading the graphs
    as they are; a shape it does not support sends the batch to pySHACL (on a copy of the union).
    """
    try:
        return fastshacl.validate([*graphs, shared_ontology_graph()], shapes_graph(), focus_on=set(focus_on))
    except fastshacl.Unsupported as e:
        log.warning("the shapes use %s, which kg.fastshacl does not support: validating with pySHACL", e)
        data = rdflib.Graph()
        for g in graphs:
            for t in g:
                data.add(t)
        _conforms, report = run_shacl(data)
        return fastshacl.from_pyshacl(report)


def _message(messages: tuple[tuple[str | None, str], ...]) -> str:
    """A result's message as ``中文 / English`` (either alone when the shape has only one). Messages without their
    language (pySHACL drops the tags of a SPARQL constraint's): the Chinese first."""
    by_lang = {lang: text for lang, text in messages}
    parts = [by_lang[k] for k in ("zh", "en") if k in by_lang] or sorted(
        (text for _, text in messages), key=lambda text: not is_chinese(text))
    return " / ".join(parts) or "违反约束 / constraint violated"


def run_shacl(data: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    """pySHACL with the ontology mixed in, as ``ontology/shapes.ttl`` prescribes.

    The mixing is done here by adding the ontology's triples to ``data`` (which is modified):
    pySHACL's own ``ont_graph`` mixing clones every blank node recursively and took over 15 s
    for this ontology, against well under a second for a plain union. The result is the same graph.
    """
    import pyshacl

    for t in ontology_graph():
        data.add(t)
    conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes_graph(), inference="none", advanced=True, allow_warnings=True, inplace=True
    )
    assert isinstance(results, rdflib.Graph)
    return bool(conforms), results


def _column_for(where: Located | None, path: object) -> str | None:
    if where is None or not isinstance(path, URIRef) or not where.kind:
        return None
    for col in RECORD_KINDS[where.kind].columns:
        if col.prop == path:
            return col.key
    return None
