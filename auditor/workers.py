"""Scanning with worker processes (``--workers N``): every core, one report.

One process signs and parses about 800-900 calls/s (the SDK's CPU), below what an
organisation's account-regions together allow. With workers, the account-regions are crawled
in ``N`` processes of a ``ProcessPoolExecutor``, forked from a server that has already imported
the scanner (``auditor.prefork``: the ``forkserver`` start method; ``spawn`` where there is none):
no inherited event loop, sockets or locks. Each job is one account-region (``_crawl_unit``, as
in one process) with its own session, clients and rate controllers; worker ``i`` gets every
``N``-th job (a deterministic deal) and runs up to ``ceil(--max-parallel / N)`` of them at
once, so ``--max-parallel`` still bounds the account-regions crawled at once. When there are fewer
account-regions than workers, each is split into shares by a hash of the model ARN
(``CrawlScope.share``); the shares of one account-region share one rate controller per
operation in shared memory (``ratecontrol.SharedPacer``), since the service's limit is per
account, region and operation, not per process.

The workers evaluate nothing: they stream what the crawl emits (``ModelVersion``,
``ScanError``, ``ListingComplete``, stamped with their unit) to the parent in batches over
one bounded ``multiprocessing.Queue``; the parent feeds them to the one ``ReportBuilder``,
so the report is built exactly as in one process, and memory stays bounded (a full queue
blocks the workers). Each batch carries the job's ``CrawlStats``, which the parent sums
for the progress display and the report.

Context documents (``CrawlConfig.context_roots``, set from the policies) travel with the
settings, so each worker reads the related resources its versions need and the context
comes back with each ``ModelVersion``; the parent builds the lineage and tallies from it.
Related reads are once per crawl: a split account-region may read a shared related resource
once per share, and an error about it is reported once. The collaboration view
(``--collaboration-models``) keeps its "each collaboration read once per scan" across
processes: ``SharedClaims`` holds the claimed collaboration ids (128-bit hashes) in shared
memory, so the first job of any worker to find a collaboration reads it and every other
skips it; the parent's ``ReportBuilder`` de-duplicating by resource key is the backstop.

Signals: the workers ignore SIGINT and SIGTERM (a terminal's Ctrl-C reaches the whole
process group; the parent alone decides). The parent's first signal sets a shared event
that every job polls: each stops its crawl as ``CrawlStop`` does in one process, what it read
is still sent and evaluated, the rest becomes ``ScanInterrupted`` errors, jobs not yet started
report their unit as not started. A second signal stops at once: the workers are killed and
the report records what had arrived. A worker whose parent is gone stops its crawl. A worker
that dies (the pool breaks) costs its unfinished jobs, each reported as a ``WorkerFailed``
error, never silently.
"""

from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from multiprocessing.sharedctypes import SynchronizedBase
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import anyio.to_thread

from auditor import prefork
from auditor.accounts import AccountTarget
from auditor.crawler import CrawlItem, CrawlStats, CrawlStop, Operation
from auditor.crawler.collaboration import CollaborationClaims
from auditor.crawler.context import RelatedStats
from auditor.crawler.ratecontrol import SLOT_WIDTH, Pacer, SharedPacer
from auditor.crawler.retry import AnyioClock
from auditor.models import ErrorScope, ListingComplete, ScanError

if TYPE_CHECKING:
    from auditor.scan import ScanSettings, Unit, _Account

log = logging.getLogger(__name__)

BATCH_ITEMS = 64  # items per message from a worker
BATCH_SECONDS = 0.1  # a partial batch waits no longer than this
CLAIM_SLOTS = 1 << 14  # collaborations the workers of one scan can claim in shared memory
QUEUE_BATCHES = 32  # messages the channel holds before the workers wait: bounded memory
POLL_SECONDS = 0.05  # how often a job looks for a stop and the parent looks for the end
_COUNTERS = tuple(
    spec.name
    for spec in fields(CrawlStats)
    if spec.name not in ("calls", "rates", "limits", "passes", "related")
)
_LISTING_OPERATIONS = frozenset({"Scan", "AssumeRole", "ListMemberships", "ListTrainedModels"})


@dataclass(frozen=True, slots=True)
class Job:
    """One account-region, or share ``index`` of ``count`` of it (``slot``: where its
    shared rate controllers live)."""

    id: int
    account: str
    region: str
    target: AccountTarget | None
    share: tuple[int, int] | None = None
    slot: int | None = None


def plan_jobs(units: Sequence[tuple[AccountTarget | None, Unit]], workers: int) -> list[Job]:
    """One job per account-region; when there are fewer account-regions than ``workers``,
    each is split into ``ceil(workers / units)`` shares so every worker has work."""
    if not units:
        return []
    shares = math.ceil(workers / len(units)) if workers > len(units) else 1
    jobs: list[Job] = []
    for slot, (target, unit) in enumerate(units):
        for index in range(shares):
            jobs.append(
                Job(
                    id=len(jobs),
                    account=unit.account,
                    region=unit.region,
                    target=target,
                    share=(index, shares) if shares > 1 else None,
                    slot=slot if shares > 1 else None,
                )
            )
    return jobs


class SharedRates:
    """The shared controllers of split account-regions: one slot per operation each."""

    def __init__(self, array: Any, lock: multiprocessing.synchronize.Lock) -> None:
        self.array = array
        self._lock = lock

    def lock(self) -> AbstractContextManager[Any]:
        return self._lock

    def pacers(self, slot: int, settings: ScanSettings) -> dict[Operation, Pacer]:
        clock = AnyioClock()
        base = slot * len(Operation) * SLOT_WIDTH
        return {
            op: SharedPacer(self, base + i * SLOT_WIDTH, settings.crawl.rate_for(op), clock)
            for i, op in enumerate(Operation)
        }


def _claim_key(collaboration_id: str) -> tuple[int, int]:
    """A collaboration id as two non-zero 64-bit words (zero marks a free slot)."""
    digest = hashlib.blake2b(collaboration_id.encode(), digest_size=16).digest()
    high, low = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:], "big")
    return high or 1, low or 1


class SharedClaims(CollaborationClaims):
    """``CollaborationClaims`` across the worker processes of one scan: the claimed ids live
    in a shared open-addressed table (pairs of words), so a collaboration is claimed once
    whichever worker finds it first. A full table (more than ``CLAIM_SLOTS``
    collaborations) claims locally: a collaboration may then be read by two workers and the
    parent keeps one of each version."""

    def __init__(
        self, array: Any, lock: multiprocessing.synchronize.Lock, scanned_accounts: set[str]
    ) -> None:
        super().__init__()
        self.scanned_accounts = set(scanned_accounts)
        self._array = array
        self._lock = lock

    def claim(self, collaboration_id: str) -> bool:
        high, low = _claim_key(collaboration_id)
        slots = len(self._array) // 2
        with self._lock:
            for probe in range(slots):
                index = 2 * ((high + probe) % slots)
                held = (self._array[index], self._array[index + 1])
                if held == (high, low):
                    return False
                if held == (0, 0):
                    self._array[index], self._array[index + 1] = high, low
                    self._claimed.add(collaboration_id)
                    return True
        log.warning(
            "more than %d collaborations: %s may be read by more than one worker",
            slots,
            collaboration_id,
        )
        return super().claim(collaboration_id)


# --- in the worker process ----------------------------------------------------------------

_channel: multiprocessing.queues.Queue[Any] | None = None
_stop_event: multiprocessing.synchronize.Event | None = None
_rates: SharedRates | None = None
_reason: Any = None  # the stop's reason (the signal's name), in shared memory
_claims: tuple[Any, multiprocessing.synchronize.Lock] | None = None


def _init_worker(
    channel: multiprocessing.queues.Queue[Any],
    stop_event: multiprocessing.synchronize.Event,
    array: SynchronizedBase[Any] | Any,
    lock: multiprocessing.synchronize.Lock,
    reason: Any,
    log_level: int,
    claims: tuple[Any, multiprocessing.synchronize.Lock] | None = None,
) -> None:
    """Each worker process, once: the parent alone handles signals; logging as the CLI's."""
    global _channel, _stop_event, _rates, _reason, _claims
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    _channel, _stop_event, _rates = channel, stop_event, SharedRates(array, lock)
    _reason, _claims = reason, claims
    parent = multiprocessing.parent_process()
    if parent is not None:
        watch = threading.Thread(target=_exit_with, args=(parent,), name="parent-watch")
        watch.daemon = True
        watch.start()
    from auditor.crawler import redact

    redact.install()
    logging.basicConfig(
        level=log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if log_level > logging.DEBUG:
        for noisy in ("botocore", "aiobotocore", "boto3", "aioboto3", "aiohttp"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    """A worker whose parent is gone (killed, not interrupted) has no one to report to and
    would wait for work forever: it ends at once."""
    parent.join()
    os._exit(3)


def _run_jobs(
    jobs: tuple[Job, ...], settings: ScanSettings, ends_at: float | None, parallel: int
) -> None:
    """A worker's share of the jobs: at most ``parallel`` at once, each crawling its unit and
    streaming what it emits to the parent."""
    claims = settings.scope.collaboration_claims
    if claims is not None and _claims is not None:  # every job of every worker claims in one
        shared = SharedClaims(*_claims, claims.scanned_accounts)  # table in shared memory
        settings = replace(settings, scope=replace(settings.scope, collaboration_claims=shared))

    async def run_all() -> None:
        from auditor.scan import _Account, _session

        # one session per worker, and one per account: a role is assumed once per worker
        base = _session(settings.profile)
        accounts = {job.account: _Account(base, job.target, settings) for job in jobs}
        limiter = anyio.CapacityLimiter(parallel)
        async with anyio.create_task_group() as tg:
            for job in jobs:
                tg.start_soon(_limited, limiter, job, accounts[job.account], settings, ends_at)

    anyio.run(run_all)


async def _limited(
    limiter: anyio.CapacityLimiter,
    job: Job,
    account: _Account,
    settings: ScanSettings,
    ends_at: float | None,
) -> None:
    async with limiter:
        await _job(job, account, settings, ends_at)


def _snapshot(stats: CrawlStats) -> CrawlStats:
    """A copy to send: the queue pickles it later, in its feeder thread."""
    related = stats.related
    if related is not None:
        related = replace(related, by_operation=dict(related.by_operation))
    return replace(
        stats,
        calls=stats.calls.copy(),
        rates=dict(stats.rates),
        limits=dict(stats.limits),
        related=related,
    )


class _Outbox:
    """A job's items, sent to the parent in batches with the job's counters."""

    def __init__(self, job: Job, stats: CrawlStats) -> None:
        self.job = job
        self.stats = stats
        self.items: list[CrawlItem] = []
        self.sent_at = time.monotonic()

    async def add(self, item: CrawlItem) -> None:
        self.items.append(item)
        if len(self.items) >= BATCH_ITEMS:
            await self.flush()

    async def flush(self, kind: str = "items") -> None:
        items, self.items = self.items, []
        self.sent_at = time.monotonic()
        await _put((kind, self.job.id, items, _snapshot(self.stats)))

    async def flush_now_and_then(self) -> None:
        while True:
            await anyio.sleep(BATCH_SECONDS)
            if self.items and time.monotonic() - self.sent_at >= BATCH_SECONDS:
                await self.flush()


async def _put(message: tuple[str, int, Any, CrawlStats | None]) -> None:
    """Send one message. It is pickled here, not in the queue's feeder thread, so a value
    that cannot be pickled fails in this job (and is reported) instead of vanishing."""
    assert _channel is not None
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        _channel.put_nowait(data)
    except queue.Full:  # the parent is behind: wait for it, without blocking the loop
        await anyio.to_thread.run_sync(_channel.put, data)


async def _watch_stop(stop: CrawlStop) -> None:
    """Stop the crawl when the parent says so, or when the parent is gone."""
    assert _stop_event is not None
    parent = multiprocessing.parent_process()
    while not _stop_event.is_set():
        if parent is not None and not parent.is_alive():
            stop.request("the scan's parent process ended")
            return
        await anyio.sleep(POLL_SECONDS)
    stop.request(_stop_reason())


def _stop_reason() -> str:
    return bytes(_reason.value).decode(errors="replace") if _reason is not None else "stopped"


async def _job(job: Job, account: _Account, settings: ScanSettings, ends_at: float | None) -> None:
    from auditor.scan import Unit, _crawl_unit

    stats = CrawlStats()
    outbox = _Outbox(job, stats)
    stop = CrawlStop()
    if job.share is not None:
        settings = replace(settings, scope=replace(settings.scope, share=job.share))
    pacers = None
    if job.slot is not None:
        assert _rates is not None
        pacers = _rates.pacers(job.slot, settings)
    unit = Unit(job.account, job.region)
    if _stop_event is not None and _stop_event.is_set():  # a job started after the stop
        stop.request(_stop_reason())  # is reported as not started, as in one process
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_watch_stop, stop)
            tg.start_soon(outbox.flush_now_and_then)
            send, receive = anyio.create_memory_object_stream[CrawlItem](256)
            async with anyio.create_task_group() as crawl_group:
                crawl_group.start_soon(
                    _crawl_unit,
                    account,
                    unit,
                    settings,
                    send,
                    stats,
                    anyio.CapacityLimiter(1),
                    ends_at,
                    stop,
                    pacers,
                )
                async with receive:
                    async for item in receive:
                        await outbox.add(item)
            tg.cancel_scope.cancel()
    except Exception as exc:  # the job's outermost boundary: the parent raises it
        await outbox.flush()
        try:
            pickle.dumps(exc)
        except Exception:  # an exception that cannot cross: its text does
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        await _put(("raised", job.id, exc, None))
        return
    await outbox.flush("done")


# --- in the parent --------------------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What the parent knows of the jobs: their counters, which ended, listings seen."""

    jobs: Sequence[Job]
    stats: CrawlStats
    snapshots: dict[int, CrawlStats] = field(default_factory=dict)
    ended: set[int] = field(default_factory=set)
    listings: dict[tuple[str | None, str | None, str], int] = field(default_factory=dict)
    shared_errors: set[tuple[Any, ...]] = field(default_factory=set)

    def update(self, job_id: int, snapshot: CrawlStats | None) -> None:
        """Fold a job's latest counters into the scan's, in place (the progress display
        holds that object): what changed since the job's previous snapshot is added."""
        if snapshot is None:
            return
        previous = self.snapshots.get(job_id) or CrawlStats(passes=0)
        self.snapshots[job_id] = snapshot
        job = self.jobs[job_id]
        stats = self.stats
        for name in _COUNTERS:
            if name == "memberships" and job.share is not None and job.share[0] != 0:
                continue  # every share lists the same memberships
            change = getattr(snapshot, name) - getattr(previous, name)
            setattr(stats, name, getattr(stats, name) + change)
        calls = stats.calls.copy()
        calls.update(snapshot.calls)
        calls.subtract(previous.calls)
        stats.calls = calls
        stats.passes = max(stats.passes, snapshot.passes)
        stats.rates.update(snapshot.rates)
        stats.limits.update(snapshot.limits)
        if snapshot.related is not None:
            _fold_related(stats, snapshot.related, previous.related)

    def admit(self, job: Job, item: CrawlItem) -> CrawlItem | None:
        """``item``, or None when it repeats what another share of its unit reported: a
        membership is listed in full once every share listed it; a listing error that
        every share met is reported once."""
        if job.share is None:
            return item
        count = job.share[1]
        if isinstance(item, ListingComplete):
            key = (item.account, item.region, item.membership_id)
            seen = self.listings.get(key, 0) + 1
            self.listings[key] = seen
            return item if seen == count else None
        if isinstance(item, ScanError) and (
            item.operation in _LISTING_OPERATIONS or item.scope is ErrorScope.RELATED
        ):  # a related resource two shares' versions refer to is read by both
            error_key = (
                item.scope, item.operation, item.code, item.message, item.account, item.region,
                item.membership_id, item.resource_arn, item.version_identifier,
            )  # fmt: skip
            if error_key in self.shared_errors:
                return None
            self.shared_errors.add(error_key)
        return item


def _fold_related(stats: CrawlStats, snapshot: RelatedStats, previous: RelatedStats | None) -> None:
    """Add what a job's related reads found since its previous snapshot."""
    if stats.related is None:
        stats.related = RelatedStats()
    total = stats.related
    total.resources += snapshot.resources - (previous.resources if previous else 0)
    total.unreadable += snapshot.unreadable - (previous.unreadable if previous else 0)
    before = previous.by_operation if previous else {}
    for operation, count in snapshot.by_operation.items():
        change = count - before.get(operation, 0)
        total.by_operation[operation] = total.by_operation.get(operation, 0) + change


def _failed_job_error(job: Job, code: str, message: str) -> ScanError:
    return ScanError(
        scope=ErrorScope.ACCOUNT if job.account else ErrorScope.REGION,
        operation="Scan",
        code=code,
        message=message,
        account=job.account or None,
        region=job.region,
    )


async def crawl_in_workers(
    jobs: Sequence[Job],
    workers: int,
    settings: ScanSettings,
    ends_at: float | None,
    stats: CrawlStats,
    add: Callable[[CrawlItem], None],
    stop: CrawlStop,
) -> None:
    """Run ``jobs`` in ``workers`` processes; hand every item to ``add`` in this
    process, between turns of the loop. ``stop`` (the parent's signal watcher) is passed on
    to every job; cancelling this call (a second signal) kills the workers."""
    context = prefork.process_context()
    prefork.start()  # unless the command line's hint already did: ours to stop at the end
    channel: multiprocessing.queues.Queue[Any] = context.Queue(QUEUE_BATCHES)
    stop_event = context.Event()
    slots = 1 + max((job.slot for job in jobs if job.slot is not None), default=-1)
    array = context.RawArray("d", max(1, slots * len(Operation) * SLOT_WIDTH))
    lock = context.Lock()
    reason = context.RawArray("c", 64)
    claims = None
    if settings.scope.collaboration_claims is not None:
        claims = (context.RawArray("Q", 2 * CLAIM_SLOTS), context.Lock())
    workers = min(workers, len(jobs))
    progress = _Progress(jobs, stats)
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(
            channel,
            stop_event,
            array,
            lock,
            reason,
            logging.getLogger().getEffectiveLevel(),
            claims,
        ),
    )
    clean = False
    futures: dict[int, Future[None]] = {}
    try:
        # each worker gets every workers-th job (a deterministic deal, not a scheduler)
        # and crawls up to its part of --max-parallel of them at once
        parallel = max(1, math.ceil(settings.max_parallel / workers))
        for index in range(workers):
            group = tuple(jobs[index::workers])
            future = executor.submit(_run_jobs, group, settings, ends_at, parallel)
            futures.update((job.id, future) for job in group)
        forwarded = False
        while len(progress.ended) < len(jobs):
            if stop.requested and not forwarded:
                reason.value = (stop.reason or "stopped").encode()[:63]
                stop_event.set()
                forwarded = True
            message = await anyio.to_thread.run_sync(_get, channel, abandon_on_cancel=True)
            if message is None:
                _reap_failed(jobs, futures, progress, add)
                continue
            # our own workers pickled it, over a pipe only this process tree holds
            kind, job_id, payload, snapshot = pickle.loads(message)  # noqa: S301
            job = jobs[job_id]
            if kind == "raised":
                progress.ended.add(job_id)
                raise payload
            for item in payload:
                admitted = progress.admit(job, item)
                if admitted is not None:
                    add(admitted)
                    await anyio.lowlevel.checkpoint()
            progress.update(job_id, snapshot)
            if kind == "done":
                progress.ended.add(job_id)
        clean = True
    finally:
        stop_event.set()
        if clean and not _broken(futures):
            await anyio.to_thread.run_sync(executor.shutdown)
        else:  # a second signal, or a pool a dead worker broke: every job has ended by now
            _kill(executor)
        prefork.stop()  # the workers are gone: it ends at once, and is reaped here


def _get(channel: multiprocessing.queues.Queue[Any]) -> Any:
    try:
        return channel.get(timeout=POLL_SECONDS * 4)
    except queue.Empty:
        return None


def _reap_failed(
    jobs: Sequence[Job],
    futures: dict[int, Future[None]],
    progress: _Progress,
    add: Callable[[CrawlItem], None],
) -> None:
    """Jobs whose worker died (the pool broke) end as errors; the queue is empty by now,
    so nothing they sent is still on its way."""
    for job_id, future in futures.items():
        if job_id in progress.ended or not future.done():
            continue
        exc = future.exception()
        if exc is None:
            continue  # its "done" is still on its way
        progress.ended.add(job_id)
        job = jobs[job_id]
        log.warning("worker for account %s region %s failed: %s", job.account, job.region, exc)
        add(
            _failed_job_error(
                job,
                "WorkerFailed",
                f"not read: the worker process crawling account {job.account or '(own)'} "
                f"region {job.region} ended abnormally ({type(exc).__name__}: {exc})",
            )
        )


def _broken(futures: dict[int, Future[None]]) -> bool:
    """Whether a worker died and broke the pool (its jobs' futures carry the exception)."""
    return any(future.done() and future.exception() is not None for future in futures.values())


def _kill(executor: ProcessPoolExecutor) -> None:
    """Stop at once: the workers ignore SIGTERM, so SIGKILL them (by pid), reap them, then
    shut the pool down. Killing comes first: a pool that a dead worker broke terminates its
    other workers (SIGTERM, ignored) and waits for them while holding the lock ``shutdown``
    needs (Python 3.12+), and after their jobs those workers would wait for work forever."""
    processes = dict(getattr(executor, "_processes", None) or {})
    for process in processes.values():
        if process.is_alive():
            process.kill()
    for process in processes.values():
        process.join(timeout=5)
    executor.shutdown(wait=False, cancel_futures=True)
