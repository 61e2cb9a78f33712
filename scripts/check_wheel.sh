#!/usr/bin/env bash
# The package as it is deployed: build the wheel, install it into a fresh environment, and run
# `dcpa build` and `dcpa serve` from another directory (the ontology, the queries, the reference data
# and the page assets must come from the installed package, not from this checkout).
# Run by .ci/run after `make test` (which sets up the environment and the page assets).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

.venv/bin/python -m pip wheel -q --disable-pip-version-check --no-deps -w "$work/dist" .
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -c constraints.txt "$work"/dist/dcpa-*.whl
mkdir "$work/run"
cd "$work/run"  # not the checkout: nothing may be read from it
export DCPA_EXAMPLE_VILLAGES=50 PYTHONUTF8=1
"$work/venv/bin/dcpa" build
"$work/venv/bin/dcpa" query needs_by_type --param area=21 --format csv | head -3
port=$("$work/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DCPA_PORT=$port "$work/venv/bin/dcpa" serve > "$work/serve.log" 2>&1 &
pid=$!
"$work/venv/bin/python" - "$port" "$pid" <<'PY'
import os, sys, time
import httpx
base, pid = f"http://127.0.0.1:{sys.argv[1]}", int(sys.argv[2])
deadline = time.monotonic() + 60
while True:  # wait for the state "answers" (or for the server to have exited)
    try:
        if httpx.get(f"{base}/health", timeout=2).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    os.kill(pid, 0)
    if time.monotonic() > deadline:
        sys.exit("dcpa serve did not answer within 60 s")
    time.sleep(0.2)
assert "needs_by_type" in httpx.get(f"{base}/api/queries").text
assert "/static/vendor/vis-network/vis-network.min.js" in httpx.get(f"{base}/views/ontology").text
assert httpx.get(f"{base}/static/vendor/vis-network/vis-network.min.js").status_code == 200
r = httpx.post(f"{base}/sparql", data={"query": "ASK { ?v a dcpa:Village }"},
               headers={"Accept": "application/sparql-results+json"})
assert r.json()["boolean"] is True, r.text
PY
test -d "$work/run/var/store" || { echo "the store is not where dcpa runs" >&2; exit 1; }
case "$("$work/venv/bin/python" -c 'import kg.resources as r; print(r.ONTOLOGY_DIR)')" in
  "$src"*) echo "the installed package reads the checkout" >&2; exit 1 ;;
esac
echo "wheel: built, installed, built a store and served it from $work/run"
