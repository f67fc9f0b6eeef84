"""The crawler boundary: botocore's exceptions and response shapes in, auditor's out.

``translate_error`` is the one place a botocore or transport exception becomes an
``auditor.errors.ApiError``; ``to_document`` and ``to_page`` turn parsed responses into the
plain JSON-like values the rest of auditor sees (ISO 8601 UTC timestamps, no
``ResponseMetadata``), raising ``MalformedResponseError`` when a body is not what the API
documents. Every message that leaves here passes through ``redact`` (a service may echo
the caller's access key id).

A 200 is only trusted when it is JSON (by ``Content-Type``), no larger than
``MAX_RESPONSE_BYTES`` (as read: ``transport``), parses, and (for ``GetTrainedModel``, whose
body is what policies judge) has the types the service model documents for every field it
has: a ``tags`` list or a numeric ``instanceType`` must never be judged as if it were data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
from botocore import exceptions as boto
from botocore.model import Shape
from botocore.parsers import ResponseParserError

from auditor.crawler.api import Operation, Page
from auditor.crawler.redact import redact
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


def iso8601(moment: datetime | date) -> str:
    """``2026-01-01T00:00:00Z``: UTC, fractional seconds only when there are some."""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """A copy of a parsed response value with datetimes as ISO 8601 strings."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, datetime | date):
        return iso8601(value)
    return value


def check_body(operation: Operation | str, response: Mapping[str, Any]) -> None:
    """Raises ``MalformedResponseError`` for a 200 that is not JSON or is too large, judged by
    the ``Content-Type`` and ``Content-Length`` botocore recorded (absent headers pass)."""
    op = str(operation)
    if not isinstance(response, Mapping):
        raise MalformedResponseError(op, "MalformedResponse", "body is not an object")
    metadata = response.get("ResponseMetadata")
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    if not isinstance(headers, Mapping):
        return
    content_type = headers.get("content-type")
    if isinstance(content_type, str) and "json" not in content_type.lower():
        raise MalformedResponseError(
            op, "MalformedResponse", f"body is not JSON (Content-Type {_short(content_type, 60)!r})"
        )
    length = headers.get("content-length")
    if isinstance(length, str) and length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise MalformedResponseError(
            op,
            "ResponseTooLarge",
            f"body of {int(length)} bytes exceeds the {MAX_RESPONSE_BYTES}-byte limit",
        )


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "timestamp": (datetime, date, str),
    "blob": (bytes, bytearray, str),
}


def shape_problem(shape: Shape, value: Any, path: str = "") -> str | None:
    """Where ``value`` (a parsed response) departs from ``shape``'s documented types, as
    ``"resourceConfig.instanceType: expected string, got int"``; None when it conforms.
    Members the model does not know are ignored (botocore drops them anyway)."""
    kind = shape.type_name
    where = path or "body"
    if kind == "structure":
        if not isinstance(value, Mapping):
            return f"{where}: expected an object, got {type(value).__name__}"
        members = shape.members
        for name, member_value in value.items():
            member = members.get(name)
            if member is None or member_value is None:
                continue
            problem = shape_problem(member, member_value, f"{path}.{name}" if path else name)
            if problem:
                return problem
        return None
    if kind == "list":
        if not isinstance(value, list):
            return f"{where}: expected a list, got {type(value).__name__}"
        item_shape = shape.member
        for index, item in enumerate(value):
            problem = shape_problem(item_shape, item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if kind == "map":
        if not isinstance(value, Mapping):
            return f"{where}: expected a map, got {type(value).__name__}"
        value_shape = shape.value
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where}: expected string keys, got {type(key).__name__}"
            problem = shape_problem(value_shape, item, f"{where}[{_short(key, 40)!r}]")
            if problem:
                return problem
        return None
    expected = _PYTHON_TYPES.get(kind)
    if expected is None:
        return None
    if isinstance(value, bool) and bool not in expected:
        return f"{where}: expected {kind}, got bool"
    if not isinstance(value, expected):
        return f"{where}: expected {kind}, got {type(value).__name__}"
    return None


def to_document(
    operation: Operation | str, response: Mapping[str, Any], shape: Shape | None = None
) -> dict[str, Any]:
    """A GetTrainedModel body as ``auditor evaluate --input`` sees it.

    Raises ``MalformedResponseError`` unless it is a JSON object of sane size with a string
    ``trainedModelArn`` and (given the operation's output ``shape``) the documented types.
    """
    check_body(operation, response)
    if shape is not None:
        problem = shape_problem(shape, response)  # ResponseMetadata is no member: skipped
        if problem:
            raise MalformedResponseError(str(operation), "MalformedResponse", problem)
    document = {k: plain(v) for k, v in response.items() if k != "ResponseMetadata"}
    arn = document.get("trainedModelArn")
    if not isinstance(arn, str) or not arn:
        raise MalformedResponseError(
            str(operation), "MalformedResponse", "body has no string trainedModelArn"
        )
    version = document.get("versionIdentifier")
    if version is not None and not isinstance(version, str):
        raise MalformedResponseError(
            str(operation), "MalformedResponse", "versionIdentifier is not a string"
        )
    return document


def to_page(operation: Operation | str, response: Mapping[str, Any], items_key: str) -> Page:
    """One list page; raises ``MalformedResponseError`` when the items list is missing."""
    op = str(operation)
    check_body(op, response)
    items = response.get(items_key) if isinstance(response, Mapping) else None
    if not isinstance(items, list):
        raise MalformedResponseError(op, "MalformedResponse", f"body has no list {items_key!r}")
    if not all(isinstance(item, Mapping) for item in items):
        raise MalformedResponseError(op, "MalformedResponse", f"{items_key!r} holds a non-object")
    token = response.get("nextToken")
    if token is not None and not isinstance(token, str):
        raise MalformedResponseError(op, "MalformedResponse", "nextToken is not a string")
    return Page(items=tuple(plain(item) for item in items), next_token=token or None)
