"""Copy the pinned browser libraries from node_modules into api/static/vendor (vis-network, which the
library's graph pages use, into kg/viz/static/vendor).

Run by `make assets` after `npm ci`. The API serves both from /static/vendor,
so no page needs the internet.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "api" / "static" / "vendor"
VIZ = ROOT / "kg" / "viz" / "static" / "vendor"  # the library inlines it into self-contained pages

#: (source under node_modules, destination under api/static/vendor)
FILES = [
    ("vis-network/standalone/umd/vis-network.min.js", "vis-network/vis-network.min.js"),
    ("vis-network/LICENSE-APACHE-2.0", "vis-network/LICENSE-APACHE-2.0"),
    ("@zazuko/yasgui/build/yasgui.min.js", "yasgui/yasgui.min.js"),
    ("@zazuko/yasgui/build/yasgui.min.css", "yasgui/yasgui.min.css"),
    ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    ("swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"),
    ("swagger-ui-dist/LICENSE", "swagger-ui/LICENSE"),
    ("chart.js/dist/chart.umd.min.js", "chart.js/chart.umd.min.js"),
    ("chart.js/LICENSE.md", "chart.js/LICENSE.md"),
]


def main() -> int:
    missing = [src for src, _ in FILES if not (NODE / src).exists()]
    if missing:
        print("missing in node_modules (run `npm ci`):", *missing, sep="\n  ", file=sys.stderr)
        return 2
    for src, dst in FILES:
        target = (VIZ if dst.startswith("vis-network/") else DEST) / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
    print(f"copied {len(FILES)} files to {DEST.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
