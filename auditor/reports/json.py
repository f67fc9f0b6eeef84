"""report.json: the machine-readable report (``auditor.reports.load`` reads it back).

Rendering is built for 2,000,000 results: each resource is serialised once per version, each
policy's constant fields once per report, and every result line is assembled from those
fragments. One result per line keeps the file greppable and diffable.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from auditor.models import (
    Evidence,
    Lineage,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    Result,
    ResultIds,
    Severity,
    Waiver,
    version_material,
)
from auditor.reports.accounts import account_summaries

SCHEMA_VERSION = 1
TOOL_NAME = "auditor"


def render_json(report: Report) -> bytes:
    """The whole report.json as bytes."""
    parts = [_head(report).encode("ascii")]
    for batch in _result_parts(report):
        parts += batch
    parts.append(_tail(report).encode("ascii"))
    return b"".join(parts)


def iter_json(report: Report) -> Iterator[bytes]:
    """report.json in chunks of 250 versions (a few MB each), so it is never all in memory."""
    yield _head(report).encode("ascii")
    for batch in _result_parts(report):
        yield b"".join(batch)
    yield _tail(report).encode("ascii")


def dump_value(value: Any) -> str:
    """Any evidence value as JSON text; what JSON cannot hold becomes a string, never a crash."""
    try:
        return json.dumps(value, default=str, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(json_safe(value, depth=0), default=str, allow_nan=False)


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with everything JSON cannot hold (NaN, odd keys, objects) turned into strings."""
    if depth > 50:
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, Mapping):
        return {str(key): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item, depth + 1) for item in value]
    return str(value)


def _string(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


def resource_json(resource: Resource) -> str:
    """The ``resource`` object of a result, as compact JSON text."""
    return (
        f'{{"arn":{_string(resource.arn)},'
        f'"version_identifier":{_string(resource.version_identifier)},'
        f'"name":{_string(resource.name)},'
        f'"membership_id":{_string(resource.membership_id)},'
        f'"collaboration_id":{_string(resource.collaboration_id)},'
        f'"account":{_string(resource.account)},'
        f'"region":{_string(resource.region)},'
        f'"status":{_string(resource.status)},'
        f'"type":"{resource.type}",'
        f'"creator_account":{_string(resource.creator_account)}}}'
    )


def _waiver_fields(waiver: Waiver) -> dict[str, Any]:
    return {
        "policy": waiver.policy,
        "resource": waiver.resource,
        "version": waiver.version,
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat(),
        "approved_by": waiver.approved_by,
        "index": waiver.index,
    }


def _evidence_json(evidence: Sequence[Evidence]) -> str:
    items = [
        f'{{"path":{_string(item.path)},"actual":{dump_value(item.actual)},'
        f'"expected":{dump_value(item.expected)},"message":{_string(item.message)},'
        f'"kind":"{item.kind.value}"}}'
        for item in evidence
    ]
    return "[" + ",".join(items) + "]"


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, allow_nan=False, indent=2)


def _head(report: Report) -> str:
    summary = report.summary()
    scan = report.scan
    scan_fields: dict[str, Any] = {
        "started_at": scan.started_at,
        "finished_at": scan.finished_at,
        "complete": scan.complete,
        "regions": list(scan.regions),
        "accounts": list(scan.accounts),
        "packs": [
            {"id": pack.id, "path": pack.path, "sha256": pack.sha256, "title": pack.title}
            for pack in scan.packs
        ],
        "params": json_safe(scan.params, depth=0),
        "mode": scan.mode,
        "interrupted": scan.interrupted,
        "unreached": list(scan.unreached),
    }
    if report.baseline_path is not None:
        scan_fields["baseline"] = report.baseline_path
    if scan.shard is not None:
        scan_fields["shard"] = scan.shard
    if scan.filters.narrowed:
        scan_fields["filters"] = {
            "memberships": list(scan.filters.memberships),
            "models": list(scan.filters.models),
            "latest_only": scan.filters.latest_only,
        }
    scan_fields["memberships_read"] = [
        {"account": m.account, "region": m.region, "membership_id": m.membership_id}
        for m in scan.memberships_read
    ]
    summary_fields: dict[str, Any] = {
        "versions": summary.versions,
        "pass": summary.passed,
        "fail": summary.failed,
        "skip": summary.skipped,
        "errors": summary.errors,
        "waived": summary.waived,
        "fail_by_severity": {str(sev): summary.fail_by_severity[sev] for sev in Severity},
        "gate": {
            "fail_on": str(report.gate.fail_on),
            "passed": summary.gate_passed,
            "new_only": report.gate.new_only,
        },
        "accounts": [row.to_json() for row in account_summaries(report)],
    }
    if report.baseline_path is not None:
        summary_fields["baseline"] = dataclasses.asdict(report.baseline_counts())
    policies = [
        {
            "id": policy.id,
            "title": policy.title,
            "severity": str(policy.severity),
            "pack_id": policy.pack_id,
            "description": policy.description,
            "remediation": policy.remediation,
            "references": list(policy.references),
            "frameworks": {name: list(ids) for name, ids in policy.frameworks.items()},
            "line": policy.line,
            "resource_type": str(policy.resource_type),
        }
        for policy in report.policies
    ]
    parts = [
        '{\n"schema_version": 1,\n',
        f'"tool": {{"name": "{TOOL_NAME}", "version": {_string(report.tool_version)}}},\n',
        f'"scan": {_dumps(scan_fields)},\n',
        f'"summary": {_dumps(summary_fields)},\n',
        f'"policies": {_dumps(policies)},\n',
        '"results": [',
    ]
    return "".join(parts)


def _tail(report: Report) -> str:
    errors = [
        {
            "scope": str(error.scope),
            "account": error.account,
            "region": error.region,
            "membership_id": error.membership_id,
            "resource_arn": error.resource_arn,
            "operation": error.operation,
            "code": error.code,
            "message": error.message,
            "attempts": error.attempts,
            "version_identifier": error.version_identifier,
            "line": error.line,
        }
        for error in report.errors
    ]
    waivers = [
        {**_waiver_fields(use.waiver), "matched": use.matched, "expired": use.expired}
        for use in report.waivers
    ]
    parts = [
        "\n],\n",
        f'"errors": {_dumps(errors)},\n',
        f'"waivers": {_dumps(waivers)}',
    ]
    if report.lineage:
        lineage = [lineage_json(item) for item in report.lineage]
        parts.append(f',\n"lineage": {_dumps(lineage)}')
    if report.baseline_path is not None:
        for outcome in PriorOutcome:
            items = [_prior_json(item) for item in report.prior(outcome)]
            parts.append(f',\n"{PRIOR_KEYS[outcome]}": [' + ",\n".join(items) + "]")
    parts.append("\n}\n")
    return "".join(parts)


def lineage_json(item: Lineage) -> dict[str, Any]:
    """One version's lineage; with ``failing`` and ``inference_jobs``, its blast radius."""
    return {
        "arn": item.arn,
        "version_identifier": item.version_identifier,
        "failing": list(item.failing),
        "bases": [{"arn": arn, "version_identifier": version} for arn, version in item.bases],
        "inference_jobs_read": item.jobs_read,
        "inference_jobs": [
            {
                "arn": job.arn,
                "status": job.status,
                "name": job.name,
                "output_members": list(job.output_members),
            }
            for job in item.jobs
        ],
    }


# Where each baseline failure not failing now is listed: ``resolved`` holds only those this
# run saw fixed.
PRIOR_KEYS = {
    PriorOutcome.RESOLVED: "resolved",
    PriorOutcome.GONE: "gone",
    PriorOutcome.NOT_RECHECKED: "not_rechecked",
}


def _prior_json(item: PriorFailure) -> str:
    waiver = "null" if item.waiver is None else json.dumps(_waiver_fields(item.waiver))
    return (
        f'{{"id":{_string(item.id)},"policy_id":{_string(item.policy_id)},'
        f'"severity":"{item.severity}","resource":{resource_json(item.resource)},'
        f'"reason":{_string(item.reason)},"waiver":{waiver}}}'
    )


def _result_parts(report: Report, versions_per_batch: int = 250) -> Iterator[list[bytes]]:
    # Lines are appended as byte fragments and joined once, by the caller: concatenating each
    # line first, or encoding joined text, costs several times as much at two million lines.
    with_baseline = report.baseline_path is not None
    pass_tail = b',"evidence":[],"waiver":null' + (b',"baseline":null}' if with_baseline else b"}")
    # Per policy: its result ids, and the constant middle of a line.
    ids = ResultIds(policy.id for policy in report.policies)
    middles = [
        (
            f'","policy_id":{_string(policy.id)},"title":{_string(policy.title)},'
            f'"severity":"{policy.severity}","status":'
        ).encode("ascii")
        for policy in report.policies
    ]
    status_words = (b'"pass","resource":', b'"fail","resource":', b'"skip","resource":')
    waiver_cache: dict[Waiver, str] = {}
    opening = b'\n{"id":"'
    parts: list[bytes] = []
    extend = parts.extend
    for number, verdict in enumerate(report.verdicts, start=1):
        resource = verdict.resource
        version = version_material(resource.arn, resource.version_identifier)
        resource_text = resource_json(resource).encode("ascii")
        failures = iter(verdict.failures)
        for index, code in enumerate(verdict.statuses):
            extend((opening, ids.ascii_of(index, version), middles[index], status_words[code]))
            extend((resource_text, pass_tail))
            if code == 1:
                parts[-1] = _failure_tail(next(failures), with_baseline, waiver_cache)
            opening = b',\n{"id":"'
        if number % versions_per_batch == 0:
            yield parts
            parts = []
            extend = parts.extend
    yield parts


def _failure_tail(result: Result, with_baseline: bool, waiver_cache: dict[Waiver, str]) -> bytes:
    waiver = result.waiver
    if waiver is None:
        waiver_text = "null"
    else:
        waiver_text = waiver_cache.get(waiver) or waiver_cache.setdefault(
            waiver, json.dumps(_waiver_fields(waiver), separators=(",", ":"))
        )
    text = f',"evidence":{_evidence_json(result.evidence)},"waiver":{waiver_text}'
    if with_baseline:
        text += f',"baseline":{_string(result.baseline)}'
    return (text + "}").encode("ascii")


# The reader lived here before it had its own module; its names stay importable from here,
# lazily, so that this writer never imports the reader.
_MOVED_TO_LOAD = frozenset(
    (
        "load_report",
        "read_report",
        "report_schema",
        "result_validator",
        "unproven_results",
        "validate_report_document",
    )
)


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_LOAD:
        from auditor.reports import load

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
