from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind
from auditor.fleet import Fleet, FleetModel

StartEmulator = Any


def _serve(
    start_emulator: StartEmulator,
    credentials: dict[str, str],
    faults: dict[str, Fault],
    config: Config | None = None,
) -> tuple[EmulatorServer, Any]:
    server = start_emulator(EmulatorConfig(faults=faults))
    ml = boto3.client(
        "cleanroomsml",
        endpoint_url=server.endpoint_url,
        config=config or Config(retries={"total_max_attempts": 1}),
        **credentials,
    )
    return server, ml


def _get(ml: Any, model: FleetModel) -> Any:
    return ml.get_trained_model(membershipIdentifier=model.membership_id, trainedModelArn=model.arn)


@pytest.mark.parametrize("kind", [FaultKind.RESET, FaultKind.TRUNCATED])
def test_cut_connections_surface_as_connection_errors(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], kind: FaultKind
) -> None:
    model, healthy = fleet.models[0], fleet.models[1]
    server, ml = _serve(start_emulator, credentials, {model.arn: Fault(kind)})

    with pytest.raises(ConnectionClosedError):
        _get(ml, model)
    assert _get(ml, healthy)["trainedModelArn"] == healthy.arn
    assert server.counters.snapshot()["faulted"] == {"GetTrainedModel": 1}


def test_non_json_200_parses_to_no_fields(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    _, ml = _serve(start_emulator, credentials, {"GetTrainedModel": Fault(FaultKind.NOT_JSON)})

    got = _get(ml, model)

    assert "trainedModelArn" not in got
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_wrong_types_pass_through_botocore(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    _, ml = _serve(start_emulator, credentials, {model.arn: Fault(FaultKind.WRONG_TYPES)})

    got = _get(ml, model)

    assert isinstance(got["name"], int)
    assert isinstance(got["resourceConfig"]["instanceType"], int)
    assert all(isinstance(value, int) for value in got["tags"].values())


def test_huge_body_keeps_its_shape(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    fault = Fault(FaultKind.HUGE, huge_bytes=2_000_000)
    _, ml = _serve(start_emulator, credentials, {model.arn: fault})

    got = _get(ml, model)

    assert got["trainedModelArn"] == model.arn
    assert len(got["description"]) > 1_900_000


def test_huge_chunked_body_is_streamed_without_a_length(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    fault = Fault(FaultKind.HUGE_CHUNKED, huge_bytes=3_000_000)
    server, ml = _serve(start_emulator, credentials, {model.arn: fault})

    got = _get(ml, model)  # botocore reads a chunked body to its end

    headers = got["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in headers
    assert got["trainedModelArn"] == model.arn
    streamed = server.counters.snapshot()["streamed_bytes"]["GetTrainedModel"]
    assert 3_000_000 - 64 * 1024 <= streamed <= 3_000_000


def test_repeat_token_answers_a_follow_up_page_with_its_own_token(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    server = start_emulator(
        EmulatorConfig(page_cap=1, faults={"ListTrainedModels": Fault(FaultKind.REPEAT_TOKEN)})
    )
    ml = boto3.client(
        "cleanroomsml",
        endpoint_url=server.endpoint_url,
        config=Config(retries={"total_max_attempts": 1}),
        **credentials,
    )
    membership = fleet.memberships[0].id
    first = ml.list_trained_models(membershipIdentifier=membership)
    token = first["nextToken"]
    second = ml.list_trained_models(membershipIdentifier=membership, nextToken=token)
    assert second["nextToken"] == token
    assert second["trainedModels"] != first["trainedModels"]  # the page itself is the next one


def test_slow_response_outlasts_a_read_timeout(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    impatient = Config(retries={"total_max_attempts": 1}, read_timeout=0.2)
    _, ml = _serve(
        start_emulator, credentials, {model.arn: Fault(FaultKind.SLOW, delay_s=1.0)}, impatient
    )

    with pytest.raises(ReadTimeoutError):
        _get(ml, model)


def test_fault_limited_to_first_requests_then_heals(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    server, ml = _serve(start_emulator, credentials, {model.arn: Fault(FaultKind.RESET, times=2)})
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(_get(ml, model)["trainedModelArn"])
        except ConnectionClosedError:
            outcomes.append("reset")

    assert outcomes == ["reset", "reset", model.arn]
    assert server.counters.snapshot()["faulted"] == {"GetTrainedModel": 2}


def test_most_specific_fault_key_wins(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    version_key = f"{model.arn}#{model.latest.version_identifier}"
    _, ml = _serve(
        start_emulator,
        credentials,
        {version_key: Fault(FaultKind.WRONG_TYPES), "GetTrainedModel": Fault(FaultKind.NOT_JSON)},
    )

    assert isinstance(_get(ml, model)["name"], int)
    assert "name" not in _get(ml, fleet.models[1])


def test_botocore_retries_recover_from_a_reset(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    model = fleet.models[0]
    retrying = Config(retries={"mode": "standard", "max_attempts": 3})
    server, ml = _serve(
        start_emulator, credentials, {model.arn: Fault(FaultKind.RESET, times=1)}, retrying
    )

    assert _get(ml, model)["trainedModelArn"] == model.arn
    assert server.counters.calls("GetTrainedModel") == 2
