"""``dcpa validate``: SHACL over the built graph and a HermiT consistency check, on a sample if large.

SHACL on the whole province graph (1–2 M triples) would take far longer than anyone waits, so above
``threshold`` triples a seeded random sample of nodes is checked, each with its neighbourhood (its own
triples, a bounded number of incoming ones, and the triples of the nodes it links to), and only results
about the sampled nodes count. The report always says whether it sampled, and how much.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import rdflib
from rdflib import URIRef
from rdflib.namespace import RDF

from . import reasoning
from .contract import StoreAPI
from .errors import DcpaError, halves
from .importer.checks import run_shacl
from .namespaces import GRAPH_ONTOLOGY, SH
from .store import to_rdflib

log = logging.getLogger(__name__)

#: Above this many data triples, SHACL runs on a sample. (pySHACL re-parses each SPARQL constraint for
#: every focus node, ~0.1 s each, so a sample of areas costs about that much per area.)
DEFAULT_THRESHOLD = 50_000
DEFAULT_SAMPLE = 500
DEFAULT_REASONER_SAMPLE = 300
_INCOMING_LIMIT = 20


@dataclass
class ValidationReport:
    conforms: bool
    shacl_conforms: bool
    violations: int
    warnings: int
    data_triples: int
    nodes_total: int
    nodes_checked: int
    triples_checked: int
    sampled: bool
    seconds: float
    results: list[dict[str, Any]] = field(default_factory=list)
    reasoner: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> list[str]:
        """What `dcpa validate` found, a line a check, ``中文 / English``."""
        scope_zh, scope = (
            (f"随机抽样的 {self.nodes_checked} 个节点（共 {self.nodes_total} 个；"
             f"{self.triples_checked} 个三元组及其邻近，共 {self.data_triples} 个）",
             f"a random sample of {self.nodes_checked} of {self.nodes_total} nodes "
             f"({self.triples_checked} triples with their neighbourhood, of {self.data_triples})")
            if self.sampled
            else (f"全部 {self.nodes_total} 个节点（{self.data_triples} 个三元组）",
                  f"all {self.nodes_total} nodes ({self.data_triples} triples)")
        )
        lines = [
            f"SHACL：{'符合' if self.shacl_conforms else '不符合'}——检查了{scope_zh}；"
            f"{self.violations} 处违反，{self.warnings} 个警告 / "
            f"SHACL: {'conforms' if self.shacl_conforms else 'does NOT conform'} — checked {scope}; "
            f"{self.violations} violation(s), {self.warnings} warning(s)"
        ]
        r = self.reasoner
        if r is None:
            lines.append("HermiT：没有运行 / HermiT: not run")
        elif not r.get("ran", True):
            zh, en = halves(str(r.get("message")))
            lines.append(f"HermiT：无法运行——{zh} / HermiT: could not run — {en}")
        else:
            state_zh, state = ("一致", "consistent") if r.get("consistent") else ("不一致", "INCONSISTENT")
            uns = r.get("unsatisfiable") or []
            named = ", ".join(map(str, uns[:10]))
            where_zh, where = halves(str(r.get("scope")))
            seconds = f"{r.get('seconds', 0):.1f}"
            lines.append(
                f"HermiT：在{where_zh}上{state_zh}；{len(uns)} 个不可满足的类{'：' + named if uns else ''}；"
                f"{seconds} 秒 / "
                f"HermiT: {state} on {where}; {len(uns)} unsatisfiable class(es){': ' + named if uns else ''}; "
                f"{seconds} s"
            )
        return lines


def _data_graphs(store: StoreAPI) -> list[str]:
    return [g for g in store.graphs() if g != str(GRAPH_ONTOLOGY)]


def _subjects(store: StoreAPI, graphs: list[str]) -> list[str]:
    rows = store.select("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }", default_graph=graphs)
    return sorted(r["s"] for r in rows)


def _neighbourhood(store: StoreAPI, graphs: list[str], nodes: list[str]) -> rdflib.Graph:
    """The nodes' triples, up to a few incoming triples each, and the triples of their neighbours."""
    g = rdflib.Graph()
    neighbours: set[str] = set()
    for i in range(0, len(nodes), 300):
        values = " ".join(f"<{n}>" for n in nodes[i : i + 300])
        for t in store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}", default_graph=graphs
        ):
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    for n in nodes:
        for t in store.query(
            f"CONSTRUCT {{ ?s ?p <{n}> }} WHERE {{ SELECT ?s ?p WHERE {{ ?s ?p <{n}> }} LIMIT {_INCOMING_LIMIT} }}",
            default_graph=graphs,
        ):
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    for s, _p, o in list(g):
        for x in (s, o):
            if isinstance(x, URIRef) and str(x) not in nodes:
                neighbours.add(str(x))
    nb = sorted(neighbours)
    for i in range(0, len(nb), 300):
        values = " ".join(f"<{n}>" for n in nb[i : i + 300])
        for t in store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}", default_graph=graphs
        ):
            g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return g


def _shacl(data: rdflib.Graph, focus: set[str] | None, max_results: int) -> tuple[int, int, list[dict[str, Any]]]:
    _conforms, results = run_shacl(data)
    violations = warnings = 0
    rows: list[dict[str, Any]] = []
    for r in results.subjects(RDF.type, SH.ValidationResult):
        node = results.value(r, SH.focusNode)
        if focus is not None and str(node) not in focus:
            continue
        severity = results.value(r, SH.resultSeverity)
        if severity == SH.Violation:
            violations += 1
        else:
            warnings += 1
        if len(rows) < max_results:
            msgs = [m for m in results.objects(r, SH.resultMessage) if getattr(m, "language", None) == "en"]
            msgs = msgs or list(results.objects(r, SH.resultMessage))
            rows.append(
                {
                    "severity": str(severity).rsplit("#", 1)[-1],
                    "focus": str(node),
                    "path": str(results.value(r, SH.resultPath) or ""),
                    "value": str(results.value(r, SH.value) or ""),
                    "message": str(msgs[0]) if msgs else "",
                }
            )
    return violations, warnings, rows


def _reasoner(data: rdflib.Graph, scope: str) -> dict[str, Any]:
    try:
        rep = reasoning.check_consistency(data)
    except (DcpaError, OSError) as e:
        return {"ran": False, "message": str(e)}
    return {
        "ran": True,
        "scope": scope,
        "consistent": bool(rep.consistent),
        "unsatisfiable": [str(u) for u in (rep.unsatisfiable or [])],
        "seconds": float(rep.seconds),
        "triples": int(rep.triples),
        "message": rep.message,
    }


def validate(
    store: StoreAPI,
    *,
    sample: int | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    default_sample: int = DEFAULT_SAMPLE,
    reasoner: bool = True,
    reasoner_sample: int = DEFAULT_REASONER_SAMPLE,
    seed: int = 0,
    max_results: int = 100,
) -> ValidationReport:
    """Validate the data graphs of ``store`` (everything but the ontology graph).

    ``sample`` forces a sample of that many nodes; without it, a sample is
    taken only when the data exceed ``threshold`` triples (``default_sample`` nodes).
    """
    t0 = time.perf_counter()
    graphs = _data_graphs(store)
    total = sum(store.count(g) for g in graphs)
    subjects = _subjects(store, graphs) if graphs else []
    rng = random.Random(seed)
    n = sample if sample is not None else (default_sample if total > threshold else None)
    if n is not None and n < len(subjects):
        chosen = sorted(rng.sample(subjects, n))
        data = _neighbourhood(store, graphs, chosen)
        focus: set[str] | None = set(chosen)
        sampled = True
    else:
        chosen = subjects
        data = rdflib.Graph()
        for g in graphs:
            for t in store.triples(g):
                data.add(t)
        focus, sampled = None, False
    checked = len(data)
    log.info("SHACL on %d triples (%s)", checked, "sample" if sampled else "all")
    violations, warnings, rows = _shacl(data, focus, max_results) if graphs else (0, 0, [])
    rep: dict[str, Any] | None = None
    if reasoner:
        if len(subjects) > reasoner_sample:
            r_nodes = sorted(rng.sample(subjects, reasoner_sample))
            r_data = _neighbourhood(store, graphs, r_nodes)
            scope = (f"随机抽样的 {reasoner_sample} 个节点（共 {len(subjects)} 个；{len(r_data)} 个三元组） / "
                     f"a random sample of {reasoner_sample} of {len(subjects)} nodes ({len(r_data)} triples)")
        else:
            r_data = rdflib.Graph()
            for g in graphs:
                for t in store.triples(g):
                    r_data.add(t)
            scope = (f"全部 {len(subjects)} 个节点（{len(r_data)} 个三元组） / "
                     f"all {len(subjects)} nodes ({len(r_data)} triples)")
        rep = _reasoner(r_data, scope)
    consistent = rep is None or not rep.get("ran", True) or (bool(rep.get("consistent")) and not rep["unsatisfiable"])
    return ValidationReport(
        conforms=violations == 0 and consistent,
        shacl_conforms=violations == 0,
        violations=violations,
        warnings=warnings,
        data_triples=total,
        nodes_total=len(subjects),
        nodes_checked=len(chosen),
        triples_checked=checked,
        sampled=sampled,
        seconds=time.perf_counter() - t0,
        results=rows,
        reasoner=rep,
    )
