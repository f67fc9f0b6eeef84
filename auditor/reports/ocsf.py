"""report.ocsf.json: OCSF 1.x Compliance Finding events (class_uid 2003), for SIEMs.

A JSON array of events: one per failure (``status_id`` New, or Suppressed when waived, with
``compliance.status_id`` Fail) and, with a baseline, one per baseline failure this run saw
fixed (``resolved``: Resolved / Pass) or gone (Archived / Unknown), as ``activity_id`` Close.
``finding_info.uid`` is the result id (policy + model ARN + version), stable across runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from auditor.models import (
    PolicyInfo,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    Result,
    Severity,
)
from auditor.reports._text import failure_message, version_label
from auditor.reports.asff import asff_timestamp, target_of
from auditor.reports.json import json_safe

OCSF_VERSION = "1.5.0"
CLASS_UID = 2003  # Compliance Finding
CATEGORY_UID = 2  # Findings
ACTIVITY_CREATE = 1
ACTIVITY_CLOSE = 3

SEVERITY_ID = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.INFO: 1,
}
SEVERITY_NAME = {5: "Critical", 4: "High", 3: "Medium", 2: "Low", 1: "Informational"}
# finding status_id (OCSF 1.x): 1 New, 3 Suppressed, 4 Resolved, 5 Archived
STATUS_NAME = {1: "New", 3: "Suppressed", 4: "Resolved", 5: "Archived"}
# compliance status_id: 0 Unknown, 1 Pass, 3 Fail
COMPLIANCE_NAME = {0: "Unknown", 1: "Pass", 3: "Fail"}


def _epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(asff_timestamp(text)).timestamp() * 1000)


def _metadata(report: Report) -> dict[str, Any]:
    return {
        "version": OCSF_VERSION,
        "product": {
            "name": "auditor",
            "vendor_name": "auditor",
            "version": report.tool_version,
            "url_string": "https://github.com/auditor/auditor",
        },
    }


def _resource(resource: Resource) -> dict[str, Any]:
    target = target_of(resource)
    data = {
        "account": target.account,
        "membership_id": resource.membership_id,
        "collaboration_id": resource.collaboration_id,
        "status": resource.status,
        "resource_type": str(resource.type),
        "creator_account": resource.creator_account,
    }
    item: dict[str, Any] = {
        "uid": resource.arn,
        "type": "AWS::CleanRoomsML::TrainedModel",
        "cloud_partition": target.partition,
        "region": target.region,
        "data": {key: value for key, value in data.items() if value},
    }
    if resource.name:
        item["name"] = resource.name
    if resource.version_identifier:
        item["version"] = resource.version_identifier
    return item


def _compliance(policy: PolicyInfo | None, policy_id: str, status_id: int) -> dict[str, Any]:
    compliance: dict[str, Any] = {
        "control": policy_id,
        "status_id": status_id,
        "checks": [
            {
                "uid": policy_id,
                "name": policy.title if policy is not None else policy_id,
                "status": COMPLIANCE_NAME[status_id],
                "status_id": status_id,
            }
        ],
    }
    if policy is not None:
        if policy.description:
            compliance["desc"] = policy.description
        if policy.frameworks:
            compliance["standards"] = sorted(policy.frameworks)
            compliance["requirements"] = [
                f"{name} {ref}" for name, refs in sorted(policy.frameworks.items()) for ref in refs
            ]
    return compliance


def _event(
    report: Report,
    *,
    result_id: str,
    policy: PolicyInfo | None,
    policy_id: str,
    severity: Severity,
    resource: Resource,
    activity_id: int,
    status_id: int,
    compliance_status_id: int,
    message: str,
) -> dict[str, Any]:
    time = _epoch_ms(report.scan.finished_at)
    severity_id = SEVERITY_ID[severity]
    title = policy.title if policy is not None else policy_id
    event: dict[str, Any] = {
        "metadata": _metadata(report),
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "activity_id": activity_id,
        "activity_name": "Create" if activity_id == ACTIVITY_CREATE else "Close",
        "type_uid": CLASS_UID * 100 + activity_id,
        "severity_id": severity_id,
        "severity": SEVERITY_NAME[severity_id],
        "status_id": status_id,
        "status": STATUS_NAME[status_id],
        "time": time,
        "message": message,
        "finding_info": {
            "uid": result_id,
            "title": f"{title}: {resource.name or version_label(resource)}",
            "desc": message,
            "types": ["Clean Rooms ML compliance"],
            "last_seen_time": time,
        },
        "compliance": _compliance(policy, policy_id, compliance_status_id),
        "resources": [_resource(resource)],
    }
    if policy is not None and (policy.remediation or policy.references):
        remediation: dict[str, Any] = {
            "desc": policy.remediation or policy.description or policy.title
        }
        if policy.references:
            remediation["references"] = list(policy.references)
        event["remediation"] = remediation
    return event


def failure_event(report: Report, result: Result) -> dict[str, Any]:
    event = _event(
        report,
        result_id=result.id,
        policy=result.policy,
        policy_id=result.policy_id,
        severity=result.severity,
        resource=result.resource,
        activity_id=ACTIVITY_CREATE,
        status_id=1 if result.waiver is None else 3,
        compliance_status_id=3,
        message=failure_message(result),
    )
    event["evidences"] = [
        {
            "data": {
                "path": item.path,
                "actual": json_safe(item.actual),
                "expected": json_safe(item.expected),
                "message": item.message,
            }
        }
        for item in result.evidence
    ]
    if result.waiver is not None:
        waiver = result.waiver
        event["status_detail"] = (
            f"waived: {waiver.reason} (approved by {waiver.approved_by}, "
            f"expires {waiver.expires.isoformat()})"
        )
    return event


def closed_event(report: Report, item: PriorFailure, policy: PolicyInfo | None) -> dict[str, Any]:
    resolved = item.outcome is PriorOutcome.RESOLVED
    event = _event(
        report,
        result_id=item.id,
        policy=policy,
        policy_id=item.policy_id,
        severity=item.severity,
        resource=item.resource,
        activity_id=ACTIVITY_CLOSE,
        status_id=4 if resolved else 5,
        compliance_status_id=1 if resolved else 0,
        message=f"No longer failing ({item.outcome}): {item.reason}",
    )
    event["status_detail"] = str(item.outcome)
    return event


def ocsf_events(report: Report) -> Iterator[dict[str, Any]]:
    """The report's failures, then the baseline failures it saw closed, as OCSF events."""
    for result in report.failures():
        yield failure_event(report, result)
    policies = {policy.id: policy for policy in report.policies}
    for item in report.prior_failures:
        if item.outcome is not PriorOutcome.NOT_RECHECKED:
            yield closed_event(report, item, policies.get(item.policy_id))


def iter_ocsf(report: Report, per_chunk: int = 500) -> Iterator[bytes]:
    """report.ocsf.json in chunks of ``per_chunk`` events. ASCII only: a control or
    bidirectional character from AWS stays visibly escaped."""
    yield b"["
    chunk: list[str] = []
    first = True
    for event in ocsf_events(report):
        chunk.append(json.dumps(event, separators=(",", ":"), allow_nan=False))
        if len(chunk) >= per_chunk:
            yield (("" if first else ",") + ",".join(chunk)).encode()
            chunk, first = [], False
    if chunk:
        yield (("" if first else ",") + ",".join(chunk)).encode()
    yield b"]"


def render_ocsf(report: Report) -> bytes:
    """report.ocsf.json as UTF-8 bytes: a JSON array of Compliance Finding events."""
    return b"".join(iter_ocsf(report))
