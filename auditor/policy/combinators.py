"""Combinators: ``all``, ``any`` and ``not`` over nested conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.models import Evidence
from auditor.policy.paths import Locus
from auditor.policy.registry import (
    CONDITION_REF,
    CompileContext,
    Condition,
    compile_condition,
    register,
)


def _reworded(evidence: tuple[Evidence, ...], prefix: str) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            path=item.path,
            actual=item.actual,
            expected=item.expected,
            message=prefix + item.message,
        )
        for item in evidence
    )


def _list_fragment(key: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "array", "items": CONDITION_REF, "minItems": 1}},
        "required": [key],
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class _Combination(Condition):
    """A list of nested conditions under one key (``all``, ``any``)."""

    conditions: tuple[Condition, ...]

    @classmethod
    def fragment(cls) -> dict[str, Any]:
        return _list_fragment(cls.kind)

    @classmethod
    def compile(cls, raw: Mapping[str, Any], context: CompileContext) -> Condition:
        return cls(
            tuple(
                compile_condition(item, context.at(f".{cls.kind}[{index}]"))
                for index, item in enumerate(raw[cls.kind])
            )
        )


@register(structural=True)
@dataclass(frozen=True, slots=True)
class All(_Combination):
    """Holds when every nested condition holds; evidence from each one that does not."""

    kind = "all"

    def holds(self, subject: Any) -> bool:
        for condition in self.conditions:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if not condition.holds(subject):
                return False
        return True

    def explain(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        evidence: list[Evidence] = []
        for condition in self.conditions:
            if not condition.holds(subject):
                evidence.extend(condition.explain(subject, locus))
        return tuple(evidence)

    def explain_holding(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        evidence: list[Evidence] = []
        for condition in self.conditions:
            evidence.extend(condition.explain_holding(subject, locus))
        return tuple(evidence)


@register(structural=True)
@dataclass(frozen=True, slots=True)
class AnyOf(_Combination):
    """Holds when at least one nested condition holds; evidence from every alternative."""

    kind = "any"

    def holds(self, subject: Any) -> bool:
        for condition in self.conditions:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if condition.holds(subject):
                return True
        return False

    def explain(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        count = len(self.conditions)
        evidence: list[Evidence] = []
        for index, condition in enumerate(self.conditions, start=1):
            prefix = f"none of {count} alternatives holds; alternative {index}: "
            evidence.extend(_reworded(condition.explain(subject, locus), prefix))
        return tuple(evidence)

    def explain_holding(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        for condition in self.conditions:
            if condition.holds(subject):
                return condition.explain_holding(subject, locus)
        return ()


@register(structural=True)
@dataclass(frozen=True, slots=True)
class Not(Condition):
    """Holds when the nested condition does not; a failure shows why the nested one held."""

    condition: Condition

    kind = "not"

    @classmethod
    def fragment(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"not": CONDITION_REF},
            "required": ["not"],
            "additionalProperties": False,
        }

    @classmethod
    def compile(cls, raw: Mapping[str, Any], context: CompileContext) -> Condition:
        return cls(compile_condition(raw["not"], context.at(".not")))

    def holds(self, subject: Any) -> bool:
        return not self.condition.holds(subject)

    def explain(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        return _reworded(
            self.condition.explain_holding(subject, locus), "must not hold, but does: "
        )

    def explain_holding(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        return self.condition.explain(subject, locus)
