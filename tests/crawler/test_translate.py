from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore import exceptions as boto

from auditor.crawler.api import Operation, Page
from auditor.crawler.translate import (
    WIRE_BODY,
    NotJson,
    iso8601,
    keep_wire_body,
    to_document,
    to_page,
    translate_error,
)
from auditor.errors import (
    AccessDeniedError,
    ApiError,
    ConnectionFailure,
    CredentialsError,
    MalformedResponseError,
    NotFoundError,
    RequestRejectedError,
    ServerError,
    ThrottledError,
)

GET = Operation.GET_TRAINED_MODEL


def client_error(code: str, status: int) -> boto.ClientError:
    response = {
        "Error": {"Code": code, "Message": f"{code} happened"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return boto.ClientError(response, "GetTrainedModel")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ThrottlingException", 429, ThrottledError),
        ("TooManyRequestsException", 400, ThrottledError),
        ("SomethingNew", 429, ThrottledError),
        ("InternalServerException", 500, ServerError),
        ("ServiceUnavailable", 503, ServerError),
        ("Whatever", 502, ServerError),
        ("AccessDeniedException", 403, AccessDeniedError),
        ("ResourceNotFoundException", 404, NotFoundError),
        ("ValidationException", 400, RequestRejectedError),
        ("ConflictException", 409, RequestRejectedError),
        ("ExpiredTokenException", 403, CredentialsError),
        ("UnrecognizedClientException", 403, CredentialsError),
        ("InvalidClientTokenId", 403, CredentialsError),
    ],
)
def test_client_errors_map_to_auditor_errors(code: str, status: int, kind: type[ApiError]) -> None:
    error = translate_error(GET, client_error(code, status))
    assert type(error) is kind
    assert (error.operation, error.code, error.status) == ("GetTrainedModel", code, status)
    assert error.message == f"{code} happened"


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (boto.NoCredentialsError(), CredentialsError),
        (boto.EndpointConnectionError(endpoint_url="http://x"), ConnectionFailure),
        (boto.ReadTimeoutError(endpoint_url="http://x"), ConnectionFailure),
        (boto.ConnectionClosedError(endpoint_url="http://x"), ConnectionFailure),
        (boto.ResponseStreamingError(error="cut"), ConnectionFailure),
        (boto.IncompleteReadError(actual_bytes=1, expected_bytes=2), ConnectionFailure),
        (TimeoutError(), ConnectionFailure),
        (boto.ParamValidationError(report="bad"), RequestRejectedError),
    ],
)
def test_sdk_and_transport_errors_map_to_auditor_errors(
    exc: Exception, kind: type[ApiError]
) -> None:
    assert type(translate_error(GET, exc)) is kind


def test_only_throttling_5xx_and_connection_failures_are_retryable() -> None:
    assert translate_error(GET, client_error("ThrottlingException", 429)).retryable
    assert translate_error(GET, client_error("InternalServerException", 500)).retryable
    assert translate_error(GET, TimeoutError()).retryable
    assert not translate_error(GET, client_error("AccessDeniedException", 403)).retryable
    assert not translate_error(GET, client_error("ValidationException", 400)).retryable


def test_timestamps_become_iso8601_utc_and_metadata_is_dropped() -> None:
    plus_two = timezone(timedelta(hours=2))
    response = {
        "trainedModelArn": "arn:x",
        "createTime": datetime(2026, 1, 1, 2, 0, tzinfo=plus_two),
        "updateTime": datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
        "dataChannels": [{"at": datetime(2026, 1, 2, tzinfo=UTC)}],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }
    assert to_document(GET, response) == {
        "trainedModelArn": "arn:x",
        "createTime": "2026-01-01T00:00:00Z",
        "updateTime": "2026-01-01T00:00:00.500000Z",
        "dataChannels": [{"at": "2026-01-02T00:00:00Z"}],
    }
    assert iso8601(datetime(2026, 1, 1)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("body", [[], "x", 3])
def test_a_get_body_that_is_no_object_is_malformed(body: object) -> None:
    with pytest.raises(MalformedResponseError, match="body is not a JSON object"):
        to_document(GET, {WIRE_BODY: body})


def test_a_get_body_is_handed_on_as_it_came_over_the_wire() -> None:
    record = {"trainedModelArn": 17, "stoppingCondition": {"maxRuntimeInSeconds": True}}
    assert to_document(GET, {WIRE_BODY: record, "ResponseMetadata": {}}) is record


def test_a_list_page_without_its_items_list_is_malformed_not_empty() -> None:
    op = Operation.LIST_TRAINED_MODELS
    with pytest.raises(MalformedResponseError):
        to_page(op, {"message": "<html>"}, "trainedModels")
    with pytest.raises(MalformedResponseError):
        to_page(op, {"trainedModels": ["x"]}, "trainedModels")
    page = to_page(op, {"trainedModels": [{"a": 1}], "nextToken": "t"}, "trainedModels")
    assert page.items == ({"a": 1},)
    assert page.next_token == "t"


def _before_parse(
    operation: str, body: bytes, status: int = 200
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What botocore's ``before-parse`` event hands ``keep_wire_body``, after it ran."""
    response = {"status_code": status, "headers": {}, "body": body}
    customized: dict[str, Any] = {}
    keep_wire_body(
        response_dict=response, customized_response_dict=customized, operation_name=operation
    )
    return response, customized


def test_a_get_body_is_parsed_once_by_auditor_and_never_by_botocore() -> None:
    response, customized = _before_parse("GetTrainedModel", b'{"a": true, "b": "3600"}')
    assert customized == {WIRE_BODY: {"a": True, "b": "3600"}}
    assert response["body"] == b""  # what botocore parses: nothing to coerce


def test_a_list_body_is_read_from_the_wire_too() -> None:
    body = b'{"trainedModels": [{"trainedModelArn": "arn:x", "extra": 1}], "nextToken": "t"}'
    response, customized = _before_parse("ListTrainedModels", body)
    assert response["body"] == b""
    page = to_page(Operation.LIST_TRAINED_MODELS, customized, "trainedModels")
    assert page == Page(items=({"trainedModelArn": "arn:x", "extra": 1},), next_token="t")
    with pytest.raises(MalformedResponseError, match="body is not a JSON object"):
        to_page(Operation.LIST_TRAINED_MODELS, {WIRE_BODY: []}, "trainedModels")


@pytest.mark.parametrize("operation", ["GetTrainedModel", "ListMemberships"])
@pytest.mark.parametrize(
    "body", [b"<html>502</html>", b'{"trainedModelArn": "arn:x", "na', b"", b"\xff\xfe{}"]
)
def test_a_body_that_does_not_parse_is_not_valid_json(operation: str, body: bytes) -> None:
    response, customized = _before_parse(operation, body)
    assert isinstance(customized[WIRE_BODY], NotJson)
    assert response["body"] == b""  # botocore would make it {"message": body}
    with pytest.raises(MalformedResponseError, match=r"^.*: body is not valid JSON \(.+\)$"):
        to_document(operation, {**customized, "ResponseMetadata": {}})


def test_an_error_response_is_left_to_botocore() -> None:
    body = b'{"__type": "ThrottlingException"}'
    response, customized = _before_parse("GetTrainedModel", body, status=429)
    assert (response["body"], customized) == (body, {})
