"""Dumps of the store: Turtle (the union of all graphs), N-Quads and TriG (with graphs), JSON-LD (with graphs).

One writer per format, chosen from ``EXPORTERS``. Turtle, TriG and N-Quads are Oxigraph's own serialisers.
JSON-LD is written here, streaming, one node object per subject, with the project's local context
(``ontology/context.jsonld``) inlined so the file needs no network to be read; keys and IRIs are
compact IRIs over the context's prefixes, so a JSON-LD processor expands it back to the same graph.

Every dump opens with what it is (``about``): when it was exported, which build it holds, the day its
derived graph answers for, its size and where the example data are, so that a paper can cite the very data
its numbers come from. Turtle, TriG and N-Quads say it in comments, JSON-LD under a key its context leaves
undefined (``dump``), which JSON-LD processors drop: the graph loaded from a dump is the store's, unchanged.
Turtle, TriG and N-Quads end with a comment saying so (``END_LINE``): a dump cut short (a download broken off, a
disk full) reads as a graph all the same, so its last line is what tells it whole.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import IO, Any

import pyoxigraph as ox

from . import derived
from .contract import StoreAPI
from .errors import ConfigurationError
from .namespaces import GRAPH_DERIVED, GRAPH_SYNTHETIC, PREFIXES
from .resources import CONTEXT_FILE
from .safetext import DownloadName, download_name
from .stats import build_of, example_triples, graph_counts, graph_kind, last_write, software

log = logging.getLogger(__name__)

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def about(store: StoreAPI, fmt: str) -> dict[str, Any]:
    """What a dump of ``store`` is, to cite it: exported when, by which version, from which build, the day
    its derived graph answers for, its size, and which graph is example data. Writes after it are not in it."""
    graphs = sorted(store.graphs())
    m = derived.marker(store) if str(GRAPH_DERIVED) in graphs else None
    counts = graph_counts(store, graphs)
    example, instance = example_triples(counts)
    return {
        "title": "DCPA knowledge graph dump / 公共图书馆数字文化扶贫知识图谱数据转储",
        "format": fmt,
        "exported": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "software": f"{software()} (dcpa export)",
        "build": build_of(store),
        "last_write": last_write(store),
        "derived_as_of": m.as_of.isoformat() if m else None,
        "quads": store.count(),
        "graphs": graphs,
        "graph_quads": counts,
        # as /api/stats and `dcpa stats` give them: a share cited from the server is the dump's
        "example_quads": example,
        "instance_quads": instance,
        "example_share": round(example / instance, 4) if instance else 0.0,
        "example_data": f"{GRAPH_SYNTHETIC} and every node with dcpa:isSynthetic true (labelled 示例· / Example:) "
                        "is synthetic example data, not real facts",
        "union": fmt == "ttl",
    }


def _comment(info: dict[str, Any]) -> bytes:
    """``about`` as comment lines for Turtle and N-Quads."""
    lines = [
        info["title"],
        f"exported {info['exported']} by {info['software']}; format {info['format']}",
        f"build {info['build'] or 'unknown'} (the fingerprint of its inputs), last import or withdrawal "
        f"{info['last_write'] or '(none)'}: the same two, the same data",
        f"derived graph as of {info['derived_as_of'] or '(none)'} (need states and summaries for that day)",
        f"{info['quads']:,} quads in {len(info['graphs'])} named graphs: {_graph_kinds(info['graph_quads'])}",
        f"example data: {info['example_quads']:,} of the {info['instance_quads']:,} quads of instance data (every "
        f"graph but the ontology and the derived one), {info['example_share']:.1%}",
        info["example_data"],
    ]
    if info["union"]:
        lines.append("Turtle holds the union of the graphs, without their names: load the N-Quads dump to run the "
                     "catalogue queries that read the derived graph" + "".join(
                         f", and {name}, which reads a graph by its name" for name in _reading_a_graph()))
    return "".join(f"# {line}\n" for line in lines).encode("utf-8")


def _graph_kinds(counts: dict[str, int]) -> str:
    """The graphs by kind, with their quads (one import graph a batch: a store may hold thousands)."""
    kinds = Counter(graph_kind(g) for g in counts)
    quads = Counter[str]()
    for g, n in counts.items():
        quads[graph_kind(g)] += n
    return ", ".join(f"{kind} {n} ({quads[kind]:,} quads)" if n > 1 else f"{kind} ({quads[kind]:,} quads)"
                     for kind, n in sorted(kinds.items()))


def _reading_a_graph() -> list[str]:
    """The catalogue queries that name a graph (``GRAPH <…>``) and do not say they read the derived graph: loaded from
    the Turtle dump, which has no graphs, they answer otherwise (synthetic_share counted the ontology's own nodes)."""
    from .catalogue import load_catalogue  # the catalogue imports the answers' modules: read when a dump is written

    return [q.name for q in load_catalogue().values() if "derived" not in q.uses and re.search(r"\bGRAPH\s*<", q.text)]


#: The last line of a whole Turtle, TriG or N-Quads dump.
END_LINE = "# 转储到此结束，完整无缺 / end of dump: it is whole\n".encode()


def _oxigraph_dump(fmt: str) -> Callable[[StoreAPI, IO[bytes]], None]:
    def write(store: StoreAPI, out: IO[bytes]) -> None:
        out.write(_comment(about(store, fmt)))
        store.dump(out, fmt)
        out.write(END_LINE)

    return write


_ttl, _nq, _trig = (_oxigraph_dump(f) for f in ("ttl", "nq", "trig"))


@lru_cache(maxsize=1)
def json_ld_context() -> dict[str, Any]:
    """The local JSON-LD context (``ontology/context.jsonld``), or the project prefixes if it is absent."""
    if CONTEXT_FILE.exists():
        data = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
        ctx = data.get("@context", data) if isinstance(data, dict) else None
        if isinstance(ctx, dict):
            return ctx
        log.warning("%s has no @context object; using the project prefixes", CONTEXT_FILE)
    return dict(PREFIXES)


def _prefixes(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    """Prefixes usable for compact IRIs: simple definitions ending in / or #, longest first."""
    out = [
        (k, v)
        for k, v in ctx.items()
        if isinstance(v, str) and not k.startswith("@") and ":" not in k and v.endswith(("/", "#"))
    ]
    return sorted(out, key=lambda kv: -len(kv[1]))


class _Compactor:
    def __init__(self, ctx: dict[str, Any]) -> None:
        self.prefixes = _prefixes(ctx)

    @lru_cache(maxsize=4096)  # noqa: B019 — one compactor per export, bounded cache
    def iri(self, value: str) -> str:
        for prefix, ns in self.prefixes:
            if value.startswith(ns):
                local = value[len(ns) :]
                if local and not local.startswith("//"):
                    return f"{prefix}:{local}"
        return value

    def term(self, t: Any) -> dict[str, Any]:
        if isinstance(t, ox.NamedNode):
            return {"@id": self.iri(t.value)}
        if isinstance(t, ox.BlankNode):
            return {"@id": f"_:{t.value}"}
        v: dict[str, Any] = {"@value": t.value}
        if t.language:
            v["@language"] = t.language
        elif t.datatype is not None and t.datatype.value != XSD_STRING:
            v["@type"] = self.iri(t.datatype.value)
        return v

    def subject(self, t: Any) -> str:
        return f"_:{t.value}" if isinstance(t, ox.BlankNode) else self.iri(t.value)


def _node_objects(store: StoreAPI, graph: str, c: _Compactor) -> Any:
    """One JSON node object per subject of ``graph``.

    Quads do not come grouped by subject from every Oxigraph index, so each new subject is described
    by its own lookup; only the set of subjects seen is kept in memory. Blank nodes cannot be looked up
    (their labels are not stable between requests to a remote store): theirs are gathered in the one
    pass instead (a few: the ontology's lists and restrictions).
    """
    seen: set[Any] = set()
    blank: dict[str, list[Any]] = {}
    for first in store.quads(graph=graph):
        s = first.subject
        if isinstance(s, ox.BlankNode):
            blank.setdefault(s.value, []).append(first)
            continue
        if s in seen or not isinstance(s, ox.NamedNode):
            continue
        seen.add(s)
        yield _node_object(c, s, store.quads(s.value, graph=graph))
    for quads in blank.values():
        yield _node_object(c, quads[0].subject, quads)


def _node_object(c: _Compactor, s: Any, quads: Iterable[Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {"@id": c.subject(s)}
    for q in quads:
        if q.predicate.value == RDF_TYPE and isinstance(q.object, ox.NamedNode):
            obj.setdefault("@type", []).append(c.iri(q.object.value))
        else:
            obj.setdefault(c.iri(q.predicate.value), []).append(c.term(q.object))
    return obj


def _jsonld(store: StoreAPI, out: IO[bytes]) -> None:
    ctx = json_ld_context()
    c = _Compactor(ctx)

    def w(text: str) -> None:
        out.write(text.encode("utf-8"))

    info = {k: v for k, v in about(store, "jsonld").items() if k != "union"}
    w('{\n"@context": ' + json.dumps(ctx, ensure_ascii=False) + ',\n"dump": ' + json.dumps(info, ensure_ascii=False)
      + ',\n"@graph": [\n')
    first_graph = True
    graphs = sorted(store.graphs())
    for g in graphs:
        w(("" if first_graph else ",\n") + '{"@id": ' + json.dumps(c.iri(g)) + ', "@graph": [\n')
        first_graph = False
        first = True
        for obj in _node_objects(store, g, c):
            w(("" if first else ",\n") + json.dumps(obj, ensure_ascii=False))
            first = False
        w("\n]}")  # the project writes named graphs only: the default graph is empty
    w("\n]\n}\n")


class DumpFormat(StrEnum):
    """A dump's format, as the API and the CLI take it (one writer each: ``EXPORTERS``)."""

    nq = "nq"
    trig = "trig"
    ttl = "ttl"
    jsonld = "jsonld"


#: Each format's writer, media type and file extension.
_DUMPS: dict[DumpFormat, tuple[Callable[[StoreAPI, IO[bytes]], None], str, str]] = {
    DumpFormat.nq: (_nq, "application/n-quads", "nq"),
    DumpFormat.trig: (_trig, "application/trig", "trig"),
    DumpFormat.ttl: (_ttl, "text/turtle", "ttl"),
    DumpFormat.jsonld: (_jsonld, "application/ld+json", "jsonld"),
}
EXPORTERS: dict[str, Callable[[StoreAPI, IO[bytes]], None]] = {f.value: w for f, (w, _, _) in _DUMPS.items()}
#: Each format's media type and file extension.
DUMP_FILES: dict[str, tuple[str, str]] = {f.value: (media, ext) for f, (_, media, ext) in _DUMPS.items()}


def dump_name(fmt: str, day: date) -> DownloadName:
    """The file name of a dump made on ``day``: what it is, the day, the format (``dcpa-dump-2026-12-05.nq``)."""
    return download_name("dcpa-dump", DUMP_FILES[fmt][1], day=day)


#: What a dump is, said when a write refreshing the derived graph refuses it (``derived.unsettled``).
READS_DERIVED = ("转储包含派生图（需求状态、理由、汇总）",
                 "a dump holds the derived graph (need states, reasons, summaries)")


def check_settled(store: StoreAPI) -> None:
    """Refuse a dump while a write refreshes the derived graph (``derived.check_settled``): its states and counts
    would be of no one moment, and a dump is what a paper cites."""
    derived.check_settled(store, READS_DERIVED)


def export(store: StoreAPI, fmt: str, out: IO[bytes]) -> None:
    """Write the whole store to ``out`` in ``fmt`` (``nq``, ``trig``, ``ttl`` or ``jsonld``), UTF-8; refused
    (``StoreBusy``) while a write refreshes the derived graph."""
    try:
        writer = EXPORTERS[fmt]
    except KeyError:
        known = ", ".join(EXPORTERS)
        raise ConfigurationError(f"未知的导出格式 {fmt!r} / unknown export format {fmt!r}",
                                 hint=f"请使用以下之一：{known} / use one of: {known}") from None
    check_settled(store)
    writer(store, out)
