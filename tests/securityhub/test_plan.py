"""Planning and sending a publication, with plain dicts and a stand-in Security Hub: what is
recognised as auditor's own, what is closed, kept or left, how batches are cut, and what a
call that fails for good leaves behind."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import pytest

from auditor.errors import AccessDeniedError, ThrottledError
from auditor.models import ListingComplete, PolicyInfo, PriorOutcome, Report, Severity
from auditor.reports.asff import FIELD_MODEL_ARN, Target, asff_findings
from auditor.securityhub.api import FailedFinding, FindingsPage
from auditor.securityhub.publish import (
    Change,
    PublishSettings,
    batches,
    plan_target,
    publish_report,
)
from tests.crawler.fakeclock import FakeClock
from tests.reports.canned import ACCOUNT

TARGET = Target("aws", ACCOUNT, "us-east-1")


def published(report: Report) -> list[dict[str, Any]]:
    """What Security Hub would hold after publishing ``report``: its findings."""
    return [copy.deepcopy(f) for f in asff_findings(report)]


def test_republishing_the_same_report_plans_nothing(report: Report) -> None:
    plan = plan_target(report, TARGET, published(report))
    assert plan.to_import == ()
    assert plan.unchanged == len(list(report.failures()))


def test_an_empty_hub_gets_every_failure_as_new(report: Report) -> None:
    plan = plan_target(report, TARGET, [])
    assert plan.count(Change.NEW) == len(list(report.failures()))
    assert plan.count(Change.CLOSED) == 0


def test_a_finding_of_a_version_gone_from_a_membership_listed_in_full_is_closed(
    report: Report,
) -> None:
    gone = next(report.failures()).resource
    listed = ListingComplete(gone.membership_id or "", gone.account, gone.region)
    later = dataclasses.replace(
        report,
        verdicts=tuple(
            v for v in report.verdicts if v.resource.membership_id != listed.membership_id
        ),
        scan=dataclasses.replace(report.scan, memberships_read=(listed,)),
    )
    plan = plan_target(later, TARGET, published(report))
    closed = [p for p in plan.to_import if p.change is Change.CLOSED]
    expected = {
        f"auditor/{r.id}"
        for r in report.failures()
        if r.resource.membership_id == listed.membership_id
    }
    assert {p.id for p in closed} == expected
    for item in closed:
        assert item.finding["Compliance"]["Status"] == "NOT_AVAILABLE"
        assert item.finding["RecordState"] == "ARCHIVED"


def test_a_finding_of_a_failure_no_longer_failing_is_closed_when_re_checked(
    report: Report,
) -> None:
    failing = list(report.failures())
    fixed = failing[0]
    index = report.policies.index(fixed.policy)
    verdicts = []
    for verdict in report.verdicts:
        if verdict.resource == fixed.resource:
            statuses = bytearray(verdict.statuses)
            statuses[index] = 0  # pass now
            failures = tuple(r for r in verdict.failures if r.id != fixed.id)
            verdict = dataclasses.replace(verdict, statuses=bytes(statuses), failures=failures)
        verdicts.append(verdict)
    later = dataclasses.replace(report, verdicts=tuple(verdicts))
    plan = plan_target(later, TARGET, published(report))
    (closing,) = [p for p in plan.to_import if p.change is Change.CLOSED]
    assert closing.id == f"auditor/{fixed.id}"
    assert closing.finding["Compliance"]["Status"] == "PASSED"
    assert closing.finding["RecordState"] == "ARCHIVED"


def test_a_finding_whose_policy_this_run_lacks_is_left_as_it_is(report: Report) -> None:
    unknown = PolicyInfo(id="retired-policy", title="Retired", severity=Severity.LOW, pack_id="x")
    failure = dataclasses.replace(next(report.failures()), policy=unknown)
    verdict = report.verdicts[0]
    stale = dataclasses.replace(
        report,
        policies=(*report.policies, unknown),
        verdicts=(
            dataclasses.replace(
                verdict, statuses=verdict.statuses + b"\x01", failures=(*verdict.failures, failure)
            ),
            *(dataclasses.replace(v, statuses=v.statuses + b"\x00") for v in report.verdicts[1:]),
        ),
    )
    plan = plan_target(report, TARGET, published(stale))
    assert [item.id for item in plan.left] == [failure.id]
    assert [item.outcome for item in plan.left] == [PriorOutcome.NOT_RECHECKED]
    assert all(p.id != f"auditor/{failure.id}" for p in plan.to_import)


def test_findings_not_recognisably_auditors_are_never_touched(report: Report) -> None:
    hub = published(report)
    foreign = copy.deepcopy(hub[0])
    foreign["ProductArn"] = "arn:aws:securityhub:us-east-1::product/aws/guardduty"
    edited = copy.deepcopy(hub[1])
    edited["ProductFields"][FIELD_MODEL_ARN] += "-other"  # no longer adds up to its Id
    plan = plan_target(report, TARGET, [foreign, edited, *hub[2:]])
    assert plan.unreadable == 2
    # the two failures are sent again under their own ids; nothing is sent under others
    ids = {p.id for p in plan.to_import}
    assert ids == {hub[0]["Id"], hub[1]["Id"]}
    assert all(p.change is Change.NEW for p in plan.to_import)


def test_an_older_report_does_not_overwrite_a_newer_finding(report: Report) -> None:
    hub = published(report)
    for finding in hub:
        finding["UpdatedAt"] = "2099-01-01T00:00:00.000Z"
        finding["Compliance"]["Status"] = "PASSED"
    plan = plan_target(report, TARGET, hub)
    assert plan.to_import == ()
    assert plan.newer_in_hub == len(hub)


def test_a_later_run_refreshes_active_failures_but_not_closed_ones(report: Report) -> None:
    later = dataclasses.replace(
        report, scan=dataclasses.replace(report.scan, finished_at="2030-01-01T00:00:00.000Z")
    )
    plan = plan_target(later, TARGET, published(report))
    refreshed = {p.id for p in plan.to_import}
    active = {f["Id"] for f in published(report) if f["RecordState"] == "ACTIVE"}
    assert refreshed == active
    assert all(p.change is Change.UPDATED for p in plan.to_import)
    first_seen = {f["Id"]: f["CreatedAt"] for f in published(report)}
    for item in plan.to_import:
        assert item.finding["CreatedAt"] == first_seen[item.id]
        assert item.finding["LastObservedAt"] == "2030-01-01T00:00:00.000Z"


def test_batches_hold_at_most_100_findings_and_stay_under_the_size_limit() -> None:
    findings = [{"Id": str(n), "Pad": "x" * 1000} for n in range(250)]
    assert [len(b) for b in batches(findings)] == [100, 100, 50]
    small = list(batches(findings, max_bytes=10_500))
    assert all(len(json.dumps(b)) < 12_000 for b in small)
    assert [f["Id"] for b in small for f in b] == [str(n) for n in range(250)]  # order kept


class StandIn:
    """A Security Hub held in memory that throttles or denies on request."""

    def __init__(self, *, throttles: int = 0, deny_imports: bool = False) -> None:
        self.held: dict[str, Mapping[str, Any]] = {}
        self.throttles = throttles
        self.deny_imports = deny_imports
        self.imports = 0

    async def get_findings(
        self, filters: Mapping[str, Any], *, next_token: str | None
    ) -> FindingsPage:
        return FindingsPage(findings=tuple(self.held.values()), next_token=None)

    async def batch_import_findings(
        self, findings: Sequence[Mapping[str, Any]]
    ) -> tuple[FailedFinding, ...]:
        if self.throttles:
            self.throttles -= 1
            raise ThrottledError("BatchImportFindings", "TooManyRequestsException", "slow down")
        if self.deny_imports:
            raise AccessDeniedError("BatchImportFindings", "AccessDeniedException", "no")
        self.imports += 1
        for finding in findings:
            self.held[finding["Id"]] = finding
        return ()


def test_throttles_slow_the_sender_and_lose_nothing(report: Report) -> None:
    hub = StandIn(throttles=5)
    clock = FakeClock()
    settings = PublishSettings(batch_findings=2)
    outcome = anyio.run(
        lambda: publish_report(report, hub, region="us-east-1", settings=settings, clock=clock)
    )
    assert outcome.complete
    assert outcome.throttles == 5
    assert set(hub.held) == {f"auditor/{r.id}" for r in report.failures()}
    failures = len(list(report.failures()))
    assert hub.imports == (failures + 1) // 2
    assert clock.sleeps  # it waited (pacing and backoff), on the fake clock


def test_a_call_that_fails_for_good_stops_and_says_what_was_not_sent(report: Report) -> None:
    hub = StandIn(deny_imports=True)
    outcome = anyio.run(lambda: publish_report(report, hub, region="us-east-1", clock=FakeClock()))
    assert not outcome.complete
    assert outcome.error is not None
    assert outcome.error.code == "AccessDeniedException"
    assert outcome.error.attempts == 1  # not retried: it will not get better
    assert outcome.not_sent == len(list(report.failures()))
    assert hub.held == {}


def test_findings_of_other_regions_are_counted_not_sent(report: Report) -> None:
    hub = StandIn()
    outcome = anyio.run(lambda: publish_report(report, hub, region="eu-west-1", clock=FakeClock()))
    assert hub.held == {}
    assert outcome.plans == ()
    assert outcome.other_regions == {"us-east-1": len(list(report.failures()))}


@pytest.fixture
def report() -> Report:
    from tests.reports.canned import make_report

    return make_report()


def test_the_getfindings_filters_pass_the_sdks_validation() -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    from auditor.securityhub.publish import own_filters

    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("GetFindings").input_shape
    params = {"Filters": own_filters(TARGET), "MaxResults": 100}
    result = ParamValidator().validate(params, shape)
    assert not result.has_errors(), result.generate_report()
    assert own_filters(TARGET)["ProductArn"] == [
        {"Value": TARGET.product_arn, "Comparison": "EQUALS"}
    ]
