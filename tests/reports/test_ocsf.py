"""report.ocsf.json: OCSF Compliance Finding events that the maintained OCSF models
(py-ocsf-models) accept, without any of our fields falling outside the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

from auditor.models import PriorOutcome, Report
from auditor.reports import Format, render


def ocsf(report: Report) -> list[dict[str, Any]]:
    events = json.loads(render(report, Format.OCSF))
    assert isinstance(events, list)
    return events


def assert_within(ours: Any, parsed: Any, path: str = "$") -> None:
    """Every value we wrote is in the parsed model's dump at the same place: a misspelt or
    unknown field would be dropped by the model and fail here."""
    if isinstance(ours, dict):
        assert isinstance(parsed, dict), path
        for key, value in ours.items():
            assert key in parsed, f"{path}.{key} is not an OCSF field"
            assert_within(value, parsed[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(parsed, list), path
        assert len(parsed) == len(ours), path
        for index, (mine, theirs) in enumerate(zip(ours, parsed, strict=True)):
            assert_within(mine, theirs, f"{path}[{index}]")
    else:
        assert ours == parsed, path


def validated(event: dict[str, Any]) -> ComplianceFinding:
    model = ComplianceFinding.model_validate(event)
    assert_within(event, model.model_dump(mode="json", exclude_none=True))
    return model


@pytest.mark.parametrize("fixture", ["report", "baselined_report", "hostile_report"])
def test_every_event_is_a_valid_compliance_finding(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    events = ocsf(request.getfixturevalue(fixture))
    assert events
    for event in events:
        model = validated(event)
        assert model.class_uid == 2003
        assert model.type_uid == 2003 * 100 + model.activity_id


def test_the_check_catches_a_field_outside_the_schema(report: Report) -> None:
    event = ocsf(report)[0]
    event["finding_info"]["titel"] = "typo"
    with pytest.raises(AssertionError, match="titel"):
        validated(event)


def test_one_event_per_failure_with_the_stable_result_id(report: Report) -> None:
    events = ocsf(report)
    failures = list(report.failures())
    assert [e["finding_info"]["uid"] for e in events] == [r.id for r in failures]
    for event, result in zip(events, failures, strict=True):
        assert event["compliance"]["status_id"] == 3  # Fail
        assert event["status_id"] == (1 if result.waiver is None else 3)  # New / Suppressed
        assert event["resources"][0]["uid"] == result.resource.arn
        assert event["resources"][0]["version"] == result.resource.version_identifier
        assert event["compliance"]["control"] == result.policy_id


def test_baseline_failures_seen_fixed_are_closed_events(baselined_report: Report) -> None:
    by_uid = {e["finding_info"]["uid"]: e for e in ocsf(baselined_report)}
    for item in baselined_report.prior_failures:
        event = by_uid.get(item.id)
        if item.outcome is PriorOutcome.NOT_RECHECKED:
            assert event is None
            continue
        assert event is not None
        assert event["activity_id"] == 3  # Close
        resolved = item.outcome is PriorOutcome.RESOLVED
        assert event["compliance"]["status_id"] == (1 if resolved else 0)
