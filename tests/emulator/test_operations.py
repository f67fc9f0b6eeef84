from __future__ import annotations

from datetime import datetime
from typing import Any

import aioboto3
import boto3
import pytest
from botocore.config import Config

from auditor.emulator import EmulatorServer
from auditor.emulator.catalog import MEMBERSHIP_CREATED, trained_model_summary
from auditor.fleet import Fleet

MakeClient = Any


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _same(document: Any, parsed: Any) -> None:
    """``parsed`` (botocore's) equals the fleet ``document``, timestamps as the same instant."""
    assert set(parsed) - {"ResponseMetadata"} == set(document)
    for key, value in document.items():
        if key in ("createTime", "updateTime"):
            assert _instant(parsed[key]) == _instant(value), key
        else:
            assert parsed[key] == value, key


def test_list_memberships_returns_every_membership_with_required_members(
    client: MakeClient, fleet: Fleet
) -> None:
    summaries = client("cleanrooms").list_memberships()["membershipSummaries"]

    assert [s["id"] for s in summaries] == [m.id for m in fleet.memberships]
    first, membership = summaries[0], fleet.memberships[0]
    assert first["arn"] == membership.arn
    assert first["collaborationArn"] == membership.collaboration_arn
    assert first["collaborationName"] == membership.collaboration_name
    assert first["createTime"] == MEMBERSHIP_CREATED
    assert first["paymentConfiguration"] == {"queryCompute": {"isResponsible": True}}


def test_list_memberships_filters_by_status(client: MakeClient) -> None:
    cleanrooms = client("cleanrooms")

    assert len(cleanrooms.list_memberships(status="ACTIVE")["membershipSummaries"]) == 3
    assert cleanrooms.list_memberships(status="REMOVED")["membershipSummaries"] == []


def test_memberships_are_served_only_in_their_region(client: MakeClient) -> None:
    elsewhere = client("cleanrooms", region_name="eu-west-1")

    assert elsewhere.list_memberships()["membershipSummaries"] == []


def test_list_trained_models_returns_latest_version_of_each_model(
    client: MakeClient, fleet: Fleet
) -> None:
    membership = fleet.memberships[1]

    listed = client("cleanroomsml").list_trained_models(membershipIdentifier=membership.id)

    expected = [trained_model_summary(m.latest.document) for m in fleet.models_of(membership.id)]
    assert len(listed["trainedModels"]) == len(expected)
    for summary, document in zip(listed["trainedModels"], expected, strict=True):
        _same(document, summary)
    assert "nextToken" not in listed


def test_list_trained_model_versions_returns_every_version(
    client: MakeClient, fleet: Fleet
) -> None:
    ml = client("cleanroomsml")
    for model in fleet.models:
        listed = ml.list_trained_model_versions(
            membershipIdentifier=model.membership_id, trainedModelArn=model.arn
        )["trainedModels"]
        assert [v["versionIdentifier"] for v in listed] == [
            v.version_identifier for v in model.versions
        ]


def test_get_trained_model_returns_each_version_document(client: MakeClient, fleet: Fleet) -> None:
    ml = client("cleanroomsml")
    for model in fleet.models:
        for version in model.versions:
            got = ml.get_trained_model(
                membershipIdentifier=model.membership_id,
                trainedModelArn=model.arn,
                versionIdentifier=version.version_identifier,
            )
            _same(version.document, got)


def test_get_trained_model_without_version_returns_latest(client: MakeClient, fleet: Fleet) -> None:
    model = max(fleet.models, key=lambda m: len(m.versions))

    got = client("cleanroomsml").get_trained_model(
        membershipIdentifier=model.membership_id, trainedModelArn=model.arn
    )

    assert len(model.versions) > 1
    _same(model.latest.document, got)


def test_get_trained_model_of_unknown_version_is_not_found(
    client: MakeClient, fleet: Fleet
) -> None:
    ml = client("cleanroomsml")
    model = fleet.models[0]

    with pytest.raises(ml.exceptions.ResourceNotFoundException):
        ml.get_trained_model(
            membershipIdentifier=model.membership_id,
            trainedModelArn=model.arn,
            versionIdentifier="00000000-0000-0000-0000-000000000000",
        )


def test_get_trained_model_under_another_membership_is_not_found(
    client: MakeClient, fleet: Fleet
) -> None:
    ml = client("cleanroomsml")
    model = fleet.models[0]
    other = next(m for m in fleet.memberships if m.id != model.membership_id)

    with pytest.raises(ml.exceptions.ResourceNotFoundException):
        ml.get_trained_model(membershipIdentifier=other.id, trainedModelArn=model.arn)


def test_list_tags_for_resource_returns_the_latest_version_tags(
    client: MakeClient, fleet: Fleet
) -> None:
    model = fleet.models[3]

    tags = client("cleanroomsml").list_tags_for_resource(resourceArn=model.arn)["tags"]

    assert tags == model.latest.document["tags"]


def test_endpoint_environment_variables_route_both_services(
    emulator: EmulatorServer,
    fleet: Fleet,
    monkeypatch: pytest.MonkeyPatch,
    credentials: dict[str, str],
    no_retries: Config,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMS", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", emulator.endpoint_url)
    session = boto3.Session(**credentials)
    membership = fleet.memberships[0]

    memberships = session.client("cleanrooms", config=no_retries).list_memberships()
    models = session.client("cleanroomsml", config=no_retries).list_trained_models(
        membershipIdentifier=membership.id
    )

    assert len(memberships["membershipSummaries"]) == len(fleet.memberships)
    assert len(models["trainedModels"]) == len(fleet.models_of(membership.id))
    assert emulator.counters.snapshot()["callers"] == {
        "AKIDEXAMPLE/us-east-1/cleanrooms": 1,
        "AKIDEXAMPLE/us-east-1/cleanrooms-ml": 1,
    }


async def test_aioboto3_pages_and_reads_every_version(
    emulator: EmulatorServer, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    session = aioboto3.Session(**credentials)
    membership = fleet.memberships[2]
    read: list[str] = []
    async with session.client(
        "cleanroomsml", endpoint_url=emulator.endpoint_url, config=no_retries
    ) as ml:
        paginator = ml.get_paginator("list_trained_models")
        async for page in paginator.paginate(
            membershipIdentifier=membership.id, PaginationConfig={"PageSize": 1}
        ):
            for summary in page["trainedModels"]:
                got = await ml.get_trained_model(
                    membershipIdentifier=membership.id,
                    trainedModelArn=summary["trainedModelArn"],
                    versionIdentifier=summary["versionIdentifier"],
                )
                read.append(got["versionIdentifier"])

    assert read == [m.latest.version_identifier for m in fleet.models_of(membership.id)]
