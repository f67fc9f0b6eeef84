"""`auditor demo`: the bundled emulator, a seeded fleet, a real scan through the AWS SDK.

The scan is the same code path as `auditor scan`: the SDK finds the emulator through
``AWS_ENDPOINT_URL_CLEANROOMS`` / ``AWS_ENDPOINT_URL_CLEANROOMSML``, signs with throwaway
credentials, pages, and is throttled by the emulator's token buckets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.fleet import DEFAULT_REGION, Fleet, generate_fleet
from auditor.models import Report, ResourceType

if TYPE_CHECKING:  # the emulator (aiohttp.web) is imported only when a demo runs
    from auditor.emulator import EmulatorConfig, EmulatorServer

# Throwaway credentials: the demo must never send a real key anywhere, even to loopback.
DEMO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAAUDITORDEMO00000",
    "AWS_SECRET_ACCESS_KEY": "auditor-demo-secret-not-a-real-key",
}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")


@dataclass(frozen=True, slots=True)
class DemoSettings:
    seed: int = 7
    memberships: int = 4
    models: int = 300
    noncompliant_share: float = 0.3
    rate: float = 100.0
    burst: int = 10
    latency_ms: float = 20.0
    collaboration_models: int = 40  # other members' models in the memberships' collaborations


def demo_fleet(settings: DemoSettings) -> Fleet:
    return generate_fleet(
        seed=settings.seed,
        memberships=settings.memberships,
        models=settings.models,
        versions_per_model=(1, 3),
        noncompliant_share=settings.noncompliant_share,
        collaboration_models=settings.collaboration_models,
        context=True,
    )


def demo_config(settings: DemoSettings) -> EmulatorConfig:
    from auditor.emulator import EmulatorConfig, RateLimit

    return EmulatorConfig(
        rate_limit=RateLimit(rate=settings.rate, burst=settings.burst),
        latency_ms=settings.latency_ms,
        jitter_ms=settings.latency_ms / 4,
        seed=settings.seed,
    )


@contextmanager
def demo_environment(endpoint_url: str) -> Iterator[None]:
    """Point the SDK at the emulator, with throwaway credentials, for the duration."""
    saved = dict(os.environ)
    try:
        for name in _CLEARED:
            os.environ.pop(name, None)
        os.environ.update(DEMO_CREDENTIALS)
        os.environ["AWS_REGION"] = DEFAULT_REGION
        os.environ["AWS_DEFAULT_REGION"] = DEFAULT_REGION
        os.environ["AWS_ENDPOINT_URL_CLEANROOMS"] = endpoint_url
        os.environ["AWS_ENDPOINT_URL_CLEANROOMSML"] = endpoint_url
        # A user's ~/.aws files must not redirect or re-credential the demo.
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def running_emulator(settings: DemoSettings) -> Iterator[tuple[EmulatorServer, Fleet]]:
    from auditor.emulator import EmulatorServer

    fleet = demo_fleet(settings)
    with EmulatorServer(fleet, demo_config(settings)) as server:
        yield server, fleet


def collaboration_line(report: Report) -> str:
    """What the collaboration view found: "collaboration: 40 models by 3 other members in 2
    collaborations; 6 fail" (a model fails when any of its versions fails a policy)."""
    models: set[str] = set()
    creators: set[str] = set()
    collaborations: set[str] = set()
    failing: set[str] = set()
    for verdict in report.verdicts:
        resource = verdict.resource
        if resource.type is not ResourceType.COLLABORATION_TRAINED_MODEL:
            continue
        models.add(resource.arn)
        creators.add(resource.creator_account or resource.account or "?")
        collaborations.add(resource.collaboration_id or "?")
        if verdict.failures:
            failing.add(resource.arn)
    errors = sum(1 for e in report.errors if e.scope in _COLLABORATION_SCOPES)
    line = (
        f"collaboration: {len(models)} models by {len(creators)} other members in "
        f"{len(collaborations)} collaborations; {len(failing)} fail"
    )
    return line + (f"; {errors} errors" if errors else "")


_COLLABORATION_SCOPES = frozenset({"collaboration", "collaboration-model"})
