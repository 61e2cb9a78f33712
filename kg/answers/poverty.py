"""Poverty status and targeting: which villages are registered poor, for which causes, and which needs
those causes link to — the one home of poverty targeting for recommendations and plans.

A village comes first when it has a poverty status of type PS1 (建档立卡贫困村), also after it exited
(PS4 脱贫村, or PS1 with an exit year: the 2021–2025 transition kept support for villages that left
poverty), or has households under monitoring against a return to poverty (PS6, from 2020); a county's
PS2/PS3/PS5 status (key, national or former poverty county) puts its villages second. Example statuses
(``dcpa:isSynthetic``) are never shown as a real registration (nor as a real poor county), never weigh a real
need in a plan, and ``real_only`` ignores them.
Causes link to need types through ``dcpa:causeLinkedNeedType`` — the project's judgement, stated as
such in the vocabulary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..contract import StoreAPI
from ..facts import area_values, code_of, iri_values, run_parallel
from ..memo import per_data
from ..namespaces import DCPAV
from ..rule import prefixes

#: Village statuses that put a village first, and how a plan names each (English; ``kg.answers.plan_tables``
#: says it in Chinese): registered poor (PS1), lifted out of poverty (PS4: the 2021–2025 transition kept
#: supporting it), households under monitoring against a return to poverty (PS6, from 2020).
VILLAGE_STATUS_WORDS = {
    str(DCPAV.PS1): "registered poor village",
    str(DCPAV.PS4): "village lifted out of poverty",
    str(DCPAV.PS6): "village monitored against a return to poverty",
}
POOR_VILLAGE_TYPES = tuple(VILLAGE_STATUS_WORDS)
#: County statuses that put its villages second: key county (PS2), national poverty county (PS3), removed from
#: the list (PS5).
POOR_COUNTY_TYPES = (str(DCPAV.PS2), str(DCPAV.PS3), str(DCPAV.PS5))


@dataclass(frozen=True)
class StatusFacts:
    """One recorded poverty status of an area."""

    iri: str
    area: str  # code
    status_type: str | None
    registered_year: str | None
    exit_year: str | None
    causes: tuple[str, ...]
    example: bool


@dataclass
class Poverty:
    """The poverty situation of a village, as targeting uses it."""

    village: str
    statuses: list[StatusFacts] = field(default_factory=list)  # of the village and of the areas containing it

    def registered(self, real_only: bool = False) -> StatusFacts | None:
        """The village's own registration as a poor village (None when it has none): a real one first."""
        return _first_real((s for s in self.statuses if s.area == self.village and s.status_type in POOR_VILLAGE_TYPES),
                           real_only)

    def poor_county(self, real_only: bool = False) -> StatusFacts | None:
        """The status of an area containing the village as a poor county (None when none has one): a real one first."""
        return _first_real((s for s in self.statuses if s.area != self.village and s.status_type in POOR_COUNTY_TYPES),
                           real_only)

    def county_words(self, real_only: bool = False) -> str:
        """Why the village comes second, in words; "" when it does not."""
        county = self.poor_county(real_only)
        if county is None:
            return ""
        return "in a key, national or former poverty county" + (" (example data)" if county.example else "")

    def status_words(self, real_only: bool = False) -> str:
        """Why the village comes first, in words ("registered poor village (example data)"); "" when it does not."""
        reg = self.registered(real_only)
        if reg is None:
            return ""
        return VILLAGE_STATUS_WORDS[reg.status_type or ""] + (" (example data)" if reg.example else "")

    def priority(self, real_only: bool = False) -> int:
        """2 a village that comes first (``POOR_VILLAGE_TYPES``), 1 in a poor county, 0 otherwise."""
        if self.registered(real_only):
            return 2
        return 1 if self.poor_county(real_only) else 0

    def causes(self, real_only: bool = False) -> set[str]:
        return {c for s in self.statuses if not (real_only and s.example) for c in s.causes}

    def to_dict(self, real_only: bool = False) -> dict[str, Any]:
        reg, county = self.registered(real_only), self.poor_county(real_only)
        return {
            "priority": self.priority(real_only),
            "registered_poor_village": reg is not None and not reg.example,
            "example_registration": reg is not None and reg.example,
            "in_poor_county": county is not None and not county.example,  # as registered_poor_village: real only
            "example_county_status": county is not None and county.example,
            "causes": sorted(self.causes(real_only)),
        }


def _first_real(statuses: Iterable[StatusFacts], real_only: bool) -> StatusFacts | None:
    """A real status if there is one, else (unless ``real_only``) an example one."""
    found = list(statuses)
    return next((s for s in found if not s.example), None) or (None if real_only else next(iter(found), None))


def poverty_of(store: StoreAPI, villages: Iterable[str]) -> dict[str, Poverty]:
    """The poverty situation of each village (codes), from its own status and its areas'."""
    villages = sorted(set(villages))
    out = {v: Poverty(v) for v in villages}
    if not villages:
        return out
    areas = sorted({a for v in villages for a in prefixes(v)})
    rows = run_parallel(store, [(
        f"SELECT ?a ?st ?type ?reg ?exit ?cause ?ex WHERE {{ VALUES ?a {{ {area_values(areas)} }} "
        "?a dcpa:povertyStatus ?st . OPTIONAL { ?st dcpa:statusType ?type } OPTIONAL { ?st dcpa:registeredYear ?reg } "
        "OPTIONAL { ?st dcpa:exitYear ?exit } OPTIONAL { ?st dcpa:povertyCause ?cause } "
        "OPTIONAL { ?st dcpa:isSynthetic ?ex } }", {})])[0]
    by_status: dict[str, dict[str, Any]] = {}
    for a, st, typ, reg, ex_year, cause, ex in rows:
        d = by_status.setdefault(str(st), {"area": code_of(str(a)), "type": typ, "reg": reg, "exit": ex_year,
                                           "causes": set(), "ex": ex == "true"})
        if cause:
            d["causes"].add(cause)
    for st, d in sorted(by_status.items()):
        facts = StatusFacts(st, d["area"], d["type"], d["reg"], d["exit"], tuple(sorted(d["causes"])), d["ex"])
        for v in villages:
            if v.startswith(d["area"]):
                out[v].statuses.append(facts)
    return out


@per_data(4)
def registered_poor_villages(store: StoreAPI, real_only: bool = False) -> frozenset[str]:
    """Codes of the villages that come first (registered poor, lifted out, monitored: ``POOR_VILLAGE_TYPES``);
    example registrations unless ``real_only``."""
    real = " FILTER NOT EXISTS { ?st dcpa:isSynthetic true }" if real_only else ""
    rows = store.select(f"SELECT DISTINCT ?a WHERE {{ ?a dcpa:povertyStatus ?st . "
                        f"?st dcpa:statusType ?type . VALUES ?type {{ {iri_values(POOR_VILLAGE_TYPES)} }}{real} }}")
    return frozenset(code_of(r["a"]) for r in rows)


def cause_links(store: StoreAPI) -> dict[str, set[str]]:
    """poverty cause → need types linked to it (the project's judgement, from the vocabulary)."""
    out: dict[str, set[str]] = defaultdict(set)
    for c, t in run_parallel(store, [("SELECT ?c ?t WHERE { ?c dcpa:causeLinkedNeedType ?t }", {})])[0]:
        if c and t:
            out[c].add(t)
    return dict(out)


def linked_types(poverty: Poverty, links: dict[str, set[str]], real_only: bool = False) -> dict[str, str]:
    """need type → the cause linking it, for a village's causes (need types and their narrower types
    are matched by the caller through the need-type tree)."""
    out: dict[str, str] = {}
    for cause in sorted(poverty.causes(real_only)):
        for t in sorted(links.get(cause, ())):
            out.setdefault(t, cause)
    return out


__all__ = ["Poverty", "StatusFacts", "cause_links", "linked_types", "poverty_of"]
