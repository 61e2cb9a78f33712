"""The data basis of an answer: how much of it rests on example data.

Example data (``dcpa:isSynthetic true``, the graph ``…/graph/synthetic``) illustrates the model; it
is never a real registration, library or case. Every answer says what share of its items rests on
it and marks each such item; with ``real_only`` it answers from real data alone and says so — and,
when nothing real is left, why the answer is empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ..contract import StoreAPI
from ..facts import iri_values


@dataclass(frozen=True)
class Basis:
    """What an answer's items rest on."""

    items: int
    example_items: int
    real_only: bool
    note_zh: str
    note_en: str

    @property
    def example_share(self) -> float:
        return round(self.example_items / self.items, 4) if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["example_share"] = self.example_share
        return d


def basis(flags: Iterable[bool], *, real_only: bool = False, what_zh: str = "项", what_en: str = "items",
          empty_zh: str = "", empty_en: str = "") -> Basis:
    """The basis of items whose example flags are ``flags`` (True: the item rests on example data)."""
    flags = list(flags)
    n, ex = len(flags), sum(1 for f in flags if f)
    if real_only:
        if n == 0:
            zh = empty_zh or f"只用真实数据：{_none_zh(what_zh, real=True)}。导入调查数据（dcpa import）后才有结果。"
            en = empty_en or (f"real data only: there are no real {what_en}. Import survey data "
                              "(dcpa import) to get an answer.")
        else:
            zh, en = f"只用真实数据：{n} {what_zh}。", f"real data only: {n} {what_en}."
    elif n == 0:
        zh, en = f"{_none_zh(what_zh)}。", f"no {what_en}."
    elif ex == 0:
        zh, en = f"全部 {n} {what_zh}来自真实数据。", f"all {n} {what_en} rest on real data."
    else:
        counted = what_zh[:1] if what_zh[:1] in _CLASSIFIERS else "项"  # 2 个村中有 1 个, not 1 项
        zh = f"{n} {what_zh}中有 {ex} {counted}（{_pct(ex, n)}）依据示例数据，不是真实情况。"
        en = f"{ex} of {n} {what_en} ({_pct(ex, n)}) rest on example data, not on real facts."
    return Basis(n, ex, real_only, zh, en)




#: Measure words that begin a ``what_zh`` ("个村", "条记录", "项（…）"): counted, not said when there are none.
_CLASSIFIERS = "个条项行份所家位名种"


def _none_zh(what_zh: str, *, real: bool = False) -> str:
    """"None of them" in Chinese: 没有村 (not 没有个村), 没有一项（需求与候选）, 没有真实的记录."""
    head, rest = what_zh[:1], what_zh[1:]
    if head in _CLASSIFIERS and rest and not rest.startswith("（"):
        return f"没有{'真实的' if real else ''}{rest}"
    if head in _CLASSIFIERS:  # the measure word is the noun ("行", "项（…）")
        return f"没有一{head}{'真实数据' if real else ''}{rest}"
    return f"没有{'真实的' if real else ''}{what_zh}"


def _pct(part: int, whole: int) -> str:
    """A share that never rounds a partial share to 0 % or 100 %."""
    share = part / whole
    text = f"{share:.0%}"
    return f"{share:.1%}" if text in ("0%", "100%") and part not in (0, whole) else text


def example_nodes(store: StoreAPI, iris: Iterable[str]) -> set[str]:
    """Which of ``iris`` are example data (``dcpa:isSynthetic true``)."""
    wanted = sorted({i for i in iris if i and i.startswith(("http://", "https://"))})
    out: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = iri_values(wanted[start:start + 500])
        out |= {sol["s"].value for sol in store.query(f"SELECT ?s WHERE {{ VALUES ?s {{ {chunk} }} "
                                                       "?s dcpa:isSynthetic true }")}
    return out


__all__ = ["Basis", "basis", "example_nodes"]
