"""--org through Organizations, per-account regions, refused roles, disabled regions, and
credentials that botocore renews before they expire."""

from __future__ import annotations

from pathlib import Path

import aioboto3
import anyio
import boto3
import pytest

from auditor.accounts import AccountTarget, assume_role_credentials, role_arn_for
from auditor.cli import EXIT_INCOMPLETE, main
from tests.accounts.conftest import REGIONS, ROLE, Org, StartEmulator, accounts_file, org_fleet
from tests.accounts.helpers import errors_of, expected_verdicts, read_report, verdicts_of


def test_org_scans_every_active_account_through_the_role(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    ok, denied, throttled = org.members
    fleet = org_fleet(org)
    start_emulator(fleet, deny_accounts=frozenset({denied}))
    out = tmp_path / "out"
    argv = ["scan", "--org", ROLE, "--output-dir", str(out), "--format", "json", "--quiet"]
    argv += [arg for region in REGIONS for arg in ("--region", region)]
    assert main(argv) == EXIT_INCOMPLETE
    report = read_report(out)
    assert verdicts_of(report) == expected_verdicts(fleet, {ok, throttled})
    assert errors_of(report) == [
        (denied, region, "ListMemberships", "AccessDeniedException") for region in REGIONS
    ]
    # the management account is scanned too (it has nothing); the closed one is not
    assert report.scan.accounts == tuple(sorted({org.management, *org.members}))
    assert org.closed not in report.scan.accounts


def test_accounts_file_regions_and_a_disabled_region(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    ok, _, throttled = org.members
    fleet = org_fleet(org)
    start_emulator(fleet, disabled_regions=frozenset({"ap-south-2"}))
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "defaults:\n"
        f"  role_name: {ROLE}\n"
        f"  regions: [{REGIONS[0]}, ap-south-2]\n"
        "accounts:\n"
        f'  - id: "{ok}"\n'
        f'  - {{id: "{throttled}", role_arn: "{role_arn_for(throttled, ROLE)}", '
        f"regions: [{REGIONS[1]}]}}\n"
    )
    out = tmp_path / "out"
    argv = ["scan", "--accounts", str(accounts), "--output-dir", str(out), "--quiet"]
    assert main([*argv, "--format", "json"]) == EXIT_INCOMPLETE
    report = read_report(out)
    expected = {
        key: value
        for key, value in expected_verdicts(fleet, {ok, throttled}).items()
        if (value[2], value[3]) in {(ok, REGIONS[0]), (throttled, REGIONS[1])}
    }
    assert verdicts_of(report) == expected
    assert errors_of(report) == [
        (ok, "ap-south-2", "ListMemberships", "UnrecognizedClientException")
    ]


def test_a_role_that_cannot_be_assumed_is_an_error_per_account_region(
    org: Org, start_emulator: StartEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_emulator(org_fleet(org))
    # STS that refuses every call (the emulator does not serve STS)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.endpoint_url)
    out = tmp_path / "out"
    argv = ["scan", "--accounts", str(accounts_file(tmp_path, org)), "--output-dir", str(out)]
    argv += [arg for region in REGIONS for arg in ("--region", region)]
    assert main([*argv, "--format", "json", "--quiet"]) == EXIT_INCOMPLETE
    report = read_report(out)
    assert report.verdicts == ()
    assert [(a, r, op) for a, r, op, _ in errors_of(report)] == [
        (account, region, "AssumeRole") for account in sorted(org.members) for region in REGIONS
    ]
    assert server.counters.snapshot()["operations"].get("ListMemberships", 0) == 0


def test_assumed_credentials_are_renewed_before_they_expire(org: Org, aws_env: object) -> None:
    """A 15-minute session is inside botocore's 15-minute advisory window from the start, so
    each use renews it: new keys, the same account (moto's STS says whose they are)."""
    account = org.members[0]

    async def keys() -> tuple[str, str]:
        base = aioboto3.Session()
        target = AccountTarget(account, role_arn_for(account, ROLE))
        credentials = assume_role_credentials(
            base, await base.get_credentials(), target, duration=900
        )
        first = await credentials.get_frozen_credentials()
        second = await credentials.get_frozen_credentials()
        return first.access_key, second.access_key

    first, second = anyio.run(keys)
    assert first != second
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=org.url)
    for key in (first, second):
        identity = boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=org.url,
            aws_access_key_id=key,
            aws_secret_access_key="x",
        ).get_caller_identity()
        assert identity["Account"] == account
    assert sts is not None
