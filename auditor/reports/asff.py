"""report.asff.json: findings in the AWS Security Finding Format, for AWS Security Hub.

The file is a ``BatchImportFindings`` request body (``{"Findings": [...]}``), so it can be
sent as is (``aws securityhub batch-import-findings --cli-input-json file://...`` for up to
100 findings) or by ``auditor publish security-hub``, which builds its findings here too.

- one ``ACTIVE`` / ``FAILED`` finding per unwaived failure;
- a waived failure is ``ARCHIVED`` (still ``FAILED``: the waiver accepts the failure, it does
  not fix it), with the waiver in ``ProductFields``. Its ``Workflow.Status`` is ``NEW``, never
  ``SUPPRESSED``: Security Hub does not update a suppressed finding any more, nor reset it to
  ``NEW`` when it becomes active again, so a failure whose waiver expired would stay hidden;
  an archived finding is out of the default view all the same;
- with a baseline, a baseline failure this run saw fixed (``resolved``) is ``PASSED`` /
  ``ARCHIVED``, one whose model or version is ``gone`` is ``NOT_AVAILABLE`` / ``ARCHIVED``;
  one this run did not re-check is left out (nothing is known about it now).

A finding's ``Id`` is ``auditor/<result id>`` (policy + model ARN + version), so every run
updates the same finding in place. It is imported under a custom integration's default
product in the model's own account and region. ``ProductFields`` carry what ``publish``
needs to recognise its own findings later (``auditor/*`` keys) and a hash of the content,
so that re-publishing an unchanged finding is skipped. Values are cut to ASFF's length limits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditor.arns import parse_trained_model_arn
from auditor.errors import UsageError
from auditor.models import (
    PolicyInfo,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    ResourceType,
    Result,
    Severity,
)
from auditor.reports._text import failure_message, version_label
from auditor.reports.json import json_safe

SCHEMA_VERSION = "2018-10-08"
ID_PREFIX = "auditor/"
PRODUCT_NAME = "auditor"
TYPE_NAMESPACE = "Software and Configuration Checks"

# ProductFields keys: what publish reads back to recognise and re-check its own findings
FIELD_TOOL = "auditor/Tool"
FIELD_RESULT_ID = "auditor/ResultId"
FIELD_POLICY_ID = "auditor/PolicyId"
FIELD_PACK_ID = "auditor/PackId"
FIELD_SEVERITY = "auditor/Severity"
FIELD_MODEL_ARN = "auditor/ModelArn"
FIELD_VERSION = "auditor/VersionIdentifier"
FIELD_MEMBERSHIP = "auditor/MembershipId"
FIELD_HASH = "auditor/ContentHash"
TOOL_MARKER = "auditor"

SEVERITY_LABEL = {
    Severity.CRITICAL: "CRITICAL",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MEDIUM",
    Severity.LOW: "LOW",
    Severity.INFO: "INFORMATIONAL",
}

# ASFF's documented limits (characters); longer values are cut, never rejected
MAX_GENERATOR_ID = 512
MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_RECOMMENDATION = 512
MAX_PRODUCT_FIELD_VALUE = 2048
MAX_DETAIL_VALUE = 1024
MAX_EVIDENCE_FIELDS = 10
MAX_REFERENCE_FIELDS = 10
MAX_REQUIREMENTS = 32
MAX_TYPES = 50

# fields a finding provider cannot change after creation, or that only say when it was sent:
# left out of the content hash so that re-publishing an unchanged finding changes nothing
# (``LastObservedAt`` too: publish refreshes it on active failures only, so that a closed
# finding is not re-sent by every later run)
_UNHASHED = ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt", "Workflow")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a finding is imported: the custom integration of one account and region."""

    partition: str
    account: str
    region: str

    @property
    def product_arn(self) -> str:
        return (
            f"arn:{self.partition}:securityhub:{self.region}:{self.account}:"
            f"product/{self.account}/default"
        )


def target_of(resource: Resource) -> Target:
    """The account and region a finding about ``resource`` belongs to (from its ARN, which
    the crawler and ``evaluate`` both checked; the resource's own fields otherwise).

    Raises ``UsageError`` when neither names an account and a region.
    """
    parsed = parse_trained_model_arn(resource.arn)
    if resource.type is not ResourceType.TRAINED_MODEL and resource.account and resource.region:
        # a model another member trained: its ARN names the member's account; the finding
        # belongs to the scanned account that saw it (``Resource.account``)
        partition = parsed.partition if parsed is not None else "aws"
        return Target(partition, resource.account, resource.region)
    if parsed is not None:
        return Target(parsed.partition, parsed.account, parsed.region)
    if resource.account and resource.region:
        return Target("aws", resource.account, resource.region)
    raise UsageError(f"{resource.arn!r}: no account and region to file its finding under")


def finding_id(result_id: str) -> str:
    return ID_PREFIX + result_id


def asff_timestamp(text: str) -> str:
    """An ISO 8601 time from a report as ASFF writes it (UTC, milliseconds, ``Z``).

    Raises ``UsageError`` when ``text`` is not an ISO 8601 time.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not an ISO 8601 time in the report: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _types(policy: PolicyInfo | None) -> list[str]:
    types = [f"{TYPE_NAMESPACE}/AWS Security Best Practices/Clean Rooms ML"]
    if policy is not None:
        types += [
            f"{TYPE_NAMESPACE}/Industry and Regulatory Standards/{_cut(name, 100)}"
            for name in sorted(policy.frameworks)
        ]
    return types[:MAX_TYPES]


def _requirements(policy: PolicyInfo | None) -> list[str]:
    if policy is None:
        return []
    requirements = [
        _cut(f"{name} {ref}", 256)
        for name, refs in sorted(policy.frameworks.items())
        for ref in refs
    ]
    return requirements[:MAX_REQUIREMENTS]


def _resource(resource: Resource, target: Target) -> dict[str, Any]:
    details = {
        "VersionIdentifier": resource.version_identifier,
        "Name": resource.name,
        "MembershipId": resource.membership_id,
        "CollaborationId": resource.collaboration_id,
        "Account": resource.account,
        "Status": resource.status,
        "ResourceType": str(resource.type),
        "CreatorAccountId": resource.creator_account,
    }
    return {
        "Type": "Other",
        "Id": resource.arn,
        "Partition": target.partition,
        "Region": target.region,
        "Details": {
            "Other": {key: _cut(value, MAX_DETAIL_VALUE) for key, value in details.items() if value}
        },
    }


def _identity_fields(
    result_id: str, policy_id: str, pack_id: str | None, severity: Severity, resource: Resource
) -> dict[str, str]:
    fields = {
        FIELD_TOOL: TOOL_MARKER,
        FIELD_RESULT_ID: result_id,
        FIELD_POLICY_ID: policy_id,
        FIELD_SEVERITY: str(severity),
        FIELD_MODEL_ARN: resource.arn,
        FIELD_VERSION: resource.version_identifier or "",
        FIELD_MEMBERSHIP: resource.membership_id or "",
    }
    if pack_id:
        fields[FIELD_PACK_ID] = pack_id
    return {key: _cut(value, MAX_PRODUCT_FIELD_VALUE) for key, value in fields.items()}


def _base(
    *,
    result_id: str,
    policy: PolicyInfo | None,
    policy_id: str,
    severity: Severity,
    resource: Resource,
    observed_at: str,
    description: str,
) -> dict[str, Any]:
    target = target_of(resource)
    title = policy.title if policy is not None else policy_id
    severity_fields = {"Label": SEVERITY_LABEL[severity], "Original": str(severity)}
    types = _types(policy)
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(result_id),
        "ProductArn": target.product_arn,
        "ProductName": PRODUCT_NAME,
        "CompanyName": PRODUCT_NAME,
        "GeneratorId": _cut(policy_id, MAX_GENERATOR_ID),
        "AwsAccountId": target.account,
        "Region": target.region,
        "Types": types,
        "CreatedAt": observed_at,
        "UpdatedAt": observed_at,
        "FirstObservedAt": observed_at,
        "LastObservedAt": observed_at,
        "Severity": severity_fields,
        "FindingProviderFields": {"Severity": dict(severity_fields), "Types": list(types)},
        "Title": _cut(f"{title}: {resource.name or version_label(resource)}", MAX_TITLE),
        "Description": _cut(description, MAX_DESCRIPTION),
        "Resources": [_resource(resource, target)],
        "ProductFields": _identity_fields(
            result_id, policy_id, policy.pack_id if policy else None, severity, resource
        ),
    }
    if policy is not None:
        recommendation: dict[str, str] = {}
        text = policy.remediation or policy.description
        if text:
            recommendation["Text"] = _cut(text, MAX_RECOMMENDATION)
        if policy.references:
            recommendation["Url"] = policy.references[0]
        if recommendation:
            finding["Remediation"] = {"Recommendation": recommendation}
        for index, reference in enumerate(policy.references[:MAX_REFERENCE_FIELDS], start=1):
            finding["ProductFields"][f"auditor/Reference/{index}"] = _cut(
                reference, MAX_PRODUCT_FIELD_VALUE
            )
    return finding


def failure_finding(result: Result, observed_at: str) -> dict[str, Any]:
    """The finding of one failure: active, or archived and suppressed when waived."""
    finding = _base(
        result_id=result.id,
        policy=result.policy,
        policy_id=result.policy_id,
        severity=result.severity,
        resource=result.resource,
        observed_at=observed_at,
        description=failure_message(result),
    )
    compliance: dict[str, Any] = {"Status": "FAILED"}
    requirements = _requirements(result.policy)
    if requirements:
        compliance["RelatedRequirements"] = requirements
    finding["Compliance"] = compliance
    fields = finding["ProductFields"]
    for index, item in enumerate(result.evidence[:MAX_EVIDENCE_FIELDS], start=1):
        evidence = {
            "path": item.path,
            "actual": json_safe(item.actual),
            "expected": json_safe(item.expected),
            "message": item.message,
        }
        fields[f"auditor/Evidence/{index}"] = _cut(
            json.dumps(evidence, default=str, ensure_ascii=False), MAX_PRODUCT_FIELD_VALUE
        )
    waiver = result.waiver
    if waiver is None:
        finding["RecordState"] = "ACTIVE"
        finding["Workflow"] = {"Status": "NEW"}
    else:
        finding["RecordState"] = "ARCHIVED"
        finding["Workflow"] = {"Status": "NEW"}  # not SUPPRESSED: see the module docstring
        fields["auditor/WaiverReason"] = _cut(waiver.reason, MAX_PRODUCT_FIELD_VALUE)
        fields["auditor/WaiverApprovedBy"] = _cut(waiver.approved_by, MAX_PRODUCT_FIELD_VALUE)
        fields["auditor/WaiverExpires"] = waiver.expires.isoformat()
    return seal(finding)


def closed_finding(
    item: PriorFailure, policy: PolicyInfo | None, observed_at: str
) -> dict[str, Any]:
    """The finding of a failure this run saw fixed (``resolved``: PASSED) or gone
    (``gone``: NOT_AVAILABLE), archived. Not for one that was not re-checked."""
    if item.outcome is PriorOutcome.NOT_RECHECKED:
        raise ValueError(f"{item.id} was not re-checked: its finding stays as it is")
    finding = _base(
        result_id=item.id,
        policy=policy,
        policy_id=item.policy_id,
        severity=item.severity,
        resource=item.resource,
        observed_at=observed_at,
        description=f"No longer failing ({item.outcome}): {item.reason}",
    )
    compliance: dict[str, Any] = {
        "Status": "PASSED" if item.outcome is PriorOutcome.RESOLVED else "NOT_AVAILABLE"
    }
    requirements = _requirements(policy)
    if requirements:
        compliance["RelatedRequirements"] = requirements
    finding["Compliance"] = compliance
    finding["ProductFields"]["auditor/Outcome"] = str(item.outcome)
    finding["RecordState"] = "ARCHIVED"
    finding["Workflow"] = {"Status": "RESOLVED"}
    return seal(finding)


def content_hash(finding: Mapping[str, Any]) -> str:
    """What a finding says, apart from when it was sent and what its provider may not change."""
    material = {key: value for key, value in finding.items() if key not in _UNHASHED}
    fields = dict(material.get("ProductFields", {}))
    fields.pop(FIELD_HASH, None)
    material["ProductFields"] = fields
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def seal(finding: dict[str, Any]) -> dict[str, Any]:
    """``finding`` with its content hash recorded in ``ProductFields``."""
    finding["ProductFields"][FIELD_HASH] = content_hash(finding)
    return finding


def asff_findings(report: Report) -> Iterator[dict[str, Any]]:
    """Every finding of ``report``: its failures, then the baseline failures it saw closed."""
    observed_at = asff_timestamp(report.scan.finished_at)
    for result in report.failures():
        yield failure_finding(result, observed_at)
    policies = {policy.id: policy for policy in report.policies}
    for item in report.prior_failures:
        if item.outcome is not PriorOutcome.NOT_RECHECKED:
            yield closed_finding(item, policies.get(item.policy_id), observed_at)


def iter_asff(report: Report, per_chunk: int = 500) -> Iterator[bytes]:
    """report.asff.json in chunks of ``per_chunk`` findings (a large estate's failures need
    not sit in memory whole). ASCII only: a control or bidirectional character from AWS
    stays visibly escaped."""
    yield b'{"Findings":['
    chunk: list[str] = []
    first = True
    for finding in asff_findings(report):
        chunk.append(json.dumps(finding, separators=(",", ":"), allow_nan=False))
        if len(chunk) >= per_chunk:
            yield (("" if first else ",") + ",".join(chunk)).encode()
            chunk, first = [], False
    if chunk:
        yield (("" if first else ",") + ",".join(chunk)).encode()
    yield b"]}"


def render_asff(report: Report) -> bytes:
    """report.asff.json as UTF-8 bytes: a ``BatchImportFindings`` request body."""
    return b"".join(iter_asff(report))
