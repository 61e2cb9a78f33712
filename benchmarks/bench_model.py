"""Benchmark of the model page's answer (``kg.answers.model.model_view``) and its catalogue query.

    .venv/bin/python -m benchmarks bench_model --store /tmp/dcpa-province  # built with --example-villages 16727
    .venv/bin/python -m benchmarks bench_model                             # builds the province scale in memory

Times ``model_view`` for random counties and villages (median, p95, max) and ``model_stages`` for the same
counties, and says how many villages with a gap each county had: "needs with no candidate" asks ``recommend``
once per such village, which is where a county's time goes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from kg.answers.model import model_view
from kg.build import build_into
from kg.catalogue import run_query
from kg.store import Store

PROVINCE = 16_727


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, help="an existing store (read only); else the province scale in memory")
    ap.add_argument("--counties", type=int, default=8)
    ap.add_argument("--villages", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.store:
        store = Store.open(args.store, read_only=True)
    else:
        store = Store.memory()
        build_into(store, example_villages=PROVINCE, seed=42)
    quads = store.count()
    rng = random.Random(args.seed)
    counties = sorted({r["c"][:6] for r in store.select(
        "SELECT DISTINCT ?c WHERE { ?n dcpa:needOf ?v . ?v dcpa:areaCode ?c FILTER(STRSTARTS(?c, '21')) }")})
    villages = sorted({r["c"] for r in store.select(
        "SELECT DISTINCT ?c WHERE { ?n dcpa:needOf ?v . ?v dcpa:areaCode ?c FILTER(STRSTARTS(?c, '21')) }")})
    print(f"store: {quads:,} quads; {len(counties)} counties and {len(villages)} villages with needs")
    for level, codes in (("county", rng.sample(counties, min(args.counties, len(counties)))),
                         ("village", rng.sample(villages, min(args.villages, len(villages))))):
        times: list[float] = []
        for code in codes:
            t = time.perf_counter()
            rep = model_view(store, code)
            times.append(time.perf_counter() - t)
            if level == "county":
                gaps = len({i["village"] for b in rep.broken if b.key == "no_candidate" for i in b.items})
                print(f"  {code}: {times[-1]:.2f} s, {rep.stages[1].count} needs, {gaps} villages with a need "
                      f"nothing could meet")
        print(f"model_view, {level} ({len(codes)}): median {statistics.median(times):.3f} s, "
              f"p95 {_pct(times, 0.95):.3f} s, max {max(times):.3f} s")
        if level == "county":
            qt = []
            for code in codes:
                t = time.perf_counter()
                run_query(store, "model_stages", {"area": code})
                qt.append(time.perf_counter() - t)
            print(f"model_stages query, county ({len(codes)}): median {statistics.median(qt):.3f} s, "
                  f"max {max(qt):.3f} s")


if __name__ == "__main__":
    main()
