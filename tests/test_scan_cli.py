"""`auditor scan` through the real SDK against the emulator: regions, scope, usage errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from auditor.cli import main
from auditor.emulator import EmulatorServer
from auditor.fleet import generate_fleet
from auditor.reports.load import validate_report_document
from tests.sdk_env import point_sdk_at

FLEET = generate_fleet(seed=31, memberships=2, models=12, versions_per_model=(1, 2))


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with EmulatorServer(FLEET) as server:
        point_sdk_at(monkeypatch, server.endpoint_url)
        yield server


def _scan(tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out"
    code = main(["scan", "--quiet", "--format", "json", "--output-dir", str(out), *argv])
    document = json.loads((out / "report.json").read_text())
    validate_report_document(document, "report.json")
    return code, document


def test_region_all_scans_every_clean_rooms_region_from_the_sdk_data(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    code, report = _scan(tmp_path, "--region", "all")
    expected = botocore.session.get_session().get_available_regions("cleanrooms")
    assert "us-east-1" in expected
    assert len(expected) > 3
    assert set(report["scan"]["regions"]) == set(expected)
    assert report["summary"]["versions"] == FLEET.version_count  # the fleet lives in us-east-1
    assert report["errors"] == []
    assert code == 1  # the seeded fleet has high failures; the scan itself is complete
    callers = emulator.counters.snapshot()["callers"]
    assert {key.split("/")[1] for key in callers} == set(expected)


def test_latest_only_reads_one_version_per_model_and_says_so(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    _, report = _scan(tmp_path, "--latest-only", "--format", "json,html,markdown")
    latest = {(m.arn, m.latest.version_identifier) for m in FLEET.models}
    seen = {(r["resource"]["arn"], r["resource"]["version_identifier"]) for r in report["results"]}
    assert seen == latest
    assert report["scan"]["filters"] == {"memberships": [], "models": [], "latest_only": True}
    assert "latest version only" in (tmp_path / "out" / "report.html").read_text()
    assert "Narrowed scan" in (tmp_path / "out" / "report.md").read_text()


def test_whole_estate_scan_records_no_filters(emulator: EmulatorServer, tmp_path: Path) -> None:
    _, report = _scan(tmp_path)
    assert "filters" not in report["scan"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shard", "3/2"], "shard"),
        (["--shard", "x"], "shard"),
        (["--profile", "no-such-profile"], "no-such-profile"),
        (["--model", "arn:aws:s3:::bucket"], "not a Clean Rooms ML trained model ARN"),
    ],
)
def test_configuration_mistakes_exit_2_with_one_line_and_no_report(
    emulator: EmulatorServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exited:  # argparse's own usage errors exit 2 too
        raise SystemExit(main(["scan", "--quiet", "--output-dir", str(out), *argv]))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()
    assert emulator.counters.snapshot()["total"] == 0


def test_unwritable_output_dir_is_refused_before_scanning(
    emulator: EmulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["scan", "--quiet", "--output-dir", str(blocker / "reports")]) == 2
    assert "reports" in capsys.readouterr().err
    assert emulator.counters.snapshot()["total"] == 0
