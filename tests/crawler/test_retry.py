from __future__ import annotations

import random

import pytest

from auditor.crawler.retry import Deadline, DeadlineExceededError, RetryPolicy, call_with_retry
from auditor.errors import AccessDeniedError, ApiError, ServerError, ThrottledError

from .fakeclock import FakeClock

POLICY = RetryPolicy(
    throttle_attempts=12, throttle_base_delay=0.1, other_attempts=3, other_base_delay=1.0
)


class Flaky:
    """Fails with the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: ApiError) -> None:
        self.errors = list(errors)
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def throttled() -> ThrottledError:
    return ThrottledError("GetTrainedModel", "ThrottlingException", "slow down")


def server_error() -> ServerError:
    return ServerError("GetTrainedModel", "InternalServerException", "oops")


async def test_throttles_are_retried_until_success() -> None:
    clock = FakeClock()
    call = Flaky(*(throttled() for _ in range(5)))
    result = await call_with_retry("Op", call, policy=POLICY, clock=clock, rng=random.Random(1))
    assert result == "ok"
    assert call.attempts == 6
    assert len(clock.sleeps) == 5


async def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    clock = FakeClock()
    call = Flaky(*(throttled() for _ in range(8)))
    await call_with_retry("Op", call, policy=POLICY, clock=clock, rng=random.Random(7))
    for attempt, slept in enumerate(clock.sleeps, start=1):
        assert 0.0 <= slept <= min(POLICY.max_delay, 0.1 * 2 ** (attempt - 1))
    assert len(set(clock.sleeps)) == len(clock.sleeps)  # jittered, not a fixed ladder


async def test_gives_up_on_throttling_after_its_cap_and_says_how_many_attempts() -> None:
    call = Flaky(*(throttled() for _ in range(50)))
    with pytest.raises(ThrottledError) as caught:
        await call_with_retry("Op", call, policy=POLICY, clock=FakeClock())
    assert caught.value.attempts == call.attempts == 12


async def test_server_errors_get_fewer_attempts_than_throttling() -> None:
    call = Flaky(*(server_error() for _ in range(50)))
    with pytest.raises(ServerError) as caught:
        await call_with_retry("Op", call, policy=POLICY, clock=FakeClock())
    assert caught.value.attempts == 3


async def test_non_retryable_errors_fail_at_once() -> None:
    clock = FakeClock()
    call = Flaky(AccessDeniedError("ListTrainedModels", "AccessDeniedException", "no"))
    with pytest.raises(AccessDeniedError) as caught:
        await call_with_retry("Op", call, policy=POLICY, clock=clock)
    assert caught.value.attempts == 1
    assert clock.sleeps == []


async def test_no_backoff_crosses_the_deadline() -> None:
    clock = FakeClock()
    call = Flaky(*(server_error() for _ in range(50)))
    deadline = Deadline(at=0.5)  # every server-error backoff may be up to 1 s
    policy = RetryPolicy(other_attempts=50, other_base_delay=1.0)
    with pytest.raises(DeadlineExceededError) as caught:
        await call_with_retry(
            "Op", call, policy=policy, clock=clock, deadline=deadline, rng=random.Random(3)
        )
    assert clock.time < 0.5
    assert caught.value.attempts == call.attempts
    assert caught.value.code == "ScanDeadlineExceeded"
    assert isinstance(caught.value.__cause__, ServerError)
    assert caught.value.message.startswith("scan deadline reached while retrying")


async def test_nothing_starts_after_the_deadline() -> None:
    clock = FakeClock(start=10.0)
    call = Flaky()
    with pytest.raises(DeadlineExceededError) as caught:
        await call_with_retry("Op", call, policy=POLICY, clock=clock, deadline=Deadline(at=9.0))
    assert call.attempts == 0
    assert caught.value.code == "ScanDeadlineExceeded"


async def test_each_retry_is_reported_before_its_sleep() -> None:
    seen: list[tuple[str, int]] = []
    call = Flaky(throttled(), server_error())
    await call_with_retry(
        "Op",
        call,
        policy=POLICY,
        clock=FakeClock(),
        on_retry=lambda error, attempts, delay: seen.append((error.code, attempts)),
    )
    assert seen == [("ThrottlingException", 1), ("InternalServerException", 2)]
