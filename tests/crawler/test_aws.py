"""How the real client is set up: the per-call costs it cuts must not change what is sent."""

from __future__ import annotations

from typing import Any

import aioboto3
import anyio
import pytest

from auditor.crawler import open_aws_api
from auditor.crawler.aws import _parse_timestamp, client_config
from auditor.emulator import EmulatorConfig, EmulatorServer
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
