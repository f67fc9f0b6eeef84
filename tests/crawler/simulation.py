"""A simulated token-bucket server and a paced sender on a fake clock, for rate-control specs.

Pure and deterministic: the controller under test sees exactly the events a real crawl would
(sends, successes, throttles), at simulated times.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field

from auditor.crawler.ratecontrol import RateConfig, RateController, Ticket


@dataclass
class TokenBucket:
    """The server: ``rate`` tokens a second, at most ``burst`` banked; a request takes one."""

    rate: float
    burst: float
    tokens: float = 0.0
    updated: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Outcome:
    finished_at: float
    sends: int
    throttles: int
    backoffs: int
    rates: list[tuple[float, float]] = field(default_factory=list)
    controller: RateController | None = None

    def ratio(self, jobs: int, limit: float) -> float:
        return self.finished_at / (jobs / limit)


def simulate(
    limit: float,
    *,
    jobs: int,
    latency: float = 0.02,
    burst: float = 10.0,
    config: RateConfig | None = None,
    seed: int = 0,
    retry_base: float = 0.05,
    limit_changes: tuple[tuple[float, float], ...] = (),
) -> Outcome:
    """Send ``jobs`` requests through a paced controller to a token bucket of ``limit``/s.

    Throttled requests are retried after full-jitter backoff. ``limit_changes`` are
    ``(time, new_limit)`` steps applied to the server.
    """
    rng = random.Random(seed)
    controller = RateController(config, now=0.0)
    server = TokenBucket(limit, burst)
    changes = sorted(limit_changes)
    # events: (time, seq, kind, ticket, attempt)
    events: list[tuple[float, int, str, Ticket | None, int]] = []
    seq = 0
    ready: list[int] = [1] * jobs  # attempt number of each request ready to send
    done = 0
    sends = 0
    now = 0.0
    last_send = -math.inf
    rates: list[tuple[float, float]] = []
    while done < jobs:
        next_event = events[0][0] if events else math.inf
        next_send = max(now, last_send + 1.0 / controller.rate) if ready else math.inf
        if next_send <= next_event:
            now = next_send
            while changes and changes[0][0] <= now:
                server.rate = changes.pop(0)[1]
            attempt = ready.pop()
            ticket = controller.on_send(now, backlogged=bool(ready) or now > last_send + 1e-9)
            last_send = now
            sends += 1
            accepted = server.take(now + latency / 2)
            seq += 1
            kind = "ok" if accepted else "throttled"
            heapq.heappush(events, (now + latency, seq, kind, ticket, attempt))
            rates.append((now, controller.rate))
            continue
        now, _, kind, ticket, attempt = heapq.heappop(events)
        if kind == "ok":
            assert ticket is not None
            controller.on_success(now, ticket)
            done += 1
        elif kind == "throttled":
            assert ticket is not None
            controller.on_throttle(now, ticket)
            delay = rng.uniform(0.0, min(8.0, retry_base * 2 ** (attempt - 1)))
            seq += 1
            heapq.heappush(events, (now + delay, seq, "retry", None, attempt + 1))
        else:
            ready.append(attempt)
    return Outcome(
        finished_at=now,
        sends=sends,
        throttles=controller.throttles,
        backoffs=controller.backoffs,
        rates=rates,
        controller=controller,
    )
