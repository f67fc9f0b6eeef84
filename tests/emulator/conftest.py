from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.fleet import Fleet, generate_fleet

CREDENTIALS = {
    "aws_access_key_id": "AKIDEXAMPLE",
    "aws_secret_access_key": "secret",
    "region_name": "us-east-1",
}
NO_RETRIES = Config(retries={"total_max_attempts": 1})

StartEmulator = Callable[..., EmulatorServer]
MakeClient = Callable[..., Any]


@pytest.fixture
def credentials() -> dict[str, str]:
    return dict(CREDENTIALS)


@pytest.fixture
def no_retries() -> Config:
    return NO_RETRIES


@pytest.fixture(scope="session")
def fleet() -> Fleet:
    return generate_fleet(seed=11, memberships=3, models=12, versions_per_model=(1, 4))


@pytest.fixture
def start_emulator(fleet: Fleet) -> Iterator[StartEmulator]:
    """Start an emulator (on the session fleet unless given one); stopped after the test."""
    servers: list[EmulatorServer] = []

    def start(config: EmulatorConfig | None = None, fleet_: Fleet | None = None) -> EmulatorServer:
        server = EmulatorServer(fleet_ or fleet, config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> EmulatorServer:
    return start_emulator()


@pytest.fixture
def client(emulator: EmulatorServer) -> MakeClient:
    """A boto3 client on the default emulator; botocore retries are off so counts are exact."""

    def make(service: str, config: Config = NO_RETRIES, **overrides: Any) -> Any:
        return client_for(emulator, service, config, **overrides)

    return make


def client_for(
    server: EmulatorServer, service: str, config: Config = NO_RETRIES, **overrides: Any
) -> Any:
    kwargs: dict[str, Any] = {**CREDENTIALS, "endpoint_url": server.endpoint_url, **overrides}
    return boto3.client(service, config=config, **kwargs)
