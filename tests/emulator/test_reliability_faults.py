"""The fault kinds added for reliability testing, through plain boto3: 5xx storms that end,
credentials that expire after N calls, follow-up pages whose nextToken is refused, and
wrong types at exact fields."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from auditor.emulator import EmulatorConfig, Fault, FaultKind
from auditor.emulator.command import build_parser, config_from_args
from auditor.fleet import Fleet

from .conftest import NO_RETRIES, StartEmulator


def _ml(endpoint: str, credentials: dict[str, str]) -> Any:
    return boto3.client("cleanroomsml", endpoint_url=endpoint, config=NO_RETRIES, **credentials)


def test_a_5xx_storm_ends_after_its_duration(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    server = start_emulator(
        EmulatorConfig(faults={"GetTrainedModel": Fault(FaultKind.SERVER_ERROR, duration_s=0.3)})
    )
    ml = _ml(server.endpoint_url, credentials)
    args = {"membershipIdentifier": model.membership_id, "trainedModelArn": model.arn}
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            ml.get_trained_model(**args)
        assert caught.value.response["Error"]["Code"] == "ServiceUnavailableException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    time.sleep(0.35)
    assert ml.get_trained_model(**args)["trainedModelArn"] == model.arn
    assert server.counters.snapshot()["statuses"]["GetTrainedModel"] == {"503": 2, "200": 1}


def test_credentials_expire_after_n_calls_for_that_key_only(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    server = start_emulator(EmulatorConfig(expire_credentials={"AKIDEXAMPLE": 2}))
    ml = _ml(server.endpoint_url, credentials)
    membership = fleet.memberships[0].id
    ml.list_trained_models(membershipIdentifier=membership)
    ml.list_trained_models(membershipIdentifier=membership)
    with pytest.raises(ClientError) as caught:
        ml.list_trained_models(membershipIdentifier=membership)
    assert caught.value.response["Error"]["Code"] == "ExpiredTokenException"
    other = _ml(server.endpoint_url, {**credentials, "aws_access_key_id": "AKIDOTHER"})
    assert other.list_trained_models(membershipIdentifier=membership)["trainedModels"]


def test_reject_token_serves_the_first_page_and_refuses_the_next(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    membership = fleet.memberships[0].id
    server = start_emulator(
        EmulatorConfig(page_cap=1, faults={membership: Fault(FaultKind.REJECT_TOKEN)})
    )
    ml = _ml(server.endpoint_url, credentials)
    first = ml.list_trained_models(membershipIdentifier=membership)
    assert len(first["trainedModels"]) == 1
    with pytest.raises(ClientError) as caught:
        ml.list_trained_models(membershipIdentifier=membership, nextToken=first["nextToken"])
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Invalid pagination token",
    }


def test_wrong_types_at_exact_fields(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    fault = Fault(FaultKind.WRONG_TYPES, fields={"resourceConfig.instanceType": 7, "name": None})
    server = start_emulator(EmulatorConfig(faults={model.arn: fault}))
    ml = _ml(server.endpoint_url, credentials)
    got = ml.get_trained_model(membershipIdentifier=model.membership_id, trainedModelArn=model.arn)
    assert got["resourceConfig"]["instanceType"] == 7
    assert "name" not in got
    assert got["trainedModelArn"] == model.arn


def test_the_command_line_takes_the_new_knobs() -> None:
    args = build_parser().parse_args(
        ["--expire-credentials", "AKIDEXAMPLE=5", "--fault", "GetTrainedModel=5xx:3"]
    )
    config = config_from_args(args)
    assert config.expire_credentials == {"AKIDEXAMPLE": 5}
    assert config.faults == {"GetTrainedModel": Fault(FaultKind.SERVER_ERROR, times=3)}
