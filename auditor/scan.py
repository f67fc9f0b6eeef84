"""A live scan: crawl every account-region in scope concurrently, evaluate as versions arrive.

The work is a list of *units*, one per account and region (one account, the caller's own,
unless ``--accounts``/``--org`` name others). ``--shard I/N`` keeps this machine's share of
them. Each unit is one ``crawl`` with its own clients and its own per-operation rate
controllers, so one throttled account never slows another; at most ``max_parallel`` units
run at once and each is bounded by ``unit_timeout``, so a slow or broken account holds one
slot, never the scan.

The crawler produces, this module consumes: one memory object stream carries
``ModelVersion``/``ScanError``/``ListingComplete`` from every unit's crawl into the
``ReportBuilder``; each item is stamped with its unit's account and region on the way. SIGINT and SIGTERM cancel the crawl;
every version already read is still evaluated and recorded, what was not reached becomes a
``ScanInterrupted`` error (one per version, listing or account-region left), and the report is
marked interrupted and incomplete (and then no membership counts as listed in full). A second signal abandons even that and reports what was
recorded. Versions are evaluated one at a time between turns of the event loop, so a signal
or ``--timeout`` is seen within one version's evaluation.

With ``workers`` > 1 the same units (or shares of one, split by model) are crawled by
``_crawl_unit`` in worker processes instead (``auditor.workers``), whose items reach the same
``ReportBuilder`` here; the signals are still this process's, passed on to the workers.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import aioboto3
import anyio
import anyio.lowlevel
from anyio import CancelScope
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from botocore.exceptions import ClientError, ProfileNotFound

from auditor import prefork
from auditor.accounts import (
    DEFAULT_ROLE_DURATION,
    DEFAULT_SESSION_NAME,
    AccountTarget,
    assume_role_credentials,
    list_org_accounts,
    session_with,
)
from auditor.audit import ReportBuilder, ReportOptions
from auditor.crawler import (
    CrawlConfig,
    CrawlItem,
    CrawlScope,
    CrawlStats,
    CrawlStop,
    Operation,
    crawl,
    open_aws_api,
    parse_model_arn,
)
from auditor.crawler.ratecontrol import Pacer
from auditor.errors import UsageError
from auditor.lineage import ContextTally
from auditor.models import (
    ErrorScope,
    ListingComplete,
    Report,
    ScanError,
    ScanFilters,
)
from auditor.policy import PolicySet
from auditor.shard import Shard
from auditor.workers import crawl_in_workers, plan_jobs

log = logging.getLogger(__name__)

SERVICE = "cleanrooms-ml"
DEFAULT_MAX_PARALLEL = 8


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """Where to look and how hard: regions, profile, accounts, shard, scope and tuning.

    ``accounts``: explicit targets (an accounts file); ``org_role``: list the organization's
    active accounts and assume this role (a name or ARN) in each; neither: the caller's own
    account. ``max_parallel``: account-regions crawled at once; ``unit_timeout``: seconds for
    one account-region before what is left of it becomes errors. ``workers``: processes
    crawling at once (``auditor.workers``: they share the ``max_parallel`` account-regions;
    more workers than account-regions split each into shares by model);
    1 crawls in this process; 0 picks ``default_workers``.
    """

    regions: tuple[str, ...] = ()
    profile: str | None = None
    scope: CrawlScope = field(default_factory=CrawlScope)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    accounts: tuple[AccountTarget, ...] = ()
    org_role: str | None = None
    org_external_id: str | None = None
    shard: Shard | None = None
    max_parallel: int = DEFAULT_MAX_PARALLEL
    unit_timeout: float | None = None
    role_duration: int = DEFAULT_ROLE_DURATION
    role_session_name: str = DEFAULT_SESSION_NAME
    workers: int = 1  # 0: the machine's cores, at most one per account-region


@dataclass(frozen=True, slots=True, order=True)
class Unit:
    """One account-region: the unit of work, of rate control and of sharding."""

    account: str  # "" for the caller's own account, unnamed
    region: str


async def available_regions(session: aioboto3.Session) -> tuple[str, ...]:
    """Every region where the service exists, from the SDK's own endpoint data.

    The SDK's data has no entry for Clean Rooms ML itself; Clean Rooms ML lives inside Clean
    Rooms (memberships, the scan's first call, are a Clean Rooms resource), so its regions
    are the fallback. Raises ``UsageError`` when the SDK knows none.
    """
    for service in (SERVICE, "cleanrooms"):
        regions = await session.get_available_regions(service)
        if regions:
            return tuple(regions)
    raise UsageError("the AWS SDK's endpoint data names no region for Clean Rooms")


def resolve_regions(
    requested: Sequence[str],
    session: aioboto3.Session,
    scope: CrawlScope | None = None,
    *,
    every_region: Sequence[str] = (),
) -> tuple[str, ...]:
    """The regions to scan: as given, ``all`` as ``every_region`` (``available_regions``),
    else the regions of the ``--model`` ARNs, else the SDK's configured region (or
    ``AWS_REGION``, which botocore itself does not read). Raises ``UsageError`` for none."""
    regions: list[str] = []
    for region in requested:
        if region == "all":
            regions.extend(every_region)
        else:
            regions.append(region)
    if not regions and scope is not None:
        regions.extend(parse_model_arn(arn).region for arn in scope.model_arns)
    if not regions:
        configured = session.region_name or os.environ.get("AWS_REGION")
        if configured:
            regions.append(configured)
    if not regions:
        raise UsageError("no AWS region: pass --region, set AWS_REGION, or configure a profile")
    return tuple(dict.fromkeys(regions))


def _stamp(item: CrawlItem, unit: Unit) -> CrawlItem:
    """``item`` naming its unit's account and region where the crawler could not."""
    account = unit.account or None
    if isinstance(item, ListingComplete):
        return replace(item, account=item.account or account, region=item.region or unit.region)
    if isinstance(item, ScanError):
        if item.account and item.region:
            return item
        return replace(item, account=item.account or account, region=item.region or unit.region)
    resource = item.resource
    if resource.account and resource.region:
        return item
    stamped = replace(
        resource, account=resource.account or account, region=resource.region or unit.region
    )
    return replace(item, resource=stamped)


async def _forward(
    receive: MemoryObjectReceiveStream[CrawlItem],
    send: MemoryObjectSendStream[CrawlItem],
    unit: Unit,
) -> None:
    async with receive, send:
        async for item in receive:
            await send.send(_stamp(item, unit))


def _unit_error(unit: Unit, operation: str, code: str, message: str) -> ScanError:
    return ScanError(
        scope=ErrorScope.ACCOUNT if unit.account else ErrorScope.REGION,
        operation=operation,
        code=code,
        message=message,
        account=unit.account or None,
        region=unit.region,
    )


def _describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code") or "ClientError"), str(error.get("Message") or exc)
    return type(exc).__name__, str(exc) or type(exc).__name__


class _Account:
    """One account's session: the base session, or one assuming the account's role. The
    role is assumed once, on first use, so a refusal is known before any crawl starts."""

    def __init__(
        self, base: aioboto3.Session, target: AccountTarget | None, settings: ScanSettings
    ):
        self.base = base
        self.target = target
        self.settings = settings
        self._lock = anyio.Lock()
        self._session: aioboto3.Session | None = None
        self._failure: tuple[str, str] | None = None

    async def session(self) -> aioboto3.Session | tuple[str, str]:
        """The session, or the ``(code, message)`` of why the role could not be assumed."""
        async with self._lock:
            if self._session is None and self._failure is None:
                await self._open()
            if self._session is not None:
                return self._session
            assert self._failure is not None
            return self._failure

    async def _open(self) -> None:
        target = self.target
        if target is None or target.role_arn is None:
            self._session = self.base
            return
        source = await self.base.get_credentials()
        credentials = assume_role_credentials(
            self.base,
            source,
            target,
            session_name=self.settings.role_session_name,
            duration=self.settings.role_duration,
        )
        try:
            await credentials.get_frozen_credentials()
        except Exception as exc:  # whatever STS did, only this account fails
            code, message = _describe(exc)
            self._failure = (code, f"cannot assume {target.role_arn}: {message}")
            log.warning("account %s: %s", target.account_id, self._failure[1])
            return
        self._session = session_with(self.base, credentials)


async def _crawl_unit(
    account: _Account,
    unit: Unit,
    settings: ScanSettings,
    send: MemoryObjectSendStream[CrawlItem],
    stats: CrawlStats,
    limiter: anyio.CapacityLimiter,
    ends_at: float | None,
    stop: CrawlStop,
    pacers: Mapping[Operation, Pacer] | None = None,
) -> None:
    async with send, limiter:
        if stop.requested:
            message = (
                f"not read: the scan was interrupted ({stop.reason}) before account "
                f"{unit.account or '(own)'} region {unit.region} was started"
            )
            await send.send(_unit_error(unit, "Scan", "ScanInterrupted", message))
            return
        deadline = settings.unit_timeout
        if ends_at is not None:
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                await send.send(
                    _unit_error(
                        unit,
                        "Scan",
                        "ScanDeadlineExceeded",
                        "scan deadline passed before "
                        f"account {unit.account or '(own)'} region {unit.region} was started",
                    )
                )
                return
            deadline = remaining if deadline is None else min(deadline, remaining)
        session = await account.session()
        if isinstance(session, tuple):
            code, message = session
            await send.send(_unit_error(unit, "AssumeRole", code, message))
            return
        config = replace(settings.crawl, deadline=deadline)
        unit_send, unit_receive = anyio.create_memory_object_stream[CrawlItem](64)
        async with (
            anyio.create_task_group() as tg,
            open_aws_api(
                session=session,
                region_name=unit.region,
                max_pool_connections=settings.crawl.concurrency,
                connect_timeout=settings.crawl.connect_timeout,
                read_timeout=settings.crawl.read_timeout,
            ) as api,
        ):
            tg.start_soon(_forward, unit_receive, send.clone(), unit)
            scope = _scope_in(settings.scope, unit.region)
            await crawl(api, scope, unit_send, config=config, stats=stats, stop=stop, pacers=pacers)


def _scope_in(scope: CrawlScope, region: str) -> CrawlScope:
    """The part of ``scope`` a region's crawl reads: ``--model`` ARNs name their region."""
    if not scope.model_arns:
        return scope
    arns = tuple(a for a in scope.model_arns if parse_model_arn(a).region == region)
    return replace(scope, model_arns=arns)


@contextmanager
def _unwrapped_usage_errors() -> Iterator[None]:
    """A configuration problem found inside a task group surfaces as itself, not as a group."""
    try:
        yield
    except BaseExceptionGroup as group:
        usage, _ = group.split(UsageError)
        if usage is not None:
            first = usage.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            raise first from group
        raise


async def _stop_on_signal(stop: CrawlStop, scope: CancelScope, received: list[str]) -> None:
    """First signal: stop the crawl, keep what was read. Second: abandon even that."""
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            received.append(name)
            if len(received) == 1:
                log.warning(
                    "%s received: stopping the scan; what was read is kept and the rest is "
                    "reported as not read (send it again to stop at once)",
                    name,
                )
                stop.request(name)
            else:
                log.warning("%s received again: stopping at once", name)
                scope.cancel()
                return


async def _targets(
    settings: ScanSettings, session: aioboto3.Session
) -> tuple[AccountTarget | None, ...]:
    if settings.accounts:
        return settings.accounts
    if settings.org_role:
        return await list_org_accounts(
            session, settings.org_role, external_id=settings.org_external_id
        )
    return (None,)


def plan_units(
    targets: Sequence[AccountTarget | None],
    regions: Sequence[str] | None,
    session: aioboto3.Session,
    settings: ScanSettings,
    every_region: Sequence[str] = (),
) -> list[tuple[AccountTarget | None, Unit]]:
    """Every account-region of the scan (this shard's share), in a stable order."""
    units: dict[Unit, AccountTarget | None] = {}
    for target in targets:
        if target is not None and target.regions:
            account_regions = resolve_regions(target.regions, session, every_region=every_region)
        elif regions is not None:
            account_regions = tuple(regions)
        else:
            raise UsageError(
                f"no AWS region for account {target.account_id if target else '(own)'}: "
                "pass --region or give the account regions in the accounts file"
            )
        for region in account_regions:
            if settings.scope.model_arns and not _scope_in(settings.scope, region).model_arns:
                continue  # none of the --model ARNs lives here
            unit = Unit(target.account_id if target else "", region)
            if settings.shard is None or settings.shard.owns(unit.account or None, region):
                units.setdefault(unit, target)
    return sorted(((target, unit) for unit, target in units.items()), key=lambda pair: pair[1])


def default_workers(units: int) -> int:
    """``ScanSettings(workers=0)``, the CLI's default: the cores this process may run on, at
    most one per account-region (splitting one account-region is asked for by naming more
    workers), so a scan of one account-region runs in this process."""
    return max(1, min(prefork.usable_cores(), units))


def _session(profile: str | None) -> aioboto3.Session:
    """The SDK's session; raises ``UsageError`` for a profile the SDK's config lacks."""
    try:
        return aioboto3.Session(profile_name=profile)
    except ProfileNotFound as exc:
        raise UsageError(
            f"AWS profile {exc.kwargs.get('profile')!r} not found in the SDK's config"
        ) from exc


async def run_scan(
    settings: ScanSettings,
    policy_set: PolicySet,
    options: ReportOptions,
    *,
    stats: CrawlStats | None = None,
    session: aioboto3.Session | None = None,
    watch: Callable[[CrawlStats], Coroutine[Any, Any, None]] | None = None,
    handle_signals: bool = True,
    context: ContextTally | None = None,
) -> Report:
    """Scan every region, evaluate every version, and build the report.

    ``watch`` runs beside the scan (a progress display) and is cancelled when it ends.
    With worker processes (``settings.workers``), each opens its own session from
    ``settings.profile`` and the environment; ``session`` serves the planning here.
    ``context``: tallies what the versions' related resources held (``auditor demo``).
    Raises ``UsageError`` for configuration problems found before any call.
    """
    session = session or _session(settings.profile)
    # the crawl reads exactly the related resources the enabled policies name
    settings = replace(
        settings, crawl=replace(settings.crawl, context_roots=policy_set.context_roots)
    )
    wanted = [*settings.regions, *(r for t in settings.accounts for r in t.regions)]
    every_region = await available_regions(session) if "all" in wanted else ()
    try:
        regions: tuple[str, ...] | None = resolve_regions(
            settings.regions, session, settings.scope, every_region=every_region
        )
    except UsageError:
        if not (settings.accounts and all(t.regions for t in settings.accounts)):
            raise
        regions = None  # every account names its own
    if await session.get_credentials() is None:
        raise UsageError(
            "no AWS credentials found by the SDK's credential chain "
            "(environment, shared config/profile, SSO, container or instance role)"
        )
    if settings.max_parallel < 1:
        raise UsageError(f"max_parallel must be at least 1, got {settings.max_parallel}")
    if settings.workers < 0:
        raise UsageError(f"workers must be at least 1, got {settings.workers}")
    targets = await _targets(settings, session)
    claims = settings.scope.collaboration_claims
    if claims is not None:  # a scanned account's models are read as its own, not a partner's
        claims.scanned_accounts.update(target.account_id for target in targets if target)
    planned = plan_units(targets, regions, session, settings, every_region)
    accounts = {
        target.account_id: _Account(session, target, settings) for target in targets if target
    }
    own = _Account(session, None, settings)
    stats = stats or CrawlStats()
    limiter = anyio.CapacityLimiter(settings.max_parallel)
    deadline = settings.crawl.deadline
    ends_at = time.monotonic() + deadline if deadline is not None else None
    builder = ReportBuilder(
        policy_set,
        mode="scan",
        regions=sorted({unit.region for _, unit in planned}),
        accounts=sorted({unit.account for _, unit in planned if unit.account}),
        filters=ScanFilters(
            memberships=settings.scope.memberships,
            models=settings.scope.model_arns,
            latest_only=settings.scope.latest_only,
        ),
        shard=str(settings.shard) if settings.shard else None,
    )
    if context is not None:
        builder.context = context
    signals: list[str] = []
    stop = CrawlStop()
    report: Report | None = None
    with anyio.CancelScope() as outer, _unwrapped_usage_errors():
        async with anyio.create_task_group() as tg:
            if handle_signals:
                tg.start_soon(_stop_on_signal, stop, outer, signals)
            if watch is not None:
                tg.start_soon(watch, stats)
            workers = settings.workers or default_workers(len(planned))
            jobs = plan_jobs(planned, workers) if workers > 1 else []
            if len(jobs) <= 1:  # a fork server started on the command line's hint, unused
                prefork.stop()
            else:  # in worker processes, items arriving here between turns
                await crawl_in_workers(jobs, workers, settings, ends_at, stats, builder.add, stop)
                planned = []
            send, receive = anyio.create_memory_object_stream[CrawlItem](256)
            async with send:
                for target, unit in planned:
                    account = accounts[target.account_id] if target else own
                    tg.start_soon(
                        _crawl_unit,
                        account,
                        unit,
                        settings,
                        send.clone(),
                        stats,
                        limiter,
                        ends_at,
                        stop,
                    )
            async with receive:
                async for item in receive:  # each receive is a turn of the loop
                    builder.add(item)
            # Built while the signal watcher still listens: a signal now is noted, not fatal.
            report = _build(builder, options, settings, stats, signals)
            await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()  # the crawl is over: stop the signal watcher and display
    if report is None or report.scan.interrupted != bool(signals):
        report = _build(builder, options, settings, stats, signals)
    return report


def _build(
    builder: ReportBuilder,
    options: ReportOptions,
    settings: ScanSettings,
    stats: CrawlStats,
    signals: Sequence[str],
) -> Report:
    unreached: list[str] = []
    if signals:
        left = sum(1 for error in builder.errors if error.code == "ScanInterrupted")
        unreached.append(
            f"interrupted by {signals[0]} after {stats.versions_done} of "
            f"{stats.versions_discovered} discovered versions; "
            + (
                "stopped at once by a second signal: versions in flight were not recorded"
                if len(signals) > 1
                else f"every version read was evaluated; {left} listings or versions not "
                "read (errors with code ScanInterrupted)"
            )
        )
    missed = sum(1 for error in builder.errors if error.code == "ScanDeadlineExceeded")
    if missed and settings.crawl.deadline is not None:
        unreached.append(
            f"--timeout {settings.crawl.deadline:g}s reached after {stats.versions_done} of "
            f"{stats.versions_discovered} discovered versions; {missed} listings or versions "
            "not read (errors with code ScanDeadlineExceeded)"
        )
    # the scope (filters, shard, accounts) is the builder's, so the baseline is judged by it
    return builder.build(options, interrupted=bool(signals), unreached=unreached)
