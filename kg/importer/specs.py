"""One spec per kind of record: its columns, their types and the coded values they take.

The templates, the readers, the mapping to RDF and the API all read these specs, so a column
is described once. Column headers and help texts of columns that carry an ontology property are
taken from that property's ``rdfs:label`` / ``skos:definition`` in the ontology, not written twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from ..namespaces import DCPA
from ..resources import ontology_graph
from ..rule import SEVERITY_MAX, SEVERITY_MIN
from ..safetext import typed

#: Column types understood by the mapping (see ``kg.importer.mapping``).
COLUMN_TYPES = (
    "text",  # free text
    "label_zh",  # a name in Chinese (rdfs:label @zh)
    "label_en",  # a name in English (rdfs:label @en)
    "id",  # a record identifier chosen by the user
    "int",  # an integer within min..max
    "count",  # a non-negative integer
    "decimal",  # a non-negative decimal number
    "number",  # any decimal number
    "date",  # a date (YYYY-MM-DD)
    "year",  # a year (YYYY)
    "date_or_year",
    "village",  # a 12-digit village-level code
    "area",  # an area code of any level
    "areas",  # several area codes
    "code",  # one value of a coded list
    "codes",  # several values of a coded list
    "role_counts",  # several "role:count" pairs, the role from a coded list
    "ref",  # the id of another record
    "refs",  # ids of several other records
)

#: Values that separate several values in one cell.
LIST_SEPARATORS = (";", "；", ",", "，", "、", "|")

#: A row whose note (or surveyor) starts with this is the template's example and is skipped.
EXAMPLE_MARKER = "示例 Example"


@dataclass(frozen=True)
class Column:
    """One column of a record kind."""

    key: str
    type: str
    prop: URIRef | None = None
    required: bool = False
    codes: str | None = None  # name of the coded list (``kg.importer.vocab.CODE_LISTS``)
    ref_kind: str | None = None  # kind of record a ref/refs column points to
    minimum: int | None = None
    maximum: int | None = None
    zh_: str | None = None  # header override; else the property's label
    en_: str | None = None
    help_zh_: str | None = None
    help_en_: str | None = None
    example: str = ""

    @property
    def zh(self) -> str:
        return self.zh_ or _label(self.prop, "zh") or self.key

    @property
    def en(self) -> str:
        return self.en_ or (_label(self.prop, "en") or self.key).capitalize()

    @property
    def header(self) -> str:
        """The header the templates write: ``中文 / English``."""
        return f"{self.zh} / {self.en}"

    @property
    def help_zh(self) -> str:
        return self.help_zh_ or _definition(self.prop, "zh") or ""

    @property
    def help_en(self) -> str:
        return self.help_en_ or _definition(self.prop, "en") or ""

    @property
    def multi(self) -> bool:
        return self.type in ("areas", "codes", "refs", "role_counts")

    def matches(self, header: str) -> bool:
        """Whether a header cell names this column (key, Chinese, English or ``中文 / English``; the two halves may be
        on two lines of the cell, as a header wrapped with Alt+Enter in Excel or WPS is; a required-or-optional mark a
        form adds, ``*村级代码`` or ``村级代码（必填）``, left out)."""
        h = norm_header(_unmarked(str(header)))
        if not h:
            return False
        names = {norm_header(n) for n in (self.key, self.zh, self.en, self.header)}
        if h in names:
            return True
        parts = [norm_header(_unmarked(p)) for p in re.split(r"[/\r\n]+", str(header).replace("／", "/"))]
        return len(parts) > 1 and all(p in names for p in parts if p)


@dataclass(frozen=True)
class RecordSpec:
    """A kind of record: one sheet of the template, one CSV file."""

    kind: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    #: Columns whose values identify a record: two rows with the same values are duplicates.
    identity: tuple[str, ...]
    help_zh: str = ""
    help_en: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def names(self) -> set[str]:
        """Names a sheet or file of this kind may carry."""
        return {norm_header(n) for n in (self.kind, self.zh, self.en, *self.aliases)}


#: The marks a survey form puts on a header to say whether it must be filled (``*``, ``（必填）``, ``(optional)``),
#: and the notes that say how to write a value (``（12位）``, ``（YYYY-MM-DD）``, ``（1-5）``, ``（如：N22）``):
#: not a part of its name. Only these: another note in brackets may change what the column means
#: (人数（户）: households).
_NOTE = re.compile(
    r"[(（]\s*(?:必填|选填|可选|必须填写|required|optional"
    r"|\d+\s*位(?:数字|代码|数)?|\d+\s*digits?"  # the code's length
    r"|(?:格式\s*[:：]?\s*)?y{2,4}\s*[-/.年]?\s*m{1,2}\s*[-/.月]?\s*d{1,2}\s*日?"  # a date's layout
    r"|\d+\s*(?:-|~|～|—|–|至|到)\s*\d+(?:\s*级)?"  # a range of values
    r"|(?:如|例|例如|示例|格式|e\.g\.|eg|format)[^()（）]{0,40}"  # an example
    r")\s*[)）]$",
    re.IGNORECASE)
#: The required marks around a header (``*村级代码``, ``受影响人数＊``), taken off with the spaces by ``str.strip``:
#: as a regular expression (``[\s*＊]+$``), a header of 30,000 spaces took 4 s to read.
_STARS = "*＊"


def _unmarked(header: str) -> str:
    """``header`` without its marks and notes, also when a form puts two (``需求类型（必填）*``, ``需求类型*（必填）``,
    ``村级代码（12位）（必填）``)."""
    while (shorter := _NOTE.sub("", header.strip().strip(_STARS).strip())) != header:
        header = shorter
    return header


def norm_header(text: object) -> str:
    """Normalise a header for matching: as typed (``kg.safetext.typed``: NFKC, and no zero-width character pasted
    with it, which made 村级代码\u200b an unknown column), lower case, single spaces, ``_`` as space."""
    s = typed(str(text or "")).lower().replace("_", " ").replace("-", " ")
    return " ".join(s.split())


@lru_cache(maxsize=512)
def _label(prop: URIRef | None, lang: str) -> str | None:
    return _text(prop, RDFS.label, lang)


@lru_cache(maxsize=512)
def _definition(prop: URIRef | None, lang: str) -> str | None:
    return _text(prop, SKOS.definition, lang)


def _text(subject: URIRef | None, predicate: URIRef, lang: str) -> str | None:
    if subject is None:
        return None
    for o in _ontology().objects(subject, predicate):
        if isinstance(o, Literal) and o.language == lang:
            return str(o)
    return None


@lru_cache(maxsize=1)
def _ontology():  # type: ignore[no-untyped-def]
    return ontology_graph()


# ---------------------------------------------------------------------------
# Shared columns
# ---------------------------------------------------------------------------


def _source_columns() -> tuple[Column, ...]:
    return (
        Column(
            "source",
            "code",
            codes="source_kinds",
            zh_="证据来源",
            en_="Source",
            help_zh_="该记录的证据：survey（调查）、interview（访谈）或 document（文件）。",
            help_en_="The evidence of the record: survey, interview or document.",
            example="survey",
        ),
        Column(
            "source_title",
            "text",
            zh_="来源名称",
            en_="Source title",
            help_zh_="调查、访谈或文件的名称（可选），同名的行共用一个来源。",
            help_en_="Name of the survey, interview or document (optional); rows with the same name share one source.",
        ),
        Column(
            "note",
            "text",
            prop=RDFS.comment,
            zh_="备注",
            en_="Note",
            help_zh_=f"备注（可选）。以“{EXAMPLE_MARKER}”开头的行是模板示例，导入时跳过。",
            help_en_=f"A note (optional). Rows whose note starts with '{EXAMPLE_MARKER}' are the template's "
            "example and are skipped.",
            example=f"{EXAMPLE_MARKER}：请删除或覆盖此行 / delete or overwrite this row",
        ),
    )


def _id(kind_zh: str, kind_en: str, example: str) -> Column:
    return Column(
        "id",
        "id",
        required=True,
        zh_="编号",
        en_="ID",
        help_zh_=f"{kind_zh}的编号，由你确定，在全库唯一；其他表用它引用该{kind_zh}（字母、数字、-、_）。",
        help_en_=f"An identifier of the {kind_en} you choose, unique in the graph; other sheets refer to it "
        "(letters, digits, - and _).",
        example=example,
    )


def _name(lang: str, what_zh: str, what_en: str, example: str, required: bool) -> Column:
    return Column(
        f"name_{lang}",
        "label_zh" if lang == "zh" else "label_en",
        prop=RDFS.label,
        required=required,
        zh_="中文名称" if lang == "zh" else "英文名称",
        en_="Name (Chinese)" if lang == "zh" else "Name (English)",
        help_zh_=f"{what_zh}的{'中文' if lang == 'zh' else '英文'}名称。",
        help_en_=f"The {'Chinese' if lang == 'zh' else 'English'} name of the {what_en}.",
        example=example,
    )


# ---------------------------------------------------------------------------
# The kinds
# ---------------------------------------------------------------------------

NEEDS = RecordSpec(
    "needs",
    "需求",
    "Needs",
    (
        Column(
            "village_code",
            "village",
            prop=DCPA.needOf,
            required=True,
            zh_="村级代码",
            en_="Village code",
            help_zh_="村（社区）的 12 位统计用区划代码，见模板的 villages 表。",
            help_en_="The 12-digit statistical code of the village (community); see the template's 'villages' sheet.",
            example="210123206200",
        ),
        Column("need_type", "code", prop=DCPA.needType, required=True, codes="need_types", example="N22"),
        Column("severity", "int", prop=DCPA.severity, required=True, minimum=SEVERITY_MIN, maximum=SEVERITY_MAX,
               example="4"),
        Column("people_affected", "count", prop=DCPA.peopleAffected, required=True, example="120"),
        replace(
            _source_columns()[0],
            help_zh_="该需求的证据：survey（调查）、interview（访谈）或 document（文件）；"
            "填了“访谈编号”时可不填（即该访谈）。",
            help_en_="The evidence of the need: survey, interview or document; it may be left empty when "
            "'Interview ID' is filled in (it is then that interview).",
        ),
        _source_columns()[1],
        Column("identified_on", "date", prop=DCPA.identifiedOn, required=True, example="2018-05-12"),
        Column("surveyor", "text", prop=DCPA.surveyor, required=True, example=EXAMPLE_MARKER),
        Column(
            "interview",
            "ref",
            ref_kind="interviews",
            zh_="访谈编号",
            en_="Interview ID",
            help_zh_="该需求所依据的访谈，写 interviews 表中的编号（可选）。",
            help_en_="The interview the need rests on: its ID on the 'interviews' sheet (optional).",
            example="",
        ),
        Column(
            "quote",
            "text",
            zh_="受访者原话",
            en_="Quote",
            help_zh_="受访者说的、支持该需求的原话，照录（可选；须同时填访谈编号）。不要写姓名等能识别受访者的信息。",
            help_en_="The interviewee's words that support the need, as said (optional; needs 'Interview ID'). "
            "Leave out names and anything else that identifies the interviewee.",
            example="",
        ),
        _source_columns()[2],
    ),
    identity=("village_code", "need_type", "identified_on"),
    help_zh="每行一条村级需求：哪个村、什么类型、多严重、影响多少人、证据来自哪里。",
    help_en="One identified need of a village per row: which village, what type, how severe, how many "
    "people, and the evidence.",
    aliases=("need",),
)

POVERTY_STATUS = RecordSpec(
    "poverty_status",
    "贫困状态",
    "Poverty status",
    (
        Column(
            "area_code",
            "area",
            required=True,
            zh_="区划代码",
            en_="Area code",
            help_zh_="村或县等区域的统计用区划代码（2、4、6、9 或 12 位）。",
            help_en_="The statistical code of the village, county or other area (2, 4, 6, 9 or 12 digits).",
            example="210123206200",
        ),
        Column("status_type", "code", prop=DCPA.statusType, required=True, codes="status_types", example="PS1"),
        Column("registered_year", "year", prop=DCPA.registeredYear, example="2015"),
        Column("exit_year", "year", prop=DCPA.exitYear, example="2019"),
        Column("poor_households", "count", prop=DCPA.poorHouseholds, example="35"),
        Column("poor_population", "count", prop=DCPA.poorPopulation, example="80"),
        Column("poverty_causes", "codes", prop=DCPA.povertyCause, codes="poverty_causes", example="PC01;PC07"),
        *_source_columns(),
    ),
    identity=("area_code", "status_type", "registered_year"),
    help_zh="每行一条区域的贫困认定记录（类型、年份、贫困户和人口、致贫原因）。",
    help_en="One poverty-status record of an area per row (type, years, poor households and people, causes).",
    aliases=("poverty status", "status"),
)

HOUSEHOLDS = RecordSpec(
    "households",
    "贫困户汇总",
    "Poor households",
    (
        Column("village_code", "village", prop=DCPA.aggregateOf, required=True, zh_="村级代码", en_="Village code",
               example="210123206200"),
        Column("year", "year", prop=DCPA.aggregateYear, required=True, example="2016"),
        Column("main_cause", "code", prop=DCPA.mainCause, codes="poverty_causes", example="PC01"),
        Column("category", "code", prop=DCPA.householdCategory, codes="household_categories", example="HC2"),
        Column("households", "count", prop=DCPA.householdCount, required=True, example="12"),
        Column("people", "count", prop=DCPA.memberCount, example="27"),
        *_source_columns(),
    ),
    identity=("village_code", "year", "main_cause", "category"),
    help_zh="每行一个村某年的贫困户数，可按主要致贫原因和贫困户类别（一般、低保、特困供养）分行；只填村级汇总，不填个人信息。",
    help_en="One row per village and year: its registered poor households, optionally split by main cause and by "
    "category (ordinary, minimum allowance, destitute support); village totals only, no personal data.",
    aliases=("household", "poor households", "贫困户"),
)

INTERVIEWS = RecordSpec(
    "interviews",
    "访谈",
    "Interviews",
    (
        _id("访谈", "interview", "ITV-EXAMPLE-1"),
        Column("interviewee_role", "code", prop=DCPA.intervieweeRole, required=True, codes="interviewee_roles",
               example="IR1"),
        Column("interviewed_on", "date", prop=DCPA.interviewedOn, required=True, example="2018-05-10"),
        Column("place_code", "area", prop=DCPA.interviewPlace, required=True, zh_="访谈地点代码",
               en_="Place code", help_zh_="访谈所在的村（12 位代码）或其他区域的统计用区划代码。",
               help_en_="The statistical code of the village (12 digits) or other area where the interview took place.",
               example="210123206200"),
        Column("interviewer", "text", prop=DCPA.interviewer, required=True, example="示例·某县图书馆调研组"),
        Column("consent", "code", prop=DCPA.consentGiven, required=True, codes="consent_kinds", example="CO1"),
        Column("anonymisation", "code", prop=DCPA.anonymisation, required=True, codes="anonymisation_kinds",
               example="AN1"),
        _source_columns()[2],
    ),
    identity=("id",),
    help_zh="每行一次访谈：受访者角色（不写姓名）、日期、地点、访谈者、知情同意和匿名处理方式。需求表的“访谈编号”引用它，"
    "“受访者原话”记下支持需求的话。",
    help_en="One interview per row: the interviewee's role (never a name), date, place, interviewer, consent and "
    "anonymisation. The needs sheet refers to it by 'Interview ID', and keeps the words that support a need under "
    "'Quote'.",
    aliases=("interview", "访谈记录"),
)

LIBRARIES = RecordSpec(
    "libraries",
    "图书馆",
    "Libraries",
    (
        _id("图书馆", "library", "LIB-EXAMPLE-1"),
        _name("zh", "图书馆", "library", "示例·法库县图书馆", True),
        _name("en", "图书馆", "library", "Example: Faku County Library", False),
        Column(
            "library_type",
            "code",
            required=True,
            codes="library_types",
            zh_="图书馆级别",
            en_="Library type",
            help_zh_="省级、市级、县级图书馆，乡镇分馆或村级服务点。",
            help_en_="Provincial, city or county library, township branch or village service point.",
            example="county",
        ),
        Column("located_in", "area", prop=DCPA.locatedIn, required=True, example="210124"),
        Column("serves", "areas", prop=DCPA.serves, example="210124"),
        Column("branch_of", "ref", prop=DCPA.branchOf, ref_kind="libraries", example=""),
        *_source_columns(),
    ),
    identity=("id",),
    help_zh="每行一个图书馆、分馆或服务点，以及它所在和服务的区域。",
    help_en="One library, branch or service point per row, with where it is and which areas it serves.",
    aliases=("library",),
)

RESOURCES = RecordSpec(
    "resources",
    "资源",
    "Resources",
    (
        _id("资源", "resource", "RES-EXAMPLE-1"),
        _name("zh", "资源", "resource", "示例·电子阅读器", True),
        _name("en", "资源", "resource", "Example: e-readers", False),
        Column("resource_type", "code", prop=DCPA.resourceType, required=True, codes="resource_types", example="R22"),
        Column("held_by", "ref", prop=DCPA.heldBy, required=True, ref_kind="libraries", example="LIB-EXAMPLE-1"),
        Column("capacity", "decimal", prop=DCPA.capacity, example="20"),
        Column("capacity_unit", "text", prop=DCPA.capacityUnit, example="台"),
        Column("unit_cost", "decimal", prop=DCPA.unitCost, example="1500"),
        Column("addresses_need_types", "codes", prop=DCPA.addressesNeedType, codes="need_types", example=""),
        Column("delivery_mode", "code", prop=DCPA.deliveryMode, codes="delivery_modes", example=""),
        *_source_columns(),
    ),
    identity=("id",),
    help_zh="每行一项图书馆资源（数字资源、终端、培训课程或平台），含存量和成本。",
    help_en="One library resource per row (digital content, terminal, course or platform), with stock and cost.",
    aliases=("resource",),
)

INTERVENTIONS = RecordSpec(
    "interventions",
    "帮扶项目",
    "Interventions",
    (
        _id("帮扶项目", "intervention", "INT-EXAMPLE-1"),
        _name("zh", "帮扶项目", "intervention", "示例·电子阅读器配送", True),
        _name("en", "帮扶项目", "intervention", "Example: e-reader delivery", False),
        Column("category", "code", prop=DCPA.category, required=True, codes="categories", example="C2"),
        Column(
            "provided_by", "ref", prop=DCPA.providedBy, required=True, ref_kind="libraries", example="LIB-EXAMPLE-1"
        ),
        Column("target_areas", "areas", prop=DCPA.targetsArea, required=True, example="210123206200"),
        Column("reach_scope", "code", prop=DCPA.reachScope, codes="reach_scopes", example="RS1"),
        Column("uses_resources", "refs", prop=DCPA.usesResource, ref_kind="resources", example="RES-EXAMPLE-1"),
        Column("supported_by", "refs", prop=DCPA.supportedBy, ref_kind="policies", example="P06"),
        Column("part_of_programme", "ref", prop=DCPA.partOfProgramme, ref_kind="programmes", example="P08"),
        Column("status", "code", prop=DCPA.interventionStatus, required=True, codes="statuses", example="S2"),
        Column("start_date", "date", prop=DCPA.startDate, example="2018-03-01"),
        Column("end_date", "date", prop=DCPA.endDate, example="2019-12-31"),
        Column("in_service_until", "date", prop=DCPA.inServiceUntil, example=""),
        Column("people_reached", "count", prop=DCPA.peopleReached, example="120"),
        Column("village_capacity", "count", prop=DCPA.villageCapacity, example=""),
        Column("budget", "decimal", prop=DCPA.budget, example="50000"),
        Column("funding_source", "codes", prop=DCPA.fundedBy, codes="funding_sources", example="FS2",
               zh_="资金来源", en_="Funding source"),
        Column("personnel_count", "count", prop=DCPA.personnelCount, example="3"),
        Column("volunteer_count", "count", prop=DCPA.volunteerCount, example="5"),
        Column("personnel", "role_counts", prop=DCPA.personnelInput, codes="personnel_roles", example="PR2:3;PR4:5",
               zh_="人员（角色:人数）", en_="Personnel (role:count)",
               help_zh_="按角色写人数，如“馆员:3；志愿者:5”；角色可写代码或名称。",
               help_en_="People by role, such as 馆员:3；志愿者:5 (PR2:3;PR4:5); a role by its code or name."),
        Column("technology", "codes", prop=DCPA.usesTechnology, codes="technologies", example="TE2",
               zh_="技术支撑", en_="Technology"),
        *_source_columns(),
    ),
    identity=("id",),
    help_zh="每行一个帮扶项目：类别、实施馆、帮扶对象（村，或在线/声明全域覆盖时的上级区域）、覆盖范围、所用资源、政策依据、"
    "状态、日期、在用截止日期、覆盖人数与可服务村数、预算和人员。",
    help_en="One intervention per row: category, provider, target areas (villages, or an area when it is delivered "
    "online or declares a whole-area reach scope), reach scope, resources, policies, status, dates, in-service "
    "date, people reached and village capacity, budget and personnel.",
    aliases=("intervention", "projects"),
)

EVALUATIONS = RecordSpec(
    "evaluations",
    "效果评价",
    "Evaluations",
    (
        Column(
            "intervention_id",
            "ref",
            prop=DCPA.evaluates,
            required=True,
            ref_kind="interventions",
            zh_="帮扶项目编号",
            en_="Intervention ID",
            example="INT-EXAMPLE-1",
        ),
        Column("indicator", "code", prop=DCPA.indicator, required=True, codes="indicators", example="I03"),
        Column(
            "area_code",
            "area",
            prop=DCPA.evaluatedArea,
            required=True,
            zh_="评价区域代码",
            en_="Area code",
            example="210123206200",
        ),
        Column("baseline_value", "number", prop=DCPA.baselineValue, example="0"),
        Column("target_value", "number", prop=DCPA.targetValue, example="10"),
        Column("actual_value", "number", prop=DCPA.actualValue, example="12"),
        Column("period_start", "date", prop=DCPA.periodStart, required=True, example="2018-01-01"),
        Column("period_end", "date", prop=DCPA.periodEnd, required=True, example="2018-12-31"),
        *_source_columns(),
    ),
    identity=("intervention_id", "indicator", "area_code", "period_start"),
    help_zh="每行一项评价：某项目在某区域某指标上的基线值、目标值、实际值和评价期。",
    help_en="One evaluation per row: an intervention's baseline, target and actual value of one indicator in "
    "one area over a period.",
    aliases=("evaluation",),
)

POLICIES = RecordSpec(
    "policies",
    "政策",
    "Policies",
    (
        _id("政策", "policy", "POL-EXAMPLE-1"),
        Column(
            "kind",
            "code",
            required=True,
            codes="policy_kinds",
            zh_="文件类型",
            en_="Kind",
            help_zh_="法律、规划、意见、决定、项目通知，或文化工程（programme）。",
            help_en_="Law, plan, opinion, decision, programme notice, or a programme.",
            example="plan",
        ),
        Column("level", "code", prop=DCPA.policyLevel, required=True, codes="policy_levels", example="provincial"),
        Column(
            "title_zh",
            "label_zh",
            prop=RDFS.label,
            required=True,
            zh_="中文标题",
            en_="Title (Chinese)",
            help_zh_="文件的中文标题。",
            help_en_="The Chinese title.",
            example="示例·某县数字文化扶贫实施方案",
        ),
        Column(
            "title_en",
            "label_en",
            prop=RDFS.label,
            zh_="英文标题",
            en_="Title (English)",
            help_zh_="文件的英文标题（可选）。",
            help_en_="The English title (optional).",
            example="Example: a county plan for digital cultural poverty alleviation",
        ),
        Column("issuer", "text", prop=DCPA.issuerName, required=True, example="示例·某县人民政府"),
        Column("issued_on", "date_or_year", prop=DCPA.issuedOn, example="2018-06-01"),
        Column("document_number", "text", prop=DCPA.documentNumber, example=""),
        Column("supports_need_types", "codes", prop=DCPA.supportsNeedType, codes="need_types", example="N21;N41"),
        *_source_columns(),
    ),
    identity=("id",),
    help_zh="每行一项政策或文化工程：类型、层级、标题、发布机关、日期和文号。",
    help_en="One policy or programme per row: kind, level, title, issuer, date and document number.",
    aliases=("policy",),
)

#: The record kinds in template order.
RECORD_KINDS: dict[str, RecordSpec] = {
    s.kind: s
    for s in (NEEDS, INTERVIEWS, POVERTY_STATUS, HOUSEHOLDS, LIBRARIES, RESOURCES, INTERVENTIONS, EVALUATIONS, POLICIES)
}


def kind_for_name(name: str) -> str | None:
    """The kind a sheet or file name stands for (``needs``, ``需求``, ``needs-2018``…), if any."""
    n = norm_header(name)
    for spec in RECORD_KINDS.values():
        if n in spec.names():
            return spec.kind
    for spec in RECORD_KINDS.values():  # a name that starts with a kind: "needs 2018", "需求表"
        for alias in sorted(spec.names(), key=len, reverse=True):
            if n.startswith(alias):
                return spec.kind
    return None


def kind_for_header(header: list[str]) -> str | None:
    """The kind whose columns best match a header row (all its required columns must be present)."""
    best: tuple[int, str] | None = None
    for spec in RECORD_KINDS.values():
        present = {c.key for c in spec.columns if any(c.matches(h) for h in header)}
        if not all(c.key in present for c in spec.required):
            continue
        score = len(present)
        if best is None or score > best[0]:
            best = (score, spec.kind)
    if best:
        return best[1]
    # No kind has all its required columns: take the clear best partial match (the reader then
    # reports the missing columns), so that a file with one column missing still gets a precise error.
    scores = sorted(
        ((sum(1 for c in s.columns if any(c.matches(h) for h in header)), s.kind) for s in RECORD_KINDS.values()),
        reverse=True,
    )
    if scores[0][0] >= 3 and scores[0][0] > scores[1][0]:
        return scores[0][1]
    return None


#: Kinds that can be replaced: IRI path segment and the class the existing record must have.
REPLACEABLE: dict[str, tuple[str, URIRef]] = {
    "needs": ("need", DCPA.Need),
    "interviews": ("interview", DCPA.Interview),
    "interventions": ("intervention", DCPA.Intervention),
    "evaluations": ("evaluation", DCPA.Evaluation),
    "libraries": ("library", DCPA.Library),
    "resources": ("resource", DCPA.LibraryResource),
}
