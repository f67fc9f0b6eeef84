"""The collaboration view through the real aioboto3 client against the emulator.

Each case checks what was read against the fleet's other-member models and, from the
emulator's own counters, that every collaboration model version was fetched exactly once and
each collaboration listed once.
"""

from __future__ import annotations

from dataclasses import replace

import anyio
import pytest

from auditor.crawler import CrawlConfig, CrawlScope, CrawlStats, collect, open_aws_api
from auditor.crawler.api import READ_OPERATIONS
from auditor.crawler.collaboration import CollaborationClaims
from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind, RateLimit
from auditor.fleet import Fleet, generate_fleet
from auditor.models import ErrorScope, ModelVersion, ResourceType, ScanError

from .conftest import all_keys, errors_of

Items = list[ModelVersion | ScanError]
LIST = "ListCollaborationTrainedModels"
GET = "GetCollaborationTrainedModel"
VIEW = CrawlScope(collaboration_models=True)


@pytest.fixture(scope="module")
def collab_fleet() -> Fleet:
    return generate_fleet(
        seed=5, memberships=3, models=9, versions_per_model=(1, 2), collaboration_models=14
    )


def other_keys(fleet: Fleet) -> set[tuple[str, str]]:
    return {(m.arn, v.version_identifier) for m in fleet.collaboration_models for v in m.versions}


def scan(
    env: pytest.MonkeyPatch,
    fleet: Fleet,
    emulator: EmulatorConfig,
    scopes: list[CrawlScope],
    config: CrawlConfig,
    stats: CrawlStats | None = None,
) -> tuple[Items, dict[str, object]]:
    """Run one crawl per scope (in turn, as the accounts of one scan) against one server."""
    with EmulatorServer(fleet, emulator) as server:
        env.setenv("AWS_ENDPOINT_URL_CLEANROOMS", server.endpoint_url)
        env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)

        async def run() -> Items:
            items: Items = []
            async with open_aws_api(max_pool_connections=config.concurrency) as api:
                for scope in scopes:
                    found = await collect(api, scope, config=config, stats=stats or CrawlStats())
                    items.extend(i for i in found if isinstance(i, ModelVersion | ScanError))
            return items

        items = anyio.run(run)
        return items, server.counters.snapshot()


def collaboration_reads(items: Items) -> list[tuple[str, str | None]]:
    return [
        i.resource.key
        for i in items
        if isinstance(i, ModelVersion)
        and i.resource.type is ResourceType.COLLABORATION_TRAINED_MODEL
    ]


def fetched(counters: dict[str, object], operation: str) -> dict[str, int]:
    resources = counters["resources"]
    assert isinstance(resources, dict)
    return {key: n for key, n in resources.get(operation, {}).items() if n}


def test_every_other_member_version_is_read_once_and_own_models_are_not(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    items, counters = scan(aws_env, collab_fleet, EmulatorConfig(page_cap=2), [VIEW], fast)
    assert errors_of(items) == []
    expected = other_keys(collab_fleet)
    assert sorted(collaboration_reads(items)) == sorted(expected)
    assert fetched(counters, GET) == {f"{arn}#{version}": 1 for arn, version in expected}
    # own models: read once with GetTrainedModel, never as collaboration models
    own = [i.resource.key for i in items if isinstance(i, ModelVersion)]
    assert sorted(set(own) - expected) == sorted(all_keys(collab_fleet))
    operations = counters["operations"]
    assert isinstance(operations, dict)
    assert set(operations) <= {str(op) for op in READ_OPERATIONS}
    # each collaboration listed (2-item pages), none listed from its first page twice
    collaborations = {m.collaboration_id for m in collab_fleet.memberships}
    listed = fetched(counters, LIST)
    assert set(listed) == collaborations
    for collaboration in collaborations:
        count = sum(
            len(m.versions) for m in collab_fleet.models if _in(collab_fleet, m, collaboration)
        )
        count += sum(len(m.versions) for m in collab_fleet.collaboration_models_of(collaboration))
        assert listed[collaboration] == max(1, -(-count // 2))  # one call per page
    documents = {
        (m.arn, v.version_identifier): v.document
        for m in collab_fleet.collaboration_models
        for v in m.versions
    }
    for item in items:
        assert isinstance(item, ModelVersion)
        if item.resource.type is ResourceType.COLLABORATION_TRAINED_MODEL:
            assert item.document == documents[item.resource.key]
            assert item.resource.creator_account == item.document["creatorAccountId"]
            assert "kmsKeyArn" not in item.document


def _in(fleet: Fleet, model: object, collaboration: str) -> bool:
    membership = next(m for m in fleet.memberships if m.id == model.membership_id)
    return membership.collaboration_id == collaboration


def test_without_the_flag_no_collaboration_api_is_called(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    items, counters = scan(aws_env, collab_fleet, EmulatorConfig(), [CrawlScope()], fast)
    assert collaboration_reads(items) == []
    operations = counters["operations"]
    assert isinstance(operations, dict)
    assert LIST not in operations
    assert GET not in operations


def test_a_shared_collaboration_is_read_once(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    # two memberships of the account in one collaboration, and a second crawl of the same
    # scan (another account's, sharing the claims) finding the same collaborations again
    first, second, third = collab_fleet.memberships
    shared = replace(second, collaboration_id=first.collaboration_id)
    fleet = replace(collab_fleet, memberships=(first, shared, third))
    claims = CollaborationClaims()
    scope = replace(VIEW, collaboration_claims=claims)
    items, counters = scan(aws_env, fleet, EmulatorConfig(), [scope, scope], fast)
    assert errors_of(items) == []
    listed = fetched(counters, LIST)
    assert listed == {first.collaboration_id: 1, third.collaboration_id: 1}
    reads = fetched(counters, GET)
    assert reads
    assert set(reads.values()) == {1}
    read_keys = [tuple(key.split("#")) for key in reads]
    assert sorted(collaboration_reads(items)) == sorted(read_keys)
    assert len(claims) == 2


def test_a_denied_collaboration_is_an_error_with_its_scope(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    denied = collab_fleet.memberships[0]
    emulator = EmulatorConfig(deny_collaborations=frozenset({denied.collaboration_id}))
    items, _ = scan(aws_env, collab_fleet, emulator, [VIEW], fast)
    errors = errors_of(items)
    assert len(errors) == 1
    error = errors[0]
    assert error.scope is ErrorScope.COLLABORATION
    assert error.code == "AccessDeniedException"
    assert error.operation == LIST
    assert error.membership_id == denied.id
    assert error.resource_arn == denied.collaboration_arn
    assert denied.collaboration_id in error.message
    expected = {
        (m.arn, v.version_identifier)
        for m in collab_fleet.collaboration_models
        if m.collaboration_id != denied.collaboration_id
        for v in m.versions
    }
    assert sorted(collaboration_reads(items)) == sorted(expected)


def test_throttling_and_failing_reads_lose_nothing(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    model = collab_fleet.collaboration_models[0]
    flaky = f"{model.arn}#{model.versions[0].version_identifier}"
    collaboration = collab_fleet.collaboration_models[1].collaboration_id
    emulator = EmulatorConfig(
        rate_limits={GET: RateLimit(rate=30, burst=2), LIST: RateLimit(rate=10, burst=1)},
        page_cap=3,
        faults={
            # fails past one pass's failure budget: re-driven in a later pass
            flaky: Fault(FaultKind.SERVER_ERROR, times=8),
            collaboration: Fault(FaultKind.RESET, times=6),
        },
    )
    stats = CrawlStats()
    items, counters = scan(aws_env, collab_fleet, emulator, [VIEW], fast, stats)
    assert errors_of(items) == []
    assert sorted(collaboration_reads(items)) == sorted(other_keys(collab_fleet))
    assert stats.deferred >= 2  # the flaky read and the collaboration's cut listing
    assert stats.passes >= 2
    throttled = counters["throttled"]
    assert isinstance(throttled, dict)
    assert throttled.get(GET, 0) + throttled.get(LIST, 0) > 0
    statuses = counters["statuses"]
    assert isinstance(statuses, dict)
    assert statuses[GET].get("503", 0) == 8


def test_a_read_failing_in_every_pass_is_an_error_naming_its_version(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    model = collab_fleet.collaboration_models[2]
    version = model.versions[0].version_identifier
    emulator = EmulatorConfig(faults={f"{model.arn}#{version}": Fault(FaultKind.SERVER_ERROR)})
    items, _ = scan(aws_env, collab_fleet, emulator, [VIEW], fast)
    errors = errors_of(items)
    assert len(errors) == 1
    error = errors[0]
    assert error.scope is ErrorScope.COLLABORATION_MODEL
    assert error.operation == GET
    assert (error.resource_arn, error.version_identifier) == (model.arn, version)
    assert "still failing after" in error.message
    assert error.attempts == fast.retry.failure_attempts * (1 + fast.retry.deferred_passes)
    expected = other_keys(collab_fleet) - {(model.arn, version)}
    assert sorted(collaboration_reads(items)) == sorted(expected)


def test_a_malformed_collaboration_record_is_judged_and_reported(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    model = collab_fleet.collaboration_models[3]
    key = f"{model.arn}#{model.versions[0].version_identifier}"
    fields = {"stoppingCondition.maxRuntimeInSeconds": "3600", "creatorAccountId": 444455556666}
    emulator = EmulatorConfig(faults={key: Fault(FaultKind.WRONG_TYPES, fields=fields)})
    items, _ = scan(aws_env, collab_fleet, emulator, [VIEW], fast)
    errors = errors_of(items)
    assert len(errors) == 1
    error = errors[0]
    assert error.scope is ErrorScope.COLLABORATION_MODEL
    assert error.code == "MalformedResponse"
    assert "stoppingCondition.maxRuntimeInSeconds: expected integer" in error.message
    assert "creatorAccountId: expected string" in error.message
    # still judged, as sent: the mistyped values are what policies see (and fail closed on)
    judged = [
        i
        for i in items
        if isinstance(i, ModelVersion)
        and f"{i.resource.arn}#{i.resource.version_identifier}" == key
    ]
    assert len(judged) == 1
    assert judged[0].document["stoppingCondition"] == {"maxRuntimeInSeconds": "3600"}
    assert judged[0].resource.creator_account is None  # not a string: not an account


def test_a_refused_token_restarts_the_listing_once_and_reads_nothing_twice(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    collaboration = collab_fleet.collaboration_models[0].collaboration_id
    emulator = EmulatorConfig(
        page_cap=2, faults={collaboration: Fault(FaultKind.REJECT_TOKEN, times=1)}
    )
    stats = CrawlStats()
    items, counters = scan(aws_env, collab_fleet, emulator, [VIEW], fast, stats)
    assert errors_of(items) == []
    assert stats.restarts == 1
    expected = other_keys(collab_fleet)
    assert sorted(collaboration_reads(items)) == sorted(expected)
    assert fetched(counters, GET) == {f"{arn}#{version}": 1 for arn, version in expected}


def test_a_listing_that_pages_in_a_loop_ends_with_an_error_for_that_collaboration(
    aws_env: pytest.MonkeyPatch, collab_fleet: Fleet, fast: CrawlConfig
) -> None:
    looping = collab_fleet.memberships[0]
    emulator = EmulatorConfig(
        page_cap=2, faults={looping.collaboration_id: Fault(FaultKind.REPEAT_TOKEN)}
    )
    items, _ = scan(aws_env, collab_fleet, emulator, [VIEW], fast)
    errors = errors_of(items)
    assert [(e.scope, e.code, e.membership_id) for e in errors] == [
        (ErrorScope.COLLABORATION, "PaginationLoop", looping.id)
    ]
    others = {
        (m.arn, v.version_identifier)
        for m in collab_fleet.collaboration_models
        if m.collaboration_id != looping.collaboration_id
        for v in m.versions
    }
    assert others <= set(collaboration_reads(items))
