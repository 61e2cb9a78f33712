"""Dumps of the store: Turtle (the union of all graphs), N-Quads (with graphs), JSON-LD (with graphs).

One writer per format, chosen from ``EXPORTERS``. Turtle and N-Quads are Oxigraph's own serialisers.
JSON-LD is written here, streaming, one node object per subject, with the project's local context
(``ontology/context.jsonld``) inlined so the file needs no network to be read; keys and IRIs are
compact IRIs over the context's prefixes, so a JSON-LD processor expands it back to the same graph.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import IO, Any

import pyoxigraph as ox

from .contract import StoreAPI
from .errors import ConfigurationError
from .namespaces import PREFIXES
from .resources import CONTEXT_FILE

log = logging.getLogger(__name__)

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _ttl(store: StoreAPI, out: IO[bytes]) -> None:
    store.dump(out, "ttl")


def _nq(store: StoreAPI, out: IO[bytes]) -> None:
    store.dump(out, "nq")


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

    w('{\n"@context": ' + json.dumps(ctx, ensure_ascii=False) + ',\n"@graph": [\n')
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


EXPORTERS: dict[str, Callable[[StoreAPI, IO[bytes]], None]] = {"ttl": _ttl, "nq": _nq, "jsonld": _jsonld}


def export(store: StoreAPI, fmt: str, out: IO[bytes]) -> None:
    """Write the whole store to ``out`` in ``fmt`` (``ttl``, ``nq`` or ``jsonld``), UTF-8."""
    try:
        writer = EXPORTERS[fmt]
    except KeyError:
        raise ConfigurationError(f"unknown export format {fmt!r}", hint=f"use one of: {', '.join(EXPORTERS)}") from None
    writer(store, out)
