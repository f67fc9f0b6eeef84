"""Canned records for the writer tests: a small fleet with every severity, a waiver, errors,
a baseline, and a hostile variant whose every AWS-sourced string tries to break out."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema

from auditor.models import (
    BaselineState,
    ErrorScope,
    Evidence,
    Gate,
    PackRef,
    PolicyInfo,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    Result,
    ScanError,
    ScanInfo,
    Severity,
    Status,
    VersionVerdict,
    Waiver,
    WaiverUse,
    encode_statuses,
)
from auditor.reports.load import report_schema

ACCOUNT = "111122223333"
SCHEMAS = Path(__file__).parent / "schemas"

HOSTILE = (
    '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> '
    '"--></script><script>window.__pwned=1</script> {{7*7}} \u2028|`[x](y)*_ =cmd'
)

POLICIES = (
    PolicyInfo(
        id="encryption-at-rest",
        title="Model artifacts are encrypted with a customer managed KMS key",
        severity=Severity.CRITICAL,
        pack_id="baseline",
        description="Trained model output must be encrypted with a CMK.",
        remediation="Retrain with a kmsKeyArn.",
        references=("https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml.html",),
        frameworks={"cis": ("3.1",), "nist-800-53": ("SC-28",)},
    ),
    PolicyInfo(
        id="no-public-output",
        title="Output is not shared outside the collaboration",
        severity=Severity.HIGH,
        pack_id="baseline",
    ),
    PolicyInfo(
        id="required-tags",
        title="Models carry owner and data-classification tags",
        severity=Severity.MEDIUM,
        pack_id="baseline",
        remediation="Tag the model.",
    ),
    PolicyInfo(
        id="training-time-limit",
        title="Training has a stopping condition",
        severity=Severity.LOW,
        pack_id="baseline",
    ),
    PolicyInfo(
        id="description-present",
        title="Model has a description",
        severity=Severity.INFO,
        pack_id="baseline",
    ),
)

WAIVER = Waiver(
    policy="required-tags",
    resource=f"arn:aws:cleanrooms-ml:*:{ACCOUNT}:membership/*/trained-model/*",
    version="*",
    reason="Legacy models, deleted in Q1",
    expires=date(2027, 1, 31),
    approved_by="security@example.com",
    index=0,
)
EXPIRED_WAIVER = dataclasses.replace(
    WAIVER, policy="encryption-at-rest", expires=date(2020, 1, 1), index=1
)
UNMATCHED_WAIVER = dataclasses.replace(WAIVER, policy="nothing-*", index=2)


def resource(number: int, version: str = "v1", name: str | None = None) -> Resource:
    return Resource(
        arn=f"arn:aws:cleanrooms-ml:us-east-1:{ACCOUNT}:membership/m-{number}/trained-model/tm-{number}",
        version_identifier=version,
        name=name or f"model-{number}",
        membership_id=f"m-{number}",
        collaboration_id="c-1",
        account=ACCOUNT,
        region="us-east-1",
        status="ACTIVE",
    )


def fail(policy: PolicyInfo, where: Resource, message: str = "", **changes: Any) -> Result:
    evidence = Evidence(
        path="tags",
        actual={"owner": None, "nested": [1, 2.5, True]},
        expected=["owner", "data-classification"],
        message=message or f"{policy.id} failed on {where.name}",
    )
    return Result(
        policy=policy, resource=where, status=Status.FAIL, evidence=(evidence,), **changes
    )


def verdict(where: Resource, statuses: list[Status], failures: list[Result]) -> VersionVerdict:
    return VersionVerdict(
        resource=where, statuses=encode_statuses(statuses), failures=tuple(failures)
    )


def make_report(**changes: Any) -> Report:
    """Four versions of three models, five policies (one per severity), one waived failure,
    one skip, two errors."""
    p = POLICIES
    r1, r2, r3, r4 = resource(1), resource(1, "v2"), resource(2), resource(3)
    P, F, S = Status.PASS, Status.FAIL, Status.SKIP
    verdicts = (
        verdict(r1, [F, F, F, F, F], [fail(policy, r1) for policy in p]),
        verdict(r2, [P, P, F, P, S], [fail(p[2], r2, waiver=WAIVER)]),
        verdict(r3, [P, F, P, P, P], [fail(p[1], r3)]),
        verdict(r4, [P, P, P, P, P], []),
    )
    report = Report(
        tool_version="0.1.0",
        scan=ScanInfo(
            started_at="2025-01-02T03:04:05+00:00",
            finished_at="2025-01-02T03:05:00+00:00",
            complete=False,
            regions=("us-east-1",),
            accounts=(ACCOUNT,),
            packs=(PackRef(id="baseline", path="packs/baseline.yaml", sha256="ab" * 32),),
            params={"required_tags": ["owner", "data-classification"], "max_hours": 24},
            unreached=("membership m-9 (AccessDeniedException)",),
        ),
        policies=p,
        verdicts=verdicts,
        errors=(
            ScanError(
                scope=ErrorScope.MEMBERSHIP,
                operation="ListTrainedModels",
                code="AccessDeniedException",
                message="User is not authorized",
                account=ACCOUNT,
                region="us-east-1",
                membership_id="m-9",
            ),
            ScanError(
                scope=ErrorScope.VERSION,
                operation="GetTrainedModel",
                code="ResourceNotFoundException",
                message="Trained model not found",
                attempts=3,
                account=ACCOUNT,
                region="us-east-1",
                membership_id="m-4",
                resource_arn=resource(4).arn,
                version_identifier="v7",
            ),
        ),
        gate=Gate(fail_on=Severity.HIGH),
        waivers=(
            WaiverUse(WAIVER, matched=1, expired=False),
            WaiverUse(EXPIRED_WAIVER, matched=0, expired=True),
            WaiverUse(UNMATCHED_WAIVER, matched=0, expired=False),
        ),
    )
    return dataclasses.replace(report, **changes)


def make_baselined_report() -> Report:
    """The canned report compared with a baseline: one failure unchanged, the rest new, and
    one baseline failure resolved, one gone and one not re-checked."""
    report = make_report()
    verdicts = []
    for item in report.verdicts:
        failures = tuple(
            dataclasses.replace(
                result,
                baseline=BaselineState.UNCHANGED
                if result.policy_id == "no-public-output"
                else BaselineState.NEW,
            )
            for result in item.failures
        )
        verdicts.append(dataclasses.replace(item, failures=failures))
    return dataclasses.replace(
        report,
        verdicts=tuple(verdicts),
        baseline_path="baseline/report.json",
        prior_failures=(
            PriorFailure(
                id="0" * 32,
                policy_id="required-tags",
                severity=Severity.MEDIUM,
                resource=resource(1),
                outcome=PriorOutcome.RESOLVED,
                reason="read in this run; the policy passes now",
            ),
            PriorFailure(
                id="1" * 32,
                policy_id="required-tags",
                severity=Severity.MEDIUM,
                resource=resource(5),
                outcome=PriorOutcome.GONE,
                reason="GetTrainedModel answered ResourceNotFoundException",
            ),
            PriorFailure(
                id="2" * 32,
                policy_id="no-public-output",
                severity=Severity.HIGH,
                resource=resource(6),
                outcome=PriorOutcome.NOT_RECHECKED,
                reason="membership m-6 not read: ListTrainedModels failed: AccessDeniedException",
            ),
        ),
    )


def make_hostile_report() -> Report:
    """Every AWS-sourced or pack-sourced string carries markup, template syntax and U+2028."""
    hostile_policy = dataclasses.replace(
        POLICIES[1],
        id="hostile-" + HOSTILE,
        title="T " + HOSTILE,
        description="D " + HOSTILE,
        remediation="R " + HOSTILE,
        references=("javascript:alert(1)",),
        frameworks={"f" + HOSTILE: ("c" + HOSTILE,)},
    )
    policies = (POLICIES[0], hostile_policy)
    where = dataclasses.replace(
        resource(1, version="v" + HOSTILE, name="N " + HOSTILE),
        membership_id="M " + HOSTILE,
        status="S " + HOSTILE,
    )
    failure = Result(
        policy=hostile_policy,
        resource=where,
        status=Status.FAIL,
        evidence=(
            Evidence(
                path="tags." + HOSTILE,
                actual={"k" + HOSTILE: HOSTILE},
                expected=HOSTILE,
                message="E " + HOSTILE,
            ),
        ),
    )
    return make_report(
        policies=policies,
        verdicts=(verdict(where, [Status.PASS, Status.FAIL], [failure]),),
        errors=(
            ScanError(
                scope=ErrorScope.TRAINED_MODEL,
                operation="GetTrainedModel",
                code="C " + HOSTILE,
                message="X " + HOSTILE,
                resource_arn=where.arn,
            ),
        ),
        waivers=(),
    )


def validate_report_json(document: Any) -> None:
    jsonschema.Draft202012Validator(report_schema()).validate(document)


def load_sarif_schema() -> dict[str, Any]:
    return json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text("utf-8"))  # type: ignore[no-any-return]


# Text that changes how text displays: a right-to-left override that makes "invoice\u202egnp.exe"
# read as "invoiceexe.png", isolates, a zero-width joiner, a byte-order mark, NUL and C1.
SPOOF = "invoice\u202egnp.exe \u2066iso\u2069 z\u200dwj \ufeffbom nul\x00 c1\x85"
SPOOF_SHOWN = (
    "invoice<U+202E>gnp.exe <U+2066>iso<U+2069> z<U+200D>wj <U+FEFF>bom nul<U+0000> c1<U+0085>"
)
DISPLAY_CONTROLS = (
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200d",
    "\ufeff",
    "\x00",
    "\x85",
)


def make_spoofed_report() -> Report:
    """Every AWS-sourced string carries display controls (``SPOOF``)."""
    base = make_report()
    where = dataclasses.replace(
        resource(1, version="v" + SPOOF, name=SPOOF),
        membership_id="m-" + SPOOF,
        account=ACCOUNT,
        status="S" + SPOOF,
    )
    waiver = dataclasses.replace(WAIVER, reason="R " + SPOOF, approved_by="A " + SPOOF)
    failures = [
        Result(
            policy=POLICIES[0],
            resource=where,
            status=Status.FAIL,
            evidence=(
                Evidence(path="name", actual={"k": SPOOF}, expected=SPOOF, message="E " + SPOOF),
            ),
        ),
        fail(POLICIES[2], where, message="W " + SPOOF, waiver=waiver),
    ]
    statuses = [Status.FAIL, Status.PASS, Status.FAIL, Status.PASS, Status.PASS]
    return dataclasses.replace(
        base,
        verdicts=(verdict(where, statuses, failures),),
        errors=(
            ScanError(
                scope=ErrorScope.TRAINED_MODEL,
                operation="GetTrainedModel",
                code="AccessDeniedException",
                message="X " + SPOOF,
                resource_arn=where.arn + SPOOF,
            ),
        ),
        waivers=(WaiverUse(waiver, matched=1, expired=False),),
    )
