"""The crawler boundary: botocore's exceptions and response shapes in, auditor's out.

``translate_error`` is the one place a botocore or transport exception becomes an
``auditor.errors.ApiError``; ``to_document`` and ``to_page`` turn responses into the plain
JSON-like values the rest of auditor sees, raising ``MalformedResponseError`` when a body is
not what the API documents. Every message that leaves here passes through ``redact`` (a
service may echo the caller's access key id).

The body is judged, not the headers: any 200 the SDK accepts is read, whatever its
``Content-Type`` (moto answers Clean Rooms with ``text/html``); a body that is not JSON is
``body is not valid JSON (...)``. ``keep_wire_body`` (a botocore ``before-parse`` handler)
parses each 2xx body itself, once, in botocore's stead: a GetTrainedModel body is handed on
exactly as it came over the wire (botocore's parser would coerce ``true`` to 1, ``86400.9``
to 86400 and ``"3600"`` to 3600, so a mistyped value could pass a policy), for
``auditor.documents`` to check; list items keep their wire values too (only their ids are
read). Bodies larger than ``MAX_RESPONSE_BYTES`` are cut off as they are read
(``transport``), and refused by ``Content-Length`` here for any other client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiohttp
from botocore import exceptions as boto
from botocore.model import Shape
from botocore.parsers import ResponseParserError

from auditor.crawler.api import Operation, Page
from auditor.crawler.redact import redact
from auditor.documents import MALFORMED_RESPONSE, iso8601
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

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
SERVER_CODES = frozenset(
    {
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
    }
)
CREDENTIALS_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "AuthFailure",
        "RequestExpired",
    }
)
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "Forbidden"})
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NotFound", "NotFoundException"})

# The largest body accepted. The largest documented GetTrainedModel (100 hyperparameters of
# 5 KiB, 100 environment variables, 50 tags) is well under 1 MiB; anything larger is not AWS.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_PARSER_MODULES = frozenset({"botocore.parsers", "aiobotocore.parsers"})

_CREDENTIAL_EXCEPTIONS = (
    boto.NoCredentialsError,
    boto.PartialCredentialsError,
    boto.CredentialRetrievalError,
    boto.TokenRetrievalError,
    boto.SSOError,
    boto.NoAuthTokenError,
)
_CONNECTION_EXCEPTIONS = (
    boto.HTTPClientError,  # ReadTimeout, ConnectionClosed, ResponseStreamingError, ...
    boto.ConnectionError,  # EndpointConnection, ConnectTimeout, SSL, Proxy
    boto.IncompleteReadError,
    aiohttp.ClientError,
    asyncio.IncompleteReadError,
    TimeoutError,
    OSError,
)


def translate_error(operation: Operation | str, exc: BaseException) -> ApiError:
    """The ``ApiError`` a failed call stands for; unknown exceptions become non-retryable."""
    op = str(operation)
    if isinstance(exc, ApiError):
        exc.message = redact(exc.message)
        return exc
    if isinstance(exc, boto.ClientError):
        return _from_client_error(op, exc)
    text = redact(str(exc) or type(exc).__name__)
    if isinstance(exc, _CREDENTIAL_EXCEPTIONS):
        return CredentialsError(op, type(exc).__name__, text)
    if isinstance(exc, ResponseParserError):
        return MalformedResponseError(op, "MalformedResponse", text)
    problem = _parse_failure(exc)
    if problem is not None:
        # botocore's parser assumes the documented shape: a list where a map belongs raises
        # AttributeError, an unparseable timestamp ValueError
        return MalformedResponseError(op, "MalformedResponse", problem)
    if isinstance(exc, _CONNECTION_EXCEPTIONS):
        return ConnectionFailure(op, type(exc).__name__, text)
    if isinstance(exc, boto.ParamValidationError):
        return RequestRejectedError(op, "ParamValidationError", text)
    return RequestRejectedError(op, type(exc).__name__, text)


def is_parser_failure(exc: BaseException) -> bool:
    """Whether ``exc`` escaped botocore's response parser (a body of the wrong shape)."""
    return _parse_failure(exc) is not None


def _parse_failure(exc: BaseException) -> str | None:
    """When ``exc`` escaped botocore's response parser: where and why, as
    ``"tags: expected map, got list"`` (from the parser's own frames: the outer ones name
    the members being parsed, the innermost one the shape it failed on). None otherwise."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") in _PARSER_MODULES:
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    if not frames:
        return None
    path = ""
    for frame in frames[:-1]:
        local = frame.f_locals
        if frame.f_code.co_name == "_handle_structure" and isinstance(
            local.get("member_name"), str
        ):
            path = f"{path}.{local['member_name']}" if path else local["member_name"]
        elif frame.f_code.co_name == "_handle_map" and isinstance(local.get("key"), str):
            path += f"[{_short(local['key'], 40)!r}]"
        elif frame.f_code.co_name == "_handle_list":
            path += "[]"
    failed = frames[-1].f_locals
    shape = failed.get("shape")
    value = failed.get("value", failed.get("node"))
    if isinstance(shape, Shape):
        return f"{path or 'body'}: expected {shape.type_name}, got {type(value).__name__}"
    return f"body does not match the API's shape ({_short(str(exc))})"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _from_client_error(op: str, exc: boto.ClientError) -> ApiError:
    response: Mapping[str, Any] = exc.response or {}
    error = response.get("Error") or {}
    code = _short(str(error.get("Code") or "Unknown"), 100)
    message = redact(_short(str(error.get("Message") or exc), 1000))
    raw_status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    status = raw_status if isinstance(raw_status, int) else None
    kind: type[ApiError]
    if code in THROTTLING_CODES or status == 429:
        kind = ThrottledError
    elif code in CREDENTIALS_CODES:
        kind = CredentialsError
    elif code in ACCESS_DENIED_CODES:
        kind = AccessDeniedError
    elif code in NOT_FOUND_CODES:
        kind = NotFoundError
    elif code in SERVER_CODES or (status is not None and status >= 500):
        kind = ServerError
    elif status == 403:
        kind = AccessDeniedError
    elif status == 404:
        kind = NotFoundError
    else:
        kind = RequestRejectedError
    return kind(op, code, message, status=status)


def plain(value: Any) -> Any:
    """A copy of a parsed response value with datetimes as ISO 8601 strings."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, datetime | date):
        return iso8601(value)
    return value


# Where ``keep_wire_body`` leaves what it read, in the dict botocore returns: no service
# member name has a colon, so it cannot collide with one.
WIRE_BODY = "auditor:wire-body"


@dataclass(frozen=True, slots=True)
class NotJson:
    """A 2xx body that does not parse as JSON, and why."""

    reason: str


def keep_wire_body(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore's ``before-parse`` event: parse a 2xx body as JSON, once, instead of botocore.

    What it holds (or ``NotJson``: botocore would read such a body as ``{"message": body}``)
    is kept under ``WIRE_BODY`` and botocore is handed an empty body, so it neither parses
    the body again nor coerces any value in it. Error responses are left to botocore.
    """
    if response_dict.get("status_code", 500) >= 300:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    try:
        value = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        if isinstance(exc, json.JSONDecodeError):
            reason = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
        else:
            reason = str(exc)
        customized_response_dict[WIRE_BODY] = NotJson(_short(reason))
        response_dict["body"] = b""
        return
    customized_response_dict[WIRE_BODY] = value
    response_dict["body"] = b""


def check_body(operation: Operation | str, response: Mapping[str, Any]) -> None:
    """Raises ``MalformedResponseError`` for a 200 that is not JSON or too large (judged by
    the ``Content-Length`` botocore recorded; an absent header passes)."""
    op = str(operation)
    if not isinstance(response, Mapping):
        raise MalformedResponseError(op, MALFORMED_RESPONSE, "body is not an object")
    wire = response.get(WIRE_BODY)
    if isinstance(wire, NotJson):
        raise MalformedResponseError(
            op, MALFORMED_RESPONSE, f"body is not valid JSON ({wire.reason})"
        )
    metadata = response.get("ResponseMetadata")
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    if not isinstance(headers, Mapping):
        return
    length = headers.get("content-length")
    if isinstance(length, str) and length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise MalformedResponseError(
            op,
            "ResponseTooLarge",
            f"body of {int(length)} bytes exceeds the {MAX_RESPONSE_BYTES}-byte limit",
        )


def _body(op: str, response: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object a response's body holds; raises ``MalformedResponseError`` for a body
    that is not JSON, too large, or no object."""
    check_body(op, response)
    if WIRE_BODY in response:
        body = response[WIRE_BODY]
    else:  # a client without ``keep_wire_body``: what botocore parsed
        body = {k: plain(v) for k, v in response.items() if k != "ResponseMetadata"}
    if not isinstance(body, dict):
        raise MalformedResponseError(op, MALFORMED_RESPONSE, "body is not a JSON object")
    return body


def to_document(operation: Operation | str, response: Mapping[str, Any]) -> dict[str, Any]:
    """A GetTrainedModel body as it came over the wire, parsed but not judged (that is
    ``auditor.documents.check_document``'s job).

    Raises ``MalformedResponseError`` unless it is a JSON object of sane size.
    """
    return _body(str(operation), response)


def to_page(operation: Operation | str, response: Mapping[str, Any], items_key: str) -> Page:
    """One list page; raises ``MalformedResponseError`` when the items list is missing."""
    op = str(operation)
    body = _body(op, response)
    items = body.get(items_key)
    if not isinstance(items, list):
        raise MalformedResponseError(op, MALFORMED_RESPONSE, f"body has no list {items_key!r}")
    if not all(isinstance(item, Mapping) for item in items):
        raise MalformedResponseError(op, MALFORMED_RESPONSE, f"{items_key!r} holds a non-object")
    token = body.get("nextToken")
    if token is not None and not isinstance(token, str):
        raise MalformedResponseError(op, MALFORMED_RESPONSE, "nextToken is not a string")
    return Page(items=tuple(items), next_token=token or None)
