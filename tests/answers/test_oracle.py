"""An independent oracle for the gap figures, end to end.

The oracle below is written from the documentation alone (docs/DATA_MODEL.md: "The rule of addressed", "Derived
graph", "Honest answers"; the README) and never imports ``kg.rule`` or ``kg.facts``. It reads what a data steward
imports (the CSV tables this module generates, seeded), the example data a build generates (read back from its
graph as plain records), the bundled areas and the links of ``ontology/vocab.ttl``, and works out each need's
state (NS1 addressed, NS2 not verified, NS3 a gap) and the counts per area and need type. The product answers
after ``dcpa build`` and imports of the same tables (need states; gaps at province, city, county and village
level, by area, need type, severity and category, with ``real_only``, ``min_severity``, need types, a narrower reach,
a period and other days; ``/api/gaps`` and the dashboard's downloads; the catalogue's counts), after a second import
(needs alone, a resource alone, interventions and evaluations), replacements and withdrawals (the refresh paths),
after a fresh build of the same imports, a survey entered on a later day the graph still answers for, and the
server's keeper moving the graph to a later day: every answer must be the oracle's. ``DCPA_ORACLE_SEED=N`` draws
other data (to explore; a seed whose data leave a clause unexercised says so).
"""

from __future__ import annotations

import calendar
import csv
import os
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from api.app import create_app
from kg.answers.gaps import gaps
from kg.build import build
from kg.catalogue import run_query
from kg.derived import advance, marker
from kg.importer import import_files, replace_record, withdraw
from kg.importer.specs import RECORD_KINDS
from kg.namespaces import GRAPH_SYNTHETIC
from kg.settings import Settings
from kg.store import Store

ROOT = Path(__file__).resolve().parents[2]
VILLAGES_CSV = ROOT / "kg" / "data" / "reference" / "liaoning_villages.csv"
VOCAB = ROOT / "ontology" / "vocab.ttl"
DCPA = "https://w3id.org/dcpa/ontology#"
DCPAV = "https://w3id.org/dcpa/vocab/"
SKOS_BROADER = "http://www.w3.org/2004/02/skos/core#broader"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: The day the store's derived graph answers for (DCPA_AS_OF), and other days answered live.
DAY = date(2024, 6, 30)
OTHER_DAYS = (date(2021, 3, 1), date(2026, 1, 15))
WINDOWS = {"C1": 24, "C2": 60, "C3": 36, "C4": 60}  # the documented default validity windows (months)
SEED = int(os.environ.get("DCPA_ORACLE_SEED", "20261205"))  # another seed, other data (to explore)


# ---------------------------------------------------------------------------------------------------------------
# The records the oracle reads
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedRec:
    key: str  # (village, type, identified on) for a real need, its IRI for an example one
    village: str
    type: str
    severity: int
    people: int
    identified: date | None
    example: bool


@dataclass(frozen=True)
class ResourceRec:
    id: str
    type: str
    addresses: frozenset[str]
    delivery: str | None


@dataclass(frozen=True)
class InterventionRec:
    id: str
    category: str
    targets: tuple[str, ...]
    scope: str | None
    resources: tuple[str, ...]
    status: str
    start: date | None
    end: date | None
    in_service_until: date | None
    village_capacity: int | None
    people_reached: int | None
    example: bool


@dataclass(frozen=True)
class EvaluationRec:
    intervention: str
    area: str
    target: float | None
    actual: float | None
    period_end: date
    example: bool


@dataclass
class Tables:
    needs: list[NeedRec] = field(default_factory=list)
    resources: dict[str, ResourceRec] = field(default_factory=dict)
    interventions: dict[str, InterventionRec] = field(default_factory=dict)
    evaluations: list[EvaluationRec] = field(default_factory=list)


@dataclass(frozen=True)
class Vocab:
    broader: dict[str, set[str]]  # need type → its broader types, transitively
    addresses: dict[str, set[str]]  # category or resource type → need types
    delivery: dict[str, str]  # resource type → delivery mode


def code(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def read_vocab() -> Vocab:
    g = rdflib.Graph().parse(VOCAB, format="turtle")
    direct: dict[str, set[str]] = defaultdict(set)
    addresses: dict[str, set[str]] = defaultdict(set)
    delivery = {}
    for s, p, o in g:
        if not str(s).startswith(DCPAV):
            continue
        if str(p) == SKOS_BROADER:
            direct[code(str(s))].add(code(str(o)))
        elif str(p) == DCPA + "addressesNeedType":
            addresses[code(str(s))].add(code(str(o)))
        elif str(p) == DCPA + "deliveryMode":
            delivery[code(str(s))] = code(str(o))
    broader: dict[str, set[str]] = {}
    for t in list(direct):
        seen, todo = set(), list(direct[t])
        while todo:
            b = todo.pop()
            if b not in seen:
                seen.add(b)
                todo.extend(direct.get(b, ()))
        broader[t] = seen
    return Vocab(broader, addresses, delivery)


def ancestors(village: str) -> tuple[str, ...]:
    """The areas containing a village-level unit (its code's prefixes: township, county, city, province)."""
    return (village[:9], village[:6], village[:4], village[:2])


# ---------------------------------------------------------------------------------------------------------------
# The oracle: the rule as docs/DATA_MODEL.md states it
# ---------------------------------------------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def in_force(i: InterventionRec, day: date) -> bool:
    """Active or completed, started by the day, and the day within its end plus its category's window; an active
    one without an end is open-ended, a completed one without an end counts from its start, a completed one without
    any date does not count; a declared in-service date replaces all of these."""
    if i.status not in ("S2", "S3"):
        return False
    if i.start is not None and i.start > day:
        return False
    if i.in_service_until is not None:
        return day <= i.in_service_until
    if i.end is None and i.status == "S2":
        return True
    end = i.end if i.end is not None else i.start
    return end is not None and day <= add_months(end, WINDOWS[i.category])


class Oracle:
    def __init__(self, tables: Tables, vocab: Vocab) -> None:
        self.t, self.v = tables, vocab
        self.seen: Counter[str] = Counter()  # which clauses the data exercised (the last day asked)

    def types_met(self, t: str) -> set[str]:
        return {t} | self.v.broader.get(t, set())

    def resource_types(self, r: ResourceRec) -> set[str]:
        return set(r.addresses) | self.v.addresses.get(r.type, set())

    def online(self, r: ResourceRec) -> bool:
        return (r.delivery or self.v.delivery.get(r.type)) == "DM1"

    def fits(self, i: InterventionRec) -> tuple[set[str], set[str], bool]:
        """(types it meets where it names the village, types it meets across a whole area, whether it reaches a
        whole area at all)."""
        res = [self.t.resources[r] for r in i.resources if r in self.t.resources]
        direct = set(self.v.addresses.get(i.category, set()))
        for r in res:
            direct |= self.resource_types(r)
        online = [r for r in res if self.online(r)]
        whole = i.scope == "RS2" or bool(online)
        if i.scope == "RS2":
            across = set(direct)
        else:
            across = set()
            for r in online:
                across |= self.resource_types(r)
        return direct, across, whole

    def states(self, day: date, *, area_reach: bool = True) -> dict[str, tuple[str, frozenset[str]]]:
        """Per known need (key): its state and the categories of the interventions addressing it (``area_reach``
        False: the rule narrowed to direct reach, ``DCPA_REACH=direct``)."""
        known = [n for n in self.t.needs if n.identified is None or n.identified <= day]
        by_village: dict[str, list[NeedRec]] = defaultdict(list)
        for n in known:
            by_village[n.village].append(n)
        addressing: dict[str, set[str]] = defaultdict(set)
        self.seen.clear()
        for i in self.t.interventions.values():
            if not in_force(i, day):
                continue
            direct, across, whole = self.fits(i)
            usable = [n for n in known if i.example <= n.example]  # example data never addresses a real need
            # the villages it names (direct reach): within the villages and people it declares
            named = [v for v in i.targets if len(v) == 12]
            served: set[str] = set()
            if i.village_capacity is not None or i.people_reached is not None:
                cands = []
                for v in named:
                    fitting = [n for n in by_village.get(v, []) if i.example <= n.example
                               and direct & self.types_met(n.type)]
                    fitting = [n for n in fitting if not n.example] or fitting  # ranked by its real needs alone
                    if fitting:
                        best = min((n.example, -n.severity) for n in fitting)
                        cands.append((best, v, max(n.people for n in fitting)))
                villages_left = i.village_capacity if i.village_capacity is not None else len(cands)
                people_left = i.people_reached
                for _, v, people in sorted(cands):
                    if villages_left <= 0:
                        self.seen["village capacity spent"] += 1
                        break
                    if people_left is not None and people > people_left:
                        self.seen["people reached spent"] += 1
                        continue
                    served.add(v)
                    villages_left -= 1
                    if people_left is not None:
                        people_left -= people
            else:
                served = set(named)
            for n in usable:
                met = self.types_met(n.type)
                if n.village in served and direct & met:
                    addressing[n.key].add(i.id)
                    self.seen["direct" + (" example" if n.example and not i.example else "")] += 1
                elif area_reach and whole and across & met and any(a in i.targets for a in ancestors(n.village)):
                    addressing[n.key].add(i.id)
                    self.seen["area"] += 1
        evals: dict[str, list[EvaluationRec]] = defaultdict(list)
        for e in self.t.evaluations:  # those with a result, ended by the day
            if e.period_end <= day and e.target is not None and e.actual is not None:
                evals[e.intervention].append(e)
        out = {}
        for n in known:
            ids = addressing.get(n.key, set())
            cats = frozenset(self.t.interventions[iid].category for iid in ids)
            if not ids:
                out[n.key] = ("NS3", cats)
                continue
            below_all = True
            for iid in ids:
                here = [e for e in evals.get(iid, []) if (e.area == n.village or e.area in ancestors(n.village))
                        and (n.example or not e.example)]
                if not here:
                    below_all = False
                    break
                last = max(e.period_end for e in here)
                latest = [e for e in here if e.period_end == last]
                if not any(e.actual is not None and e.target is not None and e.actual < e.target for e in latest):
                    below_all = False
                    break
            out[n.key] = ("NS2" if below_all else "NS1", cats)
        for n in known:
            self.seen[f"{'example' if n.example else 'real'} {out[n.key][0]}"] += 1
        return out


@dataclass
class Count:
    needs: int = 0
    addressed: int = 0
    unverified: int = 0
    unaddressed: int = 0
    example: int = 0

    def add(self, state: str, example: bool) -> None:
        self.needs += 1
        self.example += example
        if state == "NS1":
            self.addressed += 1
        elif state == "NS2":
            self.unverified += 1
        else:
            self.unaddressed += 1

    def tuple(self) -> tuple[int, int, int, int, int]:
        return (self.needs, self.addressed, self.unverified, self.unaddressed, self.example)


def tally(tables: Tables, states: dict[str, tuple[str, frozenset[str]]], *, area: str, real_only: bool = False,
          types: set[str] | None = None, min_severity: int = 0, severity: int | None = None,
          start: date | None = None) -> Count:
    c = Count()
    for n in tables.needs:
        if n.key not in states or not n.village.startswith(area) or (real_only and n.example):
            continue
        if (types is not None and n.type not in types) or n.severity < min_severity:
            continue
        if severity is not None and n.severity != severity:
            continue
        if start is not None and (n.identified is None or n.identified < start):
            continue
        c.add(states[n.key][0], n.example)
    return c


# ---------------------------------------------------------------------------------------------------------------
# The data: example data as the build makes it, real data as a steward enters it
# ---------------------------------------------------------------------------------------------------------------


def lit_date(v: str | None) -> date | None:
    return date.fromisoformat(v[:10]) if v else None


def example_tables(store: Store) -> Tables:
    """The build's example data, read back from its graph as plain records (the patterns of DATA_MODEL.md)."""
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for q in store.inner.quads_for_pattern(None, None, None, ox.NamedNode(str(GRAPH_SYNTHETIC))):
        props[str(q.subject)[1:-1]][q.predicate.value].append(getattr(q.object, "value", ""))
    t = Tables()

    def one(p: dict[str, list[str]], name: str) -> str | None:
        vals = p.get(DCPA + name)
        return vals[0] if vals else None

    for s, p in props.items():
        kinds = {code(k).rsplit("#", 1)[-1] for k in p.get(RDF_TYPE, [])}
        if "Need" in kinds:
            t.needs.append(NeedRec(s, code(one(p, "needOf") or ""), code(one(p, "needType") or ""),
                                   int(one(p, "severity") or 0), int(one(p, "peopleAffected") or 0),
                                   lit_date(one(p, "identifiedOn")), True))
        elif kinds & {"DigitalResource", "Terminal", "TrainingCourse", "Platform"}:
            t.resources[s] = ResourceRec(s, code(one(p, "resourceType") or ""),
                                         frozenset(code(x) for x in p.get(DCPA + "addressesNeedType", [])),
                                         code(d) if (d := one(p, "deliveryMode")) else None)
        elif "Intervention" in kinds:
            vc, pr = one(p, "villageCapacity"), one(p, "peopleReached")
            scope = one(p, "reachScope")
            t.interventions[s] = InterventionRec(
                s, code(one(p, "category") or ""), tuple(code(a) for a in p.get(DCPA + "targetsArea", [])),
                code(scope) if scope else None, tuple(p.get(DCPA + "usesResource", [])),
                code(one(p, "interventionStatus") or ""), lit_date(one(p, "startDate")), lit_date(one(p, "endDate")),
                lit_date(one(p, "inServiceUntil")), int(vc) if vc else None, int(pr) if pr else None, True)
        elif "Evaluation" in kinds:
            tv, av = one(p, "targetValue"), one(p, "actualValue")
            t.evaluations.append(EvaluationRec(one(p, "evaluates") or "", code(one(p, "evaluatedArea") or ""),
                                               float(tv) if tv else None, float(av) if av else None,
                                               lit_date(one(p, "periodEnd")) or date.max, True))
    return t


RES_IRI = "https://w3id.org/dcpa/id/resource/"
INT_IRI = "https://w3id.org/dcpa/id/intervention/"


def write_table(path: Path, kind: str, rows: list[dict[str, str]]) -> Path:
    spec = RECORD_KINDS[kind]
    cols = [c for c in spec.columns if any(c.key in r for r in rows) or c.required]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c.header for c in cols])
        for r in rows:
            w.writerow([r.get(c.key, "") for c in cols])
    return path


def read_table(path: Path, kind: str) -> list[dict[str, str]]:
    """A table as the steward filled it, by column key (its bilingual headers read back)."""
    keys = {c.header: c.key for c in RECORD_KINDS[kind].columns}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{keys[h]: v for h, v in row.items()} for row in csv.DictReader(fh)]


def real_tables(paths: Iterable[Path]) -> Tables:
    """The oracle's reading of the imported tables (the latest row of a record wins, as a replacement does)."""
    t = Tables()
    needs: dict[str, NeedRec] = {}
    evals: dict[tuple[str, ...], EvaluationRec] = {}

    def num(v: str) -> int | None:
        return int(v) if v else None

    for path in paths:
        kind = path.stem.split(".")[0]
        for r in read_table(path, kind):
            if kind == "needs":
                key = r.get("id") or f"{r['village_code']}|{r['need_type']}|{r['identified_on']}"
                needs[key] = NeedRec(key, r["village_code"], r["need_type"], int(r["severity"]),
                                     int(r["people_affected"]), lit_date(r["identified_on"]), False)
            elif kind == "resources":
                t.resources[RES_IRI + r["id"]] = ResourceRec(
                    RES_IRI + r["id"], r["resource_type"], frozenset(x for x in r.get("addresses_need_types", "")
                                                                     .split(";") if x), r.get("delivery_mode") or None)
            elif kind == "interventions":
                t.interventions[INT_IRI + r["id"]] = InterventionRec(
                    INT_IRI + r["id"], r["category"], tuple(r["target_areas"].split(";")), r.get("reach_scope") or None,
                    tuple(RES_IRI + x for x in r.get("uses_resources", "").split(";") if x), r["status"],
                    lit_date(r.get("start_date")), lit_date(r.get("end_date")), lit_date(r.get("in_service_until")),
                    num(r.get("village_capacity", "")), num(r.get("people_reached", "")), False)
            elif kind == "evaluations":
                k = (r["intervention_id"], r["indicator"], r["area_code"], r["period_start"])
                evals[k] = EvaluationRec(INT_IRI + r["intervention_id"], r["area_code"],
                                         float(r["target_value"]) if r.get("target_value") else None,
                                         float(r["actual_value"]) if r.get("actual_value") else None,
                                         date.fromisoformat(r["period_end"]), False)
    t.needs = list(needs.values())
    t.evaluations = list(evals.values())
    return t


def merged(*parts: Tables) -> Tables:
    out = Tables()
    for p in parts:
        out.needs += p.needs
        out.resources.update(p.resources)
        out.interventions.update(p.interventions)
        out.evaluations += p.evaluations
    return out


def rand_date(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def generate(rng: random.Random, villages: list[str], ex_villages: list[str], towns: list[str], counties: list[str],
             vocab: Vocab, example: Tables | None = None) -> dict[str, list[dict[str, str]]]:
    """Seeded tables over ``villages``: libraries, resources, interventions, needs and evaluations (the first
    batch; with ``example``, the second, some of whose rows refer to example interventions and resources)."""
    first = example is None
    tag = "A" if first else "B"
    need_types = sorted(t for t in {*vocab.broader, *(b for bs in vocab.broader.values() for b in bs)}
                        if t.startswith("N"))
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    if first:
        rows["libraries"].append({"id": "LIB-O1", "name_zh": "示例·甲县图书馆", "library_type": "county",
                                  "located_in": counties[0], "serves": ";".join(counties), "source": "document"})
        rtypes = ["R11", "R12", "R13", "R21", "R22", "R24", "R31", "R32", "R41", "R43", "R44"]
        for k, rt in enumerate(rtypes * 2):
            res = {"id": f"RES-O{k}", "name_zh": f"示例·资源{k}", "resource_type": rt, "held_by": "LIB-O1",
                   "source": "document"}
            if k % 7 == 3:  # a type of its own besides its resource type's
                res["addresses_need_types"] = rng.choice(need_types)
            if k % 9 == 4:  # delivered otherwise than its type says
                res["delivery_mode"] = rng.choice(["DM1", "DM2"])
            rows["resources"].append(res)
    n_res = 22
    areas_named = villages + ex_villages
    for k in range(40 if first else 15):
        iid = f"INT-{tag}{k}"
        cat = rng.choice(["C1", "C2", "C3", "C4"])
        roll = rng.random()
        if roll < 0.6:
            targets = rng.sample(areas_named, rng.randint(1, 4))
        elif roll < 0.8:
            targets = rng.sample(towns, 1) + rng.sample(villages, rng.randint(0, 1))
        elif roll < 0.95:
            targets = [rng.choice(counties)]
        else:
            targets = [counties[0][:4]]
        status = rng.choices(["S1", "S2", "S3", "S4"], [1, 4, 4, 1])[0]
        start = rand_date(rng, date(2016, 1, 1), date(2025, 12, 31))
        r: dict[str, str] = {"id": iid, "name_zh": f"示例·帮扶{tag}{k}", "category": cat, "provided_by": "LIB-O1",
                             "target_areas": ";".join(targets), "status": status, "source": "document"}
        dates = rng.random()
        if dates < 0.7:
            r["start_date"] = start.isoformat()
            if rng.random() < 0.7:
                r["end_date"] = (start + timedelta(days=rng.randint(20, 900))).isoformat()
        elif dates < 0.85:
            r["end_date"] = start.isoformat()
        if rng.random() < 0.15:
            r["in_service_until"] = rand_date(rng, date(2019, 1, 1), date(2027, 12, 31)).isoformat()
        if rng.random() < 0.2:
            r["reach_scope"] = rng.choice(["RS1", "RS2"])
        uses = [f"RES-O{u}" for u in rng.sample(range(n_res), rng.choice([0, 1, 1, 2]))]
        if example is not None and rng.random() < 0.3:  # a real intervention using an example resource
            uses.append(code(rng.choice(sorted(example.resources))))
        if uses:
            r["uses_resources"] = ";".join(uses)
        if rng.random() < 0.3:
            r["village_capacity"] = str(rng.randint(1, 2))
        if rng.random() < 0.2:
            r["people_reached"] = str(rng.randint(50, 600))
        rows["interventions"].append(r)
    seen: set[tuple[str, str, str]] = set()
    for _ in range(180 if first else 80):
        v = rng.choice(areas_named if rng.random() < 0.4 else villages)
        nt = rng.choice(need_types)
        d = rand_date(rng, date(2017, 1, 1), date(2026, 6, 30)).isoformat()
        if (v, nt, d) in seen:
            continue
        seen.add((v, nt, d))
        rows["needs"].append({"village_code": v, "need_type": nt, "severity": str(rng.randint(1, 5)),
                              "people_affected": str(rng.randint(5, 400)), "source": "survey", "identified_on": d,
                              "surveyor": "示例·调查员"})
    ints = rows["interventions"]
    if example is not None:  # real evaluations of example interventions (which address example needs only)
        ints = ints + [{"id": code(i.id), "target_areas": ";".join(i.targets)} for i in example.interventions.values()
                       if any(t.startswith(tuple(counties)) for t in i.targets)]
    for k in range(35 if first else 20):
        i = rng.choice(ints)
        targets = i["target_areas"].split(";")
        area = rng.choice(targets)
        if len(area) < 12 and rng.random() < 0.5:  # a village of the area, or an area containing a named one
            inside = [v for v in areas_named if v.startswith(area)]
            area = rng.choice(inside) if inside else area
        elif len(area) == 12 and rng.random() < 0.3:
            area = area[:9]
        pstart = rand_date(rng, date(2018, 1, 1), date(2025, 6, 30))
        pend = pstart + timedelta(days=rng.choice([90, 180, 365]))
        if k % 5 == 0 and rows["evaluations"]:  # the same period end as another: several at the latest date
            prev = rows["evaluations"][-1]
            i = next(x for x in ints if x["id"] == prev["intervention_id"])
            area, pend = prev["area_code"], date.fromisoformat(prev["period_end"])
            pstart = pend - timedelta(days=100)
        rows["evaluations"].append({"intervention_id": i["id"], "indicator": rng.choice(["I01", "I02", "I03"]),
                                    "area_code": area, "baseline_value": "10", "target_value": "100",
                                    "actual_value": str(rng.choice([40, 80, 99, 100, 120, ""])),
                                    "period_start": pstart.isoformat(), "period_end": pend.isoformat(),
                                    "source": "survey"})
    if example is not None:
        scenarios(rows, villages, counties, example)
    # one evaluation row per identity
    uniq = {}
    for e in rows["evaluations"]:
        uniq[(e["intervention_id"], e["indicator"], e["area_code"], e["period_start"])] = e
    rows["evaluations"] = list(uniq.values())
    return rows


def scenarios(rows: dict[str, list[dict[str, str]]], villages: list[str], counties: list[str], example: Tables) -> None:
    """Two rooms for one village each, where the order of service matters (the random rows seldom set it up):

    - one names an example village A whose example need is more severe than its real one, and a village B whose
      real need lies in between: B's real need must get the room (A's example need must not push it out);
    - one names C with a severe need identified in 2018 and D with a mild one in 2021: C gets the room, and a
      report of the needs identified since 2020 must still count D's need a gap."""
    known = [n for n in example.needs if n.village[:6] in counties and n.severity >= 3 and n.identified is not None
             and n.identified <= DAY]
    e = max(known, key=lambda n: (n.severity, n.key))
    here = [v for v in villages if v.startswith(counties[0])]
    b, c, d = [v for v in villages if v.startswith(e.village[:6])][0], here[-1], here[-2]
    rows["resources"].append({"id": "RES-ROOM", "name_zh": "示例·电子阅览室", "resource_type": "R24",
                              "held_by": "LIB-O1", "addresses_need_types": e.type, "delivery_mode": "DM2",
                              "source": "document"})
    for iid, named in (("INT-ROOM-1", (e.village, b)), ("INT-ROOM-2", (c, d))):
        rows["interventions"].append({"id": iid, "name_zh": f"示例·{iid}", "category": "C2", "provided_by": "LIB-O1",
                                      "target_areas": ";".join(named), "uses_resources": "RES-ROOM", "status": "S2",
                                      "start_date": "2018-01-01", "village_capacity": "1", "source": "document"})
    for v, sev, day in ((e.village, e.severity - 2, "2018-03-01"), (b, e.severity - 1, "2018-03-02"),
                        (c, 5, "2018-06-01"), (d, 2, "2021-06-01")):
        rows["needs"].append({"village_code": v, "need_type": e.type, "severity": str(sev), "people_affected": "20",
                              "source": "survey", "identified_on": day, "surveyor": "示例·调查员"})


# ---------------------------------------------------------------------------------------------------------------
# The product's answers
# ---------------------------------------------------------------------------------------------------------------


def chart_row(r: dict[str, str]) -> tuple[int, ...]:
    """A row of a dashboard chart's CSV (Chinese headers): needs, gaps, not verified, example needs."""
    return tuple(int(r[k]) for k in ("需求数", "未满足需求", "已满足但未经验证", "其中示例数据"))


def group_tuple(g: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (g["needs"], g["addressed"], g["unverified"], g["unaddressed"], g["example_needs"])


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.settings = Settings(_env_file=None, store_path=tmp / "store", imports_path=tmp / "imports",  # type: ignore[call-arg]
                                 example_villages=40, example_seed=7, as_of=DAY, sparql_endpoint=None)
        self.vocab = read_vocab()
        # where the real data go (chosen once the example data are known)
        self.counties: list[str] = []
        self.cities: list[str] = []
        self.towns: list[str] = []
        self.sample_villages: list[str] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("oracle"))


def the_states(store: Store) -> dict[str, str]:
    """The derived graph's state of each need, keyed as the oracle keys them."""
    q = """PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
    SELECT ?need ?v ?t ?d ?s ?ex WHERE {
      GRAPH <https://w3id.org/dcpa/graph/derived> { ?need dcpa:needState ?s }
      ?need dcpa:needOf ?v ; dcpa:needType ?t .
      OPTIONAL { ?need dcpa:identifiedOn ?d } BIND(EXISTS { ?need dcpa:isSynthetic true } AS ?ex) }"""
    out = {}
    for row in store.select(q):
        if row["ex"]:
            key = str(row["need"])
        else:
            key = f"{code(str(row['v']))}|{code(str(row['t']))}|{row['d']}"
        out[key] = code(str(row["s"]))
    return out


def catalogue(store: Store, name: str, area: str, real_only: bool, **params: str) -> list[dict[str, Any]]:
    return run_query(store, name, {"area": area, **params}, real_only=real_only).rows


def num(v: Any) -> int:
    return int(v) if v is not None else 0


def check(w: World, store: Store, tables: Tables, what: str, *, full: bool = True, day: date = DAY) -> None:
    """Every figure the product gives for the oracle's data, against the oracle's (``full``: also on other days,
    for a period and in the catalogue; else the states and the gaps of every area)."""
    oracle = Oracle(tables, w.vocab)
    states = oracle.states(day)
    got = the_states(store)
    wrong = {k: (s, got.get(k)) for k, (s, _) in states.items() if got.get(k) != s}
    extra = set(got) - set(states)
    assert not wrong and not extra, f"{what}: need states (oracle, product) differ: {sorted(wrong.items())[:12]} " \
        f"({len(wrong)} of {len(states)}); in the store only: {sorted(extra)[:5]}"
    scopes = ["21", *w.cities, *w.counties, *w.towns[:3], *w.sample_villages]
    for area in scopes:
        for real_only in (False, True):
            rep = gaps(store, area, real_only=real_only, as_of=day, settings=w.settings).to_dict()
            want = tally(tables, states, area=area, real_only=real_only)
            assert rep["source"] == ("summaries" if len(area) <= 4 else "derived"), (what, area, rep["source"])
            assert group_tuple(rep["totals"]) == want.tuple(), (what, area, real_only, rep["source"])
            if len(area) < 12:  # every child area's counts
                for g in rep["groups"]:
                    assert group_tuple(g) == tally(tables, states, area=g["code"], real_only=real_only).tuple(), \
                        (what, area, g["code"], real_only)
    if not full:
        return
    n2 = {t for t, bs in w.vocab.broader.items() if "N2" in bs} | {"N2"}
    for area in ["21", *w.counties]:
        rep = gaps(store, area, by="need_type", need_type="N2", min_severity=4, settings=w.settings).to_dict()
        assert group_tuple(rep["totals"]) == tally(tables, states, area=area, types=n2, min_severity=4).tuple()
        for g in rep["groups"]:
            assert group_tuple(g) == tally(tables, states, area=area, types={g["code"]}, min_severity=4).tuple()
    for later in OTHER_DAYS:  # other days: computed live
        other = oracle.states(later)
        for area in w.counties:
            rep = gaps(store, area, as_of=later, real_only=True, settings=w.settings).to_dict()
            assert group_tuple(rep["totals"]) == tally(tables, other, area=area, real_only=True).tuple(), \
                (what, later, area)
            rep = gaps(store, area, as_of=later, settings=w.settings).to_dict()
            assert group_tuple(rep["totals"]) == tally(tables, other, area=area).tuple(), (what, later, area)
    direct = oracle.states(day, area_reach=False)
    for area in ["21", *w.counties]:
        rep = gaps(store, area, reach="direct", as_of=day, settings=w.settings).to_dict()
        assert group_tuple(rep["totals"]) == tally(tables, direct, area=area).tuple(), (what, "direct", area)
        rep = gaps(store, area, by="severity", real_only=True, as_of=day, settings=w.settings).to_dict()
        for g in rep["groups"]:
            want = tally(tables, states, area=area, real_only=True, severity=int(g["code"]))
            assert group_tuple(g) == want.tuple(), (what, area, g["code"])
    for area in ["21", w.counties[0]]:  # by category: a need under every category whose types meet its type
        rep = gaps(store, area, by="category", min_severity=3, as_of=day, settings=w.settings).to_dict()
        got_cats = {code(g["code"]): group_tuple(g) for g in rep["groups"]}
        want_cats = {}
        for c in ("C1", "C2", "C3", "C4"):
            met = {t for t in {n.type for n in tables.needs} if w.vocab.addresses[c] & oracle.types_met(t)}
            tl = tally(tables, states, area=area, types=met, min_severity=3)
            if tl.needs:
                want_cats[c] = tl.tuple()
        assert got_cats == want_cats, (what, area)
    start = date(2020, 1, 1)  # a period: the needs identified in it, judged as of its end
    rep = gaps(store, w.counties[0], period=(start, DAY), settings=w.settings).to_dict()
    assert group_tuple(rep["totals"]) == tally(tables, states, area=w.counties[0], start=start).tuple(), what
    # the catalogue's counts: per need type, from the needs and from the summaries
    for area in ["21", w.cities[0], *w.counties]:
        for real_only in (False, True):
            per_type: dict[str, Count] = defaultdict(Count)
            covered: Counter[tuple[str, str]] = Counter()
            for n in tables.needs:
                if n.key in states and n.village.startswith(area) and not (real_only and n.example):
                    per_type[n.type].add(states[n.key][0], n.example)
                    for c in states[n.key][1]:
                        covered[(n.type, c)] += 1
            needs = {code(r["need_type"]): num(r["needs"])
                     for r in catalogue(store, "needs_by_type", area, real_only)}
            assert needs == {t: c.needs for t, c in per_type.items()}, (what, area, real_only)
            summary = {code(r["need_type"]): (num(r["needs"]), num(r["unaddressed"]), num(r["unverified"]))
                       for r in catalogue(store, "need_summary_by_type", area, real_only) if num(r["needs"])}
            assert summary == {t: (c.needs, c.unaddressed, c.unverified) for t, c in per_type.items()}, \
                (what, area, real_only)
            for name in ("coverage_by_category", "coverage_summary_by_category"):
                cov = {(code(r["need_type"]), code(r["category"])): num(r["covered"])
                       for r in catalogue(store, name, area, real_only) if num(r["covered"])}
                assert cov == dict(covered), (what, name, area, real_only)
    for area in ["21", *w.counties]:
        for real_only in (False, True):
            per_village: Counter[str] = Counter()
            for n in tables.needs:
                if (n.key in states and states[n.key][0] == "NS3" and n.severity >= 4 and n.village.startswith(area)
                        and not (real_only and n.example)):
                    per_village[n.village] += 1
            top = {r["village_code"]: num(r["unaddressed_severe"])
                   for r in catalogue(store, "top_unaddressed_villages", area, real_only, min_severity="4")}
            # 50 of the villages with the most (which ones among ties at the cut: the severity sum decides)
            assert len(top) == min(50, len(per_village)), (what, area, real_only)
            assert all(per_village[v] == c for v, c in top.items()), (what, area, real_only)
            assert min(top.values(), default=0) >= max((c for v, c in per_village.items() if v not in top), default=0)


def test_the_gap_figures_are_the_oracles(world: World) -> None:
    w = world
    build(w.settings)
    store = Store.open(w.settings.store_path)
    try:
        example = example_tables(store)
    finally:
        store.close()
    # three counties with example needs; villages of them, example villages among them
    rng = random.Random(SEED)
    by_county = Counter(n.village[:6] for n in example.needs)
    w.counties = [c for c, _ in by_county.most_common(3)]
    w.cities = sorted({c[:4] for c in w.counties})
    with open(VILLAGES_CSV, encoding="utf-8") as fh:
        all_villages = [r["code"] for r in csv.DictReader(fh) if r["areaCode"] in w.counties]
    ex_villages = sorted({n.village for n in example.needs if n.village[:6] in w.counties})
    villages = sorted(set(rng.sample(all_villages, min(60, len(all_villages)))) - set(ex_villages))
    w.towns = sorted({v[:9] for v in villages + ex_villages})
    w.sample_villages = [*ex_villages[:2], *villages[:3]]
    first = generate(rng, villages, ex_villages, w.towns, w.counties, w.vocab)
    second = generate(rng, villages, ex_villages, w.towns, w.counties, w.vocab, example)
    first_paths = [write_table(w.tmp / f"{k}.1.csv", k, rows) for k, rows in first.items()]
    second_paths = [write_table(w.tmp / f"{k}.2.csv", k, rows) for k, rows in second.items()]

    store = Store.open(w.settings.store_path)
    try:
        import_files(store, first_paths, user="oracle", settings=w.settings)
        tables = merged(example, real_tables(first_paths))
        check(w, store, tables, "first import", full=False)
        # the second in two batches, each down its own refresh path: needs alone, then interventions and evaluations
        needs_paths = [p for p in second_paths if p.stem.startswith("needs")]
        second_needs = import_files(store, needs_paths, user="oracle", settings=w.settings).batch_id
        check(w, store, merged(example, real_tables(first_paths + needs_paths)), "needs alone", full=False)
        res_paths = [p for p in second_paths if p.stem.startswith("resources")]
        second_res = import_files(store, res_paths, user="oracle", settings=w.settings).batch_id
        rest = [p for p in second_paths if p not in needs_paths + res_paths]
        second_rest = import_files(store, rest, user="oracle", settings=w.settings).batch_id
        tables = merged(example, real_tables(first_paths + second_paths))
        oracle = Oracle(tables, w.vocab)
        oracle.states(DAY)
        # the data exercise every clause: else the comparisons below would prove little
        assert {"village capacity spent", "people reached spent", "direct", "direct example", "area", "real NS1",
                "real NS2", "real NS3", "example NS1", "example NS3"} <= set(oracle.seen), oracle.seen
        check(w, store, tables, "second import")
        with TestClient(create_app(w.settings, store)) as client:  # the API only formats the library's answer
            states = Oracle(tables, w.vocab).states(DAY)
            for area in [w.counties[0], w.sample_villages[0]]:
                body = client.get("/api/gaps", params={"area": area, "real_only": "true"}).json()
                assert group_tuple(body["totals"]) == tally(tables, states, area=area, real_only=True).tuple()
            for area in w.counties:  # the downloads: the API's CSV, the dashboard's charts
                text = client.get("/api/gaps", params={"area": area, "format": "csv", "real_only": "true"}).text
                for r in csv.DictReader(text.lstrip("\ufeff").splitlines()):
                    got = tuple(int(r[k]) for k in ("needs", "addressed", "unverified", "unaddressed", "example_needs"))
                    assert got == tally(tables, states, area=r["code"], real_only=True).tuple(), (area, r["code"])
                text = client.get("/dashboard/data/area.csv", params={"area": area}).text
                for r in csv.DictReader(text.lstrip("\ufeff").splitlines()):
                    c = tally(tables, states, area=r["区划代码"])
                    assert chart_row(r) == (c.needs, c.unaddressed, c.unverified, c.example), (area, r["区划代码"])
                text = client.get("/dashboard/data/need_type.csv", params={"area": area}).text
                *by_type, total = csv.DictReader(text.lstrip("\ufeff").splitlines())
                c = tally(tables, states, area=area)  # the last row: the area's own counts
                assert total["代码"] == area and chart_row(total) == (c.needs, c.unaddressed, c.unverified, c.example)
                for r in by_type:
                    c = tally(tables, states, area=area, types={r["代码"]})
                    assert chart_row(r) == (c.needs, c.unaddressed, c.unverified, c.example), (area, r["代码"])
        # two interventions and a need of the first batch replaced, then the second's two batches withdrawn
        fixes = replacements(store, first, rng)
        for kind, record_id, row, _ in fixes:
            replace_record(store, kind, record_id, row, user="oracle", settings=w.settings)
        fixed_paths = [write_table(w.tmp / f"{kind}.fix{k}.csv", kind, [row])
                       for k, (kind, _, row, _) in enumerate(fixes)]
        tables = replaced(merged(example, real_tables(first_paths + second_paths + fixed_paths)), fixes)
        check(w, store, tables, "replacements", full=False)
        withdraw(store, second_needs, user="oracle", reason="oracle", settings=w.settings)
        tables = replaced(merged(example, real_tables(first_paths + res_paths + rest + fixed_paths)), fixes)
        check(w, store, tables, "needs withdrawn", full=False)
        withdraw(store, second_rest, user="oracle", reason="oracle", settings=w.settings)
        withdraw(store, second_res, user="oracle", reason="oracle", settings=w.settings)
        tables = replaced(merged(example, real_tables(first_paths + fixed_paths)), fixes)
        check(w, store, tables, "withdrawal", full=False)
        refreshed = derived_figures(store)
        # the graph answers for every day until its stableUntil: no outcome may change before it
        m = marker(store)
        assert m is not None and m.as_of == DAY and m.stable_until is not None
        oracle, day = Oracle(tables, w.vocab), DAY
        while day < m.stable_until:
            assert oracle.states(day) == oracle.states(DAY), f"an outcome changes on {day}, before {m.stable_until}"
            day += timedelta(days=1)
    finally:
        store.close()
    build(w.settings, force=True)  # the same imports, replacement and withdrawal, replayed into a fresh store
    store = Store.open(w.settings.store_path)
    try:
        check(w, store, tables, "fresh build", full=False)
        assert derived_figures(store) == refreshed  # the refresh path leaves what a fresh build makes
        # a survey entered on a later day the graph still answers for: the graph is dated that day, the survey counted
        m = marker(store)
        assert m is not None and m.stable_until is not None
        later = DAY + (m.stable_until - DAY) // 2
        if later > DAY:
            survey = [{"village_code": v, "need_type": rng.choice(sorted(n.type for n in tables.needs)),
                       "severity": str(rng.randint(1, 5)), "people_affected": "30", "source": "survey",
                       "identified_on": later.isoformat(), "surveyor": "示例·调查员"} for v in w.sample_villages]
            path = write_table(w.tmp / "needs.later.csv", "needs", survey)
            import_files(store, [path], user="oracle", settings=w.settings.model_copy(update={"as_of": later}))
            tables = merged(tables, real_tables([path]))
            m = marker(store)
            assert m is not None and m.as_of == later, m
            check(w, store, tables, "a survey on a later day", full=False, day=later)
        # the server's keeper moves the graph to a later day, recomputing only where outcomes change
        advance(store, OTHER_DAYS[1], settings=w.settings)
        check(w, store, tables, "advanced", full=False, day=OTHER_DAYS[1])
    finally:
        store.close()


def replacements(store: Store, first: dict[str, list[dict[str, str]]],
                 rng: random.Random) -> list[tuple[str, str, dict[str, str], str]]:
    """A capacity-limited intervention cancelled, another made active and open-ended since 2023, a need given
    another type and severity (its identity changes, its record stays), an evaluation's result turned over."""
    ints = first["interventions"]
    capped = [i for i in ints if i.get("village_capacity") or i.get("people_reached")]
    a = dict(rng.choice(capped), status="S4")
    b = dict(rng.choice([i for i in ints if i["id"] != a["id"]]), status="S2", start_date="2023-01-01",
             end_date="", in_service_until="")
    n = rng.choice(first["needs"])
    iri = store.select(f"""PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT ?n WHERE {{
        ?n dcpa:needOf <https://w3id.org/dcpa/id/area/{n['village_code']}> ;
           dcpa:needType <{DCPAV}{n['need_type']}> ; dcpa:identifiedOn "{n['identified_on']}"^^xsd:date }}""")
    need_id = code(str(iri[0]["n"]))
    other = dict(n, need_type="N2" if n["need_type"] != "N2" else "N3", severity="5")
    old = f"{n['village_code']}|{n['need_type']}|{n['identified_on']}"
    e = first["evaluations"][0]
    iri = store.select(f"""PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT ?e WHERE {{
        ?e dcpa:evaluates <{INT_IRI}{e['intervention_id']}> ;
           dcpa:evaluatedArea <https://w3id.org/dcpa/id/area/{e['area_code']}> ;
           dcpa:indicator <{DCPAV}{e['indicator']}> ; dcpa:periodStart "{e['period_start']}"^^xsd:date }}""")
    missed = dict(e, actual_value="10" if e["actual_value"] != "10" else "200")  # the other side of its target
    return [("interventions", a["id"], a, ""), ("interventions", b["id"], b, ""), ("needs", need_id, other, old),
            ("evaluations", code(str(iri[0]["e"])), missed, "")]


def replaced(t: Tables, fixes: list[tuple[str, str, Any, str]]) -> Tables:
    """``t`` without the need a replacement changed the identity of (the replacement's row is in ``t``)."""
    gone = {old for kind, _, _, old in fixes if kind == "needs"}
    t.needs = [n for n in t.needs if n.key not in gone]
    return t


def derived_figures(store: Store) -> set[tuple[str, ...]]:
    """Every state, reason and summary of the derived graph, as text."""
    g = ox.NamedNode("https://w3id.org/dcpa/graph/derived")
    skip = (DCPA + "derivedAsOf", DCPA + "stableUntil", DCPA + "nextIdentifiedOn")
    return {(str(q.subject), str(q.predicate), str(q.object))
            for q in store.inner.quads_for_pattern(None, None, None, g) if str(q.predicate.value) not in skip}
