"""Area search: by Chinese name or any part of it, by code prefix, by pinyin (full or initials).

The one home of "find a place": ``/api/villages?q=``, ``/api/areas?q=``, ``dcpa search`` and the
pages' search boxes all call ``search``. Hits carry their township, county and city, so that the
many namesakes (there are dozens of 新民村) can be told apart, and are ranked: exact name or code
first (the name without its generic term is the name: 新民 or xinmin of 新民村 and 新民镇, not of
新民屯村; 岫岩县 of 岫岩满族自治县), then names that start with the query, then names that contain it;
within a rank, larger areas before smaller ones, then code order.

Why an index in memory instead of SPARQL: a ``CONTAINS`` filter over every label took 0.6–1.6 s
per request at province scale and grows with the store; the index answers from postings of the
names' characters and character pairs, and from sorted keys for prefixes (code, name, pinyin).

Areas are written only by ``dcpa build`` (the reference data and the example areas): imports and
record edits name villages but never add or rename one. So the index of an on-disk store is made
once per store version: the build saves it beside the version (``<version>.search.json``), a
process that opens that version loads it (about a second at national scale, where making it takes
ten, most of it in pinyin), and a new build makes a new version with its own index. An in-memory
store is indexed again after each of its writes. What a hit says about poverty is not in the index:
callers read it from the store for the page of hits they return, so it is always current.

Pinyin: every reading of a polyphonic character is indexed (长 as chang and zhang, 堡 as bao, bu and
pu), up to ``_MAX_READINGS`` spellings per name, so that 朝阳 is found by chaoyang whatever the
dictionary's first guess; the spelling shown is the dictionary's, corrected for the place names
listed in ``_PLACE_READINGS``.

Traditional characters: a query that finds nothing is searched again in simplified characters (OpenCC's t2s
table, ``opencc-python-reimplemented``), so 瀋陽 finds 沈阳 and 鐵東區 铁东区. Only then: t2s also turns 乾 into 干,
which would lose a simplified 乾安; the hits say what was searched (``Found.read_as``).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import logging
import os
import re
import tempfile
import threading
import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from . import codes, stamp
from .contract import StoreAPI
from .errors import QueryError
from .namespaces import area
from .safetext import typed
from .store import Store

log = logging.getLogger(__name__)

#: Bumped whenever the saved file's layout or what goes into it changes: older files are remade.
FORMAT = 7
SUFFIX = ".search.json"


class AreaLevel(StrEnum):
    """Levels of the statistical division, largest first (the API's ``level`` parameter)."""

    province = "province"
    city = "city"
    county = "county"
    township = "township"
    village = "village"


#: ontology class (local name) → level
LEVEL_OF_CLASS: dict[str, AreaLevel] = {cls: AreaLevel(level) for cls, level in codes.LEVEL_OF_CLASS.items()}
_LEVELS = list(AreaLevel)
#: The most specific class names a unit (a Town is also a Township): its rank in ``kg.codes.SPECIFICITY``.
_KIND_RANK = {cls: i for i, cls in enumerate(codes.SPECIFICITY)}

#: Endings of official names that people leave out when they search or speak of a place.
#: A village's or community's committee, as official names end (朱碌科村村民委员会) and people type them (新民村委会)
_COMMITTEES = ("村民委员会", "居民委员会", "村委会", "居委会")
_ENDINGS = (*_COMMITTEES, "委员会")
#: Readings of place names that the pinyin dictionary gets wrong as ordinary words (朝 is zhao in 朝代).
_PLACE_READINGS = {
    "朝阳": [["cháo"], ["yáng"]],
    "长海": [["cháng"], ["hǎi"]],
    "长兴": [["cháng"], ["xīng"]],
    "长岭": [["cháng"], ["lǐng"]],
    "长春": [["cháng"], ["chūn"]],
    "堡子": [["pù"], ["zi"]],
}
_MAX_READINGS = 16
#: Characters read differently in different place names (or often misread): every reading is indexed.
_POLYPHONES = {
    "长": ("chang", "zhang"), "朝": ("chao", "zhao"), "堡": ("bao", "bu", "pu"), "乐": ("le", "yue", "lao"),
    "重": ("chong", "zhong"), "单": ("dan", "shan"), "大": ("da", "dai"), "会": ("hui", "kuai"), "行": ("xing", "hang"),
    "石": ("shi", "dan"), "屯": ("tun", "zhun"), "泊": ("bo", "po"), "都": ("du", "dou"), "曾": ("zeng", "ceng"),
    "厦": ("xia", "sha"), "藏": ("zang", "cang"), "家": ("jia", "jie"), "沈": ("shen", "chen"), "解": ("xie", "jie"),
    "阿": ("a", "e"), "喀": ("ka", "ke"), "柏": ("bai", "bo"), "查": ("cha", "zha"), "盖": ("gai", "ge"),
    "尉": ("wei", "yu"), "便": ("bian", "pian"), "宿": ("su", "xiu"), "营": ("ying",),
    "蚌": ("beng", "bang"), "台": ("tai",), "洞": ("dong", "tong"), "沓": ("ta", "da"), "调": ("diao", "tiao"),
}
#: Generic terms of place names (longest first), written apart in pinyin.
_GENERIC = ("满族蒙古族自治县", "蒙古族自治县", "满族自治县", "朝鲜族乡", "满族乡", "蒙古族乡", "自治县", "经济开发区",
            "开发区", "街道", "社区", "新区", "省", "市", "区", "县", "旗", "镇", "乡", "村", "场", "屯")
_MAX_QUERY_TERMS = 5  # a whole address: province, city, county, township, village
#: Generic terms of place names in English, as written after a name in pinyin, and their pinyin
_ENGLISH_GENERIC = {"province": "sheng", "city": "shi", "county": "xian", "district": "qu", "town": "zhen",
                    "township": "xiang", "subdistrict": "jiedao", "street": "jiedao", "village": "cun",
                    "community": "shequ"}
#: Brackets around the place a name is in (新民村（沈北）); a few names have brackets of their own (辽宁（营口）…)
_BRACKETS = re.compile(r"[()（）\[\]［］【】〔〕]")
#: Dashes that split a code into groups (folded: a full-width dash is already "-")
_DASHES = str.maketrans("", "", "-‐‑‒–—")
#: How a hit matched, best first (the ranking's first key); "all": there was no query.
_MATCHES = ("exact", "prefix", "contains", "all")


@dataclass(frozen=True)
class Place:
    """One area as the index holds it."""

    code: str
    name: str  # the official name
    short: str  # without the official ending (满融村村民委员会 → 满融村)
    kind: str  # the ontology class: Village, UrbanCommunity, Township, ...
    level: AreaLevel
    pinyin: str  # shown: "Manrong Cun" (the proper name in one word, the generic term apart)
    parent: int  # position of the parent area in the index, -1 for none


@dataclass(frozen=True)
class Hit:
    """A search hit: the area, how it matched, and the areas containing it (largest first)."""

    place: Place
    match: str  # "exact" | "prefix" | "contains" | "all" (no query)
    within: tuple[Place, ...]

    @property
    def iri(self) -> str:
        return area(self.place.code)

    def to_dict(self) -> dict[str, Any]:
        p = self.place
        return {
            "code": p.code, "iri": self.iri, "name": p.name, "short_name": p.short, "pinyin": p.pinyin,
            "kind": p.kind, "level": p.level.value, "match": self.match,
            "within": [{"code": w.code, "name": w.name, "pinyin": w.pinyin, "level": w.level.value}
                       for w in self.within],
        }


@dataclass(frozen=True)
class Found:
    """One page of hits and how many there are in all."""

    total: int
    hits: list[Hit]
    #: The query in simplified characters, when the query as typed found nothing and this was searched instead.
    read_as: str | None = None


# -- making the index ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _pinyin() -> Any:
    """pypinyin with the place readings loaded, once per process: loading them retrains its segmenter
    (57 ms a time; a county's model page named 209 areas in pinyin and spent 12 s doing it again and again)."""
    import pypinyin  # imported when an index is made: loading its dictionaries takes ~0.3 s

    pypinyin.load_phrases_dict(_PLACE_READINGS)
    return pypinyin


def short_name(name: str) -> str:
    """The name people use: the official ending left out (满融村村民委员会 → 满融村, 新民村委会 → 新民村,
    朝阳居民委员会 → 朝阳社区), so that the bare place name (朝阳) stays a prefix of them all and the
    city or county of that name ranks first."""
    for ending in _ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            rest = name[: -len(ending)]
            if ending.startswith("村"):
                return rest if rest.endswith("村") else rest + "村"
            if ending.startswith("居"):
                return rest if rest.endswith("社区") else rest + "社区"
            return rest
    return name


def _village_of(term: str) -> str:
    """A village's or community's committee typed as such (朱碌科村委会, 新民村村民委员会) as the place it is of
    (朱碌科村, 新民村): official names end in any of these, and every 新民村 is meant."""
    return short_name(term) if term.endswith(_COMMITTEES) else term  # a committee alone stays as typed


#: The generic terms by their last character, longest first (each index load asks of 139,525 names nationally).
_GENERIC_BY_LAST: dict[str, tuple[str, ...]] = {}
for _term in _GENERIC:
    _GENERIC_BY_LAST[_term[-1]] = (*_GENERIC_BY_LAST.get(_term[-1], ()), _term)


def _generic(name: str) -> tuple[str, str]:
    """(the proper name, the generic term) of a place name: 水源地社区 → (水源地, 社区)."""
    for term in _GENERIC_BY_LAST.get(name[-1:], ()):
        if name.endswith(term) and len(name) > len(term):
            return name[: -len(term)], term
    return name, ""


#: An autonomous county or ethnic township, as people say it: 岫岩满族自治县 is 岫岩县, 太平岭满族乡 太平岭乡
_ETHNIC = re.compile(r"^(.{2,}?)(?:(?:满|蒙古|朝鲜|锡伯|回)族)+(自治县|乡)$")


#: The two whose common names are abbreviations, not the rule's (喀喇沁左翼县 is said by nobody)
_ABBREVIATED = {"喀喇沁左翼蒙古族自治县": ("喀左", "喀左县"), "阜新蒙古族自治县": ("阜蒙", "阜蒙县")}


def _said(name: str) -> tuple[str, ...]:
    """The names people use for an autonomous county or ethnic township (its nationalities left out)."""
    m = _ETHNIC.match(name)
    return () if m is None else (m[1] + m[2][-1], *_ABBREVIATED.get(name, ()))


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


#: What a key leaves out of folded text: all but ASCII letters and digits (folded text has no ASCII capitals).
_NOT_KEY = re.compile(r"[^0-9a-z]+")


def _keep(parts: Iterable[str]) -> str:
    """A key: letters and digits only, folded (阳光100 → yangguang100; （ and ） dropped). A pattern, not a test of each
    character: loading the national index read 121,279 example names' keys (示例·…) so, 1.1 s of its 4.4 s."""
    return _NOT_KEY.sub("", fold("".join(parts)))


def readings(name: str, pypinyin: Any = None) -> tuple[str, list[str], list[str]]:
    """(the spelling shown, every full spelling, every spelling by initials) of a name, lowercase keys.

    Characters that are not Chinese stay as they are (IT家园 → itjiayuan, initials itjy). The
    spelling shown follows the rule for Chinese place names in pinyin: the proper name in one word,
    the generic term apart (水源地社区 → Shuiyuandi Shequ).
    """
    shown = _spell(name, pypinyin or _pinyin())
    options = [[w, *[r for r in _POLYPHONES.get(ch, ()) if r != w]] if _is_han(ch) else [ch]
               for ch, w in zip(name, shown, strict=True)]
    combos = list(itertools.islice(itertools.product(*options), _MAX_READINGS))
    full = [k for k in dict.fromkeys(_keep(c) for c in combos) if k]
    initials = [k for k in dict.fromkeys(_keep(w[0] if _is_han(ch) else w for ch, w in zip(name, c, strict=True))
                                         for c in combos) if k]
    return _shown_text(name, shown), full, initials


def _spell(name: str, pypinyin: Any) -> list[str]:
    """One reading per character, the dictionary's (phrases read as phrases: 朝阳 → chao yang)."""
    shown = list(pypinyin.lazy_pinyin(name, style=pypinyin.Style.NORMAL, errors=lambda run: list(run)))
    return shown if len(shown) == len(name) else list(name)  # never seen; keep the characters alone


def _shown_text(name: str, shown: list[str]) -> str:
    """The spelling shown: the proper name in one word, the generic term apart (水源地社区 → Shuiyuandi Shequ)."""
    if not any(_is_han(ch) for ch in name):
        return ""
    proper, generic = _generic(name)
    cut = len(proper) if generic else len(name)
    words = ["".join(shown[:cut]).strip().capitalize(), "".join(shown[cut:]).strip().capitalize()]
    return " ".join(w for w in words if w)


@functools.lru_cache(maxsize=65536)
def pinyin_name(name: str) -> str:
    """A place's name in pinyin as the rule for Chinese place names writes it (the form people use, the
    proper name in one word, the generic term apart: 后鸭鸡房村委会 → Houyajifang Cun); the name itself
    when it has no Chinese characters. Pages in English show it where the graph has no English name."""
    short = short_name(name)  # the shown spelling only: every reading of every character is the index's work
    return _shown_text(short, _spell(short, _pinyin())) or name


def _rows(store: StoreAPI) -> list[tuple[str, str, str, str | None]]:
    """(code, name, class, parent code) of every area.

    Three plain patterns joined here: one query joining them took 25 s at national scale, these 8 s.
    """
    classes: dict[str, str] = {}
    for sol in store.query(f"SELECT ?a ?cls WHERE {{ VALUES ?cls {{ {' '.join('dcpa:' + c for c in LEVEL_OF_CLASS)} }} "
                           "?a a ?cls }"):
        a, cls = sol["a"].value, sol["cls"].value.rsplit("#", 1)[1]
        if _KIND_RANK.get(cls, 9) < _KIND_RANK.get(classes.get(a, ""), 9) or a not in classes:
            classes[a] = cls  # the most specific class (a Village is also a VillageLevelUnit)
    named: dict[str, tuple[int, str, str]] = {}  # area → (0: Chinese or untagged, 1: English; code; name)
    for sol in store.query("SELECT ?a ?code ?name WHERE { ?a dcpa:areaCode ?code ; rdfs:label ?name }"):
        a = sol["a"].value
        if a not in classes:
            continue
        english = int((getattr(sol["name"], "language", None) or "").lower().startswith("en"))
        candidate = (english, sol["code"].value, sol["name"].value)
        if a not in named or (candidate[0], candidate[2]) < (named[a][0], named[a][2]):
            named[a] = candidate  # the Chinese name; the English one only for an area that has no other
    parents = {sol["a"].value: sol["p"].value for sol in store.query("SELECT ?a ?p WHERE { ?a dcpa:parentArea ?p }")}
    out = []
    for a, (_english, code, name) in named.items():
        p = parents.get(a)
        out.append((code, name, classes[a], named[p][1] if p in named else None))
    return out


def _make_entries(store: StoreAPI) -> list[list[Any]]:
    """The saved form: ``[code, name, class, parent code, shown pinyin, full keys, initials keys]``."""
    pypinyin = _pinyin()
    out: list[list[Any]] = []
    for code, name, cls, parent in sorted(_rows(store), key=lambda r: (_LEVELS.index(LEVEL_OF_CLASS[r[2]]), r[0])):
        shown, full, initials = readings(short_name(name), pypinyin)
        out.append([code, name, cls, parent, shown, full, initials])
    return out


Ids = np.ndarray  # sorted, unique positions in the index (int64)
_EMPTY: Ids = np.zeros(0, dtype=np.int64)


def _ids(values: Iterable[int]) -> Ids:
    return np.unique(np.fromiter(values, dtype=np.int64))


def _in_intervals(a: Ids, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which ids of ``a`` fall in any of the half-open intervals ``[lo, hi)``."""
    if not len(lo):
        return np.zeros(len(a), dtype=bool)
    starts, ends = np.searchsorted(a, lo), np.searchsorted(a, hi)
    d = np.zeros(len(a) + 1, dtype=np.int64)
    np.add.at(d, starts, 1)
    np.add.at(d, ends, -1)
    return np.cumsum(d[:-1]) > 0


class Index:
    """The searchable form of every area (see the module's docstring).

    Positions (ids) are in rank order, larger levels first and then by code, so each level is one
    run of ids and, within a level, the areas inside one area are one run too (codes nest). Every
    lookup yields sorted id arrays; filters are interval masks over them, so a query costs what its
    page costs, plus masking its matches in numpy (at national scale, 139,525 areas: median 0.3 ms, p99
    22 ms, measured by `benchmarks/bench_search.py`).
    """

    def __init__(self, entries: Sequence[Sequence[Any]]) -> None:
        entries = sorted(entries, key=lambda e: (_LEVELS.index(LEVEL_OF_CLASS[str(e[2])]), str(e[0])))
        pos = {str(e[0]): i for i, e in enumerate(entries)}
        self.places: list[Place] = [
            Place(str(e[0]), str(e[1]), short_name(str(e[1])), str(e[2]), LEVEL_OF_CLASS[str(e[2])], str(e[4]),
                  pos.get(str(e[3] or ""), -1))
            for e in entries
        ]
        self.id_of = pos
        ranks = [_LEVELS.index(p.level) for p in self.places]
        self.level_start = {lv: bisect.bisect_left(ranks, i) for i, lv in enumerate(_LEVELS)}
        self.level_end = {lv: bisect.bisect_left(ranks, i + 1) for i, lv in enumerate(_LEVELS)}
        self.level_codes = {lv: np.array([p.code for p in self.places[self.level_start[lv]: self.level_end[lv]]])
                            for lv in _LEVELS}
        by_code = sorted((p.code, i) for i, p in enumerate(self.places))
        self._code_keys, self._code_ids = [c for c, _ in by_code], np.array([i for _, i in by_code], dtype=np.int64)
        folded = [fold(p.name) for p in self.places]
        self.folded = folded
        self._starts = {k: np.array([n[:k] for n in folded], dtype=f"<U{k}") for k in (1, 2)}
        by_name = sorted((n, i) for i, n in enumerate(folded))
        self._name_keys, self._name_ids = [n for n, _ in by_name], np.array([i for _, i in by_name], dtype=np.int64)
        exact: dict[str, list[int]] = {}
        aliases: dict[str, list[int]] = {}
        stems: list[tuple[str, int]] = []  # the shown spelling's proper name: "xinmin" of "Xinmin Cun"
        grams: dict[str, list[int]] = {}
        for i, p in enumerate(self.places):
            name, short = folded[i], fold(p.short)
            said = _said(short) if short[-1] in "县乡" else ()
            stem, generic = _generic(short)
            # the name without its generic term is the name (新民 of 新民村, 新民镇)
            stem = stem if generic and len(stem) > 1 else ""
            for n in (name, short, stem, *said) if short != name or stem or said else (name,):
                if n and (ids := exact.setdefault(n, [])) and ids[-1] == i:
                    continue  # named so twice (its short name is its name)
                if n:
                    ids.append(i)  # ids come in order: each list is sorted and unique
            for g in set(name) | {name[j: j + 2] for j in range(len(name) - 1)}:
                grams.setdefault(g, []).append(i)
            if stem and " " in p.pinyin:
                key = p.pinyin.split(" ")[0].lower()
                key = key if key.isascii() and key.isalnum() else _keep(key)
                stems += [(key, i), (key.replace("v", "u"), i)] if "v" in key else [(key, i)]
            for n in said:
                aliases.setdefault(n, []).append(i)
        self.exact = {k: np.array(v, dtype=np.int64) for k, v in exact.items()}
        #: the names people use that are not part of the official one (岫岩县 for 岫岩满族自治县)
        self.aliases = {k: np.array(v, dtype=np.int64) for k, v in aliases.items()}
        self.grams = {g: np.array(v, dtype=np.int64) for g, v in grams.items()}
        self.pinyin: list[tuple[list[str], Ids]] = []
        pinyin_exact: dict[str, list[int]] = {}
        for column in (5, 6):  # full spellings, then initials
            # ü is v in the keys (lvshun); typed as u too (lushun), where no keyboard has ü
            pairs: list[tuple[str, int]] = []
            for i, e in enumerate(entries):
                keys = [str(k) for k in e[column] if k]
                if any("v" in k for k in keys):  # a u spelling may be another reading's key of the same name
                    keys = list(dict.fromkeys([*keys, *(k.replace("v", "u") for k in keys if "v" in k)]))
                pairs += [(k, i) for k in keys]
            pairs.sort()
            self.pinyin.append(([k for k, _ in pairs], np.array([i for _, i in pairs], dtype=np.int64)))
            for k, i in pairs:
                pinyin_exact.setdefault(k, []).append(i)
        for k, i in stems:
            pinyin_exact.setdefault(k, []).append(i)
        self.pinyin_exact = {k: np.unique(np.array(v, dtype=np.int64)) for k, v in pinyin_exact.items()}
        self._kept: dict[int, tuple[Any, Ids]] = {}
        self._inside: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._level_starts = np.array([self.level_start[lv] for lv in _LEVELS], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.places)

    def find(self, code: str) -> Place | None:
        i = self.id_of.get(code)
        return None if i is None else self.places[i]

    def within(self, i: int) -> tuple[Place, ...]:
        chain: list[Place] = []
        p = self.places[i].parent
        while p >= 0 and len(chain) < 8:
            chain.append(self.places[p])
            p = self.places[p].parent
        return tuple(reversed(chain))

    def ids_of(self, codes: Iterable[str]) -> Ids:
        """The ids of area codes (remembered for a collection that is asked for again, e.g. a memoised set)."""
        kept = self._kept.get(id(codes))
        if kept is not None and kept[0] is codes:
            return kept[1]
        ids = _ids(i for c in codes if (i := self.id_of.get(c)) is not None)
        if isinstance(codes, frozenset):
            self._kept = {id(codes): (codes, ids)}  # the latest only: memoised sets change with the data
        return ids

    # -- one term -------------------------------------------------------------------------------
    @staticmethod
    def _range(keys: list[str], ids: Ids, prefix: str) -> Ids:
        lo = bisect.bisect_left(keys, prefix)
        hi = bisect.bisect_left(keys, prefix + "\U0010ffff")
        return ids[lo:hi]

    def _mark(self, ids: Ids, rank: np.ndarray, found: Ids, value: int) -> None:
        """Set ``rank`` to ``value`` where ``ids`` holds one of ``found`` (both sorted)."""
        if len(found) and len(ids):
            pos = np.searchsorted(ids, found)
            pos = pos[pos < len(ids)]
            rank[pos[np.isin(ids[pos], found)]] = value

    def term_matches(self, term: str) -> tuple[Ids, np.ndarray]:
        """The ids one term matches (sorted), and how each matched: 0 exact, 1 prefix, 2 contains."""
        if term.isdigit():
            ids = np.sort(self._range(self._code_keys, self._code_ids, term))
            if not len(ids) and len(term) == 12 and term.endswith("000"):  # padded as printed: 210113000000
                return self.term_matches(codes.unpadded(term))
            rank = np.ones(len(ids), dtype=np.int8)
            i = self.id_of.get(term)
            self._mark(ids, rank, _EMPTY if i is None else np.array([i], dtype=np.int64), 0)
            return ids, rank
        if term.isascii():
            key = "".join(ch for ch in term if ch.isalnum())
            if not key:
                return _EMPTY, np.zeros(0, dtype=np.int8)
            ids = np.unique(np.concatenate([self._range(k, found, key) for k, found in self.pinyin]))
            rank = np.ones(len(ids), dtype=np.int8)
            self._mark(ids, rank, self.pinyin_exact.get(key, _EMPTY), 0)
            return ids, rank
        if len(term) <= 2:
            ids = self.grams.get(term, _EMPTY)
        else:
            pairs = sorted((self.grams.get(term[j: j + 2], _EMPTY) for j in range(len(term) - 1)), key=len)
            ids = pairs[0]
            for more in pairs[1:]:
                if len(ids) < 64:
                    break
                ids = np.intersect1d(ids, more, assume_unique=True)
            ids = np.array([i for i in ids.tolist() if term in self.folded[i]], dtype=np.int64)
        if term in self.aliases:
            ids = np.union1d(ids, self.aliases[term])
        rank = np.full(len(ids), 2, dtype=np.int8)
        if len(term) <= 2:  # vectorised: the first one or two characters of every name are kept apart
            rank[self._starts[len(term)][ids] == term] = 1
        elif len(ids):
            rank[np.array([self.folded[i].startswith(term) for i in ids.tolist()])] = 1
        self._mark(ids, rank, self.exact.get(term, _EMPTY), 0)
        return ids, rank

    def under(self, code: str) -> tuple[np.ndarray, np.ndarray]:
        """Intervals ``[lo, hi)`` of the ids of the area with this code and the areas inside it (none: no such area)."""
        if code not in self.id_of:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at = [(self.level_start[lv] + np.searchsorted(self.level_codes[lv], [code, code + ":"]))
              for lv in _LEVELS[_LEVELS.index(self.places[self.id_of[code]].level):]]
        return np.array([a[0] for a in at], dtype=np.int64), np.array([a[1] for a in at], dtype=np.int64)

    def inside(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Intervals ``[lo, hi)`` of the ids of the areas inside the larger areas a further term names.

        Remembered for the index's last 256 terms, and the named areas' levels read from their ids: a query of
        frequent words that finds nothing is tried with each word as the name inside the others (an address typed
        largest area first), which asked this 20 times and took 164 ms nationally (示例 第 1 县 乡)."""
        kept = self._inside.get(term)
        if kept is not None:
            return kept
        ids, _ = self.term_matches(term)
        named = ids[: np.searchsorted(ids, self.level_end[AreaLevel.township])]
        ranks = np.searchsorted(self._level_starts, named, side="right") - 1  # ids are in level order
        codes = np.array([self.places[i].code for i in named.tolist()], dtype=str)
        lo, hi = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for rank, lv in enumerate(_LEVELS):
            chosen = codes[ranks < rank]  # an area is not inside itself
            if len(chosen):
                at, start = self.level_codes[lv], self.level_start[lv]
                lo.append(start + np.searchsorted(at, chosen))
                hi.append(start + np.searchsorted(at, np.char.add(chosen, ":")))  # ':' follows '9'
        found = np.concatenate(lo), np.concatenate(hi)
        if len(self._inside) >= 256:
            self._inside.clear()
        self._inside[term] = found
        return found


def fold(text: str) -> str:
    """Text as matching compares it, names and queries alike: NFKC (full-width forms, （） → ()), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def searchable(text: str) -> str:
    """Text as a search compares it with the words of a query: folded, apostrophes dropped (xi'an, Children's)."""
    return fold(text).replace("'", "").replace("’", "")


def toneless(term: str) -> str:
    """Pinyin as the index keys it: tone marks dropped and ü written v (Xīnmín → xinmin, lǚ → lv), as copied from a
    dictionary or typed on a keyboard that has them. Marks on Latin letters only: a Chinese name stays as it is."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", term):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            if ch == "\u0308" and out[-1] in "uU":
                out[-1] = "v"
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def normalise(q: str) -> list[str]:
    """The terms of a query, folded, split at spaces and commas (apostrophes of pinyin dropped); read as typed
    (``kg.safetext.typed``): a zero-width space pasted with a name from a chat found nothing."""
    terms = _words(q)
    if len(terms) > _MAX_QUERY_TERMS:
        raise QueryError(f"搜索词有 {len(terms)} 个，最多 {_MAX_QUERY_TERMS} 个 / "
                         f"the search has {len(terms)} words; at most {_MAX_QUERY_TERMS}",
                         hint="请按名称搜索，再加上乡镇或县名以区分同名地区 / "
                         "search by name, then add the township or county to tell namesakes apart")
    return terms


def _words(q: str) -> list[str]:
    return searchable(typed(q)).replace(",", " ").split()


def blank(q: str) -> bool:
    """Whether ``q`` holds nothing to search for once read (spaces, a zero-width character pasted alone): searched,
    it would list every area of the country. The CLI and the API refuse it, as they refuse an empty one."""
    return not _words(q)


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC  # its tables are read once, when a query first finds nothing (9 ms)

    return OpenCC("t2s")


def simplified(q: str) -> str:
    """``q`` in simplified characters (瀋陽 → 沈阳): OpenCC's table, characters and phrases."""
    return str(_t2s().convert(q))


def search(store: StoreAPI, q: str, *, levels: Iterable[AreaLevel] | None = None, limit: int = 20, offset: int = 0,
           only: Iterable[str] | None = None, excluding: Iterable[str] | None = None,
           near: str | None = None) -> Found:
    """Areas matching ``q`` (a name or part of it, a code prefix, or pinyin), ranked; see the module docstring.

    Further words narrow the first by place: ``新民 沈北`` finds the 新民 in 沈北新区. ``only`` and
    ``excluding`` (area codes) filter the hits further, e.g. to the registered poor villages. A query in
    traditional characters that finds nothing is searched in simplified ones (``Found.read_as``). ``near`` (an
    area code: the area a page is about) puts the areas inside it first within each rank.
    """
    # each read twice when the query is searched again
    lv = None if levels is None else list(levels)
    inside = None if only is None else list(only)
    outside = None if excluding is None else list(excluding)
    found = _search(store, q, lv, limit, offset, inside, outside, near)
    if found.total == 0 and (unbracketed := _BRACKETS.sub(" ", q)) != q:  # 新民村（沈北新区）: a further word
        try:
            again = _search(store, unbracketed, lv, limit, offset, inside, outside, near)
        except QueryError:  # more words than a search takes, once split: it was typed as fewer
            again = found
        if again.total:
            q, found = unbracketed, again
    if found.total == 0 and any(_is_han(ch) for ch in q) and (s := simplified(q)) != q:
        again = _search(store, s, lv, limit, offset, inside, outside, near)
        # what was searched, as it reads: without a zero-width character or stray spaces pasted with it
        return Found(again.total, again.hits, " ".join(typed(s).split())) if again.total else found
    return found


def _search(store: StoreAPI, q: str, levels: Iterable[AreaLevel] | None, limit: int, offset: int,
            only: Iterable[str] | None, excluding: Iterable[str] | None, near: str | None = None) -> Found:
    terms = [_village_of(toneless(t)) for t in normalise(q)]
    if terms and all(t.translate(_DASHES).isdigit() for t in terms):
        terms = ["".join(t.translate(_DASHES) for t in terms)]  # a code as printed, in groups: 210113 014, 210113-014
    ix = index_of(store)
    terms = _english_generic(ix, terms)
    terms = _syllables(ix, terms)
    wanted = sorted({AreaLevel(lv) for lv in levels} if levels else set(AreaLevel), key=_LEVELS.index)
    spans = (np.array([ix.level_start[lv] for lv in wanted]), np.array([ix.level_end[lv] for lv in wanted]))
    only_ids = None if only is None else ix.ids_of(only)
    excluded = None if excluding is None else ix.ids_of(excluding)
    local = ix.under(near) if near else None
    found = _ranked(ix, terms, spans, only_ids, excluded, limit, offset, local)
    # An address names the largest area first (沈阳 沈北 新民村): when the first word as the name finds nothing, the
    # last, then the others, each inside the areas the rest name
    for k in [*range(len(terms) - 1, 0, -1)] if not found.total else []:
        again = _ranked(ix, [terms[k], *terms[:k], *terms[k + 1:]], spans, only_ids, excluded, limit, offset, local)
        if again.total:
            return again
    # and written without spaces (沈阳市沈北新区新民村): the areas it starts with, then the name inside them
    parts = [] if found.total else [part for t in terms for part in _address(ix, t)]
    if len(parts) > len(terms):
        return _ranked(ix, [parts[-1], *parts[:-1]], spans, only_ids, excluded, limit, offset, local)
    return found


def _address(ix: Index, term: str) -> list[str]:
    """A term as the parts of an address, largest first: each the longest start that names an area larger than a
    village (沈阳市, 沈阳, 岫岩县), the rest last (沈阳市沈北新区新民村 → 沈阳市, 沈北新区, 新民村); [term] if none."""
    parts: list[str] = []
    rest = term
    while len(rest) > 3 and rest not in ix.exact:  # a name is not cut (新民村: 新民 names 新民市)
        cut = next((k for k in range(len(rest) - 2, 1, -1)
                    if len(named := ix.exact.get(rest[:k], _EMPTY)) and named[0] < ix.level_start[AreaLevel.village]),
                   0)
        if not cut:
            break
        parts.append(rest[:cut])
        rest = rest[cut:]
    # an address names at most the four areas above a village: more is not one (新民新民新民…)
    return [*parts, rest] if len(parts) < len(_LEVELS) else [term]


def _syllables(ix: Index, terms: list[str]) -> list[str]:
    """Pinyin written in syllables as words: each run of them joined as long as the joined word names something
    ("shen yang" is shenyang, "xin min cun shen bei" xinmincun and shenbei)."""
    out: list[str] = []
    i = 0
    while i < len(terms):
        j = i + 1
        if terms[i].isascii() and terms[i].isalpha():
            run = i + 1
            while run < len(terms) and terms[run].isascii() and terms[run].isalpha():
                run += 1
            j = next((k for k in range(run, i + 1, -1) if len(ix.term_matches("".join(terms[i:k]))[0])), i + 1)
        out.append("".join(terms[i:j]))
        i = j
    return out


def _english_generic(ix: Index, terms: list[str]) -> list[str]:
    """Pinyin followed by a generic term in English (Shenyang City, Xinmin Village) as the pinyin of both
    (shenyangshi, xinmincun); the English word left out where that names nothing (Shenbei District: 沈北新区)."""
    out: list[str] = []
    for t in terms:
        spelled = _ENGLISH_GENERIC.get(t)
        if spelled is None or not out or not (out[-1].isascii() and out[-1].isalpha()):
            out.append(t)
        elif len(ix.term_matches(out[-1] + spelled)[0]):
            out[-1] += spelled
    return out


def _ranked(ix: Index, terms: list[str], spans: tuple[np.ndarray, np.ndarray], only_ids: Ids | None,
            excluded: Ids | None, limit: int, offset: int,
            local: tuple[np.ndarray, np.ndarray] | None = None) -> Found:
    """One page of the areas the first term names inside the areas the further terms name, ranked (those inside
    the intervals ``local`` first within each rank)."""
    narrow = [ix.inside(t) for t in terms[1:]]
    if terms:
        ids, rank = ix.term_matches(terms[0])
    else:  # no query: every area of the levels asked, in rank order
        ids = np.arange(len(ix), dtype=np.int64)
        rank = np.full(len(ids), 3, dtype=np.int8)
    mask = _in_intervals(ids, *spans)
    for lo, hi in narrow:
        mask &= _in_intervals(ids, lo, hi)
    if only_ids is not None:
        mask &= np.isin(ids, only_ids, assume_unique=True)
    if excluded is not None:
        mask &= ~np.isin(ids, excluded, assume_unique=True)
    ids, rank = ids[mask], rank[mask]
    total = len(ids)
    if local is not None:  # within a rank, the areas inside the page's own first: a stable sort keeps the rest
        order = np.lexsort((~_in_intervals(ids, *local), rank))
        ids, rank = ids[order], rank[order]
    page: list[tuple[int, str]] = []
    skip = offset
    for value, how in enumerate(_MATCHES):
        if len(page) >= limit:
            break
        tier = ids[rank == value]
        page += [(i, how) for i in tier[skip: skip + limit - len(page)].tolist()]
        skip = max(0, skip - len(tier))
    return Found(total, [Hit(ix.places[i], m, ix.within(i)) for i, m in page])


# -- keeping the index --------------------------------------------------------------------------

_lock = threading.Lock()
_making = threading.RLock()  # one index made or loaded at a time; the others wait for it, then find it
_on_disk: dict[str, Index] = {}  # the version directory → its index (areas never change within a version)
_in_memory: weakref.WeakKeyDictionary[StoreAPI, tuple[tuple[int, str | None], Index]] = weakref.WeakKeyDictionary()


def saved_file(version: Path) -> Path:
    """Where the index of a store version is saved: beside it, so that RocksDB never sees the file."""
    return version.parent / f"{version.name}{SUFFIX}"


def _load(path: Path) -> Index | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("the saved search index %s is unreadable (%s); making it again", path, e)
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    try:
        return Index(data["entries"])
    except (KeyError, IndexError, TypeError, ValueError) as e:
        log.warning("the saved search index %s is damaged (%s); making it again", path, e)
        return None


def save(store: StoreAPI, version: Path) -> int:
    """Make the index of ``store`` and save it beside its version directory; returns the areas indexed."""
    entries = _make_entries(store)
    target = saved_file(version)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT, "entries": entries}, fh, ensure_ascii=False, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(entries)


def preload(store: StoreAPI) -> bool:
    """Load the index saved beside the store's version, if there is one (a server, at start): neither reads
    the store nor writes a file, so it cannot hold up a build that replaces the version meanwhile."""
    real = _built_version(store)
    if real is None:
        return False
    with _making:
        with _lock:
            if str(real) in _on_disk:
                return True
        loaded = _load(saved_file(real))
        if loaded is None:
            return False
        with _lock:
            _on_disk[str(real)] = loaded
        return True


def index_of(store: StoreAPI) -> Index:
    """The index of the store's areas, made or loaded once per store version (in memory: per write; a
    remote store: per write of this process and per build, ``kg.stamp``, since others may rebuild it).
    One at a time: a server warms it up while its first searches come in (1.9 s at national scale)."""
    with _making:
        return _index_of(store)


def _built_version(store: StoreAPI) -> Path | None:
    """The version directory of a built store (None: in memory, remote, or not a built version)."""
    real = getattr(store, "real_path", None)
    return Path(real) if real is not None and Path(real).parent.name.endswith(".versions") else None


def _index_of(store: StoreAPI) -> Index:
    real = _built_version(store)
    if real is None:
        generation = getattr(store, "generation", 0)
        data = (generation, None if isinstance(store, Store) else stamp.read(store))
        with _lock:
            kept = _in_memory.get(store)
        if kept is not None and kept[0] == data:
            return kept[1]
        made = Index(_make_entries(store))
        if getattr(store, "generation", 0) == generation:
            with _lock:
                _in_memory[store] = (data, made)
        return made
    key = str(real)
    with _lock:
        if key in _on_disk:
            return _on_disk[key]
    made_or_loaded = _load(saved_file(real))
    if made_or_loaded is None:
        try:
            save(store, real)
            made_or_loaded = _load(saved_file(real))
        except OSError as e:  # a read-only place: index in memory only
            log.warning("cannot save the search index beside %s: %s", real, e)
        if made_or_loaded is None:
            made_or_loaded = Index(_make_entries(store))
    with _lock:
        for old in [k for k in _on_disk if not Path(k).exists()]:  # versions removed since
            del _on_disk[old]
        _on_disk[key] = made_or_loaded
    return made_or_loaded


__all__ = ["FORMAT", "LEVEL_OF_CLASS", "SUFFIX", "AreaLevel", "Found", "Hit", "Index", "Place", "index_of",
           "normalise", "preload", "readings", "save", "saved_file", "search", "short_name"]
