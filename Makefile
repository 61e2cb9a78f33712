# Two commands on a fresh machine (Python 3.11, pip, make, Node/npm):
#   make serve   set everything up, build the graph from the bundled data, serve it on 127.0.0.1:8000
#   make test    set everything up and run lint, type checks and the whole test suite
# Both are idempotent: the second run only redoes what changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-stamp
STAMP  := $(VENV)/.installed-stamp
# (the stamp sits with vis-network, in the library: an older checkout copies the assets again)
ASSETS := kg/viz/static/vendor/.stamp
export PYTHONUTF8 := 1

.PHONY: setup assets build serve test lint typecheck pytest bench java chromium virtuoso clean help

help:
	@echo "make serve   build the graph and serve it on http://127.0.0.1:8000"
	@echo "make test    lint, type-check and run all tests"
	@echo "make bench   build, then run the benchmarks (province and national scale; slow)"

# What serving needs (make serve), then the test and benchmark tool chain on top (make test, make bench).
$(RUNTIME): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

setup: $(RUNTIME) $(ASSETS) java

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

$(ASSETS): node_modules/.package-lock.json scripts/vendor_assets.py | $(RUNTIME)
	$(BIN)/python scripts/vendor_assets.py
	touch $@

assets: $(ASSETS)

# HermiT (owlready2) needs a Java runtime.
java:
	@command -v java >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q default-jre-headless; }

# Headless Chromium for the browser tests (Debian package).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk; }

# Virtuoso 7 (Debian package): one of the two independent SPARQL stores the remote-store tests run on
# (the other, Oxigraph server, comes with the dev extra).
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q --no-install-recommends virtuoso-opensource-7-bin; }

build: setup
	$(BIN)/dcpa build
	$(BIN)/dcpa ontology docs -o var/docs/ontology.zh.html --lang zh  # and ontology.en.html beside it

serve: build
	$(BIN)/dcpa serve

lint: $(STAMP)
	$(BIN)/ruff check kg api tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers (pytest-xdist): alone the suite keeps one core of two busy, waiting on subprocesses and servers
# (make test 19.5 min, pytest 17.6 min; with two workers 7.6 and 6.4 min, in a clean clone on this 2-core machine).
TEST_WORKERS ?= 2
pytest: setup $(STAMP) chromium virtuoso
	$(BIN)/pytest -q -n $(TEST_WORKERS)

test: lint typecheck pytest

bench: build $(STAMP) virtuoso
	$(BIN)/python -m benchmarks

clean:
	rm -rf var build .pytest_cache .mypy_cache .ruff_cache
