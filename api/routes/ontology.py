"""The ontology, served as Turtle, JSON-LD and a bilingual HTML page."""

from __future__ import annotations

import json
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kg.docs import ontology_html
from kg.resources import CONTEXT_FILE, ontology_graph

router = APIRouter(tags=["ontology"])

_TURTLE = "text/turtle; charset=utf-8"
_JSONLD = "application/ld+json; charset=utf-8"


@lru_cache(maxsize=1)
def _turtle() -> str:
    return ontology_graph().serialize(format="turtle")


@lru_cache(maxsize=1)
def _jsonld() -> str:
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"] if CONTEXT_FILE.exists() else {}
    return ontology_graph().serialize(format="json-ld", context=context, auto_compact=True)


@lru_cache(maxsize=2)
def _html(lang: str) -> str:
    return ontology_html(lang=lang)


@router.get("/ontology.ttl", summary="Ontology as Turtle / 本体（Turtle）")
def ontology_ttl() -> Response:
    return Response(_turtle(), media_type=_TURTLE)


@router.get("/ontology.jsonld", summary="Ontology as JSON-LD / 本体（JSON-LD）")
def ontology_jsonld() -> Response:
    return Response(_jsonld(), media_type=_JSONLD)


@router.get("/ontology.html", summary="Ontology documentation / 本体文档", response_class=HTMLResponse)
def ontology_page(lang: str = "zh") -> HTMLResponse:
    return HTMLResponse(_html("en" if lang == "en" else "zh"))


@router.get("/ontology", summary="Ontology, by content negotiation / 本体（内容协商）")
def ontology(request: Request, lang: str = "zh") -> Response:
    """Turtle, JSON-LD or HTML depending on the Accept header (HTML for browsers)."""
    accept = request.headers.get("accept", "")
    if "text/turtle" in accept:
        return ontology_ttl()
    if "application/ld+json" in accept or "application/json" in accept:
        return ontology_jsonld()
    return ontology_page(lang)
