"""SPARQL syntax errors a reader can act on: where (line, column, the line with a caret under the place) and
what, in a sentence.

Oxigraph's parser (rust-peg) reports the furthest place any rule reached and everything it would have taken
there, character classes included: ``SELECT * WHERE { ?s foo:bar ?o }`` gave hundreds of characters of
``['\\u{00C0}'..='\\u{00D6}' | …]`` that never named the prefix ``foo``. Whether a query is broken is the
engine's decision (its error); only the words are made here:

* a prefixed name whose prefix is neither declared in the query nor by the store: named, with the
  declaration to add. The engine says "Prefix not found" only where that failure is its furthest: for a
  subject (``{ foo:a ?p ?o }``) or a FILTER it said "expected OPTIONAL", so the query's tokens
  (``kg.sparql_lex``) find the prefix, and it is the fault when it comes before the place the engine gave up;
* a sentence of the engine's own ("SELECT * is not authorized with GROUP BY"): that sentence, the common
  ones worded with what to do;
* otherwise what the engine expected there, its character classes left out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from .errors import QueryError
from .safetext import display_width
from .sparql_lex import lex

_ENGINE_ERROR = re.compile(r"error at (\d+):(\d+): expected (?:one of )?(.*)", re.DOTALL)
#: One item of the engine's expectation list: a quoted token, a character class, or a word or sentence.
_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:\'(?:[^\'\\]|\\.)*\'|[^\]\'])*\]|[^,\["]+')
_PREFIX_NOT_FOUND = "Prefix not found"
#: Most expected tokens named; the rest are counted.
_MAX_EXPECTED = 10
#: Longest line shown; a longer one is cut around the column.
_MAX_LINE = 120
_CHECK_TEXT = "请检查查询文字 / check the query text"
#: The engine's sentences said with what to do about them: (what in Chinese, what, hint), each ``中文 / English``.
_SENTENCES: dict[str, tuple[str, str, str]] = {
    "The SELECT contains a variable that is unbound": (
        "SELECT 中有变量既未分组也未聚合",
        "a variable of the SELECT is neither grouped nor aggregated",
        "用了 GROUP BY 或聚合函数时，只能选择分组的内容（GROUP BY ?x，或 GROUP BY (DATATYPE(?o) AS ?x)）"
        "和 COUNT(?y)、SAMPLE(?y) 这样的聚合值 / "
        "with GROUP BY or an aggregate, select only what is grouped (GROUP BY ?x, or GROUP BY (DATATYPE(?o) AS ?x)) "
        "and aggregates such as COUNT(?y) or SAMPLE(?y)",
    ),
    "The SELECT contains an expression with a variable that is unbound": (
        "SELECT 中的表达式用了既未分组也未聚合的变量",
        "an expression of the SELECT uses a variable that is neither grouped nor aggregated",
        "用了 GROUP BY 或聚合函数时，表达式只能用分组的内容和 SAMPLE(?y) 这样的聚合值 / "
        "with GROUP BY or an aggregate, an expression may use only what is grouped and aggregates such as "
        "SAMPLE(?y)",
    ),
    "SELECT * is not authorized with GROUP BY": (
        "SELECT * 不能与 GROUP BY 一起使用",
        "SELECT * cannot be used with GROUP BY",
        "请写出分组的变量和聚合值，不要用 *：SELECT ?x (COUNT(?y) AS ?n) … GROUP BY ?x / "
        "name what is grouped and the aggregates instead of *: SELECT ?x (COUNT(?y) AS ?n) … GROUP BY ?x",
    ),
}


def engine_syntax_error(query: str, error: str, predeclared: Iterable[str] = ()) -> QueryError:
    """The QueryError for Oxigraph's syntax error ``error`` on ``query``, whose store declares the prefixes
    ``predeclared`` itself."""
    m = _ENGINE_ERROR.match(error)
    if m is None:  # not a located parse error (a bad base IRI, …): the engine's first line, kept short
        first = error.strip().splitlines()[0] if error.strip() else "the engine gave no reason"
        return QueryError(f"SPARQL 语法错误 / SPARQL syntax error: {_cut(first, _MAX_LINE)}", hint=_CHECK_TEXT)
    line, column = int(m.group(1)), int(m.group(2))
    offset = _offset(query, line, column)
    items = [i.strip() for i in _ITEM.findall(m.group(3))]
    known = list(dict.fromkeys(predeclared))
    undeclared = _undeclared_prefix(query, known)
    if undeclared is not None and (_PREFIX_NOT_FOUND in items or offset >= undeclared[1]):
        prefix, at, declared = undeclared
        said_zh, said = [], []
        if close := difflib.get_close_matches(prefix, declared, n=1):
            said_zh.append(f"是否应为 {close[0]}:？")
            said.append(f"did you mean {close[0]}:?")
        if known:
            said_zh.append("以下前缀在此无需声明：" + "、".join(f"{p}:" for p in known))
            said.append("these prefixes need no declaration here: " + ", ".join(f"{p}:" for p in known))
        what = f"the prefix {prefix}: is not declared: add PREFIX {prefix}: <…> before the query"
        return syntax_error(query, *_line_column(query, at), what,
                            f"{''.join(said_zh)} / {' '.join(said)}" if said else None,
                            what_zh=f"前缀 {prefix}: 未声明，请在查询前加上 PREFIX {prefix}: <…>")
    sentences = [i for i in items if " " in i and i[0] not in '"[' and i != _PREFIX_NOT_FOUND]
    if sentences:
        if sentences[0] in _SENTENCES:
            what_zh, what, hint = _SENTENCES[sentences[0]]
            return syntax_error(query, line, column, what, hint, what_zh=what_zh)
        # a sentence not worded here: the engine's, after the Chinese lead-in
        return syntax_error(query, line, column, sentences[0][:1].lower() + sentences[0][1:])
    expected = [i for i in items if i and i[0] != "[" and i != _PREFIX_NOT_FOUND]
    if any(i.startswith("['0'") for i in items):  # a digit class: what the parser wants there is a number
        expected.insert(0, "a number")
    more = len(expected) - _MAX_EXPECTED
    what = ("expected " + ", ".join(expected[:_MAX_EXPECTED]) + (f" or {more} more" if more > 0 else "")
            if expected else "the query cannot be read on from here")
    return syntax_error(query, line, column, what, what_zh=None if expected else "查询从这里起无法读下去")


def syntax_error(query: str, line: int, column: int, what: str, hint: str | None = None, *,
                 what_zh: str | None = None) -> QueryError:
    """A located syntax error: "SPARQL 语法错误（第 L 行第 C 列）：what_zh / SPARQL syntax error at line L, column C:
    what"; ``details`` give the place and the line with a caret under it (one home for the wording, whichever parser
    found the fault). ``what`` is English (a parser's own detail, as it gives it); ``what_zh`` says it in Chinese
    when it is known, else the Chinese half is the place alone. ``hint``, when given, is ``中文 / English``."""
    lines = query.split("\n")
    text = lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""
    start = max(0, min(column - 1 - _MAX_LINE // 2, len(text) - _MAX_LINE))
    near = text[start : start + _MAX_LINE]
    # under the place when shown below ``near`` in monospace: a Chinese character before it takes two columns
    caret = " " * display_width(near[:max(0, column - 1 - start)]) + "^"
    place = f"SPARQL 语法错误（第 {line} 行第 {column} 列）" + (f"：{what_zh}" if what_zh else "")
    return QueryError(
        f"{place} / SPARQL syntax error at line {line}, column {column}: {what}",
        # the line itself stays in the English half: a query's own " / " (a path, a division) would split the hint
        hint=hint or (f"请检查该处附近的查询文字 / check the query near: {near.strip()}" if near.strip()
                      else _CHECK_TEXT),
        details={"line": line, "column": column, "near": near, "caret": caret},
    )


def _undeclared_prefix(query: str, known: list[str]) -> tuple[str, int, list[str]] | None:
    """The first prefixed name's prefix that neither ``known`` nor the query's PREFIX declarations declare,
    where the name starts, and the prefixes declared; None when every prefix used is declared."""
    declared = list(known)
    declaring = False
    for kind, token, at in lex(query):
        if kind == "word" and token.upper() == "PREFIX":
            declaring = True
            continue
        if kind == "pname":
            prefix = token.split(":", 1)[0]
            if declaring:
                declared.append(prefix)
            elif prefix not in declared:
                return prefix, at, declared
        declaring = False
    return None


def _offset(query: str, line: int, column: int) -> int:
    """Where line ``line``, column ``column`` (both from 1, in characters, lines ended by LF) is in ``query``."""
    at = 0
    for _ in range(line - 1):
        found = query.find("\n", at)
        if found < 0:
            return len(query)
        at = found + 1
    return at + column - 1


def _line_column(query: str, offset: int) -> tuple[int, int]:
    return query.count("\n", 0, offset) + 1, offset - (query.rfind("\n", 0, offset) + 1) + 1


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


__all__ = ["engine_syntax_error", "syntax_error"]
