"""`auditor scan --format asff,ocsf` against the emulator, then `auditor publish security-hub`
against moto's Security Hub (through the recording proxy): create, re-publish, fix, waive,
narrow the scope; Security Hub holds exactly the expected findings after each step."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.emulator import EmulatorServer
from auditor.fleet import Fleet, FleetVersion, compliant_document, generate_fleet
from tests.security.test_no_secrets import ACCESS_KEY, CANARIES, SECRET_KEY, SESSION_TOKEN
from tests.securityhub.conftest import ACCOUNT, REGION, SecurityHub

FLEET = generate_fleet(
    seed=5,
    memberships=2,
    models=8,
    versions_per_model=(1, 2),
    noncompliant_share=0.6,
    account=ACCOUNT,
    region=REGION,
)


def _fixed(fleet: Fleet, arn: str, version: str) -> Fleet:
    """``fleet`` with one version made compliant (the same model, version and identity)."""
    models = []
    for model in fleet.models:
        versions = []
        for item in model.versions:
            if model.arn == arn and item.version_identifier == version:
                membership = next(m for m in fleet.memberships if m.id == model.membership_id)
                document = compliant_document(
                    random.Random(1),
                    membership=membership,
                    model_arn=arn,
                    name=item.document["name"],
                    version_identifier=version,
                    created=datetime.fromisoformat(item.document["createTime"]),
                )
                item = FleetVersion(document=document)
            versions.append(item)
        models.append(dataclasses.replace(model, versions=tuple(versions)))
    return dataclasses.replace(fleet, models=tuple(models))


@pytest.fixture
def scan_env(security_hub: SecurityHub, monkeypatch: pytest.MonkeyPatch) -> SecurityHub:
    monkeypatch.setenv("AWS_REGION", REGION)
    return security_hub


def _scan(fleet: Fleet, out: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> dict[str, Any]:
    with EmulatorServer(fleet) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMS", server.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)
        code = main(
            ["scan", "--quiet", "--format", "json,asff,ocsf", "--output-dir", str(out), *argv]
        )
    assert code in (0, 1)
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


def _failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"auditor/{r['id']}": r for r in report["results"] if r["status"] == "fail"}


def _publish(report: Path) -> int:
    return main(["publish", "security-hub", str(report)])


def _since(hub: SecurityHub, start: int) -> list[str]:
    return hub.recorder.calls[start:]


def test_publish_creates_a_finding_per_failure_and_republishing_changes_nothing(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = _scan(FLEET, tmp_path / "r1", monkeypatch)
    failing = _failing(report)
    assert len(failing) >= 3  # the fleet is built to fail

    assert _publish(tmp_path / "r1" / "report.json") == 0
    held = scan_env.findings()
    assert set(held) == set(failing)
    written = {
        f["Id"]: f
        for f in json.loads((tmp_path / "r1" / "report.asff.json").read_bytes())["Findings"]
    }
    for finding_id, result in failing.items():
        finding = held[finding_id]
        assert finding["RecordState"] == "ACTIVE"
        assert finding["Compliance"]["Status"] == "FAILED"
        assert finding["GeneratorId"] == result["policy_id"]
        assert finding["Resources"][0]["Id"] == result["resource"]["arn"]
        assert finding["ProductArn"] == (
            f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
        )
        assert finding == written[finding_id]  # what the file says is what was imported

    start = len(scan_env.recorder.calls)
    assert _publish(tmp_path / "r1" / "report.json") == 0
    assert _since(scan_env, start) == ["GetFindings"]  # nothing to import: no write at all
    assert scan_env.findings() == held


def _first_failing_version(
    report: dict[str, Any], membership: str | None = None
) -> tuple[str, str]:
    for result in report["results"]:
        where = result["resource"]
        if result["status"] == "fail" and membership in (None, where["membership_id"]):
            return where["arn"], where["version_identifier"]
    raise AssertionError("no failing version")


def test_a_fixed_failure_becomes_passed_and_archived_and_a_waived_one_archived(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = _scan(FLEET, tmp_path / "r1", monkeypatch)
    assert _publish(tmp_path / "r1" / "report.json") == 0
    arn, version = _first_failing_version(first)
    fixed = {
        key
        for key, r in _failing(first).items()
        if (r["resource"]["arn"], r["resource"]["version_identifier"]) == (arn, version)
    }
    waived_id, waived = next(
        (key, r) for key, r in _failing(first).items() if r["resource"]["arn"] != arn
    )
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "version: 1\nwaivers:\n"
        f"  - policy: {waived['policy_id']}\n"
        f'    resource: "{waived["resource"]["arn"]}"\n'
        f'    version: "{waived["resource"]["version_identifier"]}"\n'
        "    reason: accepted for the test\n    expires: 2999-01-01\n"
        "    approved_by: security@example.com\n"
    )

    second = _scan(
        _fixed(FLEET, arn, version), tmp_path / "r2", monkeypatch, "--waivers", str(waivers)
    )
    assert _publish(tmp_path / "r2" / "report.json") == 0
    held = scan_env.findings()
    assert set(held) == set(_failing(first)) | set(_failing(second))  # updated in place
    for finding_id in fixed:
        assert held[finding_id]["Compliance"]["Status"] == "PASSED"
        assert held[finding_id]["RecordState"] == "ARCHIVED"
    assert held[waived_id]["RecordState"] == "ARCHIVED"
    assert held[waived_id]["Compliance"]["Status"] == "FAILED"
    still = set(_failing(second)) - {waived_id}
    assert still
    finished = second["scan"]["finished_at"]
    for finding_id in still:
        assert held[finding_id]["RecordState"] == "ACTIVE"
        assert held[finding_id]["LastObservedAt"] == finished  # seen again by this run
        assert held[finding_id]["CreatedAt"] == first["scan"]["finished_at"]  # first found
    active = {key for key, f in held.items() if f["RecordState"] == "ACTIVE"}
    assert active == still

    start = len(scan_env.recorder.calls)
    assert _publish(tmp_path / "r2" / "report.json") == 0
    assert _since(scan_env, start) == ["GetFindings"]
    assert scan_env.findings() == held

    # without the waiver (expired, removed) the failure is active again, in plain view
    _scan(_fixed(FLEET, arn, version), tmp_path / "r3", monkeypatch)
    assert _publish(tmp_path / "r3" / "report.json") == 0
    reopened = scan_env.findings()[waived_id]
    assert reopened["RecordState"] == "ACTIVE"
    assert reopened["Workflow"] == {"Status": "NEW"}


def test_findings_this_run_did_not_read_are_left_as_they_are(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = _scan(FLEET, tmp_path / "r1", monkeypatch)
    assert _publish(tmp_path / "r1" / "report.json") == 0
    before = scan_env.findings()
    read, unread = (m.id for m in FLEET.memberships)
    fleet = FLEET
    fixed_versions = []
    for membership in (read, unread):
        arn, version = _first_failing_version(first, membership)
        fleet = _fixed(fleet, arn, version)
        fixed_versions.append((arn, version))

    narrow = _scan(fleet, tmp_path / "r2", monkeypatch, "--membership", read)
    assert _publish(tmp_path / "r2" / "report.json") == 0
    held = scan_env.findings()
    seen = {"untouched": 0, "passed": 0, "failing": 0}
    for finding_id, result in _failing(first).items():
        where = (result["resource"]["arn"], result["resource"]["version_identifier"])
        if result["resource"]["membership_id"] == unread:
            assert held[finding_id] == before[finding_id]  # not re-checked: untouched
            seen["untouched"] += 1
        elif where == fixed_versions[0]:
            assert held[finding_id]["Compliance"]["Status"] == "PASSED"
            assert held[finding_id]["RecordState"] == "ARCHIVED"
            seen["passed"] += 1
        else:
            assert finding_id in _failing(narrow)
            assert held[finding_id]["RecordState"] == "ACTIVE"
            seen["failing"] += 1
    assert seen["untouched"]  # both cases happened
    assert seen["passed"]
    # the unread membership's fixed version still shows its failure: nobody re-checked it
    unread_fixed = [
        key
        for key, r in _failing(first).items()
        if (r["resource"]["arn"], r["resource"]["version_identifier"]) == fixed_versions[1]
    ]
    assert unread_fixed
    assert all(held[key]["RecordState"] == "ACTIVE" for key in unread_fixed)


def test_a_throttled_batch_is_retried_and_nothing_is_lost(
    scan_env: SecurityHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = _scan(FLEET, tmp_path / "r1", monkeypatch)
    scan_env.recorder.throttle_next = 3
    capsys.readouterr()
    assert _publish(tmp_path / "r1" / "report.json") == 0
    assert scan_env.recorder.throttled == 3
    assert scan_env.recorder.calls.count("BatchImportFindings") == 4  # 3 refused, 1 imported
    assert set(scan_env.findings()) == set(_failing(report))
    assert "3 throttled calls" in capsys.readouterr().out


def test_refused_findings_are_named_and_exit_3(
    scan_env: SecurityHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = _scan(FLEET, tmp_path / "r1", monkeypatch)
    refused = sorted(_failing(report))[0]
    scan_env.recorder.refuse_ids = {refused}
    capsys.readouterr()
    assert _publish(tmp_path / "r1" / "report.json") == 3
    err = capsys.readouterr().err
    assert f"refused: {refused}: InvalidInput" in err
    held = scan_env.findings()
    assert set(held) == set(_failing(report)) - {refused}  # the others are in

    scan_env.recorder.refuse_ids = set()
    assert _publish(tmp_path / "r1" / "report.json") == 0  # a later run sends it
    assert set(scan_env.findings()) == set(_failing(report))


def test_publish_calls_nothing_but_the_two_actions_of_its_iam_policy(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # every AWS call of any service lands on the recording proxy, Security Hub or not
    monkeypatch.setenv("AWS_ENDPOINT_URL", scan_env.url)
    first = _scan(FLEET, tmp_path / "r1", monkeypatch)
    start = len(scan_env.recorder.calls)
    assert _publish(tmp_path / "r1" / "report.json") == 0
    arn, version = _first_failing_version(first)
    _scan(_fixed(FLEET, arn, version), tmp_path / "r2", monkeypatch)
    assert _publish(tmp_path / "r2" / "report.json") == 0
    assert _publish(tmp_path / "r2" / "report.json") == 0
    calls = scan_env.recorder.calls[start:]
    policy = json.loads(
        (Path(__file__).parents[2] / "auditor" / "iam" / "publisher-policy.json").read_text()
    )
    allowed = {
        action.removeprefix("securityhub:")
        for statement in policy["Statement"]
        for action in statement["Action"]
    }
    assert allowed == {"BatchImportFindings", "GetFindings"}
    assert set(calls) == allowed  # both used, nothing else


def test_usage_errors_exit_2(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert main(["publish", "security-hub", str(tmp_path / "missing.json")]) == 2
    report = _scan(FLEET, tmp_path / "r1", monkeypatch)
    assert report["results"]
    monkeypatch.delenv("AWS_REGION")
    assert main(["publish", "security-hub", str(tmp_path / "r1" / "report.json")]) == 2
    assert (
        main(["publish", "security-hub", str(tmp_path / "r1" / "report.json"), "--profile", "nope"])
        == 2
    )
    monkeypatch.setenv("AWS_REGION", REGION)
    # a region the report never read: most likely a misconfigured job, not "nothing to do"
    report_path = str(tmp_path / "r1" / "report.json")
    assert main(["publish", "security-hub", report_path, "--region", "eu-west-1"]) == 2
    assert scan_env.findings() == {}


def test_the_asff_file_imports_as_is_with_the_aws_cli_and_publish_agrees(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = _scan(FLEET, tmp_path / "r1", monkeypatch)
    aws = Path(sys.executable).parent / "aws"
    completed = subprocess.run(
        [
            str(aws),
            "securityhub",
            "batch-import-findings",
            "--cli-input-json",
            f"file://{tmp_path / 'r1' / 'report.asff.json'}",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_SECURITYHUB": scan_env.moto_url,
        },
    )
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["FailedCount"] == 0
    assert answer["SuccessCount"] == len(_failing(report))
    held = scan_env.findings()
    assert set(held) == set(_failing(report))

    start = len(scan_env.recorder.calls)
    assert _publish(tmp_path / "r1" / "report.json") == 0
    assert _since(scan_env, start) == ["GetFindings"]  # the file said it all already
    assert scan_env.findings() == held


def test_more_than_100_findings_go_in_batches_of_100_and_are_read_back_in_pages(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fleet = generate_fleet(
        seed=9,
        memberships=3,
        models=120,
        versions_per_model=(1, 1),
        noncompliant_share=0.95,
        account=ACCOUNT,
        region=REGION,
    )
    report = _scan(fleet, tmp_path / "r1", monkeypatch)
    failing = _failing(report)
    assert len(failing) > 100
    assert _publish(tmp_path / "r1" / "report.json") == 0
    batches = -(-len(failing) // 100)
    assert scan_env.recorder.calls.count("BatchImportFindings") == batches
    assert set(scan_env.findings()) == set(failing)

    start = len(scan_env.recorder.calls)
    assert _publish(tmp_path / "r1" / "report.json") == 0
    assert _since(scan_env, start) == ["GetFindings"] * batches  # every page, no write


def test_a_verbose_publish_leaks_no_credential(
    scan_env: SecurityHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = _scan(FLEET, tmp_path / "r1", monkeypatch)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL_SECURITYHUB": scan_env.url,
        }
    )
    scan_env.recorder.refuse_ids = {sorted(_failing(report))[0]}  # an error path too
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "-v",
            "publish",
            "security-hub",
            str(tmp_path / "r1" / "report.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert completed.returncode == 3, completed.stderr
    assert "Authorization" in completed.stderr  # botocore's DEBUG lines were there to leak
    for canary in CANARIES:
        assert canary not in completed.stdout
        assert canary not in completed.stderr
