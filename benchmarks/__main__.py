"""Run benchmarks: ``python -m benchmarks`` (all) or ``python -m benchmarks bench_build --scale province``.

Arguments before the first option name modules (``bench_build`` or just ``build``); everything from the
first option on is passed to each module's ``main(argv)``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    """Names of the benchmark modules in this package (``bench_*.py``)."""
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def run(argv: list[str]) -> int:
    names: list[str] = []
    while argv and not argv[0].startswith("-"):
        names.append(argv.pop(0))
    mods = available()
    if not names:
        names = mods
    status = 0
    for name in names:
        mod_name = name if name.startswith("bench_") else f"bench_{name}"
        if mod_name not in mods:
            print(f"unknown benchmark {name!r}; available: {', '.join(mods)}", file=sys.stderr)
            return 2
        module = importlib.import_module(f"{__package__}.{mod_name}")
        print(f"== {mod_name}", file=sys.stderr)
        takes_args = bool(inspect.signature(module.main).parameters)
        rc = module.main(list(argv)) if takes_args else module.main()
        status = status or int(rc or 0)
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
