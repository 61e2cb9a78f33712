"""Fixtures of the importer tests: an in-memory store with the ontology and a small reference fixture."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
import rdflib

from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_REFERENCE
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "importer"
#: One need as the JSON API takes it (a village of the reference fixture).
NEED: dict[str, Any] = {
    "village_code": "210123206200",
    "need_type": "N22",
    "severity": 4,
    "people_affected": 120,
    "source": "survey",
    "identified_on": "2018-05-12",
    "surveyor": "张晓梅",
}
EXPECTED = DATA / "expected"
#: Set DCPA_REGEN_GOLDEN=1 to rewrite the expected Turtle files (then review the diff).
REGEN = os.environ.get("DCPA_REGEN_GOLDEN") == "1"


def reference_fixture() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "areas.ttl", format="turtle")


def load_fixture(store: Store) -> Store:
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.add_graph(str(GRAPH_REFERENCE), reference_fixture())
    derive_all(store)  # as a build does
    return store


@pytest.fixture
def store() -> Store:
    return load_fixture(Store.memory())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(imports_path=tmp_path / "imports", store_path=tmp_path / "store")


def nquads(store: Store) -> bytes:
    """The whole store as sorted N-Quads: equal bytes, equal store."""
    buf = io.BytesIO()
    store.dump(buf, "nq")
    return b"\n".join(sorted(buf.getvalue().splitlines()))


def write_csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def normalised(graph: rdflib.Graph, batch_id: str) -> rdflib.Graph:
    """The batch graph with its batch id, time and file name replaced by fixed placeholders."""
    text = graph.serialize(format="nt")
    text = text.replace(batch_id, "BATCH")
    text = re.sub(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|\+00:00)"', '"2000-01-01T00:00:00Z"', text)
    text = re.sub(r"[\w-]+\.(csv|xlsx)", "FILE", text)
    return rdflib.Graph().parse(data=text, format="nt")
