"""A DESCRIBE-like summary of one node, for the views' "details as JSON" links."""

from __future__ import annotations

from typing import Any

from ..contract import StoreAPI
from ..errors import NotFound
from . import _data

LIMIT = 200


def describe(store: StoreAPI, iri: str, *, limit: int = LIMIT) -> dict[str, Any]:
    """Labels, types, outgoing and incoming edges of ``iri`` (at most ``limit`` each)."""
    _data.ref(iri)  # refuses anything that is not a plain IRI
    out_rows = _data.select(store, f"SELECT ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {limit + 1}", s=iri)
    in_rows = _data.select(store, f"SELECT ?x ?p WHERE {{ ?x ?p ?s }} LIMIT {limit + 1}", s=iri)
    if not out_rows and not in_rows:
        raise NotFound(f"图谱中没有关于 {iri} 的任何信息 / nothing is known about {iri}",
                       hint="请给出图谱中某个节点的完整 IRI / give the full IRI of a node of the graph")
    lab_rows = _data.select(
        store, "SELECT ?l (LANG(?l) AS ?lang) WHERE { ?s rdfs:label|skos:prefLabel ?l }", s=iri
    )
    iris = {r["p"] for r in out_rows + in_rows} | {r["x"] for r in in_rows}
    iris |= {r["o"] for r in out_rows if isinstance(r["o"], str) and r["o"].startswith("http")}
    names = {k: v.to_dict() for k, v in _data.labels(store, iris).items()}
    objects = (
        store.select(
            f"SELECT ?o WHERE {{ VALUES ?o {{ {_data.iri_list(r['o'] for r in out_rows if _is_iri(r['o']))} }} "
            "?o ?any ?x } GROUP BY ?o"
        )
        if any(_is_iri(r["o"]) for r in out_rows)
        else []
    )
    known = {r["o"] for r in objects}

    def obj(value: Any) -> Any:
        if _is_iri(value) and value in known:
            return {"iri": value, "label": names.get(value)}
        return value

    return {
        "iri": iri,
        "labels": [{"value": r["l"], "lang": r.get("lang", "")} for r in lab_rows],
        "types": [r["o"] for r in out_rows if r["p"].endswith("#type")],
        "synthetic": bool(_data.synthetic(store, [iri])),
        "out": [
            {"property": r["p"], "property_label": names.get(r["p"]), "value": obj(r["o"])}
            for r in out_rows[:limit]
        ],
        "in": [
            {
                "subject": r["x"],
                "subject_label": names.get(r["x"]),
                "property": r["p"],
                "property_label": names.get(r["p"]),
            }
            for r in in_rows[:limit]
        ],
        "truncated": len(out_rows) > limit or len(in_rows) > limit,
    }


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))
