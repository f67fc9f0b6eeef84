from __future__ import annotations

import dataclasses

from auditor.baseline import apply_baseline, diff_reports, render_diff_text
from auditor.models import BaselineState, Gate, Report, Severity, Status
from auditor.reports.json import render_json
from auditor.reports.load import load_report
from tests.reports.canned import POLICIES, fail, make_report, resource, verdict

P, F = Status.PASS, Status.FAIL


def _fleet(failing: dict[int, list[int]]) -> Report:
    """Versions 1..3 of distinct models; ``failing`` maps model number to failing policy indexes
    (critical encryption-at-rest is 0, high no-public-output is 1)."""
    verdicts = []
    for number in (1, 2, 3):
        where = resource(number)
        bad = failing.get(number, [])
        statuses = [F if index in bad else P for index in range(2)]
        verdicts.append(verdict(where, statuses, [fail(POLICIES[i], where) for i in bad]))
    return make_report(policies=POLICIES[:2], verdicts=tuple(verdicts), waivers=(), errors=())


OLD = _fleet({1: [0], 2: [1]})
NEW = _fleet({1: [0], 3: [0, 1]})


def _states(report: Report) -> dict[tuple[str, str], BaselineState | None]:
    return {(r.policy_id, r.resource.name or ""): r.baseline for r in report.failures()}


def test_failures_are_marked_new_or_unchanged_by_result_id() -> None:
    marked = apply_baseline(NEW, OLD, "old/report.json")
    assert _states(marked) == {
        ("encryption-at-rest", "model-1"): BaselineState.UNCHANGED,
        ("encryption-at-rest", "model-3"): BaselineState.NEW,
        ("no-public-output", "model-3"): BaselineState.NEW,
    }
    assert marked.baseline_path == "old/report.json"


def test_failures_gone_since_the_baseline_are_resolved() -> None:
    marked = apply_baseline(NEW, OLD, "old.json")
    assert [(item.policy_id, item.resource.name, item.severity) for item in marked.resolved] == [
        ("no-public-output", "model-2", Severity.HIGH)
    ]


def test_gate_on_new_failures_only_ignores_unchanged_ones() -> None:
    only_old = apply_baseline(OLD, OLD, "old.json")
    assert not only_old.summary().gate_passed
    new_only = dataclasses.replace(only_old, gate=Gate(fail_on=Severity.HIGH, new_only=True))
    assert new_only.summary().gate_passed
    worse = dataclasses.replace(apply_baseline(NEW, OLD, "old.json"), gate=new_only.gate)
    assert not worse.summary().gate_passed


def test_a_baseline_read_back_from_json_marks_the_same_way() -> None:
    saved = load_report(render_json(OLD), "old.json")
    assert _states(apply_baseline(NEW, saved, "old.json")) == _states(
        apply_baseline(NEW, OLD, "old.json")
    )


def test_baselined_report_round_trips_through_json() -> None:
    marked = apply_baseline(NEW, OLD, "old.json")
    data = render_json(marked)
    again = load_report(data, "r.json")
    assert again.resolved == marked.resolved
    assert render_json(again) == data


def test_diff_lists_new_resolved_and_unchanged() -> None:
    diff = diff_reports(OLD, NEW)
    assert sorted((r.policy_id, r.resource.name) for r in diff.new) == [
        ("encryption-at-rest", "model-3"),
        ("no-public-output", "model-3"),
    ]
    assert [(r.policy_id, r.resource.name) for r in diff.resolved] == [
        ("no-public-output", "model-2")
    ]
    assert [(r.policy_id, r.resource.name) for r in diff.unchanged] == [
        ("encryption-at-rest", "model-1")
    ]
    assert diff.changed
    assert not diff_reports(OLD, OLD).changed


def test_diff_text_is_most_severe_first_and_plain() -> None:
    text = render_diff_text(diff_reports(OLD, NEW))
    assert text.startswith("2 new, 1 resolved, 1 unchanged failures\n")
    new_part = text.split("New failures:")[1].split("Resolved failures:")[0]
    assert new_part.index("critical") < new_part.index("high")
    assert "tm-3@v1" in new_part
    assert "no-public-output" in text.split("Resolved failures:")[1]


def test_diff_text_neutralises_terminal_escapes() -> None:
    evil = dataclasses.replace(resource(3), arn="arn:\x1b[31mred\x1b[0m")
    report = make_report(
        policies=POLICIES[:1], verdicts=(verdict(evil, [F], [fail(POLICIES[0], evil)]),)
    )
    text = render_diff_text(diff_reports(OLD, report))
    assert "\x1b" not in text
