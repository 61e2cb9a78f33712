"""Parameters written into a query's text: how a query with bound variables goes to a store that cannot
be given bindings (a remote store: the SPARQL 1.1 Protocol has no parameters) and how a catalogue
query becomes plain SPARQL on the SPARQL page.

The result answers as Oxigraph's substitution does (``kg.store.Store.query(bindings=…)``): the
variable becomes the constant everywhere, and the outermost SELECT still returns it as a column.
A trailing ``VALUES`` block does not: it binds after the query ran, so a ``FILTER`` or an ``OPTIONAL``
that uses the parameter sees it unbound (``coverage_by_category`` answered other rows), and Oxigraph
then evaluates grouped sub-selects for every value before joining (minutes at province scale).

The text is read as SPARQL tokens (strings, IRIs and comments are never touched), not by patterns:
- in the outermost projection ``?v`` becomes ``(constant AS ?v)``; in a sub-select's it is dropped (the
  constant is written wherever the sub-select's result was joined on it);
- in ``GROUP BY`` and ``ORDER BY`` it becomes ``(constant)`` (a group by a constant still has no group
  when nothing matched, as with the substitution);
- everywhere else it becomes the constant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .store import binding_term

_TOKEN = re.compile(
    r'(?P<skip>#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>)'
    r"|(?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<other>[\s\S])",
)
#: Words that end a GROUP BY or ORDER BY list.
_CLAUSES = {"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES", "GROUP"}


def inline_bindings(text: str, bindings: Mapping[str, Any] | None) -> str:
    """``text`` with ``bindings`` (name → term or value, as ``Store.query`` takes them) written in."""
    return inline(text, {k: str(binding_term(v)) for k, v in (bindings or {}).items()})


def inline(text: str, values: dict[str, str]) -> str:
    """``text`` with each variable of ``values`` (name → constant in SPARQL syntax) written in."""
    if not values:
        return text
    out: list[str] = []
    depth = 0  # brace depth
    parens = 0  # parenthesis depth within a projection or a GROUP/ORDER BY list
    mode = ""  # "select" (in a projection), "group" (in GROUP BY or ORDER BY), ""
    outermost = False  # the projection being read is the outermost one
    seen_select = False
    previous, previous_at = "", 0  # the last word read, and where it is in the output
    keys: _Keys | None = None  # the GROUP BY or ORDER BY list being read

    def close() -> None:
        nonlocal mode, keys
        if keys is not None:
            keys.resolve(out)
        mode, keys = "", None

    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if m.group("skip"):
            out.append(tok)
            continue
        word = tok.upper() if m.group("word") else ""
        if m.group("other"):
            if tok == "{":
                if mode == "select":
                    mode = ""
                depth += 1
            elif tok == "}":
                depth -= 1
                if mode == "group":
                    close()
            elif tok == "(" and mode:
                parens += 1
                if mode == "group" and parens == 1 and keys is not None:
                    keys.others = True
            elif tok == ")" and mode:
                parens -= 1
        elif word == "SELECT":
            mode, parens = "select", 0
            outermost = not seen_select and depth == 0
            seen_select = True
        elif word == "WHERE" and mode == "select":
            mode = ""
        elif word == "BY" and previous in ("GROUP", "ORDER"):
            mode, parens = "group", 0
            keys = _Keys(previous, range(previous_at, len(out) + 1))
        elif word in _CLAUSES and mode == "group" and parens == 0:
            close()
        elif m.group("var") and tok[1:] in values:
            constant = values[tok[1:]]
            if mode == "select" and parens == 0:
                tok = f"({constant} AS {tok})" if outermost else ""
            elif mode == "group" and parens == 0 and keys is not None:
                keys.bound.append((len(out), constant))
            else:
                tok = constant
        elif m.group("var") and mode == "group" and parens == 0 and keys is not None:
            keys.others = True
        if not tok.isspace():
            previous, previous_at = word, len(out)
        out.append(tok)
    if mode == "group":
        close()
    return "".join(out)


class _Keys:
    """The keys of one GROUP BY or ORDER BY list: a parameter among them is dropped when other keys
    remain (a constant key changes neither the groups nor the order; Virtuoso fails on one: "index of
    column in order by out of range"). A GROUP BY of parameters only keeps one, bracketed, so that
    nothing matched still makes no group; an ORDER BY of parameters only goes."""

    def __init__(self, clause: str, words: range) -> None:
        self.clause, self.words = clause, words  # "GROUP" or "ORDER", and where "… BY" is in the output
        self.bound: list[tuple[int, str]] = []  # (where in the output, the constant)
        self.others = False

    def resolve(self, out: list[str]) -> None:
        if not self.bound:
            return
        for where, _ in self.bound:
            out[where] = ""
        if self.others:
            return
        if self.clause == "GROUP":
            out[self.bound[0][0]] = f"({self.bound[0][1]})"
        else:
            for where in self.words:
                out[where] = ""


#: The query forms, by the keyword that opens them.
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def query_form(text: str) -> str | None:
    """The form of a query (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``): its first keyword after the
    prologue (``BASE``/``PREFIX`` declarations, comments), read as tokens; None when there is none."""
    declaring = False  # between PREFIX or BASE and the IRI that ends the declaration
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if declaring:
            declaring = not tok.startswith("<")
            continue
        word = (m.group("word") or "").upper()
        if word in ("PREFIX", "BASE"):
            declaring = True
        elif word in FORMS:
            return word
        elif not (tok.isspace() or tok.startswith("#")):
            return None
    return None
