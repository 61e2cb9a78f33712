"""Seeded generator of honest example data: poverty status, needs, libraries, resources, interventions.

Nothing here is a real fact, and the graph says so: every generated node is ``dcpa:isSynthetic true``,
derives from ``id:source/synthetic-example`` and has labels starting with ``示例·`` / ``Example: ``.
It exists so that every query has something to answer before users import survey data, and so that
benchmarks can run at province and national scale.

The generator writes N-Triples straight to a binary stream (about ten million lines at national scale),
drawing every random number from one ``random.Random(seed)`` in a fixed order: the same parameters give
byte-identical output.

Areas: villages are sampled from the real hierarchy (whole townships, spread over a few counties). When
more villages are asked for than exist, the rest live in a fictitious province ``99`` (a code the NBS
never uses) with a complete synthetic hierarchy, so that area queries still work.
"""

from __future__ import annotations

import io
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import BinaryIO

from rdflib import RDF, SKOS, Graph, Literal, URIRef

from . import codes, sourced
from . import reference as ref
from .errors import NotFound
from .namespaces import DCPAV, ID, area, node
from .reference import T_DERIVED, T_LABEL, T_TYPE, dcpa, iri, lit, triple
from .resources import ontology_graph

log = logging.getLogger(__name__)

SYNTHETIC_SOURCE = node("source", "synthetic-example")
SYNTHETIC_PROVINCE = "99"
GENERATOR_VERSION = "3"  # 3: resources named in English by their library, not their IRI

#: The date the example data describes: interventions starting after it are planned, those ending before it
#: completed, the others active. Fixed, so that the same parameters always give the same data; answers are
#: for today (``settings.as_of``), so the example data ages like real data would.
REFERENCE_DATE = date(2026, 6, 30)

ZH = "示例·"
PROV_QUOTED = "http://www.w3.org/ns/prov#wasQuotedFrom"
EN = "Example: "

Progress = Callable[[int, int], None]

# How many units each level of the fictitious hierarchy holds.
VILLAGES_PER_TOWNSHIP = 12
#: How many fictitious counties a city and villages a township can number within the code rules' ranges
#: (县 21–80, 村民委员会 200–399).
_COUNTY_SLOTS, _VILLAGE_SLOTS = 60, 199
TOWNSHIPS_PER_COUNTY = 14

RESOURCE_CLASSES = {"R1": "DigitalResource", "R2": "Terminal", "R3": "TrainingCourse", "R4": "Platform"}
CAPACITY_UNITS = {"R1": "份", "R2": "台", "R3": "期", "R4": "个"}
UNIT_COST = {"R1": (200, 3000), "R2": (800, 6000), "R3": (500, 5000), "R4": (2000, 30000)}
CATEGORY_RESOURCE = {"C1": "R3", "C2": "R2", "C3": "R1", "C4": "R4"}
#: Resource types delivered online: an intervention using one reaches every village of an area it targets.
ONLINE_TYPES = {"R11", "R12", "R13", "R14", "R15", "R42", "R43"}
#: Months an intervention of each category runs (min, max).
DURATION = {"C1": (1, 6), "C2": (1, 3), "C3": (6, 24), "C4": (6, 24)}
CATEGORY_INDICATORS = {
    "C1": ("I01", "I06", "I05", "I07"),
    "C2": ("I03", "I04", "I05"),
    "C3": ("I02", "I06", "I08"),
    "C4": ("I04", "I02", "I05"),
}
#: Funding sources and technologies of example interventions (``dcpav:FundingSources``, ``dcpav:Technologies``).
FUNDING = ("FS1", "FS2", "FS3", "FS4", "FS5")
TECHNOLOGY = ("TE1", "TE2", "TE4", "TE5", "TE6", "TE3")


@dataclass(frozen=True)
class Concept:
    code: str
    zh: str
    en: str
    top: str  # notation of its top concept (itself for a top concept)


@dataclass(frozen=True)
class Vocab:
    need_types: tuple[Concept, ...]  # the narrow types surveys record (N11…), not the broad ones (N1…)
    resource_types: tuple[Concept, ...]  # narrow types only (R11…)
    categories: tuple[Concept, ...]
    causes: tuple[Concept, ...]
    indicators: tuple[Concept, ...]


def _scheme(g: Graph, scheme: str) -> tuple[Concept, ...]:
    out = []
    for c in g.subjects(SKOS.inScheme, URIRef(DCPAV[scheme])):
        code = str(g.value(c, SKOS.notation))
        labels = {lbl.language: str(lbl) for lbl in g.objects(c, SKOS.prefLabel) if isinstance(lbl, Literal)}
        broader = g.value(c, SKOS.broader)
        top = str(g.value(broader, SKOS.notation)) if broader is not None else code
        out.append(Concept(code, labels.get("zh", code), labels.get("en", code), top))
    return tuple(sorted(out, key=lambda c: c.code))


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    """The SKOS schemes the generator draws from, read from ``ontology/vocab.ttl``."""
    g = ontology_graph()
    if not any(g.triples((None, RDF.type, SKOS.ConceptScheme))):
        # for developers: the package's own vocabulary
        raise NotFound("the ontology has no SKOS schemes", hint="check ontology/vocab.ttl")
    resources = tuple(c for c in _scheme(g, "ResourceTypes") if c.top != c.code)
    return Vocab(
        need_types=tuple(c for c in _scheme(g, "NeedTypes") if c.top != c.code),
        resource_types=resources,
        categories=_scheme(g, "InterventionCategories"),
        causes=_scheme(g, "PovertyCauses"),
        indicators=_scheme(g, "Indicators"),
    )


# ---------------------------------------------------------------------------
# Choosing the areas
# ---------------------------------------------------------------------------


@dataclass
class Unit:
    """An area the generator works over (real or fictitious)."""

    code: str
    name: str
    parent: str | None
    level: int
    cls: str = "Village"


@dataclass
class AreaPlan:
    villages: list[Unit]
    units: dict[str, Unit]  # every area by code: real ancestors and synthetic ones
    synthetic: list[Unit] = field(default_factory=list)  # fictitious units to write, parents first


@lru_cache(maxsize=1)
def real_libraries() -> dict[tuple[str, str], dict[str, str]]:
    """(class, area code) → the first real library of ``libraries.csv`` of that kind in that area."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for r in sourced.libraries():
        out.setdefault((sourced.LIBRARY_CLASSES[r["level"]], r["area_code"]), r)
    return out


def _real_units() -> dict[str, Unit]:
    return {a.code: Unit(a.code, a.name, a.parent, a.level, ref.area_class(a.code, a.name)) for a in ref.areas()}


def sample_villages(units: dict[str, Unit], scope: list[Unit], n: int, rng: random.Random) -> list[Unit]:
    """``n`` village-level units as whole townships spread over a few (mostly rural) counties.

    Whole townships make township and county questions meaningful; rural counties first because that is
    where poverty villages were. Only the last township taken may be cut short to hit ``n`` exactly.
    """
    if n >= len(scope):
        return list(scope)
    towns: dict[str, list[Unit]] = {}
    for v in scope:
        towns.setdefault(v.parent or "", []).append(v)
    counties: dict[str, list[str]] = {}
    for t in towns:
        counties.setdefault(units[t].parent or "", []).append(t)

    def rural_share(c: str) -> float:
        vs = [v for t in counties[c] for v in towns[t]]
        return sum(v.cls == "Village" for v in vs) / len(vs)

    order = sorted(counties)
    rng.shuffle(order)
    order.sort(key=lambda c: rural_share(c) < 0.5)  # stable: rural counties first, shuffled within
    k = max(1, min(len(order), math.ceil(math.sqrt(n / VILLAGES_PER_TOWNSHIP))))
    queues = {c: rng.sample(counties[c], len(counties[c])) for c in order}
    chosen: list[Unit] = []
    active = order[:k]
    rest = order[k:]
    while len(chosen) < n:
        if not active:
            active, rest = rest[:k], rest[k:]
        for c in list(active):
            if len(chosen) >= n:
                break
            if queues[c]:
                chosen.extend(towns[queues[c].pop()])
            else:
                active.remove(c)
    return chosen[:n]


def synthetic_hierarchy(extra: int, *, villages_per_township: int = VILLAGES_PER_TOWNSHIP) -> list[Unit]:
    """A fictitious province ``99`` with ``extra`` villages: cities, counties, townships, villages.

    Codes follow the NBS layout (2/4/6/9/12 digits), so code-prefix queries work as for real areas, and the
    official code rules (``kg.codes``): its counties are numbered 21–80 (县), its townships 200–399 (乡) and
    its villages 200–399 (村民委员会), as their names say.
    """
    per_county = TOWNSHIPS_PER_COUNTY * villages_per_township
    counties_needed = math.ceil(extra / per_county)
    per_city = max(10, math.ceil(counties_needed / 99))
    if per_city > _COUNTY_SLOTS or villages_per_township > _VILLAGE_SLOTS:
        raise ValueError(f"虚构省的代码空间容不下另外 {extra} 个村 / "
                         f"{extra} extra villages do not fit the fictitious province's code space")
    out = [Unit(SYNTHETIC_PROVINCE, "虚构省", None, 0, "Province")]
    made = 0
    city_i = county_i = 0
    while made < extra:
        city_i += 1
        city = f"{SYNTHETIC_PROVINCE}{city_i:02d}"
        out.append(Unit(city, f"第{city_i}市", SYNTHETIC_PROVINCE, 1, "PrefectureCity"))
        for county_i in range(1, per_city + 1):
            if made >= extra:
                break
            county = f"{city}{20 + county_i:02d}"
            out.append(Unit(county, f"第{city_i}市第{county_i}县", city, 2, "County"))
            for town_i in range(1, TOWNSHIPS_PER_COUNTY + 1):
                if made >= extra:
                    break
                town = f"{county}{200 + town_i:03d}"
                out.append(Unit(town, f"第{county_i}县第{town_i}乡", county, 3, "RuralTownship"))
                for v_i in range(1, villages_per_township + 1):
                    if made >= extra:
                        break
                    out.append(Unit(f"{town}{200 + v_i:03d}", f"第{town_i}乡第{v_i}村", town, 4, "Village"))
                    made += 1
    return out


#: The cited facts that weigh the cities (``liaoning_facts.csv``): the province's poor people able to work
#: (F09), and the two cities the same source gives figures for (F16 葫芦岛市, F17 朝阳市).
PROVINCE_POOR_FACT, CITY_POOR_FACTS = "F09", ("F16", "F17")


def city_weights() -> dict[str, float]:
    """Each Liaoning city's weight for example data: its poor people able to work where a cited fact gives
    them; the rest of the provincial figure shared evenly by the cities no fact names (an assumption, stated in
    docs/DATA_MODEL.md), so that example data gathers where the cited facts put poverty."""
    by_id = {r["id"]: r for r in ref.facts()}
    cities = ref.city_codes_by_name()
    named = {cities[by_id[f]["subject"]]: float(by_id[f]["value"]) for f in CITY_POOR_FACTS}
    total = float(by_id[PROVINCE_POOR_FACT]["value"])
    rest = [c for c in sorted(cities.values()) if c not in named]
    share = (total - sum(named.values())) / len(rest)
    return {c: named.get(c, share) for c in sorted(cities.values())}


def allocate(n: int, weights: dict[str, float], sizes: dict[str, int], floor: int) -> dict[str, int]:
    """``n`` villages over areas in proportion to ``weights`` (largest remainders), each area at least
    ``floor`` (as far as ``n`` allows) and none more than ``sizes`` holds."""
    keys = [k for k in sorted(weights) if sizes.get(k)]
    base = {k: min(sizes[k], floor, n // max(1, len(keys))) for k in keys}
    left = n - sum(base.values())
    while left > 0:
        open_ = [k for k in keys if base[k] < sizes[k]]
        if not open_:
            break
        total = sum(weights[k] for k in open_)
        raw = {k: left * weights[k] / total for k in open_}
        give = {k: min(sizes[k] - base[k], int(raw[k])) for k in open_}
        if not any(give.values()):  # hand out the remainder, largest fractions first
            for k in sorted(open_, key=lambda k: (-(raw[k] - int(raw[k])), k))[:left]:
                give[k] = 1
        for k, g in give.items():
            base[k] += g
        left = n - sum(base.values())
    return base


def plan_areas(
    villages: int,
    rng: random.Random,
    *,
    area_code: str | None = None,
    villages_per_township: int = VILLAGES_PER_TOWNSHIP,
) -> AreaPlan:
    """Which village-level units get example data (real ones first, then fictitious ones)."""
    units = _real_units()
    if area_code is not None and area_code not in units:
        raise NotFound(
            f"参考数据中没有代码为 {area_code!r} 的地区 / no area with code {area_code!r} in the reference data",
            hint="请使用正式的区划代码，如 21（辽宁省）、2101（沈阳市）或 210112（浑南区） / "
            "use an official code such as 21 (Liaoning), 2101 (Shenyang) or 210112 (Hunnan District)",
        )
    scope = [u for u in units.values() if u.level == 4 and (area_code is None or u.code.startswith(area_code))]
    if area_code is not None and units[area_code].level == 4:
        scope = [units[area_code]]
    by_city: dict[str, list[Unit]] = {}
    for u in scope:
        by_city.setdefault(u.code[:4], []).append(u)
    if len(by_city) > 1 and villages < len(scope):  # every city, weighted toward where the facts put poverty
        weights = {c: w for c, w in city_weights().items() if c in by_city}
        shares = allocate(villages, weights, {c: len(v) for c, v in by_city.items()}, VILLAGES_PER_TOWNSHIP)
        chosen = [u for c in sorted(shares) for u in sample_villages(units, by_city[c], shares[c], rng)]
    else:
        chosen = sample_villages(units, scope, villages, rng)
    plan = AreaPlan(chosen, units)
    extra = villages - len(chosen)
    if extra > 0:
        log.info("%d villages beyond the %d real ones go into fictitious province 99", extra, len(chosen))
        plan.synthetic = synthetic_hierarchy(extra, villages_per_township=villages_per_township)
        for u in plan.synthetic:
            units[u.code] = u
        plan.villages.extend(u for u in plan.synthetic if u.level == 4)
    return plan


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


@dataclass
class GenerateReport:
    villages: int = 0
    synthetic_areas: int = 0
    triples: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n


_TRUE = lit("true", "boolean")
_P = {
    name: dcpa(name)
    for name in (
        "isSynthetic areaCode parentArea withinArea povertyStatus statusType registeredYear exitYear "
        "poorHouseholds poorPopulation povertyCause needOf needType severity peopleAffected identifiedOn "
        "locatedIn serves branchOf heldBy resourceType capacity capacityUnit unitCost category providedBy "
        "targetsArea usesResource supportedBy partOfProgramme interventionStatus startDate endDate budget "
        "fundedBy personnelCount volunteerCount usesTechnology personnelInput personnelRole personCount "
        "aggregateOf aggregateYear mainCause householdCategory householdCount "
        "intervieweeRole interviewedOn interviewPlace interviewer consentGiven anonymisation quoteText supportsNeed "
        "evaluates indicator evaluatedArea "
        "baselineValue targetValue actualValue periodStart periodEnd peopleReached villageCapacity inServiceUntil"
    ).split()
}


class _Writer:
    """Accumulates N-Triples lines and flushes them to the byte stream in large blocks."""

    def __init__(self, out: BinaryIO, report: GenerateReport) -> None:
        self.out, self.report = out, report
        self.buf: list[str] = []
        self.src = iri(SYNTHETIC_SOURCE)

    def node(self, s: str, cls: str, zh: str, en: str, kind: str) -> None:
        """Type, both labels, the synthetic flag and the source: what every generated node has."""
        self.buf.append(
            f"{s} {T_TYPE} {dcpa(cls)} .\n"
            f"{s} {T_LABEL} {lit(ZH + zh, lang='zh')} .\n"
            f"{s} {T_LABEL} {lit(EN + en, lang='en')} .\n"
            f"{s} {_P['isSynthetic']} {_TRUE} .\n"
            f"{s} {T_DERIVED} {self.src} .\n"
        )
        self.report.add(kind)
        if len(self.buf) > 20_000:  # keep memory flat however large the output
            self.flush()

    def add(self, s: str, p: str, o: str) -> None:
        self.buf.append(f"{s} {_P[p]} {o} .\n")

    def flush(self) -> None:
        if self.buf:
            text = "".join(self.buf)
            self.report.triples += text.count("\n")
            self.out.write(text.encode("utf-8"))
            self.buf = []


def _date(rng: random.Random, first_year: int = 2016, last_year: int = 2020) -> tuple[int, int, int]:
    return rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28)


def _d(y: int, m: int, d: int) -> str:
    return lit(f"{y:04d}-{m:02d}-{d:02d}", "date")


def _day(d: date) -> str:
    return lit(d.isoformat(), "date")


def _months_later(d: date, months: int) -> date:
    m = d.month - 1 + months
    return date(d.year + m // 12, m % 12 + 1, min(d.day, 28))


class _Generator:
    def __init__(self, out: BinaryIO, rng: random.Random, seed: int, plan: AreaPlan, progress: Progress | None) -> None:
        self.rng = rng
        self.seed, self.plan, self.progress = seed, plan, progress
        self.report = GenerateReport()
        self.w = _Writer(out, self.report)
        self.v = vocab()
        self.policies = [ref.policy_iri(r) for r in ref.policies() if r["kind"] != "programme"]
        self.programmes = [ref.policy_iri(r) for r in ref.policies() if r["kind"] == "programme"]
        self.libraries: dict[str, str] = {}  # area code → library IRI (N-Triples form)
        self.library_names: dict[str, str] = {}
        self.library_names_en: dict[str, str] = {}
        self.holdings: dict[str, dict[str, list[str]]] = {}  # library IRI → top resource type → resources
        self.resource_type: dict[str, str] = {}  # resource IRI → its resource type notation
        self.resources_by_top: dict[str, list[Concept]] = {}
        for c in self.v.resource_types:
            self.resources_by_top.setdefault(c.top, []).append(c)
        self.n_interventions = 0
        self.indicators = {c.code: c for c in self.v.indicators}

    # -- helpers ----------------------------------------------------------
    def ancestors(self, code: str) -> list[str]:
        out, up = [], self.plan.units[code].parent
        while up:
            out.append(up)
            up = self.plan.units[up].parent
        return out

    def run(self) -> GenerateReport:
        w = self.w
        s = iri(SYNTHETIC_SOURCE)
        w.buf.append(
            f"{s} {T_TYPE} {dcpa('SyntheticExampleData')} .\n"
            f"{s} {T_LABEL} {lit(f'合成示例数据（种子 {self.seed}）', lang='zh')} .\n"
            f"{s} {T_LABEL} {lit(f'Synthetic example data (seed {self.seed})', lang='en')} .\n"
            f"{s} {_P['isSynthetic']} {_TRUE} .\n"
        )
        for u in self.plan.synthetic:
            self.synthetic_area(u)
        w.flush()
        self.report.synthetic_areas = len(self.plan.synthetic)
        villages = self.plan.villages
        towns = list(dict.fromkeys(v.parent or "" for v in villages))
        counties = list(dict.fromkeys(self.plan.units[t].parent or "" for t in towns))
        cities = list(dict.fromkeys(self.plan.units[c].parent or "" for c in counties))
        if SYNTHETIC_PROVINCE in {self.plan.units[c].parent for c in cities}:
            self.library(SYNTHETIC_PROVINCE, "ProvincialLibrary", None, "province")
        self.libraries.setdefault("21", iri(ref.PROVINCIAL_LIBRARY))
        for c in cities:
            self.library(c, "CityLibrary", self.libraries.get(self.plan.units[c].parent or ""), "city")
        for c in counties:
            self.library(c, "CountyLibrary", self.libraries[self.plan.units[c].parent or ""], "county")
            if self.rng.random() < 0.3:
                self.poverty_status(self.plan.units[c], "PS2")
        for t in towns:
            self.library(t, "TownshipBranch", self.libraries[self.plan.units[t].parent or ""], "township")
        w.flush()
        total = len(villages)
        by_town: dict[str, list[Unit]] = {}
        for v in villages:
            by_town.setdefault(v.parent or "", []).append(v)
        for i, v in enumerate(villages, 1):
            self.village(v)
            if i % 2000 == 0 or i == total:
                w.flush()
                if self.progress:
                    self.progress(i, total)
        for t in towns:
            for _ in range(self.rng.randint(1, 3)):
                self.intervention(self.plan.units[t], by_town[t])
        for v in villages:
            if self.rng.random() < 0.3:
                self.intervention(v, [v])
        w.flush()
        self.report.villages = total
        return self.report

    # -- areas --------------------------------------------------------------
    def synthetic_area(self, u: Unit) -> None:
        s = iri(area(u.code))
        self.w.node(s, u.cls, u.name, f"fictitious area {u.code}", "area")
        for cls in codes.area_classes(u.code, u.name):
            if cls != u.cls:
                self.w.buf.append(triple(s, T_TYPE, dcpa(cls)))
        self.w.add(s, "areaCode", lit(u.code))
        if u.parent:
            self.w.add(s, "parentArea", iri(area(u.parent)))
        for a in self.ancestors(u.code):
            self.w.add(s, "withinArea", iri(area(a)))

    def poverty_status(self, u: Unit, kind: str) -> None:
        rng, w = self.rng, self.w
        s = iri(node("status", f"ex-{u.code}"))
        label = "省扶贫开发工作重点县" if kind == "PS2" else "建档立卡贫困村"
        w.node(s, "PovertyStatus", f"{label}（{u.name}）", f"poverty status of {u.code}", "status")
        w.add(iri(area(u.code)), "povertyStatus", s)
        w.add(s, "statusType", iri(DCPAV[kind]))
        reg = rng.randint(2014, 2016)
        w.add(s, "registeredYear", lit(reg, "gYear"))
        w.add(s, "exitYear", lit(rng.randint(reg + 1, 2020), "gYear"))
        households = rng.randint(10, 120) * (20 if kind == "PS2" else 1)
        w.add(s, "poorHouseholds", lit(households, "nonNegativeInteger"))
        w.add(s, "poorPopulation", lit(int(households * rng.uniform(2.0, 3.0)), "nonNegativeInteger"))
        causes = rng.sample(self.v.causes, rng.randint(1, 3))
        for c in causes:
            w.add(s, "povertyCause", iri(DCPAV[c.code]))
        if kind == "PS1":
            self.households(u, reg, households, [c.code for c in causes])

    def households(self, u: Unit, year: int, households: int, causes: list[str]) -> None:
        """The village's poor households as the registration totals them: split evenly over its causes, and
        within each cause a fixed example split of the categories (a quarter 低保, a tenth 特困供养). Drawn from
        the numbers above without another random draw, so the rest of the example data stays as it was."""
        w = self.w
        for i, cause in enumerate(causes):
            per_cause = households // len(causes) + (households % len(causes) if i == 0 else 0)
            split = {"HC2": per_cause // 4, "HC3": per_cause // 10}
            split["HC1"] = per_cause - split["HC2"] - split["HC3"]
            for cat, n in sorted(split.items()):
                if not n:
                    continue
                s = iri(node("households", f"ex-{u.code}-{cause}-{cat}"))
                w.node(s, "HouseholdAggregate", f"贫困户汇总（{u.name}）", f"poor households of {u.code}", "households")
                w.add(s, "aggregateOf", iri(area(u.code)))
                w.add(s, "aggregateYear", lit(year, "gYear"))
                w.add(s, "mainCause", iri(DCPAV[cause]))
                w.add(s, "householdCategory", iri(DCPAV[cat]))
                w.add(s, "householdCount", lit(n, "nonNegativeInteger"))

    # -- libraries and resources ------------------------------------------------
    LIB_NAMES = {
        "ProvincialLibrary": ("图书馆", "provincial library of"),
        "CityLibrary": ("图书馆", "city library of"),
        "CountyLibrary": ("图书馆", "county library of"),
        "TownshipBranch": ("图书馆分馆", "township branch in"),
        "VillageServicePoint": ("数字文化服务点", "village service point in"),
    }
    HOLDINGS = {
        "CityLibrary": ("R1", "R1", "R4"),
        "CountyLibrary": ("R1", "R2", "R3", "R4"),
        "TownshipBranch": ("R2", "R3"),
        "VillageServicePoint": ("R2",),
        "ProvincialLibrary": ("R1", "R4"),
    }

    def library(self, code: str, cls: str, parent: str | None, key: str) -> str:
        """The library of an area that example resources and interventions hang on: the real one where a source
        names it (``kg.sourced``: the library stays as the source describes it; only what hangs on it is
        example data, marked as such), else an example library."""
        real = real_libraries().get((cls, code))
        if real is not None:
            s, name_zh, name_en = iri(sourced.library_iri(real)), real["name_zh"], real["name_en"]
        else:
            u = self.plan.units[code]
            s = iri(node("library", f"ex-{key}-{code}"))
            zh, en = self.LIB_NAMES[cls]
            name_zh, name_en = u.name + zh, f"{en} {u.code}"
            self.w.node(s, cls, name_zh, name_en, "library")
            self.w.add(s, "locatedIn", iri(area(code)))
            self.w.add(s, "serves", iri(area(code)))
            if parent:
                self.w.add(s, "branchOf", parent)
        self.libraries[code] = s
        self.library_names[s] = name_zh
        self.library_names_en[s] = name_en
        for top in self.HOLDINGS[cls]:
            self.resource(s, top)
        return s

    def resource(self, library: str, top: str) -> None:
        rng, w = self.rng, self.w
        t = rng.choice(self.resources_by_top[top])
        held = self.holdings.setdefault(library, {}).setdefault(top, [])
        s = iri(f"{library[1:-1].replace('/library/', '/resource/')}-{len(held) + 1}-{top}")
        nth = f", {len(held) + 1}" if len(held) else ""  # a library's second holding of a kind is told apart
        w.node(s, RESOURCE_CLASSES[top], f"{t.zh}（{self.library_names[library]}）",
               f"{t.en} ({self.library_names_en[library]}{nth})", "resource")
        w.add(s, "resourceType", iri(DCPAV[t.code]))
        w.add(s, "heldBy", library)
        w.add(s, "capacity", lit(rng.randint(5, 200), "decimal"))
        w.add(s, "capacityUnit", lit(CAPACITY_UNITS[top]))
        lo, hi = UNIT_COST[top]
        w.add(s, "unitCost", lit(rng.randrange(lo, hi, 50), "decimal"))
        held.append(s)
        self.resource_type[s] = t.code

    # -- villages -------------------------------------------------------------
    def village(self, v: Unit) -> None:
        """Poverty status and the needs a survey records (narrow types: N11…, never the broad N1…)."""
        rng, w = self.rng, self.w
        vs = iri(area(v.code))
        poor = rng.random() < (0.35 if v.cls == "Village" else 0.05)
        if poor:
            self.poverty_status(v, "PS1")
        base = f"<{ID}need/ex-{v.code}-"
        n_needs = rng.randint(4, 8)
        for i, t in enumerate(rng.sample(self.v.need_types, n_needs), 1):
            s = f"{base}{i}>"
            w.node(s, "Need", f"{t.zh}需求（{v.name}）", f"need for {t.en} in {v.code}", "need")
            severity, people = rng.randint(1, 5), rng.randint(10, 500)
            on = _d(*_date(rng, 2018, 2025))  # drawn in this order: the example data stays as it was
            w.buf.append(
                f"{s} {_P['needOf']} {vs} .\n"
                f"{s} {_P['needType']} <{DCPAV}{t.code}> .\n"
                f"{s} {_P['severity']} {lit(severity, 'integer')} .\n"
                f"{s} {_P['peopleAffected']} {lit(people, 'nonNegativeInteger')} .\n"
                f"{s} {_P['identifiedOn']} {on} .\n"
            )
            if poor and i == 1:
                self.interview(v, s, t, on)
        if rng.random() < 0.25:
            self.library(v.code, "VillageServicePoint", self.libraries[v.parent or ""], "village")

    def interview(self, v: Unit, need: str, t: Concept, on: str) -> None:
        """An example interview in a poor village, and the words that support its first need: the pattern of the
        `interviews` sheet and the `quote` column. No random draw (the rest of the example data stays as it was);
        the words say in themselves that no one said them."""
        w = self.w
        s = iri(node("interview", f"ex-{v.code}"))
        w.node(s, "Interview", f"驻村第一书记访谈（{v.name}）", f"interview with the first secretary of {v.code}",
               "interview")
        w.add(s, "intervieweeRole", iri(DCPAV.IR1))
        w.add(s, "interviewedOn", on)
        w.add(s, "interviewPlace", iri(area(v.code)))
        w.add(s, "interviewer", lit(f"{ZH}驻村调研组"))
        w.add(s, "consentGiven", iri(DCPAV.CO2))
        w.add(s, "anonymisation", iri(DCPAV.AN1))
        q = f"{need[:-1]}#quote>"
        w.node(q, "Quote", f"访谈原话（{v.name}）", f"quote from {v.code}", "quote")
        w.add(q, "quoteText", lit(f"示例原话（程序生成，不是真实访谈）：村里需要{t.zh}。", lang="zh"))
        w.add(q, "supportsNeed", need)
        w.buf.append(f"{q} {iri(PROV_QUOTED)} {s} .\n{q} {T_DERIVED} {s} .\n{need} {T_DERIVED} {s} .\n")

    # -- interventions and evaluations ------------------------------------------
    def _provider(self, target: Unit) -> str:
        if target.code in self.libraries and self.rng.random() < 0.5:
            return self.libraries[target.code]
        if target.level == 4:
            return self.libraries[target.parent or ""]
        county = self.libraries[target.parent or ""]
        return county if self.rng.random() < 0.5 else self.libraries[target.code]

    def _resource_for(self, provider: str, target: Unit, top: str) -> str | None:
        """A resource of the right kind from the provider, else from a library above the target."""
        held = self.holdings.get(provider, {}).get(top)
        if held:
            return self.rng.choice(held)
        for a in self.ancestors(target.code):
            lib = self.libraries.get(a)
            held = self.holdings.get(lib, {}).get(top) if lib else None
            if held:
                return self.rng.choice(held)
        return None

    def intervention(self, place: Unit, villages: list[Unit]) -> None:
        """One intervention of a library for ``place`` (a township or a village).

        Its delivery decides its targets: one using an online resource (e-books, databases, a cloud
        platform, an app) targets the township or its county and reaches every village there; training,
        terminals, service points and networks name the villages they serve (some of ``villages``),
        with the people or villages they can serve.
        """
        rng, w = self.rng, self.w
        self.n_interventions += 1
        s = iri(node("intervention", f"ex-{self.n_interventions}"))
        cat = rng.choice(self.v.categories)
        provider = self._provider(place)
        res = self._resource_for(provider, place, CATEGORY_RESOURCE.get(cat.code, "R1"))
        online = res is not None and self.resource_type.get(res) in ONLINE_TYPES
        if online:
            area_unit = place if place.level < 4 else self.plan.units[place.parent or ""]
            if area_unit.level == 3 and rng.random() < 0.3:
                area_unit = self.plan.units[area_unit.parent or ""]
            targets = [area_unit]
        else:
            k = min(len(villages), rng.randint(1, 6))
            targets = rng.sample(villages, k) if k else [place]
        where = targets[0] if len(targets) == 1 else place
        w.node(s, "Intervention", f"{cat.zh}项目（{where.name}）", f"{cat.en} in {where.code}", "intervention")
        w.add(s, "category", iri(DCPAV[cat.code]))
        w.add(s, "providedBy", provider)
        for t in targets:
            w.add(s, "targetsArea", iri(area(t.code)))
        if res:
            w.add(s, "usesResource", res)
        for p in rng.sample(self.policies, rng.randint(1, 2)):
            w.add(s, "supportedBy", iri(p))
        if rng.random() < 0.7:
            w.add(s, "partOfProgramme", iri(rng.choice(self.programmes)))
        # more work in recent years: started up to eight years before the reference date, most within two,
        # and a few planned for the year after it
        start = REFERENCE_DATE - timedelta(days=int(rng.triangular(-365, 8 * 365, 180)))
        lo, hi = DURATION[cat.code]
        end = _months_later(start, rng.randint(lo, hi))
        if start > REFERENCE_DATE:
            status = "S1"
        elif end < REFERENCE_DATE:
            status = "S4" if rng.random() < 0.1 else "S3"
        else:
            status = "S2"
        w.add(s, "interventionStatus", iri(DCPAV[status]))
        w.add(s, "startDate", _day(start))
        w.add(s, "endDate", _day(end))
        w.add(s, "budget", lit(rng.randrange(5_000, 200_000, 500), "decimal"))
        w.add(s, "fundedBy", iri(DCPAV[rng.choice(FUNDING)]))
        staff, volunteers = rng.randint(1, 6), rng.randint(0, 20)
        w.add(s, "personnelCount", lit(staff, "nonNegativeInteger"))
        w.add(s, "volunteerCount", lit(volunteers, "nonNegativeInteger"))
        for role, count in (("PR2", staff), ("PR4", volunteers)):  # librarians and volunteers, by role
            if count:
                part = f"<{s[1:-1]}#personnel-{role}>"
                w.add(s, "personnelInput", part)
                w.buf.append(triple(part, T_TYPE, dcpa("PersonnelInput")))
                w.add(part, "personnelRole", iri(DCPAV[role]))
                w.add(part, "personCount", lit(count, "nonNegativeInteger"))
                w.add(part, "isSynthetic", _TRUE)
                w.buf.append(triple(part, T_DERIVED, w.src))
        w.add(s, "usesTechnology", iri(DCPAV[rng.choice(TECHNOLOGY)]))
        if not online:
            if cat.code == "C1":
                w.add(s, "peopleReached", lit(rng.randint(80, 600), "nonNegativeInteger"))
            elif cat.code == "C2":
                if len(targets) > 1 and rng.random() < 0.5:
                    w.add(s, "villageCapacity", lit(len(targets) - 1, "nonNegativeInteger"))
                if rng.random() < 0.3:
                    w.add(s, "inServiceUntil", _day(_months_later(end, rng.randint(36, 96))))
        if status in ("S2", "S3"):
            choices = CATEGORY_INDICATORS.get(cat.code, ("I05",))
            for j, ind in enumerate(rng.sample(choices, min(len(choices), rng.randint(1, 2))), 1):
                self.evaluation(s, j, ind, targets[0], start)

    def evaluation(self, intervention: str, j: int, indicator: str, target: Unit, start: date) -> None:
        """An evaluation over the year after the intervention started (only when that year has ended)."""
        rng, w = self.rng, self.w
        period_end = _months_later(start, 12)
        if period_end > REFERENCE_DATE:
            return
        s = iri(f"{intervention[1:-1].replace('/intervention/', '/evaluation/')}-{j}")
        ind = self.indicators[indicator]
        w.node(
            s, "Evaluation", f"{ind.zh}评价（{target.name}）", f"evaluation of {ind.en} in {target.code}", "evaluation"
        )
        w.add(s, "evaluates", intervention)
        w.add(s, "indicator", iri(DCPAV[indicator]))
        w.add(s, "evaluatedArea", iri(area(target.code)))
        baseline = rng.randint(0, 40)
        goal = baseline + rng.randint(10, 100)
        actual = max(0, int(goal * rng.uniform(0.85, 1.45)))
        w.add(s, "baselineValue", lit(baseline, "decimal"))
        w.add(s, "targetValue", lit(goal, "decimal"))
        w.add(s, "actualValue", lit(actual, "decimal"))
        w.add(s, "periodStart", _day(start))
        w.add(s, "periodEnd", _day(period_end))


def generate(
    out: BinaryIO,
    *,
    villages: int,
    seed: int = 42,
    area_code: str | None = None,
    progress: Progress | None = None,
    villages_per_township: int = VILLAGES_PER_TOWNSHIP,
) -> GenerateReport:
    """Write example data for ``villages`` village-level units as N-Triples to ``out``.

    ``area_code`` limits the real villages to one area (city, county, township…). Beyond the real
    villages available, the rest are fictitious (province ``99``).
    """
    if villages < 0:
        raise ValueError("村数不能为负 / villages must be >= 0")
    rng = random.Random(seed)
    plan = plan_areas(villages, rng, area_code=area_code, villages_per_township=villages_per_township)
    return _Generator(out, rng, seed, plan, progress).run()


def generate_ntriples(*, villages: int, seed: int = 42, area_code: str | None = None) -> bytes:
    """The example data as N-Triples bytes (for tests and small samples)."""
    buf = io.BytesIO()
    generate(buf, villages=villages, seed=seed, area_code=area_code)
    return buf.getvalue()
