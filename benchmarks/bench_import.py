"""Import benchmark: checking (dry run) and importing N need rows, time and peak memory.

    python -m benchmarks bench_import --rows 100000 --store var/store            # the built store
    python -m benchmarks bench_import --rows 100000 --store /tmp/dcpa-national/store

The rows are generated (seeded): distinct (village, need type, date) over the store's villages of
Liaoning, severities and people at random, marked ``示例·`` as example data. Each measurement runs
in its own subprocess, so its peak resident memory (``ru_maxrss``) is its own:

  * the dry run (``dcpa import --dry-run``): reading, mapping, reference checks, SHACL (kg.fastshacl);
  * the SHACL step with pySHACL instead, on the first ``--pyshacl-rows`` rows (the baseline);
  * the import itself (validated, written, derived graph refreshed) on a copy of the store, when
    ``--write`` is given (the copy costs the store's size on disk);
  * with ``--write``, a survey's import too: ``--survey`` rows (1,000) over villages drawn at random from
    the province, on a fresh copy (an import of needs spread over many counties: its refresh recomputes
    its own needs, not every need of those counties).

Target (issue 14): 100,000 rows validated and written in under 60 s and under 2 GB at national scale.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kg import fastshacl
from kg.errors import ValidationFailed
from kg.importer import checks, import_files
from kg.settings import Settings
from kg.store import Store

ROOT = Path(__file__).resolve().parent.parent


def make_rows(store_path: str, rows: int, seed: int, out: Path, *, spread: bool = False) -> int:
    """Write ``rows`` need rows to ``out``: over the villages in code order, or with ``spread`` over villages
    drawn at random from the whole province (a survey); returns how many counties they name."""
    store = Store.open(store_path, read_only=True, create=False)
    try:
        codes = sorted(r["c"] for r in store.select(
            "SELECT ?c WHERE { ?v a dcpa:Village ; dcpa:areaCode ?c FILTER(STRSTARTS(?c, '21')) }"))
    finally:
        store.close()
    rnd = random.Random(seed)
    if spread:
        codes = rnd.sample(codes, min(rows, len(codes)))
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["village_code", "need_type", "severity", "people_affected", "source", "identified_on",
                    "surveyor"])
        for i in range(rows):
            day = dt.date(2024, 1, 1) + dt.timedelta(days=i // (3 * len(codes)))
            w.writerow([codes[i % len(codes)], ["N22", "N11", "N31"][(i // len(codes)) % 3], rnd.randint(1, 5),
                        rnd.randint(1, 500), "survey", day.isoformat(), "示例·调查员"])
    return len({c[:6] for c in codes[:rows]})


def child(kind: str, store_path: str, csv_path: str, imports: str) -> dict[str, Any]:
    """One measurement, in this (child) process."""
    store = Store.open(store_path, read_only=kind != "write", create=False)
    settings = Settings(_env_file=None, store_path=Path(store_path), imports_path=Path(imports))  # type: ignore[call-arg]
    if kind == "pyshacl":  # the baseline: pySHACL for the shapes step

        def unsupported(*_a: Any, **_k: Any) -> Any:
            raise fastshacl.Unsupported("benchmark baseline")

        fastshacl.validate = unsupported  # type: ignore[assignment]
        checks.fastshacl.validate = unsupported  # type: ignore[attr-defined]
    started = time.perf_counter()
    steps: dict[str, float] = {}  # step -> seconds, from the import's own progress reports
    last = [started]  # a step first heard of after some of its work (map: every 2,000 rows) began at the last report

    def progress(step: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if step not in steps:
            steps[step] = -(now if done == 0 else last[0])
        if done == total:
            steps[step] += now
        last[0] = now

    try:
        import_files(store, [csv_path], user="bench", settings=settings, dry_run=kind != "write",
                     progress=progress)
        outcome = "ok"
    except ValidationFailed as e:
        outcome = f"refused: {e.message}"
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "outcome": outcome, "steps": {k: round(v, 1) for k, v in steps.items() if v > 0}}


def _steps(r: dict[str, Any]) -> str:
    return "  (" + ", ".join(f"{k} {v:.1f} s" for k, v in r.get("steps", {}).items()) + ")"


def measure(kind: str, store_path: str, csv_path: Path, imports: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_import", "--child", kind, store_path,
                          str(csv_path), str(imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_import", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pyshacl-rows", type=int, default=1_000, help="rows for the pySHACL baseline (0: skip)")
    ap.add_argument("--store", default="var/store", help="the store to import into (not modified)")
    ap.add_argument("--write", action="store_true", help="also import for real, into a copy of the store")
    ap.add_argument("--survey", type=int, default=1_000,
                    help="with --write, also import this many rows over villages drawn at random from the "
                         "province, as a survey's are (0: skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(*a.child)))
        return 0
    with tempfile.TemporaryDirectory(prefix="dcpa-bench-import-") as tmp:
        work = Path(tmp)

        probe = Store.open(a.store, read_only=True, create=False)
        quads = probe.count()
        probe.close()
        print(f"== store {a.store}: {quads:,} quads; {a.rows:,} need rows")
        rows = work / "needs.csv"
        make_rows(a.store, a.rows, a.seed, rows)
        r = measure("dry-run", a.store, rows, work / "imports")
        print(f"dry run (kg.fastshacl):   {r['seconds']:7.1f} s  peak {r['peak_mb']:,} MB  {r['outcome']}"
              + _steps(r))
        if a.pyshacl_rows:
            few = work / "few.csv"
            with open(rows, encoding="utf-8") as src, open(few, "w", encoding="utf-8") as dst:
                for i, line in enumerate(src):
                    if i > a.pyshacl_rows:
                        break
                    dst.write(line)
            fast = measure("dry-run", a.store, few, work / "imports")
            slow = measure("pyshacl", a.store, few, work / "imports")
            print(f"dry run, {a.pyshacl_rows:,} rows: kg.fastshacl {fast['seconds']:.1f} s, pySHACL "
                  f"{slow['seconds']:.1f} s ({slow['seconds'] / max(fast['seconds'], 1e-9):.0f}x)")
        if a.write:
            copy = work / "store"
            shutil.copytree(Path(a.store).resolve(), copy)
            r = measure("write", str(copy), rows, work / "imports")
            print(f"import (written, derived graph refreshed): {r['seconds']:7.1f} s  peak {r['peak_mb']:,} MB  "
                  f"{r['outcome']}" + _steps(r))
            if a.survey:  # a fresh copy: the rows above would share villages with these
                shutil.rmtree(copy)
                shutil.rmtree(work / "imports", ignore_errors=True)
                shutil.copytree(Path(a.store).resolve(), copy)
                survey = work / "survey.csv"
                counties = make_rows(a.store, a.survey, a.seed, survey, spread=True)
                r = measure("write", str(copy), survey, work / "imports")
                print(f"a survey's import ({a.survey:,} rows over {counties} counties): {r['seconds']:7.1f} s  "
                      f"peak {r['peak_mb']:,} MB  {r['outcome']}" + _steps(r))
    print("target: 100,000 rows validated and written < 60 s and < 2 GB (national scale)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
