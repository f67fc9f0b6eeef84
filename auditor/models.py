"""The records that cross module boundaries: what was read, what was found, what went wrong.

Data flows one way::

    crawler -> ModelVersion -> policy engine -> VersionVerdict -> Report -> writers

Everything here is a small frozen dataclass. The only raw AWS data is
``ModelVersion.document`` (read-only by convention: nothing downstream mutates it).

Memory note: a scan of 100,000 versions against a pack of ~20 policies yields ~2,000,000
results, most of them passes. Allocating a ``Result`` for each would dominate memory, so a
``VersionVerdict`` stores one status byte per policy plus full ``Result`` objects only for
failures; ``Report.results()`` materialises the rest on demand.
"""

from __future__ import annotations

import hashlib
import json
from binascii import hexlify
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a failing policy matters; ordered from most to least severe."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info; a gate compares ranks."""
        return _SEVERITY_RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Status(StrEnum):
    """A policy's verdict on one trained model version."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


class ErrorScope(StrEnum):
    """What an error kept the scan from reading."""

    REGION = "region"
    ACCOUNT = "account"
    MEMBERSHIP = "membership"
    TRAINED_MODEL = "trained-model"
    VERSION = "version"
    INPUT = "input"
    COLLABORATION = "collaboration"  # ListCollaborationTrainedModels of one collaboration
    COLLABORATION_MODEL = "collaboration-model"  # GetCollaborationTrainedModel of one version
    RELATED = "related"  # a resource a version refers to (its association, a channel, ...)


class ResourceType(StrEnum):
    """What a policy judges and a result names: the document each type's policies see."""

    TRAINED_MODEL = "trained-model"  # a version of this account's model: GetTrainedModel
    # a version of a model another member trained in a shared collaboration:
    # GetCollaborationTrainedModel (``auditor scan --collaboration-models``)
    COLLABORATION_TRAINED_MODEL = "collaboration-trained-model"


class BaselineState(StrEnum):
    """A failure compared with a baseline report."""

    NEW = "new"
    UNCHANGED = "unchanged"


class PriorOutcome(StrEnum):
    """What became of a baseline failure that this run does not fail.

    Only ``RESOLVED`` says it was fixed, and only when this run read the version and the
    policy passes (or skips) now. ``GONE``: the model or version no longer exists.
    ``NOT_RECHECKED``: this run did not read it, so it may still fail.
    """

    RESOLVED = "resolved"
    GONE = "gone"
    NOT_RECHECKED = "not-rechecked"


@dataclass(frozen=True, slots=True)
class Resource:
    """Identity of one trained model version, as every report names it."""

    arn: str
    version_identifier: str | None
    name: str | None = None
    membership_id: str | None = None
    collaboration_id: str | None = None
    account: str | None = None
    region: str | None = None
    status: str | None = None
    type: ResourceType = ResourceType.TRAINED_MODEL
    # the account that trained it (a collaboration model's ``creatorAccountId``)
    creator_account: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.arn, self.version_identifier)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A related resource the scan could not read: what a context root holds in its place.

    Policies that read it are unknown (they fail closed), with evidence naming ``arn`` and
    the error."""

    arn: str
    operation: str
    code: str
    message: str

    def describe(self) -> str:
        return f"{self.operation} {self.arn} failed ({self.code}: {self.message})"


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One GetTrainedModel response, with where it came from.

    ``context``: the related documents the enabled policies read, by context root
    (``$association``, ``$inputChannels``, ...; see ``auditor.policy.context``): a
    document, a list, None when the version refers to none, or ``Unreadable``.
    """

    resource: Resource
    document: Mapping[str, Any]
    context: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BaseVersion:
    """The base a version was incrementally trained on, as the scan read it: its
    GetTrainedModel ``document`` and that version's own ``context`` (so its verdicts can be
    judged, chain and all), or ``unreadable`` when it could not be located or read."""

    arn: str | None
    model_name: str | None
    version: str | None
    document: Mapping[str, Any] | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    unreadable: Unreadable | None = None


@dataclass(frozen=True, slots=True)
class InferenceJobUse:
    """An inference job that uses a trained model version: what its blast radius names."""

    arn: str
    status: str | None = None
    name: str | None = None
    output_members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where one version comes from and what uses it: its incremental-training base chain
    (nearest base first, as ``(arn, version)``) and the inference jobs using it.

    ``jobs_read``: False when the jobs were not read (not asked for, or unreadable), so an
    empty ``jobs`` proves nothing. ``failing``: the ids of the policies it fails.
    """

    arn: str
    version_identifier: str | None
    bases: tuple[tuple[str | None, str | None], ...] = ()
    jobs: tuple[InferenceJobUse, ...] = ()
    jobs_read: bool = False
    failing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """What a report needs to know about a policy (the compiled form lives in ``auditor.policy``)."""

    id: str
    title: str
    severity: Severity
    pack_id: str
    description: str | None = None
    remediation: str | None = None
    references: tuple[str, ...] = ()
    frameworks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    line: int | None = None  # where the policy is defined in its pack (SARIF's region)
    resource_type: ResourceType = ResourceType.TRAINED_MODEL


class EvidenceKind(StrEnum):
    """What an evidence item shows: a broken rule, or a value that could not be read."""

    VIOLATED = "violated"  # the value was read and breaks the rule
    MISSING = "missing"  # the value is missing or null, so compliance cannot be shown
    WRONG_TYPE = "wrong-type"  # the value (or a parent on its path) has the wrong JSON type


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why one leaf condition failed, in a sentence a reviewer understands."""

    path: str
    actual: Any
    expected: Any
    message: str
    kind: EvidenceKind = EvidenceKind.VIOLATED


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted exception, from a waivers file."""

    policy: str
    resource: str
    version: str
    reason: str
    expires: date
    approved_by: str
    index: int = 0


def fingerprint(policy_id: str, arn: str, version_identifier: str | None) -> str:
    """Stable result id: the same policy, model and version give the same id in every run.

    The only definition of a result id; ``ResultIds`` computes the same ids in bulk."""
    material = _policy_material(policy_id) + version_material(arn, version_identifier)
    return hashlib.sha256(material).hexdigest()[:32]


def _policy_material(policy_id: str) -> bytes:
    return f"{policy_id}\x1f".encode()


def version_material(arn: str, version_identifier: str | None) -> bytes:
    """What follows the policy id in the material of a result id (see ``fingerprint``)."""
    return f"{arn}\x1f{version_identifier or ''}".encode()


class ResultIds:
    """``fingerprint`` for every policy of a report, computed in bulk: each policy's hash state
    is primed with its id once, so an id costs one copy and one update (a report can hold two
    million)."""

    __slots__ = ("_primed",)

    def __init__(self, policy_ids: Iterable[str]) -> None:
        self._primed = [hashlib.sha256(_policy_material(policy_id)) for policy_id in policy_ids]

    def of(self, index: int, version: bytes) -> str:
        """The id of policy ``index``'s result on a version (``version_material``)."""
        hasher = self._primed[index].copy()
        hasher.update(version)
        return hasher.hexdigest()[:32]

    def ascii_of(self, index: int, version: bytes) -> bytes:
        """``of`` as ASCII bytes, for writers that assemble bytes."""
        hasher = self._primed[index].copy()
        hasher.update(version)
        return hexlify(hasher.digest()[:16])


@dataclass(frozen=True, slots=True)
class Result:
    """One policy's verdict on one trained model version."""

    policy: PolicyInfo
    resource: Resource
    status: Status
    evidence: tuple[Evidence, ...] = ()
    waiver: Waiver | None = None
    baseline: BaselineState | None = None

    @property
    def id(self) -> str:
        return fingerprint(self.policy.id, self.resource.arn, self.resource.version_identifier)

    @property
    def policy_id(self) -> str:
        return self.policy.id

    @property
    def title(self) -> str:
        return self.policy.title

    @property
    def severity(self) -> Severity:
        return self.policy.severity

    @property
    def gating(self) -> bool:
        """A failure that counts against the gate (not waived)."""
        return self.status is Status.FAIL and self.waiver is None


_STATUS_CODE = {Status.PASS: 0, Status.FAIL: 1, Status.SKIP: 2}
_CODE_STATUS = {code: status for status, code in _STATUS_CODE.items()}


def encode_statuses(statuses: Sequence[Status]) -> bytes:
    return bytes(_STATUS_CODE[s] for s in statuses)


@dataclass(frozen=True, slots=True)
class VersionVerdict:
    """Every policy's verdict on one version.

    ``statuses[i]`` is the status code of ``policies[i]`` of the report it belongs to;
    ``failures`` holds the full ``Result`` of each failing policy, in policy order.
    """

    resource: Resource
    statuses: bytes
    failures: tuple[Result, ...] = ()

    def status_of(self, index: int) -> Status:
        return _CODE_STATUS[self.statuses[index]]

    def results(self, policies: Sequence[PolicyInfo]) -> Iterator[Result]:
        failures = iter(self.failures)
        for index, policy in enumerate(policies):
            status = _CODE_STATUS[self.statuses[index]]
            if status is Status.FAIL:
                yield next(failures)
            else:
                yield Result(policy=policy, resource=self.resource, status=status)


@dataclass(frozen=True, slots=True)
class ScanError:
    """Something the scan could not read (the scan goes on without it), or a record it read
    that is not what the API documents (``MalformedResponse``: the record is still judged)."""

    scope: ErrorScope
    operation: str
    code: str
    message: str
    attempts: int = 1
    account: str | None = None
    region: str | None = None
    membership_id: str | None = None
    resource_arn: str | None = None
    version_identifier: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ListingComplete:
    """A membership this run listed in full: its model listing and every model's version
    listing completed without error, so a version it did not list no longer exists there."""

    membership_id: str
    account: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class PackRef:
    """A loaded policy pack, as the report records it."""

    id: str
    path: str
    sha256: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ScanFilters:
    """How a scan was narrowed (``--membership``, ``--model``, ``--latest-only``)."""

    memberships: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    latest_only: bool = False

    @property
    def narrowed(self) -> bool:
        return bool(self.memberships or self.models or self.latest_only)


@dataclass(frozen=True, slots=True)
class ScanInfo:
    """The scope of a run: when, where, with which packs and params, and whether it finished."""

    started_at: str
    finished_at: str
    complete: bool
    mode: str = "scan"
    regions: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    packs: tuple[PackRef, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    unreached: tuple[str, ...] = ()
    shard: str | None = None  # "I/N" for one shard's report; merged reports have none
    filters: ScanFilters = field(default_factory=ScanFilters)
    # Memberships listed in full (``ListingComplete``); empty for an interrupted run, for
    # ``evaluate``, and for reports written before it was recorded.
    memberships_read: tuple[ListingComplete, ...] = ()


@dataclass(frozen=True, slots=True)
class Gate:
    fail_on: Severity = Severity.HIGH
    new_only: bool = False


@dataclass(frozen=True, slots=True)
class WaiverUse:
    """How a waiver fared in this run: how many failures it covered, whether it had expired."""

    waiver: Waiver
    matched: int
    expired: bool


@dataclass(frozen=True, slots=True)
class PriorFailure:
    """A failure in the baseline report that this run does not fail, and what became of it.

    ``reason`` says why it is counted so (in a sentence); ``waiver`` is the waiver of this run
    that covers it, for one that was not re-checked (it then does not count against the gate).
    """

    id: str
    policy_id: str
    severity: Severity
    resource: Resource
    outcome: PriorOutcome
    reason: str
    waiver: Waiver | None = None

    @property
    def gating(self) -> bool:
        """Not re-checked and not waived: with ``--fail-on-new-only`` it still counts."""
        return self.outcome is PriorOutcome.NOT_RECHECKED and self.waiver is None


@dataclass(frozen=True, slots=True)
class BaselineCounts:
    """This run's failures (waived ones included) against a baseline, and what became of
    the baseline's other failures."""

    new: int
    unchanged: int
    resolved: int
    gone: int
    not_rechecked: int


@dataclass(frozen=True, slots=True)
class Summary:
    versions: int
    passed: int
    failed: int
    skipped: int
    errors: int
    waived: int
    fail_by_severity: Mapping[Severity, int]
    gate_passed: bool


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a run found. Writers render it; only the CLI writes files."""

    tool_version: str
    scan: ScanInfo
    policies: tuple[PolicyInfo, ...]
    verdicts: tuple[VersionVerdict, ...]
    errors: tuple[ScanError, ...] = ()
    gate: Gate = field(default_factory=Gate)
    waivers: tuple[WaiverUse, ...] = ()
    baseline_path: str | None = None
    prior_failures: tuple[PriorFailure, ...] = ()
    #: versions with an incremental-training base or inference jobs (context scans only)
    lineage: tuple[Lineage, ...] = ()

    def blast_radius(self) -> Iterator[Lineage]:
        """Failing versions and the inference jobs that keep using them."""
        return (item for item in self.lineage if item.failing and item.jobs)

    def __repr__(self) -> str:
        # The generated repr spells out every verdict: hundreds of megabytes and seconds of
        # CPU for a large scan, paid whenever anything formats a report. Python 3.11's
        # asyncio does, on exit, for the task that returned it (``anyio.run(run_scan)``).
        return (
            f"Report(tool_version={self.tool_version!r}, versions={len(self.verdicts)}, "
            f"errors={len(self.errors)}, complete={self.scan.complete})"
        )

    def results(self) -> Iterator[Result]:
        """Every result, version by version, in policy order."""
        for verdict in self.verdicts:
            yield from verdict.results(self.policies)

    def failures(self) -> Iterator[Result]:
        """Every failing result (waived ones included; check ``Result.gating``)."""
        for verdict in self.verdicts:
            yield from verdict.failures

    def gating_failures(self) -> Iterator[Result]:
        """Failures that count against the gate: unwaived, at or above ``fail_on``, and new
        when the gate is on new failures only."""
        for result in self.failures():
            if not result.gating or not result.severity.at_least(self.gate.fail_on):
                continue
            if self.gate.new_only and result.baseline is BaselineState.UNCHANGED:
                continue
            yield result

    def gating_prior_failures(self) -> Iterator[PriorFailure]:
        """Baseline failures this run did not re-check that count against a gate on new
        failures only: not new, but not fixed either (unwaived, at or above ``fail_on``)."""
        if not self.gate.new_only:
            return
        for item in self.prior_failures:
            if item.gating and item.severity.at_least(self.gate.fail_on):
                yield item

    def prior(self, outcome: PriorOutcome) -> tuple[PriorFailure, ...]:
        """The baseline failures not failing now that ended as ``outcome``."""
        return tuple(item for item in self.prior_failures if item.outcome is outcome)

    def baseline_counts(self) -> BaselineCounts:
        states = [result.baseline for result in self.failures()]
        outcomes = [item.outcome for item in self.prior_failures]
        return BaselineCounts(
            new=states.count(BaselineState.NEW),
            unchanged=states.count(BaselineState.UNCHANGED),
            resolved=outcomes.count(PriorOutcome.RESOLVED),
            gone=outcomes.count(PriorOutcome.GONE),
            not_rechecked=outcomes.count(PriorOutcome.NOT_RECHECKED),
        )

    def summary(self) -> Summary:
        counts = [0, 0, 0]
        for verdict in self.verdicts:  # bytes.count: a C loop, not one Python step per policy
            statuses = verdict.statuses
            counts[0] += statuses.count(0)
            counts[1] += statuses.count(1)
            counts[2] += statuses.count(2)
        fail_by_severity = dict.fromkeys(Severity, 0)
        waived = 0
        for result in self.failures():
            if result.waiver is None:
                fail_by_severity[result.severity] += 1
            else:
                waived += 1
        gate_passed = (
            next(self.gating_failures(), None) is None
            and next(self.gating_prior_failures(), None) is None
        )
        return Summary(
            versions=len(self.verdicts),
            passed=counts[0],
            failed=counts[1],
            skipped=counts[2],
            errors=len(self.errors),
            waived=waived,
            fail_by_severity=fail_by_severity,
            gate_passed=gate_passed,
        )


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One run as report.html's trend chart sees it (``auditor.history`` keeps them)."""

    finished_at: str
    fail_by_severity: Mapping[str, int]
    versions: int
    errors: int
    complete: bool
    gate_passed: bool
    file: str = ""

    @classmethod
    def of(cls, report: Report, file: str = "") -> RunPoint:
        """The point of a run's report; ``file`` names its kept copy."""
        summary = report.summary()
        return cls(
            finished_at=report.scan.finished_at,
            fail_by_severity={str(s): summary.fail_by_severity[s] for s in Severity},
            versions=summary.versions,
            errors=summary.errors,
            complete=report.scan.complete,
            gate_passed=summary.gate_passed,
            file=file,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "finished_at": self.finished_at,
                "fail_by_severity": dict(self.fail_by_severity),
                "versions": self.versions,
                "errors": self.errors,
                "complete": self.complete,
                "gate_passed": self.gate_passed,
                "file": self.file,
            },
            sort_keys=True,
        )
