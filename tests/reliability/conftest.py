"""Fault injection through the real aioboto3 client against the emulator over loopback HTTP.

Each helper runs one crawl the way ``auditor scan`` does (SDK configured from the
environment, ``open_aws_api`` with the crawl's own socket timeouts) and returns what came out
with the emulator's counters. Backoffs are tiny and attempt caps low so each case takes well
under a second or two.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from auditor.crawler import (
    CrawlConfig,
    CrawlScope,
    CrawlStats,
    RateConfig,
    RetryPolicy,
    collect,
    open_aws_api,
)
from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.fleet import Fleet, FleetModel, generate_fleet
from auditor.models import ModelVersion, ScanError

ACCESS_KEY = "AKIAFAULTINJECTION01"

FAST = CrawlConfig(
    concurrency=4,
    rate=RateConfig(initial_rate=2000.0, max_rate=5000.0),
    retry=RetryPolicy(
        throttle_base_delay=0.002,
        failure_attempts=3,
        failure_base_delay=0.002,
        max_delay=0.02,
        redrive_delay=0.01,
    ),
    connect_timeout=1.0,
    read_timeout=1.0,
)


@pytest.fixture(scope="session")
def fleet() -> Fleet:
    return generate_fleet(seed=21, memberships=2, models=6, versions_per_model=(2, 3))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fault/injection/secret/key/000000000000")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/auditor-test-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/auditor-test-credentials")
    return monkeypatch


@dataclass
class Outcome:
    items: list[ModelVersion | ScanError]
    counters: dict[str, Any]
    stats: CrawlStats

    @property
    def read(self) -> dict[tuple[str, str | None], dict[str, Any]]:
        found: dict[tuple[str, str | None], dict[str, Any]] = {}
        for item in self.items:
            if isinstance(item, ModelVersion):
                assert item.resource.key not in found, f"read twice: {item.resource.key}"
                found[item.resource.key] = dict(item.document)
        return found

    @property
    def errors(self) -> list[ScanError]:
        return [i for i in self.items if isinstance(i, ScanError)]

    def error_rows(self) -> list[tuple[Any, ...]]:
        return sorted(
            (
                str(e.scope),
                e.operation,
                e.code,
                e.resource_arn or "",
                e.version_identifier or "",
                e.membership_id or "",
                e.attempts,
            )
            for e in self.errors
        )


def run_crawl(
    env: pytest.MonkeyPatch,
    fleet: Fleet,
    emulator: EmulatorConfig,
    config: CrawlConfig = FAST,
    scope: CrawlScope | None = None,
) -> Outcome:
    with EmulatorServer(fleet, emulator) as server:
        env.setenv("AWS_ENDPOINT_URL_CLEANROOMS", server.endpoint_url)
        env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)
        stats = CrawlStats()

        async def crawl() -> list[ModelVersion | ScanError]:
            async with open_aws_api(
                max_pool_connections=config.concurrency,
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
            ) as api:
                return await collect(api, scope or CrawlScope(), config=config, stats=stats)

        items = anyio.run(crawl)
    # counted once the server has stopped: a handler still writing has finished by then
    return Outcome(items, server.counters.snapshot(), stats)


def expected_documents(
    fleet: Fleet,
    *,
    skip: Collection[tuple[str, str]] = (),
) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Every version's GetTrainedModel document, as the crawler must hand it on."""
    return {
        (m.arn, v.version_identifier): dict(v.document)
        for m in fleet.models
        for v in m.versions
        if (m.arn, v.version_identifier) not in skip
    }


def version_key(model: FleetModel, index: int = 0) -> str:
    return f"{model.arn}#{model.versions[index].version_identifier}"


def row(
    scope: str,
    operation: str,
    code: str,
    *,
    arn: str = "",
    version: str = "",
    membership: str = "",
    attempts: int = 1,
) -> tuple[Any, ...]:
    return (scope, operation, code, arn, version, membership, attempts)
