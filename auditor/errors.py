"""Every exception auditor raises on purpose, in one hierarchy.

::

    AuditorError                      base; the CLI turns each into a message and exit code
    +-- UsageError                    bad flag or configuration; exit 2, nothing scanned
    |   +-- PackError                 a policy pack that cannot be loaded or is invalid
    |   +-- WaiverFileError           a waivers file that cannot be loaded or is invalid
    |   +-- ReportInputError          a saved report.json that cannot be read back
    |   +-- InputFileError            a named file that is not a file, too big or too deep
    +-- InputRecordError              one malformed record in `auditor evaluate --input`
    +-- ApiError                      an AWS call that failed for good (after retries)
        +-- RetryableApiError         throttling, 5xx, connection trouble: retried first
        |   +-- ThrottledError
        |   +-- ServerError
        |   +-- ConnectionFailure
        +-- AccessDeniedError         not retried: becomes an ``errors`` entry
        +-- NotFoundError             not retried: the resource vanished
        +-- RequestRejectedError      ValidationException and other 4xx: not retried
        +-- CredentialsError          expired or missing credentials: not retried
        +-- MalformedResponseError    a 200 whose body is not what the API documents
        +-- DeadlineExceededError     the scan's --timeout passed before the call could succeed
        +-- ScanInterruptedError      SIGINT/SIGTERM stopped the scan before the call was made

Only the crawler raises ``ApiError``s: it translates botocore's exceptions once, at its
boundary (``raise X from exc``).
"""

from __future__ import annotations


class AuditorError(Exception):
    """Base of every deliberate auditor error."""


class UsageError(AuditorError):
    """A usage or configuration problem: the CLI exits 2 before scanning anything."""


class PackError(UsageError):
    """A policy pack that cannot be used; the message names file, line, policy and JSON path."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        policy_id: str | None = None,
        json_path: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.policy_id = policy_id
        self.json_path = json_path
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<pack>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.policy_id:
            parts.append(f"policy {self.policy_id!r}")
        if self.json_path:
            parts.append(f"at {self.json_path}")
        return f"{': '.join(parts)}: {self.detail}"


class WaiverFileError(UsageError):
    """A waivers file that cannot be read or does not validate."""


class ReportInputError(UsageError):
    """A saved report.json (for `report`, `diff`, `merge`, `--baseline`) that cannot be read."""


class InputFileError(UsageError):
    """A file named on the command line that cannot be read within bounds (a folder, a
    device, binary data, over its size or nesting limit); the message is one line."""


class InputRecordError(AuditorError):
    """One record of `auditor evaluate --input` that is not a GetTrainedModel response."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class ApiError(AuditorError):
    """An AWS API call that failed for good."""

    retryable = False

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        *,
        attempts: int = 1,
        status: int | None = None,
    ) -> None:
        self.operation = operation
        self.code = code
        self.message = message
        self.attempts = attempts
        self.status = status
        super().__init__(f"{operation}: {code}: {message}")


class RetryableApiError(ApiError):
    """A failure worth retrying: the same call may succeed later."""

    retryable = True


class ThrottledError(RetryableApiError):
    """The service said slow down (ThrottlingException, HTTP 429)."""


class ServerError(RetryableApiError):
    """The service failed (HTTP 5xx, InternalServerException)."""


class ConnectionFailure(RetryableApiError):
    """The request or response was lost on the wire (reset, timeout, truncated body)."""


class AccessDeniedError(ApiError):
    """The caller may not read this resource."""


class NotFoundError(ApiError):
    """The resource does not exist (any more)."""


class RequestRejectedError(ApiError):
    """The service rejected the request itself (ValidationException and other 4xx)."""


class CredentialsError(ApiError):
    """Credentials are missing, invalid or expired."""


class MalformedResponseError(ApiError):
    """A successful response whose body is not what the API documents."""


class DeadlineExceededError(ApiError):
    """The scan's deadline passed before this call could succeed (not retried)."""


class ScanInterruptedError(ApiError):
    """The scan was told to stop (SIGINT/SIGTERM) before this call could succeed."""
