"""The pipeline against the in-package fake API: what is read, once, and what becomes an error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import anyio
import pytest

from auditor.crawler import (
    CrawlConfig,
    CrawlItem,
    CrawlScope,
    CrawlStats,
    collect,
    crawl,
    parse_model_arn,
)
from auditor.crawler.api import Operation, Page
from auditor.crawler.fake import FakeCleanRoomsApi
from auditor.errors import ApiError, ServerError, ThrottledError, UsageError
from auditor.fleet import Fleet
from auditor.models import ErrorScope, ListingComplete, ModelVersion

from .conftest import all_keys, errors_of, latest_keys, read_keys
from .fakeclock import FakeClock


async def test_reads_every_version_of_every_model_exactly_once(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    api = FakeCleanRoomsApi(fleet, page_size=3)
    stats = CrawlStats()
    items = await collect(api, config=fast, stats=stats)
    keys = read_keys(items)
    assert sorted(keys) == sorted(all_keys(fleet))
    assert set(api.reads.values()) == {1}
    assert errors_of(items) == []
    assert (stats.memberships, stats.models) == (3, len(fleet.models))
    assert stats.versions_discovered == stats.versions_done == fleet.version_count


async def test_documents_and_resources_come_from_the_service(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    items = await collect(FakeCleanRoomsApi(fleet), config=fast)
    documents = {v.version_identifier: v.document for v in fleet.versions()}
    membership = {m.id: m for m in fleet.memberships}
    for item in items:
        assert isinstance(item, ModelVersion)
        resource = item.resource
        assert item.document == documents[resource.version_identifier]
        assert resource.account == "111122223333"
        assert resource.region == "us-east-1"
        assert resource.membership_id in membership
        assert resource.collaboration_id == membership[resource.membership_id].collaboration_id
        assert resource.name == item.document["name"]
        assert resource.status == "ACTIVE"


async def test_latest_only_reads_one_version_per_model_without_listing_versions(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    api = FakeCleanRoomsApi(fleet)
    items = await collect(api, CrawlScope(latest_only=True), config=fast)
    assert sorted(read_keys(items)) == sorted(latest_keys(fleet))
    assert all(op is not Operation.LIST_TRAINED_MODEL_VERSIONS for op, _ in api.calls)


async def test_membership_scope_skips_listing_memberships(fleet: Fleet, fast: CrawlConfig) -> None:
    wanted = fleet.memberships[1].id
    api = FakeCleanRoomsApi(fleet)
    items = await collect(api, CrawlScope(memberships=(wanted,)), config=fast)
    expected = {k for k in all_keys(fleet) if f"membership/{wanted}/" in k[0]}
    assert set(read_keys(items)) == expected
    assert all(op is not Operation.LIST_MEMBERSHIPS for op, _ in api.calls)


async def test_model_scope_reads_only_those_models(fleet: Fleet, fast: CrawlConfig) -> None:
    models = fleet.models[2], fleet.models[5]
    api = FakeCleanRoomsApi(fleet)
    scope = CrawlScope(model_arns=(models[0].arn, models[1].arn, models[0].arn))
    items = await collect(api, scope, config=fast)
    expected = {(m.arn, v.version_identifier) for m in models for v in m.versions}
    assert sorted(read_keys(items)) == sorted(expected)
    listed = {op for op, _ in api.calls}
    assert listed == {Operation.LIST_TRAINED_MODEL_VERSIONS, Operation.GET_TRAINED_MODEL}


async def test_model_scope_with_latest_only_reads_the_latest_without_a_version(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[4]
    api = FakeCleanRoomsApi(fleet)
    items = await collect(api, CrawlScope(model_arns=(model.arn,), latest_only=True), config=fast)
    assert read_keys(items) == [(model.arn, model.latest.version_identifier)]
    assert api.calls == [(Operation.GET_TRAINED_MODEL, f"{model.arn}#")]


def test_a_malformed_model_arn_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_model_arn("arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/m1")
    parsed = parse_model_arn(
        "arn:aws:cleanrooms-ml:eu-west-1:444455556666:membership/m1/trained-model/t1"
    )
    assert (parsed.region, parsed.account, parsed.membership_id, parsed.model_id) == (
        "eu-west-1",
        "444455556666",
        "m1",
        "t1",
    )


async def test_a_denied_membership_is_one_error_and_the_scan_goes_on(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    denied = fleet.memberships[0]
    api = FakeCleanRoomsApi(fleet, deny_memberships=frozenset({denied.id}))
    items = await collect(api, config=fast)
    assert set(read_keys(items)) == {k for k in all_keys(fleet) if denied.id not in k[0]}
    [error] = errors_of(items)
    assert (error.scope, error.operation, error.code) == (
        ErrorScope.MEMBERSHIP,
        "ListTrainedModels",
        "AccessDeniedException",
    )
    assert (error.membership_id, error.account, error.region) == (
        denied.id,
        denied.account,
        "us-east-1",
    )


async def test_a_vanished_model_is_an_error_with_its_arn(fleet: Fleet, fast: CrawlConfig) -> None:
    gone = fleet.models[3]
    api = FakeCleanRoomsApi(fleet, vanish_models=frozenset({gone.arn}))
    items = await collect(api, CrawlScope(model_arns=(gone.arn, fleet.models[4].arn)), config=fast)
    [error] = errors_of(items)
    assert (error.scope, error.operation, error.code, error.resource_arn) == (
        ErrorScope.TRAINED_MODEL,
        "ListTrainedModelVersions",
        "ResourceNotFoundException",
        gone.arn,
    )
    assert len(read_keys(items)) == len(fleet.models[4].versions)


async def test_a_version_that_vanishes_before_it_is_read_is_a_version_error(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[0]
    victim = model.versions[0].version_identifier

    def fault(op: Operation, key: str) -> ApiError | None:
        if op is Operation.GET_TRAINED_MODEL and key == f"{model.arn}#{victim}":
            from auditor.errors import NotFoundError

            return NotFoundError(op, "ResourceNotFoundException", "gone")
        return None

    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast)
    [error] = errors_of(items)
    assert (error.scope, error.resource_arn, error.version_identifier, error.attempts) == (
        ErrorScope.VERSION,
        model.arn,
        victim,
        1,
    )
    assert set(read_keys(items)) == all_keys(fleet) - {(model.arn, victim)}


async def test_throttling_and_5xx_are_retried_and_never_reported(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    failed: set[str] = set()

    def fault(op: Operation, key: str) -> ApiError | None:
        if key not in failed:  # every first call of everything fails once
            failed.add(key)
            kind = ThrottledError if len(failed) % 2 else ServerError
            return kind(op, "Flaky", "try again")
        return None

    stats = CrawlStats()
    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast, stats=stats)
    assert errors_of(items) == []
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert stats.retries == len(failed)
    assert stats.throttles > 0


async def test_exhausted_retries_become_an_error_with_the_attempt_count(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[1]

    def fault(op: Operation, key: str) -> ApiError | None:
        if op is Operation.LIST_TRAINED_MODEL_VERSIONS and key == model.arn:
            return ServerError(op, "InternalServerException", "down")
        return None

    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast)
    [error] = errors_of(items)
    assert (error.scope, error.code, error.attempts) == (
        ErrorScope.TRAINED_MODEL,
        "InternalServerException",
        fast.retry.failure_attempts * (1 + fast.retry.deferred_passes),
    )
    assert set(read_keys(items)) == {k for k in all_keys(fleet) if k[0] != model.arn}


async def test_failing_to_list_memberships_is_a_region_error(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    def fault(op: Operation, key: str) -> ApiError | None:
        if op is Operation.LIST_MEMBERSHIPS:
            from auditor.errors import CredentialsError

            return CredentialsError(op, "ExpiredTokenException", "expired")
        return None

    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast)
    assert [(e.scope, e.region, e.code) for e in errors_of(items)] == [
        (ErrorScope.REGION, "us-east-1", "ExpiredTokenException")
    ]


async def test_a_malformed_document_is_a_version_error_not_a_crash(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[2]
    version = model.versions[0].version_identifier

    def fault(op: Operation, key: str) -> ApiError | None:
        if key == f"{model.arn}#{version}":
            from auditor.errors import MalformedResponseError

            return MalformedResponseError(op, "MalformedResponse", "no trainedModelArn")
        return None

    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast)
    [error] = errors_of(items)
    assert (error.scope, error.code, error.version_identifier) == (
        ErrorScope.VERSION,
        "MalformedResponse",
        version,
    )


async def test_the_deadline_turns_what_is_left_into_errors_not_silence(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    api = FakeCleanRoomsApi(fleet, latency=0.05)
    config = replace(fast, deadline=0.12, concurrency=2)
    items = await collect(api, config=config)
    read = set(read_keys(items))
    errors = errors_of(items)
    assert errors, "the deadline was meant to cut this crawl short"
    assert all(e.code == "ScanDeadlineExceeded" for e in errors)
    missing_versions = {
        (e.resource_arn, e.version_identifier) for e in errors if e.version_identifier
    }
    missing_models = {e.resource_arn for e in errors if e.scope is ErrorScope.TRAINED_MODEL}
    missing_memberships = {e.membership_id for e in errors if e.scope is ErrorScope.MEMBERSHIP}
    for arn, version in all_keys(fleet) - read:
        accounted = (
            (arn, version) in missing_versions
            or arn in missing_models
            or any(f"membership/{m}/" in arn for m in missing_memberships)
            or any(e.scope is ErrorScope.REGION for e in errors)
        )
        assert accounted, f"{arn}#{version} neither read nor reported"


async def test_a_slow_consumer_holds_the_crawl_back(fleet: Fleet, fast: CrawlConfig) -> None:
    api = FakeCleanRoomsApi(fleet)
    send, receive = anyio.create_memory_object_stream[CrawlItem](0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: crawl(api, CrawlScope(), send, config=fast))
        async with receive:
            first = await receive.receive()
            await anyio.sleep(0.05)
            reads_while_blocked = sum(api.reads.values())
            rest = [item async for item in receive]
    assert isinstance(first, ModelVersion | ListingComplete)
    assert reads_while_blocked < fleet.version_count
    read = [item for item in (first, *rest) if isinstance(item, ModelVersion)]
    assert len(read) == fleet.version_count


def test_a_resource_keeps_its_models_strings_not_copies_of_them() -> None:
    from auditor.crawler.crawl import _Membership, _Model, _resource, _Version

    arn = "arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/member-1/trained-model/tm-1"
    model = _Model(arn, _Membership("member-1", "111122223333", "collaboration-1"))
    version = _Version(model, "version-0001")
    document = json.loads(
        json.dumps(
            {
                "trainedModelArn": arn,
                "versionIdentifier": "version-0001",
                "membershipIdentifier": "member-1",
                "collaborationIdentifier": "collaboration-1",
                "name": "model-name",
                "status": "ACTIVE",
            }
        )
    )
    resource = _resource(document, version)
    assert resource.arn is model.arn
    assert resource.version_identifier is version.version_identifier
    assert resource.membership_id is model.membership.id
    assert resource.collaboration_id is model.membership.collaboration_id
    assert (resource.account, resource.region, resource.name, resource.status) == (
        "111122223333",
        "us-east-1",
        "model-name",
        "ACTIVE",
    )
    # what the service says about the version read wins over what the listing said
    latest = _resource({**document, "versionIdentifier": "version-0002"}, _Version(model, None))
    assert latest.version_identifier == "version-0002"


class FailsAfter:
    """A fault hook: calls of ``op`` on ``key`` number ``first`` to ``first + count - 1``
    (1-based) fail with a 5xx; every other call goes through. Records when each happened."""

    def __init__(self, op: Operation, key: str, first: int, count: int) -> None:
        self.op, self.key, self.first, self.count = op, key, first, count
        self.seen = 0
        self.log: list[tuple[Operation, str, bool]] = []

    def __call__(self, op: Operation, key: str) -> ApiError | None:
        failed = False
        if (op, key) == (self.op, self.key):
            self.seen += 1
            failed = self.first <= self.seen < self.first + self.count
        self.log.append((op, key, failed))
        return ServerError(op, "InternalServerException", "down") if failed else None


@pytest.mark.parametrize(
    "op",
    [
        Operation.LIST_MEMBERSHIPS,
        Operation.LIST_TRAINED_MODELS,
        Operation.LIST_TRAINED_MODEL_VERSIONS,
        Operation.GET_TRAINED_MODEL,
    ],
)
async def test_a_call_that_exhausts_its_budget_is_redriven_after_the_rest_and_loses_nothing(
    fleet: Fleet, fast: CrawlConfig, op: Operation
) -> None:
    budget = fast.retry.failure_attempts
    membership = fleet.memberships[0].id
    model = fleet.models_of(membership)[0]
    versioned = next(m for m in fleet.models if len(m.versions) >= 2)
    key = {
        Operation.LIST_MEMBERSHIPS: "ACTIVE",
        Operation.LIST_TRAINED_MODELS: membership,
        Operation.LIST_TRAINED_MODEL_VERSIONS: versioned.arn,
        Operation.GET_TRAINED_MODEL: f"{model.arn}#{model.versions[0].version_identifier}",
    }[op]
    # the second page of a listing (the first call of a read) fails a whole budget's worth
    first = 1 if op is Operation.GET_TRAINED_MODEL else 2
    fault = FailsAfter(op, key, first=first, count=budget)
    api = FakeCleanRoomsApi(fleet, page_size=1, fault=fault)
    stats = CrawlStats()

    items = await collect(api, config=fast, stats=stats)

    assert errors_of(items) == []
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert set(api.reads.values()) == {1}
    assert (stats.deferred, stats.passes) == (1, 2)
    calls = [(o, k) for o, k, _ in fault.log]
    # resumed at its own page: each page once, the failing one a budget's worth more
    pages = {
        Operation.LIST_MEMBERSHIPS: sum(m.status == "ACTIVE" for m in fleet.memberships),
        Operation.LIST_TRAINED_MODELS: len(fleet.models_of(membership)),
        Operation.LIST_TRAINED_MODEL_VERSIONS: len(versioned.versions),
        Operation.GET_TRAINED_MODEL: 1,
    }[op]
    assert pages >= first
    assert fault.seen == pages + budget
    last_failure = max(i for i, (_, _, failed) in enumerate(fault.log) if failed)
    redrive = next(i for i, c in enumerate(calls) if c == (op, key) and i > last_failure)
    # ... and only once everything else had been read
    others = [
        i
        for i, (o, k) in enumerate(calls)
        if o is Operation.GET_TRAINED_MODEL and i < redrive and k != key
    ]
    later = [
        i for i, (o, k) in enumerate(calls) if o is Operation.GET_TRAINED_MODEL and i > redrive
    ]
    if op is Operation.GET_TRAINED_MODEL:
        assert later == []
        assert len(others) == fleet.version_count - 1
    else:
        assert len(others) + len(later) == fleet.version_count
        assert others, "the rest of the estate was read before the re-drive"


async def test_a_listing_page_that_keeps_failing_is_one_error_naming_what_was_not_read(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    membership = fleet.memberships[1].id
    models = fleet.models_of(membership)
    assert len(models) > 2
    fault = FailsAfter(Operation.LIST_TRAINED_MODELS, membership, first=3, count=10_000)
    api = FakeCleanRoomsApi(fleet, page_size=1, fault=fault)
    stats = CrawlStats()

    items = await collect(api, config=fast, stats=stats)

    passes = 1 + fast.retry.deferred_passes
    [error] = errors_of(items)
    assert (error.scope, error.operation, error.code, error.membership_id, error.attempts) == (
        ErrorScope.MEMBERSHIP,
        "ListTrainedModels",
        "InternalServerException",
        membership,
        fast.retry.failure_attempts * passes,
    )
    assert (
        error.message == f"down (still failing after {passes} passes; 2 pages read, the rest not)"
    )
    read_models = {m.arn for m in models[:2]}
    expected = {k for k in all_keys(fleet) if membership not in k[0] or k[0] in read_models}
    assert sorted(read_keys(items)) == sorted(expected)
    assert fault.seen == 2 + fast.retry.failure_attempts * passes
    assert stats.passes == passes


class LoopingTokens(FakeCleanRoomsApi):
    """Pages ``model``'s version listing through the tokens ``tokens``, in that order."""

    def __init__(self, fleet: Fleet, model_arn: str, tokens: list[str]) -> None:
        super().__init__(fleet, page_size=1)
        self.model_arn = model_arn
        self.tokens = tokens

    async def list_trained_model_versions(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        if model_arn != self.model_arn:
            return await super().list_trained_model_versions(
                membership_id, model_arn, next_token=next_token
            )
        page = await super().list_trained_model_versions(membership_id, model_arn, next_token=None)
        step = 0 if next_token is None else self.tokens.index(next_token) + 1
        return replace(page, next_token=self.tokens[step % len(self.tokens)])


@pytest.mark.parametrize("tokens", [["same"], ["first", "second", "third"]])
async def test_a_next_token_that_repeats_or_cycles_is_a_pagination_loop_for_that_listing(
    fleet: Fleet, fast: CrawlConfig, tokens: list[str]
) -> None:
    model = next(m for m in fleet.models if len(m.versions) >= 2)
    api = LoopingTokens(fleet, model.arn, tokens)

    items = await collect(api, config=fast)

    [error] = errors_of(items)
    assert (error.scope, error.operation, error.code, error.resource_arn, error.attempts) == (
        ErrorScope.TRAINED_MODEL,
        "ListTrainedModelVersions",
        "PaginationLoop",
        model.arn,
        1,
    )
    assert error.message == (
        f"ListTrainedModelVersions returned nextToken {tokens[0]!r} twice "
        f"(after {len(tokens) + 1} pages); the rest of this listing was not read"
    )
    listed = sum(1 for op, key in api.calls if key == model.arn)
    assert listed == len(tokens) + 1  # stopped at the first repeat, not 59,081 calls later
    others = {k for k in all_keys(fleet) if k[0] != model.arn}
    assert others <= set(read_keys(items))


async def test_throttling_forever_is_bounded_by_the_deadline_alone(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    clock = FakeClock()
    api = FakeCleanRoomsApi(
        fleet, fault=lambda op, key: ThrottledError(op, "ThrottlingException", "slow down")
    )
    send, receive = anyio.create_memory_object_stream[CrawlItem](64)
    config = replace(fast, deadline=300.0)
    stats = CrawlStats()
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: crawl(api, CrawlScope(), send, config=config, stats=stats, clock=clock)
        )
        async with receive:
            items = [item async for item in receive]

    assert [(e.scope, e.code) for e in errors_of(items)] == [
        (ErrorScope.REGION, "ScanDeadlineExceeded")
    ]
    # retried until the deadline (the pacer's last wait may overrun it by a step), not sooner
    assert 290.0 < clock.time < 301.0
    # hundreds of throttles, and none of them gave the call up before the deadline
    assert stats.throttles == len(api.calls) > 100
    assert stats.deferred == 0


async def test_each_deferred_pass_waits_longer_for_the_service_to_recover(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[0]
    key = f"{model.arn}#{model.versions[0].version_identifier}"
    budget = fast.retry.failure_attempts
    fault = FailsAfter(Operation.GET_TRAINED_MODEL, key, first=1, count=2 * budget)
    config = replace(fast, retry=replace(fast.retry, redrive_delay=2.0))
    clock = FakeClock()
    stats = CrawlStats()
    send, receive = anyio.create_memory_object_stream[CrawlItem](64)
    api = FakeCleanRoomsApi(fleet, fault=fault)
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: crawl(api, CrawlScope(), send, config=config, stats=stats, clock=clock)
        )
        async with receive:
            items = [item async for item in receive]

    assert errors_of(items) == []
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert (stats.passes, stats.deferred) == (3, 2)  # failed in two passes, read in the third
    pauses = [s for s in clock.sleeps if s >= 1.0]
    assert pauses == [2.0, 4.0]  # before deferred pass 1 and 2 (backoffs are far shorter)


async def test_a_document_for_another_version_is_an_error_for_the_one_asked_for(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = next(m for m in fleet.models if len(m.versions) > 1)
    asked, other = model.versions[0], model.versions[1]

    class AnswersWithAnother(FakeCleanRoomsApi):
        async def get_trained_model(
            self, membership_id: str, model_arn: str, *, version_identifier: str | None
        ) -> Mapping[str, Any]:
            if version_identifier == asked.version_identifier:
                version_identifier = other.version_identifier
            return await super().get_trained_model(
                membership_id, model_arn, version_identifier=version_identifier
            )

    items = await collect(AnswersWithAnother(fleet), config=fast)

    errors = errors_of(items)
    assert [(e.scope, e.resource_arn, e.version_identifier, e.code) for e in errors] == [
        (ErrorScope.VERSION, model.arn, asked.version_identifier, "MalformedResponse")
    ]
    assert f"answered for {model.arn} version {other.version_identifier}" in errors[0].message
    # the other version is read once, under its own name; the one asked for is not judged
    assert sorted(read_keys(items)) == sorted(
        all_keys(fleet) - {(model.arn, asked.version_identifier)}
    )
