"""Combinators: ``all``, ``any`` and ``not`` over nested conditions, in Kleene's logic.

=======  ==================================================================
``not``  true and false swap; unknown stays unknown
``all``  false if any is false; else unknown if any is unknown; else true
``any``  true if any is true; else unknown if any is unknown; else false
=======  ==================================================================
"""

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
from auditor.policy.truth import FALSE, TRUE, UNKNOWN, Truth


def _reworded(evidence: tuple[Evidence, ...], prefix: str) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            path=item.path,
            actual=item.actual,
            expected=item.expected,
            message=prefix + item.message,
            kind=item.kind,
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

    def _deciding(
        self, subject: Any, locus: Locus, outcome: Truth, wanted: Truth
    ) -> tuple[Evidence, ...]:
        """Evidence from every nested condition whose outcome is ``outcome``."""
        evidence: list[Evidence] = []
        for condition in self.conditions:
            if condition.truth(subject) is outcome:
                evidence.extend(condition.explain(subject, locus, wanted))
        return tuple(evidence)


@register(structural=True)
@dataclass(frozen=True, slots=True)
class All(_Combination):
    """Holds when every nested condition holds; false when one is false; else unknown."""

    kind = "all"

    def truth(self, subject: Any) -> Truth:
        outcome = TRUE
        for condition in self.conditions:
            truth = condition.truth(subject)
            if truth is FALSE:
                return FALSE
            if truth is UNKNOWN:
                outcome = UNKNOWN
        return outcome

    def explain(self, subject: Any, locus: Locus, wanted: Truth) -> tuple[Evidence, ...]:
        outcome = self.truth(subject)
        if outcome is wanted:
            return ()
        # false: the false ones; unknown: the unknown ones; true (under a not): every one.
        return self._deciding(subject, locus, outcome, wanted)


@register(structural=True)
@dataclass(frozen=True, slots=True)
class AnyOf(_Combination):
    """Holds when at least one nested condition holds; unknown when none holds and one is."""

    kind = "any"

    def truth(self, subject: Any) -> Truth:
        outcome = FALSE
        for condition in self.conditions:
            truth = condition.truth(subject)
            if truth is TRUE:
                return TRUE
            if truth is UNKNOWN:
                outcome = UNKNOWN
        return outcome

    def explain(self, subject: Any, locus: Locus, wanted: Truth) -> tuple[Evidence, ...]:
        outcome = self.truth(subject)
        if outcome is wanted:
            return ()
        if wanted is TRUE:  # no alternative holds: what each one says
            count = len(self.conditions)
            evidence: list[Evidence] = []
            for index, condition in enumerate(self.conditions, start=1):
                prefix = f"none of {count} alternatives holds; alternative {index}: "
                evidence.extend(_reworded(condition.explain(subject, locus, TRUE), prefix))
            return tuple(evidence)
        if outcome is TRUE:  # under a not: the first alternative that holds is enough
            for condition in self.conditions:
                if condition.truth(subject) is TRUE:
                    return condition.explain(subject, locus, FALSE)
        return self._deciding(subject, locus, UNKNOWN, wanted)


@register(structural=True)
@dataclass(frozen=True, slots=True)
class Not(Condition):
    """Holds when the nested condition is false; unknown stays unknown (never a pass)."""

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
        return cls(compile_condition(raw["not"], context.inverted()))

    def truth(self, subject: Any) -> Truth:
        truth = self.condition.truth(subject)
        if truth is TRUE:
            return FALSE
        if truth is FALSE:
            return TRUE
        return UNKNOWN

    def explain(self, subject: Any, locus: Locus, wanted: Truth) -> tuple[Evidence, ...]:
        return self.condition.explain(subject, locus, FALSE if wanted is TRUE else TRUE)
