"""What ``auditor policies list|validate|test`` needs: a listing and the examples' outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.models import Evidence, ResourceType, Severity, Status
from auditor.policy.policyset import PolicySet


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """One line of ``auditor policies list``."""

    id: str
    title: str
    severity: Severity
    pack_id: str
    enabled: bool
    frameworks: Mapping[str, tuple[str, ...]]
    examples: int
    source: str
    line: int | None
    resource_type: ResourceType = ResourceType.TRAINED_MODEL


def list_policies(policy_set: PolicySet) -> list[PolicyRow]:
    """Every loaded policy (disabled ones too), in load order."""
    return [
        PolicyRow(
            id=policy.id,
            title=policy.info.title,
            severity=policy.info.severity,
            pack_id=policy.info.pack_id,
            enabled=policy.enabled,
            frameworks=policy.info.frameworks,
            examples=sum(len(documents) for _, documents in policy.examples),
            source=policy.source,
            line=policy.line,
            resource_type=policy.info.resource_type,
        )
        for policy in policy_set.policies
    ]


@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    """One example document run through its policy: what the pack says versus what happened."""

    policy_id: str
    index: int
    expected: Status
    actual: Status
    evidence: tuple[Evidence, ...]
    document: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.expected is self.actual

    def describe(self) -> str:
        """``required-tags examples.fail[0]: expected fail, got pass``."""
        where = f"{self.policy_id} examples.{self.expected.value}[{self.index}]"
        if self.ok:
            return f"{where}: {self.actual.value} as expected"
        return f"{where}: expected {self.expected.value}, got {self.actual.value}"


@dataclass(frozen=True, slots=True)
class MissingExamples:
    """A warning, not a failure: a policy ships without a passing and a failing example."""

    policy_id: str
    lacking: tuple[Status, ...]

    ok = True

    def describe(self) -> str:
        kinds = " and ".join(status.value for status in self.lacking)
        return f"{self.policy_id}: warning: no {kinds} example"


def run_examples(policy_set: PolicySet) -> list[ExampleOutcome | MissingExamples]:
    """Run every policy's examples (disabled policies included), in load order.

    A policy lacking a ``pass`` or a ``fail`` example yields a ``MissingExamples`` warning.
    """
    outcomes: list[ExampleOutcome | MissingExamples] = []
    for policy in policy_set.policies:
        documents_by_status = dict(policy.examples)
        lacking = tuple(
            status for status in (Status.PASS, Status.FAIL) if not documents_by_status.get(status)
        )
        if lacking:
            outcomes.append(MissingExamples(policy.id, lacking))
        for expected, documents in policy.examples:
            for index, document in enumerate(documents):
                actual, evidence = policy.judge(document)
                outcomes.append(
                    ExampleOutcome(policy.id, index, expected, actual, evidence, document)
                )
    return outcomes
