"""Which language each part of a shown name is in (what pages mark with ``lang``)."""

from __future__ import annotations

from kg.answers.labels import language_runs


def test_chinese_runs_on_an_english_page_are_cut_out_with_their_punctuation() -> None:
    assert language_runs("survey: 示例·朱碌科镇入户调查", "en") == [
        ("survey: ", None), ("示例·朱碌科镇入户调查", "zh-CN")]
    assert language_runs("“十三五”时期文化扶贫工作实施方案", "en") == [("“十三五”时期文化扶贫工作实施方案", "zh-CN")]
    assert language_runs("A villagers' committee (村): a", "en") == [
        ("A villagers' committee (", None), ("村", "zh-CN"), ("): a", None)]
    assert language_runs("Houyajifang Cun", "en") == [("Houyajifang Cun", None)]


def test_an_english_fallback_on_a_chinese_page_is_english_and_codes_are_nothing() -> None:
    assert language_runs("Example: Jianping County Library", "zh") == [("Example: Jianping County Library", "en")]
    assert language_runs("示例·建平县图书馆", "zh") == [("示例·建平县图书馆", None)]
    assert language_runs("211322 · 1,700", "zh") == [("211322 · 1,700", None)]
