"""`--workers` over several accounts (assumed roles, one denied, one throttled): the report of
two worker processes is the report of one."""

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
from tests.test_workers import _errors, _results


def test_three_accounts_two_regions_in_workers_report_what_one_process_does(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    ok, denied, throttled = org.members
    fleet = org_fleet(org)
    start_emulator(
        fleet,
        deny_accounts=frozenset({denied}),
        account_rate_limits={throttled: RateLimit(rate=20.0, burst=1)},
    )
    argv = ["scan", "--accounts", str(accounts_file(tmp_path, org)), "--quiet"]
    argv += [arg for region in REGIONS for arg in ("--region", region)]
    documents = {}
    for workers in ("1", "2"):
        out = tmp_path / workers
        code = main([*argv, "--output-dir", str(out), "--format", "json", "--workers", workers])
        assert code == EXIT_INCOMPLETE
        documents[workers] = read_document(out)
        if workers == "2":
            report = read_report(out)
            assert verdicts_of(report) == expected_verdicts(fleet, {ok, throttled})
            assert errors_of(report) == [
                (denied, region, "ListMemberships", "AccessDeniedException") for region in REGIONS
            ]
    one, two = documents["1"], documents["2"]
    assert _results(two) == _results(one)
    assert _errors(two) == _errors(one)
    assert two["summary"] == one["summary"]
    assert two["scan"]["accounts"] == one["scan"]["accounts"]
