"""need_rows without IRIs (what gaps asks for) gives the same needs as with them."""

from __future__ import annotations

from collections import Counter

import pytest

from kg.answers import _common
from kg.store import Store


@pytest.mark.parametrize("code", ["21", "2190", "219001001001"])
@pytest.mark.parametrize("period", [None, ("2019-01-01", "2019-12-31")])
def test_rows_without_iris_count_the_same(store: Store, code: str, period: tuple[str, str] | None) -> None:
    scope = _common.resolve_area(store, code)
    modes = _common.parse_reach("area,library")
    full = _common.need_rows(store, scope, modes, period)
    bare = _common.need_rows(store, scope, modes, period, with_iri=False)
    assert full or period, "the fixture has needs in each of these areas"
    assert all(r.need.startswith("https://") for r in full)
    assert all(r.need == "" for r in bare)
    assert Counter(r._replace(need="") for r in full) == Counter(bare)
