"""The emulator's knobs: rate limits, latency, injected errors and faults (all off by default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: refills ``rate`` tokens per second up to ``burst`` tokens."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {self.rate}, {self.burst}")


class FaultKind(StrEnum):
    """A way a response can go wrong on the wire (beyond a clean AWS error)."""

    RESET = "reset"  # connection reset after part of the body
    TRUNCATED = "truncated"  # Content-Length promises more than is sent, then a clean close
    NOT_JSON = "not-json"  # 200 with an HTML body
    CUT_JSON = "cut-json"  # 200 with the first half of the JSON body, framed as complete
    WRONG_TYPES = "wrong-types"  # 200 JSON whose fields have the wrong types
    HUGE = "huge"  # 200 JSON of valid shape padded to ``huge_bytes``
    HUGE_CHUNKED = "huge-chunked"  # the same, streamed chunked (no Content-Length)
    SLOW = "slow"  # the normal response, after ``delay_s`` more seconds
    SERVER_ERROR = "5xx"  # 503 ServiceUnavailableException instead of the response
    REJECT_TOKEN = "reject-token"  # 400 "Invalid pagination token" for requests with a nextToken
    REPEAT_TOKEN = "repeat-token"  # a page asked for with a nextToken answers that same token


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; ``times`` limits it to the first N matching requests (None: always)
    and ``duration_s`` to the seconds after its first matching request (a storm that ends).

    ``fields`` (``WRONG_TYPES`` only) replaces the default type swapping with exact changes:
    dotted paths into the body (``"resourceConfig.instanceType"``) and the values to put there,
    e.g. ``{"tags": [["team", "ml"]], "createTime": "yesterday"}``.
    """

    kind: FaultKind
    times: int | None = None
    delay_s: float = 5.0
    huge_bytes: int = 8 * 1024 * 1024
    duration_s: float | None = None
    fields: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """How the emulator misbehaves. The default is a fast, faithful, well-behaved AWS.

    ``rate_limits`` maps an AWS operation name (``GetTrainedModel``) to its own bucket;
    every other operation gets its own bucket shaped by ``rate_limit`` when that is set.
    ``faults`` is keyed by a model ARN, a ``"<model ARN>#<version id>"``, a membership id
    or an operation name; the most specific key that matches a request wins.

    Several accounts: a request's account is found from its SigV4 access key id, first in
    ``accounts`` (access key id -> account id), then, when ``identity_url`` is set, by asking
    that STS endpoint's ``GetCallerIdentity`` as the caller (what a real service does with
    IAM; moto's server answers it for the keys its ``AssumeRole`` handed out). With either
    set, a caller sees only its own account's memberships and an unknown key is refused as
    AWS refuses one (403 ``UnrecognizedClientException``). ``deny_accounts`` answers every
    request of those accounts with 403 ``AccessDeniedException``; ``account_rate_limits``
    gives an account per-operation buckets of its own (AWS limits are per account and
    region); ``disabled_regions`` answers as a region that is not enabled does.
    ``expire_credentials`` maps an access key id to the number of requests it may make; every
    later request signed with it answers 403 ``ExpiredTokenException`` (credentials expiring
    mid-scan).
    """

    rate_limit: RateLimit | None = None
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    seed: int = 0
    page_cap: int | None = None
    deny_memberships: frozenset[str] = frozenset()
    # collaboration ids whose collaboration APIs answer AccessDeniedException
    deny_collaborations: frozenset[str] = frozenset()
    vanish_models: frozenset[str] = frozenset()
    faults: Mapping[str, Fault] = field(default_factory=dict)
    region_scoped: bool = True
    accounts: Mapping[str, str] = field(default_factory=dict)
    identity_url: str | None = None
    deny_accounts: frozenset[str] = frozenset()
    account_rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    disabled_regions: frozenset[str] = frozenset()
    expire_credentials: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within [0, 1], got {self.error_rate}")
        if self.page_cap is not None and self.page_cap < 1:
            raise ValueError(f"page_cap must be >= 1, got {self.page_cap}")

    @property
    def account_scoped(self) -> bool:
        """Whether callers are told apart by account (else every caller sees every account)."""
        return bool(self.accounts) or self.identity_url is not None

    def limit_for(self, operation: str) -> RateLimit | None:
        return self.rate_limits.get(operation, self.rate_limit)
