"""Cited links between policies and programmes, real libraries and documented cases, as reference RDF.

Each row of ``policy_links.csv``, ``libraries.csv`` and ``cases.csv`` (``kg/data/reference/``, see its
``SOURCES.md``) was read on a public page; the row keeps the words seen, who first published them, where
they were seen and how far to trust them. Nothing here is generated: a link, a library or a case exists in
the graph only because a row says where it was read.

A cited link is written twice: as the plain triple that queries follow (``P16 dcpa:implementsPolicy P01``)
and as a ``dcpa:CitedLink`` node that names the triple's parts, quotes the source and derives from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import lru_cache

from .errors import DcpaError
from .namespaces import DCPAV, area, node
from .reference import T_DERIVED, T_LABEL, T_TYPE, _rows, _source, dcpa, iri, lit, policies, policy_iri, triple

#: relation column → ontology property (local name)
LINK_PROPERTIES = {
    "supports_need_type": "supportsNeedType",
    "programme_under_policy": "supportedBy",
    "programme_category": "programmeCategory",
    "implements_policy": "implementsPolicy",
}
LIBRARY_CLASSES = {"city": "CityLibrary", "county": "CountyLibrary"}


@lru_cache(maxsize=1)
def policy_links() -> tuple[dict[str, str], ...]:
    return tuple(_rows("policy_links.csv"))


@lru_cache(maxsize=1)
def libraries() -> tuple[dict[str, str], ...]:
    return tuple(_rows("libraries.csv"))


@lru_cache(maxsize=1)
def cases() -> tuple[dict[str, str], ...]:
    return tuple(_rows("cases.csv"))


def _key(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:10]


def library_iri(row: dict[str, str]) -> str:
    """A real library's IRI: stable for its name and area, whatever the row order."""
    return node("library", f"ln-{row['area_code']}-{_key(row['name_zh'])}")


def _object(relation: str, obj: str, policy_by_id: dict[str, dict[str, str]], where: str) -> str:
    if relation == "supports_need_type":
        return str(DCPAV[obj])
    if relation == "programme_category":
        return str(DCPAV[obj])
    if obj not in policy_by_id:
        # for developers: the bundled reference tables (kg/data/reference), checked as they are read
        raise DcpaError(f"{where}: object {obj!r} is not a policy of policies.csv",
                        hint="use an id of policies.csv (P01…), or add the policy there with its source")
    return policy_iri(policy_by_id[obj])


def _seen_on(source: str, row: dict[str, str]) -> Iterator[str]:
    """The page a row was read on, as a ``dcpa:DocumentSource`` named after its original publisher."""
    yield from _source(source, "DocumentSource", f"来源：{row['original_publisher']}",
                       f"Source: {row['original_publisher']}", row)


def link_lines() -> Iterator[str]:
    """Every cited link: the triple, and the ``dcpa:CitedLink`` that quotes its source."""
    policy_by_id = {p["id"]: p for p in policies()}
    for i, r in enumerate(policy_links(), start=2):
        where = f"policy_links.csv, row {i}"
        if r["relation"] not in LINK_PROPERTIES:
            # for developers: the bundled reference tables (kg/data/reference), checked as they are read
            raise DcpaError(f"{where}: unknown relation {r['relation']!r}",
                            hint=f"use one of {', '.join(LINK_PROPERTIES)}")
        if r["subject"] not in policy_by_id:
            # for developers: the bundled reference tables (kg/data/reference), checked as they are read
            raise DcpaError(f"{where}: subject {r['subject']!r} is not a policy of policies.csv",
                            hint="use an id of policies.csv (P01…)")
        prop = LINK_PROPERTIES[r["relation"]]
        s = iri(policy_iri(policy_by_id[r["subject"]]))
        o = iri(_object(r["relation"], r["object"], policy_by_id, where))
        yield triple(s, dcpa(prop), o)
        key = _key(r["subject"], r["relation"], r["object"], r["seen_at"], r["evidence_zh"])
        link, source = iri(node("link", key)), node("source", f"link-{key}")
        yield from _seen_on(source, r)
        yield triple(link, T_TYPE, dcpa("CitedLink"))
        yield triple(link, T_LABEL, lit(f"{r['subject']} {prop} {r['object']}", lang="en"))
        yield triple(link, dcpa("linkSubject"), s)
        yield triple(link, dcpa("linkProperty"), dcpa(prop))
        yield triple(link, dcpa("linkObject"), o)
        yield triple(link, dcpa("evidenceQuote"), lit(r["evidence_zh"], lang="zh"))
        if r.get("note"):
            yield triple(link, iri("http://www.w3.org/2000/01/rdf-schema#comment"), lit(r["note"], lang="en"))
        yield triple(link, T_DERIVED, iri(source))


def real_library_lines() -> Iterator[str]:
    """The city and county public libraries that a public page names, each located in and serving its area."""
    for i, r in enumerate(libraries(), start=2):
        if r["level"] not in LIBRARY_CLASSES:
            # for developers: the bundled reference tables (kg/data/reference), checked as they are read
            raise DcpaError(f"libraries.csv, row {i}: unknown level {r['level']!r}", hint="use city or county")
        s, source = iri(library_iri(r)), node("source", f"library-{_key(r['name_zh'], r['seen_at'])}")
        yield from _seen_on(source, r)
        yield triple(s, T_TYPE, dcpa(LIBRARY_CLASSES[r["level"]]))
        yield triple(s, T_LABEL, lit(r["name_zh"], lang="zh"))
        yield triple(s, T_LABEL, lit(r["name_en"], lang="en"))
        yield triple(s, dcpa("locatedIn"), iri(area(r["area_code"])))
        yield triple(s, dcpa("serves"), iri(area(r["area_code"])))
        yield triple(s, dcpa("evidenceQuote"), lit(r["evidence_zh"], lang="zh"))
        yield triple(s, T_DERIVED, iri(source))


def case_lines() -> Iterator[str]:
    """Documented cases of library digital assistance, each in one of the four categories."""
    by_name = {r["name_zh"]: library_iri(r) for r in libraries()}
    for r in cases():
        key = _key(r["library_zh"], r["title_zh"], r["seen_at"])
        s, source = iri(node("case", key)), node("source", f"case-{key}")
        yield from _seen_on(source, r)
        yield triple(s, T_TYPE, dcpa("DocumentedCase"))
        yield triple(s, T_LABEL, lit(r["title_zh"], lang="zh"))
        yield triple(s, T_LABEL, lit(r["title_en"], lang="en"))
        yield triple(s, dcpa("caseCategory"), iri(str(DCPAV[r["category"]])))
        yield triple(s, dcpa("caseLibraryName"), lit(r["library_zh"], lang="zh"))
        if r["library_zh"] in by_name:
            yield triple(s, dcpa("caseLibrary"), iri(by_name[r["library_zh"]]))
        if r["target_area_code"]:
            yield triple(s, dcpa("caseArea"), iri(area(r["target_area_code"])))
        if r["year"]:
            yield triple(s, dcpa("caseYear"), lit(r["year"], "gYear"))
        yield triple(s, dcpa("evidenceQuote"), lit(r["evidence_zh"], lang="zh"))
        if r.get("note"):
            yield triple(s, iri("http://www.w3.org/2000/01/rdf-schema#comment"), lit(r["note"], lang="en"))
        yield triple(s, T_DERIVED, iri(source))


def sourced_lines() -> Iterator[str]:
    yield from link_lines()
    yield from real_library_lines()
    yield from case_lines()


__all__ = ["LINK_PROPERTIES", "case_lines", "cases", "libraries", "library_iri", "link_lines", "policy_links",
           "real_library_lines", "sourced_lines"]
