"""`auditor scan --collaboration-models` and `auditor demo` end to end: the real SDK against the
emulator, every report format read back by its own reader."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from junitparser import JUnitXml

from auditor.cli import main
from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.fleet import generate_fleet
from auditor.reports.load import validate_report_document
from tests.reports.canned import SCHEMAS, load_sarif_schema
from tests.sdk_env import point_sdk_at

FLEET = generate_fleet(
    seed=41, memberships=2, models=6, versions_per_model=(1, 2), collaboration_models=12
)
COLLABORATION = "collaboration-trained-model"
FORMATS = "json,csv,sarif,junit,markdown,html,asff"


def serve(monkeypatch: pytest.MonkeyPatch, config: EmulatorConfig | None = None) -> EmulatorServer:
    server = EmulatorServer(FLEET, config).start()
    point_sdk_at(monkeypatch, server.endpoint_url)
    return server


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = serve(monkeypatch)
    yield server
    server.stop()


def scan(tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out"
    code = main(["scan", "--quiet", "--format", FORMATS, "--output-dir", str(out), *argv])
    document = json.loads((out / "report.json").read_text())
    validate_report_document(document, "report.json")
    return code, document


def expected_failures() -> dict[tuple[str, str], set[str]]:
    return {
        (m.arn, v.version_identifier): set(v.violations)
        for m in FLEET.collaboration_models
        for v in m.versions
    }


def test_other_members_models_are_judged_by_their_own_policies(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    code, report = scan(tmp_path, "--collaboration-models")
    assert report["errors"] == []
    types = {p["id"]: p["resource_type"] for p in report["policies"]}
    assert COLLABORATION in types.values()
    failed: dict[tuple[str, str], set[str]] = {}
    for result in report["results"]:
        resource = result["resource"]
        if resource["type"] != COLLABORATION:
            # an own model: never judged by a collaboration policy
            if types[result["policy_id"]] == COLLABORATION:
                assert result["status"] == "skip"
            continue
        key = (resource["arn"], resource["version_identifier"])
        failed.setdefault(key, set())
        assert resource["creator_account"] in {"444455556666", "555566667777", "777788889999"}
        assert resource["account"] == FLEET.memberships[0].account  # the scanned account
        if types[result["policy_id"]] != COLLABORATION:
            assert result["status"] == "skip", result["policy_id"]  # never a kmsKeyArn failure
        elif result["status"] == "fail":
            failed[key].add(result["policy_id"])
            assert result["evidence"]
    assert failed == expected_failures()
    # every other member's version read exactly once, through the collaboration API
    reads = emulator.counters.snapshot()["resources"]["GetCollaborationTrainedModel"]
    assert reads == {f"{arn}#{version}": 1 for arn, version in expected_failures()}
    own = {(m.arn, v.version_identifier) for m in FLEET.models for v in m.versions}
    assert report["summary"]["versions"] == len(own) + len(expected_failures())
    assert code == 1  # complete; the fleet has high failures

    out = tmp_path / "out"
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert {row["resource_type"] for row in rows} == {"trained-model", COLLABORATION}
    creators = {row["creator_account"] for row in rows if row["resource_type"] == COLLABORATION}
    assert creators == {"444455556666", "555566667777", "777788889999"}
    sarif = json.loads((out / "report.sarif").read_text())
    jsonschema.Draft4Validator(load_sarif_schema()).validate(sarif)
    xmlschema.XMLSchema10(str(SCHEMAS / "junit-10.xsd")).validate(
        (out / "report.junit.xml").read_text(encoding="utf-8")
    )
    kinds = {r["properties"]["resourceType"] for r in sarif["runs"][0]["results"]}
    assert kinds == {"trained-model", COLLABORATION}
    names = {
        case.name for suite in JUnitXml.fromfile(str(out / "report.junit.xml")) for case in suite
    }
    assert any(name.endswith(f"[{COLLABORATION}]") for name in names)
    # Markdown escapes the brackets, which render as they are
    assert f"\\[{COLLABORATION}\\]" in (out / "report.md").read_text()
    assert COLLABORATION in (out / "report.html").read_text()
    # a finding about another member's model belongs to the scanned account, which saw it
    findings = json.loads((out / "report.asff.json").read_text())["Findings"]
    partner = [
        f
        for f in findings
        if f["Resources"][0]["Details"]["Other"].get("ResourceType") == COLLABORATION
    ]
    assert partner
    assert {f["AwsAccountId"] for f in partner} == {FLEET.memberships[0].account}


def test_without_the_flag_nothing_of_the_collaboration_view_is_read_or_reported(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    _, report = scan(tmp_path)
    assert {p["resource_type"] for p in report["policies"]} == {"trained-model"}
    assert {r["resource"]["type"] for r in report["results"]} == {"trained-model"}
    operations = emulator.counters.snapshot()["operations"]
    assert "ListCollaborationTrainedModels" not in operations
    assert "GetCollaborationTrainedModel" not in operations


def test_a_denied_collaboration_is_an_error_in_its_scope_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    denied = FLEET.memberships[0]
    server = serve(
        monkeypatch, EmulatorConfig(deny_collaborations=frozenset({denied.collaboration_id}))
    )
    try:
        code, report = scan(tmp_path, "--collaboration-models")
    finally:
        server.stop()
    assert code == 3
    assert len(report["errors"]) == 1
    error = report["errors"][0]
    assert error["scope"] == "collaboration"
    assert error["code"] == "AccessDeniedException"
    assert error["operation"] == "ListCollaborationTrainedModels"
    assert error["membership_id"] == denied.id
    # the other collaboration was still read, in full
    read = {
        r["resource"]["arn"] for r in report["results"] if r["resource"]["type"] == COLLABORATION
    }
    assert read == {
        m.arn for m in FLEET.collaboration_models if m.collaboration_id != denied.collaboration_id
    }
    assert "collaboration" in (tmp_path / "out" / "report.md").read_text()


def test_the_view_does_not_combine_with_model_arns(
    emulator: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = FLEET.models[0].arn
    argv = ["scan", "--quiet", "--output-dir", str(tmp_path / "o"), "--collaboration-models"]
    code = main([*argv, "--model", arn])
    assert code == 2
    assert "--collaboration-models" in capsys.readouterr().err
    assert not (tmp_path / "o" / "report.json").exists()
    assert emulator.counters.snapshot()["total"] == 0


def test_with_membership_only_its_collaboration_is_read(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    chosen = FLEET.memberships[1]
    code, report = scan(tmp_path, "--collaboration-models", "--membership", chosen.id)
    assert report["errors"] == []
    assert code in (0, 1)
    shared = {
        (r["resource"]["arn"], r["resource"]["version_identifier"])
        for r in report["results"]
        if r["resource"]["type"] == COLLABORATION
    }
    assert shared == {
        (m.arn, v.version_identifier)
        for m in FLEET.collaboration_models_of(chosen.collaboration_id)
        for v in m.versions
    }
    own = {
        r["resource"]["arn"] for r in report["results"] if r["resource"]["type"] != COLLABORATION
    }
    assert own == {m.arn for m in FLEET.models_of(chosen.id)}
    snapshot = emulator.counters.snapshot()
    assert snapshot["resources"]["ListCollaborationTrainedModels"] == {chosen.collaboration_id: 1}
    assert snapshot["operations"]["ListMemberships"] == 1  # to find its collaboration


def test_the_demo_says_what_the_collaboration_view_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--quiet", "--models", "8", "--memberships", "2", "--rate", "2000"]
    argv += ["--latency-ms", "0", "--format", "json", "--output-dir", str(tmp_path)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    line = re.search(
        r"^collaboration: (\d+) models by (\d+) other members in (\d+) collaborations; (\d+) fail$",
        printed,
        re.MULTILINE,
    )
    assert line is not None, printed
    from auditor.demo import DemoSettings, demo_fleet

    fleet = demo_fleet(DemoSettings(models=8, memberships=2, rate=2000, latency_ms=0))
    others = fleet.collaboration_models
    failing = {m.arn for m in others if any(v.violations for v in m.versions)}
    assert [int(n) for n in line.groups()] == [
        len(others),
        len({m.creator_account for m in others}),
        len({m.collaboration_id for m in others}),
        len(failing),
    ]
    assert 0 < len(failing) < len(others)
