"""How much a client wants each thing its ``Accept`` or ``Accept-Encoding`` names: the one reader of q-values.

Why one: ``/sparql`` read ``Accept`` and the compression read ``Accept-Encoding`` each with a reader of its own,
alike but not the same: ``application/sparql-results+json;q = 0`` was no q-value to the first (so q=1: JSON, which
the client had refused), and 0 to the second.

RFC 9110 12.4.2: ``weight = OWS ";" OWS "q=" qvalue``, ``qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0")
] )``, and parameter names are case-insensitive (``Q=0.5``). What breaks the grammar is read as the client most
likely meant, never as more than it said:

- spaces around ``;`` are the grammar's; spaces around ``=`` (``q = 0``: headers written by hand, in curl or a
  client's configuration) are not, but nothing else can be meant by them: the q-value they surround;
- a number from 0 to 1 out of the grammar (``0.0001``, ``.5``) is its value: ``q=0.0001`` says "barely", not
  "never"; a larger number is 1, the most a client can want;
- anything that is no number (``q=high``, ``q=``, ``q=nan``) or below 0 is 0: not taken, rather than sent what the
  client may not read (406 for a type; for a coding the bytes as they are, which HTTP always falls back on).

A parameter's quoted string may hold commas and semicolons (``text/html;title="a, b";q=0.5``): they split nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

#: An element of a list, or a parameter of an element: text up to the separator, quoted strings kept whole.
_ELEMENTS = re.compile(r'(?:[^,"]|"(?:\\.|[^"\\])*"?)+')
_PARAMS = re.compile(r'(?:[^;"]|"(?:\\.|[^"\\])*"?)+')


def weighted(header: str) -> list[tuple[str, float]]:
    """Each element of a comma-separated ``header`` (its media range or coding, lower case) with its q-value: 1 when
    none is given, else as the module says; empty elements are skipped."""
    out = []
    for element in _ELEMENTS.findall(header):
        name, *params = (p.strip() for p in _PARAMS.findall(element))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, eq, value = param.partition("=")
            if eq and key.strip().lower() == "q":
                q = _qvalue(value.strip())
                break  # what follows the weight is accept-ext, not the media type's (RFC 9110 12.5.1)
        out.append((name.lower(), q))
    return out


def preferred(header: str) -> list[str]:
    """The names of ``header`` the client takes (q above 0), best first; in the header's order where equal."""
    ranked = sorted((-q, i, name) for i, (name, q) in enumerate(weighted(header)) if q > 0)
    return [name for _, _, name in ranked]


def best(qualities: list[tuple[str, float]], offered: Mapping[str, str], default: str) -> str | None:
    """Of the media types ``offered`` (each name a client may use → the type sent for it), the one an Accept header's
    ``qualities`` (:func:`weighted`) want most; ``None`` when it wants none of them.

    Each type is as wanted as the most specific range that names it says (RFC 9110 12.5.1: its own names, else
    major/*, else */*), and a wildcard stands for the types it is the most specific range of, at its q: a type
    refused with q=0 is never sent for a wildcard ("*/*, application/sparql-results+json;q=0" was answered in JSON),
    nor one wanted less than the wildcard says ("text/*;q=0.8, text/csv;q=0.1" was CSV, not TSV). Ranges are taken
    best first, in the header's order where equal; a wildcard gives ``default`` first, then ``offered``'s order.
    """
    def covers(t: str, c: str) -> bool:
        return offered.get(t) == c or t == "*/*" or (t.endswith("/*") and c.startswith(t[:-1]))

    def wanted(c: str) -> float:
        for names in (lambda t: offered.get(t) == c, lambda t: t != "*/*" and covers(t, c), lambda t: t == "*/*"):
            said = [q for t, q in qualities if names(t)]
            if said:
                return max(said)
        return 0.0

    for _, _, t, q in sorted((-q, i, t, q) for i, (t, q) in enumerate(qualities) if q > 0):
        found = next((c for c in (default, *offered.values()) if covers(t, c) and wanted(c) == q), None)
        if found:
            return found
    return None


def _qvalue(text: str) -> float:
    try:
        q = float(text)
    except ValueError:
        return 0.0
    return 0.0 if math.isnan(q) else min(max(q, 0.0), 1.0)
