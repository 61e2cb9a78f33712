"""Benchmark of the answers at province and national scale.

    .venv/bin/python benchmarks/bench_answers.py --scale province
    .venv/bin/python benchmarks/bench_answers.py --scale national --store /tmp/dcpa-national

Builds the graph with ``kg.build.build_into`` (example data from ``kg.synthetic``, fixed seed)
in memory (province) or in an on-disk store (national; reused when ``--store`` already holds
one), then times: ``recommend`` for random villages (median, p95), full-province ``gaps``,
``plan`` for one county and for the whole province, ``similar``, and every catalogue query.
``--rdflib`` also runs the catalogue on rdflib's in-memory store (province scale) and prints
the time ratio; queries still running after ``--rdflib-timeout`` seconds are reported as such.

Targets at national scale: recommend median < 20 ms, province gaps < 2 s, county plan < 5 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg.build import build_into
from kg.catalogue import bind_params, load_catalogue, run_query
from kg.matching import gaps, recommend, similar
from kg.planning import plan
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
    return store


def village_sample(store: Store, n: int, seed: int) -> list[str]:
    rows = store.select("SELECT DISTINCT ?c WHERE { ?v a dcpa:Village ; dcpa:areaCode ?c . FILTER(STRSTARTS(?c, '21')) "
                        "FILTER EXISTS { ?n dcpa:needOf ?v } }")
    codes = sorted(r["c"] for r in rows)
    return random.Random(seed).sample(codes, min(n, len(codes)))


def params_for(q: Any, village: str) -> dict[str, str]:
    return {"village": village} if q.param("village") else {}


def run(store: Store, scale: str, n_recommend: int, seed: int) -> dict[str, float]:
    villages = village_sample(store, n_recommend, seed)
    results: dict[str, float] = {}
    times = [timed(lambda v=v: recommend(store, v))[0] for v in villages]  # type: ignore[misc]
    results["recommend median"] = statistics.median(times)
    results["recommend p95"] = pct(times, 0.95)
    results["similar median"] = statistics.median([timed(lambda v=v: similar(store, v))[0]  # type: ignore[misc]
                                                   for v in villages[:20]])
    results["gaps province (by area)"] = timed(lambda: gaps(store, "21"))[0]
    results["gaps province (by category)"] = timed(lambda: gaps(store, "21", by="category"))[0]
    county = villages[0][:6]
    results[f"plan county {county} (200k yuan)"] = timed(lambda: plan(store, 200_000, county))[0]
    results["plan province (5M yuan)"] = timed(lambda: plan(store, 5_000_000, "21"))[0]
    for q in load_catalogue().values():
        results[f"query {q.name}"] = timed(lambda q=q: run_query(store, q, params_for(q, villages[0]),  # type: ignore[misc]
                                                                 limit=10_000))[0]
    print(f"\n== {scale} ==")
    for k, v in results.items():
        print(f"{k:55s} {v * 1000:10.1f} ms")
    return results


def compare_rdflib(store: Store, oxi: dict[str, float], village: str, timeout: float) -> None:
    """The same catalogue queries on rdflib's in-memory store; ratio = rdflib / Oxigraph."""
    import rdflib

    from kg.namespaces import PREFIXES

    dt, g = timed(lambda: store.to_rdflib())
    print(f"\n== rdflib (copied {len(g):,} triples in {dt:.0f} s) ==")
    for q in load_catalogue().values():
        bindings = {k: to_rdflib(v) for k, v in bind_params(q, params_for(q, village)).items()}
        box: dict[str, Any] = {}

        def work(q: Any = q, bindings: dict[str, rdflib.term.Node] = bindings, box: dict[str, Any] = box) -> None:
            t = time.perf_counter()
            list(g.query(q.text, initNs=PREFIXES, initBindings=bindings))
            box["t"] = time.perf_counter() - t

        th = threading.Thread(target=work, daemon=True)
        th.start()
        th.join(timeout)
        o = oxi[f"query {q.name}"]
        if "t" in box:
            print(f"query {q.name:40s} rdflib {box['t'] * 1000:10.1f} ms  oxigraph {o * 1000:8.1f} ms  "
                  f"ratio {box['t'] / o:8.1f}×")
        else:
            print(f"query {q.name:40s} rdflib > {timeout:.0f} s     oxigraph {o * 1000:8.1f} ms  "
                  f"ratio > {timeout / o:.0f}×")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["province", "national", "both"], default="province")
    ap.add_argument("--villages", type=int, help="override the number of villages")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--recommend", type=int, default=100, help="random villages for recommend")
    ap.add_argument("--store", type=Path, help="on-disk store to build into or reuse (national)")
    ap.add_argument("--rdflib", action="store_true", help="compare the catalogue on rdflib (province)")
    ap.add_argument("--rdflib-timeout", type=float, default=60.0)
    a = ap.parse_args()
    for scale in (["province", "national"] if a.scale == "both" else [a.scale]):
        villages = a.villages or SCALES[scale]
        store = open_store(scale, villages, a.seed, a.store if scale == "national" else None)
        res = run(store, scale, a.recommend, a.seed)
        if a.rdflib and scale == "province":
            compare_rdflib(store, res, village_sample(store, 1, a.seed)[0], a.rdflib_timeout)


if __name__ == "__main__":
    main()
