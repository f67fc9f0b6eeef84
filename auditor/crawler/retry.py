"""Retrying failed calls: exponential backoff with full jitter, attempt caps, one deadline.

botocore's own retry modes are off on purpose: ``standard`` drains a shared retry quota under
sustained throttling and then fails calls outright (measured: ~80% of models lost at 50
concurrent), and ``adaptive`` paces at a fraction of the real limit. Here throttling gets a
generous attempt cap because ``auditor.crawler.ratecontrol`` slows the sender meanwhile; 5xx
and connection failures get fewer attempts. Time and randomness are injected for tests.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio

from auditor.errors import ApiError, DeadlineExceededError, ThrottledError

T = TypeVar("T")


class Clock(Protocol):
    """Monotonic time in seconds and a way to wait."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class AnyioClock:
    """The event loop's clock."""

    def now(self) -> float:
        return float(anyio.current_time())

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on the clock after which no new attempt starts; ``None`` means never."""

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None, clock: Clock) -> Deadline:
        return cls(None if seconds is None else clock.now() + seconds)

    def remaining(self, now: float) -> float:
        return math.inf if self.at is None else self.at - now


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry each kind of retryable failure."""

    throttle_attempts: int = 12
    throttle_base_delay: float = 0.05
    other_attempts: int = 5
    other_base_delay: float = 0.25
    max_delay: float = 8.0

    def max_attempts(self, error: ApiError) -> int:
        return self.throttle_attempts if isinstance(error, ThrottledError) else self.other_attempts

    def delay_cap(self, error: ApiError, attempt: int) -> float:
        """Upper bound of the jittered sleep after failed attempt number ``attempt`` (1-based)."""
        base = (
            self.throttle_base_delay if isinstance(error, ThrottledError) else self.other_base_delay
        )
        return min(self.max_delay, base * 2.0 ** (attempt - 1))


RetryHook = Callable[[ApiError, int, float], None]


async def call_with_retry(
    operation: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    clock: Clock,
    deadline: Deadline = Deadline(),
    rng: random.Random | None = None,
    on_retry: RetryHook | None = None,
) -> T:
    """Run ``attempt`` until it succeeds or fails for good.

    Raises the last ``ApiError`` (its ``attempts`` set to the number of attempts made) when it
    is not retryable or when the attempt cap for its kind is reached; raises
    ``DeadlineExceededError`` when the deadline has already passed before an attempt, or when
    the backoff would cross it (its message names the failure being retried, so a report says
    both why the call was not finished and what it was up against).
    ``on_retry(error, attempts_so_far, delay)`` is called before each sleep.
    """
    jitter = rng or random.Random()  # noqa: S311 - jitter, not secrets
    attempts = 0
    while True:
        if deadline.remaining(clock.now()) <= 0:
            raise DeadlineExceededError(
                operation, "ScanDeadlineExceeded", "scan deadline passed", attempts=attempts
            )
        attempts += 1
        try:
            return await attempt()
        except ApiError as error:
            error.attempts = attempts
            if not error.retryable or attempts >= policy.max_attempts(error):
                raise
            delay = jitter.uniform(0.0, policy.delay_cap(error, attempts))
            if delay >= deadline.remaining(clock.now()):
                raise DeadlineExceededError(
                    operation,
                    "ScanDeadlineExceeded",
                    f"scan deadline reached while retrying {error.code}: {error.message}",
                    attempts=attempts,
                    status=error.status,
                ) from error
            if on_retry is not None:
                on_retry(error, attempts, delay)
            await clock.sleep(delay)
