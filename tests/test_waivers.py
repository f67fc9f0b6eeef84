from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from auditor.errors import WaiverFileError
from auditor.models import Report, Waiver
from auditor.waivers import apply_waivers, load_waivers, parse_waivers
from tests.reports.canned import POLICIES, make_report, resource

TODAY = date(2026, 6, 1)
ARN_GLOB = "arn:aws:cleanrooms-ml:*:111122223333:membership/*/trained-model/*"


def _unwaived() -> Report:
    """The canned report with its waiver removed again."""
    report = make_report(waivers=())
    verdicts = tuple(
        dataclasses.replace(
            v, failures=tuple(dataclasses.replace(r, waiver=None) for r in v.failures)
        )
        for v in report.verdicts
    )
    return dataclasses.replace(report, verdicts=verdicts)


def waiver(policy: str = "required-tags", **changes: object) -> Waiver:
    fields: dict[str, object] = {
        "policy": policy,
        "resource": ARN_GLOB,
        "version": "*",
        "reason": "legacy",
        "expires": date(2027, 1, 31),
        "approved_by": "security@example.com",
    }
    fields.update(changes)
    return Waiver(**fields)  # type: ignore[arg-type]


def _waived(report: Report) -> list[tuple[str, str | None]]:
    return [
        (r.policy_id, r.resource.version_identifier)
        for r in report.failures()
        if r.waiver is not None
    ]


def test_file_with_every_field_loads(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "version: 1\n"
        "waivers:\n"
        "  - policy: required-tags\n"
        f'    resource: "{ARN_GLOB}"\n'
        '    version: "v*"\n'
        "    reason: Legacy models, deleted in Q1\n"
        "    expires: 2027-01-31\n"
        "    approved_by: security@example.com\n"
        "  - policy: '*'\n"
        "    resource: '*'\n"
        "    reason: r\n"
        "    expires: 2026-01-01\n"
        "    approved_by: me\n"
    )
    first, second = load_waivers(path)
    assert first == Waiver(
        policy="required-tags",
        resource=ARN_GLOB,
        version="v*",
        reason="Legacy models, deleted in Q1",
        expires=date(2027, 1, 31),
        approved_by="security@example.com",
        index=0,
    )
    assert (second.version, second.index) == ("*", 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 2\nwaivers: []\n", "version"),
        ("waivers: []\n", "'version' is a required property"),
        (
            "version: 1\nwaivers:\n  - policy: p\n    resource: r\n    reason: x\n    approved_by: a\n",
            "waivers[0]: 'expires' is a required",
        ),
        (
            "version: 1\nwaivers:\n  - {policy: p, resource: r, reason: x, approved_by: a, expires: soon}\n",
            "waivers[0].expires",
        ),
        (
            "version: 1\nwaivers:\n  - {policy: p, resource: r, reason: x, approved_by: a, expires: 2027-02-30}\n",
            "waivers[0].expires",
        ),
        (
            "version: 1\nwaivers:\n  - {policy: p, resource: r, reason: x, approved_by: a, expires: 2027-01-01, colour: red}\n",
            "waivers[0]: Additional properties",
        ),
        (
            "version: 1\nwaivers:\n  - {policy: p, resource: r, reason: '', approved_by: a, expires: 2027-01-01}\n",
            "waivers[0].reason",
        ),
        ("version: 1\nwaivers: [\n", "invalid YAML"),
        ("", "(top level)"),
        ("- just\n- a list\n", "(top level)"),
        ("version: 1\nwaivers: !!python/object/apply:os.system ['true']\n", "waivers"),
    ],
)
def test_invalid_files_name_file_index_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(WaiverFileError) as caught:
        load_waivers(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_is_a_waiver_file_error(tmp_path: Path) -> None:
    with pytest.raises(WaiverFileError, match="no such file"):
        load_waivers(tmp_path / "absent.yaml")


def test_matching_failures_get_the_waiver_and_stop_gating() -> None:
    report = apply_waivers(_unwaived(), [waiver()], TODAY)
    assert _waived(report) == [("required-tags", "v1"), ("required-tags", "v2")]
    assert report.summary().waived == 2
    assert report.waivers[0].matched == 2
    assert not report.waivers[0].expired


def test_policy_glob_arn_glob_and_version_glob_all_must_match() -> None:
    report = _unwaived()
    assert _waived(apply_waivers(report, [waiver("required-*")], TODAY)) == [
        ("required-tags", "v1"),
        ("required-tags", "v2"),
    ]
    assert _waived(apply_waivers(report, [waiver(version="v2")], TODAY)) == [
        ("required-tags", "v2")
    ]
    only_m2 = waiver("*", resource="*membership/m-2/*")
    assert _waived(apply_waivers(report, [only_m2], TODAY)) == [("no-public-output", "v1")]
    assert _waived(apply_waivers(report, [waiver("Required-Tags")], TODAY)) == []
    assert _waived(apply_waivers(report, [waiver(resource="arn:aws:other:*")], TODAY)) == []


def test_expired_waiver_applies_from_the_day_of_expiry() -> None:
    report = _unwaived()
    expiring = waiver(expires=TODAY)
    on_the_day = apply_waivers(report, [expiring], TODAY)
    assert _waived(on_the_day) == []
    assert on_the_day.waivers[0].expired
    day_before = apply_waivers(report, [expiring], date(2026, 5, 31))
    assert len(_waived(day_before)) == 2
    assert not day_before.waivers[0].expired


def test_unmatched_waivers_are_reported_with_zero_matches() -> None:
    report = apply_waivers(_unwaived(), [waiver("nothing-*"), waiver()], TODAY)
    assert [(use.waiver.policy, use.matched) for use in report.waivers] == [
        ("nothing-*", 0),
        ("required-tags", 2),
    ]


def test_first_matching_waiver_wins_and_passes_are_untouched() -> None:
    first, second = waiver(reason="first"), waiver("*", reason="second")
    report = apply_waivers(_unwaived(), [first, second], TODAY)
    reasons = {(r.policy_id, r.waiver.reason) for r in report.failures() if r.waiver}
    assert ("required-tags", "first") in reasons
    assert ("encryption-at-rest", "second") in reasons
    assert [(u.matched) for u in report.waivers] == [2, 5]
    assert sum(1 for r in report.results() if r.waiver is not None) == 7


def test_waiving_every_gating_failure_passes_the_gate() -> None:
    report = _unwaived()
    assert not report.summary().gate_passed
    covered = apply_waivers(
        report, [waiver("encryption-at-rest"), waiver("no-public-output")], TODAY
    )
    assert covered.summary().gate_passed


def test_version_glob_matches_an_absent_version_as_empty() -> None:
    bare = dataclasses.replace(resource(1), version_identifier=None)
    assert bare.version_identifier is None
    from auditor.models import Status
    from tests.reports.canned import fail, verdict

    report = make_report(
        policies=POLICIES[:1],
        verdicts=(verdict(bare, [Status.FAIL], [fail(POLICIES[0], bare)]),),
        waivers=(),
    )
    assert len(_waived(apply_waivers(report, [waiver("*")], TODAY))) == 1
    assert len(_waived(apply_waivers(report, [waiver("*", version="v*")], TODAY))) == 0


def test_parse_waivers_names_the_source() -> None:
    with pytest.raises(WaiverFileError, match="inline"):
        parse_waivers("version: 3\nwaivers: []", "inline")
