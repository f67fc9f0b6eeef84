"""--collaboration-models over several accounts (assumed roles through moto's STS): two scanned
accounts in one collaboration read it once, and each other's models stay their own."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from auditor.cli import main
from auditor.fleet import collaboration_fleet_models, generate_fleet
from auditor.models import ResourceType
from tests.accounts.conftest import ROLE, Org, StartEmulator
from tests.accounts.helpers import read_report


def test_a_collaboration_two_scanned_accounts_share_is_read_once(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    ok, _, throttled = org.members
    base = generate_fleet(
        seed=7, memberships=2, models=6, versions_per_model=(1, 2), accounts=(ok, throttled)
    )
    first, second = base.memberships
    shared = replace(second, collaboration_id=first.collaboration_id)
    others = collaboration_fleet_models(random.Random(3), (first,), count=5)
    fleet = replace(base, memberships=(first, shared), collaboration_models=others)
    server = start_emulator(fleet)
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        f'defaults:\n  role_name: {ROLE}\naccounts:\n  - id: "{ok}"\n  - id: "{throttled}"\n'
    )
    out = tmp_path / "out"
    argv = ["scan", "--accounts", str(accounts), "--region", "us-east-1", "--quiet"]
    argv += ["--collaboration-models", "--output-dir", str(out), "--format", "json"]

    code = main(argv)

    report = read_report(out)
    assert report.errors == ()
    assert report.scan.complete
    assert code == (0 if report.summary().gate_passed else 1)
    calls = server.counters.snapshot()
    assert calls["resources"]["ListCollaborationTrainedModels"] == {first.collaboration_id: 1}
    other_keys = {(m.arn, v.version_identifier) for m in others for v in m.versions}
    reads = calls["resources"]["GetCollaborationTrainedModel"]
    # only the partners' models: neither scanned account's models are read as a partner's
    assert reads == {f"{arn}#{version}": 1 for arn, version in other_keys}
    by_type: dict[ResourceType, set[tuple[str, str | None]]] = {}
    for verdict in report.verdicts:
        by_type.setdefault(verdict.resource.type, set()).add(verdict.resource.key)
    own = {(m.arn, v.version_identifier) for m in fleet.models for v in m.versions}
    assert by_type == {
        ResourceType.TRAINED_MODEL: own,
        ResourceType.COLLABORATION_TRAINED_MODEL: other_keys,
    }
    assert len(report.verdicts) == len(own) + len(other_keys)
