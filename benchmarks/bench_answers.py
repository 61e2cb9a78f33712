"""Benchmark of the answers at province and national scale.

    .venv/bin/python benchmarks/bench_answers.py --scale province
    .venv/bin/python benchmarks/bench_answers.py --scale national --store /tmp/dcpa-national

Builds the graph with ``kg.build.build_into`` (example data from ``kg.synthetic``, fixed seed)
in memory (province) or in an on-disk store (national; reused when ``--store`` already holds
one), then times: ``recommend`` for random villages (median, p95), full-province ``gaps``,
``plan`` for one county and for the whole province, ``similar``, the statistics (``kg.stats``), and every
catalogue query.
``--rdflib`` also runs the catalogue on rdflib's in-memory store (province scale) and prints
the time ratio; queries still running after ``--rdflib-timeout`` seconds are stopped and reported.
On an on-disk store each catalogue query runs in its own process, stopped after ``--query-timeout``.
A store built here is compacted (``Store.optimize``) after the bulk load, as a deployment should:
the freshly bulk-loaded national store answered ``recommend`` 3x slower.

Gaps are also timed on the two slower paths, as baselines measured in the same run: per-need states and
reasons (a reach rule other than the full one) and the rule applied live (a period), and so is the refresh of
the derived graph that every write pays (a no-op diff on a consistent store, so it also runs read-only).
Answers are for the derived graph's date (``dcpa:derivedAsOf``), so that they read it.

Targets at national scale: recommend median < 20 ms, province gaps < 2 s, county plan < 5 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg import derived
from kg.answers.villages import village_detail
from kg.build import build_into
from kg.catalogue import bind_params, load_catalogue, run_query
from kg.matching import gaps, recommend, similar
from kg.planning import plan
from kg.settings import Settings
from kg.stats import stats
from kg.store import Store, to_rdflib

SCALES = {"province": 16_727, "national": 128_000}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def open_store(scale: str, villages: int, seed: int, path: Path | None) -> Store:
    if path is not None and path.exists():
        print(f"using the store at {path}", file=sys.stderr)
        return Store.open(path, read_only=True, create=False)
    store = Store.open(path) if path is not None else Store.memory()
    dt, (graphs, _) = timed(lambda: build_into(store, example_villages=villages, seed=seed,
                                               workdir=path.parent if path else None))
    print(f"built {scale} ({villages} villages): {sum(graphs.values()):,} triples in {dt:.0f} s", file=sys.stderr)
    if path is not None:
        # Compacting after the bulk load made national recommend 3x faster (50 -> 15 ms median).
        dt, _ = timed(store.optimize)
        print(f"compacted the store in {dt:.0f} s", file=sys.stderr)
    return store


def village_sample(store: Store, n: int, seed: int) -> list[str]:
    rows = store.select("SELECT DISTINCT ?c WHERE { ?v a dcpa:Village ; dcpa:areaCode ?c . FILTER(STRSTARTS(?c, '21')) "
                        "FILTER EXISTS { ?n dcpa:needOf ?v } }")
    codes = sorted(r["c"] for r in rows)
    return random.Random(seed).sample(codes, min(n, len(codes)))


def params_for(q: Any, village: str) -> dict[str, str]:
    return {"village": village} if q.param("village") else {}


def run(store: Store, scale: str, n_recommend: int, seed: int, query_timeout: float = 0.0) -> dict[str, float]:
    villages = village_sample(store, n_recommend, seed)
    m = derived.marker(store)
    day = m.as_of if m else None
    settings = Settings(as_of=day)
    results: dict[str, float] = {}
    times = [timed(lambda v=v: recommend(store, v, settings=settings))[0] for v in villages]  # type: ignore[misc]
    results["recommend median"] = statistics.median(times)
    results["recommend p95"] = pct(times, 0.95)
    times = [timed(lambda v=v: village_detail(store, v, settings=settings))[0]  # type: ignore[misc]
             for v in villages[:20]]
    results["village detail (states and reasons) median"] = statistics.median(times)
    results["similar median"] = statistics.median([timed(lambda v=v: similar(store, v))[0]  # type: ignore[misc]
                                                   for v in villages[:20]])
    results["gaps province (by area)"] = timed(lambda: gaps(store, "21", settings=settings))[0]
    results["gaps province (by category)"] = timed(lambda: gaps(store, "21", by="category", settings=settings))[0]
    # baselines in the same run: per-need reasons (another reach rule), and the rule applied live (a period)
    results["gaps province (reach=direct: per-need reasons)"] = timed(
        lambda: gaps(store, "21", reach="direct", settings=settings))[0]
    results["gaps province (live rule: with a period)"] = timed(
        lambda: gaps(store, "21", period=("1900-01-01", "2999-12-31"), settings=settings))[0]
    # what every write adds: recount the county of a changed village, or a whole province
    results["derived refresh, one county (after a write)"] = timed(
        lambda: derived.refresh(store, [villages[0]], settings=settings))[0]
    results["derived refresh, whole province"] = timed(lambda: derived.refresh(store, ["21"], settings=settings))[0]
    # what `dcpa stats` and `/api/stats` (once after each write) cost: every graph, class and headline counted
    results["statistics (every graph, class and headline)"] = timed(lambda: stats(store, settings))[0]
    county = villages[0][:6]
    results[f"plan county {county} (200k yuan)"] = timed(lambda: plan(store, 200_000, county, settings=settings))[0]
    results["plan province (5M yuan)"] = timed(lambda: plan(store, 5_000_000, "21", settings=settings))[0]
    for q in load_catalogue().values():
        if store.path is not None and query_timeout:
            results[f"query {q.name}"] = query_in_subprocess(store.path, q.name, params_for(q, villages[0]),
                                                             query_timeout)
        else:
            results[f"query {q.name}"] = timed(lambda q=q: run_query(store, q, params_for(q, villages[0]),  # type: ignore[misc]
                                                                     limit=10_000))[0]
    print(f"\n== {scale} ==")
    for k, v in results.items():
        print(f"{k:55s} {v * 1000:10.1f} ms" if v != float("inf") else f"{k:55s}  > {query_timeout:.0f} s (stopped)")
    return results


_ONE_QUERY = """
import sys, time
from pathlib import Path
from kg.catalogue import run_query
from kg.store import Store
store = Store.open(Path(sys.argv[1]), read_only=True, create=False)
params = dict(a.split("=", 1) for a in sys.argv[3:])
t = time.perf_counter()
run_query(store, sys.argv[2], params, limit=10_000)
print(time.perf_counter() - t)
"""


def query_in_subprocess(path: Path, name: str, params: dict[str, str], timeout: float) -> float:
    """Time one catalogue query in a child process on the on-disk store; ``inf`` if it is stopped.

    A query still running after ``timeout`` seconds is killed with its process, so no engine thread
    keeps a core busy while the other queries are timed.
    """
    args = [sys.executable, "-c", _ONE_QUERY, str(path), name, *(f"{k}={v}" for k, v in params.items())]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return float("inf")
    return float(out.stdout.strip().splitlines()[-1])


def _rdflib_worker(g: Any, text: str, bindings: dict[str, Any], out: Any) -> None:
    from kg.namespaces import PREFIXES

    t = time.perf_counter()
    list(g.query(text, initNs=PREFIXES, initBindings=bindings))
    out.put(time.perf_counter() - t)


def compare_rdflib(store: Store, oxi: dict[str, float], village: str, timeout: float) -> None:
    """The same catalogue queries on rdflib's in-memory store; ratio = rdflib / Oxigraph.

    Each query runs in a forked child (the graph is shared copy-on-write) that is killed after
    ``timeout`` seconds, so a query rdflib cannot finish does not keep running behind the others.
    """
    ctx = multiprocessing.get_context("fork")
    dt, g = timed(lambda: store.to_rdflib())
    print(f"\n== rdflib (copied {len(g):,} triples in {dt:.0f} s) ==")
    for q in load_catalogue().values():
        bindings = {k: to_rdflib(v) for k, v in bind_params(q, params_for(q, village)).items()}
        out = ctx.Queue()
        child = ctx.Process(target=_rdflib_worker, args=(g, q.text, bindings, out), daemon=True)
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
        o = oxi[f"query {q.name}"]
        t = None if out.empty() else out.get()
        if t is not None:
            print(f"query {q.name:40s} rdflib {t * 1000:10.1f} ms  oxigraph {o * 1000:8.1f} ms  "
                  f"ratio {t / o:8.1f}×")
        else:
            print(f"query {q.name:40s} rdflib > {timeout:.0f} s     oxigraph {o * 1000:8.1f} ms  "
                  f"ratio > {timeout / o:.0f}×")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["province", "national", "both"], default="province")
    ap.add_argument("--villages", type=int, help="override the number of villages")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--recommend", type=int, default=100, help="random villages for recommend")
    ap.add_argument("--store", type=Path, help="on-disk store to build into or reuse (national)")
    ap.add_argument("--rdflib", action="store_true", help="compare the catalogue on rdflib (province)")
    ap.add_argument("--rdflib-timeout", type=float, default=60.0)
    ap.add_argument("--query-timeout", type=float, default=120.0,
                    help="seconds per catalogue query on an on-disk store (each runs in its own process)")
    a = ap.parse_args(argv)
    for scale in (["province", "national"] if a.scale == "both" else [a.scale]):
        villages = a.villages or SCALES[scale]
        store = open_store(scale, villages, a.seed, a.store if scale == "national" else None)
        res = run(store, scale, a.recommend, a.seed, a.query_timeout)
        if a.rdflib and scale == "province":
            compare_rdflib(store, res, village_sample(store, 1, a.seed)[0], a.rdflib_timeout)


if __name__ == "__main__":
    main()
