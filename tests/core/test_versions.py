"""Store versions: builds make a new version aside and move a pointer; damaged, half-built or missing
stores are said plainly and rebuilt; old versions and leftovers go once nobody has them open."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import versions
from kg.build import build, fingerprint
from kg.derived import marker
from kg.errors import StoreError
from kg.store import Store

from .conftest import Place

pytestmark = pytest.mark.timeout(120)


def test_a_build_makes_a_version_and_points_at_it_and_a_rebuild_replaces_it(tmp_path: Path, quick: None) -> None:
    place = Place(tmp_path)
    first = build(place.settings)
    assert place.store_path.is_symlink() and place.versions() == [place.current()]
    assert versions.completion(place.store_path.resolve())["fingerprint"] == first.fingerprint  # type: ignore[index]
    assert build(place.settings).skipped
    again = build(place.settings, force=True)
    assert not again.skipped and place.versions() == [Path(str(again.version)).name]  # the old one is gone


def test_a_reader_keeps_its_version_until_it_closes(tmp_path: Path, quick: None) -> None:
    place = Place(tmp_path)
    build(place.settings)
    old = place.current()
    reader = Store.open(place.store_path, read_only=True, create=False)
    n = reader.count()
    build(place.settings, force=True)
    assert place.current() != old and old in place.versions()  # not removed under the open reader
    assert reader.count() == n
    reader.close()
    build(place.settings)  # up to date; removes what nobody uses
    assert place.versions() == [place.current()]


def test_a_damaged_store_is_said_damaged_and_rebuilt_not_skipped(tmp_path: Path, quick: None) -> None:
    """As an older build left a running server's store ("Corruption: Mismatch in unique ID")."""
    place = Place(tmp_path)
    build(place.settings)
    table = min(place.store_path.resolve().glob("*.sst"))
    with table.open("r+b") as f:  # damage a table file, as a crash of the disk or a bad swap would
        f.seek(100)
        f.write(b"\0" * 200)

    with pytest.raises(StoreError) as e:
        Store.open(place.store_path, create=False)
    assert "damaged" in e.value.message and str(place.store_path) in e.value.message
    assert "dcpa build" in (e.value.hint or "")
    report = build(place.settings)  # same inputs, but the store is unsound: rebuilt, not "up to date"
    assert not report.skipped and any("damaged" in n for n in report.notes)
    assert Store.open(place.store_path, create=False).count() > 0


def test_missing_half_built_and_incomplete_stores_are_said_plainly(tmp_path: Path, quick: None) -> None:
    place = Place(tmp_path)
    with pytest.raises(StoreError, match="no store at"):
        Store.open(place.store_path, create=False)
    place.store_path.mkdir()  # a directory with no store in it
    with pytest.raises(StoreError, match="damaged or half-built") as e:
        Store.open(place.store_path, create=False)
    assert "dcpa build" in (e.value.hint or "")
    place.store_path.rmdir()

    build(place.settings)
    real = place.store_path.resolve()
    versions.done_file(real).unlink()  # as if the build had not finished
    with pytest.raises(StoreError, match="incomplete"):
        Store.open(place.store_path, create=False)
    assert not build(place.settings).skipped  # rebuilt, not "up to date"
    assert Store.open(place.store_path, create=False).count() > 0

    shutil.rmtree(place.store_path.resolve())  # the pointer names a version that is gone
    with pytest.raises(StoreError, match="which is missing"):
        Store.open(place.store_path, create=False)


def test_a_build_replaces_an_old_layout_store_and_removes_the_leftovers_of_killed_builds(place: Place,
                                                                                        quick: None) -> None:
    (place.root / ".store.building-abc" / "store").mkdir(parents=True)  # an older dcpa's killed build
    (place.root / ".store.old-1-2").mkdir()  # an older dcpa's swap, killed after its first rename
    (place.root / "store.build.json").write_text("{}", encoding="utf-8")
    build(place.settings)
    assert place.store_path.is_symlink()
    assert sorted(p.name for p in place.root.iterdir() if not p.name.endswith(".lock")) == [
        "store", "store.versions"]
    assert place.versions() == [place.current()]


def test_a_crash_inside_an_older_swap_is_undone_by_the_next_writer(place: Place) -> None:
    store = Store.open(place.store_path, create=False)
    n = store.count()
    store.close()
    os.rename(place.store_path, place.root / ".store.old-123-456")  # no store: the old swap's first rename
    notes = versions.prepare(place.store_path)
    assert notes[0].endswith(" / restored the store from .store.old-123-456, left by an interrupted build")
    assert " / moved the store of the old layout into" in notes[1]  # and into the versioned layout
    store = Store.open(place.store_path, create=False)
    assert store.count() == n
    store.close()


def test_store_open_keeps_the_version_it_resolved(tmp_path: Path, quick: None) -> None:
    place = Place(tmp_path)
    build(place.settings)
    writer = Store.open(place.store_path, create=False)
    first = writer.real_path
    build(place.settings, force=True, current=writer)  # as the server builds: its handle stays open
    writer.add_graph("https://example.org/late", b"<https://example.org/a> <https://example.org/p> \"1\" .\n")
    writer.close()  # it wrote into its own version, never into the new one
    assert first is not None and first.name != place.current()
    new = Store.open(place.store_path, create=False)
    assert "https://example.org/late" not in new.graphs()
    assert new.count() > 0
    new.close()
    assert ox.Store.read_only(str(first)).contains_named_graph(ox.NamedNode("https://example.org/late"))


def test_a_build_derives_for_the_day_and_windows_of_the_settings_it_is_given(tmp_path: Path) -> None:
    settings = Place(tmp_path).settings.model_copy(update={"as_of": date(2020, 6, 30), "example_villages": 3})
    build(settings)
    store = Store.open(settings.store_path, read_only=True)
    try:
        m = marker(store)
        assert m is not None and m.as_of == date(2020, 6, 30)  # not the process's day (DCPA_AS_OF, else today)
    finally:
        store.close()


def test_a_build_with_other_validity_windows_is_not_up_to_date(tmp_path: Path) -> None:
    # the derived graph is made with the windows: DCPA_VALIDITY_MONTHS changed, the build must make it again
    settings = Place(tmp_path).settings
    other = settings.model_copy(update={"validity_months": "C1=12,C2=60,C3=36,C4=60"})
    assert fingerprint(settings, 3, 1) == fingerprint(settings, 3, 1)
    assert fingerprint(other, 3, 1) != fingerprint(settings, 3, 1)


@pytest.mark.parametrize("changed", ["rule.py", "facts.py"])
def test_a_build_by_a_changed_rule_is_not_up_to_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     changed: str) -> None:
    """A corrected rule (kg/rule.py) or a change to what it reads (kg/facts.py) left dcpa build saying 'up to date'
    over the states the old rule gave, unless kg/derived.py changed too."""
    import kg.build

    settings = Place(tmp_path).settings
    before = fingerprint(settings, 3, 1)
    digest = kg.build._file_digest
    monkeypatch.setattr(kg.build, "_file_digest", lambda p: "edited" if p.name == changed else digest(p))
    assert fingerprint(settings, 3, 1) != before
