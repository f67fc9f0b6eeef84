"""The crawl: every trained model version in scope, read once, streamed to a consumer.

A pipeline of bounded memory object streams, each stage a pool of workers::

    memberships (ListMemberships, paged)
      -> models      (ListTrainedModels per membership, paged)
      -> versions    (ListTrainedModelVersions per model, paged; skipped for --latest-only)
      -> documents   (GetTrainedModel per version) -> ModelVersion | ScanError -> consumer

and a ``ListingComplete`` for each membership whose listings (its models, then each model's
versions) all completed without error.

Streams are bounded, so a slow consumer or a huge estate applies backpressure instead of
queueing everything. Every call goes through its operation's ``Pacer`` (adaptive rate), one
shared ``CapacityLimiter`` (in-flight calls, ``--concurrency``) and ``call_with_retry``
(throttles retried without limit, failures on a budget: see ``auditor.crawler.retry``).

**Passes.** The pipeline runs over *work*: listings to page through from a ``nextToken``
(``_Cursor``) and versions to read. The first pass starts from the scope. Whatever exhausts
its failure budget (a listing page or a version read that kept failing with 5xx, timeouts
or cut connections) is not reported yet: it is *deferred*. Once the whole pass has drained
(and, before deferred pass *n*, ``RetryPolicy.redrive_delay`` x *n* seconds have given a
failing service time to recover), the pipeline runs again over the deferred work alone,
each call with a fresh budget. A deferred listing resumes at the page that failed (its own
``nextToken``) and what it then finds flows down the pipeline as in the first pass, so one
bad page never costs the rest of a listing. After ``RetryPolicy.deferred_passes`` such
passes (3 by default) what still fails becomes a ``ScanError`` naming what was not read
(its ``attempts`` count every pass). Errors that no retry can mend (access denied, not
found, a malformed body, expired credentials, the scan deadline) are reported in the pass
they happen.

Anything that cannot be read becomes a ``ScanError`` in the output, never a silent gap. A
listing whose ``nextToken`` the service refuses (it expired while the scan was busy
elsewhere) starts again from its first page, once; what was already passed on is skipped,
so nothing is lost and nothing is read twice. A listing whose ``nextToken`` comes back a
second time (a service paging in a loop) ends with a ``PaginationLoop`` error for that
listing alone. Expired credentials stop every later call at once.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from auditor.arns import TrainedModelArn, parse_trained_model_arn
from auditor.crawler.api import CleanRoomsApi, Operation, Page
from auditor.crawler.collaboration import (
    CollaborationClaims,
    CollaborationListing,
    CollaborationRead,
    CollaborationUnit,
    CollaborationView,
)
from auditor.crawler.context import DeferRelated, RelatedReader
from auditor.crawler.cursor import Cursor as _Cursor
from auditor.crawler.ratecontrol import Pacer, RateConfig, RateController
from auditor.crawler.redact import redact
from auditor.crawler.retry import AnyioClock, Clock, Deadline, RetryPolicy, call_with_retry
from auditor.crawler.stats import CrawlStats
from auditor.documents import MALFORMED_RESPONSE, check_document
from auditor.errors import (
    ApiError,
    ConnectionFailure,
    CredentialsError,
    DeadlineExceededError,
    MalformedResponseError,
    ScanInterruptedError,
    ThrottledError,
    UsageError,
)
from auditor.models import ErrorScope, ListingComplete, ModelVersion, Resource, ScanError
from auditor.shard import model_share

T = TypeVar("T")
CrawlItem = ModelVersion | ScanError | ListingComplete

# 32 in flight covers ~160 req/s at a real account's ~200 ms control-plane latency, above
# what these APIs are likely to allow one caller, so the pacers (not the pool) set the pace;
# it stays small enough to be polite and to fit botocore's connection pool.
DEFAULT_CONCURRENCY = 32
DEFAULT_MEMBERSHIP_STATUSES = ("ACTIVE",)


@dataclass(frozen=True, slots=True)
class CrawlScope:
    """What to read: explicit memberships, explicit model ARNs, or (both empty) everything.

    ``share``: ``(index, count)``, 0-based: only the models ``auditor.shard.model_share``
    puts in share ``index`` of ``count`` (worker processes splitting one account-region).
    """

    memberships: tuple[str, ...] = ()
    model_arns: tuple[str, ...] = ()
    latest_only: bool = False
    share: tuple[int, int] | None = None
    # --collaboration-models: also the models other members trained in the collaborations
    # of the listed memberships (``auditor.crawler.collaboration``); ``collaboration_claims``
    # is shared by every crawl of one scan so that each collaboration is read once.
    collaboration_models: bool = False
    collaboration_claims: CollaborationClaims | None = field(default=None, compare=False)

    def owns(self, model_arn: str) -> bool:
        """Whether ``model_arn`` is this scope's to read (always, unless it has a share)."""
        return self.share is None or model_share(model_arn, self.share[1]) == self.share[0]


@dataclass(frozen=True, slots=True)
class CrawlConfig:
    """How to read it.

    ``membership_statuses``: ListMemberships is filtered to these (one listing per status);
    the default reads ACTIVE memberships only, since the models of REMOVED or
    COLLABORATION_DELETED memberships can no longer be read; ``()`` lists every status.
    ``deadline``: seconds for the whole crawl; after it no call starts and whatever is left
    becomes ``ScanDeadlineExceeded`` errors; a call in flight when it passes is abandoned.
    It is also the only bound on how long a throttled call keeps being retried.
    ``attempt_timeout`` bounds one attempt (waiting for the pacer included);
    ``connect_timeout``/``read_timeout`` are the SDK's socket timeouts, for ``open_aws_api``.
    """

    concurrency: int = DEFAULT_CONCURRENCY
    membership_statuses: tuple[str, ...] = DEFAULT_MEMBERSHIP_STATUSES
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate: RateConfig = field(default_factory=RateConfig)
    rates: Mapping[str, RateConfig] = field(default_factory=dict)
    deadline: float | None = None
    attempt_timeout: float = 60.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    #: The context roots the enabled policies read (``PolicySet.context_roots``): the
    #: related resources to fetch for each version (``auditor.crawler.context``).
    context_roots: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError(f"concurrency must be at least 1, got {self.concurrency}")

    def rate_for(self, operation: Operation) -> RateConfig:
        return self.rates.get(operation, self.rate)


ModelArn = TrainedModelArn


def parse_model_arn(arn: str) -> TrainedModelArn:
    """Split a trained model ARN; raises ``UsageError`` when it is not one."""
    parsed = parse_trained_model_arn(arn)
    if parsed is None:
        raise UsageError(f"not a Clean Rooms ML trained model ARN: {arn!r}")
    return parsed


def _arn_field(arn: str | None, index: int) -> str | None:
    if not arn:
        return None
    parts = arn.split(":")
    return parts[index] or None if len(parts) > index else None


class CrawlStop:
    """Tells running crawls to stop (SIGINT/SIGTERM): no call starts after ``request``, calls
    in flight are abandoned, and whatever is left (versions, listings) is emitted as a
    ``ScanInterrupted`` error; what was already read is still emitted."""

    def __init__(self) -> None:
        self._event = anyio.Event()
        self.reason = ""

    def request(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()


@dataclass(frozen=True, slots=True)
class _Membership:
    id: str
    account: str | None = None
    collaboration_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Model:
    arn: str
    membership: _Membership
    latest_version: str | None = None


@dataclass(frozen=True, slots=True)
class _Version:
    """One GetTrainedModel to make; ``spent``: attempts it used in earlier passes."""

    model: _Model
    version_identifier: str | None  # None: the latest, whatever it is
    spent: int = 0


@dataclass(frozen=True, slots=True)
class _MembershipsListing:
    """ListMemberships for one status (None: every status)."""

    status: str | None
    cursor: _Cursor = field(default_factory=_Cursor)


@dataclass(frozen=True, slots=True)
class _ModelsListing:
    """ListTrainedModels of one membership."""

    membership: _Membership
    cursor: _Cursor = field(default_factory=_Cursor)


@dataclass(frozen=True, slots=True)
class _VersionsListing:
    """ListTrainedModelVersions of one model (or, for --latest-only, its latest version)."""

    model: _Model
    cursor: _Cursor = field(default_factory=_Cursor)


_Unit = _MembershipsListing | _ModelsListing | _VersionsListing | _Version


@dataclass(slots=True)
class _Work:
    """What one pass of the pipeline starts from, by the stage that takes it."""

    memberships: list[_MembershipsListing] = field(default_factory=list)
    models: list[_ModelsListing] = field(default_factory=list)
    versions: list[_VersionsListing] = field(default_factory=list)
    reads: list[_Version] = field(default_factory=list)
    collaborations: list[CollaborationListing] = field(default_factory=list)
    collaboration_reads: list[CollaborationRead] = field(default_factory=list)

    def add(self, unit: _Unit | CollaborationUnit) -> None:
        match unit:
            case _MembershipsListing():
                self.memberships.append(unit)
            case _ModelsListing():
                self.models.append(unit)
            case _VersionsListing():
                self.versions.append(unit)
            case _Version():
                self.reads.append(unit)
            case CollaborationListing():
                self.collaborations.append(unit)
            case CollaborationRead():
                self.collaboration_reads.append(unit)

    def __len__(self) -> int:
        return (
            len(self.memberships)
            + len(self.models)
            + len(self.versions)
            + len(self.reads)
            + len(self.collaborations)
            + len(self.collaboration_reads)
        )


@dataclass(slots=True)
class _Listing:
    """How far one membership's listings have got: its model listing, then one version
    listing per model it passed on (see ``_Crawler._listing_progress``)."""

    models_listed: bool = False
    versions_pending: int = 0
    failed: bool = False
    reported: bool = False


async def crawl(
    api: CleanRoomsApi,
    scope: CrawlScope,
    send_stream: MemoryObjectSendStream[CrawlItem],
    *,
    config: CrawlConfig | None = None,
    stats: CrawlStats | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    stop: CrawlStop | None = None,
    pacers: Mapping[Operation, Pacer] | None = None,
) -> None:
    """Read every version in ``scope`` from ``api``'s region into ``send_stream``, then close it.

    Emits one ``ModelVersion`` per version read and one ``ScanError`` per thing that could not
    be read; a version whose body breaks the GetTrainedModel contract (``auditor.documents``)
    yields both, the version judged as sent. Emits a ``ListingComplete`` for each membership
    whose listings all completed (what lets a baseline call a version that was not listed
    gone). Raises ``UsageError`` for a malformed model ARN in ``scope`` (before any call).
    To feed one consumer from several regions, pass each crawl a ``send_stream.clone()``.
    ``stop``: see ``CrawlStop``. ``pacers``: the operations' pacers, when they are shared
    with other crawls of the same account-region (``ratecontrol.SharedPacer``).
    """
    crawler = _Crawler(api, scope, send_stream, config or CrawlConfig(), stats, clock, rng)
    if pacers is not None:
        crawler.pacers.update(pacers)
    async with send_stream:
        if stop is None:
            await crawler.run()
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(crawler.stop_when, stop)
            await crawler.run()
            tg.cancel_scope.cancel()


async def collect(
    api: CleanRoomsApi,
    scope: CrawlScope | None = None,
    *,
    config: CrawlConfig | None = None,
    stats: CrawlStats | None = None,
    listings: bool = False,
) -> list[CrawlItem]:
    """What ``crawl`` emits, as a list (for tests and small scripts): the versions and
    errors, and the ``ListingComplete`` records too when ``listings``."""
    send, receive = anyio.create_memory_object_stream[CrawlItem](64)
    items: list[CrawlItem] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_crawl_task, api, scope or CrawlScope(), send, config, stats)
        async with receive:
            async for item in receive:
                if listings or not isinstance(item, ListingComplete):
                    items.append(item)
    return items


async def _crawl_task(
    api: CleanRoomsApi,
    scope: CrawlScope,
    send: MemoryObjectSendStream[CrawlItem],
    config: CrawlConfig | None,
    stats: CrawlStats | None,
) -> None:
    await crawl(api, scope, send, config=config, stats=stats)


class _Crawler:
    def __init__(
        self,
        api: CleanRoomsApi,
        scope: CrawlScope,
        out: MemoryObjectSendStream[CrawlItem],
        config: CrawlConfig,
        stats: CrawlStats | None,
        clock: Clock | None,
        rng: random.Random | None,
    ) -> None:
        self.api = api
        self.scope = scope
        self.out = out
        self.config = config
        self.stats = stats or CrawlStats()
        self.clock = clock or AnyioClock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.model_arns = tuple(
            dict.fromkeys(parse_model_arn(a) for a in scope.model_arns if scope.owns(a))
        )
        self.limiter = anyio.CapacityLimiter(config.concurrency)
        self.deadline = Deadline.after(config.deadline, self.clock)
        now = self.clock.now()
        self.pacers = {
            op: Pacer(RateController(config.rate_for(op), now=now), self.clock) for op in Operation
        }
        self.seen_memberships: set[str] = set()
        self.seen_models: set[str] = set()
        self.seen_versions: set[tuple[str, str]] = set()
        self.listings: dict[str, _Listing] = {}  # by membership id; not for --model scans
        # Set by the first CredentialsError: the credentials are expired or invalid, so every
        # later call would fail the same way; they are not made, and each becomes an error.
        self.halted: CredentialsError | None = None
        # Set by a CrawlStop: no call starts, the calls in flight (these scopes) are abandoned.
        self.stopped: str | None = None
        self._calls: set[anyio.CancelScope] = set()
        claims = scope.collaboration_claims
        self.collaboration = CollaborationView(
            self, CollaborationClaims() if claims is None else claims
        )
        self.related = (
            RelatedReader(
                api,
                config.context_roots,
                call=self._call,
                report=self._report,
                deferring=lambda: self.deferred is not None,
            )
            if config.context_roots
            else None
        )
        if self.related is not None:
            # one tally for every crawl sharing these stats (a scan's account-regions)
            if self.stats.related is None:
                self.stats.related = self.related.stats
            self.related.stats = self.stats.related

    async def _report(self, error: ScanError) -> None:
        self.stats.errors += 1
        await self.out.send(error)

    async def stop_when(self, stop: CrawlStop) -> None:
        await stop.wait()
        self.stopped = stop.reason or "stopped"
        for call in self._calls:
            call.cancel()

    def _interrupted(self, op: Operation) -> ScanInterruptedError:
        return ScanInterruptedError(
            str(op),
            "ScanInterrupted",
            f"not read: the scan was interrupted ({self.stopped})",
            attempts=0,
        )
        # What this pass gave up on, for the next one; None in the last pass (report it).
        self.deferred: _Work | None = None

    async def run(self) -> None:
        work = self._first_work()
        passes = 1 + self.config.retry.deferred_passes
        for number in range(passes):
            if number:
                await self._pause_before_redrive(number)
                if self.related is not None:
                    self.related.next_pass()
            self.deferred = _Work() if number < passes - 1 else None
            await self._pass(work)
            if not self.deferred:
                return
            work = self.deferred
            self.stats.passes += 1

    async def _pause_before_redrive(self, number: int) -> None:
        """Give a failing service ``redrive_delay`` x ``number`` seconds to recover before
        deferred pass ``number``; no pause past the deadline or once credentials failed."""
        if self.halted is not None or self.stopped is not None:
            return
        pause = self.config.retry.redrive_delay * number
        if pause < self.deadline.remaining(self.clock.now()):
            await self.clock.sleep(pause)

    def _first_work(self) -> _Work:
        work = _Work()
        if self.scope.model_arns:  # (a share may own none of them)
            for parsed in self.model_arns:
                membership = _Membership(parsed.membership_id, account=parsed.account)
                self.seen_models.add(parsed.arn)
                self.stats.models += 1
                work.versions.append(_VersionsListing(_Model(parsed.arn, membership)))
        elif self.scope.memberships:
            for membership_id in dict.fromkeys(self.scope.memberships):
                self.seen_memberships.add(membership_id)
                self.stats.memberships += 1
                work.models.append(_ModelsListing(_Membership(membership_id)))
            if self.scope.collaboration_models:
                # ListMemberships (every status) only to find those memberships' collaborations
                work.memberships.append(_MembershipsListing(None))
        else:
            for status in self.config.membership_statuses or (None,):
                work.memberships.append(_MembershipsListing(status))
        return work

    async def _pass(self, work: _Work) -> None:
        """Run the pipeline over ``work`` until every stage has drained."""
        concurrency = self.config.concurrency
        buffer = max(16, concurrency * 2)
        memberships_out, memberships_in = anyio.create_memory_object_stream[_ModelsListing](buffer)
        models_out, models_in = anyio.create_memory_object_stream[_VersionsListing](buffer)
        versions_out, versions_in = anyio.create_memory_object_stream[_Version](buffer * 2)
        collab_out, collab_in = anyio.create_memory_object_stream[CollaborationListing](buffer)
        collab_reads_out, collab_reads_in = anyio.create_memory_object_stream[CollaborationRead](
            buffer * 2
        )
        view = self.collaboration
        async with anyio.create_task_group() as tg:
            # each stage's own work enters its stream beside what the stage above sends
            tg.start_soon(_feed, work.collaborations, collab_out.clone())
            tg.start_soon(_feed, work.collaboration_reads, collab_reads_out.clone())
            tg.start_soon(
                self._memberships_stage, work.memberships, work.models, memberships_out, collab_out
            )
            tg.start_soon(_feed, work.versions, models_out.clone())
            tg.start_soon(_feed, work.reads, versions_out.clone())
            _fan_out(tg, view.listing_worker, collab_in, collab_reads_out, concurrency // 4)
            _fan_out(tg, view.read_worker, collab_reads_in, None, concurrency)
            _fan_out(tg, self._models_worker, memberships_in, models_out, concurrency // 4)
            _fan_out(tg, self._versions_worker, models_in, versions_out, concurrency)
            _fan_out(tg, self._documents_worker, versions_in, None, concurrency * 2)

    # --- stage 1: memberships -------------------------------------------------------------

    async def _memberships_stage(
        self,
        listings: Sequence[_MembershipsListing],
        memberships: Sequence[_ModelsListing],
        send: MemoryObjectSendStream[_ModelsListing],
        collaborations: MemoryObjectSendStream[CollaborationListing],
    ) -> None:
        async with send, collaborations:
            for membership in memberships:
                await send.send(membership)
            for listing in listings:
                await self._list_memberships(listing, send, collaborations)

    async def _list_memberships(
        self,
        listing: _MembershipsListing,
        send: MemoryObjectSendStream[_ModelsListing],
        collaborations: MemoryObjectSendStream[CollaborationListing],
    ) -> None:
        op = Operation.LIST_MEMBERSHIPS

        async def page_of(token: str | None) -> Page:
            return await self.api.list_memberships(status=listing.status, next_token=token)

        scoped = frozenset(self.scope.memberships)  # --membership: listed for collaborations

        async def on_page(page: Page) -> None:
            for item in page.items:
                membership_id = item.get("id")
                if not isinstance(membership_id, str) or not membership_id:
                    await self._fail(ErrorScope.REGION, op, _malformed(op, "summary has no id"))
                    continue
                arn = item.get("arn")
                membership = _Membership(
                    membership_id,
                    account=_arn_field(arn if isinstance(arn, str) else None, 4),
                    collaboration_id=_str_or_none(item.get("collaborationId")),
                )
                if scoped:
                    if membership_id in scoped:
                        await self._collaboration_of(item, membership, collaborations)
                    continue
                if membership_id in self.seen_memberships:  # a restarted listing offers it again
                    continue
                self.seen_memberships.add(membership_id)
                self.stats.memberships += 1
                await send.send(_ModelsListing(membership))
                await self._collaboration_of(item, membership, collaborations)

        try:
            await self._each_page(op, listing.cursor, page_of, on_page)
        except ApiError as error:
            await self._unreadable(listing, op, error)

    async def _collaboration_of(
        self,
        item: Mapping[str, Any],
        membership: _Membership,
        send: MemoryObjectSendStream[CollaborationListing],
    ) -> None:
        """With --collaboration-models, hand a listed membership's collaboration to the view
        (which reads each collaboration once)."""
        if not self.scope.collaboration_models or membership.collaboration_id is None:
            return
        listing = CollaborationListing(
            membership.collaboration_id,
            membership.id,
            account=membership.account,
            collaboration_arn=_str_or_none(item.get("collaborationArn")),
        )
        await self.collaboration.found(listing, send)

    # --- stage 2: models --------------------------------------------------------------------

    async def _models_worker(
        self,
        receive: MemoryObjectReceiveStream[_ModelsListing],
        send: MemoryObjectSendStream[_VersionsListing],
    ) -> None:
        async with receive, send:
            async for listing in receive:
                await self._list_models(listing, send)

    async def _list_models(
        self, listing: _ModelsListing, send: MemoryObjectSendStream[_VersionsListing]
    ) -> None:
        op = Operation.LIST_TRAINED_MODELS
        membership = listing.membership
        progress = self.listings.setdefault(membership.id, _Listing())

        async def page_of(token: str | None) -> Page:
            return await self.api.list_trained_models(membership.id, next_token=token)

        async def on_page(page: Page) -> None:
            nonlocal membership
            for item in page.items:
                arn = item.get("trainedModelArn")
                if not isinstance(arn, str) or not arn:
                    malformed = _malformed(op, "summary has no trainedModelArn")
                    await self._fail(ErrorScope.MEMBERSHIP, op, malformed, membership=membership)
                    continue
                if arn in self.seen_models or not self.scope.owns(arn):
                    continue  # seen: also what a restarted listing offers again
                self.seen_models.add(arn)
                self.stats.models += 1
                if membership.collaboration_id is None:
                    collaboration = _str_or_none(item.get("collaborationIdentifier"))
                    membership = _Membership(membership.id, membership.account, collaboration)
                latest = _str_or_none(item.get("versionIdentifier"))
                progress.versions_pending += 1
                await send.send(_VersionsListing(_Model(arn, membership, latest)))

        try:
            await self._each_page(op, listing.cursor, page_of, on_page)
        except ApiError as error:
            if await self._unreadable(replace(listing, membership=membership), op, error):
                return  # deferred: listed in full only once a later pass finishes it
        else:
            progress.models_listed = True
        await self._listing_progress(membership)

    # --- stage 3: versions ------------------------------------------------------------------

    async def _versions_worker(
        self,
        receive: MemoryObjectReceiveStream[_VersionsListing],
        send: MemoryObjectSendStream[_Version],
    ) -> None:
        async with receive, send:
            async for listing in receive:
                model = listing.model
                done = True
                if self.scope.latest_only:
                    await self._discovered(_Version(model, model.latest_version), send)
                else:
                    done = await self._list_versions(listing, send)  # False: deferred
                progress = self.listings.get(model.membership.id)
                if done and progress is not None:
                    progress.versions_pending -= 1
                    await self._listing_progress(model.membership)

    async def _listing_progress(self, membership: _Membership) -> None:
        """Emit ``ListingComplete`` once the membership's model listing and the version
        listing of every model it passed on have completed, none with an error."""
        progress = self.listings[membership.id]
        # Emit only when every listing under this membership completed: a listing that
        # failed, or is still to be (re-)driven, leaves its versions unproven, so a version
        # missing from it may still exist. Reads (GetTrainedModel) may still be under way;
        # each ends as a ModelVersion or a ScanError naming its version.
        if (
            progress.models_listed
            and progress.versions_pending == 0
            and not progress.failed
            and not progress.reported
        ):
            progress.reported = True
            await self.out.send(
                ListingComplete(membership.id, account=membership.account, region=self.api.region)
            )

    async def _list_versions(
        self, listing: _VersionsListing, send: MemoryObjectSendStream[_Version]
    ) -> bool:
        """Pass on each version of one model; False when the listing was deferred."""
        op = Operation.LIST_TRAINED_MODEL_VERSIONS
        model = listing.model

        async def page_of(token: str | None) -> Page:
            return await self.api.list_trained_model_versions(
                model.membership.id, model.arn, next_token=token
            )

        async def on_page(page: Page) -> None:
            for item in page.items:
                version = item.get("versionIdentifier")
                if not isinstance(version, str) or not version:
                    malformed = _malformed(op, "summary has no versionIdentifier")
                    await self._fail(ErrorScope.TRAINED_MODEL, op, malformed, model=model)
                    continue
                # passed on once, even when a restarted listing offers it again
                await self._discovered(_Version(model, version), send)

        try:
            await self._each_page(op, listing.cursor, page_of, on_page)
        except ApiError as error:
            return not await self._unreadable(listing, op, error)
        return True

    async def _discovered(self, version: _Version, send: MemoryObjectSendStream[_Version]) -> None:
        if version.version_identifier is not None:
            key = (version.model.arn, version.version_identifier)
            if key in self.seen_versions:
                return
            self.seen_versions.add(key)
        self.stats.versions_discovered += 1
        await send.send(version)

    # --- stage 4: documents -----------------------------------------------------------------

    async def _documents_worker(
        self, receive: MemoryObjectReceiveStream[_Version], _: None
    ) -> None:
        async with receive:
            async for version in receive:
                if await self._read(version):
                    self.stats.versions_done += 1

    async def _read(self, version: _Version) -> bool:
        """Read one version into the output; False when it was deferred to a later pass."""
        op = Operation.GET_TRAINED_MODEL
        model = version.model
        try:
            document = await self._call(
                op,
                lambda: self.api.get_trained_model(
                    model.membership.id, model.arn, version_identifier=version.version_identifier
                ),
            )
        except ApiError as error:
            return not await self._unreadable(version, op, error)
        checked = check_document(document)
        document = checked.document
        context: dict[str, Any] | None = None
        if self.related is not None:
            try:
                context = await self.related.context_for(document, model.membership.id, model.arn)
            except DeferRelated as defer:
                return not await self._unreadable(version, defer.operation, defer.error)
        read_version = _str_or_none(document.get("versionIdentifier"))
        answered = _str_or_none(document.get("trainedModelArn"))
        if (answered is not None and answered != model.arn) or (
            version.version_identifier is not None
            and read_version is not None
            and read_version != version.version_identifier
        ):
            # Not the version asked for: it is not judged under either name, and the one asked
            # for is an error (never silently absent, which a baseline could call gone).
            asked = f"{model.arn} version {version.version_identifier or '(latest)'}"
            mismatch = MalformedResponseError(
                str(op),
                MALFORMED_RESPONSE,
                redact(f"asked for {asked}, answered for {answered} version {read_version}"),
            )
            await self._fail(ErrorScope.VERSION, op, mismatch, model=model, version=version)
            return True
        if version.version_identifier is None and read_version is not None:
            key = (model.arn, read_version)
            if key in self.seen_versions:
                return True
            self.seen_versions.add(key)
            version = _Version(model, read_version)
        # a record that breaks the contract is still judged (its mistyped values fail
        # closed) and is reported as well
        resource = _resource(document, version)
        await self.out.send(ModelVersion(resource=resource, document=document, context=context))
        if not checked.conforms:
            malformed = MalformedResponseError(str(op), MALFORMED_RESPONSE, redact(checked.message))
            await self._fail(ErrorScope.VERSION, op, malformed, model=model, version=version)
        return True

    # --- calls, deferral and errors ---------------------------------------------------------

    async def _each_page(
        self,
        op: Operation,
        cursor: _Cursor,
        page_of: Callable[[str | None], Awaitable[Page]],
        on_page: Callable[[Page], Awaitable[None]],
    ) -> None:
        """Hand each page of one listing to ``on_page``, from ``cursor`` on; ``cursor`` keeps
        its place, so a listing given up on a page resumes there. Raises ``ApiError`` when a
        page cannot be read, ``MalformedResponseError`` (``PaginationLoop``) when a
        ``nextToken`` comes back that this listing has already followed.

        A ``nextToken`` the service refuses (``ValidationException``: pagination tokens
        expire, and a big scan can take a while to come back to a listing) starts the listing
        again from its first page, once; ``on_page`` skips what it has already passed on.
        """
        while True:
            try:
                page = await self._call(op, partial(page_of, cursor.token))
            except ApiError as error:
                if cursor.token is None or cursor.restarted or error.code != "ValidationException":
                    raise
                cursor.restart()
                self.stats.restarts += 1
                continue
            await on_page(page)
            token = page.next_token
            if token is None:
                return
            if token in cursor.followed:
                raise MalformedResponseError(
                    str(op),
                    "PaginationLoop",
                    f"{op} returned nextToken {_short(token)!r} twice (after {cursor.pages + 1} "
                    "pages); the rest of this listing was not read",
                )
            cursor.advance(token)

    async def _unreadable(self, unit: _Unit, op: Operation, error: ApiError) -> bool:
        """Defer ``unit`` to the next pass when a retry may mend ``error`` and a pass is left
        (True), else report it as an error (False)."""
        if error.retryable and self.deferred is not None:
            if isinstance(unit, _Version):
                unit = replace(unit, spent=unit.spent + error.attempts)
            else:
                unit.cursor.spent += error.attempts
            self.deferred.add(unit)
            self.stats.deferred += 1
            return True
        if error.retryable and self.config.retry.deferred_passes:
            error.attempts += unit.spent if isinstance(unit, _Version) else unit.cursor.spent
            notes = [f"still failing after {1 + self.config.retry.deferred_passes} passes"]
            if not isinstance(unit, _Version) and unit.cursor.token is not None:
                notes.append(f"{unit.cursor.pages} pages read, the rest not")
            error.message = f"{error.message} ({'; '.join(notes)})"
        match unit:
            case _MembershipsListing():
                await self._fail(ErrorScope.REGION, op, error)
            case _ModelsListing(membership=membership):
                await self._fail(ErrorScope.MEMBERSHIP, op, error, membership=membership)
            case _VersionsListing(model=model):
                await self._fail(ErrorScope.TRAINED_MODEL, op, error, model=model)
            case _Version(model=model):
                await self._fail(ErrorScope.VERSION, op, error, model=model, version=unit)
        return False

    def _defer_collaboration(self, unit: CollaborationUnit) -> bool:
        """Hand a collaboration listing or read to the next pass; False in the last pass."""
        if self.deferred is None:
            return False
        self.deferred.add(unit)
        self.stats.deferred += 1
        return True

    def _redrive_note(self, cursor: _Cursor | None) -> str | None:
        """What an error given up on after every deferred pass says about them."""
        if not self.config.retry.deferred_passes:
            return None
        notes = [f"still failing after {1 + self.config.retry.deferred_passes} passes"]
        if cursor is not None and cursor.token is not None:
            notes.append(f"{cursor.pages} pages read, the rest not")
        return "; ".join(notes)

    def _not_attempted(self, op: Operation, cause: CredentialsError) -> CredentialsError:
        return _NotAttempted(
            str(op),
            cause.code,
            f"not attempted: the credentials failed earlier in this scan ({cause.message})",
            attempts=0,
            status=cause.status,
        )

    async def _call(self, op: Operation, request: Callable[[], Awaitable[T]]) -> T:
        pacer = self.pacers[op]
        stats = self.stats
        if self.halted is not None:
            raise self._not_attempted(op, self.halted)

        async def attempt() -> T:
            # The scan deadline bounds the wait for the pacer and the call itself, so a slow
            # or stalled response cannot hold the scan past --timeout.
            limit = min(self.config.attempt_timeout, self.deadline.remaining(self.clock.now()))
            try:
                with anyio.fail_after(max(0.0, limit)):
                    ticket = await pacer.acquire()
                    async with self.limiter:
                        if self.halted is not None:
                            raise self._not_attempted(op, self.halted)
                        stats.calls[op] += 1
                        result = await request()
            except ThrottledError:
                stats.throttles += 1
                pacer.throttled(ticket)
                self._publish_rate(op, pacer)
                raise
            except TimeoutError as exc:
                if self.deadline.remaining(self.clock.now()) <= 0:
                    raise DeadlineExceededError(
                        op, "ScanDeadlineExceeded", "scan deadline passed during the call"
                    ) from exc
                raise ConnectionFailure(
                    op, "AttemptTimeout", f"no response in {self.config.attempt_timeout:g}s"
                ) from exc
            except _NotAttempted:
                raise
            except CredentialsError as error:
                if self.halted is None:
                    self.halted = error
                raise
            except ApiError as error:
                if not error.retryable:
                    pacer.succeeded(ticket)  # answered, not throttled: the rate was fine
                raise
            pacer.succeeded(ticket)
            self._publish_rate(op, pacer)
            return result

        def on_retry(error: ApiError, attempts: int, delay: float) -> None:
            stats.retries += 1

        if self.stopped is not None:
            raise self._interrupted(op)
        with anyio.CancelScope() as call:
            self._calls.add(call)
            try:
                return await call_with_retry(
                    op,
                    attempt,
                    policy=self.config.retry,
                    clock=self.clock,
                    deadline=self.deadline,
                    rng=self.rng,
                    on_retry=on_retry,
                )
            except _NotAttempted as error:
                error.attempts -= 1  # the last "attempt" stopped short of calling
                raise
            finally:
                self._calls.discard(call)
        raise self._interrupted(op)  # only a CrawlStop cancels ``call``

    def _publish_rate(self, op: Operation, pacer: Pacer) -> None:
        self.stats.rates[op] = pacer.controller.rate
        if pacer.controller.ceiling is not None:
            self.stats.limits[op] = pacer.controller.ceiling

    async def _fail(
        self,
        scope: ErrorScope,
        op: Operation,
        error: ApiError,
        *,
        membership: _Membership | None = None,
        model: _Model | None = None,
        version: _Version | None = None,
    ) -> None:
        if model is not None:
            membership = model.membership
        arn = model.arn if model is not None else None
        self.stats.errors += 1
        if membership is not None and scope in (ErrorScope.MEMBERSHIP, ErrorScope.TRAINED_MODEL):
            listing = self.listings.get(membership.id)
            if listing is not None:  # a listing under it failed: it is not listed in full
                listing.failed = True
        await self.out.send(
            ScanError(
                scope=scope,
                operation=str(op),
                code=error.code,
                message=error.message,
                attempts=error.attempts,
                account=_arn_field(arn, 4) or (membership.account if membership else None),
                region=_arn_field(arn, 3) or self.api.region,
                membership_id=membership.id if membership else None,
                resource_arn=arn,
                version_identifier=version.version_identifier if version else None,
            )
        )


class _NotAttempted(CredentialsError):
    """A call skipped because the scan's credentials already failed."""


async def _feed(items: Sequence[T], send: MemoryObjectSendStream[T]) -> None:
    """Send ``items`` into a stage's stream, then close this sender."""
    async with send:
        for item in items:
            await send.send(item)


def _fan_out(
    tg: TaskGroup,
    worker: Callable[[MemoryObjectReceiveStream[Any], Any], Coroutine[Any, Any, None]],
    receive: MemoryObjectReceiveStream[Any],
    send: MemoryObjectSendStream[Any] | None,
    count: int,
) -> None:
    """Start ``count`` workers sharing ``receive`` (and ``send``); each closes its own clones."""
    for _ in range(max(1, count)):
        tg.start_soon(worker, receive.clone(), send.clone() if send is not None else None)
    receive.close()
    if send is not None:
        send.close()


def _resource(document: Mapping[str, Any], version: _Version) -> Resource:
    # A report keeps one Resource per version for the whole scan, so its strings are the
    # model's and membership's own objects (one copy per model, not per version) whenever
    # the document agrees with them, and the few-valued ones are interned.
    model = version.model
    membership = model.membership
    arn = _same(document.get("trainedModelArn"), model.arn) or model.arn
    return Resource(
        arn=arn,
        version_identifier=_same(document.get("versionIdentifier"), version.version_identifier)
        or version.version_identifier,
        name=_interned(document.get("name")),
        membership_id=_same(document.get("membershipIdentifier"), membership.id) or membership.id,
        collaboration_id=_same(document.get("collaborationIdentifier"), membership.collaboration_id)
        or membership.collaboration_id,
        account=_interned(_arn_field(arn, 4)),
        region=_interned(_arn_field(arn, 3)),
        status=_interned(document.get("status")),
    )


def _same(value: object, known: str | None) -> str | None:
    """``value`` if a non-empty string, as the ``known`` object itself when they are equal."""
    if not isinstance(value, str) or not value:
        return None
    return known if value == known else value


def _interned(value: object) -> str | None:
    return sys.intern(value) if isinstance(value, str) and value else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _malformed(op: Operation, message: str) -> MalformedResponseError:
    return MalformedResponseError(str(op), "MalformedResponse", message)


__all__ = [
    "DEFAULT_CONCURRENCY",
    "CrawlConfig",
    "CrawlItem",
    "CrawlScope",
    "CrawlStop",
    "ModelArn",
    "Page",
    "collect",
    "crawl",
    "parse_model_arn",
]
