"""What a planner's pages cost over a slow link: bytes sent with and without gzip, and the server's time.

    python -m benchmarks bench_pages                         # builds the bundled data in a temp dir
    python -m benchmarks bench_pages --store var/store --repeat 30 --link-kbps 1000

For each page: the page itself plus the scripts and style sheets it links from ``/static`` (what a first
visit fetches), once as ``Accept-Encoding: identity`` and once as ``gzip``. Printed per page: the bytes of
each, their ratio, the time the bytes take over a link of ``--link-kbps`` (computed: bytes × 8 / rate;
latency and TCP's slow start come on top), and the median loopback time of the page alone (``--repeat``
requests each way), which is what compressing costs the server. The server runs as ``dcpa serve``
(``bench_api.start_server``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx

from kg.engines import stop

from .bench_api import _free_port, start_server

#: The pages a planner opens (the village and area codes exist in the bundled build).
PAGES = (
    "/",
    "/dashboard",
    "/dashboard?area=211322",
    "/dashboard/village/211322101200",
    "/views/village/211322101200",
    "/views/area/211322",
    "/views/model/211322",
    "/plan?area=211322&budget=100000",
    "/dashboard/search?q=%E6%96%B0",
    "/data",
    "/sparql",
    "/api/villages?q=%E6%96%B0",
    "/api/gaps?area=21",
)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        ref = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if ref and ref.startswith("/static/"):
            self.paths.append(ref)


def wire_bytes(client: httpx.Client, url: str, encoding: str) -> tuple[int, bytes]:
    """Bytes over the wire (compressed when the server compressed) and the decoded body."""
    with client.stream("GET", url, headers={"Accept-Encoding": encoding, "Accept": "text/html"}) as r:
        raw = b"".join(r.iter_raw())
        if r.status_code != 200:
            raise SystemExit(f"{url} answered {r.status_code}")
        decoded = raw if r.headers.get("content-encoding") != "gzip" else gzip.decompress(raw)
    return len(raw), decoded


def median_ms(client: httpx.Client, url: str, encoding: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.get(url, headers={"Accept-Encoding": encoding, "Accept": "text/html"}).read()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_pages", description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, help="a built store (default: build the bundled data in a temp dir)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--link-kbps", type=float, default=1000.0, help="link rate for the computed transfer times")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = a.store
        if store is None:
            store = Path(tmp) / "store"
            env = {**os.environ, "DCPA_STORE_PATH": str(store), "DCPA_IMPORTS_PATH": str(Path(tmp) / "imports")}
            subprocess.run([sys.executable, "-m", "kg", "build"], env=env, check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        proc, url = start_server(store, port), f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(timeout=120) as client:
                print(f"scale: the store at {store}; link {a.link_kbps:g} kbit/s; {a.repeat} requests per timing")
                print(f"{'page (+ its /static assets)':44} {'identity':>10} {'gzip':>9} {'ratio':>6} "
                      f"{'s @link':>13} {'ms plain':>9} {'ms gzip':>8}")
                total = [0, 0]
                for page in PAGES:
                    plain, body = wire_bytes(client, url + page, "identity")
                    packed, _ = wire_bytes(client, url + page, "gzip")
                    parser = _Assets()
                    parser.feed(body.decode("utf-8", "replace"))
                    for asset in parser.paths:
                        plain += wire_bytes(client, url + asset, "identity")[0]
                        packed += wire_bytes(client, url + asset, "gzip")[0]
                    total[0] += plain
                    total[1] += packed
                    t_plain = median_ms(client, url + page, "identity", a.repeat)
                    t_gzip = median_ms(client, url + page, "gzip", a.repeat)
                    secs = f"{plain * 8 / a.link_kbps / 1000:.1f}→{packed * 8 / a.link_kbps / 1000:.1f}"
                    print(f"{page[:44]:44} {plain:>10,} {packed:>9,} {plain / packed:>6.1f} {secs:>13} "
                          f"{t_plain:>9.1f} {t_gzip:>8.1f}")
                print(f"{'all of them':44} {total[0]:>10,} {total[1]:>9,} {total[0] / total[1]:>6.1f}")
        finally:
            stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
