"""Every command over a remote store (Oxigraph server, reached through the SPARQL 1.1 protocols only: queries,
updates, and whole graphs through its Graph Store Protocol service) does what it does over the embedded store:
the same commands, run side by side, print the same answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kg import stamp
from kg.remote import RemoteStore

from .conftest import NEED_ROW, Place


@dataclass
class Configured(Place):
    """A place with settings of its own: its store remote or embedded (its imports are kept here)."""

    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{**self.extra, **extra})


SAME = {"DCPA_EXAMPLE_VILLAGES": "30", "DCPA_EXAMPLE_SEED": "7", "DCPA_AS_OF": "2026-06-30"}


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory, start_oxigraph: Callable[[], Any]) -> tuple[Place, Place]:
    server = start_oxigraph()
    here = Configured(tmp_path_factory.mktemp("here"), extra=SAME)
    there = Configured(tmp_path_factory.mktemp("there"), extra={
        **SAME, "DCPA_SPARQL_ENDPOINT": server.query_url, "DCPA_SPARQL_UPDATE_ENDPOINT": server.update_url,
        "DCPA_GRAPH_STORE_ENDPOINT": server.graph_store_url})
    for p in (here, there):
        r = p.dcpa("build")
        assert r.returncode == 0, r.stderr
    return here, there


def _json(p: Place, *args: str) -> Any:
    r = p.dcpa(*args, "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _same(places: tuple[Place, Place], *args: str, batch_made: tuple[str, ...] = ()) -> Any:
    """The answer of both places, checked equal (but for the columns ``batch_made``: an import's batch id is
    a time and a random part, different in each place)."""
    here, there = places

    def seen(p: Place) -> Any:
        got = _json(p, *args)
        return [{k: v for k, v in row.items() if k not in batch_made} for row in got] if batch_made else got

    answer = seen(here)
    assert seen(there) == answer, args
    return answer


def test_a_remote_build_loads_what_an_embedded_build_does(places: tuple[Place, Place]) -> None:
    stats = _same(places, "stats")
    assert stats["summary"]["derived"]["as_of"] == "2026-06-30"
    there = places[1]
    assert isinstance(there, Configured)
    built = stamp.read(RemoteStore(there.extra["DCPA_SPARQL_ENDPOINT"]))  # what services key their search on
    assert built is not None and re.fullmatch("[0-9a-f]{64}", built)
    r = there.dcpa("build")
    assert r.returncode != 0 and "already holds" in r.stderr and "nothing was written" in r.stderr
    assert stamp.read(RemoteStore(there.extra["DCPA_SPARQL_ENDPOINT"])) == built


def test_answers_over_a_remote_store(places: tuple[Place, Place]) -> None:
    assert _same(places, "query", "needs_by_type", "--param", "area=21")
    assert _same(places, "gaps", "--area", "21", "--by", "need_type")["groups"]
    code = _same(places, "query", "top_unaddressed_villages", "--param", "area=21")[0]["village_code"]
    assert _same(places, "recommend", code)["needs"]
    assert _same(places, "plan", "--budget", "20000", "--area", code[:4])["allocations"] is not None
    assert _same(places, "search", "新民")


def test_imports_withdrawals_and_derive_over_a_remote_store(places: tuple[Place, Place]) -> None:
    here, there = places
    before = _same(places, "query", "needs_of_village", "--param", f"village={NEED_ROW[0]}")
    batches = []
    for p in places:
        r = p.dcpa("import", str(p.csv("needs.csv", [NEED_ROW])), "--format", "json")
        assert r.returncode == 0, r.stderr
        batches.append(json.loads(r.stdout)["batch_id"])
    after = _same(places, "query", "needs_of_village", "--param", f"village={NEED_ROW[0]}", batch_made=("evidence",))
    assert len(after) == len(before) + 1
    assert _same(places, "gaps", "--area", NEED_ROW[0][:6], "--by", "need_type")
    for p in places:
        assert p.dcpa("derive").returncode == 0
    assert _same(places, "query", "needs_of_village", "--param", f"village={NEED_ROW[0]}",
                 batch_made=("evidence",)) == after
    r = there.dcpa("withdraw", batches[1], "--reason", "测试", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert _json(there, "query", "needs_of_village", "--param", f"village={NEED_ROW[0]}") == before
    assert len(_json(here, "query", "needs_of_village", "--param", f"village={NEED_ROW[0]}")) == len(after)


def test_export_of_a_remote_store(places: tuple[Place, Place], tmp_path: Path) -> None:
    here, there = places
    r = there.dcpa("export", "--format", "nq", "--output", str(tmp_path / "there.nq"))
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "there.nq").read_text(encoding="utf-8").splitlines()
    graphs = _json(there, "stats")["graphs"]
    quads = [line for line in lines if not line.startswith("#")]  # the dump's header says what it is
    assert len(quads) == sum(g["triples"] for g in graphs)
    assert f"{len(quads):,} quads" in "\n".join(lines[:len(lines) - len(quads)])
