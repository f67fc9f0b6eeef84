from __future__ import annotations

import random

import pytest

from auditor.crawler.retry import Deadline, DeadlineExceededError, RetryPolicy, call_with_retry
from auditor.errors import AccessDeniedError, ApiError, ServerError, ThrottledError

from .fakeclock import FakeClock

POLICY = RetryPolicy(throttle_base_delay=0.1, failure_attempts=3, failure_base_delay=1.0)


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


async def test_throttling_never_uses_up_the_budget_however_long_it_lasts() -> None:
    clock = FakeClock()
    call = Flaky(*(throttled() for _ in range(500)))
    result = await call_with_retry("Op", call, policy=POLICY, clock=clock, rng=random.Random(2))
    assert result == "ok"
    assert call.attempts == 501
    assert max(clock.sleeps) <= POLICY.max_delay


async def test_throttles_between_failures_do_not_count_against_the_failure_budget() -> None:
    # the measured loss: four throttles then one 5xx used to give up after five attempts
    call = Flaky(*(throttled() for _ in range(4)), server_error(), *(throttled() for _ in range(4)))
    assert await call_with_retry("Op", call, policy=POLICY, clock=FakeClock()) == "ok"
    assert call.attempts == 10

    interleaved = Flaky(*(e for _ in range(10) for e in (throttled(), throttled(), server_error())))
    with pytest.raises(ServerError) as caught:
        await call_with_retry("Op", interleaved, policy=POLICY, clock=FakeClock())
    # given up at the third failure (the budget), every attempt counted in the report
    assert caught.value.attempts == interleaved.attempts == 9


async def test_throttling_is_bounded_by_the_deadline_only() -> None:
    clock = FakeClock()
    call = Flaky(*(throttled() for _ in range(100_000)))
    with pytest.raises(DeadlineExceededError) as caught:
        await call_with_retry(
            "Op", call, policy=POLICY, clock=clock, deadline=Deadline(at=60.0), rng=random.Random(5)
        )
    assert clock.time < 60.0
    assert caught.value.attempts == call.attempts > 12
    assert isinstance(caught.value.__cause__, ThrottledError)


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
    policy = RetryPolicy(failure_attempts=50, failure_base_delay=1.0)
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
