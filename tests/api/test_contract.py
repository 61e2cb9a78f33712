"""The API's contract with the library: the options it offers are the library's, and its examples are real.

The API never restates what the library defines: every enumeration in the OpenAPI document (gap
dimensions, plan methods, reach modes) must equal the library's own constants, and every example the
document shows must have the shape of a real answer on the fixture.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kg.answers.gaps import GAP_DIMENSIONS
from kg.planning import BUDGET_ABOVE, BUDGET_MAX, BUDGET_TEXT_MAX, METHODS
from kg.rule import REACH_MODES
from kg.store import Store

from .conftest import load_fixture, make_settings

V = "210123203200"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    app = create_app(make_settings(tmp_path_factory.mktemp("contract")), load_fixture(Store.memory()))
    return TestClient(app)


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/openapi.json").json()
    return doc


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _enum(spec: dict[str, Any], schema: dict[str, Any]) -> list[str] | None:
    """The enumeration a parameter schema allows (through refs, arrays, anyOf with null)."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return list(schema["enum"])
    if schema.get("type") == "array":
        return _enum(spec, schema["items"])
    for alt in schema.get("anyOf", []):
        found = _enum(spec, alt)
        if found is not None:
            return found
    return None


def _params(spec: dict[str, Any], path: str, method: str = "get") -> dict[str, dict[str, Any]]:
    return {p["name"]: p["schema"] for p in spec["paths"][path][method].get("parameters", [])}


def test_gap_dimensions_are_the_librarys(spec: dict[str, Any]) -> None:
    assert _enum(spec, _params(spec, "/api/gaps")["by"]) == list(GAP_DIMENSIONS)


def test_plan_methods_and_reach_are_the_librarys(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/api/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    props = _resolve(spec, body)["properties"]
    assert _enum(spec, props["method"]) == list(METHODS)
    assert _enum(spec, props["reach"]) == [m.value for m in REACH_MODES]


def test_the_budget_bounds_are_the_librarys(spec: dict[str, Any]) -> None:
    """`dcpa plan --budget 0` made an empty plan where the API refused it: one rule, kg.answers.plan's."""
    body = spec["paths"]["/api/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = _resolve(spec, body)["properties"]["budget"]
    assert (schema["exclusiveMinimum"], schema["maximum"]) == (BUDGET_ABOVE, BUDGET_MAX)
    # the page's budget is text as typed (20万), read by the library's read_budget, which checks the same bounds
    page = _resolve(spec, _params(spec, "/plan")["budget"])
    assert next(a for a in page["anyOf"] if a.get("type") == "string")["maxLength"] == BUDGET_TEXT_MAX


def test_every_reach_parameter_offers_the_librarys_modes_and_nothing_else(spec: dict[str, Any]) -> None:
    found = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if p["name"] == "reach":
                    assert _enum(spec, p["schema"]) == [m.value for m in REACH_MODES], (method, path)
                    found += 1
    assert found >= 3  # gaps, one village, recommendations


def test_every_answer_offers_real_only(spec: dict[str, Any]) -> None:
    answers = ["/api/gaps", "/api/villages", "/api/villages/{code}", "/api/villages/{code}/recommendations",
               "/api/areas/{code}/recommendations", "/api/villages/{code}/similar", "/api/queries/{name}",
               "/api/policies", "/api/interventions"]
    for path in answers:
        assert "real_only" in _params(spec, path), path
    assert "real_only" in _resolve(spec, spec["paths"]["/api/plans"]["post"]["requestBody"]["content"]
                                   ["application/json"]["schema"])["properties"]


def _shape(value: Any) -> Any:
    """The key structure of a JSON value (dicts by key, lists by their first item, scalars by JSON type)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if value is None:
        return None
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__


def _same_shape(example: Any, real: Any, where: str = "") -> None:
    """Every key of the example exists in the real answer with a value of the same kind."""
    if isinstance(example, dict):
        assert isinstance(real, dict), where
        for k, v in example.items():
            assert k in real, f"{where}.{k} is in the example but not in a real answer"
            _same_shape(v, real[k], f"{where}.{k}")
    elif isinstance(example, list):
        assert isinstance(real, list), where
        if example and real:
            _same_shape(example[0], real[0], f"{where}[0]")
    elif example is not None and real is not None:
        assert _shape(example) == _shape(real), f"{where}: example {example!r}, real {real!r}"


#: A real request for every route whose OpenAPI document shows an example answer.
REAL_REQUESTS = {
    ("/api/gaps", "get"): lambda c: c.get("/api/gaps", params={"area": "2101"}),
}


def test_every_response_example_has_the_shape_of_a_real_answer(client: TestClient, spec: dict[str, Any]) -> None:
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
            if "example" not in content:
                continue
            assert (path, method) in REAL_REQUESTS, f"add a real request for the example of {method} {path}"
            real = REAL_REQUESTS[(path, method)](client)
            assert real.status_code == 200, real.text
            _same_shape(content["example"], real.json(), path)
            checked += 1
    assert checked >= 1


def _field_examples(spec: dict[str, Any], schema: dict[str, Any], real: Any, where: str) -> int:
    """Check every field example of a response model against the value of a real answer; count them."""
    schema = _resolve(spec, schema)
    n = 0
    if isinstance(real, dict):
        for name, prop in schema.get("properties", {}).items():
            if name not in real:
                continue
            for ex in prop.get("examples", []):
                _same_shape(ex, real[name], f"{where}.{name}")
                n += 1
            inner = _resolve(spec, prop)
            if inner.get("type") == "array" and isinstance(real[name], list) and real[name]:
                n += _field_examples(spec, inner.get("items", {}), real[name][0], f"{where}.{name}[0]")
            elif "properties" in inner or "$ref" in prop:
                n += _field_examples(spec, prop, real[name], f"{where}.{name}")
    return n


@pytest.mark.parametrize("path,url", [
    ("/api/villages", "/api/villages?q=2101"),
    ("/api/areas", "/api/areas?q=2101"),
    ("/api/villages/{code}", f"/api/villages/{V}"),
    ("/api/stats", "/api/stats"),
    ("/api/policies", "/api/policies"),
    ("/api/queries", "/api/queries"),
])
def test_every_field_example_has_the_shape_of_the_real_field(client: TestClient, spec: dict[str, Any], path: str,
                                                             url: str) -> None:
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    real = client.get(url)
    assert real.status_code == 200, real.text
    assert _field_examples(spec, schema, real.json(), path) > 0
