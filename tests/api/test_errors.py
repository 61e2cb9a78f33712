"""How an invalid request's fields are named on a page (``api.errors.field_problems``)."""

from __future__ import annotations

from api.errors import field_problems


def test_a_rule_pydantic_has_and_we_do_not_translate_is_still_marked_in_chinese() -> None:
    details = [{"loc": ["query", "x"], "type": "some_new_rule", "message": "Value error, odd", "input": "7"}]
    assert field_problems(details, "zh") == [{"field": "x", "problem": "不符合要求（Value error, odd）", "given": "7"}]
    assert field_problems(details, "en")[0]["problem"] == "Value error, odd"


def test_rules_are_named_in_the_page_s_language_with_their_values() -> None:
    details = [{"loc": ["body", "budget"], "type": "multiple_of", "message": "Input should be a multiple of 10",
                "ctx": {"multiple_of": 10}, "input": 15}]
    assert field_problems(details, "zh")[0]["problem"] == "须为 10 的整数倍"
    assert field_problems(details, "en")[0]["problem"] == "must be a multiple of 10"
    gone = [{"loc": ["query", "budget"], "type": "greater_than", "message": "Input should be greater than 0"}]
    assert field_problems(gone, "zh")[0]["problem"] == "不符合要求（Input should be greater than 0）"  # no ctx given


def test_missing_browser_libraries_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api.paths import VENDOR_FILES, VIZ_VENDOR_FILES, missing_assets

    assert missing_assets() == []  # the checkout's own, after `make setup`
    bare = missing_assets(tmp_path, tmp_path)  # what `dcpa serve` warns about on a checkout without them
    assert bare == [*VENDOR_FILES, *VIZ_VENDOR_FILES]
