"""Withdrawal benchmark: take back an import of N need rows, time and peak memory.

    python -m benchmarks bench_withdraw --rows 20000 --store var/store

On a copy of the store: N generated need rows (as ``bench_import`` makes them) are imported, then
withdrawn (``kg.importer.withdraw``: the check that nothing else refers to them, the drop of the batch's
graph with the withdrawal record, the derived graph refreshed), each in its own subprocess so that its
peak resident memory (``ru_maxrss``) is its own; then the store is compared with what it was before the
import (the withdrawal must leave it as it found it, the withdrawal record aside).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_import import make_rows, measure
from kg.importer import history, withdraw
from kg.namespaces import GRAPH_WITHDRAWN_PREFIX
from kg.settings import Settings
from kg.store import Store

ROOT = Path(__file__).resolve().parent.parent


def child(store_path: str, imports: str) -> dict[str, Any]:
    """The withdrawal of the newest batch, in this (child) process."""
    settings = Settings(_env_file=None, store_path=Path(store_path), imports_path=Path(imports))  # type: ignore[call-arg]
    batch = history(imports)[0].batch_id
    store = Store.open(store_path, create=False)
    started = time.perf_counter()
    report = withdraw(store, batch, user="bench", reason="benchmark", settings=settings)
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "triples": report.triples}


def fingerprint(store_path: str) -> int:
    """A hash of the store's N-Quads without the withdrawal records and the class partitions the derived graph
    counts them in (order-independent)."""
    store = Store.open(store_path, read_only=True, create=False)
    try:
        buf = io.BytesIO()
        store.dump(buf, "nq")
    finally:
        del store
    lines = buf.getvalue().splitlines()
    withdrawn = b"<" + GRAPH_WITHDRAWN_PREFIX.encode()
    partitions = {line.split(b" ")[2] for line in lines if line.startswith(withdrawn) and b"#classPartition>" in line}
    return hash(frozenset(line for line in lines
                          if withdrawn not in line and line.split(b" ", 1)[0] not in partitions))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_withdraw", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--store", default="var/store", help="the store to copy (not modified)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--compare", action="store_true", help="also check the store is as before (reads it twice)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(*a.child)))
        return 0
    with tempfile.TemporaryDirectory(prefix="dcpa-bench-withdraw-") as tmp:
        work = Path(tmp)
        copy, imports = work / "store", work / "imports"
        shutil.copytree(Path(a.store).resolve(), copy)
        probe = Store.open(str(copy), read_only=True, create=False)
        quads = probe.count()
        del probe
        print(f"== store {a.store}: {quads:,} quads; {a.rows:,} need rows")
        rows = work / "needs.csv"
        make_rows(str(copy), a.rows, a.seed, rows)
        before = fingerprint(str(copy)) if a.compare else None
        r = measure("write", str(copy), rows, imports)
        print(f"import:   {r['seconds']:7.1f} s  peak {r['peak_mb']:,} MB  {r['outcome']}")
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_withdraw", "--child", str(copy), str(imports)],
                             cwd=ROOT, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"withdrawal failed:\n{out.stderr[-3000:]}")
        w = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"withdraw: {w['seconds']:7.1f} s  peak {w['peak_mb']:,} MB  ({w['triples']:,} triples taken back)")
        if before is not None:
            print("store as before the import:", "yes" if fingerprint(str(copy)) == before else "NO")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
