"""The planners' JSON API, read side: every route, its formats, paging and its errors."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import httpx
import pytest
import rdflib

from api.routes.villages import candidate_rows
from kg.answers.recommend import NO_CANDIDATE
from kg.errors import QueryTimeout
from kg.importer.journal import Marker

from .conftest import AS_OF

V = "210123203200"  # 北四家子村委会: registered poor (an example status), two needs, one intervention naming it


@pytest.fixture(scope="module")
def api(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30)


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "hint", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def read_csv(r: httpx.Response) -> list[dict[str, str]]:
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


# -- villages ----------------------------------------------------------------------


def test_village_search_by_chinese_name_and_code_prefix(api: httpx.Client) -> None:
    by_name = api.get("/api/villages", params={"q": "六家子"}).json()
    assert by_name["total"] == 1 and by_name["items"][0]["code"] == "210123203201"
    by_code = api.get("/api/villages", params={"q": "2101232032"}).json()
    assert [v["code"] for v in by_code["items"]] == ["210123203200", "210123203201", "210123203202"]
    first = by_code["items"][0]
    # an example poverty status is never shown as a real registration
    assert first["poverty"]["registered_poor_village"] is False and first["poverty"]["example_registration"] is True
    assert first["example"] is True and by_code["basis"]["example_items"] == 1
    assert first["township"] == {"code": "210123203", "label": {"zh": "北四家子乡", "en": "Beisijiazi Xiang"}}
    assert first["href"] == f"/api/villages/{V}"
    assert api.get("/api/villages", params={"q": "不存在的村"}).json()["total"] == 0
    poor = api.get("/api/villages", params={"poor": "true"}).json()
    assert [v["code"] for v in poor["items"]] == [V]
    assert api.get("/api/villages", params={"poor": "true", "real_only": "true"}).json()["total"] == 0


def test_village_search_by_pinyin_names_the_places_that_contain_it(api: httpx.Client) -> None:
    found = api.get("/api/villages", params={"q": "liujia"}).json()
    assert [v["code"] for v in found["items"]] == ["210123203201"] and found["items"][0]["match"] == "prefix"
    # the name without its generic term (村) is the name
    assert api.get("/api/villages", params={"q": "liujiazi"}).json()["items"][0]["match"] == "exact"
    hit = api.get("/api/villages", params={"q": "liujiazicun"}).json()["items"][0]
    assert hit["match"] == "exact" and hit["label"]["en"] == "Liujiazi Cun"
    assert [w["code"] for w in hit["within"]] == ["21", "2101", "210123", "210123203"]


def test_a_search_in_traditional_characters_finds_the_simplified_names_and_says_so(api: httpx.Client) -> None:
    areas = api.get("/api/areas", params={"q": "北四家子鄉"}).json()  # 鄉: found nothing
    assert [a["name"] for a in areas["items"]] == ["北四家子乡"] and areas["read_as"] == "北四家子乡"
    villages = api.get("/api/villages", params={"q": "六家子村委會"}).json()  # 會: 会
    assert [v["code"] for v in villages["items"]] == ["210123203201"] and villages["read_as"] == "六家子村委会"
    assert api.get("/api/villages", params={"q": "六家子"}).json()["read_as"] is None


def test_area_search_all_levels_ranked_with_links_and_csv(api: httpx.Client) -> None:
    found = api.get("/api/areas", params={"q": "2101"}).json()
    assert found["items"][0]["code"] == "2101" and found["items"][0]["match"] == "exact"
    assert found["items"][0]["href"] == "/api/gaps?area=2101"
    towns = api.get("/api/areas", params={"q": "bsjz", "level": "township"}).json()
    assert [(t["name"], t["level"]) for t in towns["items"]] == [("北四家子乡", "township")]
    rows = read_csv(api.get("/api/areas", params={"q": "北四家子", "format": "csv"}))
    assert rows[0]["name"] == "北四家子乡" and rows[0]["within"] == "辽宁省 / 沈阳市 / 康平县"
    assert api.get("/api/areas").status_code == 422
    for blank in (" ", "\u200b", ","):  # spaces or a zero-width character alone listed every area of the country
        refused = api.get("/api/areas", params={"q": blank})
        assert refused.status_code == 422 and "nothing to search for" in refused.json()["error"]["message"], blank
    bad = api.get("/api/areas", params={"q": "a b c d e f"})
    assert bad.status_code == 400 and "at most 5" in bad.json()["error"]["message"]
    paths = api.get("/openapi.json").json()["paths"]  # and a client generated from the schema expects it
    assert "400" in paths["/api/areas"]["get"]["responses"] and "400" in paths["/api/villages"]["get"]["responses"]


def test_village_paging(api: httpx.Client) -> None:
    page1 = api.get("/api/villages", params={"limit": 2, "offset": 0}).json()
    page2 = api.get("/api/villages", params={"limit": 2, "offset": 2}).json()
    assert page1["total"] == page2["total"] == 4
    codes = [v["code"] for v in page1["items"] + page2["items"]]
    assert codes == sorted(codes) and len(set(codes)) == 4


def test_village_search_as_csv(api: httpx.Client) -> None:
    rows = read_csv(api.get("/api/villages", params={"q": "水源", "format": "csv"}))
    assert rows[0]["label"] == "水源地社区" and rows[0]["code"] == "210102001002"
    by_accept = api.get("/api/villages", params={"q": "水源"}, headers={"Accept": "text/csv"})
    assert read_csv(by_accept) == rows


@pytest.mark.parametrize("accept,csv", [("text/csv;q=0.1, application/json", False),
                                        ("application/json;q=0.5, text/csv", True),
                                        ("text/html, text/csv;q=0.8, */*;q=0.1", True),
                                        ("text/csv;q=0, */*", False), ("text/csv ; q = 0.9", True)])
def test_the_accept_header_s_q_values_choose_csv_or_json(api: httpx.Client, accept: str, csv: bool) -> None:
    """Only the first type of the Accept header was read: "text/csv;q=0.1, application/json" got CSV and
    "application/json;q=0.5, text/csv" JSON. The q-values choose now, as on /sparql."""
    r = api.get("/api/villages", params={"q": "水源"}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv" if csv else "application/json")


def test_one_village(api: httpx.Client) -> None:
    v = api.get(f"/api/villages/{V}").json()
    assert v["village"]["label"]["zh"] == "北四家子村委会"
    assert [a["code"] for a in v["village"]["within"]] == ["21", "2101", "210123", "210123203"]
    assert v["as_of"] == "2020-06-30" and v["source"] == "derived"
    assert v["basis"]["example_share"] == 1.0 and "example data" in v["basis"]["note_en"]
    [status] = v["statuses"]
    assert status["status_type"].endswith("PS1") and status["example"] is True
    assert v["poverty"]["registered_poor_village"] is False and v["poverty"]["example_registration"] is True
    assert {c["iri"].rsplit("/", 1)[1] for c in status["causes"]} == {"PC01", "PC07"}
    assert [n["need_type"].rsplit("/", 1)[1] for n in v["needs"]] == ["N22", "N11"]  # by severity
    assert v["needs"][0]["evidence"]["type"] == "SyntheticExampleData"
    n22, n11 = v["needs"]
    assert n22["state"] == "unaddressed" and n22["reasons"] == []
    assert n22["identified_on"] == "2018-05-12" and "surveyor" in n22  # when (and by whom) it was identified
    # the e-readers (C2, R22) name the village: its terminal need is met, with the reason
    assert n11["state"] == "addressed"
    [reason] = n11["reasons"]
    assert (reason["intervention"].rsplit("/", 1)[1], reason["reach"], reason["valid_until"]) == \
        ("INT-1", "direct", "2024-12-31")
    assert [t["notation"] for t in reason["fit_path"]] == ["N11"]
    [i] = v["interventions"]
    assert (i["id"], i["reach"], i["reaches_village"], i["in_force"]) == ("INT-1", "direct", True, True)
    assert i["status"].endswith("S2") and i["addresses"] == [n11["iri"]]
    assert v["evaluations"][0]["actual"] == 120 and v["evaluations"][0]["met_target"] is True
    assert v["evaluations"][0]["ended"] is True  # its period, 2018, ended before the day (2020-06-30)
    # replaying a day within its period, its value was not yet a result, which the rule does not read either
    then = api.get(f"/api/villages/{V}", params={"as_of": "2018-06-30"}).json()
    assert then["evaluations"][0]["ended"] is False and then["as_of"] == "2018-06-30"
    assert v["links"]["recommendations"] == f"/api/villages/{V}/recommendations"


def test_one_village_as_jsonld(api: httpx.Client) -> None:
    r = api.get(f"/api/villages/{V}", headers={"Accept": "application/ld+json"})
    assert r.headers["content-type"].startswith("application/ld+json")
    g = rdflib.Graph().parse(data=r.text, format="json-ld")
    dcpa = rdflib.Namespace("https://w3id.org/dcpa/ontology#")
    village = rdflib.URIRef(f"https://w3id.org/dcpa/id/area/{V}")
    assert (village, rdflib.RDFS.label, rdflib.Literal("北四家子村委会", lang="zh")) in g
    assert len(list(g.subjects(dcpa.needOf, village))) == 2


def test_a_library_serving_a_village_does_not_make_its_needs_addressed(api: httpx.Client) -> None:
    """六家子 (203201) has a need for children's reading (N41), which the county library's e-readers fit: the
    library serves the county, but its intervention names 北四家子 only — the need is a gap, and the
    e-readers are a candidate."""
    v = api.get("/api/villages/210123203201").json()
    assert v["interventions"] == [] and [n["state"] for n in v["needs"]] == ["unaddressed"]
    rec = api.get("/api/villages/210123203201/recommendations").json()
    assert rec["needs"][0]["candidates"][0]["iri"].endswith("resource/R-1")
    empty = api.get("/api/villages/210123203202").json()
    assert empty["needs"] == [] and empty["statuses"] == [] and empty["basis"]["items"] == 0


def test_recommendations_for_a_village_without_needs_say_why_they_are_empty(api: httpx.Client) -> None:
    """A bare empty list did not tell a village with nothing recorded from one whose needs are all met."""
    rec = api.get("/api/villages/210123203202/recommendations")
    assert rec.status_code == 200 and rec.json()["needs"] == [] and rec.json()["addressed"] == []
    [note] = rec.json()["notes"]
    assert "has no needs recorded as of 2020-06-30" in note and "dcpa import" in note
    assert api.get(f"/api/villages/{V}/recommendations").json()["notes"] == []


def test_unknown_and_malformed_village(api: httpx.Client) -> None:
    err = assert_error(api.get("/api/villages/210123203299"), 404, "not_found")
    assert "210123203299" in err["message"]
    assert_error(api.get("/api/villages/12ab"), 422, "invalid_request")
    assert_error(api.get("/api/villages/210123203299/recommendations"), 404, "not_found")
    assert_error(api.get("/api/villages/210123203299/similar"), 404, "not_found")


def test_recommendations(api: httpx.Client) -> None:
    r = api.get(f"/api/villages/{V}/recommendations").json()
    assert r["village"]["code"] == V
    need = next(n for n in r["needs"] if n["need_type"].endswith("N22"))
    assert need["candidates"][0]["iri"].endswith("resource/R-2")
    assert need["candidates"][0]["explanation"]  # every recommendation carries its path
    rows = read_csv(api.get(f"/api/villages/{V}/recommendations", params={"format": "csv"}))
    assert rows[0]["need_type_label"] == "电子商务技能" and rows[0]["rank"] == "1"


def test_recommendations_for_every_village_of_a_county(api: httpx.Client) -> None:
    """Each village's part is the village's own recommendations; the CSV has a row per village, need and
    candidate; a city is asked county by county."""
    county = V[:6]
    r = api.get(f"/api/areas/{county}/recommendations").json()
    codes = [v["village"]["code"] for v in r["villages"]]
    assert codes == sorted(codes) and "210123203201" in codes  # 六家子: a gap, the e-readers a candidate
    assert r["area"]["code"] == county and r["basis"]["items"] == sum(v["basis"]["items"] for v in r["villages"])
    for v in r["villages"]:  # with the same defaults (they were 3 candidates a need here, 10 there, 5 in the CLI)
        assert v == api.get(f"/api/villages/{v['village']['code']}/recommendations").json()
    rows = read_csv(api.get(f"/api/areas/{county}/recommendations", params={"format": "csv"}))
    # a row per candidate, and one per need without any (they were left out: what a planner must look for)
    assert len(rows) == sum(max(1, len(n["candidates"])) for v in r["villages"] for n in v["needs"]) > 0
    bare = sum(1 for v in r["villages"] for n in v["needs"] if not n["candidates"])
    assert sum(1 for row in rows if row["label"] == NO_CANDIDATE and not row["rank"]) == bare
    assert {row["village"] for row in rows} <= set(codes)
    one = api.get(f"/api/areas/{county}/recommendations", params={"village": "210123203201"}).json()
    assert [v["village"]["code"] for v in one["villages"]] == ["210123203201"]
    # a city: the library's words, as `dcpa recommend 2101` says them (it was a regex pattern's 422)
    err = assert_error(api.get("/api/areas/2101/recommendations"), 422, "invalid_parameter")
    assert "for a county or a township, not a city" in err["message"] and "county by county" in err["hint"]
    assert "pattern" not in str(err)
    err = assert_error(api.get("/api/areas/21x/recommendations"), 404, "not_found")
    assert "2, 4, 6, 9 or 12 digits" in err["hint"]
    err = assert_error(api.get(f"/api/areas/{county}/recommendations", params={"village": "210124000000"}), 422,
                       "invalid_parameter")
    assert "within " + county in err["message"]


def test_similar(api: httpx.Client) -> None:
    r = api.get(f"/api/villages/{V}/similar")
    assert r.status_code == 200
    body = r.json()
    assert body["village"]["code"] == V and isinstance(body["items"], list) and "basis" in body
    assert body["notes"] == []
    real = api.get(f"/api/villages/{V}/similar", params={"real_only": "true"})
    assert real.status_code == 200 and real.json()["items"] == [] and "no real needs" in real.json()["notes"][0]


def test_similar_villages_of_a_village_without_needs_is_an_empty_answer_that_says_why(api: httpx.Client) -> None:
    """A village that exists with no needs recorded: 200, no villages, a note (it was 404 not_found, which is
    for a village that does not exist)."""
    r = api.get("/api/villages/210123203202/similar")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["items"] == [] and body["village"]["code"] == "210123203202"
    assert len(body["notes"]) == 1 and "no needs recorded yet" in body["notes"][0] and "dcpa import" in body["notes"][0]


# -- gaps and plans ----------------------------------------------------------------


def test_gaps_with_drill_down(api: httpx.Client) -> None:
    r = api.get("/api/gaps", params={"area": "210123"}).json()
    assert r["totals"]["needs"] == 3 and r["totals"]["unaddressed"] == 2 and r["totals"]["addressed"] == 1
    assert r["drill_down"] == [{"code": "210123203", "label": {"zh": "北四家子乡", "en": "Beisijiazi Xiang"},
                                "href": "/api/gaps?area=210123203&by=area"}]
    assert r["up"] == "/api/gaps?area=2101&by=area"
    assert r["basis"]["example_items"] == 3 and r["as_of"] == "2020-06-30"
    child = api.get(r["drill_down"][0]["href"]).json()
    assert child["totals"]["needs"] == 3
    rows = read_csv(api.get("/api/gaps", params={"by": "need_type", "format": "csv"}))
    assert {row["code"]: row["unaddressed"] for row in rows}["N22"] == "1"
    assert_error(api.get("/api/gaps", params={"area": "219999"}), 404, "not_found")
    assert_error(api.get("/api/gaps", params={"by": "colour"}), 422, "invalid_request")


def test_gaps_without_an_area_are_the_province_s_by_city(api: httpx.Client) -> None:
    """Without an area the report was one row, Liaoning's, where the dashboard shows its cities; a lone province
    is now read through, as the dashboard does, with the same totals and no way up to itself."""
    everywhere, province = api.get("/api/gaps").json(), api.get("/api/gaps", params={"area": "21"}).json()
    assert everywhere == province and everywhere["area"]["code"] == "21" and "up" not in everywhere
    assert everywhere["groups"] and all(len(g["code"]) == 4 for g in everywhere["groups"])
    assert {g["code"] for g in everywhere["groups"]} == {c["code"] for c in everywhere["drill_down"]}
    assert read_csv(api.get("/api/gaps", params={"format": "csv"}))[0]["code"] != "21"
    by_type = api.get("/api/gaps", params={"by": "need_type"}).json()  # only grouping by area descends
    assert by_type["area"] is None and by_type["totals"] == everywhere["totals"]


@pytest.mark.parametrize("typed", ["n22", "Ｎ２２", "N22\u200b", "\u3000n22"])
def test_a_need_type_typed_in_either_case_or_full_width_is_the_type(api: httpx.Client, typed: str) -> None:
    # refused 422 (full width, spaces) or answered "unknown need type 'n22'", where an import reads all of them
    want = api.get("/api/gaps", params={"by": "need_type", "need_type": "N22"}).json()["totals"]
    r = api.get("/api/gaps", params={"by": "need_type", "need_type": typed})
    assert r.status_code == 200, r.text
    assert r.json()["totals"] == want and want["needs"] > 0
    rows = api.get("/api/queries/resources_for_need_type", params={"need_type": typed})
    assert rows.status_code == 200, rows.text
    assert rows.json()["rows"] == api.get("/api/queries/resources_for_need_type",
                                          params={"need_type": "N22"}).json()["rows"]



#: 210123 and V as a Chinese IME types them (full-width digits), with an ideographic space or a zero-width space
#: pasted from a chat around them.
TYPED_COUNTY, TYPED_V = "\u3000２１０１２３", "２１０１２３２０３２００\u200b"


def test_an_area_code_typed_with_full_width_digits_or_spaces_is_the_area(api: httpx.Client) -> None:
    # it was accepted by the parameters' pattern and answered 404 "no area with code ２１０１２３"
    r = api.get("/api/gaps", params={"area": TYPED_COUNTY})
    assert r.status_code == 200, r.text
    assert r.json()["area"]["code"] == "210123" and r.json()["totals"]["needs"] == 3
    assert api.get(f"/api/villages/{TYPED_V}").json()["village"]["code"] == V
    assert api.get(f"/api/villages/{TYPED_V}/recommendations").json()["village"]["code"] == V
    assert api.get(f"/api/villages/{TYPED_V}/similar").json()["village"]["code"] == V
    within = api.get(f"/api/areas/{TYPED_COUNTY.strip()}/recommendations", params={"village": TYPED_V}).json()
    assert [v["village"]["code"] for v in within["villages"]] == [V]
    assert api.get("/api/queries/needs_of_village", params={"village": TYPED_V}).json()["total"] == 2
    for page in (f"/dashboard?area={TYPED_COUNTY}", f"/dashboard/village/{TYPED_V}", f"/views/area/{TYPED_COUNTY}",
                 f"/views/village/{TYPED_V}", f"/plan?area={TYPED_COUNTY}&budget=10000"):
        assert api.get(page).status_code == 200, page
    # typed in groups, as a long number is: read as the library reads it (the API answered 422)
    grouped = api.get("/api/gaps", params={"area": "21 01 23"})
    assert grouped.status_code == 200 and grouped.json()["area"]["code"] == "210123", grouped.text
    assert api.get(f"/api/villages/{V[:6]} {V[6:]}").json()["village"]["code"] == V
    # digits of another script are no code: refused by the parameter, as before
    assert_error(api.get("/api/gaps", params={"area": "٢١"}), 422, "invalid_request")


def test_a_table_asked_for_by_a_typed_code_is_named_and_filled_by_the_code_read(api: httpx.Client) -> None:
    """A CSV or XLSX for a code typed full-width answered 500: its file name was the code as typed, which an HTTP
    header cannot carry; the recommendations' village column held it as typed too."""
    for path, params, name in [
        (f"/api/villages/{TYPED_V}/recommendations", {}, f"recommendations-{V}-{AS_OF}.csv"),
        (f"/api/villages/{TYPED_V}/similar", {}, f"similar-{V}-{AS_OF}.csv"),
        ("/api/areas/２１０１２３/recommendations", {}, f"recommendations-210123-{AS_OF}.csv"),
        ("/api/gaps", {"area": TYPED_COUNTY}, f"gaps-210123-by-area-{AS_OF}.csv"),
        ("/plan.csv", {"area": TYPED_COUNTY, "budget": "10000"}, f"plan-210123-10000-{AS_OF}.csv"),
        ("/plan.xlsx", {"area": TYPED_COUNTY, "budget": "10000"}, f"plan-210123-10000-{AS_OF}.xlsx"),
    ]:
        r = api.get(path, params={"format": "csv", **params} if path.startswith("/api") else params)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-disposition"].startswith(f'attachment; filename="{name}";')
    rows = read_csv(api.get(f"/api/villages/{TYPED_V}/recommendations", params={"format": "csv"}))
    assert {row["village"] for row in rows} == {V}

def test_each_gap_report_downloaded_is_a_file_of_its_own_named_for_what_it_holds(api: httpx.Client) -> None:
    """Every download of an area's gap report was gaps-210123.csv, whatever its grouping, day or filter, and had no
    name a planner could read: a folder filled with gaps-210123 (1).csv. Each is named by its area (code and name),
    grouping, filters and day, in Chinese for a browser (RFC 6266 filename*) and in ASCII for the rest."""
    names = set()
    for params in ({}, {"by": "need_type"}, {"as_of": "2019-06-30"}, {"min_severity": "4", "real_only": "true"},
                   {"start": "2018-01-01", "end": "2018-12-31"}):
        r = api.get("/api/gaps", params={"area": "210123", "format": "csv", **params})
        assert r.status_code == 200, r.text
        header = r.headers["content-disposition"]
        ascii_name = header.split('filename="')[1].split('"')[0]
        name = unquote(header.split("filename*=UTF-8''")[1])
        assert header.isascii() and ascii_name.endswith(".csv") and name.endswith(".csv")
        assert "康平县" in name and "210123" in ascii_name and not set('/\\:*?"<>|') & set(name)
        names.add(name)
    assert len(names) == 5
    assert {f"gaps-210123-康平县-by-area-{AS_OF}.csv", "gaps-210123-康平县-by-need_type-2020-06-30.csv",
            "gaps-210123-康平县-by-area-2019-06-30.csv",
            "gaps-210123-康平县-by-area-2018-01-01_2018-12-31.csv"} < names


def test_gaps_take_every_dimension_period_and_reach_the_library_has(api: httpx.Client) -> None:
    by_sev = api.get("/api/gaps", params={"area": "210123", "by": "severity"}).json()
    assert [g["code"] for g in by_sev["groups"]] == ["5", "4", "3"]
    period = api.get("/api/gaps", params={"area": "210123", "start": "2018-06-01", "end": "2018-12-31"}).json()
    assert period["period"] == {"start": "2018-06-01", "end": "2018-12-31"} and period["totals"]["needs"] == 1
    direct = api.get("/api/gaps", params=[("area", "210123"), ("reach", "direct")]).json()
    assert direct["reach"] == ["direct"] and direct["totals"]["addressed"] == 1
    assert_error(api.get("/api/gaps", params={"by": "period"}), 422, "invalid_request")
    assert_error(api.get("/api/gaps", params={"reach": "library"}), 422, "invalid_request")
    assert_error(api.get("/api/gaps", params={"start": "2018-01-01"}), 422, "invalid_parameter")
    assert_error(api.get("/api/gaps", params={"start": "2018-99-01", "end": "2018-12-31"}), 422, "invalid_request")
    real = api.get("/api/gaps", params={"area": "210123", "real_only": "true"}).json()
    assert real["totals"]["needs"] == 0 and "dcpa import" in real["basis"]["note_en"]


def test_plan(api: httpx.Client) -> None:
    r = api.post("/api/plans", json={"budget": 10000, "area": "210123", "method": "exact"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "exact" and body["basis"]["example_share"] == 1.0
    assert {a["resource"].rsplit("/", 1)[1] for a in body["allocations"]} == {"R-1", "R-2"}
    assert_error(api.post("/api/plans", json={"budget": 10000, "method": "milp"}), 422, "invalid_request")
    targeted = api.post("/api/plans", json={"budget": 10000, "area": "210123", "poor_first": True}).json()
    assert targeted["poor_first"] is True and targeted["covered_weight"] > body["covered_weight"]
    assert_error(api.post("/api/plans", json={"budget": -5}), 422, "invalid_request")
    assert_error(api.post("/api/plans", json={"budget": 100, "area": "219999"}), 404, "not_found")


def test_plan_takes_real_only_in_the_query_as_every_answer_does(api: httpx.Client) -> None:
    """`POST /api/plans?real_only=true` planned on example data (the flag read only from the body)."""
    for ask in ({"params": {"real_only": "true"}, "json": {"budget": 10000, "area": "210123"}},
                {"json": {"budget": 10000, "area": "210123", "real_only": True}}):
        body = api.post("/api/plans", **ask).json()  # type: ignore[arg-type]
        assert body["real_only"] is True and body["basis"]["real_only"] is True, ask
        assert body["allocations"] == [] and "dcpa import" in body["basis"]["note_en"]


def test_plan_refuses_what_a_client_cannot_have_meant(api: httpx.Client) -> None:
    # JSON's true read as a budget of 1 yuan, and an empty reach list as the server's setting: both planned.
    budget = assert_error(api.post("/api/plans", json={"budget": True}), 422, "invalid_request")
    assert budget["details"][0]["loc"] == ["body", "budget"]
    assert "must be a number" in budget["message"]
    # Chinese first, as every message: a planner's script shows the JSON's message as it is
    assert budget["message"].startswith("请求无效：budget：须为数字 / the request is not valid: budget: must be a "
                                        "number")
    assert budget["hint"].startswith("请改正")
    reach = assert_error(api.post("/api/plans", json={"budget": 100, "reach": []}), 422, "invalid_request")
    assert reach["details"][0]["loc"] == ["body", "reach"]
    assert api.post("/api/plans", json={"budget": "10000", "area": "210123", "reach": ["direct"]}).status_code == 200


# -- records -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,ident,label",
    [
        ("policies", "P06", "“公共电子阅览室建设计划”实施方案"),
        ("programmes", "P08", "数字图书馆推广工程"),
        ("libraries", "L-210123", "示例·康平县图书馆"),
        ("resources", "R-1", "示例·电子阅读器"),
        ("interventions", "INT-1", "示例·北四家子电子阅览"),
        ("evaluations", "E-1", None),
    ],
)
def test_record_lists_and_records(api: httpx.Client, path: str, ident: str, label: str | None) -> None:
    page = api.get(f"/api/{path}").json()
    assert ident in [r["id"] for r in page["items"]]
    rec = api.get(f"/api/{path}/{ident}").json()
    assert rec["id"] == ident and rec["label_zh"] == label and rec["href"] == f"/api/{path}/{ident}"
    assert rec["synthetic"] is (path not in ("policies", "programmes"))
    real = api.get(f"/api/{path}", params={"real_only": "true"}).json()
    assert (ident in [r["id"] for r in real["items"]]) is (path in ("policies", "programmes"))
    ld = api.get(f"/api/{path}/{ident}", headers={"Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json")
    g = rdflib.Graph().parse(data=ld.text, format="json-ld")
    assert (rdflib.URIRef(rec["iri"]), None, None) in g
    assert_error(api.get(f"/api/{path}/NO-SUCH-ID"), 404, "not_found")


def test_record_fields_and_csv(api: httpx.Client) -> None:
    rec = api.get("/api/interventions/INT-1").json()
    assert rec["properties"]["budget"] == 50000
    assert rec["properties"]["category"]["iri"].endswith("vocab/C2")
    rows = read_csv(api.get("/api/resources", params={"format": "csv"}))
    assert {r["id"]: r["unitCost"] for r in rows} == {"R-1": "1500", "R-2": "3000"}
    assert api.get("/api/policies", params={"q": "阅览室"}).json()["total"] == 1
    assert api.get("/api/policies", params={"q": "没有"}).json()["total"] == 0


def test_a_kinds_csv_has_one_header_on_every_page_filter_and_record(api: httpx.Client) -> None:
    """Before: the header was the properties of the page's records (R-1 has a capacityUnit, R-2 none; a real-only
    page of no records had no header at all), so pages could not be appended."""
    def header(r: httpx.Response) -> list[str]:
        assert r.headers["content-type"].startswith("text/csv")
        return next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))

    first = header(api.get("/api/resources", params={"format": "csv", "limit": 1}))
    assert first == ["id", "iri", "label_zh", "label_en", "synthetic", "types", "capacity", "capacityUnit", "heldBy",
                     "resourceType", "unitCost", "wasDerivedFrom"]
    assert header(api.get("/api/resources", params={"format": "csv", "limit": 1, "offset": 1})) == first
    assert header(api.get("/api/resources", params={"format": "csv", "real_only": "true"})) == first
    assert header(api.get("/api/resources", params={"format": "csv", "q": "电商"})) == first
    assert header(api.get("/api/resources/R-2", params={"format": "csv"})) == first
    rows = read_csv(api.get("/api/resources", params={"format": "csv", "offset": 1}))
    assert [(r["id"], r["capacityUnit"], r["unitCost"]) for r in rows] == [("R-2", "", "3000")]


# -- query catalogue and stats ----------------------------------------------------------


def test_query_catalogue(api: httpx.Client) -> None:
    listing = api.get("/api/queries").json()
    names = [q["name"] for q in listing["items"]]
    assert "needs_of_village" in names and listing["total"] == len(names)
    r = api.get("/api/queries/needs_of_village", params={"village": V}).json()
    assert r["columns"][0] == "need" and r["total"] == 2
    assert {row["need_type_label"] for row in r["rows"]} == {"电子商务技能", "终端设备接入"}
    assert r["example"] == [True, True] and r["basis"]["example_items"] == 2 and r["derived_as_of"] == "2020-06-30"
    rows = read_csv(api.get("/api/queries/needs_of_village", params={"village": V, "format": "csv"}))
    assert len(rows) == 2 and {row["example"] for row in rows} == {"true"}
    real = api.get("/api/queries/needs_of_village", params={"village": V, "real_only": "true"}).json()
    assert real["rows"] == [] and real["basis"]["real_only"] is True
    assert_error(api.get("/api/queries/no_such_query"), 404, "not_found")
    err = assert_error(api.get("/api/queries/needs_of_village", params={"colour": "red"}), 422, "invalid_parameter")
    assert "colour" in err["message"]
    # a parameter given twice is refused with both values, not answered for the last one alone
    twice = api.get("/api/queries/needs_of_village", params=[("village", V), ("village", "211322101201")])
    err = assert_error(twice, 422, "invalid_parameter")
    assert "more than once" in err["message"] and V in err["message"] and err["details"][0]["column"] == "village"


def test_a_stored_query_s_csv_is_the_whole_answer_unless_a_page_is_asked_for(make_client) -> None:
    """A catalogue query's CSV held the first 100 rows of 169, saying nowhere that the rest were left out."""
    client = make_client()
    store = client.app.state.store
    needs = " ".join(f"<https://w3id.org/dcpa/id/need/many-{k}> dcpa:needOf <https://w3id.org/dcpa/id/area/{V}> ; "
                     "dcpa:needType dcpav:N22 ; dcpa:severity 3 ; dcpa:needState dcpav:NS3 ." for k in range(130))
    store.update(f"INSERT DATA {{ GRAPH <https://w3id.org/dcpa/graph/derived> {{ {needs} }} }}")
    whole = client.get("/api/queries/needs_of_village", params={"village": V}).json()
    assert whole["total"] > 130 and len(whole["rows"]) == 100  # JSON: a page, and its total
    rows = read_csv(client.get("/api/queries/needs_of_village", params={"village": V, "format": "csv"}))
    assert len(rows) == whole["total"]
    paged = read_csv(client.get("/api/queries/needs_of_village", params={"village": V, "format": "csv", "offset": 20}))
    assert len(paged) == 100 and paged[0] == rows[20]
    cut = make_client(store, max_rows=50).get("/api/queries/needs_of_village", params={"village": V, "format": "csv"})
    assert len(read_csv(cut)) == 50 and cut.headers["X-DCPA-Truncated"] == "true"  # past DCPA_MAX_ROWS: said


def test_the_catalogue_s_examples_in_the_api_docs_are_a_query_it_has(api: httpx.Client) -> None:
    """/docs showed the catalogue by a query named gaps_by_county with a parameter of type area_code, neither of which
    exists: a reader who tried the example got 404. The examples are a query of the catalogue, as it lists it."""
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    shown = {k: v["examples"][0] for k, v in schemas["QueryInfo"]["properties"].items() if v.get("examples")}
    listed = {q["name"]: q for q in api.get("/api/queries").json()["items"]}
    assert shown["name"] in listed
    assert shown == {k: listed[shown["name"]][k] for k in shown}
    param = {k: v["examples"][0] for k, v in schemas["ParamInfo"]["properties"].items() if v.get("examples")}
    assert param == {k: v for k, v in listed[shown["name"]]["parameters"][0].items() if k in param}


class _PastDeadline:
    """A query runner whose every call has run out of time (what a whole-country scan meets at national scale)."""

    async def call(self, target: str, *args: object, timeout: float) -> object:
        raise QueryTimeout(f"the answer took longer than {timeout:g} s and was stopped")


def test_a_stored_query_past_its_deadline_names_its_faster_counterpart(make_client, zh_first) -> None:
    client = make_client()
    client.app.state.query_runner = _PastDeadline()
    err = assert_error(client.get("/api/queries/synthetic_share"), 503, "query_timeout")
    zh_first(err["hint"], "synthetic_share_summary answers the same counts from the derived graph")
    assert "请缩小地区范围" in err["hint"].partition(" / ")[0]  # each half in its language
    assert "/api/queries/synthetic_share_summary" in err["hint"] and "DCPA_ANSWER_TIMEOUT" in err["hint"]
    err = assert_error(client.get("/api/queries/needs_of_village", params={"village": V}), 503, "query_timeout")
    assert "summary" not in err["hint"] and "DCPA_ANSWER_TIMEOUT" in err["hint"]  # it has no counterpart


def test_while_a_write_is_unfinished_derived_queries_say_try_again_and_gaps_are_worked_out_live(make_client) -> None:
    """A journal marker in the store (a write under way, or one cut short that recovery has not finished): a
    catalogue query reading the derived graph answers 503 ``store_busy`` with Retry-After, the gaps answer
    applies the rule live and says why, with the same figures, and the stats say so; once the marker goes, both
    read the derived graph."""
    client = make_client()
    store = client.app.state.store
    before = client.get("/api/gaps", params={"area": "210123"}).json()
    marker = Marker("20201231T000000Z-000000", {"210123"})
    store.add_graph(marker.graph, marker.ntriples())
    r = client.get("/api/queries/needs_of_village", params={"village": V})
    err = assert_error(r, 503, "store_busy")
    assert int(r.headers["retry-after"]) > 0 and "try again" in err["hint"]
    assert err["message"].startswith("查询 'needs_of_village' 读取派生图")
    assert err["hint"].startswith("请在写入结束后重试")
    during = client.get("/api/gaps", params={"area": "210123"}).json()
    assert during["source"] == "live" and any("a write is under way" in n for n in during["notes"])
    assert during["totals"] == before["totals"] and before["source"] != "live"
    derived = client.get("/api/stats").json()["summary"]["derived"]
    assert derived["write_under_way"] is True and derived["current"] is False
    store.update(marker.delete())
    derived = client.get("/api/stats").json()["summary"]["derived"]
    assert derived["write_under_way"] is False and derived["current"] is True
    assert client.get("/api/gaps", params={"area": "210123"}).json()["source"] == before["source"]
    assert client.get("/api/queries/needs_of_village", params={"village": V}).json()["total"] == 2


def test_stats(api: httpx.Client) -> None:
    s = api.get("/api/stats").json()
    assert s["counts"]["villages"] == {"real": 4, "example": 0}
    assert s["counts"]["needs"] == {"real": 0, "example": 3}
    assert s["counts"]["registered_poor_villages"] == {"real": 0, "example": 1}  # never shown as a real one
    assert {g["graph"].rsplit("/", 1)[1] for g in s["graphs"]} == {"ontology", "reference", "synthetic", "derived"}
    derived_rows = [c for c in s["classes"] if c["class"] in ("dcpa:NeedSummary", "dcpa:AddressingReason")]
    assert derived_rows and all(c["derived"] == c["total"] and c["real"] == 0 for c in derived_rows)


def test_unknown_route_and_method(api: httpx.Client) -> None:
    assert_error(api.get("/api/nothing-here"), 404, "not_found")
    assert_error(api.delete("/api/villages"), 405, "method_not_allowed")


def test_json_keeps_chinese_unescaped(api: httpx.Client) -> None:
    raw = api.get("/api/villages", params={"q": "六家子"}).content
    assert "六家子村委会".encode() in raw


@pytest.mark.parametrize("path", ["/", "/api/stats", "/sparql?query=ASK%20%7B%7D", "/dashboard?area=21"])
def test_head_answers_as_get_does_without_the_body(api: httpx.Client, path: str) -> None:
    """curl -I, link checkers and uptime monitors ask HEAD: the GET's status and headers, no body."""
    got, head = api.get(path), api.head(path)
    assert head.status_code == got.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


def test_a_method_a_path_does_not_answer_is_405_naming_every_one_it_does(api: httpx.Client) -> None:
    r = api.put("/sparql", content=b"ASK {}")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD, POST"  # Starlette named the first route's alone: GET
    assert api.delete("/api/stats").headers["allow"] == "GET, HEAD"
    assert api.post("/static/js/sparql-page.js").headers["allow"] == "GET, HEAD"  # the static files' own


def test_a_missing_json_body_names_the_body(api: httpx.Client) -> None:
    r = api.post("/api/plans", content=b"", headers={"Content-Type": "application/json"})
    err = assert_error(r, 422, "invalid_request")
    assert "body: is missing" in err["message"] and "?" not in err["message"].split(":")[1]


def test_a_gap_report_s_links_keep_its_whole_question(api: httpx.Client) -> None:
    """Drilling down or up keeps the reach rule and the date: the numbers of a group are the numbers behind its link."""
    params = [("area", "2101"), ("reach", "direct"), ("reach", "area"), ("as_of", "2019-01-01"), ("real_only", "false")]
    r = api.get("/api/gaps", params=params).json()
    assert r["drill_down"]
    for child in r["drill_down"]:
        assert child["href"] == f"/api/gaps?area={child['code']}&by=area&reach=direct&reach=area&as_of=2019-01-01"
        below = api.get(child["href"]).json()
        assert below["reach"] == ["direct", "area"] and below["as_of"] == "2019-01-01"
        assert [g["needs"] for g in r["groups"] if g["code"] == child["code"]] in ([below["totals"]["needs"]], [])
    assert r["up"] == "/api/gaps?area=21&by=area&reach=direct&reach=area&as_of=2019-01-01"


def test_a_need_without_a_candidate_has_its_row_in_the_recommendations_csv() -> None:
    """The needs nothing within reach fits are what a planner must look for elsewhere: the CSV had no row for them."""
    report = {"needs": [
        {"need": "n1", "need_type": "N22", "need_type_label": "电子商务技能", "severity": 4, "state": "unaddressed",
         "candidates": [{"iri": "r1", "label": "示例·课程", "explanation": [], "components": {}}]},
        {"need": "n2", "need_type": "N43", "need_type_label": "地方文化保护", "severity": 3, "state": "unaddressed",
         "candidates": []}]}
    rows = candidate_rows("219001001001", report)
    assert [(r["need"], r["rank"], r["label"]) for r in rows] == [("n1", 1, "示例·课程"), ("n2", None, NO_CANDIDATE)]
    assert rows[1]["need_type_label"] == "地方文化保护" and rows[1]["village"] == "219001001001"


@pytest.mark.parametrize("path,fmt", [
    (f"/api/villages/{V}", "csv"), (f"/api/villages/{V}/similar", "jsonld"),
    (f"/api/villages/{V}/recommendations", "jsonld"), ("/api/gaps", "jsonld"), ("/api/villages?q=21", "jsonld"),
])
def test_a_format_the_answer_cannot_take_is_refused_not_ignored(api: httpx.Client, path: str, fmt: str) -> None:
    """`/api/villages/{code}?format=csv` answered JSON with 200, as if it were a CSV; a format asked by name
    that the answer has not is now refused, saying which it has (an Accept header still falls back to JSON)."""
    sep = "&" if "?" in path else "?"
    err = assert_error(api.get(f"{path}{sep}format={fmt}"), 422, "invalid_parameter")
    assert err["message"].startswith("这个回答没有") and f"format={fmt}" in err["message"]
    accept = {"csv": "text/csv", "jsonld": "application/ld+json"}[fmt]
    assert api.get(path, headers={"Accept": accept}).status_code == 200



def test_a_code_printed_in_12_digits_names_its_area_everywhere(api: httpx.Client) -> None:
    """Statistics print every level's code in 12 digits (康平县 210123000000): search found it, but the dashboard,
    the gap report and the plan form said there was no such area. The one area resolver reads it as the graph
    writes it, where the 12 digits name no village."""
    padded = api.get("/api/gaps", params={"area": "210123000000"})
    assert padded.status_code == 200, padded.text
    assert padded.json() == api.get("/api/gaps", params={"area": "210123"}).json()
    assert api.get("/dashboard", params={"area": "210123000000"}).status_code == 200
    missing = api.get("/api/gaps", params={"area": "210123999000"})  # no such village, nor township 210123999
    assert missing.status_code == 404 and "210123999000" in missing.json()["error"]["message"]
