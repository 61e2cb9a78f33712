"""Labels of nodes in both languages: the one place answers, pages and exports get names from.

Every node gets both a Chinese and an English label: its own in that language, else a plain
(untagged) one, else the other language's, else the last segment of its IRI — so a page never
shows an empty name and never mixes up which language it asked for. An area without an English
label is named in pinyin in English (后鸭鸡房村委会 → Houyajifang Cun), as place names are romanised.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..contract import StoreAPI
from ..facts import iri_values
from ..namespaces import area
from ..search import pinyin_name

#: Areas without an English label are named in pinyin on English pages (the national rule for place names).
_AREA_PREFIX = area("")

LANGS = ("zh", "en")

#: A run of Chinese in a text: Han characters with the punctuation between and around them ("示例·建平县图书馆",
#: "“十三五”时期"). Written with backslash-u escapes so that the browser (kg/viz/static/js/graph.js, from the
#: page's data) reads the same pattern as Python.
CHINESE_RUN = ("[\\u3000-\\u303f\\uff08\\uff09\\u201c\\u2018\\u00b7]*[\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff]"
               "[\\u3000-\\u303f\\uff00-\\uffef\\u2018\\u2019\\u201c\\u201d\\u00b7\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff]*")
_CHINESE = re.compile(CHINESE_RUN)
_LATIN = re.compile("[A-Za-z]")
#: The language tag a run is marked with (as the pages' <html lang>).
LANG_TAGS = {"zh": "zh-CN", "en": "en"}


def language_runs(text: str, page_lang: str) -> list[tuple[str, str | None]]:
    """``text`` cut into runs, each with the language tag a screen reader needs to read it aloud in the right
    voice, or None where the page's own language does: on an English page each run of Chinese (a village
    named only in Chinese, a Chinese-only label, the 村 of a definition) is Chinese; on a Chinese page a value
    with Latin letters and no Chinese at all (an English fallback label) is English."""
    if page_lang == "zh":
        return [(text, LANG_TAGS["en"] if _LATIN.search(text) and not _CHINESE.search(text) else None)]
    out: list[tuple[str, str | None]] = []
    at = 0
    for m in _CHINESE.finditer(text):
        if m.start() > at:
            out.append((text[at:m.start()], None))
        out.append((m.group(), LANG_TAGS["zh"]))
        at = m.end()
    if at < len(text) or not out:
        out.append((text[at:], None))
    return out


@dataclass(frozen=True, eq=False)
class Label:
    """A node's name in Chinese and English.

    An area without an English label is named in pinyin when its English name is first asked for: a
    province's plan names some 14,000 villages, and spelling them all took 3.6 s of it in Chinese, where
    no one reads them.
    """

    zh: str
    given_en: str | None = None  # None: the area's name in pinyin

    @property
    def en(self) -> str:
        return self.given_en if self.given_en is not None else pinyin_name(self.zh)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Label) and (self.zh, self.en) == (other.zh, other.en)

    def __hash__(self) -> int:
        return hash(self.zh)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def __getitem__(self, lang: str) -> str:  # templates and older callers write label["zh"]
        return self.get(lang)

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


def local_name(iri: str) -> str:
    """The last path or fragment segment of an IRI, as a fallback label."""
    for sep in ("#", "/"):
        if sep in iri:
            tail = iri.rsplit(sep, 1)[1]
            if tail:
                return tail
    return iri


def labels(store: StoreAPI, iris: Iterable[str]) -> dict[str, Label]:
    """``{iri: Label}`` from rdfs:label / skos:prefLabel, for every IRI asked (fallbacks as above)."""
    wanted = sorted({i for i in iris if i and i.startswith(("http://", "https://", "urn:"))})
    found: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for start in range(0, len(wanted), 500):  # VALUES blocks of a few hundred IRIs plan well
        chunk = iri_values(wanted[start : start + 500])
        for sol in store.query(f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {chunk} }} ?s rdfs:label|skos:prefLabel ?l }}"):
            s, lit = sol["s"], sol["l"]
            tag = (getattr(lit, "language", None) or "").lower()
            key = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else ""
            # skos:prefLabel and rdfs:label may both exist: keep the alphabetically first, for stable output
            prev = found[s.value].get(key)
            if prev is None or lit.value < prev[1]:
                found[s.value][key] = (0, lit.value)
    out: dict[str, Label] = {}
    for i in wanted:
        f = {k: v[1] for k, v in found.get(i, {}).items()}
        name = local_name(i)
        zh = f.get("zh") or f.get("") or f.get("en") or name
        en = f.get("en") or (None if i.startswith(_AREA_PREFIX) else f.get("") or f.get("zh") or name)
        out[i] = Label(zh, en)
    return out


def label_of(store: StoreAPI, iri: str) -> Label:
    return labels(store, [iri]).get(iri) or Label(local_name(iri), local_name(iri))


__all__ = ["CHINESE_RUN", "LANGS", "LANG_TAGS", "Label", "label_of", "labels", "language_runs", "local_name"]
