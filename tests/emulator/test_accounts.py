"""Several accounts in one emulator: told apart by access key, denied or throttled per account."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from auditor.emulator import EmulatorConfig, EmulatorServer, RateLimit
from auditor.fleet import generate_fleet

A, B = "111111111111", "222222222222"
FLEET = generate_fleet(seed=3, memberships=4, models=8, accounts=[A, B])
KEYS = {"AKIDACCOUNTA": A, "AKIDACCOUNTB": B}
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def _client(server: EmulatorServer, key: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "cleanrooms",
        region_name=region,
        endpoint_url=server.endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key="secret",
        config=NO_RETRIES,
    )


def _membership_accounts(client: Any) -> set[str]:
    ids = {m["id"] for m in client.list_memberships()["membershipSummaries"]}
    return {m.account for m in FLEET.memberships if m.id in ids}


def test_each_caller_sees_only_its_own_account() -> None:
    with EmulatorServer(FLEET, EmulatorConfig(accounts=KEYS)) as server:
        assert _membership_accounts(_client(server, "AKIDACCOUNTA")) == {A}
        assert _membership_accounts(_client(server, "AKIDACCOUNTB")) == {B}
        with pytest.raises(ClientError) as caught:
            _client(server, "AKIDUNKNOWN").list_memberships()
        assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
        other = next(m for m in FLEET.memberships if m.account == B)
        ml = boto3.client(
            "cleanroomsml",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            aws_access_key_id="AKIDACCOUNTA",
            aws_secret_access_key="secret",
            config=NO_RETRIES,
        )
        with pytest.raises(ClientError) as caught:
            ml.list_trained_models(membershipIdentifier=other.id)
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert server.counters.snapshot()["accounts"] == {A: 2, B: 1}


def test_without_a_key_map_every_caller_sees_every_account() -> None:
    with EmulatorServer(FLEET) as server:
        assert _membership_accounts(_client(server, "AKIDANY")) == {A, B}


def test_a_denied_account_and_a_throttled_one_leave_the_other_alone() -> None:
    config = EmulatorConfig(
        accounts=KEYS,
        deny_accounts=frozenset({A}),
        account_rate_limits={B: RateLimit(rate=0.01, burst=1)},
        disabled_regions=frozenset({"ap-east-1"}),
    )
    with EmulatorServer(FLEET, config) as server:
        with pytest.raises(ClientError) as caught:
            _client(server, "AKIDACCOUNTA").list_memberships()
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
        b = _client(server, "AKIDACCOUNTB")
        b.list_memberships()
        with pytest.raises(ClientError) as caught:
            b.list_memberships()
        assert caught.value.response["Error"]["Code"] == "ThrottlingException"
        # B's bucket is its own per region: another region is not throttled
        _client(server, "AKIDACCOUNTB", "eu-west-1").list_memberships()
        with pytest.raises(ClientError) as caught:
            _client(server, "AKIDACCOUNTB", "ap-east-1").list_memberships()
        assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
        assert server.counters.snapshot()["account_throttled"] == {B: 1}


def test_command_line_flags_build_the_account_knobs() -> None:
    from auditor.emulator.command import build_parser, config_from_args

    args = build_parser().parse_args(
        [
            "--account",
            f"AKIDACCOUNTA={A}",
            "--identity-url",
            "http://127.0.0.1:5000",
            "--deny-account",
            B,
            "--account-rate",
            f"{A}=2.5",
            "--disabled-region",
            "ap-east-1",
        ]
    )
    config = config_from_args(args)
    assert config.accounts == {"AKIDACCOUNTA": A}
    assert config.identity_url == "http://127.0.0.1:5000"
    assert config.deny_accounts == frozenset({B})
    assert config.account_rate_limits == {A: RateLimit(rate=2.5, burst=2)}
    assert config.disabled_regions == frozenset({"ap-east-1"})
    assert config.account_scoped
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--account", "AKID=123"])
