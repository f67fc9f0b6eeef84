from __future__ import annotations

import anyio
import pytest

from auditor.crawler.ratecontrol import Pacer, Phase, RateConfig, RateController, Ticket

from .fakeclock import FakeClock
from .simulation import simulate


@pytest.mark.parametrize("limit", [20.0, 100.0, 400.0])
def test_converges_just_under_an_unknown_limit(limit: float) -> None:
    jobs = 2000
    outcome = simulate(limit, jobs=jobs, latency=0.02, burst=10)
    controller = outcome.controller
    assert controller is not None
    assert controller.ceiling == pytest.approx(limit, rel=0.06)
    # accepted throughput is min(send rate, limit): ramp-up and back-off cost < 10% overall
    assert outcome.ratio(jobs, limit) <= 1.10
    assert outcome.throttles < 0.08 * jobs  # mostly the one-off storm ending the ramp-up


def test_ramps_up_fast_while_nothing_is_throttled() -> None:
    controller = RateController(RateConfig(initial_rate=10.0, doubling_time=0.05), now=0.0)
    t = 0.0
    while t < 0.3:
        t += 1.0 / controller.rate
        ticket = controller.on_send(t, backlogged=True)
        controller.on_success(t + 0.02, ticket)
    assert controller.rate >= 10.0 * 2**5  # doubled at least five times in 0.3 s
    assert controller.phase is Phase.STARTUP


def test_does_not_raise_a_rate_nobody_is_using() -> None:
    controller = RateController(RateConfig(initial_rate=10.0), now=0.0)
    for second in range(1, 20):
        ticket = controller.on_send(float(second), backlogged=False)
        controller.on_success(second + 0.02, ticket)
    assert controller.rate == 10.0


def drive_to_cruise(limit: float) -> RateController:
    outcome = simulate(limit, jobs=int(limit * 3))
    assert outcome.controller is not None
    assert outcome.controller.phase in (Phase.CRUISE, Phase.MEASURING)
    return outcome.controller


def test_backs_off_below_the_limit_on_throttling() -> None:
    outcome = simulate(100.0, jobs=200, limit_changes=((1.0, 50.0),))
    controller = outcome.controller
    assert controller is not None
    assert controller.backoffs >= 2
    assert controller.ceiling == pytest.approx(50.0, rel=0.06)
    sent_late = [rate for t, rate in outcome.rates if t > outcome.finished_at - 1.0]
    assert sum(sent_late) / len(sent_late) <= 52.5


def test_a_throttle_storm_from_one_rate_cuts_the_rate_once() -> None:
    controller = RateController(RateConfig(initial_rate=100.0, measure_min_time=0.1), now=0.0)
    old = [controller.on_send(i * 0.01, backlogged=True) for i in range(50)]
    controller.on_throttle(0.52, old[-1])  # first throttle: measure at this rate
    for i in range(20):
        controller.on_success(0.53 + i * 0.01, old[i])
    assert controller.backoffs == 1
    cut_to = controller.rate
    # the rest of the storm: requests that were in flight at the old rate
    for i, ticket in enumerate(old[20:49]):
        controller.on_throttle(0.75 + i * 0.001, ticket)
    assert controller.backoffs == 1
    assert controller.rate >= cut_to
    assert controller.throttles == 30


def test_measures_the_limit_from_the_accepted_rate_not_the_send_rate() -> None:
    controller = RateController(RateConfig(initial_rate=400.0, backoff=0.9), now=0.0)
    sent = [controller.on_send(i / 400, backlogged=True) for i in range(200)]
    # a 100/s server: one in four accepted, evenly spaced
    controller.on_throttle(0.02, sent[0])
    for i in range(1, 200):
        t = 0.02 + i / 400
        if i % 4 == 0:
            controller.on_success(t, sent[i])
        else:
            controller.on_throttle(t, sent[i])
        if controller.phase is not Phase.MEASURING:
            break
    assert controller.ceiling == pytest.approx(100.0, rel=0.02)
    assert controller.rate == pytest.approx(90.0, rel=0.02)


def test_probes_back_up_towards_the_measured_limit() -> None:
    controller = drive_to_cruise(100.0)
    assert controller.ceiling is not None
    start, ceiling = controller.rate, controller.ceiling
    t = 100.0
    ticket = Ticket(epoch=controller.epoch, rate=controller.rate, sent_at=t)
    for _ in range(200):
        t += 0.01
        ticket = controller.on_send(t, backlogged=True)
        controller.on_success(t + 0.02, ticket)
    assert controller.rate > start
    assert controller.rate >= 0.98 * ceiling


async def test_pacer_spaces_requests_at_the_current_rate() -> None:
    clock = FakeClock()
    controller = RateController(RateConfig(initial_rate=200.0, max_rate=200.0), now=clock.now())
    pacer = Pacer(controller, clock)
    sent: list[float] = []

    async def send() -> None:
        ticket = await pacer.acquire()
        sent.append(ticket.sent_at)

    async with anyio.create_task_group() as tg:
        for _ in range(41):
            tg.start_soon(send)
    elapsed = max(sent) - min(sent)
    assert elapsed == pytest.approx(40 / 200.0, rel=0.05)
