"""The SDK's HTTP transport with a cap on the bytes of every response body it reads.

aiobotocore reads a whole body into memory inside ``AIOHTTPSession.send`` (``await
http_response.content``, i.e. ``aiohttp.ClientResponse.read()``), whatever its size and
whether or not it has a ``Content-Length``: a chunked 60 MB answer would be buffered, then
parsed, before anything could look at it. ``CappedAIOHTTPSession`` is plugged in through
aiobotocore's supported extension point for the transport, ``AioConfig(http_session_cls=...)``
(the same one that selects its httpx transport). It asks the stock session to send the request
and return the response *unread* (as it does for streaming operations), then reads the body
itself in ``READ_CHUNK_BYTES`` pieces: a declared ``Content-Length`` over the cap is refused
before a byte is read, and an undeclared (chunked) body is cut off as soon as the bytes read
pass the cap, its connection closed rather than drained. Memory per response is thus bounded by
the cap plus one chunk. The refusal is ``ResponseTooLargeError``, which ``auditor.crawler.aws`` turns
into a ``MalformedResponseError`` (code ``ResponseTooLarge``) for that one resource.

Everything else (connection pool, TLS, proxies, timeouts, the mapping of aiohttp's failures to
botocore's ``ConnectionClosedError``/``ReadTimeoutError``) is the stock session's; the few
failures that can now happen while this module reads the body are mapped the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from aiobotocore.awsrequest import AioAWSResponse
from aiobotocore.httpsession import AIOHTTPSession
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from auditor.crawler.translate import MAX_RESPONSE_BYTES

READ_CHUNK_BYTES = 64 * 1024


class ResponseTooLargeError(Exception):
    """A response body over the cap: ``declared`` is its Content-Length (None when chunked),
    ``received`` the bytes read before it was cut off."""

    def __init__(self, limit: int, *, declared: int | None, received: int) -> None:
        self.limit = limit
        self.declared = declared
        self.received = received
        if declared is not None:
            message = f"body of {declared} bytes exceeds the {limit}-byte limit"
        else:
            message = (
                f"body exceeds the {limit}-byte limit (no Content-Length; cut off after "
                f"{received} bytes)"
            )
        super().__init__(message)


class _ReadBody:
    """The ``raw`` of a response whose body has been read already."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self) -> bytes:
        return self._body


class CappedAIOHTTPSession(AIOHTTPSession):  # type: ignore[misc]  # untyped
    """aiobotocore's aiohttp session, reading each buffered body under ``max_body_bytes``."""

    max_body_bytes = MAX_RESPONSE_BYTES

    async def send(self, request: Any) -> Any:
        if request.stream_output:  # the caller streams the body itself: nothing to buffer
            return await super().send(request)
        request.stream_output = True  # send it, leave the body unread: it is read below
        try:
            response = await super().send(request)
        finally:
            request.stream_output = False
        body = await self._read_capped(request, response.raw, response.headers)
        return AioAWSResponse(response.url, response.status_code, response.headers, _ReadBody(body))

    async def _read_capped(
        self, request: Any, raw: aiohttp.ClientResponse, headers: Mapping[str, str]
    ) -> bytes:
        """The whole body; raises ``ResponseTooLargeError`` past the cap, botocore's
        ``ReadTimeoutError``/``ConnectionClosedError`` when the body does not arrive whole.
        The connection goes back to the pool only after a complete body; otherwise (any
        exception, cancellation included) it is closed, never drained."""
        try:
            body = await self._read_body(raw, _content_length(headers))
        except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
            raw.close()
            raise ReadTimeoutError(endpoint_url=request.url, error=exc) from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            raw.close()
            raise ConnectionClosedError(
                error=exc, request=request, endpoint_url=request.url
            ) from exc
        except BaseException:
            raw.close()
            raise
        raw.release()
        return body

    async def _read_body(self, raw: aiohttp.ClientResponse, declared: int | None) -> bytes:
        limit = self.max_body_bytes
        if declared is not None and declared > limit:
            raise ResponseTooLargeError(limit, declared=declared, received=0)
        chunks: list[bytes] = []
        received = 0
        while chunk := await raw.content.read(READ_CHUNK_BYTES):
            received += len(chunk)
            if received > limit:
                raise ResponseTooLargeError(limit, declared=declared, received=received)
            chunks.append(chunk)
        return b"".join(chunks)


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None
