from __future__ import annotations

import pytest

from auditor.crawler import CrawlConfig, RateConfig, RetryPolicy
from auditor.fleet import Fleet, generate_fleet
from auditor.models import ModelVersion, ScanError

# Fast but honest: the pacers start high so small fleets do not wait on a ramp-up, and
# backoffs are short so retries do not stretch the suite.
FAST = CrawlConfig(
    concurrency=8,
    rate=RateConfig(initial_rate=2000.0, max_rate=5000.0),
    retry=RetryPolicy(
        throttle_base_delay=0.005, failure_base_delay=0.005, max_delay=0.05, redrive_delay=0.01
    ),
)


@pytest.fixture(scope="session")
def fleet() -> Fleet:
    return generate_fleet(seed=3, memberships=3, models=14, versions_per_model=(1, 4))


@pytest.fixture
def fast() -> CrawlConfig:
    return FAST


def all_keys(fleet: Fleet) -> set[tuple[str, str]]:
    return {(m.arn, v.version_identifier) for m in fleet.models for v in m.versions}


def latest_keys(fleet: Fleet) -> set[tuple[str, str]]:
    return {(m.arn, m.latest.version_identifier) for m in fleet.models}


def read_keys(items: list[ModelVersion | ScanError]) -> list[tuple[str, str | None]]:
    return [i.resource.key for i in items if isinstance(i, ModelVersion)]


def errors_of(items: list[ModelVersion | ScanError]) -> list[ScanError]:
    return [i for i in items if isinstance(i, ScanError)]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The SDK's own configuration path, pointed at nothing real: fake keys, no profile files."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/auditor-test-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/auditor-test-credentials")
    return monkeypatch
