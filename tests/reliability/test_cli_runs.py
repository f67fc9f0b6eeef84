"""Whole runs of ``auditor scan``: the global ``--timeout`` and SIGINT/SIGTERM mid-scan.

Interruption runs the real command in a subprocess against an emulator in this process,
throttled so the scan takes a while; the signal is sent once the emulator has served some
models, and the run must end promptly with exit 3 and whole, schema-valid, partial reports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.emulator import EmulatorConfig, EmulatorServer, RateLimit
from auditor.fleet import Fleet, generate_fleet
from auditor.reports.load import validate_report_document

from .conftest import ACCESS_KEY

GET = "GetTrainedModel"


@pytest.fixture(scope="module")
def big_fleet() -> Fleet:
    return generate_fleet(seed=8, memberships=2, models=40, versions_per_model=(1, 3))


def scan_env(endpoint: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("PYTHONWARNINGS",)
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": "fault/injection/secret/key/000000000000",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_CLEANROOMS": endpoint,
            "AWS_ENDPOINT_URL_CLEANROOMSML": endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    return env


def read_report(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "report.json").read_text())
    validate_report_document(document, "report.json")
    return document


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def served_versions(counters: dict[str, Any]) -> set[str]:
    resources: dict[str, dict[str, int]] = counters["resources"]
    return set(resources.get(GET, {}))


def result_versions(report: dict[str, Any]) -> set[str]:
    return {
        f"{r['resource']['arn']}#{r['resource']['version_identifier']}" for r in report["results"]
    }


def test_timeout_bounds_a_throttled_scan_and_reports_what_it_did_not_reach(
    big_fleet: Fleet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with EmulatorServer(big_fleet, EmulatorConfig(rate_limit=RateLimit(rate=8, burst=1))) as server:
        for key, value in scan_env(server.endpoint_url).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        started = time.monotonic()
        code = main(
            ["scan", "--timeout", "2", "--output-dir", str(tmp_path), "--format", "all", "--quiet"]
        )
        elapsed = time.monotonic() - started
        counters = server.counters.snapshot()

    assert code == 3
    assert elapsed < 8.0  # unbounded, 80 reads at 8/s take over 10 s
    report = read_report(tmp_path)
    assert report["scan"]["complete"] is False
    assert report["scan"]["interrupted"] is False
    [unreached] = report["scan"]["unreached"]
    assert unreached.startswith("--timeout 2s reached after ")
    assert leftovers(tmp_path) == []
    codes = {e["code"] for e in report["errors"]}
    assert codes == {"ScanDeadlineExceeded"}
    read = result_versions(report)
    assert read
    assert read <= served_versions(counters)
    assert len(read) < big_fleet.version_count
    out, err = capsys.readouterr()
    assert out.startswith("INCOMPLETE (")
    assert "scan deadline" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_scan_writes_whole_partial_reports_and_exits_3(
    big_fleet: Fleet, tmp_path: Path, signum: signal.Signals
) -> None:
    out_dir = tmp_path / "reports"
    emulator = EmulatorConfig(rate_limit=RateLimit(rate=15, burst=2))
    with EmulatorServer(big_fleet, emulator) as server:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auditor",
                "scan",
                "--output-dir",
                str(out_dir),
                "--format",
                "all",
                "--quiet",
            ],
            env=scan_env(server.endpoint_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while server.counters.calls(GET) < 5:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the scan never got going"
                time.sleep(0.05)
            process.send_signal(signum)
            sent = time.monotonic()
            out, err = process.communicate(timeout=20)
            stopped = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        counters = server.counters.snapshot()

    assert process.returncode == 3, err
    assert stopped < 5.0
    assert "Traceback" not in out + err
    assert f"{signum.name} received" in err
    report = read_report(out_dir)
    scan = report["scan"]
    assert scan["complete"] is False
    assert scan["interrupted"] is True
    assert any(f"interrupted by {signum.name}" in line for line in scan["unreached"])
    read = result_versions(report)
    assert read
    assert read <= served_versions(counters)
    assert len(read) < big_fleet.version_count
    assert leftovers(out_dir) == []
    written = sorted(p.name for p in out_dir.iterdir())
    assert "report.json" in written
    assert "report.html" in written
    assert out.startswith("INCOMPLETE (")
