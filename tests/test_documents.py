"""The GetTrainedModel contract: every departure from the SDK's shape is found, with its JSON
path; the document keeps what was sent (timestamps normalised, unknown members dropped)."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest

from auditor.documents import (
    MAX_LISTED_PROBLEMS,
    CheckedDocument,
    check_document,
    normalise_timestamp,
    output_shape,
)
from auditor.fleet import generate_fleet

FLEET = generate_fleet(seed=5, memberships=2, models=20, versions_per_model=(1, 3))
DOCUMENT: dict[str, Any] = dict(next(FLEET.versions()).document)


def checked(**changes: Any) -> CheckedDocument:
    document = copy.deepcopy(DOCUMENT)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        here = document
        for name in parents:
            here = here[name]
        if value is _DELETE:
            del here[last]
        else:
            here[last] = value
    return check_document(document)


_DELETE = object()


def test_the_shape_is_the_installed_sdks_getrainedmodel_output() -> None:
    model = botocore.session.get_session().get_service_model("cleanroomsml")
    expected = model.operation_model("GetTrainedModel").output_shape
    assert output_shape().name == expected.name
    assert list(output_shape().members) == list(expected.members)
    assert output_shape() is output_shape()  # loaded once


def test_every_generated_fleet_document_conforms_and_is_unchanged() -> None:
    for version in FLEET.versions():
        result = check_document(version.document)
        assert result.problems == ()
        assert result.document == version.document


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"stoppingCondition__maxRuntimeInSeconds": True},
            "stoppingCondition.maxRuntimeInSeconds: expected integer, got boolean true",
        ),
        (
            {"stoppingCondition__maxRuntimeInSeconds": 86400.9},
            "stoppingCondition.maxRuntimeInSeconds: expected integer, got float 86400.9",
        ),
        (
            {"stoppingCondition__maxRuntimeInSeconds": 3600.0},
            "stoppingCondition.maxRuntimeInSeconds: expected integer, got float 3600.0",
        ),
        (
            {"stoppingCondition__maxRuntimeInSeconds": "3600"},
            'stoppingCondition.maxRuntimeInSeconds: expected integer, got string "3600"',
        ),
        (
            {"stoppingCondition__maxRuntimeInSeconds": 2**40},
            f"stoppingCondition.maxRuntimeInSeconds: {2**40} is out of the integer range",
        ),
        ({"resourceConfig": ["ml.m5.xlarge"]}, "resourceConfig: expected structure, got list"),
        (
            {"resourceConfig__instanceType": "ml.imaginary.48xlarge"},
            'resourceConfig.instanceType: string "ml.imaginary.48xlarge" is not one of the '
            "documented InstanceType values",
        ),
        ({"tags": [["owner", "ml"]]}, "tags: expected map, got list"),
        ({"tags__owner": 7}, 'tags["owner"]: expected string, got integer 7'),
        ({"tags__owner": None}, 'tags["owner"]: expected string, got null'),
        ({"kmsKeyArn": 123}, "kmsKeyArn: expected string, got integer 123"),
        ({"kmsKeyArn": False}, "kmsKeyArn: expected string, got boolean false"),
        ({"createTime": "yesterday"}, 'createTime: expected timestamp, got string "yesterday"'),
        ({"createTime": True}, "createTime: expected timestamp, got boolean true"),
        ({"dataChannels": {"a": 1}}, "dataChannels: expected list, got object"),
        (
            {"dataChannels": [{"channelName": "train"}]},
            "dataChannels[0].mlInputChannelArn: required member is missing",
        ),
        ({"name": _DELETE}, "name: required member is missing"),
        ({"name": None}, "name: required member is null"),
        (
            {"status": "ACTIVATED"},
            'status: string "ACTIVATED" is not one of the documented TrainedModelStatus values',
        ),
        ({"hyperparameters": "epochs=5"}, 'hyperparameters: expected map, got string "epochs=5"'),
    ],
)
def test_each_departure_is_one_problem_with_its_json_path(
    changes: dict[str, Any], message: str
) -> None:
    result = checked(**changes)
    assert [str(p) for p in result.problems] == [message]
    assert result.message == message
    assert not result.conforms


def test_mistyped_values_stay_as_sent_never_coerced() -> None:
    result = checked(stoppingCondition__maxRuntimeInSeconds=True, kmsKeyArn=123, tags=[["a", "b"]])
    assert result.document["stoppingCondition"] == {"maxRuntimeInSeconds": True}
    assert result.document["kmsKeyArn"] == 123
    assert result.document["tags"] == [["a", "b"]]


def test_unknown_and_null_members_are_left_out_as_the_sdk_does() -> None:
    result = checked(futureMember={"x": 1}, description=None, ResponseMetadata={"RequestId": "r"})
    assert result.conforms
    assert "futureMember" not in result.document
    assert "description" not in result.document
    assert "ResponseMetadata" not in result.document
    assert result.document["name"] == DOCUMENT["name"]


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (1704067200, "2024-01-01T00:00:00Z"),
        (1704067200.5, "2024-01-01T00:00:00.500000Z"),
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z"),
        ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00", "2024-01-01T00:00:00Z"),
        ("Mon, 01 Jan 2024 00:00:00 GMT", "2024-01-01T00:00:00Z"),
    ],
)
def test_timestamps_in_any_form_the_sdk_reads_become_iso8601_utc(
    value: Any, normalised: str
) -> None:
    assert normalise_timestamp(value) == normalised
    result = checked(createTime=value)
    assert result.conforms
    assert result.document["createTime"] == normalised


@pytest.mark.parametrize("value", ["yesterday", "", True, None, [], {}, 10**20])
def test_what_is_no_timestamp_is_none(value: Any) -> None:
    assert normalise_timestamp(value) is None


def test_a_malformed_timestamp_is_left_as_it_is_so_it_fails_closed() -> None:
    result = checked(createTime="yesterday")
    assert result.document["createTime"] == "yesterday"


def test_many_problems_are_all_kept_and_the_message_says_how_many_more() -> None:
    tags = {f"k{i}": i for i in range(MAX_LISTED_PROBLEMS + 3)}
    result = checked(tags=tags)
    assert len(result.problems) == MAX_LISTED_PROBLEMS + 3
    assert result.message.endswith("; and 3 more")
    assert result.message.count("expected string, got integer") == MAX_LISTED_PROBLEMS


@pytest.mark.parametrize("record", [[], "x", 3, None])
def test_a_record_that_is_no_object_is_one_problem(record: Any) -> None:
    result = check_document(record)
    assert [p.path for p in result.problems] == ["record"]
    assert result.document == {}


def test_the_input_is_never_mutated() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["createTime"] = 1704067200
    document["extra"] = 1
    before = copy.deepcopy(document)
    result = check_document(document)
    assert document == before
    assert result.document["createTime"] == "2024-01-01T00:00:00Z"
