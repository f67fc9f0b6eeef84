"""One table of (condition, document, holds) cases: every registered kind appears in it,
holding and failing, and the registry test checks that."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    kind: str
    condition: dict[str, Any]
    document: Any
    holds: bool
    why: str

    @property
    def name(self) -> str:
        return f"{self.kind}: {self.why}"


def leaf(op: str, path: Any = "v", **rest: Any) -> dict[str, Any]:
    return {"path": path, "op": op, **rest}


CASES = [
    # present / absent
    Case("present", leaf("present"), {"v": "x"}, True, "a string is present"),
    Case("present", leaf("present"), {"v": 0}, True, "zero is present"),
    Case("present", leaf("present"), {"v": False}, True, "false is present"),
    Case("present", leaf("present"), {}, False, "missing is not present"),
    Case("present", leaf("present"), {"v": None}, False, "null is not present"),
    Case("present", leaf("present"), {"v": ""}, False, "empty string is not present"),
    Case("present", leaf("present"), {"v": []}, False, "empty list is not present"),
    Case("present", leaf("present"), {"v": {}}, False, "empty object is not present"),
    Case("present", leaf("present", missing="pass"), {}, True, "explicit missing pass wins"),
    Case("absent", leaf("absent"), {}, True, "missing is absent by default"),
    Case("absent", leaf("absent"), {"v": None}, True, "null is absent"),
    Case("absent", leaf("absent"), {"v": ""}, True, "empty string is absent"),
    Case("absent", leaf("absent"), {"v": "x"}, False, "a value is not absent"),
    Case("absent", leaf("absent", missing="fail"), {}, False, "explicit missing fail wins"),
    # eq / ne
    Case("eq", leaf("eq", value="ACTIVE"), {"v": "ACTIVE"}, True, "equal strings"),
    Case("eq", leaf("eq", value="ACTIVE"), {"v": "active"}, False, "case matters"),
    Case("eq", leaf("eq", value=1), {"v": True}, False, "1 is not true"),
    Case("eq", leaf("eq", value=True), {"v": 1}, False, "true is not 1"),
    Case("eq", leaf("eq", value=1), {"v": 1.0}, True, "1 equals 1.0"),
    Case("eq", leaf("eq", value={"a": [1, 2]}), {"v": {"a": [1, 2]}}, True, "deep equality"),
    Case("eq", leaf("eq", value={"a": [1]}), {"v": {"a": [True]}}, False, "deep: 1 is not true"),
    Case("eq", leaf("eq", value="x"), {}, False, "missing fails by default"),
    Case("eq", leaf("eq", value="x", missing="pass"), {"v": None}, True, "null with missing pass"),
    Case("ne", leaf("ne", value="x"), {"v": "y"}, True, "different"),
    Case("ne", leaf("ne", value="x"), {"v": "x"}, False, "same"),
    Case("ne", leaf("ne", value=0), {"v": False}, True, "0 differs from false"),
    Case("ne", leaf("ne", value="x"), {}, False, "missing fails by default"),
    # in / not-in
    Case("in", leaf("in", value=["a", "b"]), {"v": "a"}, True, "member"),
    Case("in", leaf("in", value=["a", "b"]), {"v": "c"}, False, "not a member"),
    Case("in", leaf("in", value=[1, 2]), {"v": True}, False, "true is not 1"),
    Case("in", leaf("in", value=[1, 2]), {"v": 2.0}, True, "2.0 is 2"),
    Case("in", leaf("in", value=["a"]), {"v": ["a"]}, False, "a list is not its item"),
    Case("in", leaf("in", value=["a"]), {}, False, "missing fails"),
    Case("not-in", leaf("not-in", value=["a"]), {"v": "b"}, True, "not a member"),
    Case("not-in", leaf("not-in", value=["a"]), {"v": "a"}, False, "member"),
    Case("not-in", leaf("not-in", value=["a"]), {}, False, "missing fails"),
    # glob / not-glob
    Case("glob", leaf("glob", value="*_FAILED"), {"v": "CREATE_FAILED"}, True, "matches"),
    Case("glob", leaf("glob", value="*_FAILED"), {"v": "create_failed"}, False, "case-sensitive"),
    Case("glob", leaf("glob", value=["a*", "b*"]), {"v": "bx"}, True, "any of a list"),
    Case("glob", leaf("glob", value="*"), {"v": 5}, False, "a number is not a string"),
    Case("not-glob", leaf("not-glob", value="*_FAILED"), {"v": "ACTIVE"}, True, "no match"),
    Case("not-glob", leaf("not-glob", value="*_FAILED"), {"v": "DELETE_FAILED"}, False, "match"),
    Case("not-glob", leaf("not-glob", value="x"), {"v": ["x"]}, False, "a list is the wrong type"),
    Case("not-glob", leaf("not-glob", value="x"), {}, False, "missing fails"),
    # regex / not-regex
    Case("regex", leaf("regex", value="^ml\\."), {"v": "ml.m5"}, True, "found"),
    Case("regex", leaf("regex", value="m5"), {"v": "ml.m5.xlarge"}, True, "search, not match"),
    Case("regex", leaf("regex", value="^m5"), {"v": "ml.m5"}, False, "anchored"),
    Case("regex", leaf("regex", value="x"), {"v": ["x"]}, False, "a list is the wrong type"),
    Case("not-regex", leaf("not-regex", value="(?i)^aws:"), {"v": "aWs:x"}, False, "mixed case"),
    Case("not-regex", leaf("not-regex", value="(?i)^aws:"), {"v": "awsome"}, True, "awsome"),
    Case("not-regex", leaf("not-regex", value="x"), {"v": 1}, False, "a number is the wrong type"),
    # lt le gt ge
    Case("le", leaf("le", value=86400), {"v": 86400}, True, "boundary holds"),
    Case("le", leaf("le", value=86400), {"v": 86401}, False, "one over"),
    Case("le", leaf("le", value=86400), {"v": "100"}, False, "a string is the wrong type"),
    Case("le", leaf("le", value=1), {"v": True}, False, "a boolean is not a number"),
    Case("le", leaf("le", value=1), {}, False, "missing fails"),
    Case("lt", leaf("lt", value=10), {"v": 9.5}, True, "float below"),
    Case("lt", leaf("lt", value=10), {"v": 10}, False, "boundary fails"),
    Case("lt", leaf("lt", value=10), {"v": "9"}, False, "a string is the wrong type"),
    Case("gt", leaf("gt", value=0), {"v": 1}, True, "above"),
    Case("gt", leaf("gt", value=0), {"v": 0}, False, "boundary fails"),
    Case("ge", leaf("ge", value=0), {"v": 0}, True, "boundary holds"),
    Case("ge", leaf("ge", value=0), {"v": -1}, False, "below"),
    Case("ge", leaf("ge", value=0), {"v": False}, False, "false is not 0"),
    # has-keys
    Case("has-keys", leaf("has-keys", value=["owner"]), {"v": {"owner": "x"}}, True, "has it"),
    Case(
        "has-keys",
        leaf("has-keys", value=["owner"]),
        {"v": {"Owner": "x"}},
        False,
        "Owner is not owner",
    ),
    Case("has-keys", leaf("has-keys", value=["a", "b"]), {"v": {"a": 1}}, False, "one of two"),
    Case(
        "has-keys", leaf("has-keys", value=["a"]), {"v": ["a"]}, False, "a list is the wrong type"
    ),
    Case(
        "has-keys",
        leaf("has-keys", value=["a"]),
        {"v": {"a": None}},
        True,
        "a key with null value is a key",
    ),
    # min-items / max-items
    Case("min-items", leaf("min-items", value=2), {"v": [1, 2]}, True, "list at the boundary"),
    Case("min-items", leaf("min-items", value=2), {"v": "a"}, False, "short string"),
    Case("min-items", leaf("min-items", value=1), {"v": {"a": 1}}, True, "object"),
    Case("min-items", leaf("min-items", value=1), {"v": 5}, False, "a number is the wrong type"),
    Case("max-items", leaf("max-items", value=2), {"v": "ab"}, True, "string at the boundary"),
    Case("max-items", leaf("max-items", value=2), {"v": [1, 2, 3]}, False, "long list"),
    Case("max-items", leaf("max-items", value=2), {}, False, "missing fails"),
    # type
    Case("type", leaf("type", value="integer"), {"v": 1}, True, "int is integer"),
    Case("type", leaf("type", value="integer"), {"v": 1.0}, True, "1.0 is integer (JSON Schema)"),
    Case("type", leaf("type", value="integer"), {"v": 1.5}, False, "1.5 is not integer"),
    Case("type", leaf("type", value="integer"), {"v": True}, False, "true is not integer"),
    Case("type", leaf("type", value="number"), {"v": False}, False, "false is not a number"),
    Case("type", leaf("type", value=["string", "array"]), {"v": []}, True, "any of a list"),
    Case("type", leaf("type", value="object"), {"v": "x"}, False, "string is not object"),
    # keys / values / items
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "(?i)^aws:"}),
        {"tags": {"owner": "a", "awsome": "b"}},
        True,
        "no reserved key",
    ),
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "(?i)^aws:"}),
        {"tags": {"AWS:x": "a"}},
        False,
        "AWS: key",
    ),
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "x"}),
        {},
        True,
        "missing passes",
    ),
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "x"}),
        {"tags": None},
        True,
        "null passes",
    ),
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "x"}, missing="fail"),
        {},
        False,
        "explicit missing fail",
    ),
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "x"}),
        {"tags": ["x"]},
        False,
        "a list is the wrong type",
    ),
    Case(
        "keys",
        leaf("keys", "tags", check={"op": "not-regex", "value": "x"}),
        {"tags": {}},
        True,
        "empty object",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "max-items", "value": 3}),
        {"tags": {"a": "abc"}},
        True,
        "short values",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "max-items", "value": 3}),
        {"tags": {"a": "abcd"}},
        False,
        "long value",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "present"}),
        {"tags": {"a": None}},
        False,
        "null value fails nested present",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"path": "name", "op": "present"}),
        {"chans": [{"name": "a"}]},
        True,
        "nested path",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"path": "name", "op": "present"}),
        {"chans": [{"name": "a"}, {}]},
        False,
        "second item lacks it",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"op": "type", "value": "object"}),
        {"chans": {"a": 1}},
        False,
        "object is the wrong type",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"op": "type", "value": "object"}),
        {},
        True,
        "missing passes",
    ),
    # combinators
    Case(
        "all",
        {"all": [leaf("eq", value=1), leaf("present", "w")]},
        {"v": 1, "w": "x"},
        True,
        "both hold",
    ),
    Case("all", {"all": [leaf("eq", value=1), leaf("present", "w")]}, {"v": 1}, False, "one fails"),
    Case(
        "any", {"any": [leaf("eq", value=1), leaf("present", "w")]}, {"w": "x"}, True, "one holds"
    ),
    Case(
        "any", {"any": [leaf("eq", value=1), leaf("present", "w")]}, {"v": 2}, False, "none holds"
    ),
    Case("not", {"not": leaf("eq", value="CREATE_FAILED")}, {"v": "ACTIVE"}, True, "inner fails"),
    Case(
        "not",
        {"not": leaf("eq", value="CREATE_FAILED")},
        {"v": "CREATE_FAILED"},
        False,
        "inner holds",
    ),
    Case("not", {"not": leaf("eq", value="x")}, {}, True, "inner fails on missing"),
    # schema
    Case(
        "schema",
        {"schema": {"type": "object", "required": ["name"]}},
        {"name": "x"},
        True,
        "whole document",
    ),
    Case(
        "schema",
        {"schema": {"type": "object", "required": ["name"]}},
        {},
        False,
        "missing required",
    ),
    Case(
        "schema",
        {"path": "v", "schema": {"type": "integer", "maximum": 5}},
        {"v": 5},
        True,
        "at a path",
    ),
    Case(
        "schema",
        {"path": "v", "schema": {"type": "integer", "maximum": 5}},
        {"v": 6},
        False,
        "over maximum",
    ),
    Case("schema", {"path": "v", "schema": {"type": "integer"}}, {}, False, "missing fails"),
    Case(
        "schema",
        {"path": "v", "schema": {"type": "integer"}, "missing": "pass"},
        {},
        True,
        "missing pass",
    ),
    # paths
    Case("eq", leaf("eq", "a.b.c", value=1), {"a": {"b": {"c": 1}}}, True, "dotted path"),
    Case(
        "eq",
        leaf("eq", ["tags", "a.b"], value=1),
        {"tags": {"a.b": 1}},
        True,
        "list path with a dotted key",
    ),
    Case(
        "eq",
        leaf("eq", "tags.a.b", value=1),
        {"tags": {"a.b": 1}},
        False,
        "dotted string splits the key",
    ),
    Case(
        "eq", leaf("eq", "a.b", value=1), {"a": "string"}, False, "path through a string is missing"
    ),
    Case(
        "eq", leaf("eq", "a.b", value=1), {"a": [{"b": 1}]}, False, "path through a list is missing"
    ),
]
