"""Import-guard benchmark: what the checks of hostile input cost on a large honest file, and what a bomb costs.

    python -m benchmarks bench_import_guards              # 100,000 rows
    python -m benchmarks bench_import_guards --rows 20000

Each measurement runs in its own subprocess, so its peak resident memory (``ru_maxrss``) is its own:

  * reading a needs XLSX and the same rows as CSV with ``kg.importer.readers.read_file`` (container
    checks, cell counting, strict CSV, per-line encodings and text checks included), against the
    bare readers (openpyxl alone, the csv module alone), and the XLSX container check alone;
  * refusing a 1 GiB decompression bomb (about 1 MB on disk).

Reading only: no store, no SHACL. Targets: the checks add little to reading; the bomb is refused in
well under a second without inflating anything.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _rows(n: int) -> list[list[str]]:
    import random

    r = random.Random(1)
    return [
        [
            f"2101{r.randrange(10**8):08d}",
            f"N{r.randrange(1, 5)}{r.randrange(1, 5)}",
            str(r.randrange(1, 6)),
            str(r.randrange(1, 500)),
            "survey",
            f"2018-{r.randrange(1, 13):02d}-{r.randrange(1, 28):02d}",
            "县图书馆",
            "备注" * r.randrange(0, 5),
        ]
        for _ in range(n)
    ]


#: The measurements, each in its own process: bare readers first, then read_file with every check.
CHILDREN = ("container", "xlsx-bare", "xlsx", "csv-bare", "csv", "bomb")
HEADER = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor", "note"]


def make_files(workdir: Path, n: int) -> None:
    import csv

    import openpyxl

    rows = _rows(n)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("needs")
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(workdir / "needs.xlsx")
    with open(workdir / "needs.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    sys.path.insert(0, str(ROOT / "tests" / "hardening"))
    import hostile  # the suite's bomb maker

    hostile.bomb_xlsx(workdir / "bomb.xlsx", 1024)


def child(what: str, workdir: Path) -> dict[str, Any]:
    from kg.importer.container import check_xlsx
    from kg.importer.readers import read_file
    from kg.settings import Settings

    settings = Settings(_env_file=None, max_import_rows=10**9, max_import_bytes=10**12)  # type: ignore[call-arg]
    start = time.perf_counter()
    issues: list[Any] = []
    if what == "container":
        problem = check_xlsx(workdir / "needs.xlsx", "needs.xlsx", settings)
        result: Any = problem is None
    elif what == "xlsx-bare":  # what reading costs without any of the checks: openpyxl alone
        import openpyxl

        wb = openpyxl.load_workbook(workdir / "needs.xlsx", read_only=True, data_only=True)
        result = sum(1 for ws in wb.worksheets for _ in ws.iter_rows(values_only=True)) - 1
        wb.close()
    elif what == "csv-bare":  # the csv module alone, lenient, on text already known to be UTF-8
        import csv
        import io

        text = (workdir / "needs.csv").read_bytes().decode("utf-8")
        result = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
    else:
        path = workdir / {"xlsx": "needs.xlsx", "csv": "needs.csv", "bomb": "bomb.xlsx"}[what]
        tables = read_file(path, settings, issues)
        result = sum(len(t.rows) for t in tables)
    seconds = time.perf_counter() - start
    return {
        "what": what,
        "result": result,
        "issues": [str(i)[:120] for i in issues[:1]],
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks bench_import_guards", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", choices=[*CHILDREN], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.workdir), ensure_ascii=False))
        return 0
    with tempfile.TemporaryDirectory(prefix="dcpa-bench-guards-") as tmp:
        workdir = Path(tmp)
        print(f"writing {args.rows:,} rows as XLSX and CSV, and a 1 GiB bomb…", file=sys.stderr, flush=True)
        make_files(workdir, args.rows)
        sizes = {p.name: round(p.stat().st_size / 2**20, 2) for p in workdir.iterdir()}
        print(f"files (MiB): {sizes}")
        for what in CHILDREN:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_import_guards", "--child", what, "--workdir", str(workdir)],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{r['what']:<9} {r['seconds']:>8} s  peak RSS {r['peak_rss_mb']:>7} MB  "
                f"result={r['result']}  {'; '.join(r['issues'])}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
