"""The ontology, served as Turtle, JSON-LD and a bilingual HTML page."""

from __future__ import annotations

import json
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kg.docs import ontology_html
from kg.resources import CONTEXT_FILE, ontology_graph

from ..qvalues import best, weighted

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


#: What /ontology is sent as, by the names a client may give it: HTML for browsers, and RDF for programs, RDF/XML
#: among them (the OWL API behind Protégé asks for it first: it got the HTML page, which it cannot read).
_OFFERED = {"text/html": "text/html", "application/xhtml+xml": "text/html", "text/turtle": "text/turtle",
            "application/x-turtle": "text/turtle", "application/ld+json": "application/ld+json",
            "application/json": "application/ld+json", "application/rdf+xml": "application/rdf+xml"}


@router.get("/ontology", summary="Ontology, by content negotiation / 本体（内容协商）")
def ontology(request: Request, lang: str = "zh") -> Response:
    """HTML, Turtle, JSON-LD or RDF/XML by the Accept header's q-values (``api.qvalues``): the header was searched for
    words, so "text/turtle;q=0, text/html" got Turtle and "application/rdf+xml" the page; HTML when it names none of
    them. Each says that it varies by Accept, so that no cache hands a program the page or a browser the Turtle."""
    chosen = best(weighted(request.headers.get("accept", "")), _OFFERED, "text/html") or "text/html"
    response = {"text/turtle": ontology_ttl, "application/ld+json": ontology_jsonld,
                "application/rdf+xml": ontology_rdfxml}.get(chosen, lambda: ontology_page(lang))()
    response.headers["Vary"] = "Accept"
    return response


@lru_cache(maxsize=1)
def _rdfxml() -> str:
    return ontology_graph().serialize(format="pretty-xml")


@router.get("/ontology.rdf", summary="Ontology as RDF/XML / 本体（RDF/XML）")
def ontology_rdfxml() -> Response:
    return Response(_rdfxml(), media_type="application/rdf+xml; charset=utf-8")
