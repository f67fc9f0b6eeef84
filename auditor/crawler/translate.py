"""The crawler boundary: botocore's exceptions and response shapes in, auditor's out.

``translate_error`` is the one place a botocore or transport exception becomes an
``auditor.errors.ApiError``; ``to_document`` and ``to_page`` turn parsed responses into the
plain JSON-like values the rest of auditor sees (ISO 8601 UTC timestamps, no
``ResponseMetadata``), raising ``MalformedResponseError`` when a body is not what the API
documents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError

from auditor.crawler.api import Operation, Page
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
        return exc
    if isinstance(exc, boto.ClientError):
        return _from_client_error(op, exc)
    if isinstance(exc, _CREDENTIAL_EXCEPTIONS):
        return CredentialsError(op, type(exc).__name__, str(exc))
    if isinstance(exc, ResponseParserError):
        return MalformedResponseError(op, "MalformedResponse", str(exc))
    if isinstance(exc, _CONNECTION_EXCEPTIONS):
        return ConnectionFailure(op, type(exc).__name__, str(exc) or type(exc).__name__)
    if isinstance(exc, boto.ParamValidationError):
        return RequestRejectedError(op, "ParamValidationError", str(exc))
    return RequestRejectedError(op, type(exc).__name__, str(exc))


def _from_client_error(op: str, exc: boto.ClientError) -> ApiError:
    response: Mapping[str, Any] = exc.response or {}
    error = response.get("Error") or {}
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or exc)
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


def to_document(operation: Operation | str, response: Mapping[str, Any]) -> dict[str, Any]:
    """A GetTrainedModel body as ``auditor evaluate --input`` sees it.

    Raises ``MalformedResponseError`` unless it is an object with a string ``trainedModelArn``.
    """
    if not isinstance(response, Mapping):
        raise MalformedResponseError(str(operation), "MalformedResponse", "body is not an object")
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
    items = response.get(items_key) if isinstance(response, Mapping) else None
    if not isinstance(items, list):
        raise MalformedResponseError(op, "MalformedResponse", f"body has no list {items_key!r}")
    if not all(isinstance(item, Mapping) for item in items):
        raise MalformedResponseError(op, "MalformedResponse", f"{items_key!r} holds a non-object")
    token = response.get("nextToken")
    if token is not None and not isinstance(token, str):
        raise MalformedResponseError(op, "MalformedResponse", "nextToken is not a string")
    return Page(items=tuple(plain(item) for item in items), next_token=token or None)
