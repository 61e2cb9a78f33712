"""Record lists (kg.records): pages in IRI order that add up to the total."""

from __future__ import annotations

import pytest

from kg.build import build_into
from kg.records import RECORD_KINDS, list_records, record_index, record_terms
from kg.store import Store


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.memory()
    build_into(store, example_villages=40, seed=7, workdir=tmp_path_factory.mktemp("build"))
    return store


@pytest.mark.parametrize("path", ["interventions", "libraries"])
def test_pages_walk_every_record_once_in_iri_order(built: Store, path: str) -> None:
    kind = RECORD_KINDS[path]
    every = [str(r["s"]) for r in built.select(
        f"SELECT DISTINCT ?s WHERE {{ ?s a/rdfs:subClassOf* {kind.root} }}")]
    assert len(every) >= 20
    walked: list[str] = []
    for offset in range(0, len(every) + 7, 7):
        page = list_records(built, kind, limit=7, offset=offset)
        assert page.total == len(every)
        walked += [r["iri"] for r in page.items]
    assert walked == sorted(every)


def test_a_page_of_real_records_only(built: Store) -> None:
    kind = RECORD_KINDS["libraries"]
    real = list_records(built, kind, limit=1000, real_only=True)
    assert real.total == len(real.items) > 0 and not any(r["synthetic"] for r in real.items)
    assert real.total < list_records(built, kind, limit=1).total




@pytest.mark.parametrize("path", ["interventions", "libraries", "resources"])
def test_the_index_knows_each_records_labels_and_example_flag(built: Store, path: str) -> None:
    """Against the store itself: the flag each record carries, and a search by the words of its labels."""
    kind = RECORD_KINDS[path]
    index = record_index(built, kind)
    flagged = {str(r["s"]) for r in built.select(
        f"SELECT ?s WHERE {{ ?s a/rdfs:subClassOf* {kind.root} ; dcpa:isSynthetic true }}")}
    assert dict(zip(index.iris, index.example, strict=True)) == {i: i in flagged for i in index.iris}
    labels: dict[str, list[str]] = {}
    for r in built.select(f"SELECT ?s ?l WHERE {{ ?s a/rdfs:subClassOf* {kind.root} ; rdfs:label ?l }}"):
        labels.setdefault(str(r["s"]), []).append(str(r["l"]))
    some = sorted(labels)[len(labels) // 2]
    word = labels[some][0].split("·")[-1][:3]  # a piece of a label, as a user types it
    assert some in index.select(word)
    assert index.select(word) == sorted(i for i, ls in labels.items() if any(word.lower() in x.lower() for x in ls))
    assert index.select(word.upper() + " " + word) == index.select(word)  # any case; every word must match
    assert index.select(word, real_only=True) == [i for i in index.select(word) if i not in flagged]


def test_the_index_without_labels_lists_the_same_records_and_cannot_search(built: Store) -> None:
    kind = RECORD_KINDS["libraries"]
    bare, full = record_index(built, kind, labels=False), record_index(built, kind)
    assert bare.texts is None and bare.iris == full.iris and bare.example == full.example
    listed = [r["iri"] for r in list_records(built, kind, limit=10_000, real_only=True).items]
    assert bare.select(real_only=True) == full.select(real_only=True) == listed and listed
    with pytest.raises(ValueError, match="labels=True"):
        bare.select("图书馆")


def test_a_search_finds_words_with_apostrophes_and_an_empty_one_lists_everything() -> None:
    """Children's Library is found by children's, childrens or CHILDREN’S; a q of spaces or quotes is no search."""
    store = Store.memory()
    iri = "https://w3id.org/dcpa/id/library/L-DD-1"
    store.update(f"INSERT DATA {{ GRAPH <https://w3id.org/dcpa/graph/reference> {{ <{iri}> a dcpa:Library ; "
                 "rdfs:label \"Dandong Municipal Children's Library\"@en , \"丹东市少年儿童图书馆\"@zh } }")
    index = record_index(store, RECORD_KINDS["libraries"])
    assert index.iris == (iri,) and index.example == (False,)
    for q in ("Children's", "childrens library", "CHILDREN’S", "municipal children's library", "少年儿童"):
        assert index.select(q) == [iri], q
    assert index.select("children's museum") == []
    assert record_terms("  ") == record_terms("'") == [] and index.select("'") == [iri]
