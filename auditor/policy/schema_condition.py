"""The escape hatch: ``{schema: {...}}`` validates the document (or the value at ``path``).

Unknown when the value at ``path`` is missing or null (unless ``missing: pass``) or a parent on
the path is not an object; else true or false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from auditor.models import Evidence, EvidenceKind
from auditor.policy.context import unreadable_evidence, unreadable_in
from auditor.policy.paths import (
    ABSENT,
    BLOCKED,
    DocPath,
    Found,
    Locus,
    element_subject,
    key_segment,
)
from auditor.policy.registry import (
    MISSING_REF,
    PATH_REF,
    CompileContext,
    Condition,
    refuse_negated_missing_pass,
    register,
)
from auditor.policy.truth import FALSE, TRUE, UNKNOWN, Truth
from auditor.policy.values import article, cut, json_type, show, trimmed

#: At most this many schema errors become evidence for one document.
MAX_SCHEMA_ERRORS = 5


@register(structural=True)
@dataclass(frozen=True, slots=True)
class SchemaCheck(Condition):
    """Holds when the document, or the value at ``path``, validates against a JSON Schema."""

    path: DocPath | None
    get: Callable[[Any], Any]
    on_missing: Truth
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
        refuse_negated_missing_pass(raw, context, cls.kind)
        path = DocPath.parse(raw["path"]) if "path" in raw else None
        if path is not None:
            context.use_path(path)
        return cls(
            path=path,
            get=path.get if path is not None else element_subject,
            on_missing=TRUE if raw.get("missing") == "pass" else UNKNOWN,
            validator=Draft202012Validator(raw["schema"]),
        )

    def truth(self, subject: Any) -> Truth:
        value = self.get(subject)
        if value is None:
            return self.on_missing
        if value is BLOCKED:
            return UNKNOWN
        return TRUE if self.validator.is_valid(value) else FALSE

    def explain(self, subject: Any, locus: Locus, wanted: Truth) -> tuple[Evidence, ...]:
        outcome = self.truth(subject)
        if outcome is wanted:
            return ()
        here = locus.join(self.path)
        found = self.path.find(subject) if self.path is not None else Found(subject)
        value = found.value
        unreadable = unreadable_in(value)
        if unreadable is not None:
            return (unreadable_evidence(unreadable, here, _VALID),)
        if found.blocked_at is not None:
            assert self.path is not None
            depth = found.blocked_at
            parent = locus.join(DocPath.parse(self.path.keys[:depth])) if depth else locus
            message = (
                f"{parent.phrase} is {show(value)}, {article(json_type(value))}, not an object, "
                f"so {here.phrase} cannot be read"
            )
            return (Evidence(here.path, trimmed(value), _VALID, message, EvidenceKind.WRONG_TYPE),)
        if value is None or value is ABSENT:
            state = "null" if value is None else "missing"
            if outcome is TRUE:  # missing: pass, under a not
                message = (
                    f"must not hold, but does: {here.phrase} is {state}, which counts as valid"
                )
                return (Evidence(here.path, None, _INVALID, message),)
            message = f"{here.phrase} is {state}; expected a value valid against the schema"
            return (Evidence(here.path, None, _VALID, message, EvidenceKind.MISSING),)
        if outcome is TRUE:
            message = f"must not hold, but does: {here.phrase} is valid against the schema"
            return (Evidence(here.path, trimmed(value), _INVALID, message),)
        return self._schema_errors(value, here)

    def _schema_errors(self, value: Any, here: Locus) -> tuple[Evidence, ...]:
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


_VALID = "valid against the schema"
_INVALID = "not valid against the schema"
