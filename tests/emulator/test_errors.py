from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from auditor.emulator import EmulatorConfig, EmulatorServer, RateLimit
from auditor.fleet import Fleet

MakeClient = Any
StartEmulator = Any


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def _ml(server: EmulatorServer, credentials: dict[str, str], no_retries: Config) -> Any:
    return boto3.client(
        "cleanroomsml", endpoint_url=server.endpoint_url, config=no_retries, **credentials
    )


def test_each_error_code_parses_as_botocore_reads_it(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    model = fleet.models[0]
    denied = fleet.memberships[1].id
    server = start_emulator(
        EmulatorConfig(
            rate_limits={"ListTagsForResource": RateLimit(rate=0.001, burst=1)},
            deny_memberships=frozenset({denied}),
            vanish_models=frozenset({model.arn}),
        )
    )
    ml = _ml(server, credentials, no_retries)
    broken = _ml(start_emulator(EmulatorConfig(error_rate=1.0)), credentials, no_retries)
    ml.list_tags_for_resource(resourceArn=fleet.models[1].arn)

    throttled = _error(lambda: ml.list_tags_for_resource(resourceArn=fleet.models[1].arn))
    access = _error(lambda: ml.list_trained_models(membershipIdentifier=denied))
    missing = _error(
        lambda: ml.get_trained_model(
            membershipIdentifier=model.membership_id, trainedModelArn=model.arn
        )
    )
    invalid = _error(lambda: ml.list_trained_models(membershipIdentifier=denied, nextToken="x"))
    internal = _error(lambda: broken.list_trained_models(membershipIdentifier=denied))

    assert throttled[:2] == ("ThrottlingException", 429)
    assert access[:2] == ("AccessDeniedException", 403)
    assert missing[:2] == ("ResourceNotFoundException", 404)
    assert internal[:2] == ("InternalServerException", 500)
    assert invalid[:2] == ("AccessDeniedException", 403)  # access is checked before paging
    assert all(message for *_, message in (throttled, access, missing, internal))


def test_validation_exception_parses(client: MakeClient, fleet: Fleet) -> None:
    ml = client("cleanroomsml")

    code, status, message = _error(
        lambda: ml.list_trained_models(membershipIdentifier=fleet.memberships[0].id, maxResults=101)
    )

    assert (code, status) == ("ValidationException", 400)
    assert "between 1 and 100" in message


def test_unsigned_request_is_refused_and_counted(emulator: EmulatorServer) -> None:
    unsigned = boto3.client(
        "cleanrooms",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )

    code, status, _ = _error(unsigned.list_memberships)

    assert (code, status) == ("MissingAuthenticationTokenException", 403)
    assert emulator.counters.snapshot()["refused"] == {"ListMemberships": 1}


def test_mutating_operations_are_refused_and_counted(
    client: MakeClient, emulator: EmulatorServer, fleet: Fleet
) -> None:
    ml = client("cleanroomsml")
    model = fleet.models[0]
    document = model.latest.document

    tag = _error(lambda: ml.tag_resource(resourceArn=model.arn, tags={"owner": "me"}))
    create = _error(
        lambda: ml.create_trained_model(
            membershipIdentifier=model.membership_id,
            name="new",
            configuredModelAlgorithmAssociationArn=document[
                "configuredModelAlgorithmAssociationArn"
            ],
            resourceConfig={"instanceType": "ml.m5.xlarge", "volumeSizeInGB": 10},
            dataChannels=document["dataChannels"],
        )
    )
    delete = _error(
        lambda: client("cleanrooms").delete_membership(membershipIdentifier=model.membership_id)
    )

    assert tag[:2] == create[:2] == delete[:2] == ("AccessDeniedException", 403)
    snapshot = emulator.counters.snapshot()
    assert snapshot["refused"] == {"TagResource": 1, "CreateTrainedModel": 1, "DeleteMembership": 1}
    assert snapshot["operations"] == snapshot["refused"]


def test_unknown_path_is_unknown_operation(
    emulator: EmulatorServer, credentials: dict[str, str]
) -> None:
    import urllib.request

    request = urllib.request.Request(
        emulator.endpoint_url + "/no/such/thing",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/"
            "cleanrooms-ml/aws4_request, SignedHeaders=host, Signature=00"
        },
    )

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 404
    assert raised.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert emulator.counters.snapshot()["refused"] == {"Unknown": 1}
