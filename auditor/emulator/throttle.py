"""Token buckets, one per operation, on a monotonic clock."""

from __future__ import annotations

import time
from typing import Protocol

from auditor.emulator.config import EmulatorConfig, RateLimit


class Clock(Protocol):
    def __call__(self) -> float: ...


class TokenBucket:
    """Holds at most ``burst`` tokens and refills ``rate`` per second; each request takes one."""

    def __init__(self, limit: RateLimit, clock: Clock = time.monotonic) -> None:
        self._rate = limit.rate
        self._capacity = float(limit.burst)
        self._tokens = float(limit.burst)
        self._clock = clock
        self._updated = clock()

    def try_take(self) -> bool:
        """Take a token if one is available; False means the caller is throttled."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Throttle:
    """Per-operation buckets built lazily from an ``EmulatorConfig``; unlimited ops always pass.

    Used from the server's event loop only, so it needs no lock.
    """

    def __init__(self, config: EmulatorConfig, clock: Clock = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._buckets: dict[tuple[str, str | None, str | None], TokenBucket | None] = {}

    def admit(self, operation: str, account: str | None = None, region: str | None = None) -> bool:
        """Take a token from ``operation``'s bucket: the account's own (one per region) when
        ``account_rate_limits`` names it, else the server-wide one."""
        own = account is not None and account in self._config.account_rate_limits
        key = (operation, account, region) if own else (operation, None, None)
        try:
            bucket = self._buckets[key]
        except KeyError:
            if own:
                assert account is not None
                limit: RateLimit | None = self._config.account_rate_limits[account]
            else:
                limit = self._config.limit_for(operation)
            bucket = TokenBucket(limit, self._clock) if limit else None
            self._buckets[key] = bucket
        return bucket is None or bucket.try_take()
