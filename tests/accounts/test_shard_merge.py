"""--shard I/N and `auditor merge`: the shards merged are the single run, gate on the whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.cli import EXIT_GATE_FAILED, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, main
from auditor.errors import UsageError
from auditor.models import Severity
from auditor.shard import Shard, parse_shard, shard_of
from tests.accounts.conftest import REGIONS, Org, StartEmulator, accounts_file, org_fleet
from tests.accounts.helpers import errors_of, read_document, read_report, verdicts_of


def _scan(accounts: Path, out: Path, *extra: str) -> int:
    argv = ["scan", "--accounts", str(accounts), "--output-dir", str(out), "--quiet"]
    argv += [arg for region in REGIONS for arg in ("--region", region)]
    return main([*argv, "--format", "json", *extra])


def test_three_shards_merged_equal_one_run(
    org: Org, start_emulator: StartEmulator, tmp_path: Path
) -> None:
    _, denied, _ = org.members
    start_emulator(org_fleet(org), deny_accounts=frozenset({denied}))
    accounts = accounts_file(tmp_path, org)
    assert _scan(accounts, tmp_path / "single") == EXIT_INCOMPLETE
    single = read_report(tmp_path / "single")

    shard_dirs = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
    for index, out in enumerate(shard_dirs, 1):
        code = _scan(accounts, out, "--shard", f"{index}/3")
        shard = read_report(out)
        assert (code == EXIT_INCOMPLETE) == bool(shard.errors)
        assert shard.scan.shard == f"{index}/3"
    shard_units = [
        {(v.resource.account, v.resource.region) for v in read_report(out).verdicts}
        for out in shard_dirs
    ]
    assert sum(len(units) for units in shard_units) == len(set().union(*shard_units))

    reports = [str(out / "report.json") for out in shard_dirs]
    merged_dir = tmp_path / "merged"
    code = main(["merge", *reports, "--output-dir", str(merged_dir), "--format", "all"])
    assert code == EXIT_INCOMPLETE  # the denied account's errors: incomplete, as one run
    merged = read_report(merged_dir)
    assert verdicts_of(merged) == verdicts_of(single)
    assert errors_of(merged) == errors_of(single)
    assert merged.scan.accounts == single.scan.accounts
    assert merged.scan.regions == single.scan.regions
    assert merged.scan.shard is None
    assert merged.scan.mode == "merge"
    assert read_document(merged_dir)["summary"] == read_document(tmp_path / "single")["summary"]
    for name in ("report.html", "report.sarif", "report.junit.xml", "report.md", "report.csv"):
        assert (merged_dir / name).stat().st_size > 0

    # the gate is applied to the whole: failing at low, passing at critical when allowed
    assert single.summary().fail_by_severity  # the fleet has failures
    gate = ["--allow-incomplete", "--format", "json"]
    low = main(
        ["merge", *reports, "--output-dir", str(tmp_path / "low"), "--fail-on", "low", *gate]
    )
    assert low == EXIT_GATE_FAILED
    critical = single.summary().fail_by_severity[Severity.CRITICAL]
    expected = EXIT_GATE_FAILED if critical else EXIT_OK
    top = main(
        ["merge", *reports, "--output-dir", str(tmp_path / "crit"), "--fail-on", "critical", *gate]
    )
    assert top == expected

    # a missing shard makes the merge incomplete, naming it; a shard twice is refused
    partial_dir = tmp_path / "partial"
    assert main(["merge", *reports[:2], "--output-dir", str(partial_dir)]) == EXIT_INCOMPLETE
    assert any("shard 3/3" in line for line in read_report(partial_dir).scan.unreached)
    assert (
        main(["merge", reports[0], reports[0], "--output-dir", str(tmp_path / "x")]) == EXIT_USAGE
    )


def test_every_unit_belongs_to_exactly_one_shard() -> None:
    units = [(f"{n:012d}", region) for n in range(200) for region in REGIONS]
    for count in (1, 2, 3, 7):
        owners = [[i for i in range(1, count + 1) if Shard(i, count).owns(*u)] for u in units]
        assert all(len(found) == 1 for found in owners)
        assert {found[0] for found in owners} == set(range(1, count + 1))
    assert shard_of("000000000001", "eu-west-1", 5) == shard_of("000000000001", "eu-west-1", 5)


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", ""])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_shard(text)
