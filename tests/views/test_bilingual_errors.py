"""What the graph views and dashboards refuse is said in Chinese first, then in English (``中文 / English``),
message and hint, in the JSON error a page's script or a program reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from kg.errors import DcpaError
from kg.store import Store
from kg.viz import gap_tables

#: path → (status, the English the message keeps, the English the hint keeps)
CASES = {
    "/views/village/211322": (404, "no village-level unit with code '211322'", "use a 12-digit statistical code"),
    "/views/area/211322101200": (404, "no county, city or province with code '211322101200'", "9-digit code"),
    "/views/policy/P99": (404, "no policy or programme with id 'P99'", "ids look like P01"),
    "/dashboard?area=2x": (400, "not an area code: '2x'", "12-digit statistical code"),
    "/dashboard/village/211322": (404, "'211322' is not a village-level code", "use a 12-digit code"),
    "/views/node.json?iri=https://w3id.org/dcpa/id/nothing": (404, "nothing is known about https://w3id.org/dcpa/id/"
                                                                   "nothing", "give the full IRI of a node"),
    "/views/node.json?iri=x": (400, "not an IRI: 'x'", "pass a full http(s) IRI"),
}


@pytest.mark.parametrize("path", CASES)
def test_view_refusals_are_chinese_first(client: TestClient, path: str,
                                         zh_first: Callable[..., None]) -> None:
    status, english, hint = CASES[path]
    r = client.get(path)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    zh_first(err["message"], english)
    zh_first(err["hint"], hint)


def test_an_unknown_chart_is_refused_chinese_first(store: Store,
                                                   zh_first: Callable[..., None]) -> None:
    with pytest.raises(DcpaError) as e:
        gap_tables(store, "21", ["colour"])
    zh_first(e.value.message, "unknown chart 'colour'")
    zh_first(e.value.hint, "use one of: area")
