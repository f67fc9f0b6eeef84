"""`auditor scan --format asff,ocsf` against the emulator, then `auditor publish security-hub`
against moto's Security Hub (through the recording proxy): create, re-publish, fix, waive,
narrow the scope; Security Hub holds exactly the expected findings after each step."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.emulator import EmulatorServer
from auditor.fleet import Fleet, FleetVersion, compliant_document, generate_fleet
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
