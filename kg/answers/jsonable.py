"""Plain JSON values from answers: dataclasses, enums, dates and labels (Chinese kept as is)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from typing import Any


def to_jsonable(obj: Any) -> Any:
    """Dataclasses (through their own ``to_dict`` when they have one), enums, dates, lists and dicts.

    A dataclass's ``to_dict`` must not call ``to_jsonable`` on itself (it would never end); it may call
    it on its fields.
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        own = getattr(obj, "to_dict", None)
        if callable(own):
            return to_jsonable(own())
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, set | frozenset):
        return sorted((to_jsonable(v) for v in obj), key=str)
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    return obj


__all__ = ["to_jsonable"]
