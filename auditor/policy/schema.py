"""The pack JSON Schema (Draft 2020-12), assembled from the condition registry.

``python -m auditor.policy > auditor/schemas/pack.schema.json`` regenerates the
shipped copy; a test keeps the two in sync.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from auditor.models import ResourceType, Severity
from auditor.policy import combinators, leaves, schema_condition  # noqa: F401  (registration)
from auditor.policy.registry import REGISTRY, STRUCTURAL_KEYS, leaf_ops

SCHEMA_ID = "urn:auditor:schema:policy-pack:1"
POLICY_ID_PATTERN = "^[a-z0-9][a-z0-9.-]*$"
PARAM_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_.-]*$"


def _condition_schema() -> dict[str, Any]:
    """One condition: exactly one of ``op`` or a structural key, then that kind's fragment."""
    discriminators = ["op", *STRUCTURAL_KEYS]
    dispatch: list[dict[str, Any]] = [
        {
            "if": {"required": ["op"]},
            "then": {
                "properties": {"op": {"enum": leaf_ops()}},
                "allOf": [
                    {
                        "if": {"properties": {"op": {"const": op}}},
                        "then": {"$ref": f"#/$defs/op-{op}"},
                    }
                    for op in leaf_ops()
                ],
            },
        }
    ]
    dispatch.extend(
        {"if": {"required": [key]}, "then": {"$ref": f"#/$defs/kind-{key}"}}
        for key in STRUCTURAL_KEYS
    )
    return {
        "description": "A leaf {path, op, value, missing} or {all|any|not|schema: ...}.",
        "type": "object",
        "oneOf": [{"required": [key]} for key in discriminators],
        "allOf": dispatch,
    }


def _policy_schema() -> dict[str, Any]:
    documents = {"type": "array", "items": {"type": "object"}}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": POLICY_ID_PATTERN},
            "title": {"type": "string", "minLength": 1},
            "severity": {"enum": [severity.value for severity in Severity]},
            "resource": {
                "description": "What the policy judges (default trained-model): only resources "
                "of this type are evaluated against it; for every other type it is skip.",
                "enum": [kind.value for kind in ResourceType],
            },
            "description": {"type": "string"},
            "remediation": {"type": "string"},
            "references": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "frameworks": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "enabled": {"type": "boolean"},
            "where": {"$ref": "#/$defs/condition"},
            "check": {"$ref": "#/$defs/condition"},
            "examples": {
                "description": "Documents the policy must pass, fail or skip (auditor policies test).",
                "type": "object",
                "properties": {"pass": documents, "fail": documents, "skip": documents},
                "additionalProperties": False,
            },
        },
        "required": ["id", "title", "severity", "check"],
        "additionalProperties": False,
    }


@cache
def _assembled() -> str:
    defs: dict[str, Any] = {
        "condition": _condition_schema(),
        "path": {
            "description": "Dotted keys (a.b.c), or a list of keys for keys that contain dots.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ],
        },
        "missing": {"enum": ["fail", "pass"]},
        "param-ref": {
            "type": "object",
            "properties": {"param": {"type": "string", "pattern": PARAM_NAME_PATTERN}},
            "required": ["param"],
            "additionalProperties": False,
        },
        "policy": _policy_schema(),
    }
    for key, kind in REGISTRY.items():
        name = f"kind-{key}" if key in STRUCTURAL_KEYS else f"op-{key}"
        defs[name] = {
            "description": (kind.__doc__ or "").strip().splitlines()[0],
            **kind.fragment(),
        }
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "auditor policy pack, version 1",
        "type": "object",
        "properties": {
            "version": {"const": 1},
            "pack": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": POLICY_ID_PATTERN},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                },
                "additionalProperties": False,
            },
            "params": {"type": "object", "propertyNames": {"pattern": PARAM_NAME_PATTERN}},
            "policies": {"type": "array", "items": {"$ref": "#/$defs/policy"}},
        },
        "required": ["version", "policies"],
        "additionalProperties": False,
        "$defs": defs,
    }
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def pack_schema() -> dict[str, Any]:
    """The pack JSON Schema (a fresh copy each call)."""
    schema: dict[str, Any] = json.loads(_assembled())
    return schema


def pack_schema_text() -> str:
    """The pack JSON Schema as the shipped file holds it."""
    return _assembled()


@cache
def pack_validator() -> Draft202012Validator:
    """A validator for whole packs, built once."""
    return Draft202012Validator(pack_schema())
