"""The escape hatch: ``{schema: {...}}`` validates the document (or the value at ``path``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from auditor.models import Evidence
from auditor.policy.paths import ABSENT, DocPath, Locus, key_segment
from auditor.policy.registry import MISSING_REF, PATH_REF, CompileContext, Condition, register
from auditor.policy.values import cut, show, trimmed

#: At most this many schema errors become evidence for one document.
MAX_SCHEMA_ERRORS = 5


def _whole(subject: Any) -> Any:
    return subject


@register(structural=True)
@dataclass(frozen=True, slots=True)
class SchemaCheck(Condition):
    """Holds when the document, or the value at ``path``, validates against a JSON Schema."""

    path: DocPath | None
    get: Callable[[Any], Any]
    missing_holds: bool
    validator: Draft202012Validator

    kind = "schema"

    @classmethod
    def fragment(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "schema": {"type": ["object", "boolean"]},
                "path": PATH_REF,
                "missing": MISSING_REF,
            },
            "required": ["schema"],
            "additionalProperties": False,
        }

    @classmethod
    def compile(cls, raw: Mapping[str, Any], context: CompileContext) -> Condition:
        try:
            Draft202012Validator.check_schema(raw["schema"])
        except SchemaError as exc:
            where = "".join(
                f"[{part}]" if isinstance(part, int) else key_segment(str(part))
                for part in exc.path
            )
            raise context.error(
                f"not a valid JSON Schema: {exc.message}", ".schema" + where
            ) from exc
        path = DocPath.parse(raw["path"]) if "path" in raw else None
        return cls(
            path=path,
            get=path.get if path is not None else _whole,
            missing_holds=raw.get("missing", "fail") == "pass",
            validator=Draft202012Validator(raw["schema"]),
        )

    def holds(self, subject: Any) -> bool:
        value = self.get(subject)
        if value is None:
            return self.missing_holds
        return bool(self.validator.is_valid(value))

    def explain(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        here = locus.join(self.path)
        value = self.path.find(subject) if self.path is not None else subject
        if value is None or value is ABSENT:
            state = "null" if value is None else "missing"
            return (
                Evidence(
                    here.path,
                    None,
                    "valid against the schema",
                    f"{here.phrase} is {state}; expected a value valid against the schema",
                ),
            )
        evidence = []
        errors = sorted(
            self.validator.iter_errors(value),
            key=lambda error: [str(part) for part in error.absolute_path],
        )
        for error in islice(errors, MAX_SCHEMA_ERRORS):
            inner = "".join(
                f"[{part}]" if isinstance(part, int) else key_segment(str(part))
                for part in error.absolute_path
            )
            where = (here.path if here.path != "$" else "") + inner
            where = where.removeprefix(".") or here.path
            evidence.append(
                Evidence(
                    path=where,
                    actual=trimmed(error.instance),
                    expected=f"{error.validator}: {show(error.validator_value)}",
                    message=f"{where if where != '$' else here.phrase}: {cut(error.message)}",
                )
            )
        return tuple(evidence)

    def explain_holding(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        here = locus.join(self.path)
        value = self.get(subject)
        message = f"{here.phrase} is valid against the schema"
        if value is None:
            message = f"{here.phrase} is missing, which counts as valid"
        return (Evidence(here.path, trimmed(value), "not valid against the schema", message),)
