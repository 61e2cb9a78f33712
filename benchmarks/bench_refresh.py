"""Refresh benchmark: what keeping the derived graph current costs a write, up to a whole province.

    python -m benchmarks bench_refresh --store var/store                     # the built store (copied)
    python -m benchmarks bench_refresh --store /tmp/dcpa-national/store --in-place

On a copy of the store (or the store itself with ``--in-place``), as of the derived graph's date:

  * a refresh with nothing changed, for one county and for the whole province (``kg.derived.refresh``);
  * a province-wide write: one example intervention targeting province 21 with an online resource that
    states need types (so that it reaches every village), imported with ``kg.importer.import_records``;
    then the same intervention cancelled with ``replace_record``; then a project naming 20 villages of the
    province drawn at random (a planner's usual write). Each prints the whole write, the refresh inside
    it, and how many needs and summaries the refresh rewrote.

A store whose derived graph predates ``dcpa:derivedDigest`` has every need of the province rewritten
by its first refresh; that run is printed as such, and the figures after it are the steady state.

Target (issue 14): a province-wide write refreshed in under 2 s at national scale.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg import derived
from kg.errors import ValidationFailed
from kg.importer import import_records, journal, replace_record
from kg.rule import ONLINE
from kg.settings import Settings
from kg.store import Store

#: The province the writes reach (the bundled data's and the national benchmark's Liaoning).
PROVINCE = "21"


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def pick(store: Store) -> dict[str, str]:
    """An intervention row reaching the whole province: an online resource stating need types and a
    library that exist."""
    online = ONLINE
    rows = store.select(f"""SELECT DISTINCT ?r WHERE {{
        ?r dcpa:addressesNeedType|dcpa:resourceType/dcpa:addressesNeedType ?t .
        {{ ?r dcpa:deliveryMode <{online}> }} UNION {{ ?r dcpa:resourceType/dcpa:deliveryMode <{online}> }}
        FILTER(STRSTARTS(STR(?r), "https://w3id.org/dcpa/id/resource/")) }} ORDER BY ?r LIMIT 1""")
    if not rows:
        raise SystemExit("no online resource stating a need type in this store")
    library = store.select("SELECT ?l WHERE { ?i dcpa:providedBy ?l } ORDER BY ?l LIMIT 1")[0]["l"]
    return {"id": "BENCH-PROVINCE-WIDE", "name_zh": "示例·全省在线资源（基准测试）", "category": "C3",
            "provided_by": _local(library), "target_areas": PROVINCE, "uses_resources": _local(rows[0]["r"]),
            "status": "S2", "start_date": "2000-01-01", "source": "document"}


#: Villages a project names (drawn at random from the province, seeded): a planner's usual write.
PROJECT_VILLAGES = 20


def villages(store: Store, k: int, seed: int = 7) -> list[str]:
    """``k`` village codes of the province, drawn at random."""
    codes = sorted(r["c"] for r in store.select(
        f"SELECT ?c WHERE {{ ?v a dcpa:Village ; dcpa:areaCode ?c FILTER(STRSTARTS(?c, '{PROVINCE}')) }}"))
    return sorted(random.Random(seed).sample(codes, k))


class Timed:
    """Wraps the importer's refresh so that a write's refresh is timed on its own."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.changed = 0
        self._inner = journal.refresh

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        t = time.perf_counter()
        self.changed = self._inner(*args, **kwargs)
        self.seconds = time.perf_counter() - t
        return self.changed


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(store: Store, settings: Settings) -> None:
    county = store.select(f"SELECT ?c WHERE {{ ?a dcpa:withinArea <https://w3id.org/dcpa/id/area/{PROVINCE}> ; "
                          "dcpa:areaCode ?c FILTER(STRLEN(?c) = 6) } ORDER BY ?c LIMIT 1")[0]["c"]
    has_digests = store.ask("ASK { GRAPH <https://w3id.org/dcpa/graph/derived> { ?n dcpa:derivedDigest ?d } }")
    if not has_digests:
        dt, n = timed(lambda: derived.refresh(store, [PROVINCE], settings=settings))
        print(f"first refresh of a derived graph without digests (province {PROVINCE}): {dt:7.2f} s, "
              f"{n:,} nodes rewritten (once per store)")
    for label, area in ((f"one county ({county})", county), (f"whole province ({PROVINCE})", PROVINCE)):
        dt, n = timed(lambda area=area: derived.refresh(store, [area], settings=settings))  # type: ignore[misc]
        print(f"refresh, nothing changed, {label:24s} {dt:7.2f} s  ({n} nodes rewritten)")
    timer = Timed()
    journal.refresh = timer  # type: ignore[assignment]
    try:
        row = pick(store)
        try:
            dt, _ = timed(lambda: import_records(store, "interventions", [row], user="bench", settings=settings))
        except ValidationFailed as e:
            raise SystemExit(f"the benchmark's intervention was refused: {e.to_dict()}") from e
        print(f"province-wide write (import):  {dt:7.2f} s, its refresh {timer.seconds:7.2f} s, "
              f"{timer.changed:,} nodes rewritten")
        dt, _ = timed(lambda: replace_record(store, "interventions", row["id"], {**row, "status": "S4"},
                                             user="bench", settings=settings))
        print(f"province-wide write (cancel):  {dt:7.2f} s, its refresh {timer.seconds:7.2f} s, "
              f"{timer.changed:,} nodes rewritten")
        project = {**row, "id": "BENCH-PROJECT", "name_zh": "示例·二十村数字素养课（基准测试）", "category": "C1",
                   "uses_resources": "", "target_areas": ";".join(villages(store, PROJECT_VILLAGES))}
        dt, _ = timed(lambda: import_records(store, "interventions", [project], user="bench", settings=settings))
        print(f"a project in {PROJECT_VILLAGES} villages over the province (import): {dt:7.2f} s, its refresh "
              f"{timer.seconds:7.2f} s, {timer.changed:,} nodes rewritten")
    finally:
        journal.refresh = timer._inner  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_refresh", description=__doc__.split("\n")[0])
    ap.add_argument("--store", default="var/store", help="the store (copied first unless --in-place)")
    ap.add_argument("--in-place", action="store_true", help="write into the store itself (a throwaway copy)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dcpa-bench-refresh-") as tmp:
        path = Path(a.store).resolve()
        if not a.in_place:
            shutil.copytree(path, Path(tmp) / "store")
            path = Path(tmp) / "store"
        store = Store.open(path, create=False)
        try:
            m = derived.marker(store)
            settings = Settings(_env_file=None, store_path=path, imports_path=Path(tmp) / "imports",  # type: ignore[call-arg]
                                as_of=m.as_of if m else None)
            print(f"== store {a.store}: {store.count():,} quads; as of {m.as_of if m else 'today'}")
            run(store, settings)
        finally:
            store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak memory {peak:,} MB")
    print("target: a province-wide write refreshed in < 2 s (national scale)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
