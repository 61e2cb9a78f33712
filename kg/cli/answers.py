"""``dcpa query|search|recommend|gaps|plan|similar``: the answers, on the command line.

These commands only parse options and format results; the work is in
``kg.catalogue``, ``kg.matching`` and ``kg.planning``. Every answer ends with its data basis
(how much rests on example data) on stderr; ``--real-only`` answers from real data alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from ..answers.basis import Basis
from ..answers.gaps import GapDimension
from ..answers.plan import PlanMethod
from ..answers.recommend import (
    CANDIDATES_PER_NEED,
    MAX_CANDIDATES,
    NO_CANDIDATE,
    explanation_labels,
    explanation_name,
)
from ..catalogue import answer, load_catalogue, params_of
from ..codes import normal_code
from ..connect import read_only_or_writable
from ..contract import StoreAPI
from ..errors import DcpaError, InvalidParameter
from ..matching import gaps as run_gaps
from ..matching import recommend as run_recommend
from ..matching import recommend_within as run_recommend_within
from ..matching import similar as run_similar
from ..planning import ALLOCATION_COLUMNS, allocation_rows, read_budget, summary_rows
from ..planning import plan as run_plan
from ..rule import ReachMode
from ..search import AreaLevel, blank
from ..search import search as run_search
from ..settings import get_settings
from ._app import (
    FORMATS_TEXT,
    Command,
    FormatOption,
    LangOption,
    OutputOption,
    app,
    emit_rows,
    err,
    fail,
    parse_day,
    usage,
    write_json,
)

ReachOption = Annotated[
    str | None,
    typer.Option("--reach", help="计为“已解决”的覆盖方式：逗号分隔的 " + "、".join(m.value for m in ReachMode)
                 + "（默认：DCPA_REACH） / Reach modes that count for \"addressed\": comma list of "
                 + ", ".join(m.value for m in ReachMode) + " (default: DCPA_REACH)."),
]
RealOnlyOption = Annotated[bool, typer.Option("--real-only", help="只按真实数据回答（不含示例数据） / Answer from "
                                                                 "real data alone (no example data).")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="答案对应的日期，YYYY-MM-DD"
                                                "（默认：DCPA_AS_OF 或今天） / Date the answer is for, YYYY-MM-DD "
                                                "(default: DCPA_AS_OF or today).")]


@contextmanager
def _store() -> Iterator[StoreAPI]:
    """The configured store, read-only when Oxigraph allows it (so a running server is no obstacle)."""
    yield read_only_or_writable(get_settings())


def _emit_json(obj: Any, output: Path | None = None) -> None:
    write_json(obj, output, default=str)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json", "csv"):
        raise usage(f"未知的格式 {fmt!r}；{FORMATS_TEXT[0]}", f"unknown format {fmt!r}; {FORMATS_TEXT[1]}")


def _day(text: str | None) -> date | None:
    return parse_day(text)


def _basis(b: Basis, lang: str = "zh") -> None:
    """The data basis, in the answer's language first and then the other (stderr)."""
    err(b.note_zh if lang == "zh" else b.note_en)
    err(b.note_en if lang == "zh" else b.note_zh)


@app.command("query", cls=Command)
def query_cmd(
    name: Annotated[str | None, typer.Argument(help="查询目录中的查询名（见 --list） / Name of a catalogue query "
                                                        "(see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p",
                                                    help="参数，写成 key=value / A parameter as key=value.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="列出查询目录 / List the query catalogue.")] = False,
    limit: Annotated[int | None, typer.Option(help="最多读取的行数 / Read at most this many rows.")] = None,
    real_only: RealOnlyOption = False,
    fmt: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """运行查询目录中的命名查询（queries/*.rq）；每行注明是否依据示例数据 /
    Run a named query of the catalogue (queries/*.rq); each row says whether it rests on example data.

    示例 / Examples: dcpa query --list ; dcpa query needs_by_type --param area=2101 --format csv
    """
    _check_format(fmt)
    try:
        if list_ or not name:
            rows = [
                {"name": q.name, "title_zh": q.title_zh, "title_en": q.title_en,
                 "parameters": ", ".join(f"{p.name}={p.default}" for p in q.parameters),
                 "faster": q.faster or "", "cost": q.cost}
                for q in load_catalogue().values()
            ]
            # the cost is a sentence: in JSON and CSV, not in the table
            emit_rows(rows, fmt, ["name", "title_zh", "title_en", "parameters", "faster"] +
                      (["cost"] if fmt != "table" else []), output=output, offers_o=True)
            return
        pairs: list[tuple[str, str]] = []
        for item in param or []:
            if "=" not in item:
                raise InvalidParameter(f"--param {item!r} 的格式不对 / bad --param {item!r}",
                                       hint="请写成 --param 名称=值 / write --param key=value")
            k, v = item.split("=", 1)
            pairs.append((k.strip(), v))
        params = params_of(pairs)
        with _store() as store:
            res = answer(store, name, params, limit=limit or get_settings().max_rows, real_only=real_only)
        if res.truncated:
            err(f"（只显示前 {len(res.rows)} 行） / (showing the first {len(res.rows)} rows)")
        marked: list[dict[str, Any]] = [{**r, "example": f} for r, f in zip(res.rows, res.example, strict=True)]
        emit_rows(marked, fmt, [*res.columns, "example"], output=output, offers_o=True)
        if res.derived_as_of:
            err(f"派生图截至 {res.derived_as_of} / derived graph as of {res.derived_as_of}")
        for note in res.notes:
            err(note)
        _basis(res.basis)
    except DcpaError as e:
        raise fail(e) from e


@app.command("search", cls=Command)
def search_cmd(
    q: Annotated[str, typer.Argument(help="名称或其一部分、拼音（全拼或首字母）或代码前缀；后面的词按地点缩小范围 / "
                                          "A name or part of it, pinyin (full or initials) or a code prefix; "
                                          "further words narrow by place.")],
    level: Annotated[list[AreaLevel] | None, typer.Option(
        "--level", help="只要这一级（可重复） / Only this level (repeatable).")] = None,
    limit: Annotated[int, typer.Option(help="返回多少条 / How many hits.", min=1, max=1000)] = 20,
    fmt: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """按名称、拼音或代码查找地区和村，排好序，并列出所属地区 /
    Find areas and villages by name, pinyin or code, ranked, with the areas that contain them.

    示例 / Example: dcpa search "新民 沈北"
    """
    _check_format(fmt)
    if blank(q):  # as /api/areas?q= does: an empty search would list every area of the country
        raise usage("请给出名称、拼音或代码的开头", "give a name, pinyin or the start of a code to search for",
                    param_hint="Q")
    try:
        with _store() as store:
            found = run_search(store, q, levels=level, limit=limit)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json({"total": found.total, "read_as": found.read_as, "items": [h.to_dict() for h in found.hits]},
                   output)
        return
    rows = [{"code": h.place.code, "name": h.place.name, "pinyin": h.place.pinyin, "level": h.place.level.value,
             "match": h.match, "within": " / ".join(w.name for w in h.within)} for h in found.hits]
    emit_rows(rows, fmt, ["code", "name", "pinyin", "level", "match", "within"], output=output, offers_o=True)
    if found.read_as:
        err(f"按简体“{found.read_as}”搜索（所输入的没有结果） / searched as {found.read_as} in simplified characters "
            "(nothing matched as typed)")
    err(f"找到 {found.total} 个，显示 {len(found.hits)} 个 / {found.total} match(es); {len(found.hits)} shown")


@app.command(cls=Command)
def recommend(
    code: Annotated[str, typer.Argument(help="村级单位的 12 位代码；或县（6 位）、乡镇（9 位）的代码："
                                        "其中每个仍有需求未满足的村 / "
                                        "12-digit code of the village-level unit; or a county's (6 digits) or "
                                        "township's (9): each of its villages with a need left open.")],
    limit: Annotated[int, typer.Option(help="每项需求的候选数 / Candidates per need.", min=1,
                                       max=MAX_CANDIDATES)] = CANDIDATES_PER_NEED,
    reach: ReachOption = None,
    poor_first: Annotated[bool, typer.Option("--poor-first", help="精准扶贫：与村的致贫原因相关的需求优先 / "
                                             "Poverty targeting: needs linked to the village's poverty causes "
                                             "first.")] = False,
    real_only: RealOnlyOption = False,
    as_of: AsOfOption = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """为村里未满足的需求排出资源和干预措施，并说明理由 /
    Rank resources and interventions for a village's unmet needs, with the reasons.

    示例 / Example: dcpa recommend 211381107200 --format json; dcpa recommend 211381 --format csv (every village)
    """
    _check_format(fmt)
    many = len(normal_code(code)) != 12  # a village's code as typed (２１…, a pasted zero-width space) is one village
    kw: dict[str, Any] = {"limit": limit, "reach": reach, "poor_first": poor_first, "real_only": real_only,
                          "as_of": _day(as_of), "lang": lang}
    try:
        with _store() as store:
            found = run_recommend_within(store, code, **kw) if many else None
            reps = found.villages if found is not None else [run_recommend(store, code, **kw)]
            # the predicates of the explanations by their labels, in the answer's language, as the village page
            names = explanation_labels(store, reps) if fmt != "json" else {}
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(found.to_dict() if found is not None else reps[0].to_dict(), output)
        return
    rows = []
    for rep in reps:
        at = {"village": rep.village.code} if many else {}
        for n in rep.needs:
            for rank, c in enumerate(n.candidates, start=1):
                rows.append({
                    **at, "need_type": n.need_type_label or n.need_type, "severity": n.severity, "state": n.state,
                    "rank": rank, "kind": c.kind, "candidate": c.label or c.iri,
                    "library": c.library_label or c.library, "fit": c.fit, "score": c.score,
                    "unit_cost": c.unit_cost, "example": c.example,
                    "why": " → ".join(f"{s.subject_label or s.subject.rsplit('/', 1)[-1]} "
                                      f"{explanation_name(s.predicate, names, lang)} "
                                      f"{s.object_label or s.object.rsplit('/', 1)[-1]}" for s in c.explanation),
                })
            if not n.candidates:
                rows.append({**at, "need_type": n.need_type_label or n.need_type, "severity": n.severity,
                             "state": n.state, "candidate": NO_CANDIDATE})
        if not many:
            err(f"{rep.village.label.get('zh')}（{rep.village.code}），截至 {rep.as_of}：{len(rep.addressed)} 条需求"
                f"已满足，{len(rep.needs)} 条未满足（到达方式 {','.join(rep.reach)}） / "
                f"{rep.village.label.get('en')} ({rep.village.code}), as of {rep.as_of}: {len(rep.addressed)} "
                f"need(s) addressed, {len(rep.needs)} unmet (reach {','.join(rep.reach)})")
        for note in rep.notes:
            err(note)
    if found is not None:
        unmet = sum(len(r.needs) for r in reps)
        err(f"{found.area.label.get('zh')}（{found.area.code}）：{len(reps)} 个村仍有未满足的需求，共 {unmet} 条 / "
            f"{found.area.label.get('en')} ({found.area.code}): {len(reps)} village(s) with needs left open, "
            f"{unmet} unmet need(s)")
    emit_rows(rows, fmt, [*(["village"] if many else []), "need_type", "severity", "state", "rank", "kind",
                          "candidate", "library", "fit", "score", "unit_cost", "example", "why"],
              output=output, offers_o=True)
    _basis(found.basis if found is not None else reps[0].basis, lang)


@app.command(cls=Command)
def gaps(
    area: Annotated[str | None, typer.Option("--area", help="地区代码（默认：全部；按地区分组时为全省各市） / "
                                             "Area code (default: everything; by area, the province's "
                                             "cities).")] = None,
    by: Annotated[str, typer.Option("--by", help="分组方式：" + "、".join(d.value for d in GapDimension)
                                    + " / How to group: " + ", ".join(d.value for d in GapDimension) + ".")] = "area",
    start: Annotated[str | None, typer.Option(help="时期开始日期 YYYY-MM-DD（与 --end 一起用） / "
                                                  "Period start YYYY-MM-DD (with --end).")] = None,
    end: Annotated[str | None, typer.Option(help="时期结束日期 YYYY-MM-DD（与 --start 一起用） / "
                                                "Period end YYYY-MM-DD (with --start).")] = None,
    need_type: Annotated[str | None, typer.Option("--need-type", help="只要此需求类型及其下位类型（代码：N1、N22…） / "
                                                  "Only this need type and its narrower types (a code: N1, "
                                                  "N22…).")] = None,
    min_severity: Annotated[int | None, typer.Option("--min-severity", min=1, max=5,
                                                     help="只要严重程度不低于此值的需求（1–5） / "
                                                          "Only needs at least this severe (1–5).")] = None,
    reach: ReachOption = None,
    real_only: RealOnlyOption = False,
    as_of: AsOfOption = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """未解决的需求，分组以便逐级查看（省 → 市 → … → 村） /
    Unaddressed needs, grouped for drill-down (province → cities → … → villages).

    示例 / Examples: dcpa gaps --area 21 ; dcpa gaps --area 2101 --by need_type --format csv -o gaps.csv (for Excel)
    """
    _check_format(fmt)
    try:
        if (start is None) != (end is None):
            raise InvalidParameter("请同时给出 --start 和 --end，或都不给 / give both --start and --end, or neither",
                                   hint="例如 --start 2018-01-01 --end 2018-12-31 / "
                                        "e.g. --start 2018-01-01 --end 2018-12-31")
        period = (start, end) if start and end else None
        with _store() as store:
            rep = run_gaps(store, area, by=by, period=period, reach=reach, real_only=real_only, as_of=_day(as_of),
                           need_type=need_type, min_severity=min_severity)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(rep.to_dict(), output)
        return
    t = rep.totals
    # which area it read and for which day (it said it in English alone, and named no area)
    zh_where = f"{rep.area.label.get('zh')}（{rep.area.code}）" if rep.area else "全部"
    en_where = f"{rep.area.label.get('en')} ({rep.area.code})" if rep.area else "everywhere"
    err(f"{zh_where}，截至 {rep.as_of}：{t.needs} 条需求，{t.addressed} 条已满足，{t.unverified} 条未经验证，"
        f"{t.unaddressed} 条未满足（{t.unaddressed_share:.1%}） / "
        f"{en_where}, as of {rep.as_of}: {t.needs} needs, {t.addressed} addressed, {t.unverified} not verified, "
        f"{t.unaddressed} unaddressed ({t.unaddressed_share:.1%})")
    rows = [dict(g.to_dict(), label=g.label.get(lang) if g.label else None) for g in rep.groups]
    emit_rows(rows, fmt, ["code", "label", "needs", "addressed", "unverified", "unaddressed", "unaddressed_share",
                          "severe_unaddressed", "people_unaddressed", "example_needs"], output=output, offers_o=True)
    for note in rep.notes:
        err(note)
    _basis(rep.basis, lang)


@app.command(cls=Command)
def plan(
    budget: Annotated[str, typer.Option("--budget", help="预算（元），可写成 200000、200,000、20万、1.5万、200000元 / "
                                        "Budget in yuan, as written: 200000, 200,000, 20万, 1.5万, 200000元.")],
    area: Annotated[str | None, typer.Option("--area",
                                             help="地区代码（默认：全部） / Area code (default: everything).")] = None,
    method: Annotated[str, typer.Option(help="求解方法：" + "、".join(m.value for m in PlanMethod)
                                  + " / How to solve: " + ", ".join(m.value for m in PlanMethod) + ".")] = "auto",
    reach: ReachOption = None,
    poor_first: Annotated[bool, typer.Option("--poor-first", help="精准扶贫：加重登记贫困村及与其致贫原因相关的需求 / "
                                             "Poverty targeting: weigh registered poor villages and needs linked to "
                                             "their poverty causes more.")] = False,
    real_only: RealOnlyOption = False,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """在预算内选择哪些村获得哪些资源（使覆盖的加权需求最大） /
    Choose which villages get which resources within a budget (maximises covered, weighted need).

    示例 / Example: dcpa plan --budget 20万 --area 211381
    """
    _check_format(fmt)
    try:
        amount = read_budget(budget)  # as the plan page and the API read it
        with _store() as store:
            p = run_plan(store, amount, area, method=method, reach=reach, poor_first=poor_first,
                         real_only=real_only, lang=lang)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(p.to_dict(), output)
        return
    # the head of the plan page and of its workbook, in the answer's language (an English line alone was all a
    # planner read: which area, for which day, what is left); the data basis follows in both languages
    for what, value in summary_rows(p, lang, basis=False):
        err(f"{what}：{value}" if lang == "zh" else f"{what}: {value}")
    i = 0 if lang == "zh" else 1
    emit_rows(allocation_rows(p, lang), fmt, list(ALLOCATION_COLUMNS), output=output,
              heads=[h[i] for h in ALLOCATION_COLUMNS.values()], offers_o=True)
    _basis(p.basis, lang)


@app.command(cls=Command)
def similar(
    code: Annotated[str, typer.Argument(help="村级单位的 12 位代码 / 12-digit code of the village-level unit.")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="返回多少个村 / How many villages.")] = 10,
    within: Annotated[str | None, typer.Option(help="在此地区内比较（默认：所在市） / Compare within this area "
                                                       "(default: its city).")] = None,
    real_only: RealOnlyOption = False,
    as_of: AsOfOption = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
    output: OutputOption = None,
) -> None:
    """需求构成最相似的村（按当日已知的需求），以及那里有效的做法 /
    Villages with the most similar need profile (of the needs known on the day), and what worked there.

    示例 / Example: dcpa similar 211381107200 ; dcpa similar 211381107200 --as-of 2020-06-30
    """
    _check_format(fmt)
    try:
        with _store() as store:
            res = run_similar(store, code, limit=limit, within=within, real_only=real_only, lang=lang,
                              as_of=_day(as_of))
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(res.to_dict(), output)
        return
    rows = [{"code": r.code, "label": r.label, "similarity": r.similarity, "example": r.example,
             "shared_need_types": ", ".join(r.shared_need_types),
             "what_worked": ", ".join(sorted({w["intervention_label"] or w["intervention"] for w in r.what_worked}))}
            for r in res.items]
    emit_rows(rows, fmt, ["code", "label", "similarity", "example", "shared_need_types", "what_worked"],
              output=output, offers_o=True)
    for note in res.notes:
        err(note)
    _basis(res.basis, lang)
