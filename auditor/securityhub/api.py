"""The seam between ``publish`` and AWS Security Hub: the only two calls it may make.

``SecurityHubApi`` is all the publisher knows; ``AwsSecurityHubApi`` implements it over
aioboto3 with the crawler's client configuration (SDK retries off: ``publish`` paces and
retries with the crawler's own rate controller and retry loop). Every method raises only
``auditor.errors.ApiError`` subclasses, translated once by the crawler's translator.

aioboto3 rather than plain boto3: the rate controller's ``Pacer`` and ``call_with_retry``
are async (anyio), so the crawler's pacing, retrying and error translation are reused as
they are, with one SDK stack and one client configuration for both commands.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import aioboto3

from auditor.crawler import redact
from auditor.crawler.aws import _remember_credentials as remember_credentials
from auditor.crawler.aws import client_config
from auditor.crawler.translate import translate_error
from auditor.errors import MalformedResponseError, UsageError

PAGE_SIZE = 100  # GetFindings' documented maximum


class Operation(StrEnum):
    """The only Security Hub operations ``publish`` may call (its IAM policy allows these)."""

    GET_FINDINGS = "GetFindings"
    BATCH_IMPORT_FINDINGS = "BatchImportFindings"


@dataclass(frozen=True, slots=True)
class FindingsPage:
    """One page of ``GetFindings``: raw findings (untrusted) and the next token, if any."""

    findings: tuple[Mapping[str, Any], ...]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class FailedFinding:
    """A finding ``BatchImportFindings`` refused, as it said."""

    id: str
    code: str
    message: str


class SecurityHubApi(Protocol):
    """Security Hub as ``publish`` uses it, for one account and region."""

    async def get_findings(
        self, filters: Mapping[str, Any], *, next_token: str | None
    ) -> FindingsPage: ...

    async def batch_import_findings(
        self, findings: Sequence[Mapping[str, Any]]
    ) -> tuple[FailedFinding, ...]: ...


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class AwsSecurityHubApi:
    """``SecurityHubApi`` over an aioboto3 ``securityhub`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def get_findings(
        self, filters: Mapping[str, Any], *, next_token: str | None
    ) -> FindingsPage:
        params: dict[str, Any] = {"Filters": dict(filters), "MaxResults": PAGE_SIZE}
        if next_token:
            params["NextToken"] = next_token
        op = Operation.GET_FINDINGS
        try:
            response = await self._client.get_findings(**params)
        except Exception as exc:
            raise translate_error(op, exc) from exc
        findings = response.get("Findings")
        if not isinstance(findings, list):
            raise MalformedResponseError(op, "MalformedResponse", "Findings is not a list")
        token = response.get("NextToken")
        return FindingsPage(
            findings=tuple(item for item in findings if isinstance(item, dict)),
            next_token=token if isinstance(token, str) and token else None,
        )

    async def batch_import_findings(
        self, findings: Sequence[Mapping[str, Any]]
    ) -> tuple[FailedFinding, ...]:
        op = Operation.BATCH_IMPORT_FINDINGS
        try:
            response = await self._client.batch_import_findings(Findings=list(findings))
        except Exception as exc:
            raise translate_error(op, exc) from exc
        failed = response.get("FailedFindings") or []
        if not isinstance(failed, list):
            raise MalformedResponseError(op, "MalformedResponse", "FailedFindings is not a list")
        return tuple(
            FailedFinding(
                id=_text(item.get("Id")),
                code=_text(item.get("ErrorCode")) or "Unknown",
                message=redact.redact(_text(item.get("ErrorMessage"))),
            )
            for item in failed
            if isinstance(item, dict)
        )


def configured_region(session: aioboto3.Session, region_name: str | None) -> str:
    """``--region``, else the SDK's configured region, else ``AWS_REGION`` (as the crawler).

    Raises ``UsageError`` when there is none.
    """
    region = region_name or session.region_name or os.environ.get("AWS_REGION")
    if not region:
        raise UsageError("no AWS region: pass --region or set AWS_REGION / a profile region")
    return region


@asynccontextmanager
async def open_security_hub(
    *, session: aioboto3.Session, region: str
) -> AsyncIterator[AwsSecurityHubApi]:
    """The real Security Hub of ``region``, its HTTP pool closed on exit. Endpoint and
    credentials are the SDK's own (``AWS_ENDPOINT_URL_SECURITYHUB``, profiles, ...)."""
    redact.install()
    await remember_credentials(session)
    config = client_config(max_pool_connections=4)
    async with session.client("securityhub", region_name=region, config=config) as client:
        yield AwsSecurityHubApi(client)
