"""A crawl told to stop (SIGINT/SIGTERM in a scan) keeps every version it read, starts no
call after the stop, and reports everything it did not reach as ``ScanInterrupted``."""

from __future__ import annotations

import anyio

from auditor.crawler import CrawlConfig, CrawlStop, crawl
from auditor.crawler.crawl import CrawlItem, CrawlScope
from auditor.crawler.fake import FakeCleanRoomsApi
from auditor.fleet import generate_fleet
from auditor.models import ErrorScope, ModelVersion, ResourceType, ScanError


def test_a_stopped_crawl_keeps_what_it_read_and_names_what_it_did_not_reach() -> None:
    fleet = generate_fleet(seed=3, memberships=3, models=30, versions_per_model=(1, 3))
    api = FakeCleanRoomsApi(fleet, latency=0.01, page_size=5)
    stop = CrawlStop()
    items: list[CrawlItem] = []

    async def run() -> int:
        send, receive = anyio.create_memory_object_stream[CrawlItem](8)
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: crawl(api, CrawlScope(), send, config=CrawlConfig(concurrency=4), stop=stop)
            )
            async with receive:
                async for item in receive:
                    items.append(item)
                    if sum(isinstance(i, ModelVersion) for i in items) == 10:
                        stop.request("SIGTERM")
                        calls_at_stop = len(api.calls)
        return calls_at_stop

    calls_at_stop = anyio.run(run)

    read = {i.resource.key for i in items if isinstance(i, ModelVersion)}
    errors = [i for i in items if isinstance(i, ScanError)]
    assert len(read) >= 10
    assert len(read) < fleet.version_count
    assert errors
    assert {e.code for e in errors} == {"ScanInterrupted"}
    assert all("interrupted (SIGTERM)" in e.message for e in errors)
    # no call started after the stop (those in flight were abandoned, not re-tried)
    assert len(api.calls) == calls_at_stop
    # every version is read, or covered by an error for it, its model or its membership
    versions_left = {
        (e.resource_arn, e.version_identifier) for e in errors if e.scope is ErrorScope.VERSION
    }
    models_left = {e.resource_arn for e in errors if e.scope is ErrorScope.TRAINED_MODEL}
    memberships_left = {e.membership_id for e in errors if e.scope is ErrorScope.MEMBERSHIP}
    listing_left = any(e.scope is ErrorScope.REGION for e in errors)
    for model in fleet.models:
        for version in model.versions:
            key = (model.arn, version.version_identifier)
            assert (
                key in read
                or key in versions_left
                or model.arn in models_left
                or model.membership_id in memberships_left
                or listing_left
            ), key


def test_a_stopped_crawl_names_the_collaboration_models_it_did_not_reach() -> None:
    fleet = generate_fleet(
        seed=4, memberships=2, models=4, versions_per_model=(1, 1), collaboration_models=30
    )
    api = FakeCleanRoomsApi(fleet, latency=0.01, page_size=4)
    stop = CrawlStop()
    items: list[CrawlItem] = []
    scope = CrawlScope(collaboration_models=True)

    async def run() -> None:
        send, receive = anyio.create_memory_object_stream[CrawlItem](8)
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: crawl(api, scope, send, config=CrawlConfig(concurrency=4), stop=stop)
            )
            async with receive:
                async for item in receive:
                    items.append(item)
                    shared = [
                        i
                        for i in items
                        if isinstance(i, ModelVersion)
                        and i.resource.type is ResourceType.COLLABORATION_TRAINED_MODEL
                    ]
                    if len(shared) == 5:
                        stop.request("SIGINT")

    anyio.run(run)

    read = {i.resource.key for i in items if isinstance(i, ModelVersion)}
    errors = [i for i in items if isinstance(i, ScanError)]
    assert {e.code for e in errors} == {"ScanInterrupted"}
    versions_left = {
        (e.resource_arn, e.version_identifier)
        for e in errors
        if e.scope is ErrorScope.COLLABORATION_MODEL
    }
    collaborations_left = {e.resource_arn for e in errors if e.scope is ErrorScope.COLLABORATION}
    arn_of = {m.collaboration_id: m.collaboration_arn for m in fleet.memberships}
    unread = 0
    for model in fleet.collaboration_models:
        for version in model.versions:
            key = (model.arn, version.version_identifier)
            if key in read:
                continue
            unread += 1
            assert key in versions_left or arn_of[model.collaboration_id] in collaborations_left, (
                key
            )
    assert unread > 0
