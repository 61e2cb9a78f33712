"""Recommendations: ranked resources and interventions for a village's unmet needs, each explained.

Candidates come from the libraries whose service area holds the village (``dcpav:RM3``: a library's
service area says what *could* reach a village, nearest first). Each gets a score in [0, 1] from five
components (weights in ``WEIGHTS``):

* ``type_fit`` — 1.0 when it addresses the need's own type, 0.7 per level when it addresses a broader
  type (skos:broader), 0.4 when only a narrower type;
* ``reach`` — how close the providing library is: it serves the village (1.0), its township (0.8),
  county (0.6), city (0.4) or province (0.2);
* ``policy`` — 0.5 when a policy supports the need type (or a broader one) plus 0.5 when the candidate
  itself is backed by a policy (an intervention's ``supportedBy``, directly or through its programme;
  for a resource, an intervention using it);
* ``availability`` — cost and remaining capacity: 0.5·1/(1+cost/10 000) + 0.5·min(capacity, 10)/10
  (unknown values count 0.5); resources with no capacity left are not candidates;
* ``evidence`` — the share of evaluations met (actual ≥ target) among the evaluations of interventions
  of the same category (intervention) or resource type (resource) in villages of the same county that
  have a need of the same type.

Needs that are unaddressed or addressed but not verified get candidates; an intervention that already
addresses the need is not one. Only candidates that could actually be used are offered (``use``): a
resource with stock left (``give``); an intervention that names this village (``here``); a planned one
for an area holding the village (``planned``); an active one elsewhere that can take one more village
(``extend``: no declared ``dcpa:villageCapacity``, or fewer villages named than it declares). A planned
project of another village is not a candidate: it does not exist yet, and it is meant for that village.
With ``poor_first`` (poverty targeting) the needs linked to the village's poverty causes come first, and
the explanation says why. Ties are broken by lower unit cost, then by IRI, so the order is deterministic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from functools import partial
from typing import Any

import pyoxigraph as ox

from ..codes import LEVEL_ZH, normal_code
from ..contract import StoreAPI
from ..errors import InvalidParameter, NotFound
from ..facts import Period, ended_by, iri_values, need_type_tree
from ..memo import per_data
from ..namespaces import DCPA, DCPAV, SKOS, area
from ..rule import CANDIDATE_REACH, NeedState, Reason, ancestors_path, parse_reach, prefixes
from ..settings import Settings, get_settings
from .areas import Area, resolve_area, resolve_areas
from .basis import Basis, basis
from .jsonable import to_jsonable
from .labels import Label, labels
from .needs import NeedRow, NeedSet, need_rows, no_needs_note
from .poverty import Poverty, cause_links, linked_types, poverty_of

log = logging.getLogger(__name__)

WEIGHTS = {"type_fit": 0.30, "reach": 0.25, "policy": 0.15, "availability": 0.15, "evidence": 0.15}
REACH_SCORE = {12: 1.0, 9: 0.8, 6: 0.6, 4: 0.4, 2: 0.2}
BROADER_STEP = 0.7
NARROWER_FIT = 0.4
CANDIDATE_STATUSES = (str(DCPAV.S1), str(DCPAV.S2))
#: How a candidate would be used: give a resource; an intervention that names the village; a planned one
#: for an area holding it; an active one extended to it.
USES = ("give", "here", "planned", "extend")

#: Candidates per need when none is asked: one default for the CLI, the village's and the area's answers (they
#: had 5, 10 and 3, so that a county's answer and its villages' own told different things), and the most.
CANDIDATES_PER_NEED = 5
MAX_CANDIDATES = 100
#: What a table (CSV, the CLI's) shows as the candidate of a need nothing within reach fits.
NO_CANDIDATE = "（范围内没有候选） / (no candidate within reach)"


@dataclass
class Step:
    """One edge of an explanation path: subject —predicate→ object, with labels."""

    subject: str
    subject_label: str | None
    predicate: str
    object: str
    object_label: str | None


@dataclass
class Candidate:
    kind: str  # "resource" or "intervention"
    iri: str
    label: str | None
    library: str
    library_label: str | None
    fit: str  # exact / broader / narrower
    fit_type: str
    score: float
    components: dict[str, float]
    unit_cost: float | None
    capacity: float | None  # what is left: a resource's stock, an intervention's villages (None: not declared)
    example: bool = False  # the candidate (or its library) is example data
    use: str = "give"  # how it would be used (``USES``)
    served: str = ""  # the area the library serves that holds the village (how near it is)
    served_label: str | None = None
    explanation: list[Step] = field(default_factory=list)


@dataclass
class NeedRecommendation:
    need: str
    need_type: str
    need_type_label: str | None
    severity: int
    people_affected: int | None
    state: str
    example: bool
    cause_linked: str | None = None  # the poverty cause that puts this need first (poor_first)
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class RecommendationReport:
    village: Area
    reach: list[str]
    as_of: date
    weights: dict[str, float]
    poor_first: bool
    real_only: bool
    targeting: dict[str, Any]
    addressed: list[dict[str, Any]]
    needs: list[NeedRecommendation]
    basis: Basis
    notes: list[str] = field(default_factory=list)  # why the answer is empty (a village with no needs recorded)
    #: Needs identified after this day were left out (an answer as of a past day), as gap reports and plans say.
    known_by: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


def _values(iris: Iterable[str]) -> str:
    return iri_values(iris)


def _chain(vil: Area) -> dict[str, str]:
    """The village and every area containing it (IRI → code), from the nesting of the official codes."""
    return {area(c): c for c in prefixes(vil.code)}


def _resources(store: StoreAPI, chain: dict[str, str]) -> list[dict[str, Any]]:
    """Resources of the libraries serving the areas, with the need types they address themselves (``own``)
    or through their type. Two queries, not one UNION: Oxigraph evaluated the UNION on its own, over every
    resource of the country, once the areas were many (the 330 areas around a county's 297 villages at
    national scale: 0.31 s, these two 0.017 s)."""
    rows: list[dict[str, Any]] = []
    for fit in ("?res dcpa:addressesNeedType ?fit . BIND(true AS ?own)",
                "?res dcpa:resourceType ?rt2 . ?rt2 dcpa:addressesNeedType ?fit"):
        rows += store.select(f"""SELECT ?lib ?served ?res ?rt ?own ?fit ?cap ?cost ?rex ?lex WHERE {{
    VALUES ?served {{ {_values(chain)} }}
    ?lib dcpa:serves ?served .
    ?res dcpa:heldBy ?lib .
    {fit}
    OPTIONAL {{ ?res dcpa:resourceType ?rt }}
    OPTIONAL {{ ?res dcpa:capacity ?cap }}
    OPTIONAL {{ ?res dcpa:unitCost ?cost }}
    OPTIONAL {{ ?res dcpa:isSynthetic ?rex }}
    OPTIONAL {{ ?lib dcpa:isSynthetic ?lex }}
  }}""")
    return rows


def _interventions(store: StoreAPI, chain: dict[str, str]) -> list[dict[str, Any]]:
    q = f"""SELECT ?i ?lib ?served ?st ?cat ?fit ?budget ?iex ?lex WHERE {{
    VALUES ?served {{ {_values(chain)} }}
    ?lib dcpa:serves ?served .
    ?i dcpa:providedBy ?lib ; dcpa:interventionStatus ?st .
    FILTER(?st = dcpav:S1 || ?st = dcpav:S2)
    ?i (dcpa:category|dcpa:usesResource|dcpa:usesResource/dcpa:resourceType)/dcpa:addressesNeedType ?fit .
    OPTIONAL {{ ?i dcpa:category ?cat }}
    OPTIONAL {{ ?i dcpa:budget ?budget }}
    OPTIONAL {{ ?i dcpa:isSynthetic ?iex }}
    OPTIONAL {{ ?lib dcpa:isSynthetic ?lex }}
  }}"""
    # The OPTIONALs come after the fit path: placed before it, they made Oxigraph evaluate the path
    # without ?i bound (~150 ms instead of ~2 ms per village at province scale).
    return store.select(q)


def _targets(store: StoreAPI, interventions: set[str]) -> dict[str, tuple[list[str], float | None]]:
    """Intervention → (the areas it names, its declared village capacity)."""
    out: dict[str, tuple[list[str], float | None]] = {i: ([], None) for i in interventions}
    if not interventions:
        return out
    q = ("SELECT ?i ?t ?vc WHERE { VALUES ?i { " + _values(interventions) + " } "
         "OPTIONAL { ?i dcpa:targetsArea ?t } OPTIONAL { ?i dcpa:villageCapacity ?vc } }")
    for r in store.select(q):
        targets, vc = out[r["i"]]
        if r.get("t") and r["t"] not in targets:
            targets.append(r["t"])
        out[r["i"]] = (targets, float(r["vc"]) if r.get("vc") is not None else vc)
    return out


def _use(status: str, targets: list[str], vcap: float | None, vil: str,
         chain: dict[str, str]) -> tuple[str | None, float | None]:
    """How an intervention could be used for the village, and how many more villages it can take
    (``None`` as the use: it cannot be used)."""
    named = sum(1 for t in targets if len(t.rsplit("/", 1)[-1]) == 12)
    left = None if vcap is None else max(0.0, vcap - named)
    if vil in targets:
        return "here", left
    if status == str(DCPAV.S1):
        return ("planned", left) if any(t in chain for t in targets) else (None, left)
    if left is not None and left <= 0:
        return None, left
    return "extend", left


def _policies(store: StoreAPI, candidates: set[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(need type → supporting policies, candidate → its own policies)."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for r in store.select("SELECT ?p ?t WHERE { ?p dcpa:supportsNeedType ?t }"):
        by_type[r["t"]].append(r["p"])
    own: dict[str, list[str]] = defaultdict(list)
    if candidates:
        q = (
            "SELECT ?c ?p WHERE { VALUES ?c { " + _values(candidates) + " } "
            "{ ?c dcpa:supportedBy ?p } UNION { ?c dcpa:partOfProgramme/dcpa:supportedBy ?p } "
            "UNION { ?i dcpa:usesResource ?c ; dcpa:supportedBy ?p } }"
        )
        for r in store.select(q):
            if r["p"] not in own[r["c"]]:
                own[r["c"]].append(r["p"])
    return by_type, own


def _evidence(store: StoreAPI, chain: dict[str, str], need_types: set[str], real_only: bool,
              ns: NeedSet) -> list[dict[str, Any]]:
    """Evaluations in the village's county (else city, province) whose period had ended by the need rows' day:
    category, resource type, need types there (of the needs known that day, as the rows say)."""
    by_len = {len(c): a for a, c in chain.items()}
    scope = by_len.get(6) or by_len.get(4) or by_len.get(2)
    if scope is None or not need_types:
        return []
    cut = Period(date.min, ns.known_by) if ns.known_by else None  # free: the rows were read knowing it
    evs, kinds, types_at = _area_evidence(store, scope, real_only, ns.as_of, cut)
    return [dict(r, t=t, keys=kinds.get(r["i"], ())) for r in evs for t in types_at.get(r["w"], ()) if t in need_types]


@per_data(64)
def _area_evidence(
    store: StoreAPI, scope: str, real_only: bool, day: date, cut: Period | None
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The evaluations in an area ended by ``day`` (as the rule reads them: a value recorded before the period's
    end is not yet a result), the category and resource types of what they evaluated, and the need types of the
    places they evaluated (of the needs within ``cut``, the needs known on the day). The same for every village of
    a county (planners work county by county): kept until the next write (a county's evidence took 18 of a
    recommendation's 31 ms at national scale)."""
    evs = store.select(
        """SELECT ?scope ?e ?w ?i ?ok ?ex WHERE {
    ?w dcpa:withinArea ?scope .
    ?e dcpa:evaluatedArea ?w ; dcpa:evaluates ?i ; dcpa:targetValue ?tv ; dcpa:actualValue ?av .
    OPTIONAL { ?e dcpa:isSynthetic ?ex }
    BIND(?av >= ?tv AS ?ok) """ + ended_by(day) + "}",
        bindings={"scope": ox.NamedNode(scope)},
    )
    if real_only:
        evs = [r for r in evs if not r.get("ex")]
    if not evs:
        return [], {}, {}
    # category and resource types of the evaluated interventions, as plain look-ups (no OPTIONAL joins)
    kinds: dict[str, set[str]] = defaultdict(set)
    ivals = _values(r["i"] for r in evs)
    for q in (f"SELECT ?i ?k WHERE {{ VALUES ?i {{ {ivals} }} ?i dcpa:category ?k }}",
              f"SELECT ?i ?k WHERE {{ VALUES ?i {{ {ivals} }} ?i dcpa:usesResource/dcpa:resourceType ?k }}"):
        for r in store.select(q):
            kinds[r["i"]].add(r["k"])
    # One VALUES block only: with a second one over ?t, Oxigraph starts from every need of those
    # types (seconds at province scale); the caller keeps the need types it asks about.
    types_at: dict[str, set[str]] = defaultdict(set)
    for r in store.select(f"SELECT DISTINCT ?w ?t WHERE {{ VALUES ?w {{ {_values(r['w'] for r in evs)} }} "
                          f"?need dcpa:needOf ?w ; dcpa:needType ?t {cut.filter() if cut else ''} }}"):
        types_at[r["w"]].add(r["t"])
    return (evs, {i: tuple(sorted(k)) for i, k in kinds.items()},
            {w: tuple(sorted(t)) for w, t in types_at.items()})


def _availability(cost: float | None, cap: float | None) -> float:
    c = 0.5 if cost is None else 1.0 / (1.0 + float(cost) / 10_000.0)
    k = 0.5 if cap is None else min(float(cap), 10.0) / 10.0
    return round(0.5 * c + 0.5 * k, 4)


def _fit(t: str, fit: str, up: dict[str, tuple[str, ...]],
         narrower_of_t: set[str]) -> tuple[str, float, tuple[str, ...]] | None:
    if fit in up:
        path = up[fit]
        if len(path) == 1:
            return "exact", 1.0, path
        return "broader", round(BROADER_STEP ** (len(path) - 1), 4), path
    if fit in narrower_of_t:
        return "narrower", NARROWER_FIT, (t,)
    return None


#: Names of the steps an explanation takes that are not the ontology's own terms (which are labelled in the store).
_STEP_NAMES = {str(SKOS.broader): Label("上位类型", "broader type"),
               str(SKOS.broader) + "+": Label("上位类型（隔几层）", "broader type (some levels up)")}


def explanation_labels(store: StoreAPI, reports: Iterable[RecommendationReport]) -> dict[str, Label]:
    """The names of every predicate and fit type the candidates of ``reports`` show, in both languages: what the
    village page and the CLI write instead of IRIs (``skos:broader`` and the need-type codes were shown bare)."""
    cands = [c for r in reports for n in r.needs for c in n.candidates]
    found = labels(store, {s.predicate for c in cands for s in c.explanation}
                   | {c.fit_type for c in cands if c.fit_type})
    return {**found, **_STEP_NAMES}


def explanation_name(iri: str, names: dict[str, Label], lang: str) -> str:
    """A step's predicate or a fit type by its name in ``lang`` (``explanation_labels``), else its local name."""
    found = names.get(iri)
    return (found.get(lang) if found is not None else "") or iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def check_limit(limit: int) -> None:
    """InvalidParameter unless 1 <= ``limit`` <= MAX_CANDIDATES (the API's bounds are these)."""
    if not 1 <= int(limit) <= MAX_CANDIDATES:
        raise InvalidParameter(f"每项需求的候选数须在 1 到 {MAX_CANDIDATES} 之间，不能是 {limit} / "
                               f"candidates per need must be from 1 to {MAX_CANDIDATES}, not {limit}",
                               hint=f"请给出 1 到 {MAX_CANDIDATES} 的数目（默认 {CANDIDATES_PER_NEED}） / "
                                    f"give a limit from 1 to {MAX_CANDIDATES} (default {CANDIDATES_PER_NEED})")


def recommend(
    store: StoreAPI,
    village_code: str,
    *,
    limit: int = CANDIDATES_PER_NEED,
    reach: str | None = None,
    poor_first: bool = False,
    real_only: bool = False,
    as_of: date | None = None,
    lang: str = "zh",
    settings: Settings | None = None,
) -> RecommendationReport:
    """Ranked candidates for every unmet need of a village, each with its explanation path."""
    settings = settings or get_settings()
    check_limit(limit)
    modes = parse_reach(reach, settings.reach)
    vil = resolve_area(store, village_code)
    if not vil.is_village:
        raise NotFound(f"{village_code} 不是村级单位 / {village_code} is not a village-level unit",
                       hint="推荐按村给出，请用 12 位代码 / recommendations are for 12-digit codes")
    ns = need_rows(store, vil, reach=modes, as_of=as_of, with_reasons=True, real_only=real_only, settings=settings)
    return _recommend_each(store, ns, [vil], limit=limit, poor_first=poor_first, real_only=real_only, lang=lang)[0]


#: The areas ``recommend_within`` answers for: a county's villages are a few hundred (a city's thousands).
WITHIN_LEVELS = ("county", "township", "village")


@dataclass
class AreaRecommendations:
    """The recommendations of the villages of an area, each as ``recommend`` gives it."""

    area: Area
    villages: list[RecommendationReport]
    basis: Basis  # over every village's needs and candidates

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


def recommend_within(
    store: StoreAPI,
    code: str,
    *,
    villages: Iterable[str] | None = None,
    needs: NeedSet | None = None,
    limit: int = CANDIDATES_PER_NEED,
    reach: str | None = None,
    poor_first: bool = False,
    real_only: bool = False,
    as_of: date | None = None,
    lang: str = "zh",
    settings: Settings | None = None,
) -> AreaRecommendations:
    """The report ``recommend`` gives each village of a county or township (``villages``: those codes,
    else every village with a need left open), in code order, from one read of the area's needs,
    candidates, policies and labels: a county's model page asked for its 297 villages with gaps one by
    one, 4.3 s at national scale. ``needs``: the area's need rows with their reasons when the caller has
    them (read with the same reach, day and ``real_only``), so that they are not read twice."""
    settings = settings or get_settings()
    check_limit(limit)
    modes = parse_reach(reach, settings.reach)
    scope = resolve_area(store, code)
    if scope.level not in WITHIN_LEVELS:
        zh = LEVEL_ZH.get(scope.level, scope.level)
        raise InvalidParameter(f"多个村的推荐只按县或乡镇给出，{scope.code} 是{zh} / "
                               f"recommendations for many villages are for a county or a township, not a "
                               f"{scope.level}", hint="请逐县查询（6 位代码），如 211381 / "
                               "ask county by county (6-digit codes), e.g. 211381")
    ns = needs if needs is not None else need_rows(store, scope, reach=modes, as_of=as_of, with_reasons=True,
                                                   real_only=real_only, settings=settings)
    if set(ns.reach) != set(modes) or (as_of is not None and ns.as_of != as_of) or \
            (real_only and any(n.example for n in ns.rows)):
        raise ValueError("the need rows given were read with another reach, day or real_only")
    if villages is None:
        codes = sorted({n.village for n in ns.rows if n.state is not NeedState.ADDRESSED})
    else:
        codes = sorted({normal_code(v) for v in villages})
        outside = [c for c in codes if len(c) != 12 or not c.startswith(scope.code)]
        if outside:
            raise InvalidParameter(f"{outside[0]} 不是 {scope.code} 内的村级单位 / "
                                   f"{outside[0]} is not a village-level unit within {scope.code}",
                                   hint="请给出以该地区代码开头的 12 位代码 / "
                                        "give 12-digit codes that start with the area's code")
    found = resolve_areas(store, codes)
    reports = _recommend_each(store, ns, [found[c] for c in codes], limit=limit, poor_first=poor_first,
                              real_only=real_only, lang=lang)
    items = sum(r.basis.items for r in reports)
    example = sum(r.basis.example_items for r in reports)
    return AreaRecommendations(scope, reports, basis([True] * example + [False] * (items - example),
                                                     real_only=real_only, what_zh="项（需求与候选）",
                                                     what_en="items (needs and candidates)"))


def _row_order(row: dict[str, Any]) -> tuple[str, ...]:
    """A total order of candidate rows: the engine's order depends on the query, and a candidate found
    twice with the same score keeps the first way (``_keep``); so one village alone or among many gets the
    same explanation."""
    return tuple(str(row.get(k, "")) for k in sorted(row))


def _recommend_each(store: StoreAPI, ns: NeedSet, vils: list[Area], *, limit: int, poor_first: bool,
                    real_only: bool, lang: str) -> list[RecommendationReport]:
    """Every village's report from shared reads: the candidates of every area holding one of them,
    their targets and policies, the need-type tree, poverty, and the labels of all reports at once."""
    chains = {v.code: _chain(v) for v in vils}
    every = {a: c for chain in chains.values() for a, c in chain.items()}
    res_rows = _resources(store, every) if vils else []
    int_rows = _interventions(store, every) if vils else []
    if real_only:
        res_rows = [r for r in res_rows if not (r.get("rex") or r.get("lex"))]
        int_rows = [r for r in int_rows if not (r.get("iex") or r.get("lex"))]
    res_rows.sort(key=_row_order)
    int_rows.sort(key=_row_order)
    shared = _Shared(
        tree=need_type_tree(store),
        targets=_targets(store, {r["i"] for r in int_rows}),
        policies=_policies(store, {r["res"] for r in res_rows} | {r["i"] for r in int_rows}),
        poverty=poverty_of(store, chains),
        links=cause_links(store) if poor_first else {},
    )
    rows_of: dict[str, list[NeedRow]] = defaultdict(list)
    for n in ns.rows:
        rows_of[n.village].append(n)
    reports = [_report(store, vil, ns, rows_of.get(vil.code, []), chains[vil.code],
                       [r for r in res_rows if r["served"] in chains[vil.code]],
                       [r for r in int_rows if r["served"] in chains[vil.code]], shared,
                       limit=limit, poor_first=poor_first, real_only=real_only) for vil in vils]
    _label_everything(store, [n for rep in reports for n in rep.needs], lang)
    return reports


@dataclass
class _Shared:
    """What every village's report reads alike."""

    tree: tuple[dict[str, list[str]], dict[str, list[str]]]  # need type → broader, → narrower
    targets: dict[str, tuple[list[str], float | None]]
    policies: tuple[dict[str, list[str]], dict[str, list[str]]]  # need type → policies, candidate → its own
    poverty: dict[str, Poverty]
    links: dict[str, set[str]]


def _report(store: StoreAPI, vil: Area, ns: NeedSet, rows: list[NeedRow], chain: dict[str, str],
            res_rows: list[dict[str, Any]], int_rows: list[dict[str, Any]], shared: _Shared, *, limit: int,
            poor_first: bool, real_only: bool) -> RecommendationReport:
    """One village's ranked candidates (unlabelled: the caller labels every report at once)."""
    broader, narrower = shared.tree
    open_needs = [n for n in rows if n.state is not NeedState.ADDRESSED]
    targets = shared.targets
    pol_by_type, pol_own = shared.policies
    ev_rows = _evidence(store, chain, {n.need_type for n in open_needs}, real_only, ns)

    # evidence tallies: (kind key, need type) -> [met, total, a met evaluation]
    tally: dict[tuple[str, str], list[Any]] = {}
    seen_ev: set[tuple[str, str, str]] = set()
    for r in ev_rows:
        for key in r["keys"]:
            if (r["e"], key, r["t"]) in seen_ev:
                continue
            seen_ev.add((r["e"], key, r["t"]))
            cnt = tally.setdefault((key, r["t"]), [0, 0, None])
            cnt[1] += 1
            if r.get("ok"):
                cnt[0] += 1
                cnt[2] = cnt[2] or (r["e"], r["i"])

    poverty = shared.poverty[vil.code]
    linked = linked_types(poverty, shared.links, real_only) if poor_first else {}
    # a real need is put first by real poverty statuses alone: example data never decides about real data
    linked_real = linked_types(poverty, shared.links, True) if poor_first else {}

    def cause_of(n: NeedRow) -> str | None:
        links = linked if n.example else linked_real
        for up in ancestors_path(n.need_type, broader):
            if up in links:
                return links[up]
        return None

    addressed = [{"need": n.iri, "need_type": n.need_type, "severity": n.severity, "state": n.state.value,
                  "example": n.example, "reasons": [_reason_dict(r) for r in n.reasons]}
                 for n in rows if n.state is not NeedState.UNADDRESSED]
    order = sorted(open_needs, key=lambda n: (cause_of(n) is None if poor_first else False,
                                              n.state is NeedState.UNVERIFIED, -n.severity, n.iri))
    # how each intervention could be used here: the same for every need of the village
    uses = {(r["i"], r["st"]): _use(r["st"], *targets[r["i"]], vil.iri, chain) for r in int_rows}
    out_needs: list[NeedRecommendation] = []
    for n in order:
        t = n.need_type
        up = ancestors_path(t, broader)
        down = set(_descendants(t, narrower))
        already = n.interventions
        cands: dict[str, Candidate] = {}
        # each candidate's explanation, written for the ranked ones only (a county's 297 villages: most
        # candidates are never shown)
        ways: dict[str, Callable[[], list[Step]]] = {}
        supported_types = [x for x in up if pol_by_type.get(x)]
        for r in res_rows:
            cap = r.get("cap")
            if cap is not None and float(cap) <= 0:
                continue
            f = _fit(t, r["fit"], up, down)
            if f is None:
                continue
            ev = tally.get((r.get("rt") or "", t))
            comp = {
                "type_fit": f[1],
                "reach": REACH_SCORE.get(len(chain.get(r["served"], "")), 0.0),
                "policy": 0.5 * bool(supported_types) + 0.5 * bool(pol_own.get(r["res"])),
                "availability": _availability(r.get("cost"), cap),
                "evidence": round(ev[0] / ev[1], 4) if ev else 0.0,
            }
            c = _candidate("resource", r["res"], r["lib"], f, r["fit"], comp, r.get("cost"), cap,
                           bool(r.get("rex") or r.get("lex")), served=r["served"])
            if _keep(cands, c):
                ways[c.iri] = partial(_resource_path, n, vil.iri, r, f, supported_types, pol_by_type, ev)
        for r in int_rows:
            if r["i"] in already:
                continue  # it already addresses this need
            use, left = uses[r["i"], r["st"]]
            if use is None:
                continue  # a planned project of another village, or one with no village left
            f = _fit(t, r["fit"], up, down)
            if f is None:
                continue
            ev = tally.get((r.get("cat") or "", t))
            comp = {
                "type_fit": f[1],
                "reach": REACH_SCORE.get(len(chain.get(r["served"], "")), 0.0),
                "policy": 0.5 * bool(supported_types) + 0.5 * bool(pol_own.get(r["i"])),
                "availability": _availability(r.get("budget"), left),
                "evidence": round(ev[0] / ev[1], 4) if ev else 0.0,
            }
            c = _candidate("intervention", r["i"], r["lib"], f, r["fit"], comp, r.get("budget"), left,
                           bool(r.get("iex") or r.get("lex")), use=use, served=r["served"])
            if _keep(cands, c):
                ways[c.iri] = partial(_intervention_path, n, vil.iri, r, f, supported_types, pol_by_type, pol_own,
                                      ev)
        ranked = sorted(
            cands.values(),
            key=lambda c: (-c.score, float("inf") if c.unit_cost is None else c.unit_cost, c.iri),
        )[:limit]
        for c in ranked:
            c.explanation = ways[c.iri]()
        cause = cause_of(n) if poor_first else None
        if cause is not None:
            for c in ranked:
                c.explanation = (_cause_steps(vil, poverty, cause, t, broader, linked if n.example else linked_real,
                                               real=not n.example) + c.explanation)
        out_needs.append(NeedRecommendation(
            need=n.iri, need_type=t, need_type_label=None, severity=n.severity, people_affected=n.people,
            state=n.state.value, example=n.example, cause_linked=cause, candidates=ranked,
        ))
    flags = [n.example for n in rows] + [c.example for n in out_needs for c in n.candidates]
    b = basis(flags, real_only=real_only, what_zh="项（需求与候选）", what_en="items (needs and candidates)")
    targeting = {"poor_first": poor_first, **poverty.to_dict(real_only),
                 "cause_linked_need_types": sorted(linked)}
    return RecommendationReport(village=vil, reach=[m.value for m in ns.reach], as_of=ns.as_of, weights=dict(WEIGHTS),
                                poor_first=poor_first, real_only=real_only, targeting=targeting,
                                addressed=addressed, needs=out_needs, basis=b,
                                notes=[*ns.notes, *([] if rows or ns.known_by else [no_needs_note(
                                    vil, real_only=real_only, as_of=ns.as_of, then_zh="没有可推荐的帮扶",
                                    then_en="so there is nothing to recommend")])],
                                known_by=ns.known_by)


def _reason_dict(r: Reason) -> dict[str, Any]:
    return {"intervention": r.intervention, "reach": r.mode.value, "target": r.target,
            "fit_type": r.fit.need_type, "fit_via": r.fit.via, "fit_path": list(r.fit_path),
            "valid_until": r.valid_until.isoformat() if r.valid_until else None, "below_target": r.below_target,
            "example": r.example}


def _descendants(t: str, narrower: dict[str, list[str]]) -> list[str]:
    out, stack = [], list(narrower.get(t, []))
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(narrower.get(x, []))
    return out


def _candidate(kind: str, iri: str, lib: str, f: tuple[str, float, tuple[str, ...]], fit: str,
               comp: dict[str, float], cost: Any, cap: Any, example: bool, *, use: str = "give",
               served: str = "") -> Candidate:
    score = round(sum(WEIGHTS[k] * v for k, v in comp.items()), 4)
    return Candidate(kind=kind, iri=iri, label=None, library=lib, library_label=None, fit=f[0], fit_type=fit,
                     score=score, components=comp, unit_cost=cost, capacity=cap, example=example, use=use,
                     served=served)


def _keep(cands: dict[str, Candidate], c: Candidate) -> bool:
    """One entry per candidate: its best-scoring way of meeting the need (ties: nearer library, IRI);
    whether ``c`` is it now."""
    old = cands.get(c.iri)
    if old is None or (c.score, -len(c.library), c.library) > (old.score, -len(old.library), old.library):
        cands[c.iri] = c
        return True
    return False


def _s(s: str, p: Any, o: str) -> Step:
    return Step(subject=s, subject_label=None, predicate=str(p), object=o, object_label=None)


def _type_steps(t: str, f: tuple[str, float, tuple[str, ...]], fit: str) -> list[Step]:
    if f[0] == "broader":
        path = f[2]
        return [_s(a, SKOS.broader, b) for a, b in zip(path, path[1:], strict=False)]
    if f[0] == "narrower":
        return [_s(fit, str(SKOS.broader) + "+", t)]
    return []


def _cause_steps(vil: Area, poverty: Poverty, cause: str, t: str, broader: dict[str, list[str]],
                 linked: dict[str, str], *, real: bool = False) -> list[Step]:
    """village → its poverty status (a real one for a ``real`` need) → the cause → the need type it links to
    (→ the need's type)."""
    status = next((s for s in poverty.statuses if cause in s.causes and not (real and s.example)), None)
    steps = []
    if status is not None:
        steps += [_s(area(status.area), DCPA.povertyStatus, status.iri), _s(status.iri, DCPA.povertyCause, cause)]
    target = next(up for up in ancestors_path(t, broader) if linked.get(up) == cause)
    steps.append(_s(cause, DCPA.causeLinkedNeedType, target))
    return steps


def _tail(vil: str, lib: str, served: str, supported: list[str], pol_by_type: dict[str, list[str]],
          ev: list[Any] | None) -> list[Step]:
    steps = [_s(lib, DCPA.serves, served)]
    if served != vil:
        steps.append(_s(vil, DCPA.withinArea, served))
    steps.append(_s(lib, CANDIDATE_REACH, vil))
    for x in supported[:1]:
        steps.append(_s(sorted(pol_by_type[x])[0], DCPA.supportsNeedType, x))
    if ev and ev[2]:
        e, i = ev[2]
        steps.append(_s(e, DCPA.evaluates, i))
    return steps


def _resource_path(n: NeedRow, vil: str, r: dict[str, Any], f: tuple[str, float, tuple[str, ...]],
                   supported: list[str], pol_by_type: dict[str, list[str]], ev: list[Any] | None) -> list[Step]:
    steps = [_s(n.iri, DCPA.needOf, vil), _s(n.iri, DCPA.needType, n.need_type)]
    steps += _type_steps(n.need_type, f, r["fit"])
    if r.get("own"):
        steps.append(_s(r["res"], DCPA.addressesNeedType, r["fit"]))
    else:
        steps += [_s(r["res"], DCPA.resourceType, r["rt"]), _s(r["rt"], DCPA.addressesNeedType, r["fit"])]
    steps.append(_s(r["res"], DCPA.heldBy, r["lib"]))
    return steps + _tail(vil, r["lib"], r["served"], supported, pol_by_type, ev)


def _intervention_path(n: NeedRow, vil: str, r: dict[str, Any], f: tuple[str, float, tuple[str, ...]],
                       supported: list[str], pol_by_type: dict[str, list[str]], pol_own: dict[str, list[str]],
                       ev: list[Any] | None) -> list[Step]:
    steps = [_s(n.iri, DCPA.needOf, vil), _s(n.iri, DCPA.needType, n.need_type)]
    steps += _type_steps(n.need_type, f, r["fit"])
    steps.append(_s(r["i"], DCPA.interventionStatus, r["st"]))
    if r.get("cat"):
        steps.append(_s(r["i"], DCPA.category, r["cat"]))
    steps.append(_s(r["i"], DCPA.providedBy, r["lib"]))
    for p in sorted(pol_own.get(r["i"], []))[:1]:
        steps.append(_s(r["i"], DCPA.supportedBy, p))
    return steps + _tail(vil, r["lib"], r["served"], supported, pol_by_type, ev)


def _label_everything(store: StoreAPI, needs: list[NeedRecommendation], lang: str) -> None:
    iris: set[str] = set()
    for n in needs:
        iris.add(n.need_type)
        for c in n.candidates:
            iris.update((c.iri, c.library, c.served, c.fit_type))
            for s in c.explanation:
                iris.update((s.subject, s.object, s.predicate))
    names = labels(store, iris)

    def name(i: str) -> str | None:
        lab = names.get(i)
        return lab.get(lang) if lab else None

    for n in needs:
        n.need_type_label = name(n.need_type)
        for c in n.candidates:
            c.label, c.library_label, c.served_label = name(c.iri), name(c.library), name(c.served)
            for s in c.explanation:
                s.subject_label, s.object_label = name(s.subject), name(s.object)


__all__ = ["CANDIDATES_PER_NEED", "MAX_CANDIDATES", "USES", "WEIGHTS", "WITHIN_LEVELS", "AreaRecommendations",
           "Candidate", "NO_CANDIDATE", "NeedRecommendation", "RecommendationReport", "Step", "check_limit",
           "explanation_labels", "explanation_name", "recommend", "recommend_within"]
