from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from auditor.audit import ReportBuilder, ReportOptions, finalize
from auditor.baseline import apply_baseline, diff_json, diff_reports, render_diff_text
from auditor.errors import ReportInputError
from auditor.merge import merge_reports
from auditor.models import (
    BaselineState,
    ErrorScope,
    Gate,
    ListingComplete,
    PriorOutcome,
    Report,
    ScanError,
    ScanFilters,
    Severity,
    Status,
)
from auditor.policy import default_pack_path, load_packs
from auditor.reports.json import load_report, render_json, validate_report_document
from tests.reports.canned import ACCOUNT, POLICIES, WAIVER, fail, make_report, resource, verdict

P, F, S = Status.PASS, Status.FAIL, Status.SKIP
REGION = "us-east-1"


def _fleet(failing: dict[int, list[int]], skipping: dict[int, list[int]] | None = None) -> Report:
    """Versions 1..3 of distinct models, model n in membership m-n; ``failing`` maps model
    number to failing policy indexes (critical encryption-at-rest is 0, high no-public-output
    is 1), ``skipping`` to skipped ones."""
    verdicts = []
    for number in (1, 2, 3):
        where = resource(number)
        bad = failing.get(number, [])
        skipped = (skipping or {}).get(number, [])
        statuses = [F if i in bad else S if i in skipped else P for i in range(2)]
        verdicts.append(verdict(where, statuses, [fail(POLICIES[i], where) for i in bad]))
    return make_report(policies=POLICIES[:2], verdicts=tuple(verdicts), waivers=(), errors=())


def _listed(*numbers: int) -> tuple[ListingComplete, ...]:
    return tuple(ListingComplete(f"m-{n}", account=ACCOUNT, region=REGION) for n in numbers)


def _run(
    failing: dict[int, list[int]],
    *,
    read: tuple[int, ...] = (1, 2, 3),
    listed: tuple[int, ...] = (),
    errors: tuple[ScanError, ...] = (),
    **scan_changes: object,
) -> Report:
    """This run: the versions of ``read`` models (the others not read), the memberships
    ``listed`` in full, ``errors``, and any other scan fields."""
    report = _fleet(failing)
    verdicts = tuple(v for v in report.verdicts if int(v.resource.name[-1]) in read)
    scan = dataclasses.replace(report.scan, memberships_read=_listed(*listed), **scan_changes)
    return dataclasses.replace(report, verdicts=verdicts, errors=errors, scan=scan)


def _error(
    number: int, scope: ErrorScope, operation: str, code: str, **fields: object
) -> ScanError:
    return ScanError(
        scope=scope,
        operation=operation,
        code=code,
        message=f"{code} for model {number}",
        account=ACCOUNT,
        region=REGION,
        membership_id=f"m-{number}",
        **fields,  # type: ignore[arg-type]
    )


OLD = _fleet({1: [0], 2: [1]})
NEW = _fleet({1: [0], 3: [0, 1]})


def _states(report: Report) -> dict[tuple[str, str], BaselineState | None]:
    return {(r.policy_id, r.resource.name or ""): r.baseline for r in report.failures()}


def _outcomes(report: Report) -> dict[str, tuple[PriorOutcome, str]]:
    return {
        f"{item.policy_id}@{item.resource.name}": (item.outcome, item.reason)
        for item in report.prior_failures
    }


def test_failures_are_marked_new_or_unchanged_by_result_id() -> None:
    marked = apply_baseline(NEW, OLD, "old/report.json")
    assert _states(marked) == {
        ("encryption-at-rest", "model-1"): BaselineState.UNCHANGED,
        ("encryption-at-rest", "model-3"): BaselineState.NEW,
        ("no-public-output", "model-3"): BaselineState.NEW,
    }
    assert marked.baseline_path == "old/report.json"


def test_a_failure_read_again_and_passing_now_is_resolved() -> None:
    marked = apply_baseline(NEW, OLD, "old.json")
    assert _outcomes(marked) == {
        "no-public-output@model-2": (
            PriorOutcome.RESOLVED,
            "read in this run; the policy passes now",
        )
    }
    assert [item.severity for item in marked.prior_failures] == [Severity.HIGH]


def test_a_failure_whose_policy_skips_now_is_resolved() -> None:
    now = _fleet({}, skipping={2: [1]})
    marked = apply_baseline(now, OLD, "old.json")
    assert _outcomes(marked)["no-public-output@model-2"] == (
        PriorOutcome.RESOLVED,
        "read in this run; the policy is skipped now",
    )


def test_a_version_not_read_is_not_rechecked_when_no_membership_was_listed_in_full() -> None:
    # what every report written before memberships_read existed looks like
    marked = apply_baseline(_run({1: [0]}, read=(1, 3)), OLD, "old.json")
    outcome, reason = _outcomes(marked)["no-public-output@model-2"]
    assert outcome is PriorOutcome.NOT_RECHECKED
    assert "not listed in full" in reason


def test_a_version_its_fully_listed_membership_no_longer_lists_is_gone() -> None:
    marked = apply_baseline(_run({1: [0]}, read=(1, 3), listed=(1, 2, 3)), OLD, "old.json")
    assert _outcomes(marked)["no-public-output@model-2"] == (
        PriorOutcome.GONE,
        "no longer listed by membership m-2, which this run listed in full",
    )


def test_another_membership_listed_in_full_proves_nothing() -> None:
    marked = apply_baseline(_run({1: [0]}, read=(1, 3), listed=(1, 3)), OLD, "old.json")
    assert _outcomes(marked)["no-public-output@model-2"][0] is PriorOutcome.NOT_RECHECKED


def test_a_listing_in_another_region_or_account_proves_nothing() -> None:
    for listing in (
        ListingComplete("m-2", account=ACCOUNT, region="eu-west-1"),
        ListingComplete("m-2", account="999988887777", region=REGION),
    ):
        now = _run({1: [0]}, read=(1, 3))
        now = dataclasses.replace(
            now, scan=dataclasses.replace(now.scan, memberships_read=(listing,))
        )
        outcome, _ = _outcomes(apply_baseline(now, OLD, "old.json"))["no-public-output@model-2"]
        assert outcome is PriorOutcome.NOT_RECHECKED


@pytest.mark.parametrize(
    ("scope", "operation", "version"),
    [
        (ErrorScope.VERSION, "GetTrainedModel", "v1"),  # the version was deleted
        (ErrorScope.VERSION, "GetTrainedModel", None),  # --latest-only: the model was
        (ErrorScope.TRAINED_MODEL, "ListTrainedModelVersions", None),  # the model was
    ],
)
def test_resource_not_found_for_the_version_or_its_model_is_gone(
    scope: ErrorScope, operation: str, version: str | None
) -> None:
    error = _error(
        2,
        scope,
        operation,
        "ResourceNotFoundException",
        resource_arn=resource(2).arn,
        version_identifier=version,
    )
    marked = apply_baseline(_run({1: [0]}, read=(1, 3), errors=(error,)), OLD, "old.json")
    assert _outcomes(marked)["no-public-output@model-2"] == (
        PriorOutcome.GONE,
        f"{operation} answered ResourceNotFoundException",
    )


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "ScanDeadlineExceeded", "ThrottlingException"]
)
def test_a_version_that_errored_is_not_rechecked_even_in_a_fully_listed_membership(
    code: str,
) -> None:
    error = _error(
        2,
        ErrorScope.VERSION,
        "GetTrainedModel",
        code,
        resource_arn=resource(2).arn,
        version_identifier="v1",
    )
    now = _run({1: [0]}, read=(1, 3), listed=(1, 2, 3), errors=(error,))
    assert _outcomes(apply_baseline(now, OLD, "old.json"))["no-public-output@model-2"] == (
        PriorOutcome.NOT_RECHECKED,
        f"GetTrainedModel failed: {code}",
    )


def test_a_denied_membership_is_not_rechecked() -> None:
    denied = _error(2, ErrorScope.MEMBERSHIP, "ListTrainedModels", "AccessDeniedException")
    marked = apply_baseline(_run({1: [0]}, read=(1, 3), errors=(denied,)), OLD, "old.json")
    assert _outcomes(marked)["no-public-output@model-2"] == (
        PriorOutcome.NOT_RECHECKED,
        "membership m-2 not read: ListTrainedModels failed: AccessDeniedException",
    )


def test_a_region_or_account_that_could_not_be_read_is_not_rechecked() -> None:
    region_error = ScanError(
        scope=ErrorScope.ACCOUNT,
        operation="AssumeRole",
        code="AccessDenied",
        message="no",
        account=ACCOUNT,
        region=REGION,
    )
    marked = apply_baseline(_run({}, read=(), errors=(region_error,)), OLD, "old.json")
    assert {outcome for outcome, _ in _outcomes(marked).values()} == {PriorOutcome.NOT_RECHECKED}
    assert _outcomes(marked)["no-public-output@model-2"][1] == (
        f"account {ACCOUNT} region {REGION} not read: AssumeRole failed: AccessDenied"
    )


def test_an_interrupted_run_proves_nothing_gone_by_absence() -> None:
    now = _run({1: [0]}, read=(1, 3), listed=(1, 2, 3), interrupted=True)
    outcome, reason = _outcomes(apply_baseline(now, OLD, "old.json"))["no-public-output@model-2"]
    assert outcome is PriorOutcome.NOT_RECHECKED
    assert reason == "the run was interrupted before it was read"


def test_latest_only_leaves_an_older_version_of_a_listed_model_not_rechecked() -> None:
    older = resource(2, version="v0")
    old = make_report(
        policies=POLICIES[:2],
        verdicts=(
            verdict(older, [P, F], [fail(POLICIES[1], older)]),
            verdict(resource(3), [P, F], [fail(POLICIES[1], resource(3))]),
        ),
        errors=(),
    )
    # model 2's latest (v1) was read; model 3 is not listed any more
    now = _run({}, read=(1, 2), listed=(1, 2, 3), filters=ScanFilters(latest_only=True))
    outcomes = _outcomes(apply_baseline(now, old, "old.json"))
    assert outcomes["no-public-output@model-2"] == (
        PriorOutcome.NOT_RECHECKED,
        "--latest-only: this run read only the model's latest version",
    )
    assert outcomes["no-public-output@model-3"][0] is PriorOutcome.GONE


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        (ScanFilters(memberships=("m-1",)), "outside this run's scope (--membership)"),
        (ScanFilters(models=(resource(1).arn,)), "outside this run's scope (--model)"),
    ],
)
def test_a_narrower_scope_leaves_the_rest_not_rechecked(filters: ScanFilters, reason: str) -> None:
    now = _run({1: [0]}, read=(1,), listed=(1,), filters=filters)
    outcomes = _outcomes(apply_baseline(now, OLD, "old.json"))
    assert outcomes == {"no-public-output@model-2": (PriorOutcome.NOT_RECHECKED, reason)}


def test_another_region_or_shard_leaves_the_rest_not_rechecked() -> None:
    elsewhere = _run({}, read=(), regions=("eu-west-1",))
    reason = _outcomes(apply_baseline(elsewhere, OLD, "old.json"))["no-public-output@model-2"][1]
    assert reason == "region us-east-1 was not scanned in this run"
    shard = _run({}, read=(), shard="2/2")
    reason = _outcomes(apply_baseline(shard, OLD, "old.json"))["no-public-output@model-2"][1]
    assert reason == "not read by this shard (2/2)"


def test_a_policy_this_run_did_not_evaluate_is_not_rechecked() -> None:
    now = dataclasses.replace(
        _fleet({}),
        policies=POLICIES[:1],
        verdicts=tuple(verdict(resource(n), [P], []) for n in (1, 2, 3)),
    )
    outcomes = _outcomes(apply_baseline(now, OLD, "old.json"))
    assert outcomes["no-public-output@model-2"] == (
        PriorOutcome.NOT_RECHECKED,
        "this run's packs have no such policy",
    )
    assert outcomes["encryption-at-rest@model-1"][0] is PriorOutcome.RESOLVED


def _gated(report: Report, fail_on: Severity = Severity.HIGH, new_only: bool = True) -> bool:
    gated = dataclasses.replace(report, gate=Gate(fail_on=fail_on, new_only=new_only))
    return gated.summary().gate_passed


def test_gate_on_new_failures_only_ignores_unchanged_ones() -> None:
    only_old = apply_baseline(OLD, OLD, "old.json")
    assert not _gated(only_old, new_only=False)
    assert _gated(only_old)
    assert not _gated(apply_baseline(NEW, OLD, "old.json"))


def test_gate_on_new_failures_only_still_fails_on_a_failure_nobody_rechecked() -> None:
    # model 2's high failure was not read: not new, but not fixed either
    not_read = apply_baseline(_run({}, read=(1, 3)), OLD, "old.json")
    assert not _gated(not_read)
    assert _gated(not_read, fail_on=Severity.CRITICAL)  # below the gate's severity
    assert _gated(not_read, new_only=False)  # the gate on this run's failures is as before
    # the same failure gone or resolved does not hold the gate
    assert _gated(apply_baseline(_run({1: [0]}, read=(1, 3), listed=(2,)), OLD, "old.json"))
    assert _gated(apply_baseline(_run({1: [0]}), OLD, "old.json"))


def test_a_live_waiver_covers_a_not_rechecked_failure_and_an_expired_one_does_not() -> None:
    waiver = dataclasses.replace(WAIVER, policy="no-public-output")
    not_read = _run({1: [0]}, read=(1, 3))
    options = ReportOptions(
        gate=Gate(fail_on=Severity.HIGH, new_only=True),
        waivers=(waiver,),
        baseline=OLD,
        today=date(2026, 1, 1),
    )
    covered = finalize(not_read, options)
    assert [item.waiver for item in covered.prior_failures] == [waiver]
    assert covered.summary().gate_passed
    expired = finalize(not_read, dataclasses.replace(options, today=waiver.expires))
    assert [item.waiver for item in expired.prior_failures] == [None]
    assert not expired.summary().gate_passed


def test_baselined_report_round_trips_through_json() -> None:
    now = _run({1: [0]}, read=(1,), listed=(1, 3), errors=())
    marked = apply_baseline(now, _fleet({1: [0], 2: [1], 3: [0]}), "old.json")
    assert {item.outcome for item in marked.prior_failures} == {
        PriorOutcome.GONE,
        PriorOutcome.NOT_RECHECKED,
    }
    data = render_json(marked)
    document = json.loads(data)
    validate_report_document(document, "r.json")
    assert document["scan"]["memberships_read"] == [
        {"account": ACCOUNT, "region": REGION, "membership_id": "m-1"},
        {"account": ACCOUNT, "region": REGION, "membership_id": "m-3"},
    ]
    assert document["summary"]["baseline"] == {
        "new": 0,
        "unchanged": 1,
        "resolved": 0,
        "gone": 1,
        "not_rechecked": 1,
    }
    again = load_report(data, "r.json")
    assert again.prior_failures == marked.prior_failures
    assert again.scan.memberships_read == marked.scan.memberships_read
    assert render_json(again) == data


def test_a_baseline_read_back_from_json_marks_the_same_way() -> None:
    saved = load_report(render_json(OLD), "old.json")
    now = _run({1: [0]}, read=(1, 3), listed=(2,))
    assert _states(apply_baseline(NEW, saved, "old.json")) == _states(
        apply_baseline(NEW, OLD, "old.json")
    )
    assert _outcomes(apply_baseline(now, saved, "o")) == _outcomes(apply_baseline(now, OLD, "o"))


def test_an_older_report_loads_and_its_unproven_resolved_list_is_not_rechecked() -> None:
    document = json.loads(render_json(apply_baseline(NEW, OLD, "old.json")))
    del document["scan"]["memberships_read"]  # written before either field existed
    del document["summary"]["baseline"]
    del document["gone"], document["not_rechecked"]
    for item in document["resolved"]:
        del item["reason"], item["waiver"]
    validate_report_document(document, "older.json")
    older = load_report(json.dumps(document).encode(), "older.json")
    assert older.scan.memberships_read == ()
    [item] = older.prior_failures
    assert item.outcome is PriorOutcome.NOT_RECHECKED
    assert "older auditor" in item.reason
    # and as the new side of a diff it proves nothing gone
    gone_model = dataclasses.replace(older, verdicts=older.verdicts[:1])
    assert diff_reports(OLD, gone_model).gone == ()


def test_merge_keeps_every_shards_fully_listed_memberships_and_scope() -> None:
    first = _run({1: [0]}, read=(1,), listed=(1,), shard="1/2")
    second = _run({}, read=(3,), listed=(3,), shard="2/2", filters=ScanFilters(latest_only=True))
    merged = merge_reports(
        [("a.json", first), ("b.json", second)], ReportOptions(baseline=OLD, baseline_path="o")
    )
    assert merged.scan.memberships_read == _listed(1, 3)
    assert merged.scan.filters.latest_only
    assert _outcomes(merged)["no-public-output@model-2"][0] is PriorOutcome.NOT_RECHECKED
    listed_all = merge_reports(
        [
            ("a.json", first),
            (
                "b.json",
                dataclasses.replace(
                    second,
                    scan=dataclasses.replace(
                        second.scan, memberships_read=_listed(2, 3), filters=ScanFilters()
                    ),
                ),
            ),
        ],
        ReportOptions(baseline=OLD, baseline_path="o"),
    )
    assert _outcomes(listed_all)["no-public-output@model-2"][0] is PriorOutcome.GONE


def _three_ways() -> tuple[Report, Report]:
    """An old report failing on models 1-3 and 4 (membership m-4); in the new one model 1
    passes, model 2 is gone, model 3's membership was denied, model 4 still fails."""
    old = make_report(
        policies=POLICIES[:2],
        verdicts=tuple(
            verdict(resource(n), [P, F], [fail(POLICIES[1], resource(n))]) for n in (1, 2, 3, 4)
        ),
        errors=(),
    )
    denied = _error(3, ErrorScope.MEMBERSHIP, "ListTrainedModels", "AccessDeniedException")
    new = make_report(
        policies=POLICIES[:2],
        verdicts=(
            verdict(resource(1), [P, P], []),
            verdict(resource(4), [P, F], [fail(POLICIES[1], resource(4))]),
            verdict(resource(5), [F, P], [fail(POLICIES[0], resource(5))]),
        ),
        errors=(denied,),
    )
    scan = dataclasses.replace(new.scan, memberships_read=_listed(1, 2, 4, 5))
    return old, dataclasses.replace(new, scan=scan)


def test_diff_sorts_the_old_failures_into_resolved_gone_and_not_rechecked() -> None:
    diff = diff_reports(*_three_ways())
    assert [(r.policy_id, r.resource.name) for r in diff.new] == [("encryption-at-rest", "model-5")]
    assert [r.resource.name for r in diff.unchanged] == ["model-4"]
    assert [r.resource.name for r in diff.resolved] == ["model-1"]
    assert [r.resource.name for r in diff.gone] == ["model-2"]
    assert [r.resource.name for r in diff.not_rechecked] == ["model-3"]
    assert diff.changed
    old = _three_ways()[0]
    assert not diff_reports(old, old).changed


def test_diff_text_shows_all_three_with_counts_most_severe_first() -> None:
    text = render_diff_text(diff_reports(*_three_ways()))
    assert text.startswith("1 new, 1 resolved, 1 gone, 1 not re-checked, 1 unchanged failures\n")
    sections = {
        heading.split(" ")[0]: body
        for heading, body in (part.split("\n", 1) for part in text.split("\n\n")[1:])
    }
    assert "tm-5@v1" in sections["New"]
    assert "tm-1@v1" in sections["Resolved"]
    assert "passes now" in sections["Resolved"]
    assert "tm-2@v1" in sections["Gone"]
    assert "no longer listed" in sections["Gone"]
    assert "tm-3@v1" in sections["Not"]
    assert "AccessDeniedException" in sections["Not"]


def test_diff_json_lists_each_kind_with_its_reason() -> None:
    document = diff_json(diff_reports(*_three_ways()))
    assert {key: len(items) for key, items in document.items()} == {
        "new": 1,
        "resolved": 1,
        "gone": 1,
        "not_rechecked": 1,
        "unchanged": 1,
    }
    assert document["not_rechecked"][0]["reason"].endswith("AccessDeniedException")


def test_diff_text_neutralises_terminal_escapes() -> None:
    evil = dataclasses.replace(resource(3), arn="arn:\x1b[31mred\x1b[0m")
    report = make_report(
        policies=POLICIES[:1], verdicts=(verdict(evil, [F], [fail(POLICIES[0], evil)]),)
    )
    text = render_diff_text(diff_reports(OLD, report))
    text += render_diff_text(diff_reports(report, OLD))
    assert "\x1b" not in text


def test_the_builder_records_memberships_listed_in_full_unless_interrupted() -> None:
    builder = ReportBuilder(load_packs([default_pack_path()], {}), mode="scan")
    for item in (*_listed(3, 1), *_listed(1)):  # the same membership twice is kept once
        builder.add(item)
    assert builder.build(ReportOptions()).scan.memberships_read == _listed(1, 3)
    interrupted = builder.build(ReportOptions(), interrupted=True)
    assert interrupted.scan.memberships_read == ()


def test_a_gone_or_not_rechecked_entry_without_its_reason_is_refused() -> None:
    now = _run({1: [0]}, read=(1,), listed=(1, 3))
    document = json.loads(render_json(apply_baseline(now, OLD, "old.json")))
    assert document["not_rechecked"]
    del document["not_rechecked"][0]["reason"]
    with pytest.raises(ReportInputError, match=r"not_rechecked/0.*reason"):
        validate_report_document(document, "edited.json")
