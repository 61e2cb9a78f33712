"""The tokens of a SPARQL query, by the terminals of the SPARQL 1.1/1.2 grammar (strings, IRIs and comments
read whole), without a parse.

One lexer for what reads a query's text: ``api.sparql_scan`` (its size, nesting and form, before the engine
sees it) and ``kg.sparql_errors`` (the prefix a broken query uses without declaring it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# The terminals of the SPARQL 1.1 grammar (§19.8) and SPARQL 1.2's additions (triple terms, reifiers,
# annotations, base directions), in the order tried at each position.
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_ECHAR = r"\\[tbnrf\\\"']"
_EXP = r"[eE][+-]?[0-9]+"
_TOKEN = re.compile(
    "|".join(
        f"(?P<{name}>{pattern})"
        for name, pattern in [
            ("ws", r"[ \t\r\n]+"),
            ("comment", r"#[^\r\n]*"),
            ("iri", r"<[^<>\"{}|^`\\\x00-\x20]*>"),
            ("string", f"'''(?:(?:'|'')?(?:[^'\\\\]|{_ECHAR}))*'''"
                       f'|"""(?:(?:"|"")?(?:[^"\\\\]|{_ECHAR}))*"""'
                       f"|'(?:[^'\\\\\\n\\r]|{_ECHAR})*'"
                       f'|"(?:[^"\\\\\\n\\r]|{_ECHAR})*"'),
            ("var", f"[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"),
            ("blank", f"_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"),
            ("langtag", r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?:--[a-zA-Z]+)?"),
            ("number", f"[0-9]+\\.[0-9]*(?:{_EXP})?|\\.[0-9]+(?:{_EXP})?|[0-9]+(?:{_EXP})?"),
            ("word", r"[A-Za-z_][A-Za-z0-9_]*"),
            ("open", r"<<\(|<<|\{\||[{(\[]"),
            ("close", r"\)>>|>>|\|\}|[})\]]"),
            ("punct", r"\^\^|&&|\|\||!=|<=|>=|[.,;*/|^!=<>+\-?~]"),
        ]
    )
)
# Prefixed names are matched apart: tried at every letter, a prefix pattern rescans the rest of a run like
# "a.a.a.…" each time (quadratic: 39 s for 98 KB). A run of name characters is read once, and a prefixed
# name tried only where the run ends in ":".
_PNAME = re.compile(f"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?")
_RUN = re.compile(f"[{_PN_CHARS_BASE}][{_PN_CHARS}.]*")
_SKIPPED = frozenset({"ws", "comment"})
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")




def unescape(text: str) -> str:
    """SPARQL's codepoint escapes, expanded before parsing as the grammar says (and Oxigraph does)."""
    def char(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else m.group(0)
    return _ESCAPE.sub(char, text)


def lex(text: str) -> Iterator[tuple[str | None, str, int]]:
    """(kind, token, where it starts) for every token of ``text`` but white space and comments; kind None for
    a character no token starts with."""
    pos, end = 0, len(text)
    run_end, run_prefixed = 0, False  # the run of name characters last read, and whether ":" ends it
    match = _TOKEN.match
    while pos < end:
        m = None
        if text[pos] == ":":
            m = _PNAME.match(text, pos)
        elif pos >= run_end and (run := _RUN.match(text, pos)) is not None:
            run_end = run.end()
            run_prefixed = text.startswith(":", run_end) and text[run_end - 1] != "."
        if m is None and pos < run_end and run_prefixed:
            m = _PNAME.match(text, pos)
        if m is not None:
            yield "pname", m.group(), pos
        elif (m := match(text, pos)) is not None:
            if m.lastgroup not in _SKIPPED:
                yield m.lastgroup, m.group(), pos
        else:
            yield None, text[pos], pos
            pos += 1
            continue
        pos = m.end()
