"""Coded value lists (need types, categories, statuses…) read from the ontology graph.

A cell may name a coded value by its notation (``N22``), by its Chinese or English preferred or
alternative label, in any case, or as the template's drop-down writes it (``N22 电子商务技能``).
The lists come from the SKOS schemes and ontology classes in the graph, so a new concept in
``ontology/vocab.ttl`` appears in the templates and is accepted by the importer without code changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from ..contract import StoreAPI
from ..namespaces import DCPA, DCPAV, GRAPH_ONTOLOGY
from ..resources import ontology_graph
from ..safetext import typed

SCHEMES: dict[str, URIRef] = {
    "need_types": DCPAV.NeedTypes,
    "resource_types": DCPAV.ResourceTypes,
    "categories": DCPAV.InterventionCategories,
    "poverty_causes": DCPAV.PovertyCauses,
    "indicators": DCPAV.Indicators,
    "status_types": DCPAV.PovertyStatusTypes,
    "statuses": DCPAV.InterventionStatuses,
    "reach_scopes": DCPAV.ReachScopes,
    "delivery_modes": DCPAV.DeliveryModes,
    "funding_sources": DCPAV.FundingSources,
    "technologies": DCPAV.Technologies,
    "personnel_roles": DCPAV.PersonnelRoles,
    "household_categories": DCPAV.HouseholdCategories,
    "interviewee_roles": DCPAV.IntervieweeRoles,
    "consent_kinds": DCPAV.ConsentKinds,
    "anonymisation_kinds": DCPAV.AnonymisationKinds,
}

#: Lists whose values are ontology classes: (code, class, extra accepted spellings).
CLASS_LISTS: dict[str, tuple[tuple[str, URIRef, tuple[str, ...]], ...]] = {
    "library_types": (
        ("provincial", DCPA.ProvincialLibrary, ()),
        ("city", DCPA.CityLibrary, ()),
        ("county", DCPA.CountyLibrary, ()),
        ("township", DCPA.TownshipBranch, ("branch",)),
        ("village", DCPA.VillageServicePoint, ("service point",)),
    ),
    "policy_kinds": (
        ("law", DCPA.Law, ()),
        ("plan", DCPA.Plan, ("programme-plan",)),
        ("opinion", DCPA.Opinion, ()),
        ("decision", DCPA.Decision, ()),
        ("programme-notice", DCPA.ProgrammeNotice, ("notice",)),
        ("programme", DCPA.Programme, ("project",)),
    ),
    "source_kinds": (
        ("survey", DCPA.Survey, ()),
        ("interview", DCPA.Interview, ()),
        ("document", DCPA.DocumentSource, ("文件",)),
    ),
}

#: Lists of plain values (no IRI in the ontology): the levels named in ``dcpa:policyLevel``'s definition.
LITERAL_LISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "policy_levels": (
        ("national", "国家", "National"),
        ("provincial", "省级", "Provincial"),
        ("city", "市级", "City"),
        ("county", "县级", "County"),
    ),
}

#: Each coded list's names: its title (the template's lists, zh and en) and what one of its values is called
#: (an error's "unknown need type"). Every list of ``SCHEMES`` and ``CLASS_LISTS`` has them (tested): an unknown
#: delivery mode made the import fail with a KeyError where it had none.
LIST_TITLES: dict[str, tuple[str, str, str, str]] = {
    "need_types": ("需求类型", "Need types", "需求类型", "need type"),
    "resource_types": ("资源类型", "Resource types", "资源类型", "resource type"),
    "categories": ("帮扶类别", "Intervention categories", "帮扶类别", "intervention category"),
    "poverty_causes": ("致贫原因", "Poverty causes", "致贫原因", "poverty cause"),
    "indicators": ("评价指标", "Indicators", "评价指标", "indicator"),
    "status_types": ("贫困状态类型", "Poverty status types", "贫困状态类型", "poverty status type"),
    "statuses": ("项目状态", "Intervention statuses", "项目状态", "intervention status"),
    "reach_scopes": ("覆盖范围", "Reach scopes", "覆盖范围", "reach scope"),
    "delivery_modes": ("提供方式", "Delivery modes", "提供方式", "delivery mode"),
    "library_types": ("图书馆级别", "Library types", "图书馆级别", "library type"),
    "policy_kinds": ("文件类型", "Policy kinds", "文件类型", "policy kind"),
    "source_kinds": ("证据来源", "Source kinds", "证据来源", "source kind"),
    "policy_levels": ("层级", "Levels", "层级", "level"),
    "funding_sources": ("资金来源", "Funding sources", "资金来源", "funding source"),
    "technologies": ("技术手段", "Technologies", "技术手段", "technology"),
    "personnel_roles": ("人员角色", "Personnel roles", "人员角色", "personnel role"),
    "household_categories": ("贫困户类别", "Poor household categories", "贫困户类别", "poor household category"),
    "interviewee_roles": ("受访者角色", "Interviewee roles", "受访者角色", "interviewee role"),
    "consent_kinds": ("知情同意方式", "Consent kinds", "知情同意方式", "consent"),
    "anonymisation_kinds": ("匿名处理方式", "Anonymisation kinds", "匿名处理方式", "anonymisation"),
}


def norm(value: object) -> str:
    """Normalise a coded value for lookup: as typed (``kg.safetext.typed``: full-width → ASCII, zero-width characters
    pasted from a chat or a web page out, which made 调查\u200b an "unknown source kind"), lower case, single spaces."""
    s = typed(str(value)).lower()
    return " ".join(s.split())


@dataclass(frozen=True)
class Code:
    """One value of a coded list."""

    code: str
    term: rdflib.term.Node  # a concept or class IRI, or a plain literal
    zh: str
    en: str
    alt: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """How the template's drop-down writes it: ``N22 电子商务技能``."""
        return f"{self.code} {self.zh}"

    def spellings(self) -> set[str]:
        # the code glued to its label (N22电子商务技能, survey调查): typed by hand or pasted from a form, the space
        # of the drop-down's spelling is lost; it named the code all the same ("unknown need type" showed the hint
        # listing what looked the same)
        glued = f"{self.code}{self.zh}"
        return {norm(s) for s in (self.code, self.zh, self.en, self.display, glued, *self.alt) if s}


@dataclass
class CodeList:
    name: str
    codes: list[Code]

    def __post_init__(self) -> None:
        self._index: dict[str, Code] = {}
        for c in self.codes:
            for s in c.spellings():
                self._index.setdefault(s, c)

    @property
    def zh(self) -> str:
        return LIST_TITLES[self.name][0]

    @property
    def en(self) -> str:
        return LIST_TITLES[self.name][1]

    @property
    def one(self) -> tuple[str, str]:
        """What one of its values is called (zh, en)."""
        return LIST_TITLES[self.name][2], LIST_TITLES[self.name][3]

    def resolve(self, value: object) -> Code | None:
        """The code a cell names, or None."""
        v = norm(value)
        if v in self._index:
            return self._index[v]
        head = v.split(" ", 1)[0]  # "N22 电商技能" with a changed label still names N22
        return self._index.get(head) if head != v else None

    def examples(self, n: int = 6, near: object = None) -> str:
        """The first ``n`` values as the drop-down writes them; those whose label holds what was typed, or is held
        in it, first (电子商务 → N22 电子商务技能, 问卷调查 → survey 调查): the first six of a long list rarely held
        the one meant."""
        typed_ = norm(near) if near is not None else ""
        close = [c for c in self.codes if typed_ and any(
            len(s) > 1 and (typed_ in s or s in typed_) for s in (norm(c.zh), norm(c.en)))] if len(typed_) > 1 else []
        shown = (close + [c for c in self.codes if c not in close])[:n]
        return ", ".join(c.display for c in shown) + (" …" if len(self.codes) > n else "")


def _lang(g: rdflib.Graph, s: URIRef, p: URIRef, lang: str) -> list[str]:
    return sorted(str(o) for o in g.objects(s, p) if isinstance(o, Literal) and o.language == lang)


def _first(values: list[str], default: str) -> str:
    return values[0] if values else default


def code_lists(graph: rdflib.Graph | None = None) -> dict[str, CodeList]:
    """Every coded list, from ``graph`` (default: the ontology files)."""
    g = graph if graph is not None else ontology_graph()
    lists: dict[str, CodeList] = {}
    for name, scheme in SCHEMES.items():
        codes = []
        for c in set(g.subjects(SKOS.inScheme, scheme)):
            if not isinstance(c, URIRef):
                continue
            notation = str(g.value(c, SKOS.notation) or c.split("/")[-1])
            zh = _first(_lang(g, c, SKOS.prefLabel, "zh"), notation)
            en = _first(_lang(g, c, SKOS.prefLabel, "en"), notation)
            alt = tuple(_lang(g, c, SKOS.altLabel, "zh") + _lang(g, c, SKOS.altLabel, "en"))
            codes.append(Code(notation, c, zh, en, alt))
        lists[name] = CodeList(name, sorted(codes, key=lambda c: c.code))
    for name, entries in CLASS_LISTS.items():
        codes = []
        for code, cls, extra in entries:
            zh = _first(_lang(g, cls, RDFS.label, "zh"), code)
            en = _first(_lang(g, cls, RDFS.label, "en"), code)
            codes.append(Code(code, cls, zh, en, (cls.split("#")[-1], *extra)))
        lists[name] = CodeList(name, codes)
    for name, values in LITERAL_LISTS.items():
        lists[name] = CodeList(name, [Code(c, Literal(c), zh, en) for c, zh, en in values])
    return lists


def store_vocabulary(store: StoreAPI) -> rdflib.Graph:
    """The ontology as the store holds it (falls back to the files for a store without it)."""
    if store.count(str(GRAPH_ONTOLOGY)) > 0:
        return store.to_rdflib(str(GRAPH_ONTOLOGY))
    return ontology_graph()


def subclasses(graph: rdflib.Graph, cls: URIRef) -> set[URIRef]:
    """``cls`` and every class below it (``rdfs:subClassOf*``)."""
    out = {cls}
    todo = [cls]
    while todo:
        c = todo.pop()
        for s in graph.subjects(RDFS.subClassOf, c):
            if isinstance(s, URIRef) and s not in out:
                out.add(s)
                todo.append(s)
    return out
