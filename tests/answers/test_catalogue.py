"""Every catalogue query runs on the fixture and returns exactly the reviewed rows."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kg.catalogue import answer, bind_params, load_catalogue, parse_query_file, run_query
from kg.errors import DataError, InvalidParameter, NotFound
from kg.inline import inline_bindings
from kg.matching import gaps
from kg.namespaces import DCPA, DCPAV, GRAPH_ONTOLOGY, GRAPH_REFERENCE, PREFIXES
from kg.resources import ontology_graph
from kg.stats import stats
from kg.store import Store

from .conftest import DATA, fixture_store, settings_for

EXPECTED = DATA / "expected"
REGEN = os.environ.get("DCPA_REGEN_EXPECTED") == "1"

#: Parameters used on the fixture where the defaults would show little.
PARAMS: dict[str, dict[str, str]] = {
    "unmet_needs_by_area": {"area": "2190"},
    "village_interventions": {"village": "219001001002"},
    "resources_for_need_type": {"need_type": "N12"},
    "evidence_of_node": {"node": "https://w3id.org/dcpa/id/need/a"},
    "needs_of_village": {"village": "219001001001", "lang": "en"},
    "model_stages": {"area": "219001"},
    "means_by_area": {"area": "2190", "lang": "en"},
    "intervention_inputs": {"area": "21"},
    "libraries_served": {"area": "21"},
    "documented_cases": {"category": "C1", "lang": "en"},
    "poor_households_by_cause": {"area": "219001", "lang": "en"},
    "needs_by_evidence": {"area": "2190", "lang": "en"},
    "need_quotes": {"area": "2190", "lang": "en"},
}

CATALOGUE = load_catalogue()


def _canonical(rows: list[dict]) -> list[str]:
    """Rows as sorted JSON; values joined by GROUP_CONCAT (" | ") sorted too: SPARQL leaves their order open."""

    def norm(v: object) -> object:
        return " | ".join(sorted(v.split(" | "))) if isinstance(v, str) and " | " in v else v

    return sorted(json.dumps({k: norm(v) for k, v in r.items()}, ensure_ascii=False, sort_keys=True) for r in rows)


def test_catalogue_has_at_least_15_documented_queries() -> None:
    assert len(CATALOGUE) >= 15
    for q in CATALOGUE.values():
        assert q.title_zh and q.title_en and q.description and q.question, q.name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in q.title_zh), q.name


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_query_gives_expected_rows(store: Store, name: str) -> None:
    res = run_query(store, name, PARAMS.get(name, {}))
    path = EXPECTED / f"{name}.json"
    if REGEN:
        path.write_text(json.dumps({"columns": res.columns, "rows": res.rows}, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert res.columns == expected["columns"]
    assert _canonical(res.rows) == _canonical(expected["rows"])
    assert res.rows, f"{name} answers nothing on the fixture"


def test_parameters_are_bound_not_pasted(store: Store) -> None:
    # A value that would break out of a pasted string literal is just an unknown language here.
    with pytest.raises(DataError):
        run_query(store, "needs_by_type", {"lang": 'zh") } } SELECT * WHERE { ?s ?p ?o'})
    with pytest.raises(DataError):
        run_query(store, "needs_by_type", {"area": "21> } ?s ?p <x"})
    res = run_query(store, "needs_by_type", {"area": "219002"})
    assert {r["need_type"].rsplit("/", 1)[-1] for r in res.rows} == {"N31", "N21", "N12", "N33", "N11"}


def test_unknown_query_and_parameter(store: Store) -> None:
    with pytest.raises(NotFound) as e:
        run_query(store, "needs_by_typ", {})
    assert "needs_by_type" in (e.value.hint or "")
    with pytest.raises(DataError) as d:
        run_query(store, "needs_by_type", {"areaa": "21"})
    assert "area" in (d.value.hint or "")


def test_a_language_no_label_is_in_is_refused_not_answered_without_labels(store: Store) -> None:
    with pytest.raises(InvalidParameter) as e:
        run_query(store, "needs_by_type", {"area": "21", "lang": "fr"})
    assert "zh, en" in e.value.message and e.value.details[0]["column"] == "lang"
    for ok in ("en", "zh-Hans", "EN-gb"):
        assert run_query(store, "needs_by_type", {"area": "21", "lang": ok}).rows


def test_a_severity_off_the_scale_is_refused_not_answered_with_no_rows(store: Store) -> None:
    """min_severity=9 answered no villages, as if none had a severe gap; 0 answered as 1."""
    for off in ("9", "0", "-1"):
        with pytest.raises(InvalidParameter) as e:
            run_query(store, "top_unaddressed_villages", {"area": "21", "min_severity": off})
        assert "from 1 to 5" in e.value.message and e.value.details[0]["column"] == "min_severity"
    assert run_query(store, "top_unaddressed_villages", {"area": "21", "min_severity": "5"}).rows


def test_an_area_of_a_level_the_query_does_not_take_is_refused_not_answered_with_no_rows(
        store: Store, tmp_path: Path, zh_first) -> None:
    """needs_by_type for a village answered no rows, as if it had no needs (it counts the villages within an area),
    and village_interventions for a county answered rows about the county: both are refused, saying which codes the
    parameter takes, and so is any code of a level a query's header does not name."""
    village = "219001001001"
    assert run_query(store, "needs_of_village", {"village": village}).rows
    cases = [("needs_by_type", "area", village, "2, 4, 6 or 9 digits"),
             ("village_interventions", "village", village[:6], "12 digits"),
             ("need_summary_by_type", "area", village[:9], "2, 4 or 6 digits"),
             ("model_stages", "area", village[:4], "6, 9 or 12 digits")]
    for name, param, code, said in cases:
        with pytest.raises(InvalidParameter) as e:
            run_query(store, name, {param: code})
        zh_first(e.value.message, f"parameter {param}={code!r} is not an area code of {said}")
        assert e.value.details[0]["column"] == param and "位数字" in (e.value.hint or "")
    for q in CATALOGUE.values():  # every default is of a level its parameter takes
        for p in q.parameters:
            assert not p.levels or len(p.default or "") in p.levels, (q.name, p.name)
    for wrong in ("concept:12", "area:7", "area:", "area:6,x"):  # levels are code lengths, of an area alone
        path = tmp_path / "q.rq"
        path.write_text("# title_zh: 试\n# title_en: T\n# description: d\n# question: q\n"
                        f"# param: a | {wrong} | 21 | x\nSELECT ?real_only WHERE {{ }}\n", encoding="utf-8")
        with pytest.raises(DataError, match="bad parameter line"):
            parse_query_file(path)


@pytest.fixture(scope="module")
def chinese_names_only() -> Store:
    """The fixture with its real part, every English label of its data dropped: named as the reference data name
    areas. The ontology's classes and concepts keep theirs (each has both, tests/ontology/test_labels.py), and the
    queries look for no other language for them."""
    s = fixture_store(real=True)
    s.update('DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o FILTER(langMatches(lang(?o), "en") '
             f'&& ?g != <{GRAPH_ONTOLOGY}>) }} }}')
    return s


@pytest.mark.parametrize("name", sorted(n for n, q in CATALOGUE.items() if q.param("lang")))
def test_a_thing_without_a_label_in_the_language_asked_keeps_its_chinese_one(chinese_names_only: Store,
                                                                              name: str) -> None:
    # before: lang=en left every label column empty for things named in Chinese alone (the real areas)
    params = {k: v for k, v in PARAMS.get(name, {}).items() if k != "lang"}
    en = run_query(chinese_names_only, name, {**params, "lang": "en"})
    zh = run_query(chinese_names_only, name, {**params, "lang": "zh"})
    assert zh.rows and len(en.rows) == len(zh.rows)
    labelled = [c for c in zh.columns if c.endswith("_label")]
    named = {c: sum(1 for r in zh.rows if r.get(c)) for c in labelled}
    assert {c: sum(1 for r in en.rows if r.get(c)) for c in labelled} == named  # never blank where zh names it


def test_limit_truncates(store: Store) -> None:
    res = run_query(store, "needs_by_type", {}, limit=2)
    assert len(res.rows) == 2 and res.truncated


def test_header_errors_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.rq"
    p.write_text("# title_zh: 坏\n# title_en: Bad\n# description: x\n# question: y\n# param: a | nope | 1 | z\n"
                 "SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        parse_query_file(p)
    assert "bad.rq" in e.value.message


def test_a_parameter_value_never_changes_the_query(tmp_path: Path) -> None:
    """Parameters are written into the text as typed terms (kg.inline): quotes, braces, comments and new
    lines in a value stay inside its literal, and IRIs that are not IRIs are refused."""
    p = tmp_path / "echo.rq"
    p.write_text("# title_zh: 回声\n# title_en: Echo\n# description: x\n# question: y\n"
                 "# param: word | string | x | any text\n# param: node | iri | http://e/x | an IRI\n"
                 "SELECT ?word ?node ?real_only ?echo ?n WHERE { BIND(CONCAT(STR(?word), STR(?node)) AS ?echo) "
                 "BIND(1 AS ?n) }\n", encoding="utf-8")
    q = parse_query_file(p)
    hostile = 'x" AS ?echo) } } ; DROP ALL ; # \n SELECT * { ?s ?p "\\ \u4e2d\''
    store = Store.memory()
    store.update("INSERT DATA { <http://e/a?b=1#c> <http://e/p> 1 }")  # a node the graph has: an unknown one is refused
    res = run_query(store, q, {"word": hostile, "node": "http://e/a?b=1#c"})
    assert res.rows == [{"echo": hostile.strip() + "http://e/a?b=1#c", "n": 1}]
    with pytest.raises(DataError, match="node"):
        run_query(Store.memory(), q, {"word": "x", "node": "http://e/a> } DROP ALL { <http://e/b"})


def test_uses_header_declares_the_derived_graph(tmp_path: Path) -> None:
    readers = {name for name, q in CATALOGUE.items() if q.uses == ["derived"]}
    assert readers == {"needs_of_village", "needs_by_type", "unmet_needs_by_area", "coverage_by_category",
                       "top_unaddressed_villages", "need_summary_by_type", "coverage_summary_by_category",
                       "synthetic_share_summary", "libraries_served"}
    derived_terms = ("dcpa:needState", "dcpa:addressedBy", "dcpa:addressingInterventionCount",
                     "dcpa:addressedByCategory", "dcpa:gapCount", "dcpa:summaryOf", "void:classPartition",
                     "dcpa:villageCount")
    for name, q in CATALOGUE.items():  # a query reading derived terms must say so (it is refused without them)
        assert any(t in q.text for t in derived_terms) == (name in readers), name
    p = tmp_path / "bad.rq"
    p.write_text("# title_zh: 坏\n# title_en: Bad\n# description: x\n# question: y\n# uses: cache\n"
                 "SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        parse_query_file(p)
    assert "bad.rq" in e.value.message and "cache" in e.value.message


def test_to_dict_keeps_chinese(store: Store) -> None:
    d = CATALOGUE["needs_by_type"].to_dict()
    assert d["parameters"][0]["name"] == "area"
    text = json.dumps(run_query(store, "needs_by_type", {}).to_dict(), ensure_ascii=False)
    assert "电子商务技能" in text


# -- honest answers: every row says whether it rests on example data ----------------------------------


def _real_part(store: Store) -> Store:
    """The store without its example data: every triple about (or pointing at) an example node dropped,
    then derived afresh — what the store would hold if no example data had ever been loaded."""
    from kg.derived import derive_all
    from kg.namespaces import GRAPH_DERIVED

    from .conftest import AS_OF

    example = {r["s"] for r in store.select("SELECT ?s WHERE { ?s dcpa:isSynthetic true }")}
    out = Store.memory()
    for g in store.graphs():
        if g == str(GRAPH_DERIVED):
            continue
        kept = rdflib.Graph()
        for s, p, o in store.triples(g):
            if str(s) not in example and str(o) not in example:
                kept.add((s, p, o))
        out.add_graph(g, kept)
    derive_all(out, as_of=AS_OF)
    return out


@pytest.fixture(scope="module")
def real_part(mixed: Store) -> Store:
    return _real_part(mixed)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_real_only_answers_are_the_answers_over_real_data_alone(mixed: Store, real_part: Store, name: str) -> None:
    """The generic ground truth for every query: real_only on the mixed store gives exactly what the query
    gives on a store that never held example data."""
    # evidence_of_node's example need is no node of the real part (refused there): its real province's evidence
    params = {"node": "https://w3id.org/dcpa/id/area/21"} if name == "evidence_of_node" else PARAMS.get(name, {})
    got = run_query(mixed, name, params, real_only=True)
    want = run_query(real_part, name, params)
    assert _canonical(got.rows) == _canonical(want.rows)


def test_rows_resting_on_example_data_are_marked(mixed: Store) -> None:
    # needs by type in 2190: N33 counts example needs e, k and the real m; N12 the example b, j and real n
    res = answer(mixed, "needs_by_type", {"area": "2190"})
    marks = {r["need_type"].rsplit("/", 1)[-1]: flag for r, flag in zip(res.rows, res.example, strict=True)}
    assert all(marks.values())  # every row's count includes example needs
    assert res.basis.example_items == len(res.rows)
    real = answer(mixed, "needs_by_type", {"area": "2190"}, real_only=True)
    assert {r["need_type"].rsplit("/", 1)[-1]: r["needs"] for r in real.rows} == {"N33": 1, "N12": 1}
    assert real.example == [False, False] and real.basis.real_only
    # a row that is the same with or without example data is not marked: the real need m's own row
    village = answer(mixed, "needs_of_village", {"village": "219001001002", "lang": "en"})
    flags = {r["need"].rsplit("/", 1)[-1]: f for r, f in zip(village.rows, village.example, strict=True)}
    assert flags["m"] is False and flags["d"] is True and flags["e"] is True
    assert village.derived_as_of == "2020-06-30"


@pytest.mark.parametrize("area", ["21", "2190", "219001", "219002"])
@pytest.mark.parametrize("real_only", [False, True])
def test_the_summary_query_answers_what_the_scan_and_the_gap_report_do(
    mixed: Store, area: str, real_only: bool
) -> None:
    """need_summary_by_type, the materialised counterpart of needs_by_type, counts the same needs and
    severities, and the same unmet needs as the gap report."""
    fast = run_query(mixed, "need_summary_by_type", {"area": area}, real_only=real_only).rows
    scan = run_query(mixed, "needs_by_type", {"area": area}, real_only=real_only).rows
    assert fast
    assert {r["need_type"]: (r["needs"], r["severity_sum"]) for r in fast} == \
        {r["need_type"]: (r["needs"], r["severity_sum"]) for r in scan}
    report = gaps(mixed, area, by="need_type", real_only=real_only, settings=settings_for())
    assert {r["need_type"]: (r["unaddressed"], r["unverified"], r["unaddressed_people"]) for r in fast} == \
        {g.key: (g.unaddressed, g.unverified, g.people_unaddressed) for g in report.groups}


@pytest.mark.parametrize("area", ["21", "2190", "219001", "219002"])
@pytest.mark.parametrize("real_only", [False, True])
def test_the_coverage_summaries_answer_what_the_scan_does(mixed: Store, area: str, real_only: bool) -> None:
    """coverage_summary_by_category, the materialised counterpart of coverage_by_category, gives the same
    rows: per need type and category, the needs covered and all needs of the type."""
    fast = run_query(mixed, "coverage_summary_by_category", {"area": area}, real_only=real_only)
    scan = run_query(mixed, "coverage_by_category", {"area": area}, real_only=real_only)
    assert fast.columns == scan.columns
    assert _canonical(fast.rows) == _canonical(scan.rows)
    assert fast.rows or (area == "219002" and real_only)  # the fixture's real needs there are all gaps


@pytest.mark.parametrize("area", ["21", "2190", "219001"])
@pytest.mark.parametrize("min_severity", [1, 4])
@pytest.mark.parametrize("real_only", [False, True])
def test_the_worst_served_villages_are_those_the_need_states_give(
    mixed: Store, area: str, min_severity: int, real_only: bool
) -> None:
    """top_unaddressed_villages ranks villages by their gap summaries: the ranking counted from each need's
    own state (unaddressed needs of at least the severity, then their severities, then the code)."""
    tally: dict[str, list[int]] = {}
    for r in mixed.select(f"""SELECT ?code ?sev ?ex WHERE {{
            ?v dcpa:withinArea <https://w3id.org/dcpa/id/area/{area}> ; dcpa:areaCode ?code .
            ?need dcpa:needOf ?v ; dcpa:needState dcpav:NS3 ; dcpa:severity ?sev .
            OPTIONAL {{ ?need dcpa:isSynthetic ?ex }} }}"""):
        if int(r["sev"]) >= min_severity and not (real_only and r.get("ex") is True):
            tally.setdefault(r["code"], []).append(int(r["sev"]))
    expected = sorted(((c, len(s), sum(s)) for c, s in tally.items()), key=lambda t: (-t[1], -t[2], t[0]))[:50]
    rows = run_query(mixed, "top_unaddressed_villages", {"area": area, "min_severity": str(min_severity)},
                     real_only=real_only).rows
    assert [(r["village_code"], r["unaddressed_severe"], r["severity_sum"]) for r in rows] == expected
    assert expected or (real_only and area != "2190")  # the real needs that are gaps are in 219002
    assert all(r["village_label"] for r in rows)


def test_the_villages_an_area_holds_are_counted_for_the_libraries_serving_it(mixed: Store) -> None:
    """libraries_served reads each served area's village count from the derived graph: the number of
    village-level units inside it (a village counts itself), as counting them says."""
    counted = {r["a"]: r["n"] for r in mixed.select(
        "SELECT ?a (COUNT(?v) AS ?n) WHERE { ?v dcpa:withinArea ?a ; dcpa:areaCode ?c FILTER(STRLEN(?c) = 12) } "
        "GROUP BY ?a")}
    stored = {r["a"]: r["n"] for r in mixed.select("SELECT ?a ?n WHERE { GRAPH <https://w3id.org/dcpa/graph/derived> "
                                                   "{ ?a dcpa:villageCount ?n } }")}
    assert stored == counted and counted
    rows = run_query(mixed, "libraries_served", {"area": "21"}).rows
    assert rows
    for r in rows:
        code = r["served_code"]
        inside = counted.get(f"https://w3id.org/dcpa/id/area/{code}", 0)
        assert r["villages_served"] == (1 if len(code) == 12 else inside)
    assert any(len(r["served_code"]) < 12 and r["villages_served"] > 1 for r in rows)


@pytest.mark.parametrize("real_only", [False, True])
def test_the_class_partitions_answer_what_synthetic_share_does(mixed: Store, real_only: bool) -> None:
    """synthetic_share_summary, the materialised counterpart of synthetic_share, gives the same rows (real and
    example graphs side by side), and leaves out the same classes."""
    fast = run_query(mixed, "synthetic_share_summary", {}, real_only=real_only)
    scan = run_query(mixed, "synthetic_share", {}, real_only=real_only)
    assert fast.columns == scan.columns
    assert fast.rows == scan.rows
    assert any(r["real"] for r in fast.rows) and (real_only or any(r["synthetic"] for r in fast.rows))
    left_out = [re.findall(r"NOT IN \(([^)]*)\)", CATALOGUE[n].text)
                for n in ("synthetic_share", "synthetic_share_summary")]
    assert left_out[0] == left_out[1] and len(left_out[0]) == 1


@pytest.mark.parametrize("name", ["synthetic_share", "synthetic_share_summary"])
def test_the_shares_count_each_class_as_the_statistics_do(mixed: Store, name: str) -> None:
    """synthetic_share counted 4 more document sources than /api/stats and gave a row to a class of the ontology's
    own (the sources the ontology cites, in its graph), so a paper citing the one disagreed with the other. Both
    count instance data alone: the ontology graph's nodes, as the derived graph's, are left out."""
    counted = {r["class"]: r["total"] - r["derived"] for r in stats(mixed).classes if r["total"] > r["derived"]}
    rows = run_query(mixed, name).rows
    found = {r["class"].replace("https://w3id.org/dcpa/ontology#", "dcpa:"): r["nodes"] for r in rows}
    assert found and found == {c: n for c, n in counted.items() if c in found}
    assert mixed.select("SELECT ?s WHERE { GRAPH <https://w3id.org/dcpa/graph/ontology> { ?s a dcpa:DocumentSource } }")


def test_a_mean_is_the_number_the_endpoint_gives_for_the_same_query() -> None:
    """evaluation_results gave a mean baseline of 1.3333333333333333 where /sparql, asked the query's text, gave
    1.333333333333333333 (a float of the engine's decimal): the digits a paper cited depended on the door it asked
    at, and on the engine. The means come rounded to two decimals, the same through every door."""
    store, province = Store.memory(), "<https://w3id.org/dcpa/id/area/21>"
    rows = "".join(f"""<https://w3id.org/dcpa/id/evaluation/e{k}> dcpa:evaluatedArea {province} ;
        dcpa:indicator dcpav:I01 ; dcpa:baselineValue {b} ; dcpa:targetValue {t} ; dcpa:actualValue {a} .
    """ for k, (b, t, a) in enumerate([(1, 2, 2), (1, 2, 3), (2, 3, 3)]))
    store.update(f"INSERT DATA {{ {province} dcpa:areaCode '21' . {rows} }}")
    query = CATALOGUE["evaluation_results"]
    row = run_query(store, query, {"area": "21"}).rows[0]
    said = store.query(inline_bindings(query.text, bind_params(query, {"area": "21"})))
    engine = next(iter(said))
    for column, mean in [("mean_baseline", 1.33), ("mean_target", 2.33), ("mean_actual", 2.67)]:
        assert row[column] == mean and engine[column].value == str(mean), (column, engine[column])


def _named_terms(text: str) -> set[str]:
    """The IRIs a query's text names, as rdflib reads it with the store's prefixes."""
    from rdflib.plugins.sparql import prepareQuery

    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, rdflib.URIRef):
            found.add(str(node))
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list | tuple | set):
            for v in node:
                walk(v)

    walk(prepareQuery(text, initNs={p: rdflib.Namespace(ns) for p, ns in PREFIXES.items()}).algebra)
    return found


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_a_query_names_only_terms_the_ontology_declares(name: str) -> None:
    """needs_of_village named dcpa:none, which the ontology does not declare: a reader looking the query's terms up
    in /ontology found one that is not there. Every term of the ontology's and the vocabulary's namespaces that a
    query names is declared (a class, a property, a concept)."""
    declared = {str(s) for s in ontology_graph().subjects(rdflib.RDF.type, None)}
    ours = tuple(str(ns) for ns in (DCPA, DCPAV))
    named = {t for t in _named_terms(CATALOGUE[name].text) if t.startswith(ours)}
    assert named and not named - declared, sorted(named - declared)


def test_a_faster_query_the_catalogue_lacks_is_refused(tmp_path: Path) -> None:
    head = "# title_zh: 慢\n# title_en: Slow\n# description: x\n# question: y\n"
    (tmp_path / "slow.rq").write_text(head + "# faster: quick\nSELECT ?real_only WHERE { ?s ?p ?o }\n",
                                      encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_catalogue(tmp_path)
    assert "slow.rq" in e.value.message and "quick" in e.value.message
    (tmp_path / "quick.rq").write_text(head + "SELECT ?real_only WHERE { ?s ?p ?o }\n", encoding="utf-8")
    assert load_catalogue(tmp_path)["slow"].faster == "quick"


def test_an_unknown_area_or_concept_is_refused_not_answered_with_no_rows(store: Store) -> None:
    # before: need_type=N99 and area=219999 each answered "no rows", as if there were nothing there
    with pytest.raises(InvalidParameter) as e:
        run_query(store, "resources_for_need_type", {"need_type": "N99"})
    assert "N99" in e.value.message and e.value.details[0]["column"] == "need_type"
    assert "N22" in (e.value.hint or "") and "C1" not in (e.value.hint or "")  # the need types, by notation
    with pytest.raises(InvalidParameter) as c:
        run_query(store, "documented_cases", {"category": "C9"})
    assert "C1, C2, C3, C4" in (c.value.hint or "")
    with pytest.raises(NotFound) as a:
        run_query(store, "needs_by_type", {"area": "219999"})
    assert "219999" in a.value.message
    # a code as the statistics print it, in 12 digits, is the area the resolver reads (it answered no rows)
    assert run_query(store, "evaluation_results", {"area": "210000000000"}) == run_query(store, "evaluation_results",
                                                                                          {"area": "21"})
    assert run_query(store, "evaluation_results", {"area": "21"}).rows
    with pytest.raises(InvalidParameter):  # a concept of another scheme: a category where a need type goes
        run_query(store, "resources_for_need_type", {"need_type": "C1"})
    with pytest.raises(InvalidParameter):
        run_query(store, "documented_cases", {"category": "N22"})
    assert run_query(store, "resources_for_need_type", {"need_type": "N22"}).rows  # known ones answer


def test_a_node_the_graph_lacks_is_refused_not_answered_as_resting_on_nothing(store: Store, zh_first) -> None:
    """evidence_of_node for a mistyped IRI answered "no rows", as if the node rested on no evidence at all."""
    typo = "https://w3id.org/dcpa/id/need/no-such-need"
    with pytest.raises(NotFound) as e:
        run_query(store, "evidence_of_node", {"node": typo})
    zh_first(e.value.message, f"no node {typo} in the graph")
    assert e.value.details[0]["column"] == "node" and e.value.details[0]["value"] == typo
    assert run_query(store, "evidence_of_node", {"node": "https://w3id.org/dcpa/id/need/a"}).rows
    source = run_query(store, "evidence_of_node", {"node": "https://w3id.org/dcpa/id/need/a"}).rows[0]["source"]
    run_query(store, "evidence_of_node", {"node": source})  # a node known as an object alone is known too


@pytest.mark.parametrize(("scan", "fast"), [("needs_by_type", "need_summary_by_type"),
                                            ("coverage_by_category", "coverage_summary_by_category")])
def test_a_scan_and_its_summary_count_the_needs_known_on_the_graph_s_day(scan: str, fast: str) -> None:
    """Replaying a past day (``DCPA_AS_OF``), the derived graph holds the needs known then: a scan query counted
    every need the store holds, later ones too (55 needs of a type where its summary twin said 18)."""
    from datetime import date

    from kg.derived import derive_all

    store = fixture_store(derived=False)
    derive_all(store, as_of=date(2019, 6, 1))  # needs h, k and m were identified in 2020
    for area in ("21", "2190"):
        got = run_query(store, scan, {"area": area}).rows
        want = run_query(store, fast, {"area": area}).rows
        keep = ("need_type", "category", "needs", "severity_sum", "covered", "needs_of_type")
        assert _canonical([{k: v for k, v in r.items() if k in keep} for r in got]) == \
            _canonical([{k: v for k, v in r.items() if k in keep} for r in want]), area
    assert sum(int(r["needs"]) for r in run_query(store, "needs_by_type", {"area": "21"}).rows) == 10


def test_listed_columns_are_sorted_whatever_order_the_engine_joins_them_in(mixed: Store) -> None:
    """GROUP_CONCAT's order is the engine's: the same data loaded afresh answered another order."""
    q = load_catalogue()["intervention_inputs"]
    assert q.lists == ["funding_source", "personnel_by_role", "technology", "resources"]
    rows = [r for r in answer(mixed, "intervention_inputs", {"area": "21"}).rows
            if " | " in r.get("personnel_by_role", "")]
    assert rows and all(r[c] == " | ".join(sorted(r[c].split(" | "))) for r in rows for c in q.lists if c in r)


def test_the_runner_sorts_a_listed_column_the_engine_gave_in_another_order(tmp_path: Path) -> None:
    """The fixture's GROUP_CONCATs happen to come sorted, so the test above passes without the sorting: here the
    engine's order is the text's, not sorted."""
    (tmp_path / "lists.rq").write_text(
        "# title_zh: 列表\n# title_en: Lists\n# description: A list as the engine joined it.\n"
        "# question: Is a listed column sorted?\n# lists: roles\n"
        'SELECT ?real_only ?roles WHERE { BIND("馆员 3 | 志愿者 5 | 管理员 1" AS ?roles) }\n', encoding="utf-8")
    res = run_query(Store.memory(), parse_query_file(tmp_path / "lists.rq"))
    assert [r["roles"] for r in res.rows] == ["志愿者 5 | 管理员 1 | 馆员 3"]


def test_a_listed_column_the_query_does_not_project_is_refused(tmp_path: Path) -> None:
    text = (DATA.parent.parent.parent / "kg" / "queries" / "documented_cases.rq").read_text(encoding="utf-8")
    (tmp_path / "q.rq").write_text("# lists: nowhere\n" + text, encoding="utf-8")
    with pytest.raises(DataError, match="nowhere"):
        parse_query_file(tmp_path / "q.rq")


def test_the_policy_chain_has_a_row_for_every_policy_and_every_programme_it_supports() -> None:
    """A real policy and the programme it supports stay rows, 0 where only example interventions were counted
    (real_only answered no rows at all), and a policy without interventions has its row with 0."""
    store = fixture_store(real=True)
    store.inner.load(b"""@prefix dcpa: <https://w3id.org/dcpa/ontology#> .
        @prefix p: <https://w3id.org/dcpa/id/policy/> . @prefix pr: <https://w3id.org/dcpa/id/programme/> .
        @prefix i: <https://w3id.org/dcpa/id/intervention/> .
        p:R1 a dcpa:Plan ; dcpa:policyLevel "national" .
        p:R2 a dcpa:Law ; dcpa:policyLevel "national" .
        pr:RP1 a dcpa:Programme ; dcpa:supportedBy p:R1 .
        i:I1 dcpa:partOfProgramme pr:RP1 ; dcpa:supportedBy p:R1 .""",
                     format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(GRAPH_REFERENCE)))
    r1, r2, rp1 = (f"https://w3id.org/dcpa/id/{k}" for k in ("policy/R1", "policy/R2", "programme/RP1"))

    def rows(real_only: bool) -> dict[tuple[str, str | None], tuple[int, bool]]:
        a = answer(store, "policy_chain", real_only=real_only)
        return {(r["policy"], r.get("programme")): (r["interventions"], f) for r, f in zip(a.rows, a.example,
                                                                                            strict=True)}

    full, real = rows(False), rows(True)
    assert full[(r1, None)] == (1, True) and full[(r1, rp1)] == (1, True) and full[(r2, None)] == (0, False)
    assert real == {(r1, None): (0, False), (r1, rp1): (0, False), (r2, None): (0, False)}


def test_the_real_policy_chain_leaves_out_an_example_policy_of_a_real_programme() -> None:
    """With real_only, the example policy X1 was left out, but not its row for a real programme it supports."""
    store = fixture_store(real=True)
    store.inner.load(b"""@prefix dcpa: <https://w3id.org/dcpa/ontology#> .
        <https://w3id.org/dcpa/id/programme/RP1> a dcpa:Programme ;
            dcpa:supportedBy <https://w3id.org/dcpa/id/policy/X1> .""",
                     format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(GRAPH_REFERENCE)))
    pairs = {(r["policy"].rsplit("/", 1)[1], r.get("programme", "").rsplit("/", 1)[-1])
             for r in answer(store, "policy_chain").rows}
    assert ("X1", "RP1") in pairs
    assert not [r for r in answer(store, "policy_chain", real_only=True).rows if r["policy"].endswith("/X1")]
