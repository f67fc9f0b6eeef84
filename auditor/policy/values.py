"""JSON value helpers: type names, JSON equality, and short renderings for evidence."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

#: Longest rendering of an actual value in evidence; longer values are cut with an ellipsis.
MAX_SHOWN = 200

JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")


def json_type(value: Any) -> str:
    """The JSON type name of a Python value as the JSON decoder produces it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Sequence):
        return "array"
    return type(value).__name__


def is_number(value: Any) -> bool:
    """A JSON number: int or float, never a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    """A JSON Schema integer: an int (not a bool) or a float with no fractional part (1.0)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def has_json_type(value: Any, type_name: str) -> bool:
    """Whether ``value`` is of JSON type ``type_name`` (JSON Schema's definitions)."""
    if type_name == "integer":
        return is_integer(value)
    return json_type(value) == type_name


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``1 != true``; objects by keys, arrays by position."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if is_number(left):
        return is_number(right) and left == right
    if isinstance(left, str) or left is None:
        return type(left) is type(right) and left == right
    if isinstance(left, Mapping):
        if not isinstance(right, Mapping) or left.keys() != right.keys():
            return False
        return all(json_equal(item, right[key]) for key, item in left.items())
    if isinstance(left, Sequence):
        if isinstance(right, str | Mapping) or not isinstance(right, Sequence):
            return False
        return len(left) == len(right) and all(
            json_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` itself, or its first ``limit`` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "…"


def show(value: Any) -> str:
    """A short rendering for a sentence: strings quoted, everything else as JSON."""
    if isinstance(value, str):
        return repr(cut(value))
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    except ValueError:  # circular structure: cannot come from JSON, but never raise on evidence
        text = repr(value)
    return cut(text)


def show_list(values: Sequence[Any]) -> str:
    """``a, b, c`` for strings (unquoted, as a reviewer reads them), JSON otherwise; cut."""
    parts = [item if isinstance(item, str) else show(item) for item in values]
    return cut(", ".join(parts))


def trimmed(value: Any) -> Any:
    """The value for ``Evidence.actual``: itself when short, else its rendering cut."""
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    rendered = show(value)
    return value if not rendered.endswith("…") else rendered


def article(type_name: str) -> str:
    """``a string`` / ``an object``."""
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"
