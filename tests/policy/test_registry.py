"""Registry invariants: every condition kind documents itself, has a schema, and is tested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from auditor.policy import REGISTRY, Condition, pack_schema, pack_schema_text
from auditor.policy.registry import STRUCTURAL_KEYS, leaf_ops
from auditor.policy.truth import Truth

from .condition_cases import CASES

SHIPPED_SCHEMA = Path(__file__).parents[2] / "auditor" / "schemas" / "pack.schema.json"


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_is_documented_has_a_schema_and_is_exercised(kind: str) -> None:
    kind_class = REGISTRY[kind]

    assert issubclass(kind_class, Condition)
    assert kind_class.kind == kind
    assert (kind_class.__doc__ or "").strip(), f"{kind} has no docstring"
    fragment = kind_class.fragment()
    Draft202012Validator.check_schema(fragment)
    assert fragment.get("additionalProperties") is False
    outcomes = {case.truth for case in CASES if case.kind == kind}
    assert outcomes == set(Truth), f"{kind} needs a true, a false and an unknown case"


def test_the_spec_ops_are_exactly_the_registered_leaves() -> None:
    assert set(leaf_ops()) == {
        "present", "absent", "eq", "ne", "in", "not-in", "glob", "not-glob", "regex",
        "not-regex", "lt", "le", "gt", "ge", "has-keys", "min-items", "max-items",
        "keys", "values", "items", "type",
    }  # fmt: skip
    assert STRUCTURAL_KEYS == ["all", "any", "not", "schema"]


def test_pack_schema_is_draft_2020_12_and_built_from_the_registry() -> None:
    schema = pack_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for kind in REGISTRY:
        name = f"kind-{kind}" if kind in STRUCTURAL_KEYS else f"op-{kind}"
        assert schema["$defs"][name]["description"]


def test_shipped_schema_file_matches_the_registry() -> None:
    assert SHIPPED_SCHEMA.read_text(encoding="utf-8") == pack_schema_text(), (
        "regenerate: .venv/bin/python -m auditor.policy > auditor/schemas/pack.schema.json"
    )
    assert json.loads(SHIPPED_SCHEMA.read_text(encoding="utf-8")) == pack_schema()
