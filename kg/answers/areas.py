"""Administrative areas: the one resolver from an official code to the area answers talk about.

Codes nest by prefix (province 2 digits, city 4, county 6, township 9, village-level unit 12), so the
areas containing one are its code's prefixes; the graph says which exist and what they are called.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..codes import LEVEL_BY_CODE_LENGTH, SPECIFICITY, normal_code, unpadded
from ..contract import StoreAPI
from ..errors import NotFound
from ..facts import area_values
from ..namespaces import DCPA, area
from ..rule import CODE_LENGTHS, prefixes
from .labels import Label, labels, local_name

_CODE_HINT = ("地区代码有 2、4、6、9 或 12 位数字（如 21 是辽宁省，村级是 12 位） / "
              "area codes have 2, 4, 6, 9 or 12 digits (e.g. 21 for Liaoning, 12 digits for a village)")
#: The most specific class wins when an area has several (a Town is also a Township).
_CLASS_ORDER = (*SPECIFICITY, "AdministrativeArea")


@dataclass(frozen=True)
class AreaRef:
    """An area by code and name."""

    code: str
    label: Label

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label.to_dict()}


@dataclass(frozen=True)
class Area:
    """An administrative area as the answers need it."""

    iri: str
    code: str
    level: str  # province / city / county / township / village
    kind: str  # its class: Village, UrbanCommunity, Township…
    label: Label
    within: tuple[AreaRef, ...] = field(default=())  # the areas containing it, province first

    @property
    def is_village(self) -> bool:
        return self.level == "village"

    @property
    def parent(self) -> AreaRef | None:
        return self.within[-1] if self.within else None

    def breadcrumb(self) -> list[AreaRef]:
        """Province → … → this area."""
        return [*self.within, AreaRef(self.code, self.label)]

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "code": self.code, "level": self.level, "kind": self.kind,
                "label": self.label.to_dict(), "within": [a.to_dict() for a in self.within]}


def valid_code(code: str) -> bool:
    """Whether ``code`` is written as the graph writes codes: 2, 4, 6, 9 or 12 ASCII digits."""
    return code.isascii() and code.isdigit() and len(code) in CODE_LENGTHS


def resolve_area(store: StoreAPI, code: str) -> Area:
    """The area with an official code, as typed (``kg.codes.normal_code``: ``２１０１`` is 2101); NotFound (with a
    hint) when the code is malformed or unknown. The ``Area`` carries the code as the graph writes it."""
    code = normal_code(code)
    try:
        return resolve_areas(store, [code])[code]
    except NotFound as typed_as:
        if len(code) != 12 or (short := unpadded(code)) == code:
            raise
        try:
            return resolve_areas(store, [short])[short]  # 210113000000, as the statistics print 沈北新区
        except NotFound:
            raise typed_as from None  # the code as it was typed, not as it was read


def resolve_areas(store: StoreAPI, codes: Iterable[str]) -> dict[str, Area]:
    """The areas with these official codes, in three queries however many (a county's model page resolves
    its 300 villages with gaps: one at a time that was 300 x 3 queries); NotFound names the first unknown. The
    one entry of a typed code (``kg.codes.normal_code``): the answer is keyed by the codes as the graph writes them."""
    codes = sorted({normal_code(c) for c in codes})
    for code in codes:
        if not valid_code(code):
            raise NotFound(f"没有代码为 {code!r} 的地区 / no area with code {code!r}", hint=_CODE_HINT)
    if not codes:
        return {}
    # select() reads the results to the end here: an engine iterator kept alive by the frames of the
    # NotFound below would be dropped on the event loop's thread, which Oxigraph forbids
    classes: dict[str, set[str]] = {}
    for r in store.select("SELECT ?scope ?cls WHERE { VALUES ?scope { " + area_values(codes) + " } "
                          "?scope dcpa:areaCode ?c ; a ?cls }"):
        classes.setdefault(r["scope"], set()).add(r["cls"])
    for code in codes:
        if area(code) not in classes:
            raise NotFound(f"图谱中没有代码为 {code} 的地区 / no area with code {code} in the graph",
                           hint="请核对代码，或用页面上的搜索框按名称查找 / check the code, or find the area by "
                                "name: the pages' search box, `dcpa search NAME` or /api/villages?q=NAME (or run "
                                "`dcpa build` first)")
    ups = sorted({c for code in codes for c in prefixes(code)[:-1]})
    names = labels(store, [area(c) for c in {*ups, *codes}])
    existing = {r["a"] for r in store.select(
        f"SELECT ?a WHERE {{ VALUES ?a {{ {area_values(ups)} }} ?a dcpa:areaCode ?x }}")} if ups else set()
    out = {}
    for code in codes:
        iri = area(code)
        kinds = [local_name(c) for c in classes[iri] if c.startswith(str(DCPA))]
        kind = min(kinds, key=lambda k: _CLASS_ORDER.index(k) if k in _CLASS_ORDER else len(_CLASS_ORDER)) \
            if kinds else "AdministrativeArea"
        within = tuple(AreaRef(c, names[area(c)]) for c in prefixes(code)[:-1] if area(c) in existing)
        out[code] = Area(iri, code, LEVEL_BY_CODE_LENGTH[len(code)], kind, names[iri], within)
    return out


def child_areas(store: StoreAPI, code: str | None) -> list[AreaRef]:
    """The areas one level below ``code`` (the provinces when ``code`` is None), in code order."""
    if code:
        q = "SELECT ?scope ?a ?c WHERE { ?a dcpa:parentArea ?scope ; dcpa:areaCode ?c }"
        rows = [(s["a"].value, s["c"].value) for s in store.query(q, bindings={"scope": ox.NamedNode(area(code))})]
    else:
        rows = [(s["a"].value, s["c"].value) for s in store.query("SELECT ?a ?c WHERE { ?a a dcpa:Province ; "
                                                                   "dcpa:areaCode ?c }")]
    names = labels(store, [a for a, _ in rows])
    return [AreaRef(c, names[a]) for a, c in sorted(rows, key=lambda r: r[1])]


__all__ = ["LEVEL_BY_CODE_LENGTH", "Area", "AreaRef", "child_areas", "resolve_area", "resolve_areas", "valid_code"]
