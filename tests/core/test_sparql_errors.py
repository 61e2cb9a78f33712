"""A broken query is told where and what, in a line: never the engine's dump of character classes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kg.errors import QueryError
from kg.safetext import display_width
from kg.store import Store


def _error(query: str) -> QueryError:
    with pytest.raises(QueryError) as info:
        Store.memory().select(query)
    e = info.value
    said = f"{e.message} {e.hint}"
    assert "\\u{" not in said and "['" not in said and len(e.message) < 200, said  # before: 600 characters
    assert e.http_status == 400 and e.message.startswith("SPARQL 语法错误（第 ")
    assert e.message.partition(" / ")[2].startswith("SPARQL syntax error at line ")  # the English as it was
    return e


def _pointed_at(e: QueryError) -> str:
    """The text the caret points at, from the error's details, shown in monospace (a Chinese character takes two
    columns)."""
    d = e.details
    columns = d["caret"].index("^")
    assert d["caret"] == " " * columns + "^"
    near = str(d["near"])
    at = next((i for i in range(len(near) + 1) if display_width(near[:i]) >= columns), len(near))
    assert display_width(near[:at]) == columns, "the caret points between the columns of a character"
    return near[at:]


@pytest.mark.parametrize(("query", "line", "column"), [
    ("SELECT * WHERE { ?s foo:bar ?o }", 1, 21),  # the engine listed "Prefix not found" among 600 characters
    ("SELECT * WHERE { foo:a ?p ?o }", 1, 18),  # the engine said "expected OPTIONAL"
    ("SELECT * WHERE {\n  ?s dcpa:p ?o .\n  ?s ?p ?o FILTER(?o = foo:x)\n}", 3, 24),  # it listed function names
])
def test_an_undeclared_prefix_is_named_with_the_declaration_to_add(query: str, line: int, column: int) -> None:
    e = _error(query)
    assert f"line {line}, column {column}: the prefix foo: is not declared" in e.message
    assert "add PREFIX foo: <…>" in e.message
    assert "dcpa:, dcpav:" in (e.hint or "")  # what the store declares itself
    assert (e.details["line"], e.details["column"]) == (line, column) and _pointed_at(e).startswith("foo:")


def test_a_misspelt_prefix_is_matched_to_the_declared_one() -> None:
    assert "did you mean dcpa:?" in (_error("SELECT * WHERE { ?s dcap:p ?o }").hint or "")
    e = _error("PREFIX local: <http://e/>\nSELECT * WHERE { ?s locl:p ?o }")
    assert "locl:" in e.message and "did you mean local:?" in (e.hint or "")


def test_a_declared_prefix_is_not_blamed() -> None:
    e = _error("PREFIX foo: <http://e/>\nSELECT * WHERE { ?s foo:p ?o FILTER(?o > ) }")
    assert "prefix" not in e.message and e.details["line"] == 2


@pytest.mark.parametrize(("query", "what", "hint"), [
    ("SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY (DATATYPE(?o))",
     "a variable of the SELECT is neither grouped nor aggregated", "GROUP BY (DATATYPE(?o) AS ?x)"),
    ("SELECT * WHERE { ?s ?p ?o } GROUP BY (DATATYPE(?o))", "SELECT * cannot be used with GROUP BY", "instead of *"),
])
def test_the_engines_own_sentence_is_said_with_what_to_do(query: str, what: str, hint: str) -> None:
    e = _error(query)
    assert e.message.endswith(what) and hint in (e.hint or "")


def test_what_the_engine_expected_is_listed_without_character_classes() -> None:
    e = _error("SELECT * WHERE { ?s ?p ?o ")
    assert e.message == ('SPARQL 语法错误（第 1 行第 27 列） / '
                         'SPARQL syntax error at line 1, column 27: expected ",", ".", ";", "{", "{|", "}", "~"')
    assert e.hint == "请检查该处附近的查询文字 / check the query near: SELECT * WHERE { ?s ?p ?o"


def test_a_place_that_wants_a_number_says_so() -> None:
    # the parser's digit class was dropped with the others: LIMIT x said "expected HAVING, OFFSET, OPTIONAL, VALUES",
    # OFFSET -1 that the query could not be read on
    store = Store.memory()
    for q in ("SELECT * WHERE { ?s ?p ?o } LIMIT x", "SELECT * WHERE { ?s ?p ?o } OFFSET -1"):
        with pytest.raises(QueryError) as e:
            store.select(q)
        assert "expected a number" in e.value.message


def test_the_caret_stands_under_the_place_on_a_line_with_chinese() -> None:
    """Shown under the line in a terminal or a monospaced font, the caret stood left of the place, by one column for
    every Chinese character before it (each takes two)."""
    e = _error('SELECT * WHERE { ?s ?p "数字文化" . ?s foo:bar ?o }')
    assert e.details["column"] == 36 and _pointed_at(e).startswith("foo:bar")
    assert e.details["caret"].index("^") == 35 + 4  # four Chinese characters before it


@pytest.mark.parametrize(("query", "english", "hint"), [
    ("SELECT * WHERE { ?s dcap:p ?o }", "the prefix dcap: is not declared: add PREFIX dcap: <…> before the query",
     "did you mean dcpa:? these prefixes need no declaration here: "),
    ("SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY (DATATYPE(?o))",
     "a variable of the SELECT is neither grouped nor aggregated", "with GROUP BY or an aggregate, select only"),
    ("SELECT (?o + 1 AS ?x) (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s",
     "an expression of the SELECT uses a variable that is neither grouped nor aggregated",
     "an expression may use only what is grouped"),
    ("SELECT * WHERE { ?s ?p ?o } GROUP BY ?s", "SELECT * cannot be used with GROUP BY", "instead of *"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT x", "expected a number", "check the query near: SELECT"),
])
def test_a_syntax_error_is_said_chinese_first(query: str, english: str, hint: str,
                                              zh_first: Callable[..., None]) -> None:
    """A researcher reads where the query is broken in Chinese first; the English as it was, for scripts."""
    e = _error(query)
    zh_first(e.message, english)
    zh_first(e.hint, hint)
    assert "第 1 行第 " in e.message.partition(" / ")[0]
