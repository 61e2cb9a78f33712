"""Where the service's own files are: static assets (served at /static) and page templates."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment

from kg import viz
from kg.viz import STATIC_DIR as VIZ_STATIC_DIR

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: The browser libraries the pages load from /static/vendor (copied there from node_modules by `make assets`):
#: the service's own, and vis-network in the library's kg/viz/static, which /static serves too.
VENDOR_FILES = ("chart.js/chart.umd.min.js", "yasgui/yasgui.min.js", "yasgui/yasgui.min.css",
                "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css")
VIZ_VENDOR_FILES = ("vis-network/vis-network.min.js",)


def missing_assets(static: Path = STATIC_DIR, viz_static: Path = VIZ_STATIC_DIR) -> list[str]:
    """The browser libraries missing (as /static/vendor paths): without them the charts, the SPARQL editor, the API
    documentation and the graph pages do not work, and nothing else would say why."""
    wanted = [(static, n) for n in VENDOR_FILES] + [(viz_static, n) for n in VIZ_VENDOR_FILES]
    return [name for root, name in wanted if not (root / "vendor" / name).is_file()]


def pages() -> Environment:
    """The Jinja environment of the service's pages: its templates before the library's, and asset URLs
    fingerprinted from its static folder before the library's (the order in which ``/static`` serves them)."""
    return viz.environment(TEMPLATES_DIR, assets=(STATIC_DIR,))
