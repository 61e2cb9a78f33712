"""The query catalogue: named SPARQL queries in ``queries/NAME.rq`` and how to run them.

Each file starts with a comment header that says what the query is for, so that the
CLI, the API and the SPARQL editor can list and document it without a second file::

    # title_zh: 各类需求
    # title_en: Needs by type
    # description: What the villages of an area need, counted by need type.
    # question: Which needs do the villages of area X have, and how severe are they?
    # param: area | area:2,4,6,9 | 21 | code of the area (province, city, county or township)
    # uses: derived

An ``area`` parameter may name the levels it takes by their codes' lengths (``area:12``, a village; ``area:2,4,6``):
a code of another level is refused, where the query answered it with no rows (needs_by_type for a village, which
counts the villages within an area) or with rows about something else (village_interventions for a county).

``lists: a, b`` names the columns that are lists joined with `` | `` (``GROUP_CONCAT``): the runner sorts each
list, since SPARQL leaves a GROUP_CONCAT's order to the engine, and Oxigraph's follows how the store holds the
data, so the same store loaded from a dump answered ``志愿者 5 | 馆员 3`` where it had answered ``馆员 3 | 志愿者 5``.

``uses: derived`` says the query reads the derived graph (``kg.derived``); running it on a store
without one is an error rather than a silently wrong answer, and so is running it while a write is refreshing
that graph (``StoreBusy``: try again); its answer states the derived graph's date.

Every query also takes the reserved boolean ``?real_only`` (bound by the runner, never by users'
text): when true it leaves out example data (``dcpa:isSynthetic true``), so the same query answers
from real data alone. ``answer`` runs a query both ways to mark each row of the full answer that rests
on example data (it is not among the real-only rows) and to state the share of such rows.

Parameters are turned into typed RDF terms first (``to_term``: an area code, a notation, a checked IRI,
an integer, a literal), and those terms, serialised by Oxigraph, are written into the query's text
(``kg.inline``, which answers as SEP-0007 substitution does and is tested equal to it on every query), so
user input can never change the query. Oxigraph plans better around a constant it can see (below, in
``run_query``). Every parameter variable is projected by its query (substitution needs it, and so does a
remote store); ``run_query`` drops those columns from the result again.

A label is read in the language asked, else in Chinese: every label lookup of a query is one OPTIONAL for
``?lang`` followed by the same OPTIONAL for ``"zh"`` on the same variable, which binds only where the first left
it unbound. The reference data name areas in Chinese alone, so ``lang=en`` answered their rows without names.
Each OPTIONAL is an index lookup per row, never a scan (300,000 rows, half of them without an English label: 1.3 s
with one OPTIONAL, 1.5 s with the two, 2.8 s with a second variable and COALESCE).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import derived
from .answers.areas import resolve_area
from .answers.basis import Basis, basis
from .answers.labels import LANGS
from .codes import AREA_CODE_PATTERN, normal_code, normal_notation
from .contract import StoreAPI
from .errors import DataError, InvalidParameter, Issue, NotFound, StoreError
from .facts import code_of
from .inline import inline_bindings
from .namespaces import DCPAV, area
from .resources import QUERIES_DIR
from .rule import SEVERITY_MAX, SEVERITY_MIN
from .settings import Settings, get_settings
from .store import to_python
from .workers import submit_here

log = logging.getLogger(__name__)

#: Parameter types a query header may declare: what a value of each is, in Chinese and in English (the first
#: half of a hint whose second is the parameter's description: ``# param:`` lines are in English).
PARAM_TYPES: dict[str, tuple[str, str]] = {
    "string": ("一段文字", "a plain string literal"),
    "lang": ("标签的语言代码（zh 或 en）", "a language tag such as zh or en (plain literal, used with langMatches; a "
             "thing without a label in it is named in Chinese)"),
    "integer": ("一个整数", "an xsd:integer"),
    "severity": (f"需求的严重程度，{SEVERITY_MIN} 到 {SEVERITY_MAX} 的整数",
                 f"a need's severity, an integer from {SEVERITY_MIN} to {SEVERITY_MAX} (an xsd:integer)"),
    "decimal": ("一个数", "an xsd:decimal"),
    "date": ("日期（YYYY-MM-DD）", "an xsd:date (YYYY-MM-DD)"),
    "area": ("地区代码（2、4、6、9 或 12 位数字）", "an official area code (2, 4, 6, 9 or 12 digits) → the area's IRI"),
    "concept": ("概念代码，如 N22 或 C1",
                "a SKOS notation such as N22 or C1 → the concept's IRI in the DCPA vocabulary"),
    "iri": ("以 http:// 或 https:// 开头的完整 IRI", "an absolute IRI (http…)"),
}

_HEADER = re.compile(r"^#\s*([a-z_]+)\s*:\s*(.*)$")
#: The reserved boolean every query takes: true leaves out example data.
REAL_ONLY = "real_only"
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
#: The languages of the graph's labels: a ``lang`` parameter in another would answer every row without its labels.
LABEL_LANGUAGES = LANGS
_AREA_CODE = re.compile(AREA_CODE_PATTERN)
#: The lengths of the area codes: province, city, county, township, village-level unit.
_AREA_LEVELS = (2, 4, 6, 9, 12)
_NOTATION = re.compile(r"^[A-Z]{1,2}\d{1,3}$")
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: What joins the items of a ``# lists:`` column.
LIST_SEPARATOR = " | "


@dataclass(frozen=True)
class Param:
    """One declared parameter of a catalogue query."""

    name: str
    type: str
    default: str | None
    description: str
    #: The lengths of the area codes an ``area`` parameter takes (``area:12``); empty: every level.
    levels: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CatalogueQuery:
    """A named query of the catalogue with its documentation header."""

    name: str
    title_zh: str
    title_en: str
    description: str
    question: str
    parameters: list[Param] = field(default_factory=list)
    text: str = ""
    #: What the query needs beyond the data graphs (``derived``: the derived graph).
    uses: list[str] = field(default_factory=list)
    #: What it costs, measured (``# cost:``): said for the queries that scan a whole area.
    cost: str = ""
    #: A catalogue query answering the same counts from materialised data (``# faster:``).
    faster: str | None = None
    #: Columns that are `` | ``-joined lists (``# lists:``), sorted by the runner.
    lists: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["parameters"] = [p.to_dict() for p in self.parameters]
        return d

    def param(self, name: str) -> Param | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass
class QueryResult:
    """Rows of a SELECT as plain Python values; ``columns`` keeps the projection order."""

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "truncated": self.truncated}


def parse_query_file(path: Path) -> CatalogueQuery:
    """Read one ``.rq`` file and its header; a malformed header is a DataError naming the line."""
    text = path.read_text(encoding="utf-8-sig")
    meta: dict[str, list[str]] = {}
    params: list[Param] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "param":
            parts = [p.strip() for p in value.split("|")]
            kind, sep, levels = parts[1].partition(":") if len(parts) == 4 else ("", "", "")
            lengths = tuple(int(n) for n in levels.split(",") if n.strip().isdigit())
            if len(parts) != 4 or kind not in PARAM_TYPES or (sep and (
                    kind != "area" or not lengths or len(lengths) != len(levels.split(","))
                    or not set(lengths) <= set(_AREA_LEVELS))):
                # for developers: the package's own query files (kg/queries), checked when they are read
                raise DataError(
                    f"bad parameter line in {path.name}",
                    hint="write `# param: name | type | default | description` with type one of "
                    + ", ".join(PARAM_TYPES) + " (area:12 or area:2,4,6: an area of those code lengths alone)",
                    details=[Issue("bad parameter line", file=path.name, row=lineno, value=line).to_dict()],
                )
            params.append(Param(parts[0], kind, parts[2] or None, parts[3], lengths))
        else:
            meta.setdefault(key, []).append(value)
    missing = [k for k in ("title_zh", "title_en", "description", "question") if k not in meta]
    unknown_uses = {u.strip() for v in meta.get("uses", []) for u in v.split(",")} - {"derived"}
    if unknown_uses:
        # for developers: the package's own query files (kg/queries), checked when they are read
        raise DataError(
            f"{path.name} uses unknown part(s) {', '.join(sorted(unknown_uses))}",
            hint="the only `# uses:` value is derived",
        )
    if missing:
        # for developers: the package's own query files (kg/queries), checked when they are read
        raise DataError(
            f"{path.name} lacks header field(s) {', '.join(missing)}",
            hint="every catalogue query starts with # title_zh/title_en/description/question lines",
        )
    if not re.search(r"\?real_only\b", text.split("WHERE", 1)[0]):
        # for developers: the package's own query files (kg/queries), checked when they are read
        raise DataError(
            f"{path.name} does not project ?real_only",
            hint="every catalogue query projects ?real_only and leaves out example data when it is true",
        )
    lists = [c.strip() for v in meta.get("lists", []) for c in v.split(",") if c.strip()]
    unprojected = [c for c in lists if not re.search(rf"\?{re.escape(c)}\b", text.split("WHERE", 1)[0])]
    if unprojected:
        # for developers: the package's own query files (kg/queries), checked when they are read
        raise DataError(f"{path.name} lists column(s) it does not project: {', '.join(unprojected)}",
                        hint="`# lists:` names projected variables holding GROUP_CONCATs with separator \" | \"")
    return CatalogueQuery(
        name=path.stem,
        title_zh=" ".join(meta["title_zh"]),
        title_en=" ".join(meta["title_en"]),
        description=" ".join(meta["description"]),
        question=" ".join(meta["question"]),
        parameters=params,
        text=text,
        uses=sorted({u.strip() for v in meta.get("uses", []) for u in v.split(",") if u.strip()}),
        cost=" ".join(meta.get("cost", [])),
        faster=" ".join(meta["faster"]).strip() if meta.get("faster") else None,
        lists=lists,
    )


_CACHE: dict[Path, tuple[tuple[tuple[str, float], ...], dict[str, CatalogueQuery]]] = {}


def load_catalogue(directory: Path = QUERIES_DIR) -> dict[str, CatalogueQuery]:
    """All catalogue queries by name, sorted; re-read only when a file changed."""
    files = sorted(directory.glob("*.rq"))
    stamp = tuple((f.name, f.stat().st_mtime) for f in files)
    cached = _CACHE.get(directory)
    if cached and cached[0] == stamp:
        return dict(cached[1])
    catalogue = {f.stem: parse_query_file(f) for f in files}
    for q in catalogue.values():
        if q.faster is not None and q.faster not in catalogue:
            # for developers: the package's own query files (kg/queries), checked when they are read
            raise DataError(f"{q.name}.rq names a faster query {q.faster!r} that the catalogue lacks",
                            hint="`# faster:` names another .rq file of the catalogue, without .rq")
    _CACHE[directory] = (stamp, catalogue)
    return dict(catalogue)


def get_query(name: str, directory: Path = QUERIES_DIR) -> CatalogueQuery:
    """One query by name; NotFound lists the closest names."""
    catalogue = load_catalogue(directory)
    if name in catalogue:
        return catalogue[name]
    close = difflib.get_close_matches(name, list(catalogue), n=3)
    hint = (f"是不是要找 {', '.join(close)}？ / did you mean {', '.join(close)}?" if close
            else "运行 `dcpa query --list` 查看查询目录 / run `dcpa query --list` to see the catalogue")
    raise NotFound(f"查询目录中没有名为 {name!r} 的查询 / no catalogue query named {name!r}", hint=hint)


def _lengths(levels: tuple[int, ...]) -> tuple[str, str]:
    """``(2, 4, 6)`` in words: ``2、4 或 6`` and ``2, 4 or 6``."""
    words = [str(n) for n in levels]
    if len(words) == 1:
        return words[0], words[0]
    return "、".join(words[:-1]) + " 或 " + words[-1], ", ".join(words[:-1]) + " or " + words[-1]


def param_hint(param: Param) -> str:
    """What ``param`` takes, ``中文 / English``: its type's Chinese phrase, then its (English) description."""
    what = PARAM_TYPES[param.type][0]
    if param.levels:
        what = f"地区代码（{_lengths(param.levels)[0]} 位数字）"
    return f"{param.name}：{what} / {param.name}: {param.description}"


def to_term(param: Param, raw: str) -> ox.NamedNode | ox.Literal:
    """Turn a raw parameter string into the typed RDF term its declaration asks for."""
    value = raw.strip()

    def bad(zh: str, en: str) -> InvalidParameter:
        """The refusal of ``raw``, which is not what ``zh`` and ``en`` say the parameter takes."""
        return InvalidParameter(
            f"参数 {param.name}={raw!r} 不是{zh} / parameter {param.name}={raw!r} is not {en}",
            hint=param_hint(param),
            details=[Issue(f"应为{zh} / expected {en}", column=param.name, value=raw).to_dict()],
        )

    t = param.type
    if t in ("string", "lang"):
        if t == "lang" and not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*|\*", value):
            raise bad("语言代码（如 zh 或 en）", "a language tag such as zh or en")
        if t == "lang" and value != "*" and value.split("-")[0].lower() not in LABEL_LANGUAGES:
            langs = ", ".join(LABEL_LANGUAGES)
            raise bad(f"标签所用的语言（{langs}）：没有 {value!r} 语言的标签",
                      f"a language the labels are in ({langs}): no label is in {value!r}")
        return ox.Literal(value)
    if t in ("integer", "severity"):
        try:
            number = int(value)
        except ValueError:
            raise bad("整数", "an integer") from None
        if t == "severity" and not SEVERITY_MIN <= number <= SEVERITY_MAX:  # 9 would answer no rows, said nowhere
            raise bad(f" {SEVERITY_MIN} 到 {SEVERITY_MAX} 的严重程度",
                      f"a severity from {SEVERITY_MIN} to {SEVERITY_MAX}")
        return ox.Literal(str(number), datatype=ox.NamedNode(_XSD + "integer"))
    if t == "decimal":
        try:
            return ox.Literal(str(Decimal(value)), datatype=ox.NamedNode(_XSD + "decimal"))
        except InvalidOperation:
            raise bad("数字", "a number") from None
    if t == "date":
        try:
            return ox.Literal(date.fromisoformat(value).isoformat(), datatype=ox.NamedNode(_XSD + "date"))
        except ValueError:
            raise bad("日期（YYYY-MM-DD）", "a date YYYY-MM-DD") from None
    if t == "area":
        code = normal_code(value)  # as the area resolver reads it: ２１０１ is 2101
        zh, en = _lengths(param.levels or _AREA_LEVELS)
        if not _AREA_CODE.match(code) or (param.levels and len(code) not in param.levels):
            raise bad(f" {zh} 位数字的地区代码", f"an area code of {en} digits")
        return ox.NamedNode(area(code))
    if t == "concept":
        value = normal_notation(value)  # as the importer reads a code: n22 and Ｎ２２ are N22
        if not _NOTATION.match(value):
            raise bad("概念代码（如 N22 或 C1）", "a concept notation such as N22 or C1")
        return ox.NamedNode(str(DCPAV[value]))
    if t == "iri":
        if not re.match(r"^https?://", value):
            raise bad("以 http:// 或 https:// 开头的完整 IRI", "an absolute http(s) IRI")
        try:
            return ox.NamedNode(value)
        except ValueError:
            raise bad("有效的 IRI", "a valid IRI") from None
    raise bad(f"类型 {t} 的值（未知类型）", f"a value of the unknown type {t}")  # pragma: no cover - checked on load


def params_of(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The parameters of a request (``--param k=v`` options, a URL's query), each given once.

    A name given twice is refused, with both values: read as a dict, the last one won without a word
    (``area=21&area=2101`` answered for 2101 alone), so an answer could be for another area than meant.
    """
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidParameter(
                f"参数 {name} 给了不止一次（{params[name]!r}、{value!r}） / "
                f"parameter {name} is given more than once ({params[name]!r}, {value!r})",
                hint=f"{name} 只能给一次：查询的每个参数只取一个值 / "
                f"give {name} once; a query answers for one value of each parameter",
                details=[Issue("重复给出 / given more than once", column=name, value=value).to_dict()],
            )
        params[name] = value
    return params


def check_params(query: CatalogueQuery, params: Iterable[str]) -> None:
    """Refuse a parameter the query does not declare (`InvalidParameter`, naming the ones it has)."""
    known = {p.name for p in query.parameters}
    unknown = sorted(set(params) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise InvalidParameter(
            f"查询 {query.name!r} 没有参数 {', '.join(unknown)} / query {query.name!r} has no parameter "
            f"{', '.join(unknown)}",
            hint=f"它的参数是：{names or '（无）'} / its parameters are: {names or '(none)'}",
        )


def bind_params(query: CatalogueQuery, params: dict[str, str], *, real_only: bool = False) -> dict[str, Any]:
    """Typed bindings for every declared parameter (given value or its default), and ``?real_only``."""
    check_params(query, params)
    bindings: dict[str, Any] = {}
    for p in query.parameters:
        raw = params.get(p.name, p.default)
        if raw is None or raw == "":
            raise InvalidParameter(f"查询 {query.name!r} 需要参数 {p.name} / query {query.name!r} needs parameter "
                                   f"{p.name}", hint=param_hint(p))
        bindings[p.name] = to_term(p, raw)
    bindings[REAL_ONLY] = ox.Literal("true" if real_only else "false", datatype=ox.NamedNode(_BOOLEAN))
    return bindings


def default_values(query: CatalogueQuery, *, real_only: bool = False) -> dict[str, str]:
    """The SPARQL text of every parameter's default and of ``?real_only`` (for ready-to-run examples)."""
    values = {p.name: str(to_term(p, p.default)) for p in query.parameters if p.default}
    values[REAL_ONLY] = str(ox.Literal("true" if real_only else "false", datatype=ox.NamedNode(_BOOLEAN)))
    return values


def check_known(store: StoreAPI, query: CatalogueQuery, bindings: dict[str, Any]) -> None:
    """Refuse an area, concept or node parameter the store does not know: it would answer "no rows", as if there
    were nothing there (``need_type=N99``; evidence_of_node for a mistyped IRI, as if the node rested on nothing),
    where ``/api/gaps`` says the code is unknown. One ASK each (40 µs at national scale), both answers of ``answer``
    asking it."""
    for p in query.parameters:
        term = bindings[p.name]
        if p.type == "area" and not store.ask(f"ASK {{ {term} dcpa:areaCode ?c }}"):  # as the resolver knows one
            found = resolve_area(store, code_of(term.value))  # NotFound, with the area resolver's hint
            bindings[p.name] = ox.NamedNode(found.iri)  # as the resolver read it: 210123000000 is the county 210123
        elif p.type == "iri" and not store.ask(f"ASK {{ {{ {term} ?p ?o }} UNION {{ ?s ?p {term} }} }}"):
            raise NotFound(
                f"图谱中没有节点 {term.value} / no node {term.value} in the graph",
                hint=f"{p.name}：请核对 IRI，或从回答、页面或 SPARQL 端点中复制 / {p.name}: check the IRI, or copy it "
                "from an answer, a page or the SPARQL endpoint",
                details=[Issue("图谱中没有此节点 / no such node in the graph", column=p.name,
                               value=term.value).to_dict()])
        elif p.type == "concept" and not store.ask(
                # of the default's scheme (need_type=C1, a category, answered no rows too), else any concept
                f"ASK {{ {term} skos:inScheme ?s . {to_term(p, p.default)} skos:inScheme ?s }}" if p.default
                else f"ASK {{ {term} a skos:Concept }}"):
            known = []
            if p.default:  # the concepts of the default's scheme, by notation
                known = sorted(str(r["n"]) for r in store.select(
                    f"SELECT ?n WHERE {{ {to_term(p, p.default)} skos:inScheme ?s . ?c skos:inScheme ?s ; "
                    "skos:notation ?n }"))
            given = term.value.rsplit("/", 1)[-1]
            raise InvalidParameter(
                f"参数 {p.name}={given!r} 不是词表中的概念 / parameter {p.name}={given!r} is no concept of the "
                "vocabulary",
                hint=f"{p.name}：可选 {', '.join(known)} / {p.name}: one of {', '.join(known)}" if known
                else param_hint(p),
                details=[Issue("未知的概念 / an unknown concept", column=p.name, value=given).to_dict()])


def run_query(
    store: StoreAPI,
    name_or_query: str | CatalogueQuery,
    params: dict[str, str] | None = None,
    *,
    limit: int | None = None,
    real_only: bool = False,
) -> QueryResult:
    """Run a catalogue query with typed parameters; at most ``limit`` rows are read."""
    query = get_query(name_or_query) if isinstance(name_or_query, str) else name_or_query
    bindings = bind_params(query, params or {}, real_only=real_only)
    check_known(store, query, bindings)
    if "derived" in query.uses and derived.marker(store) is None:
        raise StoreError(
            f"查询 {query.name!r} 读取派生图，而此存储没有派生图，或其派生图出自旧版规则 / "
            f"query {query.name!r} reads the derived graph, which this store lacks or has from an older rule",
            hint="请运行 `dcpa derive`（或 `dcpa build --force`）计算派生图 / "
            "run `dcpa derive` (or `dcpa build --force`) to compute it",
        )
    if "derived" in query.uses:
        derived.check_settled(store, (f"查询 {query.name!r} 读取派生图",
                                      f"query {query.name!r} reads the derived graph"))
    # The parameters are written into the text (kg.inline, as for a remote store) rather than substituted:
    # Oxigraph plans the query around a constant it can see. Measured on every catalogue query with its
    # defaults at national scale (128,000 villages, 33.9M quads, best of two): the same rows, never slower,
    # libraries_served 2.8 s against 11.6 s, village_interventions 16 ms against 69 ms, the rest 0–15% faster.
    res = store.query(inline_bindings(query.text, bindings))
    names = [v.value for v in res.variables]
    columns = [n for n in names if n not in bindings]
    rows: list[dict[str, Any]] = []
    truncated = False
    for sol in res:
        if limit is not None and len(rows) >= limit:
            truncated = True
            break
        row = {}
        for n in columns:
            t = sol[n]
            if t is not None:
                row[n] = to_python(t)
        for n in query.lists:
            if isinstance(row.get(n), str):
                row[n] = LIST_SEPARATOR.join(sorted(row[n].split(LIST_SEPARATOR)))
        rows.append(row)
    log.debug("query %s returned %d rows", query.name, len(rows))
    return QueryResult(columns=columns, rows=rows, truncated=truncated)


@dataclass
class CatalogueAnswer:
    """A catalogue query's rows, which of them rest on example data, and the answer's data basis."""

    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    example: list[bool]
    truncated: bool
    basis: Basis
    derived_as_of: str | None = None  # the derived graph's date, for queries that read it
    #: What the reader should know of the derived graph it read: made with other validity windows than the
    #: settings' (every other answer applies the rule live, and may differ).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": self.columns, "rows": self.rows, "example": self.example,
                "truncated": self.truncated, "basis": self.basis.to_dict(), "derived_as_of": self.derived_as_of,
                "notes": self.notes}


def _row_key(row: dict[str, Any], columns: list[str]) -> tuple[str, ...]:
    return tuple(repr(row.get(c)) for c in columns)


def answer(
    store: StoreAPI, name: str, params: dict[str, str] | None = None, *, limit: int | None = None,
    real_only: bool = False, settings: Settings | None = None,
) -> CatalogueAnswer:
    """Run a catalogue query and mark the rows that rest on example data (``settings``: whose validity windows
    the derived graph it reads is told apart from, default the process's).

    A row of the full answer rests on example data when the same row is not in the real-only answer
    (an example node in it, or a count that includes example data). With ``real_only`` the query runs
    once, over real data alone.
    """
    query = get_query(name)
    if real_only:
        full = run_query(store, query, params, limit=limit, real_only=True)
        flags = [False] * len(full.rows)
    else:
        # both answers at once: the engine lets go of the interpreter while it evaluates (a province's
        # top_unaddressed_villages at national scale: 1.28-1.36 s one after the other, 0.71-0.80 s so)
        with ThreadPoolExecutor(max_workers=1) as other:
            pending = submit_here(other, partial(run_query, limit=limit, real_only=True), store, query, params)
            full = run_query(store, query, params, limit=limit)
            real = pending.result()
        left = Counter(_row_key(r, real.columns) for r in real.rows)
        flags = []
        for r in full.rows:
            k = _row_key(r, full.columns)
            if left[k] > 0:
                left[k] -= 1
                flags.append(False)
            else:
                flags.append(True)
    m = derived.marker(store) if "derived" in query.uses else None
    b = basis(flags, real_only=real_only, what_zh="行", what_en="rows")
    notes = []
    windows = (settings or get_settings()).validity_windows()
    if m is not None and m.other_windows(windows):
        # its rows are the graph's, where a gap report or a need's state under these settings is live
        zh, en = derived.other_windows_words(m, windows)
        notes.append(f"{zh}：这些行读自该图，而其他回答按当前设置实时计算，可能不同（运行 `dcpa derive` 可按当前设置"
                     f"重新生成） / {en}: these rows are read from it, where other answers apply the rule live "
                     "with the current ones and may differ (run `dcpa derive` to make it again with them)")
    return CatalogueAnswer(query.name, full.columns, full.rows, flags, full.truncated, b,
                           m.as_of.isoformat() if m else None, notes)


__all__ = [
    "PARAM_TYPES",
    "REAL_ONLY",
    "CatalogueAnswer",
    "CatalogueQuery",
    "Param",
    "QueryResult",
    "answer",
    "bind_params",
    "check_known",
    "default_values",
    "get_query",
    "load_catalogue",
    "params_of",
    "parse_query_file",
    "run_query",
    "to_term",
]
