"""Finding each operation's real rate limit and sending just under it.

AWS publishes no per-second limits for these APIs, so each operation gets a ``Pacer`` (calls
spaced ``1/rate`` apart, first come first served) driven by a ``RateController`` that
discovers the limit from throttling responses:

* **startup**: from a modest ``initial_rate`` the rate doubles every ``doubling_time`` while
  there is demand, like TCP slow start.
* **measuring**: on the first throttle of an epoch the rate is held for a short window. A
  token-bucket server accepts ``min(send rate, limit)``, so while the sender is over the limit
  the accepted (successful) rate in that window *is* the limit; a throttle that turns out to
  be a lone blip measures the rate we were sending at.
* **cruise**: the rate drops to ``backoff`` x the measured limit, then climbs back along a
  cubic curve (CUBIC's shape: fast at first, flat near the limit, convex past it) reaching
  the limit after ``probe_time``. A throttle starts a new measurement. If the rate gets
  ``stale_margin`` past the limit without a throttle, the limit was stale: back to startup.

Every ticket carries the epoch it was sent in; throttles of requests sent before the last
cut (a storm of responses to requests already in flight at the old rate) are counted but do
not cut the rate again. Growth only happens while callers are actually waiting for the pacer,
so an idle operation does not bank a rate it never tried. ``RateController`` is a pure
function of the events and the times passed in, so it is tested with a simulated clock.
"""

from __future__ import annotations

import math
from collections.abc import MutableSequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import anyio

from auditor.crawler.retry import Clock


class Phase(StrEnum):
    STARTUP = "startup"
    MEASURING = "measuring"
    CRUISE = "cruise"


@dataclass(frozen=True, slots=True)
class RateConfig:
    """Tuning of one operation's controller (rates in requests per second, times in seconds)."""

    initial_rate: float = 50.0
    min_rate: float = 0.5
    max_rate: float = 5000.0
    doubling_time: float = 0.03
    reprobe_doubling_time: float = 0.5
    backoff: float = 0.93
    probe_time: float = 1.0
    max_probe_time: float = 8.0
    stable_band: float = 0.05
    stale_margin: float = 0.1
    measure_min_time: float = 0.2
    measure_max_time: float = 2.0
    measure_successes: int = 8
    idle_grace: float = 0.1


@dataclass(frozen=True, slots=True)
class Ticket:
    """Permission to send one request: the epoch and rate it was sent at."""

    epoch: int
    rate: float
    sent_at: float


class RateController:
    """The current send rate of one operation, adjusted from successes and throttles."""

    def __init__(self, config: RateConfig | None = None, *, now: float = 0.0) -> None:
        self.config = config or RateConfig()
        self.rate = self.config.initial_rate
        self.phase = Phase.STARTUP
        self.ceiling: float | None = None
        self.epoch = 0
        self.throttles = 0
        self.backoffs = 0
        self._updated = now
        self._epoch_started = now
        self._rtt = 0.0
        self._reprobing = False
        self._probe_time = self.config.probe_time
        self._backlogged_at = -math.inf
        self._active = 0.0
        self._measure_start = 0.0
        self._measure_successes = 0
        self._measure_throttles = 0
        self._first_success = 0.0
        self._last_success = 0.0

    def on_send(self, now: float, *, backlogged: bool) -> Ticket:
        """A request leaves now; ``backlogged`` when callers were waiting for the pacer."""
        if backlogged:
            self._backlogged_at = now
        self._advance(now)
        return Ticket(epoch=self.epoch, rate=self.rate, sent_at=now)

    def on_success(self, now: float, ticket: Ticket) -> None:
        rtt = max(0.0, now - ticket.sent_at)
        self._rtt = rtt if self._rtt == 0.0 else 0.8 * self._rtt + 0.2 * rtt
        self._advance(now)
        if self.phase is Phase.MEASURING:
            if self._measure_successes == 0:
                self._first_success = now
            self._last_success = now
            self._measure_successes += 1
            self._maybe_finish_measuring(now)

    def on_throttle(self, now: float, ticket: Ticket) -> None:
        self.throttles += 1
        self._advance(now)
        if ticket.epoch != self.epoch:
            return  # sent before the last cut: that rate has been dealt with already
        if ticket.sent_at < self._epoch_started + 2.0 * self._rtt:
            return  # met a bucket still drained by the requests in flight at the cut
        if self.phase is Phase.MEASURING:
            self._measure_throttles += 1
            self._maybe_finish_measuring(now)
            return
        self.phase = Phase.MEASURING
        self._measure_start = now
        self._measure_successes = 0
        self._measure_throttles = 1
        # hold the rate the throttled request went out at: in startup the rate has
        # doubled again meanwhile, and sending faster would only buy throttles
        self._set_rate(min(self.rate, ticket.rate))

    def _advance(self, now: float) -> None:
        elapsed = min(1.0, max(0.0, now - self._updated))
        self._updated = now
        if self.phase is Phase.MEASURING:
            self._maybe_finish_measuring(now)
            return
        grace = max(self.config.idle_grace, 2.0 / self.rate)
        if now - self._backlogged_at > grace:
            return  # demand-limited: the current rate is not being tested, so don't raise it
        self._active += elapsed
        if self.phase is Phase.STARTUP:
            doubling = (
                self.config.reprobe_doubling_time if self._reprobing else self.config.doubling_time
            )
            self._set_rate(self.rate * 2.0 ** (elapsed / doubling))
            return
        assert self.ceiling is not None
        cfg = self.config
        scale = self.ceiling * (1.0 - cfg.backoff) / self._probe_time**3
        target = self.ceiling + scale * (self._active - self._probe_time) ** 3
        if target >= self.ceiling * (1.0 + cfg.stale_margin):
            self.phase = Phase.STARTUP
            self._reprobing = True
        self._set_rate(target)

    def _maybe_finish_measuring(self, now: float) -> None:
        cfg = self.config
        elapsed = now - self._measure_start
        if elapsed < cfg.measure_min_time:
            return
        if self._measure_successes < cfg.measure_successes and elapsed < cfg.measure_max_time:
            return
        # at saturation a token bucket accepts one request every 1/limit seconds, so the
        # spacing of successes measures the limit more precisely than their count does
        if self._measure_successes >= 3 and self._last_success > self._first_success:
            span = self._last_success - self._first_success
            accepted = (self._measure_successes - 1) / span
        else:
            accepted = self._measure_successes / elapsed
        # With throttles throughout, the server was saturated and accepted == its limit; a
        # lone throttle was a blip at a rate the server otherwise took.
        limit = max(accepted, cfg.min_rate)
        # a limit found again where it was last time is trusted longer before re-probing
        if self.ceiling is not None and abs(limit - self.ceiling) <= cfg.stable_band * self.ceiling:
            self._probe_time = min(cfg.max_probe_time, self._probe_time * 2.0)
        else:
            self._probe_time = cfg.probe_time
        self.ceiling = limit
        self.epoch += 1
        self._epoch_started = now
        self.backoffs += 1
        self.phase = Phase.CRUISE
        self._active = 0.0
        self._set_rate(cfg.backoff * self.ceiling)

    def _set_rate(self, rate: float) -> None:
        self.rate = min(self.config.max_rate, max(self.config.min_rate, rate))


class Pacer:
    """Spaces one operation's requests ``1/rate`` apart, in arrival order."""

    def __init__(self, controller: RateController, clock: Clock) -> None:
        self.controller = controller
        self._clock = clock
        self._lock = anyio.Lock()
        self._last_send = -math.inf
        self._waiting = 0

    async def acquire(self) -> Ticket:
        """Wait for this operation's next send slot; the ticket reports back the outcome."""
        self._waiting += 1
        try:
            async with self._lock:
                waited = False
                while True:
                    now = self._clock.now()
                    target = self._last_send + 1.0 / self.controller.rate
                    if now >= target:
                        break
                    waited = True
                    # re-check the rate at least every 20 ms: it may have risen meanwhile
                    await self._clock.sleep(min(target - now, 0.02))
                # keep the schedule when a sleep overshoots, so timer slack doesn't cost rate
                self._last_send = target if waited else now
                return self.controller.on_send(now, backlogged=waited or self._waiting > 1)
        finally:
            self._waiting -= 1

    def succeeded(self, ticket: Ticket) -> None:
        self.controller.on_success(self._clock.now(), ticket)

    def throttled(self, ticket: Ticket) -> None:
        self.controller.on_throttle(self._clock.now(), ticket)


# --- one controller shared by the worker processes of a split account-region ------------

# The controller's whole state, field by field, as floats in shared memory (``_STATE``), then
# the pacer's schedule and whether the slot has been initialised.
_STATE = (
    "rate", "ceiling", "epoch", "throttles", "backoffs", "_updated", "_epoch_started", "_rtt",
    "_reprobing", "_probe_time", "_backlogged_at", "_active", "_measure_start",
    "_measure_successes", "_measure_throttles", "_first_success", "_last_success",
)  # fmt: skip
_INTS = frozenset({"epoch", "throttles", "backoffs", "_measure_successes", "_measure_throttles"})
_PHASES = tuple(Phase)
_PHASE = len(_STATE)
_LAST_SEND = _PHASE + 1
_READY = _PHASE + 2
SLOT_WIDTH = _PHASE + 3


class SharedState(Protocol):
    """Floats in shared memory (``multiprocessing.RawArray('d', ...)``) and a process lock."""

    array: MutableSequence[float]

    def lock(self) -> AbstractContextManager[Any]: ...


class SharedPacer(Pacer):
    """A ``Pacer`` whose controller and schedule live in shared memory, so the worker
    processes crawling parts of one account-region send at the service's one limit
    (per account and operation) together, learn it together and back off together.

    Each process keeps a local ``RateController`` as scratch: every event loads the shared
    state into it under the process lock, applies the event, and stores it back. That is a
    few microseconds of work per call (about 20 floats copied, one uncontended semaphore),
    against ~1 ms of SDK CPU per call, and no round trip to another process: a parent
    handing out tickets over a pipe would add two messages and a wake-up of a busy
    process to every call. Within a process, one task at a time polls the shared
    schedule (the local lock), as with ``Pacer``.
    """

    def __init__(
        self,
        state: SharedState,
        offset: int,
        config: RateConfig,
        clock: Clock,
    ) -> None:
        super().__init__(RateController(config, now=clock.now()), clock)
        self._state = state
        self._offset = offset
        with state.lock():
            if not state.array[offset + _READY]:
                self._store(-math.inf)
                state.array[offset + _READY] = 1.0

    def _load(self) -> float:
        """The shared state into the local controller; returns the last send time."""
        array, base, controller = self._state.array, self._offset, self.controller
        values = array[base : base + SLOT_WIDTH]
        for index, name in enumerate(_STATE):
            value = values[index]
            if name == "ceiling":
                controller.ceiling = None if math.isnan(value) else value
            elif name == "_reprobing":
                controller._reprobing = bool(value)
            else:
                setattr(controller, name, int(value) if name in _INTS else value)
        controller.phase = _PHASES[int(values[_PHASE])]
        return values[_LAST_SEND]

    def _store(self, last_send: float) -> None:
        controller = self.controller
        values = [
            math.nan
            if name == "ceiling" and controller.ceiling is None
            else float(getattr(controller, name))
            for name in _STATE
        ]
        values += [float(_PHASES.index(controller.phase)), last_send, 1.0]
        base = self._offset
        self._state.array[base : base + SLOT_WIDTH] = values

    async def acquire(self) -> Ticket:
        self._waiting += 1
        try:
            async with self._lock:
                waited = False
                while True:
                    with self._state.lock():
                        last_send = self._load()
                        now = self._clock.now()
                        target = last_send + 1.0 / self.controller.rate
                        if now >= target:
                            ticket = self.controller.on_send(
                                now, backlogged=waited or self._waiting > 1
                            )
                            self._store(target if waited else now)
                            return ticket
                    waited = True
                    await self._clock.sleep(min(target - now, 0.02))
        finally:
            self._waiting -= 1

    def succeeded(self, ticket: Ticket) -> None:
        with self._state.lock():
            last_send = self._load()
            self.controller.on_success(self._clock.now(), ticket)
            self._store(last_send)

    def throttled(self, ticket: Ticket) -> None:
        with self._state.lock():
            last_send = self._load()
            self.controller.on_throttle(self._clock.now(), ticket)
            self._store(last_send)
