"""The data basis every answer states: how much of it is example data, said right in Chinese and English."""

from __future__ import annotations

import pytest

from kg.answers.basis import basis


@pytest.mark.parametrize(
    ("what_zh", "none", "real_none", "some"),
    [
        ("个村", "没有村。", "没有真实的村。", "2 个村中有 1 个（50%）"),
        ("条记录", "没有记录。", "没有真实的记录。", "2 条记录中有 1 条（50%）"),
        ("行", "没有一行。", "没有一行真实数据。", "2 行中有 1 行（50%）"),
        ("项（需求与候选）", "没有一项（需求与候选）。", "没有一项真实数据（需求与候选）。",
         "2 项（需求与候选）中有 1 项（50%）"),
        ("项需求", "没有需求。", "没有真实的需求。", "2 项需求中有 1 项（50%）"),
    ],
)
def test_the_chinese_note_counts_with_its_measure_word(what_zh: str, none: str, real_none: str, some: str) -> None:
    """An empty answer says 没有村, not 没有个村; a count keeps the measure word of what it counts."""
    assert basis([], what_zh=what_zh, what_en="items").note_zh == none
    assert basis([], real_only=True, what_zh=what_zh, what_en="items").note_zh.startswith(f"只用真实数据：{real_none}")
    assert basis([True, False], what_zh=what_zh, what_en="items").note_zh.startswith(some)
    assert basis([False], what_zh=what_zh, what_en="items").note_zh == f"全部 1 {what_zh}来自真实数据。"
