"""A lexical reading of a SPARQL query, by the tokens of the SPARQL 1.1/1.2 grammar: its size, its nesting,
and, when that is certain, its form and dataset without the slow parser.

Two things are decided here.

**How big the query's tree is.** Oxigraph's parser and evaluator recurse over the query's syntax tree,
and a deep enough tree overflows the stack, which kills the process (a segmentation fault, not an
exception). Measured with pyoxigraph 0.5.13 (main thread, 8 MB stack), the smallest crashes found:

* nested function calls ``STR(STR(…))``: about 940 deep (2,850 tokens);
* nested groups or sub-selects ``{ SELECT * { … } }``: about 2,600 deep;
* a chain of ``!`` (``FILTER(!!!…true)``): about 9,300 tokens, one per level;
* ``1+1+…``, ``UNION``, ``BIND``, ``MINUS``, ``(1 AS ?x)``: 6,900, 6,600, 2,600, 2,600 and 2,600 of them
  (13,600–21,000 tokens);
* ``FILTER(?a<((…(1)…))&&?b>0)``: about 4,700 deep, all of it inside what looks like an IRI (``<…>``), so
  an IRI's content counts as code too.

rdflib's parser read several of these (a 16 KB ``1+1+…``, 3,000 BINDs in 51 KB: under the endpoint's
100 KB limit), so a single request could crash a query worker. :data:`MAX_DEPTH` and :data:`MAX_TERMS`
keep a query within a ninth of the depth and a third of the length of the smallest crash found. The
data of a ``VALUES`` block is a flat table and is not counted (40,000 values ran), so long lists of
values stay possible there.

**The form and dataset of a plain query, without rdflib.** rdflib's parser takes 35–100 ms for a 2–4 KB
catalogue query (2 ms for a 100-character one), against a few milliseconds for the whole answer of a point
lookup on the engine. The refusals need a parse for one reason: no spelling may get a ``SERVICE`` (or an
update, or ``LOAD``) past the check. A query whose text holds no ``service`` in any case (after Unicode
case folding) and no ``\\u``/``\\U`` escape (which SPARQL expands before parsing) cannot hold a
``SERVICE`` for any parser; if its tokens then open with a prologue and ``SELECT``, ``ASK``, ``CONSTRUCT``
or ``DESCRIBE``, it is a query (updates start with other keywords and Oxigraph's query parser refuses
them), and ``FROM`` among its keyword tokens says whether it names its dataset. Everything else (and every
text the lexer, ``kg.sparql_lex``, cannot read) goes to rdflib's parse as before. A plain query with a syntax
error is then found by the engine's own parser, which the caller reports (:func:`api.sparql.run_query`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kg.sparql_lex import lex, unescape

#: Deepest bracket nesting (``{ ( [ <<``) accepted: a ninth of the shallowest crash measured (above).
MAX_DEPTH = 100
#: Most tokens accepted outside ``VALUES`` data: a third of the shortest crash measured (above); the
#: largest catalogue query has 677 (model_stages).
MAX_TERMS = 3_000

_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})


@dataclass(frozen=True)
class Scan:
    """What the tokens say: size and depth always; form and dataset only for a plain query."""

    terms: int  # tokens outside VALUES data, comments and white space aside
    depth: int  # deepest bracket nesting
    form: str | None = None  # SELECT/ASK/CONSTRUCT/DESCRIBE when certain without a parse, else None
    has_dataset: bool = False  # FROM or FROM NAMED (meaningful only with a form)


def scan(query: str) -> Scan:
    """Read ``query`` token by token (never fails: an unknown character counts as one token)."""
    escaped = "\\u" in query or "\\U" in query
    text = unescape(query) if escaped else query
    plain = not escaped and "service" not in query.casefold()
    terms = depth = deepest = 0
    values_at: int | None = None  # depth of the VALUES block being read, its data uncounted
    after_values = False
    head: list[tuple[str, str]] = []  # the tokens up to the first keyword after the prologue
    head_done = False
    has_from = False
    for kind, token, _ in lex(text):
        if not head_done:
            word = token.upper() if kind == "word" else None
            head.append((kind or "", word or token))
            head_done = word is not None and word not in _PROLOGUE
        if kind is None:  # not a SPARQL token: counted, and the form is left to the parser
            plain = False
        elif kind == "open":
            depth += 1
            deepest = max(deepest, depth)
            if after_values and token == "{":
                values_at, after_values = depth, False
        elif kind == "close":
            if values_at is not None and depth == values_at and token == "}":
                values_at = None
            depth = max(0, depth - 1)
        elif kind == "iri" and values_at is None:
            # Where the engine expects an operator, "<" is "less than" and what this reads as an IRI is
            # code: ?a<((…(1)…))&&?b>0 is a valid query. Its content counts as code too (read once: an IRI
            # holds no "<" nor "{", so no IRI and no VALUES block within).
            inner_terms, inner_depth = _inside(token[1:-1])
            terms += inner_terms
            deepest = max(deepest, depth + inner_depth)
        elif kind == "word":
            upper = token.upper()
            if upper == "VALUES":
                after_values = True
            elif upper == "FROM":
                has_from = True
        if values_at is None:
            terms += 1
    form = _form(head) if plain and head_done else None
    return Scan(terms=terms, depth=deepest, form=form, has_dataset=has_from and form is not None)


#: IRIs up to this length have their reading as code remembered (``_inside``): every query repeats the same
#: prefixes' IRIs, and a bound on the length bounds the memory a hostile text can fill it with.
_REMEMBERED_IRI = 200


def _inside(content: str) -> tuple[int, int]:
    """(terms, depth) of an IRI's content read as code (see ``scan``).

    Why remembered: the 20 IRIs of a ``needs_of_village`` lookup (16 of them its prefixes) were a third of
    its 0.61-ms reading, which a query worker spends on every text it has not seen.
    """
    if len(content) > _REMEMBERED_IRI:
        inner = scan(content)
        return inner.terms, inner.depth
    return _inside_remembered(content)


@lru_cache(maxsize=4096)
def _inside_remembered(content: str) -> tuple[int, int]:
    inner = scan(content)
    return inner.terms, inner.depth


_PROLOGUE = frozenset({"BASE", "PREFIX", "VERSION"})


def _form(head: list[tuple[str, str]]) -> str | None:
    """The query form after the prologue (BASE <iri>, PREFIX p: <iri>, VERSION "…"), if it is one."""
    kinds = [k for k, _ in head]
    i = 0
    while i < len(head):
        kind, t = head[i]
        if kind != "word":
            return None
        if t == "BASE" and kinds[i + 1 : i + 2] == ["iri"]:
            i += 2
        elif t == "PREFIX" and kinds[i + 1 : i + 3] == ["pname", "iri"] and head[i + 1][1].endswith(":"):
            i += 3
        elif t == "VERSION" and kinds[i + 1 : i + 2] == ["string"]:
            i += 2
        else:
            return t if t in _FORMS else None
    return None
