"""The related-resource reads, through the real SDK (boto3 with its own parameter validation
and response parsing against botocore's service model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from auditor.emulator import EmulatorConfig
from auditor.emulator.config import Fault, FaultKind, RateLimit
from auditor.fleet import FOREIGN_ACCOUNT, Fleet, generate_fleet

from .conftest import StartEmulator, client_for


@pytest.fixture(scope="module")
def context_fleet() -> Fleet:
    return generate_fleet(seed=5, memberships=2, models=10, versions_per_model=(1, 3), context=True)


@pytest.fixture
def ml(start_emulator: StartEmulator, context_fleet: Fleet) -> Any:
    return client_for(start_emulator(fleet_=context_fleet), "cleanroomsml")


def _same(document: Any, parsed: Any) -> None:
    assert set(parsed) - {"ResponseMetadata"} == set(document)
    for key, value in document.items():
        if key in ("createTime", "updateTime"):
            assert parsed[key] == datetime.fromisoformat(value), key
        else:
            assert parsed[key] == value, key


def test_get_association_returns_the_fleet_body(ml: Any, context_fleet: Fleet) -> None:
    for body in context_fleet.context.associations[:3]:
        parsed = ml.get_configured_model_algorithm_association(
            membershipIdentifier=body["membershipIdentifier"],
            configuredModelAlgorithmAssociationArn=body["configuredModelAlgorithmAssociationArn"],
        )
        _same(body, parsed)


def test_get_association_in_another_membership_is_not_found(ml: Any, context_fleet: Fleet) -> None:
    body = context_fleet.context.associations[0]
    other = next(m.id for m in context_fleet.memberships if m.id != body["membershipIdentifier"])
    with pytest.raises(ClientError) as caught:
        ml.get_configured_model_algorithm_association(
            membershipIdentifier=other,
            configuredModelAlgorithmAssociationArn=body["configuredModelAlgorithmAssociationArn"],
        )
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_get_algorithm_owned_and_foreign(ml: Any, context_fleet: Fleet) -> None:
    body = context_fleet.context.algorithms[0]
    _same(
        body,
        ml.get_configured_model_algorithm(
            configuredModelAlgorithmArn=body["configuredModelAlgorithmArn"]
        ),
    )
    foreign = next(arn for arn in context_fleet.context.risks if f":{FOREIGN_ACCOUNT}:" in arn)
    with pytest.raises(ClientError) as caught:
        ml.get_configured_model_algorithm(configuredModelAlgorithmArn=foreign)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_get_ml_input_channel_with_and_without_a_key(ml: Any, context_fleet: Fleet) -> None:
    channels = context_fleet.context.input_channels
    assert any("kmsKeyArn" in c for c in channels)
    assert any("kmsKeyArn" not in c for c in channels)
    for body in channels:
        parsed = ml.get_ml_input_channel(
            membershipIdentifier=body["membershipIdentifier"],
            mlInputChannelArn=body["mlInputChannelArn"],
        )
        _same(body, parsed)


def test_inference_jobs_list_by_model_and_version_with_paging(
    start_emulator: StartEmulator, context_fleet: Fleet
) -> None:
    ml = client_for(
        start_emulator(EmulatorConfig(page_cap=1), fleet_=context_fleet), "cleanroomsml"
    )
    jobs = context_fleet.context.inference_jobs
    job = jobs[0]
    expected = [
        j["trainedModelInferenceJobArn"]
        for j in jobs
        if j["trainedModelArn"] == job["trainedModelArn"]
    ]
    paginator = ml.get_paginator("list_trained_model_inference_jobs")
    pages = list(
        paginator.paginate(
            membershipIdentifier=job["membershipIdentifier"], trainedModelArn=job["trainedModelArn"]
        )
    )
    listed = [
        s["trainedModelInferenceJobArn"] for p in pages for s in p["trainedModelInferenceJobs"]
    ]
    assert listed == expected
    assert len(pages) >= len(expected)
    by_version = ml.list_trained_model_inference_jobs(
        membershipIdentifier=job["membershipIdentifier"],
        trainedModelArn=job["trainedModelArn"],
        trainedModelVersionIdentifier=job["trainedModelVersionIdentifier"],
        maxResults=100,
    )["trainedModelInferenceJobs"]
    assert all(
        s["trainedModelVersionIdentifier"] == job["trainedModelVersionIdentifier"]
        for s in by_version
    )
    summary = by_version[0]
    assert summary["outputConfiguration"]["members"][0]["accountId"]
    assert summary["collaborationIdentifier"]


def test_get_inference_job(ml: Any, context_fleet: Fleet) -> None:
    body = context_fleet.context.inference_jobs[0]
    parsed = ml.get_trained_model_inference_job(
        membershipIdentifier=body["membershipIdentifier"],
        trainedModelInferenceJobArn=body["trainedModelInferenceJobArn"],
    )
    _same(body, parsed)


def test_related_reads_are_throttled_and_faulted_like_the_rest(
    start_emulator: StartEmulator, context_fleet: Fleet
) -> None:
    body = context_fleet.context.input_channels[0]
    arn = body["mlInputChannelArn"]
    server = start_emulator(
        EmulatorConfig(faults={arn: Fault(FaultKind.SERVER_ERROR, times=1)}), fleet_=context_fleet
    )
    ml = client_for(server, "cleanroomsml")
    kwargs = {"membershipIdentifier": body["membershipIdentifier"], "mlInputChannelArn": arn}
    with pytest.raises(ClientError) as caught:
        ml.get_ml_input_channel(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert ml.get_ml_input_channel(**kwargs)["mlInputChannelArn"] == arn
    assert server.counters.calls("GetMLInputChannel", arn) == 2


def test_related_reads_are_rate_limited_like_the_rest(
    start_emulator: StartEmulator, context_fleet: Fleet
) -> None:
    body = context_fleet.context.associations[0]
    limits = {"GetConfiguredModelAlgorithmAssociation": RateLimit(rate=0.001, burst=1)}
    ml = client_for(
        start_emulator(EmulatorConfig(rate_limits=limits), fleet_=context_fleet), "cleanroomsml"
    )
    kwargs = {
        "membershipIdentifier": body["membershipIdentifier"],
        "configuredModelAlgorithmAssociationArn": body["configuredModelAlgorithmAssociationArn"],
    }
    ml.get_configured_model_algorithm_association(**kwargs)
    with pytest.raises(ClientError) as caught:
        ml.get_configured_model_algorithm_association(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_fleet_context_round_trips_through_json(tmp_path: Any, context_fleet: Fleet) -> None:
    from auditor.fleet import load_fleet

    path = tmp_path / "fleet.json"
    path.write_text(context_fleet.to_json())
    assert load_fleet(path) == context_fleet
