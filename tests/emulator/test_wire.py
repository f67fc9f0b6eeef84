from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from auditor.emulator.app import route
from auditor.emulator.wire import Caller, aws_operation_name, parse_authorization
from auditor.fleet import Fleet

MakeClient = Any

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/cleanrooms-ml/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abcdef"
)
ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/m-1/trained-model/t-1"


def test_authorization_yields_the_credential_scope() -> None:
    assert parse_authorization(SIGNED) == Caller("AKIDEXAMPLE", "eu-west-1", "cleanrooms-ml")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer token",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/aws4_request, Signature=00",
    ],
)
def test_missing_or_malformed_authorization_is_no_caller(header: str | None) -> None:
    assert parse_authorization(header) is None


def test_routes_decode_percent_encoded_arns() -> None:
    encoded = quote(ARN, safe="")

    get = route("GET", f"/memberships/m-1/trained-models/{encoded}", "cleanrooms-ml")
    versions = route("GET", f"/memberships/m-1/trained-models/{encoded}/versions", None)
    tags = route("GET", f"/tags/{encoded}", "cleanrooms-ml")

    assert (get.operation, get.membership_id, get.arn) == ("GetTrainedModel", "m-1", ARN)
    assert (versions.operation, versions.arn) == ("ListTrainedModelVersions", ARN)
    assert (tags.operation, tags.arn) == ("ListTagsForResource", ARN)


def test_routes_respect_the_signing_service() -> None:
    assert route("GET", "/memberships", "cleanrooms").operation == "ListMemberships"
    assert not route("GET", "/memberships", "cleanrooms-ml").supported
    assert not route("GET", "/memberships/m-1/trained-models", "cleanrooms").supported


def test_unserved_routes_are_named_by_botocore_model() -> None:
    assert aws_operation_name("POST", f"/tags/{quote(ARN, safe='')}", "cleanrooms-ml") == (
        "TagResource"
    )
    assert aws_operation_name("GET", "/memberships/m-1", "cleanrooms") == "GetMembership"
    assert aws_operation_name("PATCH", "/nowhere", None) is None


def test_tags_of_a_membership_are_empty_and_unknown_arns_not_found(
    client: MakeClient, fleet: Fleet
) -> None:
    ml = client("cleanroomsml")

    assert ml.list_tags_for_resource(resourceArn=fleet.memberships[0].arn)["tags"] == {}
    with pytest.raises(ml.exceptions.ResourceNotFoundException):
        ml.list_tags_for_resource(resourceArn=ARN)
