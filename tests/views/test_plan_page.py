"""The plan page (/plan): the form, the plan per village in plain words, its exports, escaped, in both languages."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from fastapi.testclient import TestClient

from kg.planning import ALLOCATION_COLUMNS, allocation_rows, distance_words, plan, unmet_rows
from kg.safetext import csv_text
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF
from .test_render import EXTERNAL

QUERY = "area=211322&budget=20000"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_without_a_budget_the_page_is_the_form(client: TestClient) -> None:
    html = client.get("/plan").text
    assert 'form class="dcpa-form dcpa-plan-form dcpa-no-print" method="get" action="/plan"' in html
    assert 'id="dcpa-plan-intro"' in html and "dcpa-plan-facts" not in html
    assert not EXTERNAL.search(html)


def test_the_plan_says_per_village_what_to_give_and_how_good_it_is(client: TestClient, store: Store) -> None:
    made = plan(store, 20000, "211322", settings=Settings(as_of=AS_OF))
    html = client.get(f"/plan?{QUERY}").text
    for a in made.allocations:
        assert f'data-village="{a.village}"' in html
    assert distance_words(made, "zh") in html
    assert f"{made.totals['covered_needs']} / {made.totals['unaddressed_needs']}" in html
    assert "upper bound" not in html and "optimality" not in html
    assert 'id="dcpa-plan-unmet-table"' in html and "本页含示例数据" in html
    assert 'href="/plan.xlsx?area=211322&amp;budget=20000&amp;method=auto&amp;lang=zh"' in html
    assert "data-dcpa-print" in html and '<script src="/static/js/print.js?v=' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html  # a hostile library name
    assert 'name="budget" value="20000"' in html and 'value="211322"' in html  # the form keeps the question
    unmet = html.split('id="dcpa-plan-unmet-table"')[1]  # each unmet need says why nothing went to it
    assert "为什么没有分到" in unmet and unmet.count("<tr>") - 1 == min(len(made.uncovered), 200)
    assert all(r["why_unmet"] and r["why_unmet"] in unmet for r in unmet_rows(made, "zh")[:200])
    en = client.get(f"/plan?{QUERY}&lang=en").text
    assert "What each village gets" in en and distance_words(made, "en") in en and "各村分到什么" not in en
    assert 'href="/plan?area=211322&amp;budget=20000&amp;method=auto&amp;lang=zh"' in en  # the switch keeps it


def test_the_exports_are_a_flat_csv_and_a_workbook(client: TestClient, store: Store) -> None:
    made = plan(store, 20000, "211322", settings=Settings(as_of=AS_OF))
    r = client.get(f"/plan.csv?{QUERY}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    # the workbook's headers, in the page's language (the columns' keys, village_code and cost, were all it said)
    assert list(rows[0]) == [zh for zh, _ in ALLOCATION_COLUMNS.values()] and "费用（元）" in rows[0]
    assert [row["村代码"] for row in rows] == [row["village_code"] for row in allocation_rows(made)]
    assert {row["示例数据"] for row in rows} == {"是"}  # the fixture's resources are example data, marked as such
    en = list(csv.DictReader(io.StringIO(client.get(f"/plan.csv?{QUERY}&lang=en").content.decode("utf-8-sig"))))
    assert list(en[0]) == [e for _, e in ALLOCATION_COLUMNS.values()] and {row["example data"] for row in en} == {"yes"}
    assert not any("{" in v for row in rows for v in row.values())
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/plan.xlsx?{QUERY}&lang=en").content))
    assert book.sheetnames == ["Summary", "Allocations", "Unmet"]
    assert client.get("/plan.pdf?budget=1").status_code == 422
    assert client.get("/plan.csv?area=211322").status_code == 422  # no budget: nothing to plan


def test_the_csv_writes_whole_amounts_as_the_page_does(client: TestClient, store: Store) -> None:
    """Costs and weights read 3000.0 and 4.0 in the CSV (opened in WPS or a text editor), where the page and the
    workbook say 3,000 and 4; a real decimal stays exact."""
    made = plan(store, 20000, "211322", settings=Settings(as_of=AS_OF))
    rows = list(csv.DictReader(io.StringIO(client.get(f"/plan.csv?{QUERY}").content.decode("utf-8-sig"))))
    assert rows and [row["费用（元）"] for row in rows] == [f"{a.cost:g}" for a in made.allocations]
    assert not any(v.endswith(".0") for row in rows for v in (row["费用（元）"], row["加权值"]))
    assert csv_text(None, [[1500.0, 1500.5, 0.6667, -0.0, 3]]) == "1500,1500.5,0.6667,0,3\r\n"


def test_a_plan_allocating_nothing_says_why_in_its_csv(client: TestClient, store: Store) -> None:
    """A budget below every allocation downloaded as a header alone: the CSV says why, as the page does."""
    made = plan(store, 1, "211322", settings=Settings(as_of=AS_OF))
    assert not made.allocations
    rows = list(csv.reader(io.StringIO(client.get("/plan.csv?area=211322&budget=1").content.decode("utf-8-sig"))))
    assert rows[1:] == [[distance_words(made, "zh")]] and "预算不够" in rows[1][0]


def test_a_large_budget_is_asked_again_to_the_yuan(client: TestClient) -> None:
    """The form, the downloads and the language switch carry the budget typed, not a rounded 1.23457e+06."""
    html = client.get("/plan?area=211322&budget=1234567").text
    assert 'name="budget" value="1234567"' in html and "e+06" not in html and "e%2B06" not in html
    assert 'href="/plan.xlsx?area=211322&amp;budget=1234567&amp;method=auto&amp;lang=zh"' in html
    assert 'budget=1234567.5&amp;' in client.get("/plan?area=211322&budget=1234567.5").text
    r = client.get("/plan.csv?area=211322&budget=1234567")
    assert 'filename="plan-211322-1234567-2020-06-30.csv"' in r.headers["content-disposition"]


def test_a_plan_with_real_data_only_leads_to_pages_with_real_data_only(client: TestClient) -> None:
    """The dashboard's real-only switch carries over to the plan; the way back keeps it too."""
    html = client.get("/plan?area=211322&budget=20000&real_only=true").text
    assert 'href="/dashboard?area=211322&amp;lang=zh&amp;real_only=true"' in html
    assert 'href="/dashboard?area=211322&amp;lang=zh"' not in html
    # no real need is recorded: not "this plan meets every unmet need"
    assert "这个方案满足了所有未满足的需求" not in html and 'id="dcpa-plan-no-needs">这里还没有真实需求记录' in html
    every = client.get(f"/plan?{QUERY}").text  # with example data: the village links without the switch
    assert 'href="/dashboard/village/' in every and "real_only" not in every.split('id="dcpa-plan-villages"')[1]


def test_the_api_gives_a_plan_as_the_same_flat_csv(client: TestClient) -> None:
    r = client.post("/api/plans?format=csv", json={"budget": 20000, "area": "211322"})
    assert r.status_code == 200
    assert r.content.decode("utf-8-sig").splitlines()[0] == ",".join(ALLOCATION_COLUMNS)  # the keys, for scripts
    api = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    page = list(csv.DictReader(io.StringIO(client.get(f"/plan.csv?{QUERY}").content.decode("utf-8-sig"))))
    assert [(row["village_code"], row["cost"]) for row in api] == [(row["村代码"], row["费用（元）"]) for row in page]


def test_a_wrong_area_is_an_error_page_in_the_browser(client: TestClient) -> None:
    r = client.get("/plan?area=219999&budget=100&lang=en", headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "219999" in r.text
    r = client.get("/plan?area=abc&budget=100", headers=BROWSER)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")


def test_an_unknown_area_is_said_above_the_form_that_keeps_what_was_typed(client: TestClient) -> None:
    """A mistyped area code led to an error page without the form: budget, method and options typed again."""
    r = client.get("/plan?area=219999&budget=35000&method=greedy&poor_first=true&real_only=true", headers=BROWSER)
    assert r.status_code == 404
    assert 'id="dcpa-plan-error"' in r.text and "图谱中没有代码为 219999 的地区" in r.text
    assert "no area with code" not in r.text  # the page's language only
    assert 'name="area" value="219999"' in r.text and 'name="budget" value="35000"' in r.text
    assert '<option value="greedy" selected>' in r.text
    assert 'name="poor_first" value="true" checked' in r.text and 'name="real_only" value="true" checked' in r.text
    assert client.get("/plan?area=219999&budget=35000").json()["error"]["code"] == "not_found"  # a program: JSON


def test_an_invalid_form_says_which_field_is_wrong_and_what_was_sent(client: TestClient) -> None:
    """A planner sees each wrong field, the rule in the page's language and the value sent (escaped)."""
    zh = client.get("/plan?area=211381&budget=-5&lang=zh", headers=BROWSER)
    assert zh.status_code == 422  # above the form, which keeps what was typed
    assert "预算须大于 0 元、不超过 1,000,000,000,000 元（填的是 -5）" in zh.text and 'value="-5"' in zh.text
    assert "see details" not in zh.text and "the request is not valid" not in zh.text
    en = client.get("/plan?area=2113%3Cb%3E&budget=abc&lang=en", headers=BROWSER)
    assert '<code>area</code>: is not in the expected form (given: <code>2113&lt;b&gt;</code>)' in en.text
    assert "2113<b>" not in en.text
    en = client.get("/plan?area=211381&budget=abc%3Cb%3E&lang=en", headers=BROWSER)
    assert "cannot read the budget &#39;abc&lt;b&gt;&#39;" in en.text and "abc<b>" not in en.text
    api = client.get("/plan?area=211381&budget=-5").json()["error"]  # a program gets the same error as JSON
    assert api["code"] == "invalid_parameter" and "the budget must be more than 0" in api["message"]


def test_a_budget_that_is_no_number_or_too_large_is_said_so_in_digits(client: TestClient) -> None:
    """NaN (JSON as Python reads it, or nan in a link) was told "must be at most 1e+12", and a budget too large
    was told the bound as 1e+12."""
    for body in ('{"budget": NaN}', '{"budget": Infinity}'):
        r = client.post("/api/plans", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "budget：须为有限的数字" in r.json()["error"]["message"], body
    page = client.get("/plan?area=211381&budget=nan&lang=zh", headers=BROWSER).text
    assert "读不出预算“nan”" in page and "1e+12" not in page
    big = client.get("/plan?area=211381&budget=20000%E4%BA%BF", headers=BROWSER).text  # 20000亿
    assert "不超过 1,000,000,000,000 元（填的是 20000亿）" in big and "1e+12" not in big
    assert "须不大于 1,000,000,000,000" in client.post("/api/plans", json={"budget": 2e12}).json()["error"]["message"]


@pytest.mark.parametrize("typed", ["20000", "2万", "2 万元", "20,000", "２００００", "2.0万", "20000元", " 20000 ",
                                   "￥20,000", "2万\u3000"])
def test_a_budget_is_read_as_a_planner_writes_it(client: TestClient, store: Store, typed: str) -> None:
    """The budget box was a number box: 2万, 20,000 or full-width digits typed in it made no plan. The page, its
    downloads, the API and dcpa plan read one way (kg.planning.read_budget), and ask again in digits."""
    want = client.get(f"/plan?{QUERY}", headers=BROWSER).text
    r = client.get("/plan", params={"area": "211322", "budget": typed}, headers=BROWSER)
    assert r.status_code == 200 and 'id="dcpa-plan-facts"' in r.text
    assert r.text == want  # the same plan, the form and its links asking again for budget=20000
    assert client.get("/plan.csv", params={"area": "211322", "budget": typed}).content == \
        client.get(f"/plan.csv?{QUERY}").content
    api = client.post("/api/plans", json={"budget": typed.strip(), "area": "211322"})
    assert api.status_code == 200 and api.json()["budget"] == 20000


@pytest.mark.parametrize(("typed", "zh", "en"), [
    ("1,5", "预算“1,5”中的逗号不是每三位一组的千位分隔", "a comma may only group thousands (1,500,000)"),
    ("12,34,567", "预算“12,34,567”中的逗号不是每三位一组的千位分隔", "write a decimal point as '.'"),
    ("1 000 000", "读不出预算“1 000 000”", "write an amount in yuan, e.g. 200000, 200,000, 20万"),
    ("二十万", "读不出预算“二十万”", "write an amount in yuan"),
    ("5k", "读不出预算“5k”", "write an amount in yuan"),
])
def test_a_budget_that_could_mean_two_amounts_is_refused_with_how_to_write_it(
        client: TestClient, typed: str, zh: str, en: str) -> None:
    """Never guessed: said Chinese first, with what was typed, above the form that keeps it."""
    page = client.get("/plan", params={"area": "211322", "budget": typed}, headers=BROWSER)
    assert page.status_code == 422 and zh in page.text and 'id="dcpa-plan-facts"' not in page.text
    assert f'name="budget" value="{typed}"' in page.text
    e = client.post("/api/plans", json={"budget": typed, "area": "211322"}).json()["error"]
    assert e["code"] == "invalid_parameter" and e["message"].startswith(zh) and en in e["hint"]
    assert e["hint"].index("请") < e["hint"].index(" / ")


def test_an_empty_area_box_plans_for_everywhere(client: TestClient, store: Store) -> None:
    """A browser sends ``area=`` for the empty box, which the form says means everywhere."""
    everywhere = plan(store, 20000, None, settings=Settings(as_of=AS_OF))
    r = client.get("/plan?area=&budget=20000&method=auto&lang=zh", headers=BROWSER)
    assert r.status_code == 200
    for a in everywhere.allocations:
        assert f'data-village="{a.village}"' in r.text
    assert 'href="/plan.csv?budget=20000&amp;method=auto&amp;lang=zh"' in r.text  # asked again without the area
    rows = list(csv.DictReader(io.StringIO(client.get("/plan.csv?area=&budget=20000").content.decode("utf-8-sig"))))
    assert [row["村代码"] for row in rows] == [row["village_code"] for row in allocation_rows(everywhere)]
    assert client.get("/plan.xlsx?area=%20&budget=20000").status_code == 200
    spaced = client.get("/plan?area=%20211322%20&budget=20000").text  # spaces typed around the code
    assert 'value="211322"' in spaced and "plan.csv?area=211322&amp;" in spaced
    assert client.get("/plan?area=2113x&budget=20000").status_code == 422


def test_the_area_box_takes_a_village_code_typed_in_groups(client: TestClient) -> None:
    """The box took 12 characters: a village's code typed in groups, or pasted with a space, was cut short by the
    browser before the library, which reads it, ever saw it."""
    typed = " 211322 101 200 "
    box = re.search(r'<input type="text" name="area"[^>]*>', client.get("/plan").text)
    assert box is not None and int(re.search(r'maxlength="(\d+)"', box[0])[1]) >= len(typed)  # type: ignore[index]
    assert re.fullmatch(re.search(r'pattern="([^"]+)"', box[0])[1], typed)  # type: ignore[index]
    r = client.get("/plan", params={"area": typed, "budget": "20000"}, headers=BROWSER)
    assert r.status_code == 200 and 'value="211322 101 200"' in r.text and 'id="dcpa-plan-facts"' in r.text


def test_a_fraction_where_a_whole_number_goes_is_named_in_chinese(client: TestClient) -> None:
    r = client.get("/views/area/211322?max_nodes=2.5&lang=zh", headers=BROWSER)
    assert r.status_code == 422 and "<code>max_nodes</code>：须为整数（填的是 <code>2.5</code>）" in r.text
