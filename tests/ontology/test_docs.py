"""The generated documentation page: complete, bilingual, self-contained and escaped."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib.namespace import RDFS, SKOS

from kg.docs import ontology_html
from kg.ontology_checks import classes, concepts, properties


@pytest.fixture(scope="module")
def pages():
    return {lang: ontology_html(lang) for lang in ("zh", "en")}


def test_chinese_page_shows_every_class_property_and_concept_with_labels(pages, ontology):
    html = pages["zh"]
    assert '<html lang="zh-CN">' in html
    for term in [*classes(ontology), *properties(ontology), *concepts(ontology)]:
        zh = next(str(v) for p in (RDFS.label, SKOS.prefLabel) for v in ontology.objects(term, p) if v.language == "zh")
        assert zh in html or zh.replace("“", "&ldquo;") in html, term
        assert f'href="{term}"' in html, term


def test_english_page_shows_definitions(pages, ontology):
    html = pages["en"]
    for term in classes(ontology):
        definition = next(str(v) for v in ontology.objects(term, SKOS.definition) if v.language == "en")
        assert _esc(definition) in html, term


def _esc(text: str) -> str:
    from html import escape

    return escape(text)


def test_page_has_title_metadata_toc_and_language_switch(pages):
    assert "公共图书馆数字文化扶贫知识图谱本体" in pages["zh"]
    assert 'href="?lang=en"' in pages["zh"] and 'href="?lang=zh"' in pages["en"]
    for anchor in ("meta", "classes", "objprops", "dataprops", "schemes", "matching"):
        assert f'href="#{anchor}"' in pages["en"] and f'id="{anchor}"' in pages["en"]
    assert "https://creativecommons.org/licenses/by/4.0/" in pages["en"]
    assert "0.1.0" in pages["en"]


def test_schemes_are_trees_with_notations_and_need_type_matching(pages):
    html = pages["en"]
    # N22 (e-commerce skills) is nested under N2 (digital literacy and skills)
    n2 = html.index('id="dcpav-N2"')
    n22 = html.index('id="dcpav-N22"')
    n3 = html.index('id="dcpav-N3"')
    assert n2 < n22 < n3
    assert '<span class="notation">PC11</span>' in html
    matching = html[html.index('id="matching"') :]
    assert "Digital terminal distribution" in matching and "Terminal access" in matching


def test_no_external_script_or_stylesheet(pages):
    for html in pages.values():
        assert not re.search(r"<script[^>]+src=", html)
        assert not re.search(r"<link[^>]+stylesheet", html)
        assert "@import" not in html
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert external and all(u.startswith("https://w3id.org/dcpa/") for u in external)


def test_text_is_escaped():
    g = rdflib.Graph().parse(
        data="""
        @prefix dcpa: <https://w3id.org/dcpa/ontology#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://w3id.org/dcpa/ontology> a owl:Ontology .
        dcpa:Evil a owl:Class ; rdfs:label "<script>alert(1)</script>"@en ;
            skos:definition "a & b <img src=x onerror=alert(1)>"@en .
        """,
        format="turtle",
    )
    html = ontology_html("en", graph=g)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "a &amp; b" in html


def test_classes_list_their_shacl_rules_in_the_page_language(pages):
    need = pages["en"][pages["en"].index('id="dcpa-Need"') :]
    need = need[: need.index('<div class="term">')]
    assert "severity must be exactly one integer from 1 to 5" in need
    zh = pages["zh"][pages["zh"].index('id="dcpa-Need"') :]
    assert "严重程度必须恰好是一个 1 到 5 之间的整数" in zh[: zh.index('<div class="term">')]
