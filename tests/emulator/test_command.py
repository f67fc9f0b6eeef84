from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from auditor.emulator import Fault, FaultKind, RateLimit, build_parser
from auditor.emulator.command import config_from_args, fleet_from_args


def test_parser_builds_the_config_the_flags_describe() -> None:
    args = build_parser().parse_args(
        [
            "--rate", "20", "--burst", "5", "--latency-ms", "3", "--jitter-ms", "1",
            "--error-rate", "0.1", "--page-cap", "3",
            "--deny-membership", "m-1", "--deny-membership", "m-2", "--vanish-model", "arn:x",
            "--fault", "GetTrainedModel=reset:2", "--fault", "arn:aws:x#v=slow",
        ]
    )  # fmt: skip

    config = config_from_args(args)

    assert config.rate_limit == RateLimit(rate=20, burst=5)
    assert (config.latency_ms, config.jitter_ms, config.error_rate) == (3, 1, 0.1)
    assert config.page_cap == 3
    assert config.deny_memberships == {"m-1", "m-2"}
    assert config.vanish_models == {"arn:x"}
    assert config.faults == {
        "GetTrainedModel": Fault(FaultKind.RESET, times=2),
        "arn:aws:x#v": Fault(FaultKind.SLOW),
    }


def test_parser_generates_or_loads_a_fleet(tmp_path: Path) -> None:
    generated = fleet_from_args(
        build_parser().parse_args(["--seed", "5", "--models", "4", "--versions-per-model", "2,2"])
    )
    path = tmp_path / "fleet.json"
    path.write_text(generated.to_json())

    loaded = fleet_from_args(build_parser().parse_args(["--fleet", str(path)]))

    assert generated.version_count == 8
    assert loaded == generated


def test_parser_adds_other_members_models_and_denied_collaborations() -> None:
    args = build_parser().parse_args(
        ["--memberships", "2", "--models", "4", "--collaboration-models", "6",
         "--deny-collaboration", "c-1"]
    )  # fmt: skip

    fleet = fleet_from_args(args)

    assert len(fleet.collaboration_models) == 6
    assert {m.collaboration_id for m in fleet.collaboration_models} == {
        m.collaboration_id for m in fleet.memberships
    }
    assert config_from_args(args).deny_collaborations == {"c-1"}
    assert fleet_from_args(build_parser().parse_args([])).collaboration_models == ()


@pytest.mark.parametrize("bad", ["GetTrainedModel=explode", "=reset", "GetTrainedModel=reset:x"])
def test_parser_rejects_bad_faults(bad: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--fault", bad])


@pytest.mark.parametrize("bad", ["0,1", "3,2", "x"])
def test_parser_rejects_bad_version_ranges(bad: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--versions-per-model", bad])


def test_module_serves_until_sigterm_and_exposes_counters(credentials: dict[str, str]) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "auditor.emulator",
            "--port",
            "0",
            "--models",
            "4",
            "--memberships",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("EMULATOR_URL=http://127.0.0.1:")
        url = line.removeprefix("EMULATOR_URL=")
        cleanrooms = boto3.client(
            "cleanrooms",
            endpoint_url=url,
            config=Config(retries={"total_max_attempts": 1}),
            **credentials,
        )

        summaries = cleanrooms.list_memberships()["membershipSummaries"]
        with urllib.request.urlopen(url + "/_emulator/counters", timeout=5) as response:
            counters = json.load(response)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)

    assert len(summaries) == 2
    assert counters["operations"] == {"ListMemberships": 1}
    assert process.returncode == 0, err
    assert out == ""
