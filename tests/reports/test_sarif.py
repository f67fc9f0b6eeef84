"""report.sarif as GitHub code scanning takes it: the OASIS SARIF 2.1.0 schema, and GitHub's
documented rules for locations, fingerprints, severities and upload limits ("SARIF support for
code scanning", "SARIF results exceed limits", "SARIF file is too large")."""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.cli import write_reports
from auditor.models import PackRef, PolicyInfo, Report, Severity, Status, fingerprint
from auditor.policy import default_pack_path, load_packs
from auditor.reports import Format
from auditor.reports import sarif as sarif_module
from auditor.reports.json import render_json
from auditor.reports.load import load_report
from auditor.reports.sarif import SarifLimits, render_sarif, repository_path
from tests.reports.canned import POLICIES, fail, load_sarif_schema, make_report, resource, verdict

# GitHub's documented hard limits.
GITHUB_MAX_RESULTS_PER_RUN = 25_000
GITHUB_MAX_RUNS = 20
GITHUB_MAX_GZIP_BYTES = 10 * 1000 * 1000
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

LINES = {"encryption-at-rest": 12, "no-public-output": 30, "required-tags": 47}
LINED_POLICIES = tuple(
    dataclasses.replace(policy, line=LINES.get(policy.id)) for policy in POLICIES
)


def _lined_report(**changes: Any) -> Report:
    """The canned report with policy lines, its policies' results re-pointed at them."""
    report = make_report()
    by_id = {policy.id: policy for policy in LINED_POLICIES}
    verdicts = tuple(
        dataclasses.replace(
            item,
            failures=tuple(
                dataclasses.replace(result, policy=by_id[result.policy_id])
                for result in item.failures
            ),
        )
        for item in report.verdicts
    )
    return dataclasses.replace(report, policies=LINED_POLICIES, verdicts=verdicts, **changes)


def _with_pack_path(report: Report, path: str) -> Report:
    pack = dataclasses.replace(report.scan.packs[0], path=path)
    return dataclasses.replace(report, scan=dataclasses.replace(report.scan, packs=(pack,)))


def _sarif(report: Report, **options: Any) -> dict[str, Any]:
    return json.loads(render_sarif(report, **options))  # type: ignore[no-any-return]


def _validate(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(load_sarif_schema()).validate(log)


def assert_github_accepts(log: dict[str, Any]) -> None:
    """GitHub's rules for a SARIF upload, as documented."""
    assert log["version"] == "2.1.0"
    runs = log["runs"]
    assert 1 <= len(runs) <= GITHUB_MAX_RUNS
    categories = [run.get("automationDetails", {}).get("id") for run in runs]
    assert len(set(categories)) == len(categories), "runs must differ in automationDetails.id"
    for run in runs:
        assert len(run["results"]) <= GITHUB_MAX_RESULTS_PER_RUN
        rules = run["tool"]["driver"]["rules"]
        for rule in rules:
            assert len(rule["properties"]["tags"]) <= 20
            assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
        bases = run.get("originalUriBaseIds", {})
        for base in bases.values():
            assert SCHEME.match(base["uri"])
            assert base["uri"].endswith("/")
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert 1 <= len(result["locations"]) <= 1000
            physical = result["locations"][0]["physicalLocation"]
            uri = physical["artifactLocation"]["uri"]
            assert uri, "code scanning needs a non-empty artifactLocation.uri"
            assert not SCHEME.match(uri), uri
            assert not uri.startswith("/"), uri
            assert "\\" not in uri, uri
            assert ".." not in uri.split("/"), uri
            base_id = physical["artifactLocation"].get("uriBaseId")
            assert base_id is None or base_id in bases
            assert isinstance(physical["region"]["startLine"], int)
            assert physical["region"]["startLine"] >= 1
            assert result["partialFingerprints"]["primaryLocationLineHash"]


def test_sarif_is_schema_valid_and_github_shaped(
    report: Report, baselined_report: Report, hostile_report: Report
) -> None:
    for each in (report, baselined_report, hostile_report, _lined_report()):
        log = _sarif(each)
        _validate(log)
        assert_github_accepts(log)


def test_each_result_points_at_its_policy_line_in_the_pack(tmp_path: Path) -> None:
    log = _sarif(_lined_report())
    for result in log["runs"][0]["results"]:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] == LINES.get(result["ruleId"], 1)


def test_the_shipped_packs_policy_lines_reach_the_sarif_through_report_json() -> None:
    pack = default_pack_path()
    policy_set = load_packs([pack])
    text = pack.read_text("utf-8").splitlines()
    report = make_report(
        policies=policy_set.infos,
        verdicts=(),
        scan=dataclasses.replace(
            make_report().scan,
            packs=policy_set.packs,
        ),
    )
    where = resource(1)
    info = policy_set.infos[0]
    statuses = [Status.FAIL] + [Status.PASS] * (len(policy_set.infos) - 1)
    report = dataclasses.replace(report, verdicts=(verdict(where, statuses, [fail(info, where)]),))
    # the line is where the policy's list item starts, and it survives report.json
    assert info.line is not None
    assert re.match(rf"\s*-\s*id:\s*{re.escape(info.id)}\s*$", text[info.line - 1])
    reread = load_report(render_json(report), "report.json")
    assert [p.line for p in reread.policies] == [p.line for p in policy_set.infos]
    result = _sarif(reread, root=pack.parents[2])["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == info.line
    assert location["artifactLocation"]["uri"] == "auditor/packs/" + pack.name


def test_a_pack_outside_the_repository_has_a_stable_machine_free_uri() -> None:
    venvs = (
        "/home/runner/work/app/.venv/lib/python3.11/site-packages/auditor/packs/base.yaml",
        "/opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages/auditor/packs/base.yaml",
    )
    logs = [
        render_sarif(_with_pack_path(_lined_report(), path), root="/home/runner/work/app/app")
        for path in venvs
    ]
    assert logs[0] == logs[1], "moving the virtualenv must not move any alert"
    log = json.loads(logs[0])
    for path in venvs:
        assert path.rsplit("/packs/", 1)[0] not in logs[0].decode()
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {
        "AUDITOR_PACK_baseline": {"uri": "auditor-pack://baseline/"}
    }
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "base.yaml", "uriBaseId": "AUDITOR_PACK_baseline"}
    _validate(log)
    assert_github_accepts(log)


def test_a_pack_under_the_repository_is_named_relative_to_it() -> None:
    report = _with_pack_path(_lined_report(), "/repo/policies/our pack.yaml")
    log = _sarif(report, root="/repo")
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "policies/our%20pack.yaml"}
    assert "originalUriBaseIds" not in log["runs"][0]
    assert_github_accepts(log)


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("packs/a.yaml", None, "packs/a.yaml"),
        ("./packs/../packs/a.yaml", None, "packs/a.yaml"),
        ("../elsewhere/a.yaml", None, None),
        ("/abs/a.yaml", None, None),
        ("/repo/packs/a.yaml", "/repo", "packs/a.yaml"),
        ("/repo/../other/a.yaml", "/repo", None),
        ("/repository/a.yaml", "/repo", None),
        ("packs/a.yaml", "/repo", "packs/a.yaml"),
        ("../a.yaml", "/repo/sub", None),
    ],
)
def test_repository_path(path: str, root: str | None, expected: str | None) -> None:
    assert repository_path(path, root) == expected


def test_primary_location_line_hash_is_policy_arn_and_version_only() -> None:
    base = _lined_report()
    moved = _with_pack_path(base, "/somewhere/else/pack.yaml")
    renamed = dataclasses.replace(
        moved,
        policies=tuple(dataclasses.replace(p, line=(p.line or 0) + 5) for p in moved.policies),
    )

    def hashes(report: Report) -> dict[tuple[str, str], str]:
        return {
            (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r[
                "partialFingerprints"
            ]["primaryLocationLineHash"]
            for r in _sarif(report)["runs"][0]["results"]
        }

    assert hashes(base) == hashes(renamed)
    for result in base.failures():
        label = f"{result.resource.arn}@{result.resource.version_identifier}"
        expected = fingerprint(
            result.policy_id, result.resource.arn, result.resource.version_identifier
        )
        assert hashes(base)[(result.policy_id, label)] == expected
    assert len(set(hashes(base).values())) == len(hashes(base))


def test_rules_carry_github_security_severity(report: Report) -> None:
    rules = _sarif(report)["runs"][0]["tool"]["driver"]["rules"]
    scale = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
    assert {r["id"]: r["properties"]["security-severity"] for r in rules} == {
        p.id: scale[p.severity] for p in report.policies
    }
    # GitHub: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low
    for rule in rules:
        value = float(rule["properties"]["security-severity"])
        github = (
            "critical" if value > 9.0 else "high" if value >= 7.0 else "medium" if value >= 4.0
            else "low" if value >= 0.1 else "info"
        )  # fmt: skip
        assert github == rule["properties"]["severity"]


def test_a_rule_never_has_more_than_twenty_tags(report: Report) -> None:
    policy = dataclasses.replace(
        report.policies[0], frameworks={"nist": tuple(f"AC-{n}" for n in range(40))}
    )
    log = _sarif(dataclasses.replace(report, policies=(policy, *report.policies[1:])))
    tags = log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"]
    assert len(tags) == 20
    assert tags[0] == "security"


def _many_failures(counts: dict[Severity, int], waived_info: int = 0) -> Report:
    """A report with ``counts[severity]`` failing versions per severity."""
    policies = {policy.severity: policy for policy in LINED_POLICIES}
    base = make_report()
    waiver = base.waivers[0].waiver
    verdicts = []
    number = 0
    for severity, count in counts.items():
        index = LINED_POLICIES.index(policies[severity])
        for _ in range(count):
            where = resource(number)
            statuses = [Status.PASS] * len(LINED_POLICIES)
            statuses[index] = Status.FAIL
            verdicts.append(verdict(where, statuses, [fail(policies[severity], where)]))
            number += 1
    for _ in range(waived_info):
        where = resource(number)
        statuses = [Status.PASS] * len(LINED_POLICIES)
        statuses[4] = Status.FAIL
        verdicts.append(verdict(where, statuses, [fail(LINED_POLICIES[4], where, waiver=waiver)]))
        number += 1
    return dataclasses.replace(
        base, policies=LINED_POLICIES, verdicts=tuple(verdicts), errors=(), waivers=()
    )


def test_more_failures_than_one_run_holds_are_split_by_severity() -> None:
    report = _many_failures(
        {Severity.CRITICAL: 2, Severity.HIGH: 7, Severity.MEDIUM: 3}, waived_info=1
    )
    notices: list[str] = []
    log = _sarif(report, limits=SarifLimits(results_per_run=4), notices=notices)
    _validate(log)
    ids = [run["automationDetails"]["id"] for run in log["runs"]]
    assert ids == [
        "auditor/critical/",
        "auditor/high/",
        "auditor/high/part-2/",
        "auditor/medium/",
        "auditor/low/",
        "auditor/info/",
    ]
    assert [len(run["results"]) for run in log["runs"]] == [2, 4, 3, 3, 0, 1]
    assert notices == []
    fingerprints = [
        r["partialFingerprints"]["primaryLocationLineHash"]
        for run in log["runs"]
        for r in run["results"]
    ]
    assert sorted(fingerprints) == sorted(r.id for r in report.failures())


def test_one_run_without_automation_details_when_everything_fits(report: Report) -> None:
    log = _sarif(report)
    assert len(log["runs"]) == 1
    assert "automationDetails" not in log["runs"][0], "the upload's category names the run"


def test_what_does_not_fit_is_left_out_lowest_severity_first_and_said() -> None:
    report = _many_failures(
        {Severity.CRITICAL: 3, Severity.HIGH: 3, Severity.MEDIUM: 3, Severity.LOW: 3},
        waived_info=2,
    )
    notices: list[str] = []
    # Two results a run, eight runs: critical, high, medium and low need two runs each for
    # three results, info one (empty) run; the third low failure would need a ninth run.
    limits = SarifLimits(results_per_run=2, runs=8)
    log = _sarif(report, limits=limits, notices=notices)
    _validate(log)
    assert_github_accepts(log)
    assert len(log["runs"]) == 8
    kept = [r["ruleId"] for run in log["runs"] for r in run["results"]]
    assert kept.count("encryption-at-rest") == 3
    assert kept.count("no-public-output") == 3
    assert kept.count("required-tags") == 3
    assert kept.count("training-time-limit") == 2
    assert "description-present" not in kept  # waived info goes before any unwaived failure
    assert len(notices) == 1
    notice = notices[0]
    assert notice.startswith("report.sarif leaves out 3 of 14 failures")
    assert "lowest severity first: 1 low, 2 waived." in notice
    assert "report.json" in notice
    for run in log["runs"]:
        texts = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
        assert notice in texts
        assert run["properties"]["auditor"]["leftOutBySeverity"]["low"] == 1
        assert run["properties"]["auditor"]["allResultsIn"] == "report.json"


def test_the_gzip_budget_caps_the_file_lowest_severity_first() -> None:
    report = _many_failures({Severity.HIGH: 300, Severity.LOW: 300})
    notices: list[str] = []
    data = render_sarif(report, limits=SarifLimits(gzip_bytes=20_000), notices=notices)
    assert len(gzip.compress(data)) <= 20_000 + 2_000  # the budget, plus the run's frame
    log = json.loads(data)
    kept = [r["ruleId"] for run in log["runs"] for r in run["results"]]
    assert kept.count("no-public-output") == 300
    assert 0 < kept.count("training-time-limit") < 300
    assert "low" in notices[0]
    assert "high" not in notices[0]


def test_28493_failures_fit_github_limits_in_several_runs() -> None:
    """The outside tester's case: one run of 28,493 results, which GitHub rejects."""
    report = _many_failures({Severity.CRITICAL: 900, Severity.HIGH: 1589, Severity.MEDIUM: 26_004})
    notices: list[str] = []
    data = render_sarif(report, notices=notices)
    assert len(gzip.compress(data)) < GITHUB_MAX_GZIP_BYTES
    log = json.loads(data)
    assert_github_accepts(log)
    assert sum(len(run["results"]) for run in log["runs"]) == 28_493
    assert notices == []
    assert [run["automationDetails"]["id"] for run in log["runs"]][:4] == [
        "auditor/critical/",
        "auditor/high/",
        "auditor/medium/",
        "auditor/medium/part-2/",
    ]


def test_the_cli_prints_what_the_sarif_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif_module, "GITHUB_LIMITS", SarifLimits(results_per_run=2, runs=5))
    report = _many_failures({Severity.HIGH: 3, Severity.LOW: 4})
    write_reports(report, tmp_path, [Format.SARIF])
    err = capsys.readouterr().err
    assert "warning: report.sarif leaves out" in err
    assert "Every failure is in report.json" in err
    log = json.loads((tmp_path / "report.sarif").read_text())
    assert_github_accepts(log)


def test_the_cli_names_a_pack_under_the_current_directory_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = _with_pack_path(_lined_report(), str(tmp_path / "packs" / "mine.yaml"))
    write_reports(report, tmp_path / "out", [Format.SARIF])
    log = json.loads((tmp_path / "out" / "report.sarif").read_text())
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "packs/mine.yaml"}
    assert str(tmp_path) not in json.dumps(log)


def test_policy_info_line_round_trips_and_is_optional() -> None:
    report = _lined_report()
    reread = load_report(render_json(report), "report.json")
    assert [p.line for p in reread.policies] == [12, 30, 47, None, None]
    assert isinstance(reread.policies[0], PolicyInfo)
    assert reread.scan.packs == (
        PackRef(id="baseline", path="packs/baseline.yaml", sha256="ab" * 32),
    )


def test_github_gzip_limit_holds_for_incompressible_evidence() -> None:
    """Evidence that does not compress (random text): the 10 MB gzip limit binds long before
    the result counts do, and the file still fits it."""
    rng = random.Random(7)
    report = _many_failures({Severity.HIGH: 15_000, Severity.LOW: 25_000})
    verdicts = tuple(
        dataclasses.replace(
            item,
            failures=tuple(
                dataclasses.replace(
                    result,
                    evidence=(
                        dataclasses.replace(
                            result.evidence[0], message=f"{rng.getrandbits(1600):0400x}"
                        ),
                    ),
                )
                for result in item.failures
            ),
        )
        for item in report.verdicts
    )
    notices: list[str] = []
    data = render_sarif(dataclasses.replace(report, verdicts=verdicts), notices=notices)
    assert len(gzip.compress(data)) < GITHUB_MAX_GZIP_BYTES
    log = json.loads(data)
    assert_github_accepts(log)
    kept = [r["ruleId"] for run in log["runs"] for r in run["results"]]
    assert kept.count("no-public-output") == 15_000
    assert 0 < kept.count("training-time-limit") < 25_000
    assert len(notices) == 1
    assert " low." in notices[0]
