"""Schemathesis over the OpenAPI schema: GET routes of /api answer no 5xx and match their schema.

Bounded: 10 generated examples per operation, derandomised, so the run is short and repeatable.
(The schemathesis pytest plugin does not run under pytest 9, so the operations are driven here.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from api.app import create_app
from kg.store import Store

from .conftest import load_fixture, make_settings

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def test_api_get_routes(tmp_path: Any) -> None:
    app = create_app(make_settings(tmp_path), load_fixture(Store.memory()))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(method="GET", path_regex="^/api/")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15

    tested = []
    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        check()
        tested.append(op.label)
    assert "GET /api/villages/{code}" in tested
