"""Small text helpers every writer shares: how a version is named, what a failure says."""

from __future__ import annotations

from auditor.models import Resource, Result, Severity

SEVERITIES = tuple(Severity)  # most severe first


def version_label(resource: Resource) -> str:
    """``arn@version``: how a single trained model version is named in flat formats."""
    return f"{resource.arn}@{resource.version_identifier or '-'}"


def failure_message(result: Result) -> str:
    """The evidence messages of a result, joined; the policy title when there is no evidence."""
    messages = [item.message for item in result.evidence if item.message]
    return "; ".join(messages) if messages else result.policy.title
