"""The one URL builder of the service: every link a JSON answer or a page gives is made here."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode


def _q(path: str, **params: Any) -> str:
    items = {k: ("true" if v is True else "false" if v is False else v) for k, v in params.items()
             if v is not None and v != "" and v is not False}
    return path + ("?" + urlencode(items, doseq=True) if items else "")  # a list: the parameter repeated


def village(code: str, **params: Any) -> str:
    return _q(f"/api/villages/{quote(code)}", **params)


def village_recommendations(code: str) -> str:
    return f"/api/villages/{quote(code)}/recommendations"


def area_recommendations(code: str, **params: Any) -> str:
    return _q(f"/api/areas/{quote(code)}/recommendations", **params)


def village_similar(code: str) -> str:
    return f"/api/villages/{quote(code)}/similar"


def gaps(area: str | None, **params: Any) -> str:
    return _q("/api/gaps", area=area, **params)


def record(kind_path: str, key: str) -> str:
    return f"/api/{kind_path}/{quote(key, safe='-_.~')}"


def query(name: str) -> str:
    return f"/api/queries/{quote(name)}"


def home(**params: Any) -> str:
    return _q("/", **params)


def data_page(**params: Any) -> str:
    return _q("/data", **params)


def data_template() -> str:
    return "/data/dcpa-template.xlsx"


def data_records() -> str:
    return "/data/dcpa-records.xlsx"


def plan_page(**params: Any) -> str:
    return _q("/plan", **params)


def plan_export(ext: str, **params: Any) -> str:
    return _q(f"/plan.{ext}", **params)


def dashboard(area: str | None = None, **params: Any) -> str:
    return _q("/dashboard", area=area, **params)


def search_page(q: str, **params: Any) -> str:
    return _q("/dashboard/search", q=q, **params)


def dashboard_village(code: str, **params: Any) -> str:
    return _q(f"/dashboard/village/{quote(code)}", **params)


def view(kind: str, key: str, **params: Any) -> str:
    return _q(f"/views/{kind}/{quote(key)}", **params)


def chart_csv(chart: str, **params: Any) -> str:
    return _q(f"/dashboard/data/{quote(chart)}.csv", **params)


def model_page(code: str, **params: Any) -> str:
    return _q(f"/views/model/{quote(code)}", **params)


def model_json(code: str, **params: Any) -> str:
    return _q(f"/api/model/{quote(code)}", **params)
