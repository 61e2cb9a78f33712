"""Dumps (``dcpa export``) as a researcher uses them: cited by what they say of themselves, loaded into a fresh
Oxigraph store, and asked the catalogue's questions again."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg import catalogue, versions
from kg import export as export_module
from kg.cli import app
from kg.cli import data as cli_data
from kg.errors import DcpaError, StoreBusy
from kg.export import END_LINE, export
from kg.namespaces import GRAPH_SYNTHETIC
from kg.stats import stats
from kg.store import Store

from .conftest import AS_OF, V1

_FORMATS = {"nq": ox.RdfFormat.N_QUADS, "jsonld": ox.RdfFormat.JSON_LD}


def _dump(store: Store, fmt: str) -> bytes:
    out = io.BytesIO()
    export(store, fmt, out)
    return out.getvalue()


def _answers(store: Store) -> dict[str, object]:
    return {name: _answers_of(store, name) for name in catalogue.load_catalogue()}


def _answers_of(store: Store, name: str) -> object:
    q = catalogue.get_query(name)
    # the fixture's village and county where a default names a place the fixture does not have
    params = {p.name: V1 if p.name == "village" else V1[:6] for p in q.parameters if p.type == "area"}
    a = catalogue.answer(store, name, params)
    return a.columns, a.rows, a.example, a.basis.to_dict(), a.derived_as_of


@pytest.mark.parametrize("fmt", ["nq", "jsonld"])
def test_a_dump_loaded_into_a_fresh_store_gives_the_catalogue_s_answers(mixed: Store, fmt: str) -> None:
    fresh = ox.Store()
    fresh.load(_dump(mixed, fmt), format=_FORMATS[fmt])
    assert len(fresh) == mixed.count()
    before = _answers(mixed)
    assert len(before) == len(catalogue.load_catalogue()) and _answers(Store(fresh)) == before


def _built(mixed: Store, tmp_path: Path, fingerprint: str, ended: str) -> Store:
    """``mixed`` as a completed build of ``fingerprint`` with an import that ended at ``ended`` since."""
    version = tmp_path / "store.versions" / "v1"
    version.mkdir(parents=True)
    versions.mark_complete(version, {"fingerprint": fingerprint})
    inner = ox.Store()
    inner.load(_dump(mixed, "nq"), format=ox.RdfFormat.N_QUADS)
    inner.load(b"<https://w3id.org/dcpa/id/import/B> a <https://w3id.org/dcpa/ontology#ImportActivity> ; "
               b'<http://www.w3.org/ns/prov#endedAtTime> "' + ended.encode() + b'"'
               b"^^<http://www.w3.org/2001/XMLSchema#dateTime> .",
               format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("https://w3id.org/dcpa/graph/import/B"))
    built = Store(inner, version)
    built.real_path = version
    return built


def test_a_dump_says_what_it_is_so_that_a_paper_can_cite_it(mixed: Store, tmp_path: Path) -> None:
    built = _built(mixed, tmp_path, "f" * 64, "2021-03-04T05:06:07Z")
    head = [line for line in _dump(built, "nq").decode("utf-8").splitlines() if line.startswith("#")]
    text = "\n".join(head)
    assert re.search(r"exported \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ by dcpa \d", text)
    assert "build " + "f" * 64 in text and "last import or withdrawal 2021-03-04T05:06:07" in text
    assert f"derived graph as of {AS_OF.isoformat()}" in text
    assert f"{built.count():,} quads" in text and str(GRAPH_SYNTHETIC) in text and "示例·" in text
    ttl = _dump(built, "ttl").decode("utf-8")
    assert ttl.startswith("# DCPA knowledge graph dump") and "load the N-Quads dump" in ttl.split("@prefix")[0]
    about = json.loads(_dump(built, "jsonld"))["dump"]
    assert about["build"] == "f" * 64 and about["derived_as_of"] == AS_OF.isoformat()
    assert about["last_write"].startswith("2021-03-04T05:06:07") and about["quads"] == built.count()
    assert str(GRAPH_SYNTHETIC) in about["graphs"]


def test_the_statistics_name_the_build_and_the_last_write_the_dump_is_cited_by(mixed: Store, tmp_path: Path) -> None:
    """A dump named its build's fingerprint and last import, but `dcpa stats` and /api/stats named neither: a number
    read from the server could not be matched to the dump it came from. Both now say what the dump's header says."""
    built = _built(mixed, tmp_path, "e" * 64, "2022-01-02T03:04:05Z")
    about = json.loads(_dump(built, "jsonld"))["dump"]
    summary = stats(built).summary()
    assert summary["build"] == about["build"] == "e" * 64
    assert summary["last_write"] == about["last_write"] and summary["last_write"].startswith("2022-01-02T03:04:05")
    assert about["software"].startswith(summary["software"] + " ") and summary["software"].startswith("dcpa ")
    assert summary["triples"] == about["quads"]


def test_a_dump_says_how_much_of_it_is_example_data_as_the_statistics_do(mixed: Store) -> None:
    """A dump said which graph was example data but not how much of it there was, where /api/stats gave a share: a
    paper citing the dump could not say what share of its data was made up. Its header now gives the share, per
    graph the quads, in the numbers the statistics give."""
    summary = stats(mixed).to_dict()
    about = json.loads(_dump(mixed, "jsonld"))["dump"]
    assert about["example_share"] == summary["summary"]["synthetic_share"] > 0
    assert (about["example_quads"], about["instance_quads"]) == (summary["summary"]["synthetic_triples"],
                                                                 summary["summary"]["instance_triples"])
    assert about["graph_quads"] == {g["graph"]: g["triples"] for g in summary["graphs"]}
    head = _dump(mixed, "nq").decode("utf-8").split("\n<", 1)[0]
    share = summary["summary"]["synthetic_share"]
    assert (f"example data: {summary['summary']['synthetic_triples']:,} of the "
            f"{summary['summary']['instance_triples']:,} quads of instance data") in head and f"{share:.1%}" in head
    assert f"synthetic ({mixed.count(str(GRAPH_SYNTHETIC)):,} quads)" in head



def test_the_turtle_dump_names_the_catalogue_queries_it_answers_otherwise(mixed: Store) -> None:
    """The Turtle dump told its reader to load the N-Quads one for the queries that read the derived graph, but
    synthetic_share, which reads the ontology graph by name, answered other counts from it without a word. Every
    query that answers otherwise from the Turtle dump is one its header names, or one that reads the derived graph."""
    ttl = _dump(mixed, "ttl")
    head = ttl.decode("utf-8").split("@prefix", 1)[0]
    fresh = ox.Store()
    fresh.load(ttl, format=ox.RdfFormat.TURTLE)
    here, there = _answers(mixed), {}
    for name in here:
        try:
            there[name] = _answers_of(Store(fresh), name)
        except DcpaError:
            there[name] = None
    otherwise = {n for n in here if there[n] != here[n]}
    assert "synthetic_share" in otherwise
    for name in otherwise:
        assert "derived" in catalogue.get_query(name).uses or name in head, name


def test_an_export_refused_or_cut_short_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dcpa export -o FILE` opened FILE first: refused (a write refreshing the derived graph) it left an empty
    file, cut short a torn one that read as a dump. Now the file appears whole or not at all, and an old one stays."""
    old = tmp_path / "dcpa.nq"
    old.write_bytes(b"# an earlier dump\n")

    def cut(store: object, out: IO[bytes]) -> None:
        out.write(b"<https://example.org/s> <https://example.org/p> <https://example.org/o> .\n")
        raise StoreBusy("写入正在刷新派生图 / a write is refreshing the derived graph")

    monkeypatch.setitem(export_module.EXPORTERS, "nq", cut)
    monkeypatch.setattr(cli_data, "_open_store", Store.memory)
    for target in (old, tmp_path / "new.nq"):
        result = CliRunner().invoke(app, ["export", "--format", "nq", "-o", str(target)])
        assert result.exit_code == StoreBusy.exit_code, result.output
    assert old.read_bytes() == b"# an earlier dump\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dcpa.nq"]  # nor a temporary file left beside it
    result = CliRunner().invoke(app, ["export", "--format", "trig", "-o", str(tmp_path / "whole.trig")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "whole.trig").read_bytes().endswith(END_LINE)
