"""A slow account holds only its own account-regions back: --account-timeout bounds them."""

from __future__ import annotations

from pathlib import Path

from auditor.cli import EXIT_INCOMPLETE, main
from auditor.emulator import Fault, FaultKind
from tests.accounts.conftest import REGIONS, Org, StartEmulator, accounts_file, org_fleet
from tests.accounts.helpers import expected_verdicts, read_report, verdicts_of


def test_a_slow_account_times_out_alone(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    ok, slow, other = org.members
    fleet = org_fleet(org)
    slow_memberships = [m.id for m in fleet.memberships if m.account == slow]
    start_emulator(
        fleet,
        faults={m: Fault(FaultKind.SLOW, delay_s=30.0) for m in slow_memberships},
    )
    out = tmp_path / "out"
    argv = ["scan", "--accounts", str(accounts_file(tmp_path, org)), "--output-dir", str(out)]
    argv += [arg for region in REGIONS for arg in ("--region", region)]
    argv += ["--account-timeout", "4", "--max-parallel", "2", "--format", "json", "--quiet"]
    assert main(argv) == EXIT_INCOMPLETE
    report = read_report(out)
    assert verdicts_of(report) == expected_verdicts(fleet, {ok, other})
    assert report.errors
    # bounded by --account-timeout: the slow account's answers (30 s each) never arrived, and
    # only its own account-regions are errors
    assert {(e.account, e.code) for e in report.errors} == {(slow, "ScanDeadlineExceeded")}
    assert not any(v.resource.account == slow for v in report.verdicts)
