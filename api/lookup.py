"""Read-only look-ups behind the planners' API: villages, records, statistics.

Plain functions over a store (embedded or remote) that return plain dicts; the routes only
page and format them. Queries start from their most selective pattern (a bound IRI or a
``VALUES`` list), as DESIGN.md asks; user text enters them only as escaped literals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import rdflib

from kg.errors import NotFound
from kg.namespaces import DCPA, ID, PREFIXES, area, node

SYNTHETIC = str(DCPA.isSynthetic)
VILLAGE_CLASSES = "dcpa:Village dcpa:UrbanCommunity dcpa:VillageLevelUnit"


def lit(text: str) -> str:
    """A SPARQL string literal for any text (quotes, backslashes and newlines escaped)."""
    return json.dumps(text, ensure_ascii=False)


def local_name(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1]
    return iri


def key_of(iri: str, kind: str) -> str:
    """The id of a data node under ``id:{kind}/`` (its IRI otherwise)."""
    prefix = f"{ID}{kind}/"
    return iri[len(prefix) :] if iri.startswith(prefix) else iri


# -- villages --------------------------------------------------------------------


def _village_filter(q: str | None, poor: bool | None) -> str:
    parts = []
    if q:
        q = q.strip()
        if q.isdigit():
            parts.append(f"FILTER(STRSTARTS(?code, {lit(q)}))")
        else:
            parts.append(f"FILTER(CONTAINS(STR(?name), {lit(q)}))")
    if poor is True:
        parts.append("FILTER EXISTS { ?v dcpa:povertyStatus ?_ps }")
    elif poor is False:
        parts.append("FILTER NOT EXISTS { ?v dcpa:povertyStatus ?_ps }")
    return "\n".join(parts)


def search_villages(
    store: Any, q: str | None, *, poor: bool | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """Village-level units by code prefix (digits) or name substring (Chinese), in code order.

    One scan finds every match (at most the province's 16,727 units) for the total and the page;
    the page is then filled in from its own IRIs.
    """
    matches = store.select(
        f"""SELECT DISTINCT ?v ?code WHERE {{
              VALUES ?cls {{ {VILLAGE_CLASSES} }}
              ?v a ?cls ; dcpa:areaCode ?code ; rdfs:label ?name .
              {_village_filter(q, poor)} }} ORDER BY ?code"""
    )
    page = matches[offset : offset + limit]
    if not page:
        return len(matches), []
    values = " ".join(f"<{r['v']}>" for r in page)
    rows = store.select(
        f"""SELECT ?v ?code ?name ?cls ?township ?townshipName (EXISTS {{ ?v dcpa:povertyStatus ?_s }} AS ?poor)
            WHERE {{ VALUES ?v {{ {values} }} VALUES ?cls {{ {VILLAGE_CLASSES} }}
              ?v a ?cls ; dcpa:areaCode ?code . OPTIONAL {{ ?v rdfs:label ?name }}
              OPTIONAL {{ ?v dcpa:parentArea ?township . OPTIONAL {{ ?township rdfs:label ?townshipName }} }}
            }} ORDER BY ?code"""
    )
    seen: set[str] = set()
    items = []
    for r in rows:
        if r["v"] in seen:
            continue
        seen.add(r["v"])
        items.append(
            {
                "code": r["code"],
                "name": r.get("name"),
                "type": local_name(r["cls"]),
                "iri": r["v"],
                "township": r.get("township") and {"code": local_name(r["township"]), "name": r.get("townshipName")},
                "poverty_registered": bool(r.get("poor")),
                "href": f"/api/villages/{r['code']}",
            }
        )
    return len(matches), items


def area_info(store: Any, code: str) -> dict[str, Any]:
    """Name, type and ancestors of one area; :class:`NotFound` when the code is unknown."""
    iri = area(code)
    rows = store.select(
        f"""SELECT ?name ?cls WHERE {{ <{iri}> dcpa:areaCode ?c ; a ?cls .
              OPTIONAL {{ <{iri}> rdfs:label ?name }} FILTER(STRSTARTS(STR(?cls), STR(dcpa:))) }}"""
    )
    if not rows:
        raise NotFound(f"no area with code {code}", hint="search villages with /api/villages?q=…")
    ancestors = store.select(
        f"""SELECT ?a ?code ?name WHERE {{ <{iri}> dcpa:withinArea ?a . ?a dcpa:areaCode ?code .
              OPTIONAL {{ ?a rdfs:label ?name }} }} ORDER BY STRLEN(?code)"""
    )
    return {
        "code": code,
        "iri": iri,
        "name": rows[0].get("name"),
        "type": local_name(rows[0]["cls"]),
        "within": [{"code": a["code"], "name": a.get("name")} for a in ancestors],
    }


def child_areas(store: Any, code: str | None) -> list[dict[str, Any]]:
    """The areas one level below ``code`` (the province's cities when ``code`` is None)."""
    if code:
        pattern = f"?a dcpa:parentArea <{area(code)}> ."
    else:
        pattern = "?a a dcpa:PrefectureCity ."
    rows = store.select(
        f"SELECT ?code ?name WHERE {{ {pattern} ?a dcpa:areaCode ?code . OPTIONAL {{ ?a rdfs:label ?name }} }} "
        "ORDER BY ?code"
    )
    return [{"code": r["code"], "name": r.get("name")} for r in rows]


def _labelled(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [
        {"iri": r[key], "code": local_name(r[key]), "label_zh": r.get(key + "Zh"), "label_en": r.get(key + "En")}
        for r in rows
        if key in r
    ]


def _label_opt(var: str) -> str:
    return (
        f"OPTIONAL {{ ?{var} skos:prefLabel|rdfs:label ?{var}Zh FILTER(langMatches(lang(?{var}Zh), 'zh')) }}\n"
        f"OPTIONAL {{ ?{var} skos:prefLabel|rdfs:label ?{var}En FILTER(langMatches(lang(?{var}En), 'en')) }}"
    )


def _source(store: Any, iri: str | None) -> dict[str, Any] | None:
    if not iri:
        return None
    rows = store.select(
        f"""SELECT ?cls ?label ?syn WHERE {{ OPTIONAL {{ <{iri}> a ?cls }}
              OPTIONAL {{ <{iri}> rdfs:label ?label }} OPTIONAL {{ <{iri}> dcpa:isSynthetic ?syn }} }} LIMIT 1"""
    )
    r = rows[0] if rows else {}
    return {
        "iri": iri,
        "type": local_name(r["cls"]) if r.get("cls") else None,
        "label": r.get("label"),
        "synthetic": bool(r.get("syn")),
    }


def village_detail(store: Any, code: str, *, reach: str = "area,library") -> dict[str, Any]:
    """Everything a planner needs about one village: status, needs, interventions, evidence."""
    info = area_info(store, code)
    v = info["iri"]
    status_rows = store.select(
        f"""SELECT ?st ?type ?typeZh ?typeEn ?reg ?exit ?hh ?pop ?src ?syn WHERE {{
              <{v}> dcpa:povertyStatus ?st .
              OPTIONAL {{ ?st dcpa:statusType ?type . {_label_opt("type")} }}
              OPTIONAL {{ ?st dcpa:registeredYear ?reg }} OPTIONAL {{ ?st dcpa:exitYear ?exit }}
              OPTIONAL {{ ?st dcpa:poorHouseholds ?hh }} OPTIONAL {{ ?st dcpa:poorPopulation ?pop }}
              OPTIONAL {{ ?st prov:wasDerivedFrom ?src }} OPTIONAL {{ ?st dcpa:isSynthetic ?syn }} }}"""
    )
    statuses = []
    for r in status_rows:
        causes = store.select(
            f"SELECT ?cause ?causeZh ?causeEn WHERE {{ <{r['st']}> dcpa:povertyCause ?cause . {_label_opt('cause')} }}"
        )
        statuses.append(
            {
                "iri": r["st"],
                "status_type": _labelled([r], "type")[0] if r.get("type") else None,
                "registered_year": r.get("reg"),
                "exit_year": r.get("exit"),
                "poor_households": r.get("hh"),
                "poor_population": r.get("pop"),
                "causes": _labelled(causes, "cause"),
                "synthetic": bool(r.get("syn")),
                "evidence": _source(store, r.get("src")),
            }
        )
    need_rows = store.select(
        f"""SELECT ?need ?type ?typeZh ?typeEn ?sev ?people ?on ?src ?syn WHERE {{
              ?need dcpa:needOf <{v}> ; dcpa:needType ?type . {_label_opt("type")}
              OPTIONAL {{ ?need dcpa:severity ?sev }} OPTIONAL {{ ?need dcpa:peopleAffected ?people }}
              OPTIONAL {{ ?need dcpa:identifiedOn ?on }} OPTIONAL {{ ?need prov:wasDerivedFrom ?src }}
              OPTIONAL {{ ?need dcpa:isSynthetic ?syn }} }} ORDER BY DESC(?sev) ?need"""
    )
    sources: dict[str, dict[str, Any] | None] = {}
    needs = []
    for r in need_rows:
        src = r.get("src")
        if src and src not in sources:
            sources[src] = _source(store, src)
        needs.append(
            {
                "id": key_of(r["need"], "need"),
                "iri": r["need"],
                "need_type": _labelled([r], "type")[0],
                "severity": r.get("sev"),
                "people_affected": r.get("people"),
                "identified_on": r.get("on"),
                "synthetic": bool(r.get("syn")),
                "evidence": sources.get(src) if src else None,
            }
        )
    interventions = reaching_interventions(store, v, reach)
    evaluations = store.select(
        f"""SELECT ?e ?ind ?indZh ?indEn ?i ?base ?target ?actual ?start ?end WHERE {{
              ?e dcpa:evaluatedArea <{v}> . OPTIONAL {{ ?e dcpa:evaluates ?i }}
              OPTIONAL {{ ?e dcpa:indicator ?ind . {_label_opt("ind")} }}
              OPTIONAL {{ ?e dcpa:baselineValue ?base }} OPTIONAL {{ ?e dcpa:targetValue ?target }}
              OPTIONAL {{ ?e dcpa:actualValue ?actual }} OPTIONAL {{ ?e dcpa:periodStart ?start }}
              OPTIONAL {{ ?e dcpa:periodEnd ?end }} }} ORDER BY ?e"""
    )
    synthetic = any(n["synthetic"] for n in needs) or any(s["synthetic"] for s in statuses)
    return {
        **info,
        "synthetic": synthetic,
        "synthetic_note": "contains generated example data (示例数据), not real facts" if synthetic else None,
        "poverty_status": statuses,
        "needs": needs,
        "interventions": interventions,
        "evaluations": [
            {
                "id": key_of(r["e"], "evaluation"),
                "intervention": r.get("i") and key_of(r["i"], "intervention"),
                "indicator": _labelled([r], "ind")[0] if r.get("ind") else None,
                "baseline": r.get("base"),
                "target": r.get("target"),
                "actual": r.get("actual"),
                "period_start": r.get("start"),
                "period_end": r.get("end"),
            }
            for r in evaluations
        ],
        "links": {
            "recommendations": f"/api/villages/{code}/recommendations",
            "similar": f"/api/villages/{code}/similar",
            "gaps": f"/api/gaps?area={info['within'][-1]['code']}" if info["within"] else "/api/gaps",
        },
    }


def reaching_interventions(store: Any, village_iri: str, reach: str) -> list[dict[str, Any]]:
    """Interventions that reach the village under the reach rule (see DATA_MODEL.md)."""
    modes = {m.strip() for m in reach.split(",") if m.strip()} or {"direct"}
    v = f"<{village_iri}>"
    branches = [f"{{ ?i dcpa:targetsArea {v} . BIND('direct' AS ?how) }}"]
    if "area" in modes:
        branches.append(f"{{ {v} dcpa:withinArea ?a . ?i dcpa:targetsArea ?a . BIND('area' AS ?how) }}")
    if "library" in modes:
        branches.append(
            f"{{ {{ ?lib dcpa:serves {v} }} UNION {{ {v} dcpa:withinArea ?la . ?lib dcpa:serves ?la }} "
            "?i dcpa:providedBy ?lib . BIND('library' AS ?how) }"
        )
    rows = store.select(
        f"""SELECT ?i ?label ?cat ?catZh ?catEn ?status ?statusZh ?statusEn
                   (GROUP_CONCAT(DISTINCT ?how; separator=",") AS ?hows) (SAMPLE(?syn0) AS ?syn) WHERE {{
              {{ SELECT DISTINCT ?i ?how WHERE {{ {" UNION ".join(branches)} }} }}
              OPTIONAL {{ ?i rdfs:label ?label FILTER(langMatches(lang(?label), 'zh') || lang(?label) = '') }}
              OPTIONAL {{ ?i dcpa:category ?cat . {_label_opt("cat")} }}
              OPTIONAL {{ ?i dcpa:interventionStatus ?status . {_label_opt("status")} }}
              OPTIONAL {{ ?i dcpa:isSynthetic ?syn0 }}
            }} GROUP BY ?i ?label ?cat ?catZh ?catEn ?status ?statusZh ?statusEn ORDER BY ?i"""
    )
    return [
        {
            "id": key_of(r["i"], "intervention"),
            "iri": r["i"],
            "label": r.get("label"),
            "category": _labelled([r], "cat")[0] if r.get("cat") else None,
            "status": _labelled([r], "status")[0] if r.get("status") else None,
            "reached_by": sorted(set(str(r.get("hows", "")).split(","))),
            "synthetic": bool(r.get("syn")),
            "href": f"/api/interventions/{key_of(r['i'], 'intervention')}",
        }
        for r in rows
    ]


# -- records (policies, programmes, libraries, resources, interventions, evaluations) --


@dataclass(frozen=True)
class RecordKind:
    path: str  # URL segment, e.g. "policies"
    kind: str  # IRI segment, e.g. "policy"
    root: str  # root class, e.g. "dcpa:Policy"
    title: str


RECORD_KINDS: dict[str, RecordKind] = {
    k.path: k
    for k in (
        RecordKind("policies", "policy", "dcpa:Policy", "Policies / 政策"),
        RecordKind("programmes", "programme", "dcpa:Programme", "Programmes / 工程项目"),
        RecordKind("libraries", "library", "dcpa:Library", "Libraries / 图书馆"),
        RecordKind("resources", "resource", "dcpa:LibraryResource", "Library resources / 图书馆资源"),
        RecordKind("interventions", "intervention", "dcpa:Intervention", "Interventions / 帮扶项目"),
        RecordKind("evaluations", "evaluation", "dcpa:Evaluation", "Evaluations / 效果评估"),
    )
}


def _classes(store: Any, root: str) -> str:
    rows = store.select(f"SELECT DISTINCT ?c WHERE {{ ?c rdfs:subClassOf* {root} }}")
    iris = {r["c"] for r in rows if isinstance(r.get("c"), str) and not r["c"].startswith("_:")}
    iris.add(_expand(root))
    return " ".join(f"<{c}>" for c in sorted(iris))


def _expand(curie: str) -> str:
    p, _, local = curie.partition(":")
    return PREFIXES[p] + local


def list_records(
    store: Any, kind: RecordKind, *, q: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """One page of records of a kind, in IRI order, each with all its properties."""
    flt = f"?s rdfs:label ?_l FILTER(CONTAINS(STR(?_l), {lit(q)}))" if q else ""
    where = f"VALUES ?c {{ {_classes(store, kind.root)} }} ?s a ?c . {flt}"
    total_rows = store.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}")
    total = int(total_rows[0].get("n", 0)) if total_rows else 0
    page = store.select(f"SELECT DISTINCT ?s WHERE {{ {where} }} ORDER BY ?s LIMIT {limit} OFFSET {offset}")
    iris = [r["s"] for r in page]
    return total, describe_records(store, iris, kind)


def describe_records(store: Any, iris: list[str], kind: RecordKind) -> list[dict[str, Any]]:
    """Records as dicts: id, IRI, types, labels, synthetic flag and every property (local names)."""
    if not iris:
        return []
    values = " ".join(f"<{i}>" for i in iris)
    rows = store.select(
        f"""SELECT ?s ?p ?o ?oLabel WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o .
              OPTIONAL {{ ?o skos:prefLabel|rdfs:label ?oLabel
                          FILTER(isIRI(?o) && (langMatches(lang(?oLabel), 'zh') || lang(?oLabel) = '')) }} }}"""
    )
    recs: dict[str, dict[str, Any]] = {
        i: {
            "id": key_of(i, kind.kind),
            "iri": i,
            "types": [],
            "label_zh": None,
            "label_en": None,
            "synthetic": False,
            "properties": {},
            "href": f"/api/{kind.path}/{key_of(i, kind.kind)}",
        }
        for i in iris
    }
    seen: set[tuple[str, str, str]] = set()
    for r in rows:
        rec = recs[r["s"]]
        p, o = r["p"], r["o"]
        if (r["s"], p, str(o)) in seen:
            continue
        seen.add((r["s"], p, str(o)))
        if p == str(rdflib.RDF.type):
            rec["types"].append(local_name(o))
            continue
        if p == SYNTHETIC:
            rec["synthetic"] = bool(o)
            continue
        name = local_name(p)
        value: Any = o
        if isinstance(o, str) and o.startswith(("http://", "https://")):
            value = {"iri": o, "label": r.get("oLabel")}
        rec["properties"].setdefault(name, []).append(value)
    for rec in recs.values():
        labels = rec["properties"].pop("label", [])
        rec["label_zh"], rec["label_en"] = _split_labels(store, rec["iri"], labels)
        rec["properties"] = {k: v[0] if len(v) == 1 else v for k, v in rec["properties"].items()}
    return [recs[i] for i in iris]


def _split_labels(store: Any, iri: str, labels: list[Any]) -> tuple[str | None, str | None]:
    if not labels:
        return None, None
    rows = store.select(f"SELECT ?l (LANG(?l) AS ?lang) WHERE {{ <{iri}> rdfs:label ?l }}")
    zh = next((r["l"] for r in rows if str(r.get("lang", "")).startswith("zh")), None)
    en = next((r["l"] for r in rows if str(r.get("lang", "")).startswith("en")), None)
    plain = next((r["l"] for r in rows if not r.get("lang")), None)
    return zh or plain, en


def get_record(store: Any, kind: RecordKind, key: str) -> dict[str, Any]:
    iri = node(kind.kind, key)
    classes = _classes(store, kind.root)
    if not store.ask(f"ASK {{ VALUES ?c {{ {classes} }} <{iri}> a ?c }}"):
        raise NotFound(f"no {kind.kind} with id {key!r}", hint=f"list them with /api/{kind.path}")
    return describe_records(store, [iri], kind)[0]


def records_graph(store: Any, iris: list[str]) -> rdflib.Graph:
    """The triples about the records (for JSON-LD answers)."""
    g = rdflib.Graph()
    for p, ns in PREFIXES.items():
        g.bind(p, ns)
    if iris:
        values = " ".join(f"<{i}>" for i in iris)
        g += store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}")
    return g


def record_table_row(rec: dict[str, Any]) -> dict[str, Any]:
    """A flat row for CSV: the fixed fields, then each property."""
    row = {k: rec[k] for k in ("id", "iri", "label_zh", "label_en", "synthetic")}
    row["types"] = rec["types"]
    row.update(rec["properties"])
    return row


# -- statistics --------------------------------------------------------------------


def stats(store: Any) -> dict[str, Any]:
    """Counts a dashboard or a reader wants first."""

    def count(pattern: str) -> int:
        rows = store.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {pattern} }}")
        return int(rows[0].get("n", 0)) if rows else 0

    counts = {
        "villages": count(f"VALUES ?c {{ {VILLAGE_CLASSES} }} ?s a ?c"),
        "registered_poor_villages": count("?s dcpa:povertyStatus ?st"),
        "needs": count("?s a dcpa:Need"),
        "libraries": count(f"VALUES ?c {{ {_classes(store, 'dcpa:Library')} }} ?s a ?c"),
        "resources": count(f"VALUES ?c {{ {_classes(store, 'dcpa:LibraryResource')} }} ?s a ?c"),
        "interventions": count("?s a dcpa:Intervention"),
        "evaluations": count("?s a dcpa:Evaluation"),
        "policies": count(f"VALUES ?c {{ {_classes(store, 'dcpa:Policy')} }} ?s a ?c"),
        "programmes": count("?s a dcpa:Programme"),
        "imports": count("?s a dcpa:ImportActivity"),
    }
    by_status = store.select(
        f"""SELECT ?status ?statusZh ?statusEn (COUNT(?i) AS ?n) WHERE {{
              ?i a dcpa:Intervention ; dcpa:interventionStatus ?status . {_label_opt("status")}
            }} GROUP BY ?status ?statusZh ?statusEn ORDER BY ?status"""
    )
    by_category = store.select(
        f"""SELECT ?cat ?catZh ?catEn (COUNT(?i) AS ?n) WHERE {{
              ?i a dcpa:Intervention ; dcpa:category ?cat . {_label_opt("cat")}
            }} GROUP BY ?cat ?catZh ?catEn ORDER BY ?cat"""
    )
    graphs = [{"graph": g, "triples": n} for g, n in sorted(_graph_counts(store).items())]
    return {
        "counts": counts,
        "interventions_by_status": [{**_labelled([r], "status")[0], "count": r["n"]} for r in by_status],
        "interventions_by_category": [{**_labelled([r], "cat")[0], "count": r["n"]} for r in by_category],
        "graphs": graphs,
        "triples": sum(g["triples"] for g in graphs),
    }


def _graph_counts(store: Any) -> dict[str, int]:
    """Triples per named graph: one aggregate query (``Store.count`` per graph walks every quad in Python,
    24 s at province scale against about 1 s)."""
    try:
        from kg.stats import graph_counts
    except ImportError:
        return {g: store.count(g) for g in store.graphs()}
    counts: dict[str, int] = graph_counts(store)
    return counts
