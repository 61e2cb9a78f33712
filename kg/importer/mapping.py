"""Turn rows of cells into RDF exactly as ``docs/DATA_MODEL.md`` describes, with provenance.

Every cell is parsed by its column's type; every problem becomes an ``Issue`` with file, sheet, row,
column and value (all of them are collected, not only the first). Rows that parse are mapped to
triples of one batch graph; references to areas and other records are collected for
``kg.importer.checks`` to resolve against the store.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from ..batchgraph import BatchMemory, batch_graph
from ..codes import normal_code
from ..errors import Issue
from ..namespaces import DCPA, PREFIXES, area, node
from ..safetext import MAX_CELL_CHARS, cell_text, for_terminal, text_problem, typed
from ..store import graph_to_ntriples
from .readers import Table, Uncomputed
from .specs import LIST_SEPARATORS, RECORD_KINDS, Column, RecordSpec
from .vocab import Code, CodeList

#: Node kind (IRI path) of the records each ref kind points to.
REF_NODE_KIND = {
    "libraries": "library",
    "resources": "resource",
    "interventions": "intervention",
    "policies": "policy",
    "programmes": "programme",
    "interviews": "interview",
}
#: Class a reference must have.
REF_CLASS = {
    "libraries": DCPA.Library,
    "resources": DCPA.LibraryResource,
    "interventions": DCPA.Intervention,
    "policies": DCPA.Policy,
    "programmes": DCPA.Programme,
    "interviews": DCPA.Interview,
}
#: Resource class by the top concept of the resource type.
RESOURCE_CLASS = {"R1": DCPA.DigitalResource, "R2": DCPA.Terminal, "R3": DCPA.TrainingCourse, "R4": DCPA.Platform}


#: A required column left empty (a row's own, or the need's evidence source).
REQUIRED_MISSING = "必填项为空 / required value missing"
#: A record sent to the API that is not a JSON object (an import of records, a replacement).
NOT_AN_OBJECT = "记录不是对象 / record is not an object"


@dataclass
class Located:
    """Where a record came from, for provenance and for error messages."""

    file: str
    sheet: str | None
    row: int
    sheet_name: str  # value of dcpa:sourceSheet
    headers: dict[str, str]
    kind: str = ""

    def issue(self, message: str, key: str | None = None, value: Any = None, hint: str | None = None) -> Issue:
        return Issue(
            message,
            file=self.file,
            sheet=self.sheet,
            row=self.row,
            column=self.headers.get(key, key) if key else None,
            value=None if value is None else str(value),
            hint=hint,
        )


@dataclass
class Reference:
    """A reference from a record to an area or another record, to be resolved against the store."""

    iri: URIRef
    cls: URIRef
    where: Located
    column: str
    value: str
    village: bool = False  # an area code that must be a village-level unit


@dataclass
class Batch:
    """The RDF of one import, before it is checked and written."""

    batch_id: str
    user: str
    time: dt.datetime
    graph: rdflib.Graph = field(default_factory=batch_graph)
    issues: list[Issue] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    minted: dict[URIRef, tuple[URIRef, Located]] = field(default_factory=dict)  # record node -> (class, where)
    identities: dict[URIRef, str] = field(default_factory=dict)  # record node -> its identifying values
    counts: dict[str, int] = field(default_factory=dict)
    context: rdflib.Graph | None = None  # the store's triples about what the batch points at (checks.py)
    files: list[URIRef] = field(default_factory=list)
    _identities: dict[tuple[Any, ...], Located] = field(default_factory=dict)
    #: How many triples the graph held when ``release`` let it go (None while it holds them).
    released: int | None = None

    def __post_init__(self) -> None:
        for p, ns in PREFIXES.items():
            self.graph.bind(p, ns)
        g = self.graph
        act = self.activity
        g.add((act, RDF.type, DCPA.ImportActivity))
        g.add((act, RDFS.label, Literal(f"导入批次 {self.batch_id}", lang="zh")))
        g.add((act, RDFS.label, Literal(f"Import batch {self.batch_id}", lang="en")))
        g.add((act, DCPA.recordedBy, Literal(self.user)))
        g.add((act, PROV.endedAtTime, Literal(self.time.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)))

    @property
    def activity(self) -> URIRef:
        return URIRef(node("import", self.batch_id))

    @property
    def size(self) -> int:
        """How many triples the batch holds (or held, once ``release``d)."""
        return len(self.graph) if self.released is None else self.released

    def release(self) -> bytes:
        """The batch's triples as N-Triples, for its write; its graph and what its checks looked up are let go.

        Why: a 100,000-row batch's terms and lookups held 530 MB through the write and the refresh, and only
        its report's counts and size outlive it (national scale: 1,443 MB at the write without this, 913 MB
        with it)."""
        data = graph_to_ntriples(self.graph)
        self.released = len(self.graph)
        for g in (self.graph, self.context):
            if g is not None and isinstance(g.store, BatchMemory):
                g.store.drop_all()
        self.graph = batch_graph()
        self.context = None
        self.references, self.minted, self.identities, self._identities = [], {}, {}, {}
        return data

    def add_file(self, name: str) -> URIRef:
        """The ``dcpa:ImportedFile`` node of one source file (``id:source/import-B``, then ``-2``, ``-3``…)."""
        n = len(self.files)
        f = URIRef(node("source", f"import-{self.batch_id}" + (f"-{n + 1}" if n else "")))
        g = self.graph
        g.add((f, RDF.type, DCPA.ImportedFile))
        g.add((f, DCPA.fileName, Literal(name)))
        g.add((f, RDFS.label, Literal(f"导入文件 {name}", lang="zh")))
        g.add((f, RDFS.label, Literal(f"Imported file {name}", lang="en")))
        g.add((f, PROV.wasGeneratedBy, self.activity))
        self.files.append(f)
        return f


def _hash(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:12]


def _has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


# ---------------------------------------------------------------------------
# Cell parsing
# ---------------------------------------------------------------------------


class CellError(ValueError):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _nfkc(raw: Any) -> str:
    """A code, number, date or ID cell as typed or pasted means it (``kg.safetext.typed``: full-width forms, zero-width
    characters from a web page or a chat, which NFKC keeps and made a right-looking value "malformed")."""
    return typed(cell_text(raw))


#: A date, with the time of day a spreadsheet's date-and-time cell writes into a CSV (2018/5/12 0:00): the day is
#: what a date column records, as for such a cell of a workbook (``parse_date`` takes a datetime's date).
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
#: Excel's and WPS's serial numbers of the days 1950-01-01 to 2099-12-31 (1900 date system): what a date cell
#: shows, and a CSV holds, once its format is set to General or Number.
_SERIAL = range(18264, 73051 + 1)
_SERIAL_EPOCH = dt.date(1899, 12, 30)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YEAR = re.compile(r"^(\d{4})(\.0+)?\s*年?$")  # 2015.0: a year column read as numbers and written back


class NoSuchDate(CellError):
    """A date written in an accepted form that the calendar does not have (2026-02-30, 2018-13-01): said
    apart from a badly written one, whose hint (write YYYY-MM-DD) would not help."""


class DateSerial(CellError):
    """A date cell holding a spreadsheet's serial number of a day (43232 for 2018-05-12): said as such, with the day
    it would be, never read as that day (another date system, 1904, counts from another day)."""


def parse_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    s = _nfkc(raw)
    if s.isdigit() and int(s) in _SERIAL:
        day = (_SERIAL_EPOCH + dt.timedelta(days=int(s))).isoformat()
        raise DateSerial(
            f"日期变成了数字 / a date shown as a spreadsheet's day number ({s} would be {day})",
            f"这是 Excel/WPS 把日期单元格设成“常规”或“数值”格式后显示的序号：请把这一列设为“日期”格式，或直接填写 "
            f"{day} 这样的日期 / Excel and WPS show a date so when its cell is formatted General or Number: format the "
            f"column as Date, or type the date as {day}")
    m = _DATE.match(s) or _DATE_COMPACT.match(s)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
        try:
            return dt.date(y, mo, d)
        except ValueError:
            raise NoSuchDate(f"日期不存在 / no such date: {y:04d}-{mo:02d}-{d:02d}",
                             _no_such_date_hint(y, mo)) from None
    raise CellError("日期格式错误 / bad date",
                    "请按 YYYY-MM-DD 格式填写日期，如 2018-05-12 / write the date as YYYY-MM-DD, e.g. 2018-05-12")


def _no_such_date_hint(year: int, month: int) -> str:
    """What to check in a date the calendar does not have: the month, or the days its month has."""
    if not 1 <= month <= 12:
        return "月份应在 1 到 12 之间，请核对月和日 / the month must be from 1 to 12: check the day and the month"
    if year < 1:
        return "请核对年份 / check the year"
    days = calendar.monthrange(year, month)[1]
    return (f"{year} 年 {month} 月只有 {days} 天，请核对日和月 / "
            f"{year:04d}-{month:02d} has {days} days: check the day and the month")


def parse_year(raw: Any) -> int:
    if isinstance(raw, dt.date):
        return raw.year
    m = _YEAR.match(_nfkc(raw))
    if m and 1900 <= int(m[1]) <= 2100:
        return int(m[1])
    raise CellError("年份格式错误 / bad year", "请填写四位数的年份，如 2015 / write a four-digit year, e.g. 2015")


_NUMBER_HINT = "请填写数字，如 120 或 1500.5 / write a number such as 120 or 1500.5"
_WHOLE_NUMBER_HINT = "请填写整数，如 120 / write a whole number such as 120"


class MisplacedComma(CellError):
    """A comma in a number that groups no thousands: said as such for whole numbers too, whose hint would not help."""


#: A number with its thousands grouped by commas (1,500 or 12,000.5): the commas go, nothing else changes.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
#: A number written with a Chinese multiplier or a unit after it (1.5万, 120人, 3,000 元): said as such, not read.
#: A unit has no digit: 120-150, 2万-3万 or 1/2 is a range or a fraction, not 120, 20000 or 1 with a unit after it.
#: A multiplier is 万 or 亿, 千 or 百 (5千元, 1.5千万), or k or w, Latin letters for them (5k, 1.2w, not 5kg):
#: 3千 told to be written 3, 'the column says the unit', would be stored a thousand times too small.
_WITH_UNIT = re.compile(r"([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*([十百千]?[万亿]|[百千]|[kKwW](?![A-Za-z]))?\s*"
                        r"([^\d,.\s万亿千百十]\D*)?")
_TIMES = {"十": 10, "百": 100, "千": 1_000, "万": 10_000, "亿": 100_000_000, "k": 1_000, "w": 10_000}


class UnitInNumber(CellError):
    """A number with a multiplier (万, 亿) or a unit (人, 元, 户) written after it. Refused, not read: 120户 in a
    column of people would be 120 people, a meaning the steward did not give; the hint says what to write."""


def _unit_in_number(text: str) -> UnitInNumber | None:
    m = _WITH_UNIT.fullmatch(text)
    if m is None or not (m[2] or m[3]):
        return None
    number, unit = m[1].replace(",", ""), (m[3] or "").strip()
    without = f"，不带单位（{unit}）" if unit else ""
    without_en = f", without its unit ({unit})" if unit else ""
    if m[2]:
        whole = format((Decimal(number) * math.prod(_TIMES[c] for c in m[2].lower())).normalize(), "f")
        return UnitInNumber(f"数字带“{m[2]}” / a number written with {m[2]}",
                            f"请写出完整的数{without}：{whole} / write the whole number{without_en}: {whole}")
    return UnitInNumber("数字带单位 / a number with a unit",
                        f"请只写数字{without}，如 {number}；单位由这一列决定 / write the number alone{without_en}, "
                        f"e.g. {number}: the column says the unit")


def parse_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise CellError("不是数字 / not a number", _NUMBER_HINT)
    text = "" if isinstance(raw, int | float) else _nfkc(raw)
    if "," in text and not _GROUPED.fullmatch(text):  # 1,5 is 1.5 in much of Europe, or a slip: never 15
        # 3,000 元: its comma groups thousands, what is wrong is the unit
        raise _unit_in_number(text) or MisplacedComma(
            "逗号的位置不对 / a comma that does not group thousands",
            "小数点请用“.”（如 1.5）；逗号只能用来每三位分隔千位（如 1,500），也可以不写逗号 / "
            "write the decimal point as '.' (e.g. 1.5); a comma may only group thousands (1,500), or leave it out")
    try:
        d = Decimal(str(raw)) if isinstance(raw, int | float) else Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise _unit_in_number(text) or CellError("不是数字 / not a number", _NUMBER_HINT) from None
    if not d.is_finite():
        raise CellError("不是数字 / not a number", _NUMBER_HINT)
    return d


def parse_int(raw: Any) -> int:
    try:
        d = parse_decimal(raw)
    except (MisplacedComma, UnitInNumber):
        raise
    except CellError:
        raise CellError("不是整数 / not a whole number", _WHOLE_NUMBER_HINT) from None
    if d != d.to_integral_value():
        raise CellError("不是整数 / not a whole number", _WHOLE_NUMBER_HINT)
    return int(d)


#: What spreadsheets and the systems exporting to them put around a code to keep it text: ``'210102`` (typed in a
#: CSV, or written by an export), ``="210102"`` (Excel's text formula) and ``210102.0`` (a code column read as numbers
#: and written back). A code is digits alone, so taking them off changes nothing it says.
_CODE_AS_TEXT = re.compile(r"'(?P<a>.*)|=\s*\"(?P<b>.*)\"|(?P<c>\d+)\.0+")


def parse_area_code(raw: Any, village: bool) -> str:
    s = normal_code(cell_text(raw))  # as the area resolver reads a code: ２１０１ is 2101
    m = _CODE_AS_TEXT.fullmatch(s)
    if m:
        s = normal_code(m["a"] if m["a"] is not None else m["b"] if m["b"] is not None else m["c"])
    if re.fullmatch(r"\d+(\.\d+)?[eE][+]?\d+", s):
        raise CellError(
            "区划代码被科学计数法截断 / area code turned into scientific notation",
            "请在 Excel 中把这一列设为文本格式，再重新输入完整的代码 / "
            "format the column as text in Excel and type the full code again",
        )
    lengths = (12,) if village else (2, 4, 6, 9, 12)
    if not s.isdigit() or len(s) not in lengths:
        zh, en = ("12 位村级代码", "a 12-digit village code") if village else ("2、4、6、9 或 12 位区划代码",
                                                                              "an area code")
        raise CellError("区划代码格式错误 / malformed area code", f"请填写 {zh}，只写数字 / write {en}, digits only")
    return s


def parse_id(raw: Any) -> str:
    s = _nfkc(raw)
    if not re.fullmatch(r"[\w.\-]{1,80}", s):
        raise CellError(
            "编号格式错误 / malformed ID",
            "只能使用字母、数字、'-'、'_' 或 '.'，不要有空格 / use letters, digits, '-', '_' or '.', no spaces",
        )
    return s


def split_multi(raw: Any) -> list[str]:
    s = cell_text(raw)
    for sep in LIST_SEPARATORS[1:]:
        s = s.replace(sep, LIST_SEPARATORS[0])
    return [p.strip() for p in s.split(LIST_SEPARATORS[0]) if p.strip()]


_ROLE_COUNT = re.compile(r"^(?P<role>.+?)\s*[:：×xX*]?\s*(?P<count>\d+)\s*(人|名)?$")


def _role_count(text: str, roles: CodeList) -> tuple[Code, int]:
    """``馆员:2`` / ``PR2 2`` / ``志愿者：5人`` → (the role, 2)."""
    m = _ROLE_COUNT.match(text.strip())
    role = roles.resolve(m.group("role").strip()) if m else None
    if m is None or role is None:
        raise CellError(
            f"人员写法不对 / not a role and a count: {text}",
            f"请写成“角色:人数”，多项之间用 ; 分隔（如 馆员:2；志愿者:5），角色写代码或名称：{roles.examples()} / "
            f"write role:count pairs separated by ; (e.g. 馆员:2；志愿者:5), each role by its code or name: "
            f"{roles.examples()}",
        )
    return role, int(m.group("count"))


def _whole_number_hint(col: Column) -> str:
    """How to write a whole number in ``col``: within its range, like its example."""
    example = col.example or "120"
    if col.minimum is not None and col.maximum is not None:
        return (f"请填写 {col.minimum} 到 {col.maximum} 之间的整数，如 {example} / "
                f"write a whole number from {col.minimum} to {col.maximum}, such as {example}")
    return f"请填写整数，如 {example} / write a whole number such as {example}"


def parse_cell(col: Column, raw: Any, lists: dict[str, CodeList]) -> Any:
    """The typed value of one cell, or ``CellError``."""
    if isinstance(raw, Uncomputed):
        raise CellError("单元格是公式，但没有计算结果 / the cell holds a formula without a computed value",
                        "请用 Excel 或 WPS 打开这个文件再保存（保存时会算出公式的值），或直接填写数值 / open the file "
                        "in Excel or WPS and save it (which computes the formulas), or type the value instead")
    t = col.type
    if t in ("text", "label_zh", "label_en"):
        return cell_text(raw)
    if t == "id":
        return parse_id(raw)
    if t in ("int", "count"):
        try:
            n = parse_int(raw)
        except (MisplacedComma, UnitInNumber):
            raise
        except CellError as e:  # "such as 120" for a severity of 1 to 5 (高, 四, 4.5) led to "out of range" next
            raise CellError(e.message, _whole_number_hint(col)) from None
        if t == "count" and n < 0:
            raise CellError("负数 / negative count", "数量不能小于 0 / a count cannot be below 0")
        if (col.minimum is not None and n < col.minimum) or (col.maximum is not None and n > col.maximum):
            raise CellError(
                f"超出范围 / out of range ({col.minimum}–{col.maximum})",
                f"请填写 {col.minimum} 到 {col.maximum} 之间的整数 / "
                f"write a whole number from {col.minimum} to {col.maximum}",
            )
        return n
    if t in ("decimal", "number"):
        d = parse_decimal(raw)
        if t == "decimal" and d < 0:
            raise CellError("负数 / negative number", "这个值不能小于 0 / this value cannot be below 0")
        return d
    if t == "date":
        return parse_date(raw)
    if t == "year":
        return parse_year(raw)
    if t == "date_or_year":
        try:
            return parse_date(raw)
        except (NoSuchDate, DateSerial):
            raise
        except CellError:
            try:
                return parse_year(raw)
            except CellError:
                raise CellError(
                    "日期格式错误 / bad date",
                    "请按 YYYY-MM-DD 填写日期，只知道年份时填写 YYYY / "
                    "write YYYY-MM-DD, or YYYY when only the year is known",
                ) from None
    if t in ("village", "area"):
        return parse_area_code(raw, t == "village")
    if t == "areas":
        return [parse_area_code(p, False) for p in split_multi(raw)]
    if t in ("code", "codes"):
        assert col.codes
        cl = lists[col.codes]
        texts = [cell_text(raw)] if t == "code" else split_multi(raw)
        out: list[Code] = []
        for v in texts:
            code = cl.resolve(v)
            if code is None:
                zh, en = cl.one
                raise CellError(
                    f"未知的{zh} / unknown {en}" + (f": {v}" if t == "codes" else ""),
                    f"请填写模板 '{col.codes}' 列表中的代码或中文/英文名称，如 {cl.examples(near=v)} / "
                    f"use a code or a Chinese/English label from the template's '{col.codes}' list, "
                    f"e.g. {cl.examples(near=v)}",
                )
            out.append(code)
        return out[0] if t == "code" else out
    if t == "role_counts":
        return [_role_count(p, lists[col.codes or ""]) for p in split_multi(raw)]
    if t == "ref":
        return parse_id(raw)
    if t == "refs":
        return [parse_id(p) for p in split_multi(raw)]
    raise AssertionError(f"unknown column type {t}")


# ---------------------------------------------------------------------------
# Rows → RDF
# ---------------------------------------------------------------------------


def _lit(value: Any, col: Column) -> Literal:
    t = col.type
    if t == "label_zh":
        return Literal(value, lang="zh")
    if t == "label_en":
        return Literal(value, lang="en")
    if t == "int":
        return Literal(str(value), datatype=XSD.integer)
    if t == "count":
        return Literal(str(value), datatype=XSD.nonNegativeInteger)
    if t in ("decimal", "number"):
        d: Decimal = value
        text = format(d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize(), "f")
        return Literal(text, datatype=XSD.decimal)
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=XSD.date)
    if t in ("year", "date_or_year"):
        return Literal(f"{value:04d}", datatype=XSD.gYear)
    return Literal(str(value))


def add_rows(
    batch: Batch,
    table_rows: list[tuple[Located, dict[str, Any]]],
    kind: str,
    file_node: URIRef,
    lists: dict[str, CodeList],
    vocab: rdflib.Graph,
) -> None:
    """Parse and map the rows of one kind from one source into ``batch``."""
    spec = RECORD_KINDS[kind]
    for where, cells in table_rows:
        values: dict[str, Any] = {}
        ok = True
        failed: set[str] = set()
        for key, raw in cells.items():
            col = spec.column(key)
            try:
                values[key] = parse_cell(col, raw, lists)
            except CellError as e:
                batch.issues.append(where.issue(e.message, key, cell_text(raw), e.hint))
                ok = False
                failed.add(key)
        for col in spec.required:
            if col.key in where.headers and col.key not in values and col.key not in cells:
                batch.issues.append(
                    where.issue(REQUIRED_MISSING, col.key, "",
                                f"请填写“{col.zh}” / fill in '{col.header}'")
                )
                ok = False
        if any(c.key not in where.headers for c in spec.required):
            continue
        _check_row(batch, spec, where, values, failed)  # every problem of the row at once, not round by round
        if not ok:
            continue
        ident = (kind, *(_ident(values.get(k)) for k in spec.identity))
        # shown as typed (LIB-1, not the lib-1 compared), the columns by their names in each language
        shown = " | ".join(str(_shown(values.get(k))) for k in spec.identity)
        if ident in batch._identities:
            first = batch._identities[ident]
            names_zh = "、".join(f"“{spec.column(k).zh}”" for k in spec.identity)
            batch.issues.append(
                where.issue(
                    "重复的记录 / duplicate row",
                    spec.identity[0],
                    shown,
                    f"与 {first.file} 第 {first.row} 行的{names_zh}相同：请合并或更正这两行 / "
                    f"the same {', '.join(spec.identity)} as {first.file} row {first.row}; merge or correct them",
                )
            )
            continue
        batch._identities[ident] = where
        rec = _map_row(batch, spec, where, values, file_node, vocab)
        batch.identities[rec] = shown
        batch.counts[kind] = batch.counts.get(kind, 0) + 1


def _shown(v: Any) -> Any:
    return v.code if isinstance(v, Code) else v


def _ident(v: Any) -> Any:
    if isinstance(v, Code):
        return v.code
    if isinstance(v, str):
        return v.casefold()
    return v


#: Dates of what has already happened (a need identified, an interview held): never after the import.
OBSERVED_ON = ("identified_on", "interviewed_on")


def _check_row(batch: Batch, spec: RecordSpec, where: Located, values: dict[str, Any],
               failed: set[str] | None = None) -> None:
    """The checks of a row across its cells; ``failed``: cells that did not read (refused already), of which
    nothing more is said."""
    failed = failed or set()
    for a, b in (("start_date", "end_date"), ("period_start", "period_end"), ("registered_year", "exit_year")):
        if a in values and b in values and values[b] < values[a]:
            batch.issues.append(
                where.issue("结束早于开始 / ends before it starts", b, values[b],
                            f"'{b}' 不能早于 '{a}' / '{b}' must not be before '{a}'")
            )
    latest = batch.time.date() + dt.timedelta(days=1)  # a day's grace: the steward's clock may be ahead of ours
    for key in OBSERVED_ON:
        seen = values.get(key)
        if isinstance(seen, dt.date) and seen > latest:
            batch.issues.append(where.issue(
                "日期在未来 / a date in the future", key, seen.isoformat(),
                f"'{key}' 是事情发生的日期，不能晚于导入日期（{batch.time.date().isoformat()}）：请检查年份 / "
                f"'{key}' is when it happened, so it cannot be after the import ({batch.time.date().isoformat()}): "
                "check the year"))
    if spec.kind == "needs" and not failed & {"source", "interview", "quote"}:
        src = values.get("source")
        if "interview" in values and src is not None and src.code != "interview":
            batch.issues.append(where.issue(
                "证据来源与访谈编号矛盾 / the source contradicts the interview ID", "source", src.code,
                "依据访谈的需求，证据来源应为 'interview'：请清空两项中的一项 / "
                "a need that rests on an interview has source 'interview'; clear one of the two"))
        elif src is None and "interview" not in values:
            batch.issues.append(where.issue(
                REQUIRED_MISSING, "source", "",
                "请填写 'source'（survey、interview 或 document），或填写该需求所依据的“访谈编号” / "
                "fill in 'source' (survey, interview or document), or give the 'Interview ID' the need rests on"))
        if "quote" in values and "interview" not in values:
            batch.issues.append(where.issue(
                "原话缺少访谈编号 / a quote without its interview", "quote", values["quote"],
                "请在“访谈编号”中填写说这段话的那次访谈 / "
                "fill in 'Interview ID' with the interview the words were said in"))
    kind = values.get("kind")
    if isinstance(kind, Code) and kind.code == "programme":
        for key in ("document_number", "supports_need_types"):
            if key in values:
                batch.issues.append(
                    where.issue(
                        "文化工程没有此项 / a programme has no such value",
                        key,
                        "",
                        "类型为 'programme' 时此项请留空，或改选一种政策类型 / "
                        "leave it empty for kind 'programme', or choose a policy kind",
                    )
                )


def _source_node(batch: Batch, where: Located, values: dict[str, Any], file_node: URIRef) -> URIRef:
    """The evidence a record derives from: the interview record it names, a Survey/Interview/DocumentSource
    node, or the file itself."""
    if "interview" in values:
        return _ref(batch, where, "interview", "interviews", values["interview"])
    src: Code | None = values.get("source")
    if src is None:
        return file_node
    title = values.get("source_title", "")
    n = batch.files.index(file_node) + 1
    ev = URIRef(node("source", f"import-{batch.batch_id}-f{n}-{_hash(src.code, title)}"))
    g = batch.graph
    if (ev, RDF.type, src.term) not in g:
        g.add((ev, RDF.type, src.term))
        if title:
            g.add((ev, RDFS.label, Literal(title, lang="zh" if _has_cjk(title) else "en")))
        else:
            g.add((ev, RDFS.label, Literal(f"{src.zh}（{where.file}）", lang="zh")))
            g.add((ev, RDFS.label, Literal(f"{src.en} ({where.file})", lang="en")))
        g.add((ev, PROV.wasDerivedFrom, file_node))
    return ev


def _ref(batch: Batch, where: Located, key: str, ref_kind: str, ident: str) -> URIRef:
    iri = URIRef(node(REF_NODE_KIND[ref_kind], ident))
    batch.references.append(Reference(iri, REF_CLASS[ref_kind], where, key, ident))
    return iri


def _area(batch: Batch, where: Located, key: str, code: str, village: bool = False) -> URIRef:
    iri = URIRef(area(code))
    cls = DCPA.VillageLevelUnit if village else DCPA.AdministrativeArea
    batch.references.append(Reference(iri, cls, where, key, code, village))
    return iri


def _record_node(spec: RecordSpec, values: dict[str, Any]) -> tuple[URIRef, URIRef]:
    """(IRI, class) of the record a row describes."""
    v = values
    if spec.kind == "needs":
        key = _hash(v["village_code"], v["need_type"].code, v["identified_on"])
        return URIRef(node("need", "imp-" + key)), DCPA.Need
    if spec.kind == "poverty_status":
        key = _hash(v["area_code"], v["status_type"].code, v.get("registered_year", ""))
        return URIRef(node("status", "imp-" + key)), DCPA.PovertyStatus
    if spec.kind == "households":
        key = _hash(v["village_code"], v["year"], getattr(v.get("main_cause"), "code", ""),
                    getattr(v.get("category"), "code", ""))
        return URIRef(node("households", "imp-" + key)), DCPA.HouseholdAggregate
    if spec.kind == "evaluations":
        key = _hash(v["intervention_id"], v["indicator"].code, v["area_code"], v["period_start"])
        return URIRef(node("evaluation", "imp-" + key)), DCPA.Evaluation
    if spec.kind == "interviews":
        return URIRef(node("interview", v["id"])), DCPA.Interview
    if spec.kind == "libraries":
        return URIRef(node("library", v["id"])), v["library_type"].term
    if spec.kind == "resources":
        return URIRef(node("resource", v["id"])), DCPA.LibraryResource
    if spec.kind == "interventions":
        return URIRef(node("intervention", v["id"])), DCPA.Intervention
    if spec.kind == "policies":
        if v["kind"].code == "programme":
            return URIRef(node("programme", v["id"])), DCPA.Programme
        return URIRef(node("policy", v["id"])), v["kind"].term
    raise AssertionError(spec.kind)


def _top_notation(vocab: rdflib.Graph, concept: URIRef) -> str:
    seen = {concept}
    c = concept
    while True:
        parent = vocab.value(c, SKOS.broader)
        if not isinstance(parent, URIRef) or parent in seen:
            return str(vocab.value(c, SKOS.notation) or "")
        seen.add(parent)
        c = parent


def _map_row(
    batch: Batch, spec: RecordSpec, where: Located, values: dict[str, Any], file_node: URIRef, vocab: rdflib.Graph
) -> URIRef:
    g = batch.graph
    rec, cls = _record_node(spec, values)
    if spec.kind == "resources":
        cls = RESOURCE_CLASS.get(_top_notation(vocab, values["resource_type"].term), DCPA.LibraryResource)
    batch.minted[rec] = (cls, where)
    g.add((rec, RDF.type, cls))
    g.add((rec, DCPA.sourceSheet, Literal(where.sheet_name)))
    g.add((rec, DCPA.sourceRow, Literal(str(where.row), datatype=XSD.positiveInteger)))
    evidence = _source_node(batch, where, values, file_node)
    g.add((rec, PROV.wasDerivedFrom, evidence))
    if spec.kind == "poverty_status":
        g.add((_area(batch, where, "area_code", values["area_code"]), DCPA.povertyStatus, rec))
    if "quote" in values and "interview" in values:
        _quote(g, rec, evidence, values["quote"])
    if spec.kind == "libraries" and "serves" not in values:
        values = {**values, "serves": [values["located_in"]]}  # a library serves where it is unless told
    for col in spec.columns:
        if col.key not in values or col.prop is None:
            continue
        v = values[col.key]
        items = v if isinstance(v, list) else [v]
        for item in items:
            if col.type in ("village", "area", "areas"):
                obj: rdflib.term.Node = _area(batch, where, col.key, item, village=col.type == "village")
            elif col.type in ("ref", "refs"):
                assert col.ref_kind
                obj = _ref(batch, where, col.key, col.ref_kind, item)
            elif col.type == "role_counts":
                role, count = item
                obj = URIRef(f"{rec}#personnel-{role.code}")  # a part of the record (replaced with it)
                g.add((obj, RDF.type, DCPA.PersonnelInput))
                g.add((obj, DCPA.personnelRole, role.term))
                g.add((obj, DCPA.personCount, Literal(str(count), datatype=XSD.nonNegativeInteger)))
                g.add((obj, PROV.wasDerivedFrom, evidence))
            elif isinstance(item, Code):
                obj = item.term
            else:
                obj = _lit(item, col)
            g.add((rec, col.prop, obj))
    return rec


def quote_iri(need: URIRef | str) -> URIRef:
    """The quote supporting a need: a part of the need's record, replaced and withdrawn with it."""
    return URIRef(f"{need}#quote")


def _quote(g: rdflib.Graph, need: URIRef, interview: URIRef, text: str) -> None:
    q = quote_iri(need)
    g.add((q, RDF.type, DCPA.Quote))
    g.add((q, DCPA.quoteText, Literal(text, lang="zh" if _has_cjk(text) else "en")))
    g.add((q, DCPA.supportsNeed, need))
    g.add((q, PROV.wasQuotedFrom, interview))
    g.add((q, PROV.wasDerivedFrom, interview))


def located_rows(table: Table) -> list[tuple[Located, dict[str, Any]]]:
    return [
        (Located(table.file, table.sheet, r.number, table.sheet_name, table.headers, table.kind), r.cells)
        for r in table.rows
    ]


def record_rows(kind: str, source_name: str, records: list[dict[str, Any]]) -> list[tuple[Located, dict[str, Any]]]:
    """Rows from API records (dicts keyed by column keys); record n is "row" n (1-based)."""
    spec = RECORD_KINDS[kind]
    headers = {c.key: c.key for c in spec.columns}
    out = []
    for i, rec in enumerate(records, start=1):
        cells = {
            k: v
            for k, v in rec.items()
            if k in headers and v is not None and not (isinstance(v, str) and not v.strip())
        }
        cells = {k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in cells.items()}
        out.append((Located(source_name, kind, i, kind, headers, kind), cells))
    return out


def unsafe_text(kind: str, source_name: str, records: list[dict[str, Any]]) -> list[Issue]:
    """Field names and text values that may not be stored (control or bidi characters, too long)."""
    issues = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            continue
        for k, v in rec.items():
            checks = [(k, 200, "字段名 / field name: ")]
            if isinstance(v, str):
                checks.append((v, MAX_CELL_CHARS, ""))
            for text, limit, what in checks:
                problem = text_problem(text, limit)
                if problem:
                    shown = text if len(text) <= 100 else text[:100] + "…"
                    issues.append(
                        Issue(
                            what + problem[0],
                            file=source_name,
                            sheet=kind,
                            row=i,
                            column=for_terminal(k),
                            value=for_terminal(shown),
                            hint=problem[1],
                        )
                    )
    return issues


def unknown_keys(kind: str, source_name: str, records: list[dict[str, Any]]) -> list[Issue]:
    spec = RECORD_KINDS[kind]
    issues = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            issues.append(Issue(NOT_AN_OBJECT, file=source_name, sheet=kind, row=i))
            continue
        for k in rec:
            if k not in spec.keys:
                issues.append(
                    Issue(
                        "未知的字段 / unknown field",
                        file=source_name,
                        sheet=kind,
                        row=i,
                        column=for_terminal(k),
                        hint=f"'{kind}' 的字段有：{', '.join(spec.keys)} / fields of '{kind}': {', '.join(spec.keys)}",
                    )
                )
    return issues
