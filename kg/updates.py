"""SPARQL Update text for writing known triples: ``INSERT DATA`` / ``DELETE DATA`` of bounded size.

Every write of known triples (a refresh of the derived graph, a replaced record, a withdrawal and their
undoing) is made of these operations, joined into one request. Why bounded: Virtuoso 7's update parser
gives up on one ``INSERT DATA`` of about 5,000 triples ("SP030: SPARQL compiler … memory exhausted";
measured: 4,000 pass, 8,000 fail) but takes twenty operations of 1,000 triples in one request (0.4 s for
10,000). A request of several operations is still one transaction on the embedded store and on Oxigraph
server, and 400,000 triples in operations of 1,000 went into the embedded store in 1.9 s against 2.5 s as
one operation: the bound costs nothing there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pyoxigraph as ox

#: Triples per ``INSERT DATA`` / ``DELETE DATA`` operation.
DATA_OP_TRIPLES = 1_000
#: Triples per transaction of a large deletion (a withdrawn batch, a refresh's old lines). At national scale a
#: 100,000-row batch's 10^6 triples went in 8.7 s at a peak of 1.1 GB in parts of this size, against 20.9 s and
#: 1.8 GB as one ``DROP`` (one transaction).
DELETE_PART = 100_000


def data_ops(verb: str, lines: Iterable[str], graph: str | None = None) -> list[str]:
    """``{verb} DATA`` operations (``verb`` is ``INSERT`` or ``DELETE``) holding ``lines`` (N-Triples lines,
    each ending in a newline) in ``graph`` (an IRI; the default graph when None), at most
    ``DATA_OP_TRIPLES`` lines each."""
    if verb not in ("INSERT", "DELETE"):
        raise ValueError(f"not a DATA operation: {verb!r}")
    ops: list[str] = []
    part: list[str] = []

    def close() -> None:
        body = "".join(part)
        ops.append(f"{verb} DATA {{ GRAPH <{graph}> {{\n{body}}} }}" if graph else f"{verb} DATA {{\n{body}}}")

    for line in lines:
        part.append(line)
        if len(part) >= DATA_OP_TRIPLES:
            close()
            part = []
    if part:
        close()
    return ops


def quad_ops(verb: str, quads: Iterable[ox.Quad]) -> list[str]:
    """``data_ops`` for quads, each in its own graph (the default graph's as such)."""
    by_graph: dict[str | None, list[str]] = {}
    for q in quads:
        key = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        by_graph.setdefault(key, []).append(f"{q.subject} {q.predicate} {q.object} .\n")
    return [op for g, lines in by_graph.items() for op in data_ops(verb, lines, g)]


def request(ops: Iterable[str]) -> str:
    """One update request of ``ops`` (empty ones left out), run in order."""
    return " ;\n".join(op for op in ops if op)


def deletions(lines: Sequence[str], graph: str) -> Iterator[str]:
    """Requests deleting ``lines`` (N-Triples lines) from ``graph``, ``DELETE_PART`` lines each: each request
    one transaction, made as it is sent (10^6 lines are 130 MB of text)."""
    for start in range(0, len(lines), DELETE_PART):
        yield request(data_ops("DELETE", lines[start:start + DELETE_PART], graph))
