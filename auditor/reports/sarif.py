"""report.sarif: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One ``result`` per failure: unwaived failures are plain results (so there is exactly one
unsuppressed result per unwaived failure, as the contract says); waived failures are results
with an external ``suppression`` carrying the waiver's reason, which is how SARIF records an
accepted exception (GitHub shows them as closed, not as open alerts). Passes and skips are not
results.

GitHub rejects results whose locations are only logical, so every result has a physical
location: the policy pack file that defines the rule (relative to the repository when the
pack path is), next to a logical location naming the model version (``arn@version``).
"""

from __future__ import annotations

import json
from typing import Any

from auditor.models import PolicyInfo, Report, Result, Severity
from auditor.reports._text import failure_message, version_label
from auditor.reports.json import json_safe

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/auditor/auditor"
FINGERPRINT_KEY = "auditorResultId/v1"

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def render_sarif(report: Report) -> bytes:
    """report.sarif as UTF-8 bytes."""
    pack_paths = {pack.id: pack.path for pack in report.scan.packs}
    rule_index = {policy.id: index for index, policy in enumerate(report.policies)}
    results = [
        _result(result, rule_index[result.policy_id], pack_paths) for result in report.failures()
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "auditor",
                        "version": report.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(policy) for policy in report.policies],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": report.scan.complete,
                        "startTimeUtc": report.scan.started_at,
                        "endTimeUtc": report.scan.finished_at,
                        "toolExecutionNotifications": [
                            {
                                "level": "error",
                                "message": {
                                    "text": f"{error.scope} {error.resource_arn or error.membership_id or error.region or ''}: "
                                    f"{error.operation} failed with {error.code}: {error.message}"
                                },
                            }
                            for error in report.errors
                        ],
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(log, separators=(",", ":"), default=str, allow_nan=False).encode("utf-8")


def _rule(policy: PolicyInfo) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": policy.id,
        "name": _rule_name(policy.id),
        "shortDescription": {"text": policy.title},
        "fullDescription": {"text": policy.description or policy.title},
        "help": {"text": policy.remediation or policy.description or policy.title},
        "defaultConfiguration": {"level": LEVEL[policy.severity]},
        "properties": {
            "tags": sorted(
                {
                    "security",
                    *(f"{name}:{ref}" for name, refs in policy.frameworks.items() for ref in refs),
                }
            ),
            "security-severity": SECURITY_SEVERITY[policy.severity],
            "severity": str(policy.severity),
            "pack": policy.pack_id,
        },
    }
    if policy.references:
        rule["helpUri"] = policy.references[0]
    return rule


def _rule_name(policy_id: str) -> str:
    """A rule's ``name`` in SARIF's PascalCase convention: required-tags -> RequiredTags."""
    words = [word for word in policy_id.replace("_", "-").split("-") if word]
    return "".join(word[:1].upper() + word[1:] for word in words) or policy_id


def _result(result: Result, rule_index: int, pack_paths: dict[str, str]) -> dict[str, Any]:
    resource = result.resource
    sarif_result: dict[str, Any] = {
        "ruleId": result.policy_id,
        "ruleIndex": rule_index,
        "level": LEVEL[result.severity],
        "message": {"text": f"{resource.name or resource.arn}: {failure_message(result)}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": pack_paths.get(result.policy.pack_id, "report.json")
                    },
                },
                "logicalLocations": [
                    {"fullyQualifiedName": version_label(resource), "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: result.id},
        "properties": {
            "arn": resource.arn,
            "versionIdentifier": resource.version_identifier,
            "membershipId": resource.membership_id,
            "account": resource.account,
            "region": resource.region,
            "evidence": [
                {
                    "path": item.path,
                    "actual": json_safe(item.actual),
                    "expected": json_safe(item.expected),
                    "message": item.message,
                    "kind": str(item.kind),
                }
                for item in result.evidence
            ],
        },
    }
    if result.baseline is not None:
        sarif_result["baselineState"] = str(result.baseline)
    if result.waiver is not None:
        waiver = result.waiver
        sarif_result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{waiver.reason} (approved by {waiver.approved_by}, "
                f"expires {waiver.expires.isoformat()})",
            }
        ]
    return sarif_result
