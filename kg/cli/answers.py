"""``dcpa query|recommend|gaps|plan|similar``: the answers, on the command line.

These commands only parse options and format results; the work is in
``kg.catalogue``, ``kg.matching`` and ``kg.planning``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from ..errors import DataError, DcpaError, StoreError
from ..settings import get_settings
from ..store import Store
from ._app import FormatOption, app, emit_rows, err, fail, write_json

ReachOption = Annotated[
    str | None,
    typer.Option("--reach", help="Reach rule: comma list of direct, area, library (default: DCPA_REACH)."),
]
LangOption = Annotated[str, typer.Option("--lang", help="Language of labels: zh or en.")]


@contextmanager
def _store() -> Iterator[Store]:
    """The configured store, read-only when Oxigraph allows it (so a running server is no obstacle)."""
    path = get_settings().store_path
    try:
        store = Store.open(path, read_only=True, create=False)
    except StoreError:
        store = Store.open(path, create=False)
    yield store


def _emit_json(obj: Any) -> None:
    write_json(obj, default=str)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter(f"unknown format {fmt!r}; use table, json or csv")


@app.command("query")
def query_cmd(
    name: Annotated[str | None, typer.Argument(help="Name of a catalogue query (see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="A parameter as key=value.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the query catalogue.")] = False,
    limit: Annotated[int | None, typer.Option(help="Read at most this many rows.")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Run a named query of the catalogue (queries/*.rq).

    Examples: dcpa query --list ; dcpa query needs_by_type --param area=2101 --format csv
    """
    from ..catalogue import load_catalogue, run_query

    _check_format(fmt)
    try:
        if list_ or not name:
            rows = [
                {"name": q.name, "title_zh": q.title_zh, "title_en": q.title_en,
                 "parameters": ", ".join(f"{p.name}={p.default}" for p in q.parameters)}
                for q in load_catalogue().values()
            ]
            emit_rows(rows, fmt, ["name", "title_zh", "title_en", "parameters"])
            return
        params: dict[str, str] = {}
        for item in param or []:
            if "=" not in item:
                raise DataError(f"bad --param {item!r}", hint="write --param key=value")
            k, v = item.split("=", 1)
            params[k.strip()] = v
        with _store() as store:
            res = run_query(store, name, params, limit=limit or get_settings().max_rows)
        if res.truncated:
            err(f"(showing the first {len(res.rows)} rows)")
        emit_rows(res.rows, fmt, res.columns)
    except DcpaError as e:
        raise fail(e) from e


@app.command()
def recommend(
    code: Annotated[str, typer.Argument(help="12-digit code of the village-level unit.")],
    limit: Annotated[int, typer.Option(help="Candidates per need.")] = 5,
    reach: ReachOption = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
) -> None:
    """Rank resources and interventions for a village's unaddressed needs, with the reasons.

    Example: dcpa recommend 210102001002 --format json
    """
    from ..matching import recommend as run

    _check_format(fmt)
    try:
        with _store() as store:
            rep = run(store, code, limit=limit, reach=reach, lang=lang)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(rep.to_dict())
        return
    rows = []
    for n in rep.needs:
        for rank, c in enumerate(n.candidates, start=1):
            rows.append({
                "need_type": n.need_type_label or n.need_type, "severity": n.severity, "rank": rank,
                "kind": c.kind, "candidate": c.label or c.iri, "library": c.library_label or c.library,
                "fit": c.fit, "score": c.score, "unit_cost": c.unit_cost,
                "why": " → ".join(f"{s.subject_label or s.subject.rsplit('/', 1)[-1]} "
                                  f"{s.predicate.rsplit('#', 1)[-1].rsplit('/', 1)[-1]} "
                                  f"{s.object_label or s.object.rsplit('/', 1)[-1]}" for s in c.explanation),
            })
        if not n.candidates:
            rows.append({"need_type": n.need_type_label or n.need_type, "severity": n.severity,
                         "candidate": "(no candidate within reach)"})
    err(f"{rep.village.label or rep.village.code}: {len(rep.addressed)} need(s) addressed, "
        f"{len(rep.needs)} unaddressed (reach {','.join(rep.reach)})")
    emit_rows(rows, fmt, ["need_type", "severity", "rank", "kind", "candidate", "library", "fit", "score",
                          "unit_cost", "why"])


@app.command()
def gaps(
    area: Annotated[str | None, typer.Option("--area", help="Area code (default: everything).")] = None,
    by: Annotated[str, typer.Option("--by", help="area, need_type, category or severity.")] = "area",
    start: Annotated[str | None, typer.Option(help="Period start YYYY-MM-DD (with --end).")] = None,
    end: Annotated[str | None, typer.Option(help="Period end YYYY-MM-DD (with --start).")] = None,
    reach: ReachOption = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
) -> None:
    """Unaddressed needs, grouped for drill-down (province → cities → … → villages).

    Examples: dcpa gaps --area 21 ; dcpa gaps --area 2101 --by need_type --format csv
    """
    from ..matching import gaps as run

    _check_format(fmt)
    try:
        if (start is None) != (end is None):
            raise DataError("give both --start and --end, or neither", hint="e.g. --start 2018-01-01 --end 2018-12-31")
        period = (start, end) if start and end else None
        with _store() as store:
            rep = run(store, area, by=by, period=period, reach=reach, lang=lang)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(rep.to_dict())
        return
    t = rep.totals
    err(f"{t['needs']} needs, {t['addressed']} addressed, {t['unaddressed']} unaddressed "
        f"({t['unaddressed_share']:.1%}; severity-weighted {t['severity_weighted_unaddressed_share']:.1%})")
    emit_rows([{k: v for k, v in g.__dict__.items()} for g in rep.groups], fmt,
              ["code", "label", "needs", "addressed", "unaddressed", "unaddressed_share", "severity_total",
               "severity_unaddressed"])


@app.command()
def plan(
    budget: Annotated[float, typer.Option("--budget", help="Budget in yuan.")],
    area: Annotated[str | None, typer.Option("--area", help="Area code (default: everything).")] = None,
    method: Annotated[str, typer.Option(help="auto, exact or greedy.")] = "auto",
    reach: ReachOption = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
) -> None:
    """Choose which villages get which resources within a budget (maximises covered severity).

    Example: dcpa plan --budget 200000 --area 210124
    """
    from ..planning import plan as run

    _check_format(fmt)
    try:
        with _store() as store:
            p = run(store, budget, area, method=method, reach=reach, lang=lang)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json(p.to_dict())
        return
    err(f"{p.method}: spent {p.spent:.0f} of {p.budget:.0f}; covered severity {p.covered_severity} of "
        f"{p.unaddressed_severity} (upper bound {p.upper_bound}, gap {p.optimality_gap:.1%}); "
        f"{p.totals['uncovered_needs']} need(s) stay uncovered")
    rows = [{"village": a.village, "village_label": a.village_label, "resource": a.resource_label or a.resource,
             "library": a.library_label, "cost": a.cost, "covered_severity": a.covered_severity,
             "needs": ", ".join(n["need_type_label"] or n["need_type"] for n in a.needs_covered)}
            for a in p.allocations]
    emit_rows(rows, fmt, ["village", "village_label", "resource", "library", "cost", "covered_severity", "needs"])


@app.command()
def similar(
    code: Annotated[str, typer.Argument(help="12-digit code of the village-level unit.")],
    limit: Annotated[int, typer.Option(help="How many villages.")] = 10,
    within: Annotated[str | None, typer.Option(help="Compare within this area (default: its city).")] = None,
    lang: LangOption = "zh",
    fmt: FormatOption = "table",
) -> None:
    """Villages with the most similar need profile, and what worked there.

    Example: dcpa similar 210102001002
    """
    from ..matching import similar as run

    _check_format(fmt)
    try:
        with _store() as store:
            res = run(store, code, limit=limit, within=within, lang=lang)
    except DcpaError as e:
        raise fail(e) from e
    if fmt == "json":
        _emit_json([r.to_dict() for r in res])
        return
    rows = [{"code": r.code, "label": r.label, "similarity": r.similarity,
             "shared_need_types": ", ".join(r.shared_need_types),
             "what_worked": ", ".join(sorted({w["intervention_label"] or w["intervention"] for w in r.what_worked}))}
            for r in res]
    emit_rows(rows, fmt, ["code", "label", "similarity", "shared_need_types", "what_worked"])
