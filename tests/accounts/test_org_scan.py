"""The issue's "done when": three accounts, two regions, assumed roles, one account denying
access and one throttled hard; exactly the expected results and errors."""

from __future__ import annotations

from pathlib import Path

from auditor.cli import EXIT_INCOMPLETE, main
from auditor.emulator import RateLimit
from tests.accounts.conftest import REGIONS, Org, StartEmulator, accounts_file, org_fleet
from tests.accounts.helpers import (
    errors_of,
    expected_verdicts,
    read_document,
    read_report,
    verdicts_of,
)


def test_three_accounts_two_regions_one_denied_one_throttled(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    ok, denied, throttled = org.members
    fleet = org_fleet(org)
    server = start_emulator(
        fleet,
        deny_accounts=frozenset({denied}),
        account_rate_limits={throttled: RateLimit(rate=4.0, burst=1)},
    )
    out = tmp_path / "out"
    argv = ["scan", "--accounts", str(accounts_file(tmp_path, org))]
    argv += [arg for region in REGIONS for arg in ("--region", region)]
    argv += ["--output-dir", str(out), "--format", "json,html", "--quiet"]

    assert main(argv) == EXIT_INCOMPLETE

    report = read_report(out)
    assert verdicts_of(report) == expected_verdicts(fleet, {ok, throttled})
    assert errors_of(report) == [
        (denied, region, "ListMemberships", "AccessDeniedException") for region in REGIONS
    ]
    assert report.scan.accounts == tuple(sorted(org.members))
    assert report.scan.regions == tuple(sorted(REGIONS))
    calls = server.counters.snapshot()
    assert calls["account_throttled"].get(throttled, 0) > 0
    assert set(calls["account_throttled"]) == {throttled}
    summary = {row["account"]: row for row in read_document(out)["summary"]["accounts"]}
    assert summary[denied]["errors"] == 2
    assert summary[denied]["versions"] == 0
    assert summary[ok]["errors"] == 0
    assert summary[ok]["versions"] > 0
