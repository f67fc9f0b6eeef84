from __future__ import annotations

from dataclasses import replace

from auditor.models import (
    PolicyInfo,
    Report,
    Resource,
    Result,
    ScanInfo,
    Severity,
    Status,
    VersionVerdict,
    encode_statuses,
    fingerprint,
)

POLICIES = (
    PolicyInfo(id="a", title="A", severity=Severity.HIGH, pack_id="p"),
    PolicyInfo(id="b", title="B", severity=Severity.LOW, pack_id="p"),
    PolicyInfo(id="c", title="C", severity=Severity.MEDIUM, pack_id="p"),
)


def _report() -> Report:
    resource = Resource(
        arn="arn:aws:cleanrooms-ml:us-east-1:111122223333:x", version_identifier="v1"
    )
    failure = Result(policy=POLICIES[1], resource=resource, status=Status.FAIL)
    verdict = VersionVerdict(
        resource=resource,
        statuses=encode_statuses([Status.PASS, Status.FAIL, Status.SKIP]),
        failures=(failure,),
    )
    scan = ScanInfo(started_at="t0", finished_at="t1", complete=True)
    return Report(tool_version="0", scan=scan, policies=POLICIES, verdicts=(verdict,))


def test_verdict_materialises_one_result_per_policy_in_order() -> None:
    results = list(_report().results())
    assert [(r.policy_id, r.status) for r in results] == [
        ("a", Status.PASS),
        ("b", Status.FAIL),
        ("c", Status.SKIP),
    ]


def test_summary_counts_and_gate_below_threshold_passes() -> None:
    summary = _report().summary()
    assert (summary.passed, summary.failed, summary.skipped) == (1, 1, 1)
    assert summary.fail_by_severity[Severity.LOW] == 1
    assert summary.gate_passed  # the only failure is low, the gate is high


def test_fingerprint_is_stable_and_distinguishes_versions() -> None:
    assert fingerprint("p", "arn", "v1") == fingerprint("p", "arn", "v1")
    assert fingerprint("p", "arn", "v1") != fingerprint("p", "arn", "v2")


def test_a_report_repr_stays_short_however_many_verdicts() -> None:
    one = _report()
    many = replace(one, verdicts=one.verdicts * 10_000)
    text = repr(many)
    assert len(text) < 200
    assert "versions=10000" in text
    assert len(repr(one)) == len(text) - 4


def test_bulk_result_ids_are_the_fingerprint() -> None:
    from auditor.models import ResultIds, fingerprint, version_material

    policy_ids = ["required-tags", "a\x1fb", ""]
    ids = ResultIds(policy_ids)
    for arn, version in [("arn:x", "v1"), ("arn:x", None), ("arn:\u202e", ""), ("", "v")]:
        material = version_material(arn, version)
        for index, policy_id in enumerate(policy_ids):
            expected = fingerprint(policy_id, arn, version)
            assert ids.of(index, material) == expected
            assert ids.ascii_of(index, material) == expected.encode("ascii")
    assert fingerprint("p", "arn", "v") != fingerprint("p", "arn", "w")
