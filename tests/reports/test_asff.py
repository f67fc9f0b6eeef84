"""report.asff.json: accepted by botocore's own validation of a BatchImportFindings request,
one active finding per unwaived failure, closed findings for what a baseline saw fixed."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from auditor.models import Evidence, PriorOutcome, Report, Severity, Status
from auditor.reports import FILENAMES, Format, iter_render, parse_formats, render
from auditor.reports.asff import (
    FIELD_HASH,
    MAX_DESCRIPTION,
    MAX_TITLE,
    SEVERITY_LABEL,
    content_hash,
)
from tests.reports.canned import HOSTILE, POLICIES, fail, make_report, resource, verdict

_MODEL = botocore.session.get_session().get_service_model("securityhub")
IMPORT_INPUT = _MODEL.operation_model("BatchImportFindings").input_shape


def asff(report: Report) -> list[dict[str, Any]]:
    document = json.loads(render(report, Format.ASFF))
    assert set(document) == {"Findings"}
    findings: list[dict[str, Any]] = document["Findings"]
    return findings


def assert_importable(findings: list[dict[str, Any]]) -> None:
    """What the SDK itself checks before sending BatchImportFindings (at most 100 a call)."""
    for start in range(0, max(len(findings), 1), 100):
        report = ParamValidator().validate(
            {"Findings": findings[start : start + 100]}, IMPORT_INPUT
        )
        assert not report.has_errors(), report.generate_report()


def test_format_is_known_with_its_file_name() -> None:
    assert parse_formats("asff,ocsf") == (Format.ASFF, Format.OCSF)
    assert FILENAMES[Format.ASFF] == "report.asff.json"
    assert FILENAMES[Format.OCSF] == "report.ocsf.json"


@pytest.mark.parametrize("fixture", ["report", "baselined_report", "hostile_report"])
def test_findings_pass_the_sdks_parameter_validation(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    findings = asff(request.getfixturevalue(fixture))
    assert findings
    assert_importable(findings)


def test_validation_would_catch_a_broken_finding(report: Report) -> None:
    """The check above can fail: a finding without Resources is refused by the validator."""
    findings = asff(report)
    del findings[0]["Resources"]
    result = ParamValidator().validate({"Findings": findings}, IMPORT_INPUT)
    assert result.has_errors()


def test_one_active_finding_per_unwaived_failure(report: Report) -> None:
    findings = asff(report)
    failures = list(report.failures())
    unwaived = [result for result in failures if result.waiver is None]
    active = [f for f in findings if f["RecordState"] == "ACTIVE"]
    assert sorted(f["Id"] for f in active) == sorted(f"auditor/{r.id}" for r in unwaived)
    by_id = {f["Id"]: f for f in findings}
    for result in failures:
        finding = by_id[f"auditor/{result.id}"]
        account = result.resource.account or "111122223333"
        assert finding["GeneratorId"] == result.policy_id
        assert finding["ProductArn"] == (
            f"arn:aws:securityhub:us-east-1:{account}:product/{account}/default"
        )
        assert finding["AwsAccountId"] == account
        assert finding["Severity"]["Label"] == SEVERITY_LABEL[result.severity]
        assert (
            finding["FindingProviderFields"]["Severity"]["Label"] == SEVERITY_LABEL[result.severity]
        )
        assert finding["Compliance"]["Status"] == "FAILED"
        assert all(t.startswith("Software and Configuration Checks/") for t in finding["Types"])
        (target,) = finding["Resources"]
        assert target["Type"] == "Other"
        assert target["Id"] == result.resource.arn
        assert target["Details"]["Other"]["VersionIdentifier"] == (
            result.resource.version_identifier
        )
        if result.policy.references:
            url = finding["Remediation"]["Recommendation"]["Url"]
            assert url == result.policy.references[0]
            assert finding["ProductFields"]["auditor/Reference/1"] == url


def test_every_severity_maps_to_a_distinct_asff_label() -> None:
    labels = IMPORT_INPUT.members["Findings"].member.members["Severity"].members["Label"].enum
    assert set(SEVERITY_LABEL) == set(Severity)
    assert len(set(SEVERITY_LABEL.values())) == len(Severity)
    assert set(SEVERITY_LABEL.values()) <= set(labels)
    assert SEVERITY_LABEL[Severity.INFO] == "INFORMATIONAL"


def test_a_waived_failure_is_archived_but_still_failed_and_never_suppressed(
    report: Report,
) -> None:
    waived = [result for result in report.failures() if result.waiver is not None]
    assert waived
    by_id = {f["Id"]: f for f in asff(report)}
    for result in waived:
        finding = by_id[f"auditor/{result.id}"]
        assert finding["RecordState"] == "ARCHIVED"
        # a SUPPRESSED finding is never updated again: it would hide the failure for good
        # once the waiver expires
        assert finding["Workflow"] == {"Status": "NEW"}
        assert finding["Compliance"]["Status"] == "FAILED"  # accepted, not fixed
        assert finding["ProductFields"]["auditor/WaiverReason"] == result.waiver.reason


def test_baseline_failures_seen_fixed_or_gone_are_closed_and_unchecked_ones_left_out(
    baselined_report: Report,
) -> None:
    by_id = {f["Id"]: f for f in asff(baselined_report)}
    outcomes = {item.outcome for item in baselined_report.prior_failures}
    assert outcomes == set(PriorOutcome)  # the canned report has one of each
    for item in baselined_report.prior_failures:
        finding = by_id.get(f"auditor/{item.id}")
        if item.outcome is PriorOutcome.NOT_RECHECKED:
            assert finding is None
            continue
        assert finding is not None
        assert finding["RecordState"] == "ARCHIVED"
        assert finding["Workflow"] == {"Status": "RESOLVED"}
        expected = "PASSED" if item.outcome is PriorOutcome.RESOLVED else "NOT_AVAILABLE"
        assert finding["Compliance"]["Status"] == expected


def test_ids_and_content_are_stable_across_renders_and_order(report: Report) -> None:
    first = asff(report)
    reordered = dataclasses.replace(report, verdicts=report.verdicts[::-1])
    second = {f["Id"]: f for f in asff(reordered)}
    assert {f["Id"]: f for f in first} == second
    for finding in first:
        assert finding["ProductFields"][FIELD_HASH] == content_hash(finding)


def test_the_content_hash_changes_with_what_a_finding_says(report: Report) -> None:
    finding = asff(report)[0]
    changed = json.loads(json.dumps(finding))
    changed["Compliance"]["Status"] = "PASSED"
    assert content_hash(changed) != content_hash(finding)
    later = json.loads(json.dumps(finding))
    later["UpdatedAt"] = later["LastObservedAt"] = "2099-01-01T00:00:00.000Z"
    assert content_hash(later) == content_hash(finding)


def test_long_hostile_values_are_cut_to_asff_limits_and_still_importable() -> None:
    policy = dataclasses.replace(POLICIES[0], title="T" * 5000, remediation="R" * 5000)
    where = resource(1, version="v" * 3000, name=HOSTILE * 40)
    result = fail(policy, where, message="M" * 9000)
    result = dataclasses.replace(
        result, evidence=(Evidence("tags", "x" * 9000, {"k": ["y"] * 3000}, "E" * 9000),)
    )
    report = make_report(
        verdicts=(verdict(where, [Status.FAIL] + [Status.PASS] * (len(POLICIES) - 1), [result]),)
    )
    (finding,) = asff(report)
    assert len(finding["Title"]) <= MAX_TITLE
    assert len(finding["Description"]) <= MAX_DESCRIPTION
    assert len(finding["Remediation"]["Recommendation"]["Text"]) <= 512
    assert all(len(value) <= 2048 for value in finding["ProductFields"].values())
    assert all(len(v) <= 1024 for v in finding["Resources"][0]["Details"]["Other"].values())
    assert_importable([finding])


def test_control_characters_from_aws_stay_escaped_in_the_file() -> None:
    where = resource(1, name="evil\u202eeman\x00")
    result = fail(POLICIES[0], where)
    report = make_report(
        verdicts=(verdict(where, [Status.FAIL] + [Status.PASS] * (len(POLICIES) - 1), [result]),)
    )
    data = render(report, Format.ASFF)
    assert "\u202e".encode() not in data
    assert b"\\u202e" in data
    assert json.loads(data)["Findings"][0]["Resources"][0]["Details"]["Other"]["Name"] == (
        "evil\u202eeman\x00"
    )


@pytest.mark.parametrize("fmt", [Format.ASFF, Format.OCSF])
@pytest.mark.parametrize("per_chunk", [1, 2, 1000])
def test_chunked_files_are_the_same_json_whatever_the_chunk_size(
    fmt: Format, per_chunk: int, baselined_report: Report
) -> None:
    from auditor.reports.asff import iter_asff
    from auditor.reports.ocsf import iter_ocsf

    chunks = list(
        (iter_asff if fmt is Format.ASFF else iter_ocsf)(baselined_report, per_chunk=per_chunk)
    )
    assert json.loads(b"".join(chunks)) == json.loads(render(baselined_report, fmt))
    assert b"".join(iter_render(baselined_report, fmt)) == render(baselined_report, fmt)
    if per_chunk == 1:
        assert len(chunks) > 3  # it does stream


def test_a_report_without_failures_has_no_findings(report: Report) -> None:
    clean = dataclasses.replace(report, verdicts=())
    assert json.loads(render(clean, Format.ASFF)) == {"Findings": []}
    assert json.loads(render(clean, Format.OCSF)) == []
