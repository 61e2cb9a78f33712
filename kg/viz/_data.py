"""SPARQL helpers of the views, and the answers they draw (re-exported from ``kg.answers``).

The views format what ``kg.answers`` works out: need rows and their state under the rule
(``kg.answers.needs``), labels (``kg.answers.labels``), areas (``kg.answers.areas``), example
data (``kg.answers.basis``). What is left here are small helpers for the view's own look-ups of
nodes around a village, an area or a policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..answers.basis import example_nodes as synthetic
from ..answers.labels import Label, labels, local_name
from ..answers.needs import SEVERE, NeedRow
from ..contract import StoreAPI
from ..errors import QueryError


def iri_list(iris: Iterable[str]) -> str:
    """A SPARQL VALUES body from IRIs (IRIs come from the store, never from users)."""
    return " ".join(f"<{i}>" for i in sorted(set(iris)) if ">" not in i and " " not in i)


_BAD_IRI_CHARS = set('<>"{}|\\^` \n\r\t')


def ref(iri: str) -> str:
    """``<iri>`` for a SPARQL text, refusing anything that could break out of the IRI."""
    if not iri.startswith(("http://", "https://", "urn:")) or _BAD_IRI_CHARS & set(iri):
        raise QueryError(f"不是 IRI：{iri!r} / not an IRI: {iri!r}",
                         hint="请给出以 http:// 或 https:// 开头的完整 IRI / pass a full http(s) IRI")
    return f"<{iri}>"


def select(store: StoreAPI, sparql: str, **values: str) -> list[dict[str, Any]]:
    """Run a SELECT with ``?name`` fixed to IRIs (``VALUES`` placed first in the outer WHERE)."""
    return store.select(_with_values(sparql, values))


def ask(store: StoreAPI, sparql: str, **values: str) -> bool:
    return store.ask(_with_values(sparql, values))


def _with_values(sparql: str, values: dict[str, str]) -> str:
    block = " ".join(f"VALUES ?{k} {{ {ref(v)} }}" for k, v in values.items())
    i = sparql.index("{") + 1
    return sparql[:i] + " " + block + " " + sparql[i:]


__all__ = ["SEVERE", "Label", "NeedRow", "ask", "iri_list", "labels", "local_name", "ref", "select", "synthetic"]
