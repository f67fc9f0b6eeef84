"""ListCollaborationTrainedModels and GetCollaborationTrainedModel as boto3 sees them: paths,
query parameters, paging, output shapes, refusals, throttling and faults."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auditor.documents import COLLABORATION_OPERATION, output_shape
from auditor.emulator import EmulatorConfig, Fault, FaultKind, RateLimit
from auditor.fleet import Fleet, generate_fleet

from .conftest import StartEmulator, client_for

LIST = "ListCollaborationTrainedModels"
GET = "GetCollaborationTrainedModel"


@pytest.fixture(scope="module")
def collab_fleet() -> Fleet:
    return generate_fleet(
        seed=13, memberships=2, models=6, versions_per_model=(1, 2), collaboration_models=9
    )


def ml(start_emulator: StartEmulator, fleet: Fleet, config: EmulatorConfig | None = None) -> Any:
    server = start_emulator(config, fleet)
    return client_for(server, "cleanroomsml"), server


def listed(client: Any, collaboration_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    paginator = client.get_paginator("list_collaboration_trained_models")
    return [
        item
        for page in paginator.paginate(collaborationIdentifier=collaboration_id, **kwargs)
        for item in page["collaborationTrainedModels"]
    ]


def test_the_listing_pages_every_members_model_once(
    start_emulator: StartEmulator, collab_fleet: Fleet
) -> None:
    client, server = ml(start_emulator, collab_fleet, EmulatorConfig(page_cap=2))
    for membership in collab_fleet.memberships:
        items = listed(client, membership.collaboration_id)
        keys = [(i["trainedModelArn"], i["versionIdentifier"]) for i in items]
        own = [
            (m.arn, v.version_identifier)
            for m in collab_fleet.models_of(membership.id)
            for v in m.versions
        ]
        others = [
            (m.arn, v.version_identifier)
            for m in collab_fleet.collaboration_models_of(membership.collaboration_id)
            for v in m.versions
        ]
        assert sorted(keys) == sorted(own + others)
        assert len(keys) == len(set(keys))
        creators = {i["trainedModelArn"]: i["creatorAccountId"] for i in items}
        for model in collab_fleet.collaboration_models_of(membership.collaboration_id):
            assert creators[model.arn] == model.creator_account
        for model in collab_fleet.models_of(membership.id):
            assert creators[model.arn] == membership.account
        # every required member of the summary shape, timestamps parsed by botocore
        for item in items:
            assert isinstance(item["createTime"], datetime)
            assert item["membershipIdentifier"]
            assert item["status"]
    resources = server.counters.snapshot()["resources"][LIST]
    assert set(resources) == {m.collaboration_id for m in collab_fleet.memberships}


def test_get_returns_the_collaboration_shape_of_each_version(
    start_emulator: StartEmulator, collab_fleet: Fleet
) -> None:
    client, server = ml(start_emulator, collab_fleet)
    members = set(output_shape(COLLABORATION_OPERATION).members)
    model = collab_fleet.collaboration_models[0]
    for version in model.versions:
        body = client.get_collaboration_trained_model(
            collaborationIdentifier=model.collaboration_id,
            trainedModelArn=model.arn,
            versionIdentifier=version.version_identifier,
        )
        body.pop("ResponseMetadata")
        assert set(body) <= members
        assert body["creatorAccountId"] == model.creator_account
        assert body["versionIdentifier"] == version.version_identifier
        assert body["resourceConfig"] == version.document["resourceConfig"]
    latest = client.get_collaboration_trained_model(
        collaborationIdentifier=model.collaboration_id, trainedModelArn=model.arn
    )
    assert latest["versionIdentifier"] == model.versions[-1].version_identifier
    # an own model, as other members see it: no kmsKeyArn, tags or hyperparameters
    own = collab_fleet.models[0]
    collaboration = next(
        m.collaboration_id for m in collab_fleet.memberships if m.id == own.membership_id
    )
    shared = client.get_collaboration_trained_model(
        collaborationIdentifier=collaboration, trainedModelArn=own.arn
    )
    assert "kmsKeyArn" in own.latest.document
    assert not {"kmsKeyArn", "tags", "hyperparameters", "environment"} & set(shared)
    assert server.counters.calls(GET, f"{model.arn}#{model.versions[0].version_identifier}") == 1


def test_unknown_models_and_versions_are_not_found(
    start_emulator: StartEmulator, collab_fleet: Fleet
) -> None:
    client, _ = ml(start_emulator, collab_fleet)
    model = collab_fleet.collaboration_models[0]
    with pytest.raises(ClientError) as version:
        client.get_collaboration_trained_model(
            collaborationIdentifier=model.collaboration_id,
            trainedModelArn=model.arn,
            versionIdentifier="00000000-0000-4000-8000-000000000000",
        )
    assert version.value.response["Error"]["Code"] == "ResourceNotFoundException"
    other = next(
        m.collaboration_id
        for m in collab_fleet.memberships
        if m.collaboration_id != model.collaboration_id
    )
    with pytest.raises(ClientError) as elsewhere:  # the model is not in that collaboration
        client.get_collaboration_trained_model(
            collaborationIdentifier=other, trainedModelArn=model.arn
        )
    assert elsewhere.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_collaboration_the_caller_is_not_in_or_is_denied_is_access_denied(
    start_emulator: StartEmulator, collab_fleet: Fleet
) -> None:
    denied = collab_fleet.memberships[0].collaboration_id
    config = EmulatorConfig(deny_collaborations=frozenset({denied}))
    client, _ = ml(start_emulator, collab_fleet, config)
    for collaboration in (denied, "99999999-9999-4999-8999-999999999999"):
        with pytest.raises(ClientError) as caught:
            client.list_collaboration_trained_models(collaborationIdentifier=collaboration)
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    allowed = collab_fleet.memberships[1].collaboration_id
    assert listed(client, allowed)
    # the collaboration is visible only from the members' region
    elsewhere = client_for(
        start_emulator(config, collab_fleet), "cleanroomsml", region_name="eu-west-1"
    )
    with pytest.raises(ClientError) as region:
        elsewhere.list_collaboration_trained_models(collaborationIdentifier=allowed)
    assert region.value.response["Error"]["Code"] == "AccessDeniedException"


def test_throttling_and_faults_apply_as_to_every_operation(
    start_emulator: StartEmulator, collab_fleet: Fleet
) -> None:
    model = collab_fleet.collaboration_models[1]
    key = f"{model.arn}#{model.versions[0].version_identifier}"
    config = EmulatorConfig(
        rate_limits={LIST: RateLimit(rate=0.001, burst=1)},
        faults={key: Fault(FaultKind.SERVER_ERROR, times=1)},
    )
    client, server = ml(start_emulator, collab_fleet, config)
    collaboration = model.collaboration_id
    client.list_collaboration_trained_models(collaborationIdentifier=collaboration)
    with pytest.raises(ClientError) as throttled:
        client.list_collaboration_trained_models(collaborationIdentifier=collaboration)
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    request = {
        "collaborationIdentifier": collaboration,
        "trainedModelArn": model.arn,
        "versionIdentifier": model.versions[0].version_identifier,
    }
    with pytest.raises(ClientError) as failed:
        client.get_collaboration_trained_model(**request)
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert client.get_collaboration_trained_model(**request)["trainedModelArn"] == model.arn
    snapshot = server.counters.snapshot()
    assert snapshot["throttled"] == {LIST: 1}
    assert snapshot["statuses"][GET] == {"503": 1, "200": 1}


def test_max_results_out_of_range_is_a_validation_error(
    start_emulator: StartEmulator, collab_fleet: Fleet
) -> None:
    client, _ = ml(start_emulator, collab_fleet)
    with pytest.raises(ClientError) as caught:
        client.list_collaboration_trained_models(
            collaborationIdentifier=collab_fleet.memberships[0].collaboration_id, maxResults=1000
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
