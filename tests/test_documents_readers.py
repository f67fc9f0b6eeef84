"""One contract, two commands, real readers: `auditor scan` through the SDK and `auditor
evaluate` on what the AWS CLI saved give the same documents, results and errors.

- The AWS CLI (its own vendored botocore) reads every version of a seeded fleet from the
  emulator; its outputs appended to one file evaluate exactly as a scan of the emulator.
- moto's server answers Clean Rooms (``Content-Type: text/html``, as botocore accepts);
  every version of the memberships it created is read.
- Values the SDK's parser would coerce (``true`` -> 1, ``86400.9`` -> 86400, ``"3600"`` ->
  3600) are judged as sent, reported with their JSON path, in scan and evaluate alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import boto3
import pytest
from moto.server import ThreadedMotoServer

from auditor.cli import main
from auditor.crawler import collect, open_aws_api
from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind
from auditor.fleet import Fleet, FleetModel, generate_fleet, load_fleet
from auditor.inputs import read_input
from auditor.models import ModelVersion, ScanError
from auditor.reports.json import validate_report_document
from tests.sdk_env import isolate_sdk

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # the account moto's server acts as
AWS_CLI = Path(sys.executable).with_name("aws")
EXIT_INCOMPLETE = 3


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    isolate_sdk(monkeypatch, REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return monkeypatch


def _report(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "report.json").read_text())
    validate_report_document(document, "report.json")
    return document


def scan(tmp_path: Path, name: str = "scan") -> tuple[int, dict[str, Any]]:
    out = tmp_path / name
    code = main(["scan", "--quiet", "--format", "json", "--output-dir", str(out)])
    return code, _report(out)


def evaluate(tmp_path: Path, records: Path, name: str = "evaluate") -> tuple[int, dict[str, Any]]:
    out = tmp_path / name
    code = main(["evaluate", "--input", str(records), "--format", "json", "--output-dir", str(out)])
    return code, _report(out)


def results_of(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (r["id"], r["policy_id"], r["status"], json.dumps(r["evidence"], sort_keys=True))
        for r in report["results"]
    )


def errors_of(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            e["scope"],
            e["operation"],
            e["code"],
            e["message"],
            e.get("resource_arn"),
            e.get("version_identifier"),
        )
        for e in report["errors"]
    )


def version_key(model: FleetModel, index: int) -> str:
    return f"{model.arn}#{model.versions[index].version_identifier}"


async def crawl_documents() -> dict[tuple[str, str | None], Any]:
    async with open_aws_api() as api:
        items = await collect(api)
    assert not [item for item in items if isinstance(item, ScanError)]
    return {item.resource.key: item.document for item in items if isinstance(item, ModelVersion)}


# --- (a) the AWS CLI ------------------------------------------------------------------------


def aws_cli(endpoint: str, *argv: str) -> str:
    """One `aws` command (awscli v1, its own botocore), as a user would run it."""
    completed = subprocess.run(
        [str(AWS_CLI), *argv, "--endpoint-url", endpoint, "--output", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def save_with_aws_cli(endpoint: str, path: Path) -> int:
    """Every version the account has, found and read with the AWS CLI, each output appended
    to ``path`` (`aws cleanroomsml get-trained-model ... >> path`); returns how many."""
    saved = 0
    memberships = json.loads(aws_cli(endpoint, "cleanrooms", "list-memberships"))
    for membership in memberships["membershipSummaries"]:
        models = json.loads(
            aws_cli(
                endpoint,
                "cleanroomsml",
                "list-trained-models",
                "--membership-identifier",
                membership["id"],
            )
        )
        for model in models["trainedModels"]:
            versions = json.loads(
                aws_cli(
                    endpoint,
                    "cleanroomsml",
                    "list-trained-model-versions",
                    "--membership-identifier",
                    membership["id"],
                    "--trained-model-arn",
                    model["trainedModelArn"],
                )
            )
            for version in versions["trainedModels"]:
                output = aws_cli(
                    endpoint,
                    "cleanroomsml",
                    "get-trained-model",
                    "--membership-identifier",
                    membership["id"],
                    "--trained-model-arn",
                    model["trainedModelArn"],
                    "--version-identifier",
                    version["versionIdentifier"],
                )
                with path.open("a", encoding="utf-8") as saved_file:
                    saved_file.write(output)
                saved += 1
    return saved


def test_evaluate_of_aws_cli_outputs_equals_a_scan_of_the_same_versions(
    aws_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fleet = generate_fleet(
        seed=23, memberships=2, models=3, versions_per_model=(1, 2), noncompliant_share=0.7
    )
    assert any(v.violations for v in fleet.versions())
    first, second = fleet.models[0], fleet.models[1]
    # timestamps in the other forms the SDK reads: epoch seconds, ISO 8601 with milliseconds
    faults = {
        version_key(first, 0): Fault(FaultKind.WRONG_TYPES, fields={"createTime": 1767225600}),
        version_key(second, 0): Fault(
            FaultKind.WRONG_TYPES, fields={"updateTime": "2026-01-01T03:00:00.000Z"}
        ),
    }
    with EmulatorServer(fleet, EmulatorConfig(faults=faults)) as server:
        saved = tmp_path / "saved.json"
        assert save_with_aws_cli(server.endpoint_url, saved) == fleet.version_count
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMS", server.endpoint_url)
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)
        scan_code, scanned = scan(tmp_path)
        crawled = anyio.run(crawl_documents)
    evaluate_code, evaluated = evaluate(tmp_path, saved)

    # the very documents policies judge: the same from the wire and from the CLI's output
    saved_documents = {
        item.resource.key: item.document
        for item in read_input(saved)
        if isinstance(item, ModelVersion)
    }
    assert crawled == saved_documents
    assert len(crawled) == fleet.version_count
    assert crawled[first.arn, first.versions[0].version_identifier]["createTime"] == (
        "2026-01-01T00:00:00Z"
    )
    assert crawled[second.arn, second.versions[0].version_identifier]["updateTime"] == (
        "2026-01-01T03:00:00Z"
    )
    assert scanned["summary"]["versions"] == fleet.version_count
    assert scanned["errors"] == evaluated["errors"] == []
    assert results_of(scanned) == results_of(evaluated)
    failed = {
        (r["resource"]["version_identifier"], r["policy_id"])
        for r in scanned["results"]
        if r["status"] == "fail"
    }
    injected = {
        (v.version_identifier, control) for v in fleet.versions() for control in v.violations
    }
    assert injected
    assert injected <= failed
    assert scan_code == evaluate_code


# --- (b) moto's Clean Rooms -----------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def moto_memberships(url: str, count: int) -> list[tuple[str, str]]:
    """``count`` collaborations and this account's membership of each, created in moto:
    (membership id, collaboration id)."""
    client = boto3.client(
        "cleanrooms",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-real-secret",
    )
    created = []
    for index in range(count):
        collaboration = client.create_collaboration(
            members=[],
            name=f"collaboration-{index}",
            description="auditor test",
            creatorMemberAbilities=["CAN_QUERY", "CAN_RECEIVE_RESULTS"],
            creatorDisplayName="auditor",
            queryLogStatus="DISABLED",
        )["collaboration"]
        membership = client.create_membership(
            collaborationIdentifier=collaboration["id"], queryLogStatus="DISABLED"
        )["membership"]
        created.append((membership["id"], collaboration["id"]))
    return created


def fleet_for(memberships: list[tuple[str, str]], tmp_path: Path) -> Fleet:
    """A seeded fleet whose memberships are ``memberships`` (ids and ARNs rewritten)."""
    generated = generate_fleet(
        seed=41, memberships=len(memberships), models=5, account=MOTO_ACCOUNT, region=REGION
    )
    text = generated.to_json()
    for fleet_membership, (membership_id, collaboration_id) in zip(
        generated.memberships, memberships, strict=True
    ):
        text = text.replace(fleet_membership.id, membership_id)
        text = text.replace(fleet_membership.collaboration_id, collaboration_id)
    path = tmp_path / "fleet.json"
    path.write_text(text)
    return load_fleet(path)


def test_a_scan_reads_every_version_of_the_memberships_moto_answers_with_html(
    aws_env: pytest.MonkeyPatch, moto_url: str, tmp_path: Path
) -> None:
    memberships = moto_memberships(moto_url, 2)
    fleet = fleet_for(memberships, tmp_path)
    listed = boto3.client(
        "cleanrooms", region_name=REGION, endpoint_url=moto_url
    ).list_memberships()
    assert "json" not in listed["ResponseMetadata"]["HTTPHeaders"]["content-type"]

    with EmulatorServer(fleet) as emulator:
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMS", moto_url)
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", emulator.endpoint_url)
        code, report = scan(tmp_path)
        operations = emulator.counters.snapshot()["operations"]

    assert report["errors"] == []
    read = {(r["resource"]["arn"], r["resource"]["version_identifier"]) for r in report["results"]}
    assert read == {(m.arn, v.version_identifier) for m in fleet.models for v in m.versions}
    assert report["summary"]["versions"] == fleet.version_count
    assert {r["resource"]["membership_id"] for r in report["results"]} == {
        m for m, _ in memberships
    }
    assert "ListMemberships" not in operations  # moto answered those
    assert code in (0, 1)


# --- (c) mistyped values over the wire ------------------------------------------------------

MISTYPED: dict[str, dict[str, Any]] = {
    "runtime-true": {"stoppingCondition.maxRuntimeInSeconds": True},
    "runtime-fraction": {"stoppingCondition.maxRuntimeInSeconds": 86400.9},
    "runtime-text": {"stoppingCondition.maxRuntimeInSeconds": "3600"},
    "resource-config-list": {"resourceConfig": [{"instanceType": "ml.m5.xlarge"}]},
    "tags-pairs": {"tags": [["owner", "ml"], ["cost-center", "cc-1"]]},
    "kms-number": {"kmsKeyArn": 123},
}
EXPECTED_MESSAGES = {
    "runtime-true": "stoppingCondition.maxRuntimeInSeconds: expected integer, got boolean true",
    "runtime-fraction": (
        "stoppingCondition.maxRuntimeInSeconds: expected integer, got float 86400.9"
    ),
    "runtime-text": 'stoppingCondition.maxRuntimeInSeconds: expected integer, got string "3600"',
    "resource-config-list": "resourceConfig: expected structure, got list",
    "tags-pairs": "tags: expected map, got list",
    "kms-number": "kmsKeyArn: expected string, got integer 123",
}


def as_sent(document: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``fields`` (dotted paths) set, as the emulator's fault sends it."""
    sent: dict[str, Any] = json.loads(json.dumps(document))
    for dotted, value in fields.items():
        *parents, last = dotted.split(".")
        here = sent
        for name in parents:
            here = here.setdefault(name, {})
        here[last] = value
    return sent


def test_mistyped_values_over_the_wire_are_judged_as_sent_in_scan_and_evaluate(
    aws_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fleet = generate_fleet(seed=29, memberships=2, models=8, versions_per_model=(1, 2))
    cases = dict(zip(MISTYPED, fleet.models, strict=False))
    faults = {
        version_key(model, 0): Fault(FaultKind.WRONG_TYPES, fields=MISTYPED[case])
        for case, model in cases.items()
    }
    with EmulatorServer(fleet, EmulatorConfig(faults=faults)) as server:
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMS", server.endpoint_url)
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)
        scan_code, scanned = scan(tmp_path)

    # the same records, as they went over the wire, appended pretty-printed
    records = []
    for model in fleet.models:
        for index, version in enumerate(model.versions):
            case = next((c for c, m in cases.items() if m is model and index == 0), None)
            records.append(as_sent(version.document, MISTYPED[case]) if case else version.document)
    saved = tmp_path / "wire.json"
    saved.write_text("".join(json.dumps(r, indent=4) + "\n" for r in records))
    evaluate_code, evaluated = evaluate(tmp_path, saved)

    assert scan_code == evaluate_code == EXIT_INCOMPLETE
    expected_errors = sorted(
        (
            "version",
            "GetTrainedModel",
            "MalformedResponse",
            EXPECTED_MESSAGES[case],
            model.arn,
            model.versions[0].version_identifier,
        )
        for case, model in cases.items()
    )
    assert errors_of(scanned) == errors_of(evaluated) == expected_errors
    # every version, the mistyped ones included, has its results, the same in both
    assert scanned["summary"]["versions"] == evaluated["summary"]["versions"]
    assert scanned["summary"]["versions"] == fleet.version_count
    assert results_of(scanned) == results_of(evaluated)
    runtime = {
        r["resource"]["version_identifier"]: r["status"]
        for r in scanned["results"]
        if r["policy_id"] == "max-training-runtime"
    }
    for case in ("runtime-true", "runtime-text"):
        # never coerced into a passing 1 or 3600
        assert runtime[cases[case].versions[0].version_identifier] != "pass", case
