"""Area search (``kg.search``) over the real division of Liaoning: what a planner types, what comes back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import kg.search as ks
from kg import stamp
from kg.errors import QueryError
from kg.namespaces import GRAPH_REFERENCE
from kg.reference import reference_ntriples
from kg.remote import RemoteStore
from kg.search import AreaLevel, index_of, search
from kg.store import Store


@pytest.fixture(scope="module")
def liaoning() -> Store:
    store = Store.memory()
    store.bulk_load(reference_ntriples(), "nt", str(GRAPH_REFERENCE))
    return store


def names(found: ks.Found) -> list[str]:
    return [h.place.name for h in found.hits]


def test_part_of_a_name_finds_every_namesake_ranked_and_told_apart(liaoning: Store) -> None:
    found = search(liaoning, "新民村", limit=100)
    assert found.total == len(found.hits) > 3
    # exact names (the official ending left out) first, then names that start with it, then the rest
    order = [h.match for h in found.hits]
    assert order == sorted(order, key=["exact", "prefix", "contains"].index)
    assert found.hits[0].match == "exact" and found.hits[0].place.short == "新民村"
    # namesakes differ in the areas containing them: no two hits have the same township and name
    keys = [(h.place.name, tuple(w.code for w in h.within)) for h in found.hits]
    assert len(set(keys)) == len(keys)
    for h in found.hits:
        assert [w.level for w in h.within] == [AreaLevel.province, AreaLevel.city, AreaLevel.county,
                                               AreaLevel.township]
        assert h.place.code.startswith(h.within[-1].code)


def test_larger_areas_rank_first_within_a_match(liaoning: Store) -> None:
    found = search(liaoning, "新民", limit=5)
    assert found.hits[0].place.level == AreaLevel.county and found.hits[0].place.name == "新民市"
    # a residents' committee is its community, not the bare place name: the city comes first
    chaoyang = search(liaoning, "朝阳", limit=3)
    assert [h.place.name for h in chaoyang.hits[:2]] == ["朝阳市", "朝阳县"]
    assert ks.short_name("朝阳居民委员会") == "朝阳社区" and ks.short_name("水源社区居民委员会") == "水源社区"


def test_an_autonomous_county_or_township_by_the_name_people_use(liaoning: Store) -> None:
    """Everyone says 岫岩县 for 岫岩满族自治县, 太平岭乡 for 太平岭满族乡: typed so, they found nothing."""
    for typed, official in (("岫岩县", "岫岩满族自治县"), ("本溪县", "本溪满族自治县"), ("阜新县", "阜新蒙古族自治县"),
                            ("太平岭乡", "太平岭满族乡")):
        found = search(liaoning, typed)
        assert found.hits[0].place.name == official and found.hits[0].match == "exact", typed
    # and as a further word that narrows
    assert all(h.within[2].name == "岫岩满族自治县" for h in search(liaoning, "村 岫岩县", limit=50).hits)
    # and the two whose common names are abbreviations
    for typed, official in (("喀左", "喀喇沁左翼蒙古族自治县"), ("喀左县", "喀喇沁左翼蒙古族自治县"),
                            ("阜蒙县", "阜新蒙古族自治县")):
        found = search(liaoning, typed)
        assert found.hits[0].place.name == official and found.hits[0].match == "exact", typed


def test_a_name_without_its_generic_term_ranks_as_the_name(liaoning: Store) -> None:
    """新民 is the name of 新民村 and 新民镇, not of 新民屯村: in characters or pinyin, 新民屯村 came first."""
    for typed in ("新民", "xinmin"):
        for level in (AreaLevel.village, AreaLevel.township):
            found = search(liaoning, typed, levels=[level], limit=50)
            shorts = [ks._generic(h.place.short)[0] for h in found.hits]
            assert "新民" in shorts and shorts.index("新民") == 0, (typed, level)
            assert shorts == sorted(shorts, key=lambda s: s != "新民"), (typed, level)
            assert {h.match for h in found.hits if ks._generic(h.place.short)[0] == "新民"} == {"exact"}


def test_a_village_by_another_form_of_its_committee_s_name(liaoning: Store) -> None:
    """The official names end in 村民委员会, 村委会 or 居民委员会, one way or another: 新民村委会 found only the five
    so named, not the 新民村民委员会 nor the 新民村, and 朱碌科村委会 nothing (朱碌科村村民委员会)."""
    every = {h.place.code for h in search(liaoning, "新民村", levels=[AreaLevel.village], limit=100).hits}
    for typed in ("新民村委会", "新民村民委员会", "新民村村委会", "新民村村民委员会"):
        found = search(liaoning, typed, levels=[AreaLevel.village], limit=100)
        assert {h.place.code for h in found.hits} == every, typed
    assert "朱碌科村村民委员会" in names(search(liaoning, "朱碌科村委会"))
    assert "水源地社区" in names(search(liaoning, "水源地社区居委会"))


def test_code_prefix_and_exact_code(liaoning: Store) -> None:
    found = search(liaoning, "2101", limit=3)
    assert found.hits[0].place.name == "沈阳市" and found.hits[0].match == "exact"
    assert all(h.place.code.startswith("2101") for h in found.hits)
    one = search(liaoning, "210102001002")
    assert one.total == 1 and one.hits[0].place.name == "水源地社区"


def test_a_code_written_in_groups_with_spaces_or_dashes(liaoning: Store) -> None:
    """Codes are printed in groups (2101 13 014, 210113-014-215): as typed from paper they found nothing."""
    whole = [h.place.code for h in search(liaoning, "210113014").hits]
    assert whole and whole[0] == "210113014"
    for typed in ("210113 014", "21 01 13 014", "210113-014", "２１０１１３－０１４", "210113–014"):
        assert [h.place.code for h in search(liaoning, typed).hits] == whole, typed


def test_a_code_padded_to_twelve_digits_as_the_statistics_print_it(liaoning: Store) -> None:
    """The statistics print every code in 12 digits (沈北新区 210113000000): copied so, it found nothing."""
    for padded, name in (("210113000000", "沈北新区"), ("210100000000", "沈阳市"), ("210113014000", "兴隆台街道"),
                         ("210000000000", "辽宁省"), ("210113", "沈北新区")):
        found = search(liaoning, padded, limit=3)
        assert found.hits[0].place.name == name and found.hits[0].match == "exact", padded
    assert search(liaoning, "110101000000").total == 0  # Beijing's: not in the graph


def test_names_with_latin_letters_digits_and_full_width_brackets(liaoning: Store) -> None:
    assert "IT家园社区居委会" in names(search(liaoning, "IT家园"))
    assert "IT家园社区居委会" in names(search(liaoning, "itjiayuan"))
    assert "阳光100社区" in names(search(liaoning, "阳光100"))
    assert "阳光100社区" in names(search(liaoning, "ＹＧ１００"))  # full-width, as some input methods type
    assert "辽宁（营口）沿海产业基地" in names(search(liaoning, "辽宁(营口)"))



def test_a_name_pasted_with_a_zero_width_space_is_found(liaoning: Store) -> None:
    """Copied from a chat or a web page, 新民村 carries a ZERO WIDTH SPACE (or a WORD JOINER) nobody sees: no hit."""
    assert names(search(liaoning, "新民村\u200b", limit=3)) == names(search(liaoning, "新民村", limit=3))
    assert names(search(liaoning, "\u2060新民\u3000沈北")) == names(search(liaoning, "新民 沈北"))

def test_a_name_in_traditional_characters_is_searched_in_simplified_when_it_finds_nothing(liaoning: Store) -> None:
    """瀋陽 (from a Taiwanese or Hong Kong page, an old document) found nothing: the index holds 沈阳."""
    found = search(liaoning, "瀋陽市", levels=[AreaLevel.city])
    assert names(found) == ["沈阳市"] and found.read_as == "沈阳市"
    assert names(search(liaoning, "鐵東區 鞍山")) == names(search(liaoning, "铁东区 鞍山")) == ["铁东区"]
    assert search(liaoning, "\u200b鐵東區\u3000 鞍山 ").read_as == "铁东区 鞍山"  # as it reads, not as pasted
    # what finds something as typed is not converted (t2s would read a simplified 乾 as 干), nor is pinyin
    assert search(liaoning, "沈阳市").read_as is None and search(liaoning, "shenyang").read_as is None
    nothing = search(liaoning, "臺北市")
    assert nothing.total == 0 and nothing.read_as is None  # nothing in simplified either: said as searched


def test_pinyin_full_initials_and_the_readings_of_place_names(liaoning: Store) -> None:
    assert "水源地社区" in names(search(liaoning, "shuiyuandi"))
    assert "水源地社区" in names(search(liaoning, "sydsq"))
    assert "沈阳市" in names(search(liaoning, "Shen Yang", levels=[AreaLevel.city]))
    city = search(liaoning, "chaoyang", levels=[AreaLevel.city])  # 朝 is zhao in most words, chao here
    assert names(city) == ["朝阳市"] and city.hits[0].place.pinyin == "Chaoyang Shi"
    assert "长海县" in names(search(liaoning, "changhai"))


def test_pinyin_typed_with_tone_marks_or_with_u_for_u_umlaut(liaoning: Store) -> None:
    """Pinyin copied from a dictionary carries its tones (xīnmín), and 旅 is lü, typed lv or lu: each found nothing."""
    assert names(search(liaoning, "Xīnmín Shì", levels=[AreaLevel.county])) == ["新民市"]
    assert names(search(liaoning, "Shěnyáng", levels=[AreaLevel.city])) == ["沈阳市"]
    for typed in ("lüshunkou", "lvshunkou", "lushunkou", "LÜSHÙNKǑU"):
        assert "旅顺口区" in names(search(liaoning, typed, levels=[AreaLevel.county])), typed


def test_a_name_in_pinyin_with_its_generic_term_in_english(liaoning: Store) -> None:
    """On an English page people write Shenyang City, Faku County, Xinmin Village: each found nothing."""
    assert names(search(liaoning, "Shenyang City", limit=1)) == ["沈阳市"]
    assert names(search(liaoning, "Faku County", limit=1)) == ["法库县"]
    village = search(liaoning, "Xinmin Village", levels=[AreaLevel.village], limit=100)
    assert village.total and all(ks.short_name(n) == "新民村" for n in names(village))
    shenbei = [h.place.code for h in search(liaoning, "新民村 沈北").hits]
    assert [h.place.code for h in search(liaoning, "Xinmin Village, Shenbei District").hits] == shenbei
    assert names(search(liaoning, "Xinmin City", limit=1)) == ["新民市"]


def test_pinyin_in_syllables_followed_by_a_further_word(liaoning: Store) -> None:
    """Shen Yang was shenyang, but xin min shen bei (and xinmin cun shenbei) found nothing: only the whole query was
    read as one word, never its first syllables as the name and the rest as the place."""
    shenbei = [h.place.code for h in search(liaoning, "新民村 沈北").hits]
    for typed in ("xin min cun shen bei", "xinmin cun shenbei", "Xīn Mín Cūn, Shěn Běi", "xinmin cun 沈北"):
        assert [h.place.code for h in search(liaoning, typed).hits] == shenbei, typed


def test_further_words_narrow_by_place(liaoning: Store) -> None:
    everywhere = search(liaoning, "新民村", levels=[AreaLevel.village], limit=100)
    shenbei = search(liaoning, "新民村 沈北", levels=[AreaLevel.village])
    assert 0 < shenbei.total < everywhere.total
    assert all(any(w.name == "沈北新区" for w in h.within) for h in shenbei.hits)
    assert search(liaoning, "新民村 大连").total < everywhere.total
    assert search(liaoning, "新民村 没有这个地方").total == 0


def test_further_words_in_the_order_of_an_address_largest_first(liaoning: Store) -> None:
    """An address names the city, the county, then the village (沈阳 沈北 新民村): so typed, it found nothing."""
    name_first = [h.place.code for h in search(liaoning, "新民村 沈北", levels=[AreaLevel.village]).hits]
    assert name_first
    for typed in ("沈北 新民村", "沈阳 沈北 新民村", "shenbei xinmin", "沈阳 新民村 沈北"):
        assert [h.place.code for h in search(liaoning, typed, levels=[AreaLevel.village]).hits] == name_first, typed
    assert search(liaoning, "沈北 没有这个地方").total == 0


def test_an_address_written_without_spaces(liaoning: Store) -> None:
    """An address copied from a document runs its areas together (沈阳市沈北新区新民村): it found nothing."""
    shenbei = [h.place.code for h in search(liaoning, "新民村 沈北").hits]
    for typed in ("沈阳市沈北新区新民村", "沈北新区新民村", "沈阳沈北新民村", "辽宁省沈阳市沈北新区新民村"):
        assert [h.place.code for h in search(liaoning, typed).hits] == shenbei, typed
    assert names(search(liaoning, "鞍山市岫岩县", limit=1)) == ["岫岩满族自治县"]
    assert search(liaoning, "沈阳市没有这个村").total == 0
    assert search(liaoning, "新民" * 10).total == 0  # not an address of ten areas


def test_the_areas_inside_the_one_a_page_is_about_come_first_within_a_match(liaoning: Store) -> None:
    """On the dashboard of a county in Dalian, 新民村 listed the 新民村 of Shenyang first (code order)."""
    everywhere = search(liaoning, "新民村", levels=[AreaLevel.village], limit=100)
    near = search(liaoning, "新民村", levels=[AreaLevel.village], limit=100, near="2102")
    assert near.total == everywhere.total
    assert {h.place.code for h in near.hits} == {h.place.code for h in everywhere.hits}
    order = [h.match for h in near.hits]
    assert order == sorted(order, key=["exact", "prefix", "contains"].index)  # how it matched still ranks first
    for how in ("exact", "prefix", "contains"):
        inside = [h.place.code.startswith("2102") for h in near.hits if h.match == how]
        assert inside == sorted(inside, reverse=True), how
    assert near.hits[0].place.code.startswith("2102")
    assert not everywhere.hits[0].place.code.startswith("2102")
    paged = search(liaoning, "新民村", levels=[AreaLevel.village], limit=3, offset=2, near="2102")
    assert [h.place.code for h in paged.hits] == [h.place.code for h in near.hits[2:5]]


def test_a_whole_address_with_spaces(liaoning: Store) -> None:
    """A whole address names five areas (province to village): typed with spaces it was refused, at most 4 words."""
    assert [h.place.code for h in search(liaoning, "辽宁省 沈阳市 沈北新区 兴隆台街道 新民村").hits] == ["210113014215"]


def test_a_namesake_written_with_its_place_in_brackets(liaoning: Store) -> None:
    """Lists tell namesakes apart so: 新民村（沈北新区）, 新民村(沈北). Copied into the search, they found nothing."""
    shenbei = [h.place.code for h in search(liaoning, "新民村 沈北").hits]
    for typed in ("新民村（沈北新区）", "新民村(沈北)", "新民村【沈北】", "xinmincun (shenbei)"):
        assert [h.place.code for h in search(liaoning, typed).hits] == shenbei, typed
    assert "辽宁（营口）沿海产业基地" in names(search(liaoning, "辽宁(营口)"))  # a name with brackets is found as typed
    assert search(liaoning, "a(b)c(d)e(f)").total == 0  # not refused as six words: it was typed as one


def test_levels_paging_and_no_query(liaoning: Store) -> None:
    villages = search(liaoning, "村", levels=[AreaLevel.village], limit=10)
    assert all(h.place.level == AreaLevel.village for h in villages.hits)
    page2 = search(liaoning, "村", levels=[AreaLevel.village], limit=10, offset=10)
    assert page2.total == villages.total
    assert not {h.place.code for h in page2.hits} & {h.place.code for h in villages.hits}
    cities = search(liaoning, "", levels=[AreaLevel.city], limit=100)
    assert cities.total == 14 and [h.place.code for h in cities.hits] == sorted(h.place.code for h in cities.hits)
    with pytest.raises(QueryError):
        search(liaoning, "a b c d e f")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_total_is_every_area_whose_name_contains_the_text_inside_the_areas_named(
    liaoning: Store, data: st.DataObject
) -> None:
    ix = index_of(liaoning)
    place = ix.places[data.draw(st.integers(0, len(ix) - 1))]
    start = data.draw(st.integers(0, len(place.name) - 1))
    text = place.name[start: start + data.draw(st.integers(1, 4))]
    # digits alone are a code prefix, Latin letters pinyin, a space or comma separates words: not this rule
    assume(not text.isascii() and not any(c.isspace() or c in ",，" for c in text))
    assume(ks._village_of(text) == text)  # a committee's name is read as its village's (its own test)
    level = data.draw(st.sampled_from([None, AreaLevel.village, AreaLevel.township]))
    # sometimes a further word: part of the name of an area containing it (its county, say)
    up = ix.within(ix.id_of[place.code])
    around = data.draw(st.sampled_from([None, *[a.name[:2] for a in up]]))
    q = text if around is None else f"{text} {around}"
    found = search(liaoning, q, levels=[level] if level else None, limit=1000)

    def named(name: str, p: ks.Place) -> bool:  # or by the name people use (岫岩县)
        return ks.fold(name) in ks.fold(p.name) or ix.id_of[p.code] in ix.aliases.get(ks.fold(name), [])

    def matching(name: str, up: str | None) -> set[str]:
        return {p.code for p in ix.places if named(name, p) and (level is None or p.level == level)
                and (up is None or any(named(up, a) for a in ix.within(ix.id_of[p.code])))}

    expected = matching(text, around)
    if not expected and around is not None:  # read in the order of an address: the last word is the name
        expected = matching(around, text)
    if not expected:  # nor is it an address written without spaces, nor a place in brackets (their own tests)
        assume(all(len(ks._address(ix, ks.fold(t))) == 1 for t in q.split()) and not ks._BRACKETS.search(q))
    assert found.total == len(expected)
    assert {h.place.code for h in found.hits} <= expected
    if found.total <= 1000:
        assert {h.place.code for h in found.hits} == expected


def test_a_write_that_adds_an_area_is_found_at_once() -> None:
    store = Store.memory()
    store.bulk_load(reference_ntriples(), "nt", str(GRAPH_REFERENCE))
    assert search(store, "示例新村").total == 0
    store.update("""INSERT DATA { GRAPH <https://w3id.org/dcpa/graph/reference> {
        <https://w3id.org/dcpa/id/area/210102001999> a dcpa:Village ; dcpa:areaCode "210102001999" ;
            rdfs:label "示例新村" ; dcpa:parentArea <https://w3id.org/dcpa/id/area/210102001> } }""")
    found = search(store, "示例新村")
    assert found.total == 1 and found.hits[0].within[-1].name == "浑河湾街道"
    # an area named in English only is still found, by the start of its name
    store.update("""INSERT DATA { GRAPH <https://w3id.org/dcpa/graph/reference> {
        <https://w3id.org/dcpa/id/area/210102001998> a dcpa:Village ; dcpa:areaCode "210102001998" ;
            rdfs:label "Example: hamlet"@en ; dcpa:parentArea <https://w3id.org/dcpa/id/area/210102001> } }""")
    assert [h.place.code for h in search(store, "example ham").hits] == ["210102001998"]


def _version(tmp_path: Path) -> tuple[Store, Path]:
    root = tmp_path / "store.versions"
    root.mkdir()
    version = root / "20261202T000000000000Z-abcdef"
    store = Store.open(version)
    store.bulk_load(reference_ntriples(), "nt", str(GRAPH_REFERENCE))
    return store, version


def test_a_built_version_saves_its_index_and_others_load_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, version = _version(tmp_path)
    assert ks.save(store, version) > 18_000
    store.close()
    reader = Store.open(version, read_only=True, create=False)
    try:
        monkeypatch.setattr(ks, "_make_entries", lambda _s: pytest.fail("the saved index was not used"))
        assert names(search(reader, "水源地社区")) == ["水源地社区"]
    finally:
        reader.close()


def test_a_damaged_or_older_saved_index_is_made_again(tmp_path: Path) -> None:
    store, version = _version(tmp_path)
    try:
        ks.saved_file(version).write_text(json.dumps({"format": ks.FORMAT - 1, "entries": [["x"]]}), encoding="utf-8")
        assert names(search(store, "水源地社区")) == ["水源地社区"]
        assert json.loads(ks.saved_file(version).read_text(encoding="utf-8"))["format"] == ks.FORMAT
        ks._on_disk.clear()
        ks.saved_file(version).write_text(f'{{"format": {ks.FORMAT}, "entries": [[', encoding="utf-8")
        assert names(search(store, "水源地社区")) == ["水源地社区"]
    finally:
        store.close()



def test_a_server_preloads_only_a_saved_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At start a server loads the index saved beside its version, reading no store and writing no file (making
    one from the store raced a rebuild's clean-up of that version); without one it leaves it to the first search."""
    store, version = _version(tmp_path)
    try:
        ks._on_disk.clear()
        ks.saved_file(version).unlink(missing_ok=True)
        assert ks.preload(store) is False and not ks.saved_file(version).exists() and not ks._on_disk
        assert names(search(store, "水源地社区")) == ["水源地社区"]  # made from the store, and saved
        assert ks.saved_file(version).exists()
        ks._on_disk.clear()
        monkeypatch.setattr(ks, "_make_entries", lambda _store: pytest.fail("preload read the store"))
        assert ks.preload(store) is True
        assert names(search(store, "水源地社区")) == ["水源地社区"]  # from the preloaded index
    finally:
        store.close()


def test_a_service_over_a_remote_store_follows_a_rebuild(start_oxigraph: Callable[[], Any]) -> None:
    """Services over one remote store keep its area index per process: when the store is built again behind
    their backs with other areas (a newer code vintage), their next search finds them (the index follows the
    build's stamp, ``kg.stamp``, which a remote build drops first and writes last)."""
    server = start_oxigraph()
    owner = RemoteStore(server.query_url, update_endpoint=server.update_url, graph_store=server.graph_store_url)
    owner.bulk_load(_one_district(), "nt", str(GRAPH_REFERENCE))
    stamp.write(owner, "build-1")
    service = RemoteStore(server.query_url)  # another process's view: it never writes
    assert search(service, "示例新村").total == 0
    stamp.clear(owner)  # what a rebuild does, with the new reference data
    owner.update("""INSERT DATA { GRAPH <https://w3id.org/dcpa/graph/reference> {
        <https://w3id.org/dcpa/id/area/210102001999> a dcpa:Village ; dcpa:areaCode "210102001999" ;
            rdfs:label "示例新村" ; dcpa:parentArea <https://w3id.org/dcpa/id/area/210102001> } }""")
    stamp.write(owner, "build-2")
    assert stamp.read(service) == "build-2"
    found = search(service, "示例新村")
    assert found.total == 1 and found.hits[0].within[-1].name == "浑河湾街道"


def _one_district(code: str = "210102") -> bytes:
    """The reference data of one district and the areas above it (a small index: made over HTTP twice)."""
    prefix = b"<https://w3id.org/dcpa/id/area/"

    def kept(line: bytes) -> bool:
        if not line.startswith(prefix):
            return True
        c = line[len(prefix):line.index(b">")].decode()
        return code.startswith(c) or c.startswith(code)

    return b"".join(line for line in reference_ntriples().splitlines(keepends=True) if kept(line))
