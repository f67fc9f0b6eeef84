"""How the real client is set up: the per-call costs it cuts must not change what is sent."""

from __future__ import annotations

from typing import Any

import aioboto3
import anyio
import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from auditor.crawler import open_aws_api
from auditor.crawler.aws import (
    AwsCleanRoomsApi,
    _parse_timestamp,
    _remember_credentials,
    client_config,
)
from auditor.crawler.transport import CappedAIOHTTPSession
from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.errors import ApiError, ConnectionFailure, CredentialsError
from auditor.fleet import Fleet


def test_client_config_leaves_validation_to_the_service() -> None:
    config = client_config(max_pool_connections=8)
    assert config.parameter_validation is False
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}


def test_a_session_passed_in_gets_the_fast_timestamp_parser(aws_env: pytest.MonkeyPatch) -> None:
    session = aioboto3.Session()

    async def open_and_close() -> None:
        async with open_aws_api(session=session, region_name="us-east-1"):
            pass

    anyio.run(open_and_close)
    factory = session._session.get_component("response_parser_factory")
    assert factory._defaults["timestamp_parser"] is _parse_timestamp


def test_timestamps_parse_as_aware_datetimes_whatever_their_form() -> None:
    iso = _parse_timestamp("2025-01-02T03:04:05.123000+00:00")
    naive = _parse_timestamp("2025-01-02T03:04:05")
    epoch = _parse_timestamp(1735787045)
    assert iso.isoformat() == "2025-01-02T03:04:05.123000+00:00"
    assert naive.isoformat() == "2025-01-02T03:04:05+00:00"
    assert epoch.isoformat() == "2025-01-02T03:04:05+00:00"


def test_every_request_carries_the_full_user_agent(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request.headers["User-Agent"].decode())

    model = fleet.models[0]
    with EmulatorServer(fleet, EmulatorConfig()) as server:
        aws_env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)

        async def read_twice() -> None:
            async with open_aws_api() as api:
                api._cleanroomsml.meta.events.register("before-send", capture)
                for _ in range(2):
                    await api.get_trained_model(
                        model.membership_id, model.arn, version_identifier=None
                    )

        anyio.run(read_twice)
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert "aiobotocore/" in sent[0]
    assert "auditor-crawler" in sent[0]


class StandIn:
    """A client whose every call raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def get_trained_model(self, **_: Any) -> Any:
        raise self.error


def stand_in_api(error: BaseException) -> AwsCleanRoomsApi:
    return AwsCleanRoomsApi(region="us-east-1", cleanrooms=None, cleanroomsml=StandIn(error))


async def read_with(api: AwsCleanRoomsApi) -> None:
    await api.get_trained_model("m", "arn", version_identifier=None)


def test_the_client_reads_bodies_through_the_capped_transport() -> None:
    assert client_config(max_pool_connections=8).http_session_cls is CappedAIOHTTPSession


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (
            EndpointConnectionError(endpoint_url="http://x"),
            ConnectionFailure,
            "EndpointConnectionError",
        ),
        (NoCredentialsError(), CredentialsError, "NoCredentialsError"),
        (ConnectionResetError("reset"), ConnectionFailure, "ConnectionResetError"),
        (TimeoutError(), ConnectionFailure, "TimeoutError"),
    ],
)
async def test_what_the_sdk_raises_becomes_an_api_error(
    error: BaseException, kind: type[ApiError], code: str
) -> None:
    with pytest.raises(kind) as caught:
        await read_with(stand_in_api(error))
    assert caught.value.code == code
    assert caught.value.__cause__ is error


@pytest.mark.parametrize("bug", [TypeError("unexpected keyword"), KeyError("x"), ValueError("v")])
async def test_a_bug_around_the_sdk_call_crashes_loudly_instead_of_becoming_a_scan_error(
    bug: Exception,
) -> None:
    with pytest.raises(type(bug)) as caught:
        await read_with(stand_in_api(bug))
    assert caught.value is bug


async def test_credentials_that_cannot_be_resolved_up_front_are_left_to_the_first_call() -> None:
    class NoCredentials:
        async def get_credentials(self) -> Any:
            raise NoCredentialsError()

    class Broken:
        async def get_credentials(self) -> Any:
            raise AttributeError("a bug")

    await _remember_credentials(NoCredentials())  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        await _remember_credentials(Broken())  # type: ignore[arg-type]
