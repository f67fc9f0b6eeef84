"""Whole runs of ``auditor scan``: the global ``--timeout`` and SIGINT/SIGTERM mid-scan.

Interruption runs the real command in a subprocess against an emulator in this process,
throttled so the scan takes a while; the signal is sent once the emulator has served some
models, and the run must stop calling at once (counted by the emulator, never timed), exit 3
and write whole, schema-valid, partial reports that account for every version of the fleet.
No test here asserts elapsed time: subprocess waits are hang guards only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import replace
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
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.endswith(".tmp") or p.name.startswith(".auditor-staging-")
    )


def served_versions(counters: dict[str, Any]) -> set[str]:
    resources: dict[str, dict[str, int]] = counters["resources"]
    return set(resources.get(GET, {}))


def result_versions(report: dict[str, Any]) -> set[str]:
    return {
        f"{r['resource']['arn']}#{r['resource']['version_identifier']}" for r in report["results"]
    }


def unaccounted(fleet: Fleet, report: dict[str, Any]) -> list[str]:
    """Versions of the fleet neither in the results nor covered by an error (for the version,
    its model's listing, its membership's listing, or the region): silently dropped."""
    read = result_versions(report)
    errors: Iterable[dict[str, Any]] = report["errors"]
    covered_versions = {
        f"{e['resource_arn']}#{e.get('version_identifier')}"
        for e in errors
        if e["scope"] == "version"
    }
    covered_models = {e["resource_arn"] for e in errors if e["scope"] == "trained-model"}
    covered_memberships = {e["membership_id"] for e in errors if e["scope"] == "membership"}
    whole_region = any(e["scope"] in ("region", "account") for e in errors)
    missing = []
    for model in fleet.models:
        for version in model.versions:
            key = f"{model.arn}#{version.version_identifier}"
            if not (
                key in read
                or key in covered_versions
                or model.arn in covered_models
                or model.membership_id in covered_memberships
                or whole_region
            ):
                missing.append(key)
    return missing


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
        code = main(
            ["scan", "--timeout", "2", "--output-dir", str(tmp_path), "--format", "all", "--quiet"]
        )
        counters = server.counters.snapshot()

    assert code == 3
    # unbounded, 80 reads at 8/s take over 10 s: the deadline cut the scan short
    assert counters["operations"].get(GET, 0) < big_fleet.version_count
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
    assert unaccounted(big_fleet, report) == []
    out, err = capsys.readouterr()
    assert err.startswith("INCOMPLETE (")  # the verdict goes to stderr
    assert out.startswith("reports: ")
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
                "--concurrency",
                "4",
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
            at_signal = server.counters.calls(GET)
            out, err = process.communicate(timeout=60)  # a hang guard, not a measurement
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        counters = server.counters.snapshot()

    assert process.returncode == 3, err
    # no call started after the stop: at most the 4 in flight, and one the pacer had released
    assert counters["operations"][GET] - at_signal <= 5
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
    # every version read was kept; what was not reached is an error, none silently dropped
    assert unaccounted(big_fleet, report) == []
    interrupted = [e for e in report["errors"] if e["code"] == "ScanInterrupted"]
    assert interrupted
    assert {e["scope"] for e in report["errors"]} <= {
        "version",
        "trained-model",
        "membership",
        "region",
    }
    assert leftovers(out_dir) == []
    written = sorted(p.name for p in out_dir.iterdir())
    assert "report.json" in written
    assert "report.html" in written
    assert "report.manifest.json" in written
    assert err.count("INCOMPLETE (") == 1  # the verdict, on stderr
    assert out.startswith("reports: ")


# A pattern an outside tester found past the old hand-written guard: with Python's backtracking
# ``re`` it took ~3.7 s on a 33-character name and ~1.35x more per character, so a 42-character
# name pinned a `--timeout 10` scan at 100% CPU for over 90 s, deaf to SIGTERM.
BACKTRACKING_PATTERN = "^([a-z0-9]{1,10}-?){1,10}$"
HOSTILE_NAME = "a" * 41 + "!"


def test_a_pattern_that_backtracks_in_re_cannot_pin_a_scan(tmp_path: Path) -> None:
    fleet = generate_fleet(seed=3, memberships=1, models=3)
    first = fleet.models[0]
    hostile = replace(
        first.versions[0], document={**first.versions[0].document, "name": HOSTILE_NAME}
    )
    fleet = replace(fleet, models=(replace(first, versions=(hostile,)), *fleet.models[1:]))
    pack = tmp_path / "names.yaml"
    pack.write_text(
        "version: 1\n"
        "policies:\n"
        "  - id: model-name-shape\n"
        "    title: Model names are dash-separated words\n"
        "    severity: low\n"
        "    resource: trained-model\n"
        f"    check: {{path: name, op: regex, value: '{BACKTRACKING_PATTERN}'}}\n"
    )
    out = tmp_path / "out"
    argv = ["scan", "--quiet", "--timeout", "10", "--policies", str(pack), "--fail-on", "low"]
    with EmulatorServer(fleet) as server:
        done = subprocess.run(
            [sys.executable, "-m", "auditor", *argv, "--output-dir", str(out)],
            env=scan_env(server.endpoint_url),
            capture_output=True,
            text=True,
            timeout=60,  # a hang guard: the old engine ran for minutes on this name
            check=False,
        )
    assert done.returncode == 1, done.stderr  # complete, and the hostile name fails the policy
    report = read_report(out)
    failing = [r["resource"]["name"] for r in report["results"] if r["status"] == "fail"]
    assert failing == [HOSTILE_NAME]
    assert report["scan"]["complete"] is True
