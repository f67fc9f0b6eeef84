"""Several accounts through a real STS and Organizations (moto's server) and the emulator.

moto's server answers STS ``AssumeRole``/``GetCallerIdentity`` and Organizations
``ListAccounts``; the SDK finds it through ``AWS_ENDPOINT_URL_STS`` /
``AWS_ENDPOINT_URL_ORGANIZATIONS``. The emulator serves Clean Rooms data and tells accounts
apart by asking moto who holds each request's access key (``identity_url``), so the scanner
talks to both exactly as it would to AWS.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.fleet import Fleet, generate_fleet

REGIONS = ("eu-west-1", "us-east-1")
ROLE = "AuditorReadOnly"
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAMANAGEMENT000001",
    "AWS_SECRET_ACCESS_KEY": "management-secret-not-real",
}


@dataclass(frozen=True)
class Org:
    url: str
    management: str
    members: tuple[str, str, str]  # ok, denied, throttled
    closed: str  # SUSPENDED: --org must skip it


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def org(moto_url: str) -> Org:
    client = boto3.client(
        "organizations",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id=BASE_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=BASE_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    members = []
    for name in ("ok", "denied", "throttled"):
        status = client.create_account(Email=f"{name}@example.com", AccountName=name)
        members.append(status["CreateAccountStatus"]["AccountId"])
    ok, denied, throttled = members
    closed = client.create_account(Email="closed@example.com", AccountName="closed")
    closed_id = closed["CreateAccountStatus"]["AccountId"]
    client.close_account(AccountId=closed_id)
    return Org(moto_url, organization["MasterAccountId"], (ok, denied, throttled), closed_id)


def org_fleet(org: Org, memberships_per_account: int = 2, models: int = 8) -> Fleet:
    """Memberships of the three member accounts in both regions."""
    memberships, fleet_models = [], []
    for seed, region in enumerate(REGIONS):
        part = generate_fleet(
            seed=100 + seed,
            memberships=memberships_per_account * len(org.members),
            models=models,
            versions_per_model=(1, 2),
            noncompliant_share=0.5,
            region=region,
            accounts=org.members,
        )
        memberships += part.memberships
        fleet_models += part.models
    return Fleet(memberships=tuple(memberships), models=tuple(fleet_models))


@pytest.fixture
def aws_env(org: Org, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], None]:
    """The environment of a scan: base credentials, STS/Organizations at moto; call the
    returned function with the emulator's URL."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", org.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", org.url)

    def point_at(emulator_url: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMS", emulator_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", emulator_url)

    return point_at


StartEmulator = Callable[..., EmulatorServer]


@pytest.fixture
def start_emulator(
    org: Org, aws_env: Callable[[str], None]
) -> Iterator[Callable[..., EmulatorServer]]:
    servers: list[EmulatorServer] = []

    def start(fleet: Fleet, **knobs: object) -> EmulatorServer:
        config = EmulatorConfig(identity_url=org.url, **knobs)  # type: ignore[arg-type]
        server = EmulatorServer(fleet, config).start()
        servers.append(server)
        aws_env(server.endpoint_url)
        return server

    yield start
    for server in servers:
        server.stop()


def accounts_file(tmp_path: Path, org: Org, **extra: str) -> Path:
    lines = ["defaults:", f"  role_name: {ROLE}", "accounts:"]
    lines += [f'  - id: "{account}"' for account in org.members]
    path = tmp_path / "accounts.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path
