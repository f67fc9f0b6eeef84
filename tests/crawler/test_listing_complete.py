"""``ListingComplete``: the crawler says which memberships it listed in full, and only those."""

from __future__ import annotations

from dataclasses import replace

from auditor.crawler import CrawlConfig, CrawlScope, collect
from auditor.crawler.api import Operation
from auditor.crawler.fake import FakeCleanRoomsApi
from auditor.errors import ApiError, MalformedResponseError, ServerError
from auditor.fleet import Fleet
from auditor.models import ListingComplete, ModelVersion, ScanError

from .conftest import all_keys, read_keys


def listed_in_full(items: list[ModelVersion | ScanError | ListingComplete]) -> list[str]:
    return sorted(item.membership_id for item in items if isinstance(item, ListingComplete))


def every_membership(fleet: Fleet) -> list[str]:
    return sorted(m.id for m in fleet.memberships)


async def test_every_membership_of_a_clean_crawl_is_listed_in_full_once(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    items = await collect(FakeCleanRoomsApi(fleet, page_size=2), config=fast, listings=True)
    assert listed_in_full(items) == every_membership(fleet)
    accounts = {m.id: m.account for m in fleet.memberships}
    for item in items:
        if isinstance(item, ListingComplete):
            assert (item.account, item.region) == (accounts[item.membership_id], "us-east-1")
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))


async def test_collect_leaves_them_out_unless_asked(fleet: Fleet, fast: CrawlConfig) -> None:
    items = await collect(FakeCleanRoomsApi(fleet), config=fast)
    assert listed_in_full(items) == []
    assert len(items) == fleet.version_count


async def test_a_denied_membership_is_not_listed_in_full(fleet: Fleet, fast: CrawlConfig) -> None:
    denied = fleet.memberships[1].id
    api = FakeCleanRoomsApi(fleet, deny_memberships=frozenset({denied}))
    items = await collect(api, config=fast, listings=True)
    assert listed_in_full(items) == sorted(set(every_membership(fleet)) - {denied})


async def test_one_models_failed_version_listing_keeps_its_membership_out(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[4]

    def fault(op: Operation, key: str) -> ApiError | None:
        if op is Operation.LIST_TRAINED_MODEL_VERSIONS and key == model.arn:
            return ServerError(op, "InternalServerException", "down")
        return None

    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast, listings=True)
    assert listed_in_full(items) == sorted(set(every_membership(fleet)) - {model.membership_id})


async def test_a_model_listing_that_fails_on_a_later_page_keeps_its_membership_out(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    victim = fleet.memberships[0].id
    calls: list[str] = []

    def fault(op: Operation, key: str) -> ApiError | None:
        if op is Operation.LIST_TRAINED_MODELS and key == victim:
            calls.append(key)
            if len(calls) > 1:  # the first page is served, the next never is
                return ServerError(op, "InternalServerException", "down")
        return None

    api = FakeCleanRoomsApi(fleet, page_size=1, fault=fault)
    items = await collect(api, config=fast, listings=True)
    assert len(fleet.models_of(victim)) > 1
    assert listed_in_full(items) == sorted(set(every_membership(fleet)) - {victim})
    read_models = {arn for arn, _ in read_keys(items)}
    assert fleet.models_of(victim)[0].arn in read_models  # what it did list is still read


async def test_a_malformed_version_listing_keeps_its_membership_out(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    model = fleet.models[0]

    def fault(op: Operation, key: str) -> ApiError | None:
        if op is Operation.LIST_TRAINED_MODEL_VERSIONS and key == model.arn:
            return MalformedResponseError(op, "MalformedResponse", "not JSON")
        return None

    items = await collect(FakeCleanRoomsApi(fleet, fault=fault), config=fast, listings=True)
    assert model.membership_id not in listed_in_full(items)
    assert len(listed_in_full(items)) == len(fleet.memberships) - 1


async def test_a_deadline_that_cuts_the_listings_short_lists_nothing_in_full(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    api = FakeCleanRoomsApi(fleet, latency=0.05)
    items = await collect(api, config=replace(fast, deadline=0.01), listings=True)
    assert listed_in_full(items) == []
    assert any(isinstance(i, ScanError) and i.code == "ScanDeadlineExceeded" for i in items)


async def test_latest_only_lists_memberships_in_full_by_their_model_listing(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    items = await collect(
        FakeCleanRoomsApi(fleet), CrawlScope(latest_only=True), config=fast, listings=True
    )
    assert listed_in_full(items) == every_membership(fleet)


async def test_named_memberships_are_listed_in_full_and_named_models_list_none(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    wanted = fleet.memberships[2].id
    items = await collect(
        FakeCleanRoomsApi(fleet), CrawlScope(memberships=(wanted,)), config=fast, listings=True
    )
    assert listed_in_full(items) == [wanted]
    scoped = CrawlScope(model_arns=(fleet.models[0].arn,))
    items = await collect(FakeCleanRoomsApi(fleet), scoped, config=fast, listings=True)
    assert listed_in_full(items) == []  # its membership's other models were never listed
    assert read_keys(items)


async def test_a_membership_listed_in_full_accounts_for_each_of_its_versions_when_cut_short(
    fleet: Fleet, fast: CrawlConfig
) -> None:
    # whatever the deadline cut, each version of a membership listed in full was read or is
    # an error naming it: what lets a baseline call a version missing from it gone
    # listings are quick, reads are slow: the memberships are listed, then the deadline cuts
    api = FakeCleanRoomsApi(fleet, rate_limits={Operation.GET_TRAINED_MODEL: (20.0, 1.0)})
    items = await collect(api, config=replace(fast, deadline=0.3), listings=True)
    assert listed_in_full(items), "the listings were meant to complete"
    read = set(read_keys(items))
    named = {
        (item.resource_arn, item.version_identifier)
        for item in items
        if isinstance(item, ScanError) and item.resource_arn
    }
    assert named, "the deadline was meant to cut this crawl short"
    for membership_id in listed_in_full(items):
        for model in fleet.models_of(membership_id):
            for version in model.versions:
                key = (model.arn, version.version_identifier)
                assert key in read or key in named, f"{key} neither read nor an error"
