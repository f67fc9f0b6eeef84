"""One table of (condition, document, outcome) cases: every registered kind appears in it
true, false and unknown, and the registry test checks that."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.policy.truth import FALSE, TRUE, UNKNOWN, Truth

T, F, U = TRUE, FALSE, UNKNOWN


@dataclass(frozen=True)
class Case:
    kind: str
    condition: dict[str, Any]
    document: Any
    truth: Truth
    why: str

    @property
    def name(self) -> str:
        return f"{self.kind}: {self.why}"


def leaf(op: str, path: Any = "v", **rest: Any) -> dict[str, Any]:
    return {"path": path, "op": op, **rest}


BLOCKED_V = {"v": ["a list, so v.x cannot be read"]}
NOT_AWS = {"op": "not-regex", "value": "(?i)^aws:"}

CASES = [
    # present / absent: they answer existence themselves; only a blocked path is unknown
    Case("present", leaf("present"), {"v": "x"}, T, "a string is present"),
    Case("present", leaf("present"), {"v": 0}, T, "zero is present"),
    Case("present", leaf("present"), {"v": False}, T, "false is present"),
    Case("present", leaf("present"), {}, F, "missing is not present"),
    Case("present", leaf("present"), {"v": None}, F, "null is not present"),
    Case("present", leaf("present"), {"v": ""}, F, "empty string is not present"),
    Case("present", leaf("present"), {"v": []}, F, "empty list is not present"),
    Case("present", leaf("present"), {"v": {}}, F, "empty object is not present"),
    Case("present", leaf("present", missing="pass"), {}, T, "explicit missing pass wins"),
    Case("present", leaf("present", missing="fail"), {}, F, "missing fail is still false"),
    Case("present", leaf("present", "v.x"), BLOCKED_V, U, "a list parent is unknown"),
    Case("absent", leaf("absent"), {}, T, "missing is absent by default"),
    Case("absent", leaf("absent"), {"v": None}, T, "null is absent"),
    Case("absent", leaf("absent"), {"v": ""}, T, "empty string is absent"),
    Case("absent", leaf("absent"), {"v": "x"}, F, "a value is not absent"),
    Case("absent", leaf("absent", missing="fail"), {}, F, "explicit missing fail wins"),
    Case("absent", leaf("absent", "v.x"), BLOCKED_V, U, "a list parent is unknown"),
    Case("absent", leaf("absent", "v.x"), {"v": "text"}, U, "a string parent is unknown"),
    # eq / ne: JSON equality, so no wrong type; missing is unknown
    Case("eq", leaf("eq", value="ACTIVE"), {"v": "ACTIVE"}, T, "equal strings"),
    Case("eq", leaf("eq", value="ACTIVE"), {"v": "active"}, F, "case matters"),
    Case("eq", leaf("eq", value=1), {"v": True}, F, "1 is not true"),
    Case("eq", leaf("eq", value=True), {"v": 1}, F, "true is not 1"),
    Case("eq", leaf("eq", value=1), {"v": 1.0}, T, "1 equals 1.0"),
    Case("eq", leaf("eq", value={"a": [1, 2]}), {"v": {"a": [1, 2]}}, T, "deep equality"),
    Case("eq", leaf("eq", value={"a": [1]}), {"v": {"a": [True]}}, F, "deep: 1 is not true"),
    Case("eq", leaf("eq", value="x"), {}, U, "missing is unknown by default"),
    Case("eq", leaf("eq", value="x"), {"v": None}, U, "null is unknown by default"),
    Case("eq", leaf("eq", value="x", missing="fail"), {}, U, "missing fail is unknown"),
    Case("eq", leaf("eq", value="x", missing="pass"), {"v": None}, T, "null with missing pass"),
    Case("ne", leaf("ne", value="x"), {"v": "y"}, T, "different"),
    Case("ne", leaf("ne", value="x"), {"v": "x"}, F, "same"),
    Case("ne", leaf("ne", value=0), {"v": False}, T, "0 differs from false"),
    Case("ne", leaf("ne", value="x"), {}, U, "missing is unknown"),
    Case("ne", leaf("ne", value="x", missing="pass"), {}, T, "missing pass"),
    # in / not-in
    Case("in", leaf("in", value=["a", "b"]), {"v": "a"}, T, "member"),
    Case("in", leaf("in", value=["a", "b"]), {"v": "c"}, F, "not a member"),
    Case("in", leaf("in", value=[1, 2]), {"v": True}, F, "true is not 1"),
    Case("in", leaf("in", value=[1, 2]), {"v": 2.0}, T, "2.0 is 2"),
    Case("in", leaf("in", value=["a"]), {"v": ["a"]}, F, "a list is not its item"),
    Case("in", leaf("in", value=["a"]), {}, U, "missing is unknown"),
    Case("not-in", leaf("not-in", value=["a"]), {"v": "b"}, T, "not a member"),
    Case("not-in", leaf("not-in", value=["a"]), {"v": "a"}, F, "member"),
    Case("not-in", leaf("not-in", value=["a"]), {}, U, "missing is unknown"),
    Case("not-in", leaf("not-in", value=["a"], missing="pass"), {}, T, "missing pass"),
    # glob / not-glob: strings only
    Case("glob", leaf("glob", value="*_FAILED"), {"v": "CREATE_FAILED"}, T, "matches"),
    Case("glob", leaf("glob", value="*_FAILED"), {"v": "create_failed"}, F, "case-sensitive"),
    Case("glob", leaf("glob", value=["a*", "b*"]), {"v": "bx"}, T, "any of a list"),
    Case("glob", leaf("glob", value="*"), {"v": 5}, U, "a number is the wrong type"),
    Case("glob", leaf("glob", value="*"), {}, U, "missing is unknown"),
    Case("not-glob", leaf("not-glob", value="*_FAILED"), {"v": "ACTIVE"}, T, "no match"),
    Case("not-glob", leaf("not-glob", value="*_FAILED"), {"v": "DELETE_FAILED"}, F, "match"),
    Case("not-glob", leaf("not-glob", value="x"), {"v": ["x"]}, U, "a list is the wrong type"),
    Case("not-glob", leaf("not-glob", value="x"), {}, U, "missing is unknown"),
    # regex / not-regex: strings only, RE2, search semantics
    Case("regex", leaf("regex", value="^ml\\."), {"v": "ml.m5"}, T, "found"),
    Case("regex", leaf("regex", value="m5"), {"v": "ml.m5.xlarge"}, T, "search, not match"),
    Case("regex", leaf("regex", value="^m5"), {"v": "ml.m5"}, F, "anchored"),
    Case("regex", leaf("regex", value="x$"), {"v": "x\n"}, F, "$ is the very end (RE2)"),
    Case("regex", leaf("regex", value="x"), {"v": ["x"]}, U, "a list is the wrong type"),
    Case("regex", leaf("regex", value="x"), {"v": 123}, U, "a number is the wrong type"),
    Case("not-regex", leaf("not-regex", value="(?i)^aws:"), {"v": "aWs:x"}, F, "mixed case"),
    Case("not-regex", leaf("not-regex", value="(?i)^aws:"), {"v": "awsome"}, T, "awsome"),
    Case("not-regex", leaf("not-regex", value="x"), {"v": 1}, U, "a number is the wrong type"),
    Case("not-regex", leaf("not-regex", value="x"), {"v": None}, U, "null is unknown"),
    # lt le gt ge: numbers only, never booleans
    Case("le", leaf("le", value=86400), {"v": 86400}, T, "boundary holds"),
    Case("le", leaf("le", value=86400), {"v": 86401}, F, "one over"),
    Case("le", leaf("le", value=86400), {"v": "100"}, U, "a string is the wrong type"),
    Case("le", leaf("le", value=1), {"v": True}, U, "a boolean is not a number"),
    Case("le", leaf("le", value=1), {}, U, "missing is unknown"),
    Case("le", leaf("le", value=1, missing="pass"), {}, T, "missing pass"),
    Case("le", leaf("le", "v.x", value=1, missing="pass"), BLOCKED_V, U, "blocked: not missing"),
    Case("lt", leaf("lt", value=10), {"v": 9.5}, T, "float below"),
    Case("lt", leaf("lt", value=10), {"v": 10}, F, "boundary fails"),
    Case("lt", leaf("lt", value=10), {"v": "9"}, U, "a string is the wrong type"),
    Case("gt", leaf("gt", value=0), {"v": 1}, T, "above"),
    Case("gt", leaf("gt", value=0), {"v": 0}, F, "boundary fails"),
    Case("gt", leaf("gt", value=0), {"v": [1]}, U, "a list is the wrong type"),
    Case("ge", leaf("ge", value=0), {"v": 0}, T, "boundary holds"),
    Case("ge", leaf("ge", value=0), {"v": -1}, F, "below"),
    Case("ge", leaf("ge", value=0), {"v": False}, U, "false is not 0"),
    # has-keys: objects only
    Case("has-keys", leaf("has-keys", value=["owner"]), {"v": {"owner": "x"}}, T, "has it"),
    Case(
        "has-keys",
        leaf("has-keys", value=["owner"]),
        {"v": {"Owner": "x"}},
        F,
        "Owner is not owner",
    ),
    Case("has-keys", leaf("has-keys", value=["a", "b"]), {"v": {"a": 1}}, F, "one of two"),
    Case("has-keys", leaf("has-keys", value=["a"]), {"v": ["a"]}, U, "a list is the wrong type"),
    Case(
        "has-keys",
        leaf("has-keys", value=["a"]),
        {"v": {"a": None}},
        T,
        "a null-valued key is a key",
    ),
    Case("has-keys", leaf("has-keys", value=["a"]), {}, U, "missing is unknown"),
    # min-items / max-items: objects, lists and strings
    Case("min-items", leaf("min-items", value=2), {"v": [1, 2]}, T, "list at the boundary"),
    Case("min-items", leaf("min-items", value=2), {"v": "a"}, F, "short string"),
    Case("min-items", leaf("min-items", value=1), {"v": {"a": 1}}, T, "object"),
    Case("min-items", leaf("min-items", value=1), {"v": 5}, U, "a number is the wrong type"),
    Case("max-items", leaf("max-items", value=2), {"v": "ab"}, T, "string at the boundary"),
    Case("max-items", leaf("max-items", value=2), {"v": [1, 2, 3]}, F, "long list"),
    Case("max-items", leaf("max-items", value=2), {}, U, "missing is unknown"),
    Case("max-items", leaf("max-items", value=2), {"v": True}, U, "a boolean is the wrong type"),
    # type: answers the question itself; a missing value has type null
    Case("type", leaf("type", value="integer"), {"v": 1}, T, "int is integer"),
    Case("type", leaf("type", value="integer"), {"v": 1.0}, T, "1.0 is integer (JSON Schema)"),
    Case("type", leaf("type", value="integer"), {"v": 1.5}, F, "1.5 is not integer"),
    Case("type", leaf("type", value="integer"), {"v": True}, F, "true is not integer"),
    Case("type", leaf("type", value="number"), {"v": False}, F, "false is not a number"),
    Case("type", leaf("type", value=["string", "array"]), {"v": []}, T, "any of a list"),
    Case("type", leaf("type", value="object"), {"v": "x"}, F, "string is not object"),
    Case("type", leaf("type", value="string"), {}, F, "missing is not a string"),
    Case("type", leaf("type", value="null"), {}, T, "missing has type null"),
    Case("type", leaf("type", value=["object", "null"]), {"v": None}, T, "null has type null"),
    Case("type", leaf("type", "v.x", value="null"), BLOCKED_V, U, "a list parent is unknown"),
    # keys / values / items
    Case("keys", leaf("keys", "tags", check=NOT_AWS), {"tags": {"owner": "a"}}, T, "no reserved"),
    Case("keys", leaf("keys", "tags", check=NOT_AWS), {"tags": {"AWS:x": "a"}}, F, "AWS: key"),
    Case("keys", leaf("keys", "tags", check=NOT_AWS), {}, T, "missing: nothing to violate"),
    Case(
        "keys", leaf("keys", "tags", check=NOT_AWS), {"tags": None}, T, "null: nothing to violate"
    ),
    Case(
        "keys",
        leaf("keys", "tags", check=NOT_AWS, missing="fail"),
        {},
        U,
        "missing fail is unknown",
    ),
    Case(
        "keys", leaf("keys", "tags", check=NOT_AWS), {"tags": ["x"]}, U, "a list is the wrong type"
    ),
    Case("keys", leaf("keys", "tags", check=NOT_AWS), {"tags": {}}, T, "empty object"),
    Case(
        "keys",
        leaf("keys", "tags", check={"not": {"op": "glob", "value": "aws:*"}}),
        {"tags": {"aws:x": 1, "owner": 2}},
        F,
        "not inside a quantifier",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "max-items", "value": 3}),
        {"tags": {"a": "abc"}},
        T,
        "short values",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "max-items", "value": 3}),
        {"tags": {"a": "abcd"}},
        F,
        "long value",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "present"}),
        {"tags": {"a": None}},
        F,
        "null value fails nested present",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "regex", "value": "^[a-z]*$"}),
        {"tags": {"a": "ok", "b": 7}},
        U,
        "one element unknown, none false",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"op": "regex", "value": "^[a-z]*$"}),
        {"tags": {"a": "NO", "b": 7}},
        F,
        "one element false wins over one unknown",
    ),
    Case(
        "values",
        leaf("values", "tags", check={"not": {"op": "glob", "value": "*secret*"}}),
        {"tags": {"a": 123}},
        U,
        "not of a mistyped element stays unknown",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"path": "name", "op": "present"}),
        {"chans": [{"name": "a"}]},
        T,
        "nested path",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"path": "name", "op": "present"}),
        {"chans": [{"name": "a"}, {}]},
        F,
        "second item lacks it",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"op": "type", "value": "object"}),
        {"chans": {"a": 1}},
        U,
        "object is the wrong type",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"op": "type", "value": "object"}),
        {},
        T,
        "missing: nothing to violate",
    ),
    Case(
        "items",
        leaf("items", "chans", check={"path": "mode", "op": "eq", "value": "A", "missing": "pass"}),
        {"chans": ["train"]},
        U,
        "an item that is not an object blocks its path, missing pass or not",
    ),
    # combinators: Kleene
    Case(
        "all", {"all": [leaf("eq", value=1), leaf("present", "w")]}, {"v": 1, "w": "x"}, T, "both"
    ),
    Case("all", {"all": [leaf("eq", value=1), leaf("present", "w")]}, {"v": 1}, F, "one fails"),
    Case(
        "all", {"all": [leaf("eq", value=1), leaf("present", "w")]}, {"w": "x"}, U, "unknown, true"
    ),
    Case("all", {"all": [leaf("eq", value=1), leaf("present", "w")]}, {}, F, "unknown, false"),
    Case("any", {"any": [leaf("eq", value=1), leaf("present", "w")]}, {"w": "x"}, T, "one holds"),
    Case("any", {"any": [leaf("eq", value=1), leaf("present", "w")]}, {"v": 2}, F, "none holds"),
    Case("any", {"any": [leaf("eq", value=1), leaf("present", "w")]}, {}, U, "unknown, false"),
    Case(
        "any",
        {"any": [leaf("eq", value=1), {"not": leaf("present", "w")}]},
        {"w": "x"},
        U,
        "unknown, and false under a not",
    ),
    Case("not", {"not": leaf("eq", value="CREATE_FAILED")}, {"v": "ACTIVE"}, T, "inner false"),
    Case(
        "not", {"not": leaf("eq", value="CREATE_FAILED")}, {"v": "CREATE_FAILED"}, F, "inner true"
    ),
    Case("not", {"not": leaf("eq", value="x")}, {}, U, "inner unknown on missing stays unknown"),
    Case("not", {"not": leaf("glob", value="x*")}, {"v": 1}, U, "inner wrong type stays unknown"),
    Case("not", {"not": {"not": leaf("eq", value="x", missing="pass")}}, {}, T, "even nots"),
    # schema
    Case("schema", {"schema": {"type": "object", "required": ["name"]}}, {"name": "x"}, T, "whole"),
    Case("schema", {"schema": {"type": "object", "required": ["name"]}}, {}, F, "missing required"),
    Case("schema", {"path": "v", "schema": {"type": "integer", "maximum": 5}}, {"v": 5}, T, "path"),
    Case("schema", {"path": "v", "schema": {"type": "integer", "maximum": 5}}, {"v": 6}, F, "over"),
    Case("schema", {"path": "v", "schema": {"type": "integer"}}, {}, U, "missing is unknown"),
    Case("schema", {"path": "v", "schema": {"type": "integer"}}, {"v": None}, U, "null is unknown"),
    Case(
        "schema",
        {"path": "v", "schema": {"type": "integer"}, "missing": "pass"},
        {},
        T,
        "missing pass",
    ),
    Case(
        "schema",
        {"path": "v.x", "schema": {"type": "integer"}, "missing": "pass"},
        BLOCKED_V,
        U,
        "blocked path, even with missing pass",
    ),
    # paths
    Case("eq", leaf("eq", "a.b.c", value=1), {"a": {"b": {"c": 1}}}, T, "dotted path"),
    Case(
        "eq", leaf("eq", ["tags", "a.b"], value=1), {"tags": {"a.b": 1}}, T, "list path, dotted key"
    ),
    Case("eq", leaf("eq", "tags.a.b", value=1), {"tags": {"a.b": 1}}, U, "dotted string splits"),
    Case("eq", leaf("eq", "a.b", value=1), {"a": "string"}, U, "path through a string: blocked"),
    Case("eq", leaf("eq", "a.b", value=1), {"a": [{"b": 1}]}, U, "path through a list: blocked"),
    Case("eq", leaf("eq", "a.b", value=1, missing="pass"), {"a": None}, T, "null parent: missing"),
    Case("eq", leaf("eq", "a.b", value=1, missing="pass"), {"a": 7}, U, "number parent: blocked"),
    # the spec's examples: every one is unknown on {} (or a list resourceConfig), never true
    Case("not", {"not": leaf("glob", "kmsKeyArn", value="*:alias/aws/*")}, {}, U, "spec example 1"),
    Case(
        "any",
        {
            "any": [
                leaf("regex", "kmsKeyArn", value="^arn:aws:kms:"),
                {"not": leaf("eq", "tags.exempt", value="true")},
            ]
        },
        {},
        U,
        "spec example 2",
    ),
    Case(
        "le",
        leaf("le", "resourceConfig.instanceCount", value=4, missing="pass"),
        {"resourceConfig": [{"instanceCount": 8}]},
        U,
        "spec example 3",
    ),
]
