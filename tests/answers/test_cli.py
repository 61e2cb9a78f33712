"""The answers commands parse, run on a store on disk and print data on stdout."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import rdflib
from typer.testing import CliRunner

from kg.cli import app
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.settings import get_settings
from kg.store import Store

from .conftest import FIXTURE, V1, V2, V3


def _store_without_derived_graph(path: Path) -> Path:
    s = Store.open(path)
    s.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    g = rdflib.Graph()
    g.parse(FIXTURE, format="turtle")
    s.add_graph(str(GRAPH_SYNTHETIC), g)
    s.close()
    return path


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _store_without_derived_graph(tmp_path_factory.mktemp("answers") / "store")


def _run(store_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DCPA_STORE_PATH", str(store_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_query_list_and_run(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _run(store_dir, monkeypatch, "query", "--list", "--format", "json")
    assert r.exit_code == 0, r.output
    listed = {q["name"]: q for q in json.loads(r.stdout)}
    assert "needs_by_type" in listed
    # a query that reads a whole area says what it costs, and which query reads the summaries instead
    slow = listed["needs_by_type"]
    assert slow["faster"] == "need_summary_by_type" and "national scale" in slow["cost"]
    # it counts the needs the derived graph holds (those known on its day), so a store without one says so
    r = _run(store_dir, monkeypatch, "query", "needs_by_type", "--param", "area=219002")
    assert r.exit_code == 2 and "dcpa derive" in r.output
    r = _run(store_dir, monkeypatch, "query", "needs_by_evidence", "--param", "area=219002", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("need_type,need_type_label")
    assert "互联网接入" in r.stdout
    # booleans as the API's CSV writes them (Python's True/False before)
    assert r.stdout.splitlines()[0].endswith(",example")
    assert {line.rsplit(",", 1)[1] for line in r.stdout.splitlines()[1:]} == {"true"}
    r = _run(store_dir, monkeypatch, "query", "needs_by_type", "--param", "area=abc")
    assert r.exit_code == 2  # a usage mistake, not bad data
    r = _run(store_dir, monkeypatch, "query", "needs_by_evidence", "--param", "area=219002", "--param", "area=21")
    assert r.exit_code == 2 and "more than once" in r.output and "'219002', '21'" in r.output


def test_recommend_gaps_plan_similar(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _run(store_dir, monkeypatch, "recommend", V1, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["needs"][0]["candidates"][0]["explanation"]
    r = _run(store_dir, monkeypatch, "gaps", "--area", "2190", "--by", "need_type", "--format", "csv")
    assert r.exit_code == 0 and "N12" in r.stdout
    assert r.stderr.startswith("示例·甲市（2190），截至 ")  # which area and day, Chinese first (English alone)
    assert "12 条需求，3 条已满足" in r.stderr and "City A (2190), as of " in r.stderr
    # without an area: the province's cities, as the dashboard and /api/gaps give (it printed Liaoning's one row)
    r = _run(store_dir, monkeypatch, "gaps", "--format", "csv")
    assert r.stdout == _run(store_dir, monkeypatch, "gaps", "--area", "21", "--format", "csv").stdout
    assert [line.split(",")[0] for line in r.stdout.splitlines()[1:]] == ["2190"]
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190")
    assert r.exit_code == 0 and "示例·电商技能课" in r.stdout
    # whole amounts and weights as the page writes them (the table read 1500.0 yuan and a weight of 5.0)
    assert not re.search(r"\d\.0(\s|$)", r.stdout, re.M), r.stdout
    csv_out = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190", "--format", "csv").stdout
    # CSV writes them whole too, as the API's CSV does (1500, not 1500.0): still the number a spreadsheet reads
    assert ",3000," in csv_out and not re.search(r",\d+\.0(,|$)", csv_out, re.M), csv_out
    r = _run(store_dir, monkeypatch, "plan", "--budget", "0", "--area", "2190")  # as the API: it made an empty plan
    assert r.exit_code == 2 and "the budget must be more than 0" in r.stderr and r.stdout == ""
    r = _run(store_dir, monkeypatch, "similar", V1)
    assert r.exit_code == 0 and "219002001002" in r.stdout
    r = _run(store_dir, monkeypatch, "recommend", "219001001999")
    assert r.exit_code == 2
    # a village's code pasted with a zero-width space was taken for an area's: its answer, not the village's
    typed = _run(store_dir, monkeypatch, "recommend", V1 + "\u200b", "--format", "json")
    assert typed.exit_code == 0 and json.loads(typed.stdout) == json.loads(
        _run(store_dir, monkeypatch, "recommend", V1, "--format", "json").stdout)
    r = _run(store_dir, monkeypatch, "similar", "219001")  # a county: a usage mistake, said as such
    assert r.exit_code == 2 and "a county, not a village-level unit" in r.stderr and "12-digit" in r.stderr
    assert "no identified needs" not in r.stderr
    r = _run(store_dir, monkeypatch, "recommend", V1, "--real-only")  # it printed "(no rows)" and no reason
    assert r.exit_code == 0 and "(no rows)" in r.stdout
    assert "has no real needs recorded as of" in r.stderr and "dcpa template" in r.stderr and "dcpa import" in r.stderr
    r = _run(store_dir, monkeypatch, "similar", V1, "--real-only")  # no real needs: an empty answer that says why
    assert r.exit_code == 0 and "no real needs recorded yet" in r.stderr and "还没有真实需求记录" in r.stderr


def test_plan_reads_a_budget_as_a_planner_writes_it(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--budget was a float: 0.5万 or 5,000 was a usage error in English alone; it reads as the plan page reads."""
    want = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190", "--format", "csv").stdout
    for typed in ("0.5万", "5,000", "５０００元"):
        r = _run(store_dir, monkeypatch, "plan", "--budget", typed, "--area", "2190", "--format", "csv")
        assert r.exit_code == 0 and r.stdout == want, (typed, r.output)
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5,0", "--area", "2190")
    assert r.exit_code == 2 and r.stdout == ""
    assert "预算“5,0”中的逗号不是每三位一组的千位分隔" in r.stderr and "a comma may only group thousands" in r.stderr


def test_plan_says_its_head_in_the_answer_s_language(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dcpa plan said only "spent 4,900 of 5,000 yuan; …" in English: not the area it read (21 90), the day, or
    what is left; it now says the head of the plan page and workbook, in the answer's language."""
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "21 90")
    assert r.exit_code == 0 and "spent" not in r.stderr
    for line in ("区域：示例·甲市 (2190)", "预算（元）：5,000", "剩余（元）：", "仍未满足：",
                 "方案好坏：这是最好的方案"):
        assert line in r.stderr, line
    assert r.stderr.count("依据示例数据") == 1  # the data basis once, in both languages
    en = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190", "--lang", "en").stderr
    assert "Area: Example: City A (2190)" in en and "Left (yuan): " in en and "区域" not in en


def test_a_csv_file_written_with_o_opens_in_excel(store_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """dcpa gaps|plan|query --format csv > file.csv opened garbled in Excel and WPS (no BOM: read as GBK), where
    the API's downloads have one; -o FILE writes the same table with a BOM (CRLF, as the downloads), stdout stays
    plain for pipes, and a CSV sent to a file by > says how to get one Excel reads."""
    for args in (("gaps", "--area", "2190"), ("plan", "--budget", "5000", "--area", "2190"),
                 ("query", "needs_by_evidence", "--param", "area=219002")):
        plain = _run(store_dir, monkeypatch, *args, "--format", "csv")
        out = tmp_path / f"{args[0]}.csv"
        r = _run(store_dir, monkeypatch, *args, "--format", "csv", "-o", str(out))
        assert r.exit_code == 0 and r.stdout == "" and f"wrote {out}" in r.stderr, r.output
        data = out.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and not plain.stdout.startswith("\ufeff")
        assert data[3:].decode("utf-8").replace("\r\n", "\n") == plain.stdout and plain.stdout.count("\n") > 1
    j = tmp_path / "plan.json"
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190", "--format", "json", "-o", str(j))
    assert r.exit_code == 0 and json.loads(j.read_text(encoding="utf-8"))["allocations"]


def test_csv_sent_to_a_file_by_a_redirect_says_how_to_open_it_in_excel(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kg.cli._app import emit_rows

    with (tmp_path / "gaps.csv").open("w", encoding="utf-8") as f:
        monkeypatch.setattr("sys.stdout", f)
        emit_rows([{"label": "辽宁省"}], "csv", offers_o=True)
    assert "请改用 -o 文件名.csv" in capsys.readouterr().err
    assert (tmp_path / "gaps.csv").read_text(encoding="utf-8") == "label\n辽宁省\n"  # the data as it was
    monkeypatch.undo()
    emit_rows([{"label": "辽宁省"}], "csv", offers_o=True)  # a pipe or a terminal: nothing more
    assert "-o" not in capsys.readouterr().err


def test_recommend_for_a_county_lists_every_village(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A county's code: a row per village, need and candidate, each village as `dcpa recommend VILLAGE` has it."""
    r = _run(store_dir, monkeypatch, "recommend", "219001", "--format", "json")
    assert r.exit_code == 0, r.output
    whole = json.loads(r.stdout)
    assert [v["village"]["code"] for v in whole["villages"]] == [V1, V2, V3]
    for v in whole["villages"]:
        one = _run(store_dir, monkeypatch, "recommend", v["village"]["code"], "--format", "json")
        assert json.loads(one.stdout) == v
    r = _run(store_dir, monkeypatch, "recommend", "219001", "--format", "csv")
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("village,need_type,")
    assert {line.split(",")[0] for line in r.stdout.splitlines()[1:]} == {V1, V2, V3}
    assert "3 village(s) with needs left open" in r.stderr
    r = _run(store_dir, monkeypatch, "recommend", "2190")
    assert r.exit_code == 2 and "county by county" in r.stderr


#: The validity windows `dcpa derive` makes the graph with by default, as the graph records them.
WINDOWS = "C1=24,C2=60,C3=36,C4=60"


def test_stats_says_a_graph_made_with_other_validity_windows_is_not_what_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under another DCPA_VALIDITY_MONTHS every answer applies the rule live (the graph was made with other
    windows), but `dcpa stats` and /api/stats called the graph current: now not current, and why."""
    path = _store_without_derived_graph(tmp_path / "store")
    monkeypatch.setenv("DCPA_AS_OF", "2020-06-30")
    assert _run(path, monkeypatch, "derive").exit_code == 0
    monkeypatch.setenv("DCPA_VALIDITY_MONTHS", "C1=1,C2=1,C3=1,C4=1")
    r = _run(path, monkeypatch, "stats", "--format", "json")
    derived = json.loads(r.stdout)["summary"]["derived"]
    assert (derived["current"], derived["windows"], derived["other_windows"]) == (False, WINDOWS, True)
    said = _run(path, monkeypatch, "stats").stdout
    assert f"按另一组有效期（{WINDOWS}）生成" in said and f"made with other validity windows ({WINDOWS})" in said
    assert ": current" not in said
    monkeypatch.delenv("DCPA_VALIDITY_MONTHS")
    assert "stable until 2021-10-02: current" in _run(path, monkeypatch, "stats").stdout


def test_derive_makes_the_queries_on_the_derived_graph_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store loaded without its derived graph: the query says what to do, `dcpa derive` does it."""
    path = _store_without_derived_graph(tmp_path / "store")
    r = _run(path, monkeypatch, "query", "needs_of_village", "--param", f"village={V1}", "--format", "json")
    assert r.exit_code == 2
    assert "derived graph" in r.stderr and "dcpa derive" in r.stderr
    assert "no derived graph: answers apply the rule live" in _run(path, monkeypatch, "stats").stdout
    r = _run(path, monkeypatch, "derive", "--as-of", "2020-06-30")
    assert r.exit_code == 0, r.output
    assert "12 need(s)" in r.stderr and "as of 2020-06-30, stable until 2021-10-02" in r.stderr
    monkeypatch.setenv("DCPA_AS_OF", "2020-06-30")
    assert "derived graph as of 2020-06-30, stable until 2021-10-02: current" in _run(path, monkeypatch, "stats").stdout
    monkeypatch.setenv("DCPA_AS_OF", "2021-10-02")  # the day an outcome changes
    r = _run(path, monkeypatch, "stats", "--format", "json")
    assert json.loads(r.stdout)["summary"]["derived"] == {"as_of": "2020-06-30", "stable_until": "2021-10-02",
                                                          "next_identified": None, "current": False,
                                                          "write_under_way": False, "windows": WINDOWS,
                                                          "other_windows": False}
    monkeypatch.delenv("DCPA_AS_OF")
    r = _run(path, monkeypatch, "query", "needs_of_village", "--param", f"village={V1}", "--format", "json")
    assert r.exit_code == 0, r.output
    states = {row["need"].rsplit("/", 1)[1]: row["state"].rsplit("/", 1)[1] for row in json.loads(r.stdout)}
    assert states == {"a": "NS2", "b": "NS3", "c": "NS3"}
    assert all(row["example"] for row in json.loads(r.stdout))
    assert "derived graph as of 2020-06-30" in r.stderr and "example data" in r.stderr
    r = _run(path, monkeypatch, "derive", "--as-of", "someday")
    assert r.exit_code == 2


def test_answers_state_their_basis_and_answer_real_only(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _run(store_dir, monkeypatch, "gaps", "--area", "2190", "--as-of", "2020-06-30")
    assert r.exit_code == 0, r.output
    assert "12 of 12 needs (100%) rest on example data" in r.stderr
    r = _run(store_dir, monkeypatch, "gaps", "--area", "2190", "--real-only", "--format", "json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["totals"]["needs"] == 0 and "dcpa import" in report["basis"]["note_en"]
    r = _run(store_dir, monkeypatch, "recommend", V1, "--poor-first", "--as-of", "2020-06-30", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["targeting"]["example_registration"] is True
    r = _run(store_dir, monkeypatch, "gaps", "--reach", "area,library")
    assert r.exit_code == 2 and "library" in r.stderr


def test_recommend_explains_in_the_answer_s_language(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps' predicates by their labels (the village page's words), not their English local names."""
    zh = _run(store_dir, monkeypatch, "recommend", V1, "--format", "csv")
    en = _run(store_dir, monkeypatch, "recommend", V1, "--format", "csv", "--lang", "en")
    assert zh.exit_code == 0 and en.exit_code == 0, zh.output + en.output
    assert " serves " not in zh.stdout and " 服务区域 " in zh.stdout
    assert " serves " in en.stdout and "RM3" not in zh.stdout + en.stdout


def test_a_plan_is_summed_up_in_its_language(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dcpa plan` headed its table with an English line ("spent 5,000 of 5,000 yuan; …") whatever --lang said,
    and the table with the columns' keys: it now heads it as the plan page and the workbook do, in the plan's
    language: budget, spent, needs met, how far from the best plan, the day; the table headed in that language."""
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190")
    assert r.exit_code == 0, r.output
    assert "spent " not in r.stderr and "预算（元）：5,000" in r.stderr and "满足的需求：" in r.stderr
    assert "方案好坏：这是最好的方案" in r.stderr
    assert r.stdout.splitlines()[0].startswith("村代码") and "给什么（资源）" in r.stdout.splitlines()[0]
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190", "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "Budget (yuan): 5,000" in r.stderr and "How good: " in r.stderr and "预算" not in r.stderr
    assert r.stdout.splitlines()[0].startswith("village code")
    r = _run(store_dir, monkeypatch, "plan", "--budget", "5000", "--area", "2190", "--format", "csv")
    assert r.stdout.splitlines()[0].startswith("village_code,village,resource")  # scripts read the keys


def test_what_the_answers_commands_report_is_said_in_chinese(store_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path,
                                                              lines_chinese_first: Callable[[str], None]) -> None:
    """The line a gap report, a recommendation, a query, a search or a view leads or ends with ("as of …: 12 needs,
    …", "… village(s) with needs left open", "(showing the first 1 rows)", "3 match(es); 3 shown", "wrote …") was
    English alone whatever --lang said."""
    for args in (["gaps", "--area", "2190"], ["recommend", V1], ["recommend", "219001"],
                 ["query", "needs_by_evidence", "--param", "area=219002", "--limit", "1"], ["search", "2190"],
                 ["viz", "village", V1, "-o", str(tmp_path / "v.html")]):
        r = _run(store_dir, monkeypatch, *args)
        assert r.exit_code == 0, (args, r.output)
        lines_chinese_first(r.stderr)
