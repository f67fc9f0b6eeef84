"""Retrying failed calls: two separate budgets, exponential backoff with full jitter, one deadline.

Throttling and failure are different things and are budgeted apart:

* **Throttling** (``ThrottledError``) is the service asking for a slower pace, not a failure.
  ``auditor.crawler.ratecontrol`` slows the sender on every throttle; the call itself is
  retried (after a short jittered pause) for as long as it takes. No number of throttles
  gives a call up: only the scan's deadline (``--timeout``) or an interruption ends it.
* **Failures** (5xx, timeouts, cut connections: the other ``RetryableApiError``\\s) have a
  budget of ``failure_attempts`` attempts per call, with jittered exponential backoff. A
  throttle in between neither uses nor resets it. A call that exhausts it raises its last
  error; the crawler then re-drives that call in a later pass with a fresh budget
  (``deferred_passes``, see ``auditor.crawler.crawl``).

botocore's own retry modes are off on purpose: ``standard`` drains a shared retry quota under
sustained throttling and then fails calls outright (measured: ~80% of models lost at 50
concurrent), and ``adaptive`` paces at a fraction of the real limit. Time and randomness are
injected for tests.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio

from auditor.errors import ApiError, DeadlineExceededError, ThrottledError, UsageError

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
    """How patiently to retry.

    ``failure_attempts``: attempts one call may fail (5xx, timeout, connection) before it
    is given up in this pass; throttles are not counted. ``deferred_passes``: how many
    times the crawler re-drives, after the rest of the estate, what was given up (each
    pass with a fresh failure budget) before reporting it as an error; deferred pass *n*
    starts ``redrive_delay`` x *n* seconds after the pass before it ends (2, 4, 6 s: with
    the backoff inside each pass, a service failing for a minute or so costs nothing).
    """

    failure_attempts: int = 5
    failure_base_delay: float = 0.25
    throttle_base_delay: float = 0.05
    max_delay: float = 8.0
    deferred_passes: int = 3
    redrive_delay: float = 2.0

    def __post_init__(self) -> None:
        if self.failure_attempts < 1 or self.deferred_passes < 0:
            raise UsageError(
                f"failure_attempts must be >= 1 and deferred_passes >= 0, got "
                f"{self.failure_attempts}, {self.deferred_passes}"
            )

    def delay_cap(self, error: ApiError, count: int) -> float:
        """Upper bound of the jittered sleep after the ``count``-th (1-based) error of
        ``error``'s kind in one call: throttles and failures back off on separate ladders."""
        base = (
            self.throttle_base_delay
            if isinstance(error, ThrottledError)
            else self.failure_base_delay
        )
        return min(self.max_delay, base * 2.0 ** min(count - 1, 30))


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

    Raises the last ``ApiError`` (its ``attempts`` set to the number of attempts made,
    throttled ones included) when it is not retryable, or when ``failure_attempts``
    attempts have failed (throttles never count); raises ``DeadlineExceededError`` when the
    deadline has already passed before an attempt, or when the backoff would cross it (its
    message names the failure being retried, so a report says both why the call was not
    finished and what it was up against). ``on_retry(error, attempts_so_far, delay)`` is
    called before each sleep.
    """
    jitter = rng or random.Random()  # noqa: S311 - jitter, not secrets
    attempts = 0
    failures = 0
    throttles = 0
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
            if not error.retryable:
                raise
            if isinstance(error, ThrottledError):
                throttles += 1
                count = throttles
            else:
                failures += 1
                if failures >= policy.failure_attempts:
                    raise
                count = failures
            delay = jitter.uniform(0.0, policy.delay_cap(error, count))
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
