from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.emulator.paging import Pager, PagingError
from auditor.fleet import Fleet, generate_fleet

MakeClient = Any
StartEmulator = Any

BIG_MEMBERSHIP_MODELS = 23


@pytest.fixture(scope="module")
def wide_fleet() -> Fleet:
    return generate_fleet(
        seed=3, memberships=1, models=BIG_MEMBERSHIP_MODELS, versions_per_model=(9, 9)
    )


def _client(server: EmulatorServer, credentials: dict[str, str], config: Config) -> Any:
    import boto3

    return boto3.client(
        "cleanroomsml", endpoint_url=server.endpoint_url, config=config, **credentials
    )


@pytest.mark.parametrize(("page_size", "page_cap"), [(1, None), (7, None), (100, None), (100, 3)])
def test_paginators_return_every_item_exactly_once(
    start_emulator: StartEmulator,
    wide_fleet: Fleet,
    credentials: dict[str, str],
    no_retries: Config,
    page_size: int,
    page_cap: int | None,
) -> None:
    server = start_emulator(EmulatorConfig(page_cap=page_cap), wide_fleet)
    ml = _client(server, credentials, no_retries)
    membership = wide_fleet.memberships[0]
    pagination = {"PageSize": page_size}

    listed = [
        s["trainedModelArn"]
        for page in ml.get_paginator("list_trained_models").paginate(
            membershipIdentifier=membership.id, PaginationConfig=pagination
        )
        for s in page["trainedModels"]
    ]
    model = wide_fleet.models[5]
    versions = [
        s["versionIdentifier"]
        for page in ml.get_paginator("list_trained_model_versions").paginate(
            membershipIdentifier=membership.id,
            trainedModelArn=model.arn,
            PaginationConfig=pagination,
        )
        for s in page["trainedModels"]
    ]

    assert listed == [m.arn for m in wide_fleet.models]
    assert versions == [v.version_identifier for v in model.versions]
    effective = min(page_size, page_cap or page_size)
    pages = server.counters.snapshot()["operations"]["ListTrainedModels"]
    assert pages == -(-BIG_MEMBERSHIP_MODELS // effective)


def test_page_cap_returns_fewer_items_than_asked_and_a_token(
    start_emulator: StartEmulator,
    wide_fleet: Fleet,
    credentials: dict[str, str],
    no_retries: Config,
) -> None:
    server = start_emulator(EmulatorConfig(page_cap=3), wide_fleet)

    page = _client(server, credentials, no_retries).list_trained_models(
        membershipIdentifier=wide_fleet.memberships[0].id, maxResults=50
    )

    assert len(page["trainedModels"]) == 3
    assert page["nextToken"]


def test_list_memberships_pages(client: MakeClient, fleet: Fleet) -> None:
    paginator = client("cleanrooms").get_paginator("list_memberships")

    ids = [
        s["id"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 2})
        for s in page["membershipSummaries"]
    ]

    assert ids == [m.id for m in fleet.memberships]


@pytest.mark.parametrize("max_results", [0, 101, -5])
def test_out_of_range_max_results_is_a_validation_error(
    client: MakeClient, fleet: Fleet, max_results: int
) -> None:
    ml = client(
        "cleanroomsml", config=Config(retries={"total_max_attempts": 1}, parameter_validation=False)
    )

    with pytest.raises(ClientError) as raised:
        ml.list_trained_models(membershipIdentifier=fleet.memberships[0].id, maxResults=max_results)

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "maxResults" in raised.value.response["Error"]["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "AA", lambda t: "bm9wZQ==", lambda t: "!!!"])
def test_tampered_next_token_is_a_validation_error(
    client: MakeClient, fleet: Fleet, mangle: Any
) -> None:
    ml = client("cleanroomsml")
    membership = fleet.memberships[0]
    token = ml.list_trained_models(membershipIdentifier=membership.id, maxResults=1)["nextToken"]

    with pytest.raises(ml.exceptions.ValidationException):
        ml.list_trained_models(membershipIdentifier=membership.id, nextToken=mangle(token))


def test_next_token_of_another_listing_is_a_validation_error(
    client: MakeClient, fleet: Fleet
) -> None:
    ml = client("cleanroomsml")
    first, second = fleet.memberships[0], fleet.memberships[1]
    token = ml.list_trained_models(membershipIdentifier=first.id, maxResults=1)["nextToken"]

    with pytest.raises(ml.exceptions.ValidationException):
        ml.list_trained_models(membershipIdentifier=second.id, nextToken=token)


def test_pager_round_trips_offsets_and_rejects_foreign_keys() -> None:
    pager = Pager(key=b"k" * 16)
    token = pager.token("ListTrainedModels", "m-1", 40)

    assert pager.offset("ListTrainedModels", "m-1", token) == 40
    with pytest.raises(PagingError):
        Pager(key=b"j" * 16).offset("ListTrainedModels", "m-1", token)
    with pytest.raises(PagingError):
        pager.offset("ListTrainedModelVersions", "m-1", token)


def test_pager_pages_cover_the_listing_once() -> None:
    pager = Pager(page_cap=4)
    seen: Counter[int] = Counter()
    token: str | None = None
    while True:
        page = pager.page("Op", "scope", 30, "7", token)
        seen.update(range(page.start, page.stop))
        assert page.stop - page.start <= 4
        token = page.next_token
        if token is None:
            break

    assert seen == Counter(range(30))
