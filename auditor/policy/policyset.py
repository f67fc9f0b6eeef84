"""Compiled policies and the set the scanner evaluates: the engine's hot path.

``CompiledPolicy.judge`` is the one evaluator of ``where``/``check``: the scan and ``auditor
evaluate`` (through ``PolicySet.evaluate``), ``auditor policies test`` and the tests all call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.models import (
    BaseVersion,
    Evidence,
    ModelVersion,
    PackRef,
    PolicyInfo,
    Resource,
    ResourceType,
    Result,
    Status,
    VersionVerdict,
    encode_statuses,
)
from auditor.policy.context import BASE_MODELS, with_context
from auditor.policy.paths import ROOT
from auditor.policy.registry import Condition
from auditor.policy.truth import FALSE, TRUE

_PASS, _FAIL, _SKIP = encode_statuses([Status.PASS, Status.FAIL, Status.SKIP])
_PASSED: tuple[Status, tuple[Evidence, ...]] = (Status.PASS, ())
_SKIPPED: tuple[Status, tuple[Evidence, ...]] = (Status.SKIP, ())
_FAILED = Status.FAIL
_SKIP_STATUS = Status.SKIP
_Judge = Callable[[Any], tuple[Status, tuple[Evidence, ...]]]


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """One policy, compiled: its report-facing info, its conditions and its examples."""

    info: PolicyInfo
    check: Condition
    where: Condition | None
    enabled: bool
    examples: tuple[tuple[Status, tuple[Mapping[str, Any], ...]], ...]
    source: str
    line: int | None = None
    #: The context roots its paths name (``$association``, ...; ``auditor.policy.context``).
    roots: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.info.id

    def judge(self, document: Mapping[str, Any]) -> tuple[Status, tuple[Evidence, ...]]:
        """This policy's status on one document, with evidence when it fails.

        ``where`` false: skip (unknown is not out of scope: the check decides). Check true:
        pass; false or unknown: fail, with evidence of what broke the rule or could not be read.
        """
        where = self.where
        if where is not None and where.truth(document) is FALSE:
            return _SKIPPED
        if self.check.truth(document) is TRUE:
            return _PASSED
        return _FAILED, self.check.explain(document, ROOT, TRUE)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every loaded policy, ready to evaluate trained model versions.

    ``policies`` holds every loaded policy (disabled ones too: they are validated and their
    examples run); ``infos`` and verdicts cover the enabled ones whose resource type the run
    reads (``resource_types``: trained models unless a scan reads collaboration models too,
    see ``with_resource_types``), in load order.

    A policy judges only resources of its ``resource`` type: on a resource of another type it
    is never evaluated and its status is ``skip`` (so a ``trained-model`` policy never fails a
    collaboration model for a field the collaboration API does not return, and vice versa).
    """

    policies: tuple[CompiledPolicy, ...]
    packs: tuple[PackRef, ...]
    params: Mapping[str, Any]
    resource_types: frozenset[ResourceType] = frozenset({ResourceType.TRAINED_MODEL})
    enabled: tuple[CompiledPolicy, ...] = field(init=False)
    infos: tuple[PolicyInfo, ...] = field(init=False)
    #: The context roots the enabled policies read: what the crawler fetches, and only that.
    context_roots: frozenset[str] = field(init=False)
    _plan: tuple[tuple[PolicyInfo, Callable[[Any], tuple[Status, tuple[Evidence, ...]]]], ...] = (
        field(init=False)
    )
    _plans: Mapping[ResourceType, tuple[tuple[PolicyInfo, _Judge | None], ...]] = field(init=False)

    def __post_init__(self) -> None:
        enabled = tuple(
            policy
            for policy in self.policies
            if policy.enabled and policy.info.resource_type in self.resource_types
        )
        object.__setattr__(self, "enabled", enabled)
        object.__setattr__(self, "infos", tuple(policy.info for policy in enabled))
        roots = frozenset(root for policy in enabled for root in policy.roots)
        object.__setattr__(self, "context_roots", roots)
        plan = tuple((policy.info, policy.judge) for policy in enabled)
        object.__setattr__(self, "_plan", plan)
        plans = {
            kind: tuple(
                (info, judge if info.resource_type is kind else None) for info, judge in plan
            )
            for kind in ResourceType
        }
        object.__setattr__(self, "_plans", plans)

    def with_resource_types(self, kinds: frozenset[ResourceType]) -> PolicySet:
        """The same policies, evaluating the enabled ones of every type in ``kinds``."""
        return replace(self, resource_types=kinds)

    def for_type(self, kind: ResourceType) -> tuple[PolicyInfo, ...]:
        """The enabled policies that judge resources of type ``kind``."""
        return tuple(info for info in self.infos if info.resource_type is kind)

    def __iter__(self) -> Iterator[CompiledPolicy]:
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def get(self, policy_id: str) -> CompiledPolicy | None:
        """The loaded policy with this id, enabled or not."""
        return next((policy for policy in self.policies if policy.id == policy_id), None)

    def evaluate(self, version: ModelVersion) -> VersionVerdict:
        """Every enabled policy's verdict on one version; pure, never raises on JSON input."""
        document = version.document
        if version.context:
            context = version.context
            if isinstance(context.get(BASE_MODELS), list):
                context = {**context, BASE_MODELS: self._judged_bases(context[BASE_MODELS])}
            document = with_context(document, context)
        statuses = bytearray()
        failures: list[Result] = []
        for info, judge in self._plans[version.resource.type]:
            if judge is None:  # a policy of another resource type: not applied
                statuses.append(_SKIP)
                continue
            status, evidence = judge(document)
            if status is _FAILED:
                statuses.append(_FAIL)
                failures.append(
                    Result(policy=info, resource=version.resource, status=status, evidence=evidence)
                )
            else:
                statuses.append(_SKIP if status is _SKIP_STATUS else _PASS)
        return VersionVerdict(
            resource=version.resource, statuses=bytes(statuses), failures=tuple(failures)
        )

    def _judged_bases(self, bases: list[Any]) -> list[Any]:
        """``$baseModels`` as policies read it: each base version with this policy set's
        verdicts on it (judged first, its own chain included), or its ``Unreadable``."""
        judged: list[Any] = []
        for base in bases:
            if not isinstance(base, BaseVersion):
                judged.append(base)
            elif base.document is None:
                judged.append(base.unreadable)
            else:
                arn = base.arn or "<unknown>"
                resource = Resource(arn=arn, version_identifier=base.version)
                verdict = self.evaluate(ModelVersion(resource, base.document, base.context))
                judged.append(
                    {
                        "arn": base.arn,
                        "modelName": base.model_name,
                        "version": base.version,
                        "status": base.document.get("status"),
                        "verdicts": {
                            info.id: verdict.status_of(index).value
                            for index, info in enumerate(self.infos)
                        },
                        "failing": [
                            f"{failure.severity}: inherited from {arn} v{base.version}: "
                            f"{failure.policy.id} fails"
                            for failure in verdict.failures
                        ],
                    }
                )
        return judged

    def evaluate_document(self, document: Mapping[str, Any]) -> VersionVerdict:
        """``evaluate`` for a bare GetTrainedModel response (identity taken from the document)."""
        arn = document.get("trainedModelArn")
        version = document.get("versionIdentifier")
        resource = Resource(
            arn=arn if isinstance(arn, str) else "<document>",
            version_identifier=version if isinstance(version, str) else None,
            name=document.get("name") if isinstance(document.get("name"), str) else None,
            status=document.get("status") if isinstance(document.get("status"), str) else None,
        )
        return self.evaluate(ModelVersion(resource=resource, document=document))
