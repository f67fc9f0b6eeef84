"""`--baseline`, `--fail-on-new-only` and `auditor diff` on real scans: the real SDK against the
emulator, the fleet changed between the baseline run and this one.

Only a version this run read and found passing is resolved; a deleted one is gone; one this
run did not read (denied, errored, timed out, out of a narrowed scope) is not re-checked.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind, RateLimit
from auditor.fleet import Fleet, FleetModel, FleetVersion, generate_fleet
from auditor.reports.json import validate_report_document
from tests.sdk_env import point_sdk_at

# Membership A (index 0) has, in model order: one failing version; one failing version; two
# failing versions; two passing; one passing; a passing then a failing version.
# Membership B (index 1) has failures in several models, one of them an older version.
FLEET = generate_fleet(
    seed=31, memberships=2, models=12, versions_per_model=(1, 2), noncompliant_share=0.5
)
A, B = (m.id for m in FLEET.memberships)
GATED = ("critical", "high", "medium")  # at or above --fail-on medium
MODELS_A = FLEET.models_of(A)


@contextmanager
def serving(fleet: Fleet, config: EmulatorConfig | None = None) -> Iterator[EmulatorServer]:
    with EmulatorServer(fleet, config) as server, pytest.MonkeyPatch.context() as env:
        point_sdk_at(env, server.endpoint_url)
        yield server


def scan(out: Path, *argv: str, formats: str = "json") -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--quiet", "--format", formats, "--output-dir", str(out), *argv])
    document: dict[str, Any] = json.loads((out / "report.json").read_text())
    validate_report_document(document, "report.json")
    return code, document


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baseline")
    with serving(FLEET):
        code, document = scan(out)
    assert code == 1
    assert document["scan"]["complete"]
    assert sorted(m["membership_id"] for m in document["scan"]["memberships_read"]) == sorted(
        (A, B)
    )
    return out / "report.json"


def failing(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Failure id -> (model ARN, version) of a report.json."""
    return {
        r["id"]: (r["resource"]["arn"], r["resource"]["version_identifier"])
        for r in document["results"]
        if r["status"] == "fail"
    }


def listed(document: dict[str, Any], key: str) -> dict[str, tuple[str, str]]:
    return {
        item["id"]: (item["resource"]["arn"], item["resource"]["version_identifier"])
        for item in document[key]
    }


def reasons(document: dict[str, Any], key: str) -> set[str]:
    return {item["reason"] for item in document[key]}


def baseline_failures(baseline: Path) -> dict[str, tuple[str, str]]:
    return failing(json.loads(baseline.read_text()))


def of(failures: dict[str, tuple[str, str]], *versions: tuple[str, str]) -> set[str]:
    return {key for key, where in failures.items() if where in versions}


def in_membership(failures: dict[str, tuple[str, str]], membership: str) -> set[str]:
    return {key for key, (arn, _) in failures.items() if f"membership/{membership}/" in arn}


def key(model: FleetModel, index: int) -> tuple[str, str]:
    return (model.arn, model.versions[index].version_identifier)


def compliant_as(model: FleetModel, index: int) -> FleetVersion:
    """``model``'s version ``index``, its document now a compliant one of the same membership."""
    compliant = next(v for m in MODELS_A for v in m.versions if not v.violations)
    target = model.versions[index].document
    document = {
        **compliant.document,
        **{k: target[k] for k in ("trainedModelArn", "versionIdentifier", "name")},
    }
    return FleetVersion(document=document)


def changed_fleet() -> tuple[Fleet, EmulatorConfig, dict[str, set[tuple[str, str]]]]:
    """Membership A: model 0 fixed, model 1 deleted, model 2's older version deleted, model 5
    vanishing (listed, then not found); membership B denied."""
    fixed, deleted, trimmed, vanishing = MODELS_A[0], MODELS_A[1], MODELS_A[2], MODELS_A[5]
    assert [len(m.versions) for m in (fixed, deleted, trimmed, vanishing)] == [1, 1, 2, 2]
    models = []
    for model in FLEET.models:
        if model is fixed:
            model = dataclasses.replace(model, versions=(compliant_as(model, 0),))
        elif model is trimmed:
            model = dataclasses.replace(model, versions=model.versions[1:])
        if model is not deleted:
            models.append(model)
    config = EmulatorConfig(
        vanish_models=frozenset({vanishing.arn}), deny_memberships=frozenset({B})
    )
    expected = {
        "resolved": {key(fixed, 0)},
        "gone": {key(deleted, 0), key(trimmed, 0), key(vanishing, 1)},
        "unchanged": {key(trimmed, 1)},
    }
    return dataclasses.replace(FLEET, models=tuple(models)), config, expected


def test_a_rescan_sorts_the_baseline_failures_into_resolved_gone_and_not_rechecked(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = baseline_failures(baseline)
    fleet, config, expected = changed_fleet()
    out = tmp_path / "now"
    with serving(fleet, config):
        code, document = scan(out, "--baseline", str(baseline), formats="json,html,markdown")
    assert code == 3  # membership B was denied: incomplete wins
    resolved, gone = listed(document, "resolved"), listed(document, "gone")
    not_rechecked = listed(document, "not_rechecked")
    assert set(resolved) == of(before, *expected["resolved"])
    assert set(gone) == of(before, *expected["gone"])
    assert set(not_rechecked) == in_membership(before, B)  # denied: nothing of it was read
    assert resolved
    assert gone
    assert not_rechecked
    unchanged = {r["id"] for r in document["results"] if r.get("baseline") == "unchanged"}
    assert unchanged == of(before, *expected["unchanged"])
    # every baseline failure is accounted for exactly once
    assert sorted([*resolved, *gone, *not_rechecked, *unchanged]) == sorted(before)
    assert reasons(document, "resolved") == {"read in this run; the policy passes now"}
    assert reasons(document, "gone") == {
        f"no longer listed by membership {A}, which this run listed in full",
        "GetTrainedModel answered ResourceNotFoundException",
    }
    assert reasons(document, "not_rechecked") == {
        f"membership {B} not read: ListTrainedModels failed: AccessDeniedException"
    }
    assert document["summary"]["baseline"] == {
        "new": 0,
        "unchanged": len(unchanged),
        "resolved": len(resolved),
        "gone": len(gone),
        "not_rechecked": len(not_rechecked),
    }
    assert [m["membership_id"] for m in document["scan"]["memberships_read"]] == [A]

    markdown = (out / "report.md").read_text()
    section = markdown.split("### Compared with the baseline")[1]
    assert (
        f"| 0 | {len(unchanged)} | {len(resolved)} | {len(gone)} | {len(not_rechecked)} |"
        in section
    )
    rows = [line for line in section.splitlines() if line.startswith("| not re-checked")]
    assert len(rows) == len(not_rechecked)
    assert sum(line.startswith("| gone") for line in section.splitlines()) == len(gone)
    assert sum(line.startswith("| resolved") for line in section.splitlines()) == len(resolved)

    html = (out / "report.html").read_text()
    counts = html.split('id="baseline-counts">')[1].split("</dl>")[0]
    assert f"<dt>Gone</dt><dd>{len(gone)}</dd>" in counts
    assert f"<dt>Not re-checked</dt><dd>{len(not_rechecked)}</dd>" in counts
    assert f"<dt>Resolved</dt><dd>{len(resolved)}</dd>" in counts
    table = html.split('id="prior-table">')[1].split("</table>")[0]
    assert table.count(">not re-checked</span>") == len(not_rechecked)
    assert table.count(">gone</span>") == len(gone)
    assert table.count(">resolved</span>") == len(resolved)

    capsys.readouterr()
    assert main(["diff", str(baseline), str(out / "report.json")]) == 0  # nothing new
    text = capsys.readouterr().out
    assert text.startswith(
        f"0 new, {len(resolved)} resolved, {len(gone)} gone, "
        f"{len(not_rechecked)} not re-checked, {len(unchanged)} unchanged failures\n"
    )
    sections = {part.split("\n")[0]: part for part in text.split("\n\n")[1:]}
    headings = [heading.split(" ")[0] for heading in sections]
    assert headings == ["Resolved", "Gone", "Not"]
    for heading, ids in (
        ("Resolved", resolved),
        ("Gone", gone),
        ("Not", not_rechecked),
    ):
        part = next(body for title, body in sections.items() if title.startswith(heading))
        assert len(part.splitlines()) - 1 == len(ids)
        for arn, version in ids.values():
            assert f"{arn}@{version}" in part


def test_a_baseline_failure_of_a_denied_membership_still_fails_a_gate_on_new_failures(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gate = ["--baseline", str(baseline), "--fail-on-new-only", "--fail-on", "medium"]
    with serving(FLEET):
        code, document = scan(tmp_path / "same", *gate)
    assert code == 0  # nothing new, nothing left unread
    assert document["not_rechecked"] == []
    capsys.readouterr()
    with serving(FLEET, EmulatorConfig(deny_memberships=frozenset({B}))):
        code, document = scan(
            tmp_path / "denied", *gate, "--allow-incomplete", formats="json,html,markdown"
        )
    assert code == 1
    assert document["summary"]["gate"] == {"fail_on": "medium", "passed": False, "new_only": True}
    assert not any(r.get("baseline") == "new" for r in document["results"])
    assert len(document["not_rechecked"]) == len(in_membership(baseline_failures(baseline), B))
    held = sum(1 for item in document["not_rechecked"] if item["severity"] in GATED)
    assert held
    assert capsys.readouterr().err.startswith(
        "INCOMPLETE (FAIL: 0 unwaived new failures at or above medium "
        f"and {held} from the baseline not re-checked); "
    )
    markdown = (tmp_path / "denied" / "report.md").read_text()
    assert "and baseline failures this run did not re-check" in markdown.split("\n\n")[1]
    assert f"{held} not re-checked failure(s) count against this gate." in markdown
    html = (tmp_path / "denied" / "report.html").read_text()
    banner = html.split('id="not-rechecked-gate">')[1].split("</p>")[0]
    assert banner.startswith(f"{held} baseline failure(s) at or above <strong>medium</strong>")


def test_a_narrower_membership_scope_leaves_the_rest_not_rechecked_and_gated(
    baseline: Path, tmp_path: Path
) -> None:
    before = baseline_failures(baseline)
    with serving(FLEET):
        code, document = scan(
            tmp_path, "--membership", A, "--baseline", str(baseline), "--fail-on-new-only"
        )
    assert set(listed(document, "not_rechecked")) == in_membership(before, B)
    assert reasons(document, "not_rechecked") == {"outside this run's scope (--membership)"}
    assert document["resolved"] == document["gone"] == []
    assert code == 1  # B's failures were not re-checked: the gate on new failures holds them


def test_latest_only_leaves_older_failing_versions_not_rechecked_never_gone(
    baseline: Path, tmp_path: Path
) -> None:
    before = baseline_failures(baseline)
    older = {key(m, i) for m in FLEET.models for i in range(len(m.versions) - 1)}
    assert of(before, *older), "the fleet was meant to have failing older versions"
    with serving(FLEET):
        _, document = scan(tmp_path, "--latest-only", "--baseline", str(baseline))
    assert set(listed(document, "not_rechecked")) == of(before, *older)
    assert reasons(document, "not_rechecked") == {
        "--latest-only: this run read only the model's latest version"
    }
    assert document["resolved"] == document["gone"] == []


def test_a_timed_out_rescan_calls_nothing_resolved_or_gone(baseline: Path, tmp_path: Path) -> None:
    before = baseline_failures(baseline)
    slow = EmulatorConfig(rate_limit=RateLimit(rate=6, burst=1))
    with serving(FLEET, slow):
        code, document = scan(tmp_path, "--timeout", "1.5", "--baseline", str(baseline))
    assert code == 3
    assert document["scan"]["unreached"][0].startswith("--timeout 1.5s reached")
    not_rechecked = listed(document, "not_rechecked")
    unchanged = {r["id"] for r in document["results"] if r.get("baseline") == "unchanged"}
    assert not_rechecked, "the timeout was meant to leave some failures unread"
    assert document["resolved"] == document["gone"] == []
    assert sorted([*not_rechecked, *unchanged]) == sorted(before)
    assert all("ScanDeadlineExceeded" in reason for reason in reasons(document, "not_rechecked"))


def test_a_version_that_errored_is_not_rechecked_though_its_membership_was_listed(
    baseline: Path, tmp_path: Path
) -> None:
    before = baseline_failures(baseline)
    broken = key(MODELS_A[0], 0)
    assert of(before, broken)
    fault = Fault(FaultKind.NOT_JSON)
    with serving(FLEET, EmulatorConfig(faults={f"{broken[0]}#{broken[1]}": fault})):
        code, document = scan(tmp_path, "--baseline", str(baseline))
    assert code == 3
    assert A in [m["membership_id"] for m in document["scan"]["memberships_read"]]
    assert set(listed(document, "not_rechecked")) == of(before, broken)
    [reason] = reasons(document, "not_rechecked")
    assert reason.startswith("GetTrainedModel failed: ")
    assert document["resolved"] == document["gone"] == []
