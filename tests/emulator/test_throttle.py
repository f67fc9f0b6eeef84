from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from auditor.emulator import EmulatorConfig, RateLimit
from auditor.emulator.throttle import Throttle, TokenBucket
from auditor.fleet import Fleet

StartEmulator = Any


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateLimit(rate=8, burst=3), clock)

    burst = [bucket.try_take() for _ in range(4)]
    clock.now += 0.125  # one token at 8/s, exact in binary
    after_one_token = [bucket.try_take(), bucket.try_take()]
    clock.now += 60
    after_a_minute = [bucket.try_take() for _ in range(4)]

    assert burst == [True, True, True, False]
    assert after_one_token == [True, False]
    assert after_a_minute == [True, True, True, False]  # capped at burst


def test_throttle_keeps_one_bucket_per_operation() -> None:
    clock = FakeClock()
    throttle = Throttle(
        EmulatorConfig(
            rate_limit=RateLimit(rate=1, burst=1),
            rate_limits={"GetTrainedModel": RateLimit(rate=1, burst=2)},
        ),
        clock,
    )

    assert [throttle.admit("GetTrainedModel") for _ in range(3)] == [True, True, False]
    assert [throttle.admit("ListTrainedModels") for _ in range(2)] == [True, False]
    assert [throttle.admit("ListMemberships") for _ in range(2)] == [True, False]


def test_unlimited_operations_always_pass() -> None:
    throttle = Throttle(EmulatorConfig(rate_limits={"GetTrainedModel": RateLimit(1, 1)}))

    assert all(throttle.admit("ListTrainedModels") for _ in range(1000))


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_rate_limit_rejects_nonsense(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimit(rate=rate, burst=burst)


def _memberships_client(url: str, credentials: dict[str, str], no_retries: Config) -> Any:
    return boto3.client("cleanrooms", endpoint_url=url, config=no_retries, **credentials)


def test_rapid_calls_above_the_rate_are_throttled(
    start_emulator: StartEmulator, credentials: dict[str, str], no_retries: Config
) -> None:
    server = start_emulator(EmulatorConfig(rate_limit=RateLimit(rate=20, burst=5)))
    cleanrooms = _memberships_client(server.endpoint_url, credentials, no_retries)
    codes = []
    for _ in range(40):
        try:
            cleanrooms.list_memberships()
            codes.append("OK")
        except cleanrooms.exceptions.ClientError as exc:
            codes.append(exc.response["Error"]["Code"])

    snapshot = server.counters.snapshot()
    assert codes[:5] == ["OK"] * 5
    assert set(codes) == {"OK", "ThrottlingException"}
    assert snapshot["throttled"]["ListMemberships"] == codes.count("ThrottlingException")
    assert snapshot["statuses"]["ListMemberships"]["429"] == codes.count("ThrottlingException")


def test_calls_spaced_below_the_rate_are_not_throttled(
    start_emulator: StartEmulator, credentials: dict[str, str], no_retries: Config
) -> None:
    server = start_emulator(EmulatorConfig(rate_limit=RateLimit(rate=20, burst=5)))
    cleanrooms = _memberships_client(server.endpoint_url, credentials, no_retries)

    for _ in range(12):
        cleanrooms.list_memberships()
        time.sleep(0.06)

    assert server.counters.snapshot()["throttled"] == {}


def test_botocore_retries_ride_out_throttling(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str]
) -> None:
    server = start_emulator(EmulatorConfig(rate_limit=RateLimit(rate=50, burst=1)))
    cleanrooms = _memberships_client(
        server.endpoint_url, credentials, Config(retries={"mode": "standard", "max_attempts": 10})
    )

    for _ in range(5):
        assert len(cleanrooms.list_memberships()["membershipSummaries"]) == len(fleet.memberships)

    assert server.counters.snapshot()["statuses"]["ListMemberships"]["200"] == 5
