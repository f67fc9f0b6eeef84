"""A live scan: crawl every region in scope concurrently, evaluate as versions arrive.

The crawler produces, this module consumes: one memory object stream carries
``ModelVersion``/``ScanError`` from every region's crawl into the ``ReportBuilder``. SIGINT
and SIGTERM cancel the crawl; the report is still built from what was read, marked
interrupted and incomplete.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import aioboto3
import anyio
from anyio import CancelScope
from anyio.streams.memory import MemoryObjectSendStream

from auditor.audit import ReportBuilder, ReportOptions
from auditor.crawler import (
    CrawlConfig,
    CrawlItem,
    CrawlScope,
    CrawlStats,
    crawl,
    open_aws_api,
    parse_model_arn,
)
from auditor.errors import UsageError
from auditor.models import Report
from auditor.policy import PolicySet

log = logging.getLogger(__name__)

SERVICE = "cleanrooms-ml"


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """Where to look and how hard: regions, profile, scope and crawler tuning."""

    regions: tuple[str, ...] = ()
    profile: str | None = None
    scope: CrawlScope = field(default_factory=CrawlScope)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)


def resolve_regions(
    requested: Sequence[str], session: aioboto3.Session, scope: CrawlScope | None = None
) -> tuple[str, ...]:
    """The regions to scan: as given, ``all`` expanded from the SDK's own endpoint data,
    else the regions of the ``--model`` ARNs, else the SDK's configured region (or
    ``AWS_REGION``, which botocore itself does not read). Raises ``UsageError`` for none."""
    regions: list[str] = []
    for region in requested:
        if region == "all":
            regions.extend(session.get_available_regions(SERVICE))
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


async def _crawl_region(
    session: aioboto3.Session,
    region: str,
    settings: ScanSettings,
    send: MemoryObjectSendStream[CrawlItem],
    stats: CrawlStats,
) -> None:
    async with (
        send,
        open_aws_api(
            session=session,
            region_name=region,
            max_pool_connections=settings.crawl.concurrency,
        ) as api,
    ):
        scope = _scope_in(settings.scope, region)
        await crawl(api, scope, send.clone(), config=settings.crawl, stats=stats)


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


async def _cancel_on_signal(scope: CancelScope, received: list[str]) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            log.warning("%s received: stopping the scan and writing a partial report", name)
            received.append(name)
            scope.cancel()
            return


async def run_scan(
    settings: ScanSettings,
    policy_set: PolicySet,
    options: ReportOptions,
    *,
    stats: CrawlStats | None = None,
    session: aioboto3.Session | None = None,
    watch: Callable[[CrawlStats], Coroutine[Any, Any, None]] | None = None,
    handle_signals: bool = True,
) -> Report:
    """Scan every region, evaluate every version, and build the report.

    ``watch`` runs beside the scan (a progress display) and is cancelled when it ends.
    Raises ``UsageError`` for configuration problems found before any call.
    """
    session = session or aioboto3.Session(profile_name=settings.profile)
    regions = resolve_regions(settings.regions, session, settings.scope)
    if await session.get_credentials() is None:
        raise UsageError(
            "no AWS credentials found by the SDK's credential chain "
            "(environment, shared config/profile, SSO, container or instance role)"
        )
    stats = stats or CrawlStats()
    builder = ReportBuilder(policy_set, mode="scan", regions=regions)
    signals: list[str] = []
    with anyio.CancelScope() as outer, _unwrapped_usage_errors():
        async with anyio.create_task_group() as tg:
            if handle_signals:
                tg.start_soon(_cancel_on_signal, outer, signals)
            if watch is not None:
                tg.start_soon(watch, stats)
            send, receive = anyio.create_memory_object_stream[CrawlItem](256)
            async with send:
                for region in regions:
                    if (
                        settings.scope.model_arns
                        and not _scope_in(settings.scope, region).model_arns
                    ):
                        continue  # none of the --model ARNs lives here
                    tg.start_soon(_crawl_region, session, region, settings, send.clone(), stats)
            async with receive:
                async for item in receive:
                    builder.add(item)
            tg.cancel_scope.cancel()  # the crawl is over: stop the signal watcher and display
    unreached: list[str] = []
    if signals:
        unreached.append(
            f"interrupted by {signals[0]} after {stats.versions_done} of "
            f"{stats.versions_discovered} discovered versions; the rest was not read"
        )
    return builder.build(options, interrupted=bool(signals), unreached=unreached)
