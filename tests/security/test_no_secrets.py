"""No credential ever leaves the process: a verbose scan with recognisable fake credentials,
forced through denied memberships, broken responses and credentials expiring mid-scan, must
not print or write any part of them anywhere (stdout, stderr, any report format)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.crawler import redact
from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind
from auditor.fleet import generate_fleet

ACCESS_KEY = "AKIASECRETCANARY1234"
SECRET_KEY = "canary/secret/KEY+wJalrXUtnFEMI/K7MDENGbPxRfiCY0000"
SESSION_TOKEN = "canary-session-token-FwoGZXIvYXdzEJr//////////wEaDCANARYTOKEN0123456789=="
# the whole values and their distinctive parts (a partial leak is still a leak)
CANARIES = (
    ACCESS_KEY,
    "SECRETCANARY",
    SECRET_KEY,
    "canary/secret",
    "wJalrXUtnFEMI",
    SESSION_TOKEN,
    "canary-session-token",
    "CANARYTOKEN",
    "FwoGZXIvYXdzEJr",
)


def test_a_verbose_failing_scan_leaks_no_credential_anywhere(tmp_path: Path) -> None:
    fleet = generate_fleet(seed=4, memberships=3, models=9, versions_per_model=(1, 2))
    emulator = EmulatorConfig(
        deny_memberships=frozenset({fleet.memberships[0].id}),  # AccessDenied echoes the key
        faults={
            f"{fleet.models[3].arn}#{fleet.models[3].versions[0].version_identifier}": Fault(
                FaultKind.NOT_JSON
            ),
            f"{fleet.models[4].arn}#{fleet.models[4].versions[0].version_identifier}": Fault(
                FaultKind.RESET, times=1
            ),
        },
        expire_credentials={ACCESS_KEY: 14},
    )
    out_dir = tmp_path / "reports"
    with EmulatorServer(fleet, emulator) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_SESSION_TOKEN": SESSION_TOKEN,
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_CLEANROOMS": server.endpoint_url,
                "AWS_ENDPOINT_URL_CLEANROOMSML": server.endpoint_url,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "auditor",
                "-v",
                "scan",
                "--output-dir",
                str(out_dir),
                "--format",
                "all",
                "--concurrency",
                "2",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        counters = server.counters.snapshot()

    # the run did go through every failure path it was meant to
    assert run.returncode == 3, run.stderr[-3000:]
    assert counters["statuses"]["ListTrainedModels"].get("403", 0) >= 1 or any(
        "403" in s for s in counters["statuses"].values()
    )
    assert any(f"{ACCESS_KEY}/" in caller for caller in counters["callers"])  # really used
    assert "Sending http request" in run.stderr  # botocore's DEBUG lines were on
    assert "ExpiredTokenException" in run.stderr
    outputs = {"stdout": run.stdout, "stderr": run.stderr}
    files = sorted(out_dir.iterdir())
    assert len(files) >= 5
    outputs.update({path.name: path.read_text(errors="replace") for path in files})
    for name, text in outputs.items():
        for canary in CANARIES:
            assert canary not in text, f"{canary!r} leaked into {name}"
    assert redact.REDACTED in run.stderr  # the filter, not luck, kept them out


def test_redact_covers_what_botocore_logs() -> None:
    redact.remember([ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, "short"])
    headers = (
        "headers={'X-Amz-Security-Token': b'" + SESSION_TOKEN + "', 'Authorization': "
        "b'AWS4-HMAC-SHA256 Credential=ASIAZZZZZZZZZZZZZZZZ/20260101/us-east-1/cleanrooms-ml/"
        "aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=0123456789abcdef0123456789abcdef'}"
    )
    canonical = "host:example\nx-amz-security-token:some-other-token/with+chars=\n"
    message = f"User: {ACCESS_KEY} is not authorized; secret {SECRET_KEY}"
    for text in (headers, canonical, message):
        clean = redact.redact(text)
        for canary in (*CANARIES, "ASIAZZZZ", "0123456789abcdef", "some-other-token"):
            assert canary not in clean, (canary, clean)
    assert redact.redact("short and sweet") == "short and sweet"  # too short to be a secret
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token" in redact.redact(headers)


def test_log_records_are_redacted_before_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    redact.install()
    redact.remember([SESSION_TOKEN])
    with caplog.at_level(logging.DEBUG, logger="botocore.test"):
        logging.getLogger("botocore.test").debug("token %s and key %s", SESSION_TOKEN, ACCESS_KEY)
        try:
            raise ValueError(f"boom {SESSION_TOKEN}")
        except ValueError:
            logging.getLogger("botocore.test").exception("failed")
    text = caplog.text
    assert SESSION_TOKEN not in text
    assert ACCESS_KEY not in text
    assert "token [REDACTED] and key [REDACTED]" in text
