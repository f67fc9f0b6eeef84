"""Opaque, tamper-evident page tokens and ``maxResults`` validation.

A token is URL-safe base64 of ``"<offset>.<mac>"``, the MAC a keyed BLAKE2b over the
operation, the listing's scope (membership id or model ARN) and the offset. A token
altered, forged, or replayed against another listing fails validation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

MIN_RESULTS = 1
MAX_RESULTS = 100
DEFAULT_RESULTS = 100


class PagingError(ValueError):
    """A ``maxResults`` or ``nextToken`` the API would reject with ValidationException."""


@dataclass(frozen=True, slots=True)
class Page:
    start: int
    stop: int
    next_token: str | None


class Pager:
    """Cuts listings into pages; ``page_cap`` makes the server return fewer than asked."""

    def __init__(self, page_cap: int | None = None, key: bytes | None = None) -> None:
        self._page_cap = page_cap
        self._key = key if key is not None else secrets.token_bytes(16)

    def _mac(self, operation: str, scope: str, offset: int) -> str:
        message = f"{operation}|{scope}|{offset}".encode()
        return hashlib.blake2b(message, key=self._key, digest_size=8).hexdigest()

    def token(self, operation: str, scope: str, offset: int) -> str:
        raw = f"{offset}.{self._mac(operation, scope, offset)}".encode()
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def offset(self, operation: str, scope: str, token: str) -> int:
        """The offset a token stands for; raises ``PagingError`` for anything not minted here."""
        try:
            offset_text, mac = base64.urlsafe_b64decode(token.encode("ascii")).decode().split(".")
            offset = int(offset_text)
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise PagingError("Invalid pagination token") from exc
        if offset < 0 or not hmac.compare_digest(mac, self._mac(operation, scope, offset)):
            raise PagingError("Invalid pagination token")
        return offset

    def page(
        self,
        operation: str,
        scope: str,
        total: int,
        max_results: str | None,
        next_token: str | None,
    ) -> Page:
        """The slice to serve; raises ``PagingError`` for a bad ``maxResults`` or token."""
        size = DEFAULT_RESULTS
        if max_results is not None:
            try:
                size = int(max_results)
            except ValueError as exc:
                raise PagingError(f"maxResults must be an integer, got {max_results!r}") from exc
            if not MIN_RESULTS <= size <= MAX_RESULTS:
                raise PagingError(
                    f"1 validation error detected: Value '{size}' at 'maxResults' failed to "
                    f"satisfy constraint: Member must have value between {MIN_RESULTS} and "
                    f"{MAX_RESULTS}"
                )
        if self._page_cap is not None:
            size = min(size, self._page_cap)
        start = 0 if next_token is None else self.offset(operation, scope, next_token)
        if start > total:
            raise PagingError("Invalid pagination token")
        stop = min(start + size, total)
        return Page(start, stop, self.token(operation, scope, stop) if stop < total else None)
