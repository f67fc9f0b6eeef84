"""Small text helpers every writer shares: how a version is named, what a failure says."""

from __future__ import annotations

from auditor.models import EvidenceKind, Resource, Result, Severity

SEVERITIES = tuple(Severity)  # most severe first


def version_label(resource: Resource) -> str:
    """``arn@version``: how a single trained model version is named in flat formats."""
    return f"{resource.arn}@{resource.version_identifier or '-'}"


def failure_message(result: Result) -> str:
    """The evidence messages of a result, joined; the policy title when there is no evidence.

    A value that could not be read is marked ``[missing]`` or ``[wrong-type]``: the resource
    was not shown compliant, which is not the same as breaking the rule.
    """
    messages = [
        item.message if item.kind is EvidenceKind.VIOLATED else f"[{item.kind}] {item.message}"
        for item in result.evidence
        if item.message
    ]
    return "; ".join(messages) if messages else result.policy.title


def evidence_kinds(result: Result) -> str:
    """The kinds of a result's evidence, each once, in order: ``missing, violated``."""
    return ", ".join(dict.fromkeys(str(item.kind) for item in result.evidence))
