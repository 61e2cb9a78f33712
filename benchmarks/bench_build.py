"""Build benchmark: time, store size and peak memory at province and national scale.

    python -m benchmarks bench_build                    # both scales
    python -m benchmarks bench_build --scale province   # 16,727 real village-level units
    python -m benchmarks bench_build --scale national   # 128,000 villages (real + fictitious province 99)

Each scale runs in its own subprocess, so its peak resident memory (``ru_maxrss``) is its own.
Targets (issue 3): province < 60 s and < 2 GB; national < 10 min and < 8 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCALES = {
    # name: (villages, seconds target, memory target in MB)
    "province": (16_727, 60, 2_048),
    "national": (128_000, 600, 8_192),
}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def child(scale: str, workdir: Path) -> dict[str, object]:
    """Build one scale in this process and measure it."""
    from kg.build import build
    from kg.settings import Settings

    villages = SCALES[scale][0]
    settings = Settings(store_path=workdir / "store", imports_path=workdir / "imports", example_villages=villages)
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        marks.setdefault(step, time.perf_counter() - start)

    report = build(settings, force=True, progress=progress)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss  # KiB on Linux
    return {
        "scale": scale,
        "villages": villages,
        "triples": report.triples,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),  # all threads; wall time suffers on a busy host
        "step_start_s": {k: round(v, 1) for k, v in marks.items()},
        "store_mb": round(_size(workdir / "store") / 2**20, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def run_scale(scale: str, keep: Path | None) -> dict[str, object]:
    workdir = keep or Path(tempfile.mkdtemp(prefix=f"dcpa-bench-{scale}-"))
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_build", "--child", scale, "--workdir", str(workdir)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _print(r: dict[str, object]) -> None:
    villages, max_s, max_mb = SCALES[str(r["scale"])]
    ok_time = float(r["seconds"]) < max_s  # type: ignore[arg-type]
    ok_mem = float(r["peak_rss_mb"]) < max_mb  # type: ignore[arg-type]
    print(
        f"{r['scale']:<9} villages={villages:>7,}  triples={r['triples']:>11,}  "
        f"build={r['seconds']:>7} s (target < {max_s} s: {'ok' if ok_time else 'MISSED'}; "
        f"CPU {r.get('cpu_seconds', '?')} s)  "
        f"store={r['store_mb']:>8} MB  peak RSS={r['peak_rss_mb']:>8} MB "
        f"(target < {max_mb} MB: {'ok' if ok_mem else 'MISSED'})"
    )
    print(f"          step start times (s): {r['step_start_s']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks bench_build", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=[*SCALES, "all"], default="all")
    parser.add_argument("--keep", type=Path, help="build here and keep the store (one scale only)")
    parser.add_argument("--child", choices=list(SCALES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.workdir)))
        return 0
    scales = list(SCALES) if args.scale == "all" else [args.scale]
    if args.keep and len(scales) > 1:
        parser.error("--keep needs a single --scale")
    for scale in scales:
        print(f"building {scale} scale ({SCALES[scale][0]:,} villages)…", file=sys.stderr, flush=True)
        _print(run_scale(scale, args.keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
