"""A human-readable, self-contained HTML page documenting the ontology, in Chinese or English.

Generated from the ontology graph itself, so it cannot drift from it: every class, property and SKOS
concept with its labels and definitions, and which need types each resource type and intervention
category addresses. The page loads nothing from anywhere (inline CSS, no scripts); the only links are
in-page anchors, the language switch and the IRIs of the terms themselves.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS

from .namespaces import DCPA, DCPAV, PREFIXES, VANN
from .ontology_checks import classes, concepts, properties, schemes
from .resources import ontology_graph, shapes_graph

_TEXT = {
    "zh": {
        "toc": "目录",
        "meta": "元数据",
        "classes": "类",
        "objprops": "对象属性",
        "dataprops": "数据属性",
        "schemes": "概念方案",
        "matching": "资源类型、帮扶类别与需求类型的对应",
        "iri": "IRI",
        "version_iri": "版本 IRI",
        "version": "版本",
        "license": "许可",
        "creator": "创建者",
        "created": "创建日期",
        "modified": "修改日期",
        "prefix": "推荐前缀",
        "namespace": "命名空间",
        "super": "上位类",
        "sub": "下位类",
        "domain_of": "以其为定义域的属性",
        "range_of": "以其为值域的属性",
        "disjoint": "不相交类",
        "domain": "定义域",
        "range": "值域",
        "chars": "特性",
        "subprop": "上位属性",
        "notation": "代码",
        "alt": "别名",
        "addresses": "满足的需求类型",
        "typical": "典型资源类型",
        "switch": "English",
        "shapes": "数据约束（SHACL）",
        "concept": "概念",
        "or": "或",
        "none": "—",
    },
    "en": {
        "toc": "Contents",
        "meta": "Metadata",
        "classes": "Classes",
        "objprops": "Object properties",
        "dataprops": "Datatype properties",
        "schemes": "Concept schemes",
        "matching": "Which need types each resource type and intervention category addresses",
        "iri": "IRI",
        "version_iri": "Version IRI",
        "version": "Version",
        "license": "License",
        "creator": "Creator",
        "created": "Created",
        "modified": "Modified",
        "prefix": "Preferred prefix",
        "namespace": "Namespace",
        "super": "Superclasses",
        "sub": "Subclasses",
        "domain_of": "Properties with this domain",
        "range_of": "Properties with this range",
        "disjoint": "Disjoint with",
        "domain": "Domain",
        "range": "Range",
        "chars": "Characteristics",
        "subprop": "Super-properties",
        "notation": "Notation",
        "alt": "Also called",
        "addresses": "Addresses need types",
        "typical": "Typical resource types",
        "switch": "中文",
        "shapes": "Data rules (SHACL)",
        "concept": "Concept",
        "or": "or",
        "none": "—",
    },
}

_CHARACTERISTICS = {
    OWL.FunctionalProperty: ("函数型", "functional"),
    OWL.InverseFunctionalProperty: ("反函数型", "inverse functional"),
    OWL.TransitiveProperty: ("传递", "transitive"),
    OWL.SymmetricProperty: ("对称", "symmetric"),
}

# On a phone the 14rem header column and the unbroken names (dcpa:hasAddressingReason, source IRIs) pushed the
# page past the screen's edge: the names break where they must and the header column narrows.
_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1d2733;
line-height:1.55;background:#fafbfc}
main{max-width:1040px;margin:0 auto;padding:1.5rem 1.25rem 4rem}
header{background:#1f4e79;color:#fff;padding:1.5rem 1.25rem}header .inner{max-width:1040px;margin:0 auto}
header a{color:#fff}h1{margin:.2rem 0 .5rem;font-size:1.6rem}h2{border-bottom:2px solid #1f4e79;padding-bottom:.25rem;
margin-top:2.5rem}h3{margin:1.6rem 0 .3rem;font-size:1.1rem}.term{background:#fff;border:1px solid #dde3ea;
border-radius:6px;padding:.3rem 1rem .8rem;margin:.8rem 0}.iri{font-family:ui-monospace,monospace;font-size:.85rem;
color:#555;word-break:break-all}table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #dde3ea;
padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eef2f6;width:14rem}.other{color:#666}
code{font-family:ui-monospace,monospace;font-size:.9em}ul.tree{list-style:none;padding-left:1.2rem}
ul.tree li{margin:.4rem 0}.notation{display:inline-block;min-width:3rem;font-family:ui-monospace,monospace;
background:#eef2f6;border-radius:4px;padding:0 .3rem;margin-right:.4rem}nav ol{columns:2}.switch{float:right}
td{overflow-wrap:anywhere}main{overflow-wrap:break-word}
@media (max-width:600px){main{padding:1rem .5rem 3rem}th{width:6rem}.term{padding:.3rem .5rem .6rem}nav ol{columns:1}}
"""


def _label(g: rdflib.Graph, term: object, lang: str) -> str:
    """The term's label in ``lang``, else in the other language, else its prefixed name."""
    for p in (RDFS.label, SKOS.prefLabel):
        values = [v for v in g.objects(term, p) if isinstance(v, Literal)]  # type: ignore[arg-type]
        for want in (lang, "en" if lang == "zh" else "zh", None):
            for v in values:
                if v.language == want:
                    return str(v)
    return _qname(term)


def _other_label(g: rdflib.Graph, term: object, lang: str) -> str:
    other = "en" if lang == "zh" else "zh"
    for p in (RDFS.label, SKOS.prefLabel):
        for v in g.objects(term, p):  # type: ignore[arg-type]
            if isinstance(v, Literal) and v.language == other:
                return str(v)
    return ""


def _text(g: rdflib.Graph, term: object, p: URIRef, lang: str) -> str:
    values = [v for v in g.objects(term, p) if isinstance(v, Literal)]  # type: ignore[arg-type]
    for want in (lang, None, "en", "zh"):
        for v in values:
            if v.language == want:
                return str(v)
    return ""


def _qname(term: object) -> str:
    s = str(term)
    for prefix, ns in PREFIXES.items():
        if s.startswith(ns) and len(s) > len(ns):
            return f"{prefix}:{s[len(ns) :]}"
    return s


def _anchor(term: object) -> str:
    return _qname(term).replace(":", "-")


def _own(term: object) -> bool:
    return isinstance(term, URIRef) and (str(term).startswith(str(DCPA)) or str(term).startswith(str(DCPAV)))


def _ref(g: rdflib.Graph, term: object, lang: str, t: dict[str, str]) -> str:
    """A reference to a class expression: an in-page link for our terms, the prefixed name otherwise."""
    if isinstance(term, BNode):
        members = [m for p in (OWL.unionOf,) for lst in g.objects(term, p) for m in Collection(g, lst)]
        if members:
            return f" {t['or']} ".join(_ref(g, m, lang, t) for m in members)
        return escape(t["none"])
    if _own(term):
        label = escape(_label(g, term, lang))
        return f'<a href="#{escape(_anchor(term))}">{label}</a> <code>{escape(_qname(term))}</code>'
    return f"<code>{escape(_qname(term))}</code>"


def _row(name: str, value_html: str) -> str:
    return f"<tr><th>{escape(name)}</th><td>{value_html}</td></tr>"


def _heading(g: rdflib.Graph, term: URIRef, lang: str) -> str:
    other = _other_label(g, term, lang)
    other_html = f' <span class="other">{escape(other)}</span>' if other else ""
    return (
        f'<h3 id="{escape(_anchor(term))}">{escape(_label(g, term, lang))}{other_html}</h3>'
        f'<div class="iri"><a href="{escape(str(term))}">{escape(str(term))}</a></div>'
        f"<p>{escape(_text(g, term, SKOS.definition, lang))}</p>"
    )


def _disjoint_with(g: rdflib.Graph, c: URIRef) -> list[object]:
    out: set[object] = set(g.objects(c, OWL.disjointWith)) | set(g.subjects(OWL.disjointWith, c))
    for axiom in g.subjects(RDF.type, OWL.AllDisjointClasses):
        for lst in g.objects(axiom, OWL.members):
            members = list(Collection(g, lst))
            if c in members:
                out.update(m for m in members if m != c)
    return sorted(out, key=str)


def _domain_members(g: rdflib.Graph, expr: object) -> list[object]:
    if isinstance(expr, BNode):
        return [m for lst in g.objects(expr, OWL.unionOf) for m in Collection(g, lst)]
    return [expr]


def _shape_messages(shapes: rdflib.Graph, cls: Any, lang: str) -> list[str]:
    """The SHACL rules (their messages in ``lang``) of the shapes that target ``cls`` directly."""
    out: list[str] = []
    for shape in sorted(shapes.subjects(SH.targetClass, cls), key=str):
        holders = [shape, *shapes.objects(shape, SH.property), *shapes.objects(shape, SH.sparql)]
        for h in holders:
            for m in shapes.objects(h, SH.message):
                if isinstance(m, Literal) and m.language == lang and str(m) not in out:
                    out.append(str(m))
    return out


def _classes_section(g: rdflib.Graph, lang: str, t: dict[str, str], shapes: rdflib.Graph) -> str:
    domain_of: dict[object, list[URIRef]] = defaultdict(list)
    range_of: dict[object, list[URIRef]] = defaultdict(list)
    for p in properties(g):
        for d in g.objects(p, RDFS.domain):
            for m in _domain_members(g, d):
                domain_of[m].append(p)
        for r in g.objects(p, RDFS.range):
            for m in _domain_members(g, r):
                range_of[m].append(p)
    parts = [f'<h2 id="classes">{escape(t["classes"])}</h2>']
    for c in classes(g):
        rows = [
            _row(t["super"], ", ".join(_ref(g, s, lang, t) for s in g.objects(c, RDFS.subClassOf)) or t["none"]),
            _row(
                t["sub"],
                ", ".join(_ref(g, s, lang, t) for s in sorted(g.subjects(RDFS.subClassOf, c), key=str))
                or escape(t["none"]),
            ),
            _row(t["domain_of"], ", ".join(_ref(g, p, lang, t) for p in domain_of.get(c, [])) or escape(t["none"])),
            _row(t["range_of"], ", ".join(_ref(g, p, lang, t) for p in range_of.get(c, [])) or escape(t["none"])),
            _row(t["disjoint"], ", ".join(_ref(g, d, lang, t) for d in _disjoint_with(g, c)) or escape(t["none"])),
        ]
        rules = _shape_messages(shapes, c, lang)
        if rules:
            rows.append(_row(t["shapes"], "<ul>" + "".join(f"<li>{escape(r)}</li>" for r in rules) + "</ul>"))
        parts.append(f'<div class="term">{_heading(g, c, lang)}<table>{"".join(rows)}</table></div>')
    return "\n".join(parts)


def _properties_section(g: rdflib.Graph, lang: str, t: dict[str, str], kind: URIRef, key: str) -> str:
    parts = [f'<h2 id="{key}">{escape(t[key])}</h2>']
    for p in properties(g):
        if (p, RDF.type, kind) not in g:
            continue
        chars = [_CHARACTERISTICS[c][0 if lang == "zh" else 1] for c in _CHARACTERISTICS if (p, RDF.type, c) in g]
        rows = [
            _row(t["domain"], ", ".join(_ref(g, d, lang, t) for d in g.objects(p, RDFS.domain)) or escape(t["none"])),
            _row(t["range"], ", ".join(_ref(g, r, lang, t) for r in g.objects(p, RDFS.range)) or escape(t["none"])),
            _row(t["chars"], escape(", ".join(chars) or t["none"])),
        ]
        supers = list(g.objects(p, RDFS.subPropertyOf))
        if supers:
            rows.append(_row(t["subprop"], ", ".join(_ref(g, s, lang, t) for s in supers)))
        parts.append(f'<div class="term">{_heading(g, p, lang)}<table>{"".join(rows)}</table></div>')
    return "\n".join(parts)


def _concept_item(
    g: rdflib.Graph, c: URIRef, lang: str, t: dict[str, str], children: dict[object, list[URIRef]]
) -> str:
    notation = _text(g, c, SKOS.notation, lang)
    other = _other_label(g, c, lang)
    alts = [str(v) for v in g.objects(c, SKOS.altLabel) if isinstance(v, Literal) and v.language == lang]
    extra = []
    if alts:
        extra.append(f"{escape(t['alt'])}: {escape('、'.join(alts) if lang == 'zh' else ', '.join(alts))}")
    addressed = sorted(g.objects(c, DCPA.addressesNeedType), key=str)
    if addressed:
        extra.append(f"{escape(t['addresses'])}: " + ", ".join(_ref(g, n, lang, t) for n in addressed))
    matches = sorted(g.objects(c, SKOS.closeMatch), key=str)
    if matches:
        extra.append("skos:closeMatch " + ", ".join(f"<code>{escape(str(m))}</code>" for m in matches))
    kids = children.get(c, [])
    sub = '<ul class="tree">' + "".join(_concept_item(g, k, lang, t, children) for k in kids) + "</ul>" if kids else ""
    return (
        f'<li id="{escape(_anchor(c))}"><span class="notation">{escape(notation)}</span>'
        f'<strong>{escape(_label(g, c, lang))}</strong> <span class="other">{escape(other)}</span> '
        f'<a class="iri" href="{escape(str(c))}">{escape(_qname(c))}</a>'
        f"<div>{escape(_text(g, c, SKOS.definition, lang))}</div>"
        + "".join(f"<div>{e}</div>" for e in extra)
        + sub
        + "</li>"
    )


def _schemes_section(g: rdflib.Graph, lang: str, t: dict[str, str]) -> str:
    def by_notation(c: object) -> str:
        return _text(g, c, SKOS.notation, lang) or str(c)

    children: dict[object, list[URIRef]] = defaultdict(list)
    for c in concepts(g):
        for b in g.objects(c, SKOS.broader):
            children[b].append(c)
    for k in children:
        children[k].sort(key=by_notation)
    parts = [f'<h2 id="schemes">{escape(t["schemes"])}</h2>']
    for s in schemes(g):
        tops = sorted(set(g.subjects(SKOS.topConceptOf, s)) | set(g.objects(s, SKOS.hasTopConcept)), key=by_notation)
        items = "".join(_concept_item(g, c, lang, t, children) for c in tops)  # type: ignore[arg-type]
        parts.append(f'<div class="term">{_heading(g, s, lang)}<ul class="tree">{items}</ul></div>')
    return "\n".join(parts)


def _matching_section(g: rdflib.Graph, lang: str, t: dict[str, str]) -> str:
    rows = []
    subjects = sorted(set(g.subjects(DCPA.addressesNeedType, None)), key=lambda c: _text(g, c, SKOS.notation, lang))
    for c in subjects:
        if not _own(c):
            continue
        needs = sorted(g.objects(c, DCPA.addressesNeedType), key=str)
        typical = sorted(g.objects(c, DCPA.typicalResourceType), key=str)
        rows.append(
            f"<tr><td>{_ref(g, c, lang, t)}</td><td>{', '.join(_ref(g, n, lang, t) for n in needs)}</td>"
            f"<td>{', '.join(_ref(g, r, lang, t) for r in typical) or escape(t['none'])}</td></tr>"
        )
    head = f"<tr><th>{escape(t['concept'])}</th><th>{escape(t['addresses'])}</th><th>{escape(t['typical'])}</th></tr>"
    return f'<h2 id="matching">{escape(t["matching"])}</h2><table>{head}{"".join(rows)}</table>'


def _metadata_section(g: rdflib.Graph, ont: Any, lang: str, t: dict[str, str]) -> str:
    def val(p: URIRef) -> str:
        v = _text(g, ont, p, lang) or str(g.value(ont, p) or "")  # type: ignore[arg-type]
        return escape(v)

    license_iri = str(g.value(ont, DCTERMS.license) or "")  # type: ignore[arg-type]
    rows = [
        _row(t["iri"], f"<code>{escape(str(ont))}</code>"),
        _row(t["version_iri"], f"<code>{val(OWL.versionIRI)}</code>"),
        _row(t["version"], val(OWL.versionInfo)),
        _row(t["license"], f"<code>{escape(license_iri)}</code>"),
        _row(t["creator"], val(DCTERMS.creator)),
        _row(t["created"], val(DCTERMS.created)),
        _row(t["modified"], val(DCTERMS.modified)),
        _row(t["prefix"], f"<code>{val(VANN.preferredNamespacePrefix)}</code>"),
        _row(t["namespace"], f"<code>{val(VANN.preferredNamespaceUri)}</code>"),
    ]
    return f'<h2 id="meta">{escape(t["meta"])}</h2><table>{"".join(rows)}</table>'


def ontology_html(lang: str = "zh", graph: rdflib.Graph | None = None, shapes: rdflib.Graph | None = None, *,
                  switch_href: str | None = None) -> str:
    """The documentation page of the ontology (``graph``, default: ours) in ``lang`` ("zh" or "en").

    Each class lists the rules of the SHACL shapes targeting it (``shapes``; default: ours when
    documenting our ontology, none otherwise). The language switch leads to ``switch_href``: by default
    ``?lang=`` the other language, which a served page answers (a file on disk needs the other file's name).
    """
    lang = "en" if lang == "en" else "zh"
    t = _TEXT[lang]
    g = graph if graph is not None else ontology_graph()
    if shapes is None:
        shapes = shapes_graph() if graph is None else rdflib.Graph()
    ont = next(iter(g.subjects(RDF.type, OWL.Ontology)), URIRef(""))
    title = _text(g, ont, DCTERMS.title, lang)
    other = "en" if lang == "zh" else "zh"
    toc_items = [
        ("meta", t["meta"]),
        ("classes", t["classes"]),
        ("objprops", t["objprops"]),
        ("dataprops", t["dataprops"]),
        ("schemes", t["schemes"]),
        ("matching", t["matching"]),
    ]
    toc = "".join(f'<li><a href="#{k}">{escape(v)}</a></li>' for k, v in toc_items)
    body = "\n".join(
        [
            _metadata_section(g, ont, lang, t),
            _classes_section(g, lang, t, shapes),
            _properties_section(g, lang, t, OWL.ObjectProperty, "objprops"),
            _properties_section(g, lang, t, OWL.DatatypeProperty, "dataprops"),
            _schemes_section(g, lang, t),
            _matching_section(g, lang, t),
        ]
    )
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><div class="inner">
<a class="switch" href="{escape(switch_href or f"?lang={other}")}" hreflang="{other}">{escape(t["switch"])}</a>
<h1>{escape(title)}</h1>
<p>{escape(_text(g, ont, DCTERMS.description, lang))}</p>
</div></header>
<main>
<nav><h2>{escape(t["toc"])}</h2><ol>{toc}</ol></nav>
{body}
</main>
</body>
</html>
"""


__all__ = ["ontology_html"]
