"""The lexical reading of a query: queries too deep for the engine are refused, and a plain query's form
and dataset, read from its tokens, are what the full parse says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api import sparql as sp
from api import sparql_scan
from api.sparql_scan import MAX_DEPTH, MAX_TERMS, scan
from kg.catalogue import load_catalogue
from kg.errors import QueryError, QueryRefused


def hostile(kind: str, n: int) -> str:
    """Queries whose syntax tree grows with ``n``: each crashed pyoxigraph 0.5.13 (a segmentation fault
    that kills the process) at the size given in api.sparql_scan's table."""
    return {
        "nested calls": "SELECT * { FILTER(" + "STR(" * n + "1" + ")" * n + ") }",
        "nested groups": "SELECT * { " * n + "}" * n,
        "negations": "SELECT * { FILTER(" + "!" * n + "true) }",
        "sum": "SELECT * { FILTER(" + "+".join(["1"] * n) + " = 0) }",
        "unions": "SELECT * { " + " UNION ".join(["{}"] * n) + " }",
        "binds": "SELECT * { " + " ".join(f"BIND(1 AS ?b{i})" for i in range(n)) + " }",
        "projections": "SELECT " + " ".join(f"(1 AS ?x{i})" for i in range(n)) + " {}",
        # "<" where the engine reads "less than": what follows up to ">" looks like an IRI, and is code
        "parentheses after <": "SELECT * { FILTER(?a<" + "(" * n + "1" + ")" * n + "&&?b>0) }",
        "negations after <": "SELECT * { FILTER(?a<" + "!" * n + "true&&?b>0) }",
    }[kind]


#: The smallest crash measured for each kind (api.sparql_scan), rounded down.
CRASHED_AT = {"nested calls": 960, "nested groups": 2_640, "negations": 9_440, "sum": 6_900, "unions": 6_680,
              "binds": 2_640, "projections": 2_650, "parentheses after <": 4_710, "negations after <": 9_600}


@pytest.mark.parametrize("kind", CRASHED_AT)
def test_queries_that_crashed_the_engine_are_refused_before_it_sees_them(kind: str) -> None:
    query = hostile(kind, CRASHED_AT[kind])
    assert len(query.encode()) <= 100_000  # under the endpoint's size limit: only this check stops them
    with pytest.raises(QueryError, match="too complex to run safely") as info:
        sp.analyse(query)
    assert not isinstance(info.value, QueryRefused)
    assert "limit is" in info.value.message and "VALUES" in (info.value.hint or "")


def test_code_inside_an_iri_is_counted_the_same_when_its_reading_is_remembered() -> None:
    """The reading of a short IRI's content is remembered (every query repeats its prefixes): a query nesting
    parentheses after "<" is refused on its second sending too, and one with long IRIs is read in full each
    time without filling the memory."""
    deep = hostile("parentheses after <", CRASHED_AT["parentheses after <"])
    for _ in range(2):
        with pytest.raises(QueryError, match="too complex"):
            sp.analyse(deep + " ")  # a new text each time: not the analysis cache, the IRI's reading
    inner = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)  # 203 characters: past what is remembered
    query = f"SELECT * WHERE {{ ?a ?b ?c FILTER(?a<{inner}&&?b>0) }}"
    remembered = sparql_scan._inside_remembered.cache_info().currsize
    assert [scan(query).depth for _ in range(2)] == [MAX_DEPTH + 3] * 2  # { and ( around it
    assert sparql_scan._inside_remembered.cache_info().currsize == remembered
    short = "(" * 60 + "1" + ")" * 60
    assert [scan(f"{form} {{ FILTER(?a<{short}&&?b>0) }}").depth for form in ("SELECT *", "ASK", "SELECT ?a")] \
        == [62] * 3  # read once, remembered twice


def largest_accepted(kind: str) -> int:
    """The largest ``n`` of a kind of :func:`hostile` query that the limits let through."""
    n = CRASHED_AT[kind]
    while (found := scan(hostile(kind, n))).depth > MAX_DEPTH or found.terms > MAX_TERMS:
        n -= 1 if n < 200 else n // 100
    return n


def test_the_limits_leave_room_below_every_crash() -> None:
    """Each kind at the largest size the limits accept is at most a third of its crash (measured); the
    endpoint runs them (tests/api/test_sparql_workers.py)."""
    for kind, crash in CRASHED_AT.items():
        assert largest_accepted(kind) * 3 <= crash, kind


def test_values_data_do_not_count() -> None:
    """A VALUES table is flat (40,000 values ran): long lists of codes stay possible."""
    codes = " ".join(f'"{210000000000 + i}"' for i in range(8_000))
    rows = " ".join(f'("{210000000000 + i}" {i})' for i in range(4_000))
    for query in (f"SELECT ?c {{ VALUES ?c {{ {codes} }} }}", f"SELECT ?c ?n {{ }} VALUES (?c ?n) {{ {rows} }}"):
        found = scan(query)
        assert found.terms < 20 and found.form == "SELECT"
    assert scan(f"SELECT * {{ FILTER(?c IN ({codes.replace(' ', ',')})) }}").terms > MAX_TERMS


def test_every_catalogue_query_is_read_from_its_tokens_as_the_parser_reads_it() -> None:
    for name, q in load_catalogue().items():
        found = scan(q.text)
        parsed = sp._parsed(q.text)
        assert isinstance(parsed, sp.Analysis), name
        assert found.form == parsed.form and found.has_dataset == parsed.has_dataset, name
        assert found.terms <= MAX_TERMS // 3 and found.depth <= MAX_DEPTH // 5, name


def test_a_plain_query_is_not_given_to_the_slow_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    parse = sp.sparql_parser.parseQuery

    def counted(text: str) -> object:
        calls.append(text)
        return parse(text)

    monkeypatch.setattr(sp.sparql_parser, "parseQuery", counted)
    text = load_catalogue()["needs_of_village"].text
    assert sp._analyse(text) == sp.Analysis("SELECT", False)
    assert calls == []
    assert sp._analyse(text + "\n# SERVICE") == sp.Analysis("SELECT", False)  # "service": the parser decides
    assert len(calls) == 1


@pytest.mark.parametrize(
    "query,form,dataset",
    [
        ("PREFIX ex: <http://e/> PREFIX : <http://f/> BASE <http://b/> ask { ?s ex:p :o }", "ASK", False),
        ("SELECT * FROM <http://g/a> { ?s ?p ?o }", "SELECT", True),
        ("prefix g: <http://g/> construct { ?s ?p ?o } from named g:b { GRAPH ?g { ?s ?p ?o } }", "CONSTRUCT", True),
        ('SELECT * { ?s ?p "FROM <http://g/a>" } # FROM <http://g/b>', "SELECT", False),
        ("SELECT ?from { ?from <http://e/from> ?fromage } ", "SELECT", False),
        ("DESCRIBE <http://e/x>", "DESCRIBE", False),
        ('VERSION "1.2" SELECT * {}', "SELECT", False),
    ],
)
def test_form_and_dataset_from_the_tokens(query: str, form: str, dataset: bool) -> None:
    found = scan(query)
    assert (found.form, found.has_dataset) == (form, dataset)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://e/> { } }",
        "SELECT * { ?s ?p ?o } # servicE",  # any "service" at all: left to the parser
        "SELECT * { ?s ?p 'ſervice' }",  # ſ case-folds to s
        "SELECT * { \\u0053ERVICE <http://e/> { } }",  # escapes expand before parsing
        "SELECT * { ?s ?p '\\u0041' }",
        "INSERT DATA { <a:b> <a:c> <a:d> }",
        "PREFIX select: <http://e/> DROP ALL",
        "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "SELECT * { ?s ?p ?o } \x00",  # a character no token starts with
        "p: SELECT * {}",
    ],
)
def test_what_the_tokens_cannot_settle_is_left_to_the_parser(query: str) -> None:
    assert scan(query).form is None


# Random texts from pieces that have fooled checks before: keywords in strings, IRIs, comments ended by
# CR, prefixes and variables named like keywords, escapes. Whatever the tokens settle, the full parse of
# the same text must agree with (or find a syntax error the engine will also find), never refuse.
PIECES = [
    "SELECT", "select", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "*", "{", "}", "(", ")", ".", ";", "<", ">",
    "?s", "?p", "?o", "$from", "<http://e/x>", "<http://e/#x>", '"x"', '"FROM"', "'''a\nb'''", "# c\n", "# c\r",
    "FROM", "NAMED", "PREFIX", "p:", "p:x", "from:", "BASE", "INSERT", "DATA", "LOAD", "DROP", "FILTER", "1",
    "VALUES", "UNION", "OPTIONAL", "GRAPH", "a", "@en", "^^", "_:b", "-1.5", "VERSION", '"1.2"',
]
SEPARATORS = [" ", "\n", "\r", "\t", ""]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), min_size=1, max_size=14))
def test_the_tokens_agree_with_the_parser(pieces: list[tuple[str, str]]) -> None:
    text = "".join(p + sep for p, sep in pieces)
    _check_agreement(text)


SUBJECTS = ["?s", "?from", "$FROM", "from:x", "p:select", "<http://e/#FROM>", "<http://e/x>", "_:from", "[]"]
PREDICATES = ["?p", "a", "from:x", "<http://e/#FROM>", "p:select"]
OBJECTS = [*SUBJECTS, '"FROM <http://g/>"', "'''a\nFROM <http://g/>'''", '"x"@en', '"1"^^<http://e/t>', "1", "true"]
DECLARATIONS = ["PREFIX p: <http://e/> ", "prefix from: <http://f/> ", "BASE <http://b/> ", "# FROM <http://g/>\r",
                "PREFIX : <http://e/> "]
FORMS = ["SELECT * ", "select distinct ?s ", "ASK ", "CONSTRUCT { ?s ?p ?o } ", "DESCRIBE ?s ", "SELECT (1 AS ?from) "]
DATASETS = ["FROM <http://g/a> ", "from named <http://g/b> ", "FROM p:g ", "# FROM <http://g/c>\n", ""]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(DECLARATIONS), max_size=3), st.sampled_from(FORMS),
       st.lists(st.sampled_from(DATASETS), max_size=2),
       st.lists(st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(PREDICATES), st.sampled_from(OBJECTS),
                          st.sampled_from(SEPARATORS)), min_size=1, max_size=4))
def test_the_tokens_agree_with_the_parser_on_queries(declarations: list[str], form: str, datasets: list[str],
                                                     triples: list[tuple[str, str, str, str]]) -> None:
    body = " ".join(f"{s} {p} {o} .{sep}" for s, p, o, sep in triples)
    text = "".join(declarations) + form + "".join(datasets) + "WHERE { " + body + " }"
    _check_agreement(text)


def _check_agreement(text: str) -> None:
    found = scan(text)
    if found.form is None:
        return
    parsed = sp._parsed(text)
    if isinstance(parsed, sp.Analysis):
        assert (parsed.form, parsed.has_dataset) == (found.form, found.has_dataset), text
    else:
        assert parsed.error is QueryError, (text, parsed.message)  # a syntax error, never a refusal
