"""``CleanRoomsApi`` over aioboto3: the SDK's own configuration, auditor's own retries.

The session supplies profiles, the credential chain, the region and the endpoint overrides
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_CLEANROOMS``, ``AWS_ENDPOINT_URL_CLEANROOMSML``);
nothing here re-reads them. botocore's retries are off (one attempt per call) because
``auditor.crawler.retry`` and ``auditor.crawler.ratecontrol`` own retrying and pacing. The
HTTP transport is ``auditor.crawler.transport``'s, which caps the bytes of every body read.
Each body is then read by ``translate.keep_wire_body`` before botocore parses it, so a
GetTrainedModel record is judged as it came over the wire.

Only the exceptions the SDK raises for a failed call are translated into ``ApiError``s
(``SDK_ERRORS``, and botocore's parser failing on a body of the wrong shape); anything else
is a bug and propagates.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp

from auditor.crawler import redact
from auditor.crawler.api import RELATED_OPERATIONS, Operation, Page
from auditor.crawler.translate import (
    is_parser_failure,
    keep_wire_body,
    to_document,
    to_page,
    translate_error,
)
from auditor.crawler.transport import CappedAIOHTTPSession, ResponseTooLargeError
from auditor.errors import MalformedResponseError, UsageError

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the documented maximum of every list operation used here

# What a call through the SDK raises when it fails: the service's answer (ClientError), the
# SDK's own failures (BotoCoreError: connection, timeout, credentials, ...), and the transport
# and socket errors that escape it.
SDK_ERRORS: tuple[type[BaseException], ...] = (
    boto.ClientError,
    boto.BotoCoreError,
    ResponseParserError,
    aiohttp.ClientError,
    TimeoutError,  # asyncio.TimeoutError is the same class
    OSError,
)
# What botocore's response parser raises on a body of the wrong shape (a list where a map
# belongs, a timestamp that is not one); raised from anywhere else, they are bugs.
_PARSER_ERRORS = (AttributeError, TypeError, ValueError)


def client_config(
    *, max_pool_connections: int, connect_timeout: float = 5.0, read_timeout: float = 30.0
) -> AioConfig:
    """SDK settings: no SDK retries, a pool as large as the crawl's concurrency, the capped
    transport (``auditor.crawler.transport``).

    No client-side parameter validation: the crawler builds every request itself from
    strings the service returned, and the service validates anyway (~5% of a call's CPU).
    """
    return AioConfig(
        http_session_cls=CappedAIOHTTPSession,
        retries={"total_max_attempts": 1, "mode": "standard"},
        parameter_validation=False,
        max_pool_connections=max_pool_connections,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent_extra="auditor-crawler",
    )


class AwsCleanRoomsApi:
    """Clean Rooms and Clean Rooms ML clients for one region; build with ``open_aws_api``."""

    def __init__(self, *, region: str, cleanrooms: Any, cleanroomsml: Any) -> None:
        self._region = region
        self._cleanrooms = cleanrooms
        self._cleanroomsml = cleanroomsml

    @property
    def region(self) -> str:
        return self._region

    async def list_memberships(self, *, status: str | None, next_token: str | None) -> Page:
        params: dict[str, Any] = {"maxResults": PAGE_SIZE}
        if status:
            params["status"] = status
        if next_token:
            params["nextToken"] = next_token
        op = Operation.LIST_MEMBERSHIPS
        response = await self._call(op, self._cleanrooms.list_memberships, params)
        return to_page(op, response, "membershipSummaries")

    async def list_trained_models(self, membership_id: str, *, next_token: str | None) -> Page:
        params: dict[str, Any] = {"membershipIdentifier": membership_id, "maxResults": PAGE_SIZE}
        if next_token:
            params["nextToken"] = next_token
        op = Operation.LIST_TRAINED_MODELS
        response = await self._call(op, self._cleanroomsml.list_trained_models, params)
        return to_page(op, response, "trainedModels")

    async def list_trained_model_versions(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        params: dict[str, Any] = {
            "membershipIdentifier": membership_id,
            "trainedModelArn": model_arn,
            "maxResults": PAGE_SIZE,
        }
        if next_token:
            params["nextToken"] = next_token
        op = Operation.LIST_TRAINED_MODEL_VERSIONS
        response = await self._call(op, self._cleanroomsml.list_trained_model_versions, params)
        return to_page(op, response, "trainedModels")

    async def get_trained_model(
        self, membership_id: str, model_arn: str, *, version_identifier: str | None
    ) -> Mapping[str, Any]:
        params: dict[str, Any] = {
            "membershipIdentifier": membership_id,
            "trainedModelArn": model_arn,
        }
        if version_identifier:
            params["versionIdentifier"] = version_identifier
        op = Operation.GET_TRAINED_MODEL
        response = await self._call(op, self._cleanroomsml.get_trained_model, params)
        return to_document(op, response)

    async def list_collaboration_trained_models(
        self, collaboration_id: str, *, next_token: str | None
    ) -> Page:
        params: dict[str, Any] = {
            "collaborationIdentifier": collaboration_id,
            "maxResults": PAGE_SIZE,
        }
        if next_token:
            params["nextToken"] = next_token
        op = Operation.LIST_COLLABORATION_TRAINED_MODELS
        method = self._cleanroomsml.list_collaboration_trained_models
        response = await self._call(op, method, params)
        return to_page(op, response, "collaborationTrainedModels")

    async def get_collaboration_trained_model(
        self, collaboration_id: str, model_arn: str, *, version_identifier: str | None
    ) -> Mapping[str, Any]:
        params: dict[str, Any] = {
            "collaborationIdentifier": collaboration_id,
            "trainedModelArn": model_arn,
        }
        if version_identifier:
            params["versionIdentifier"] = version_identifier
        op = Operation.GET_COLLABORATION_TRAINED_MODEL
        method = self._cleanroomsml.get_collaboration_trained_model
        response = await self._call(op, method, params)
        return to_document(op, response)

    async def get_related(
        self, operation: Operation, arn: str, *, membership_id: str | None
    ) -> Mapping[str, Any]:
        method_name, arn_param = _RELATED_READS[operation]
        params: dict[str, Any] = {arn_param: arn}
        if operation is not Operation.GET_CONFIGURED_MODEL_ALGORITHM:
            params["membershipIdentifier"] = membership_id
        method = getattr(self._cleanroomsml, method_name)
        return to_document(operation, await self._call(operation, method, params))

    async def list_trained_model_inference_jobs(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        params: dict[str, Any] = {
            "membershipIdentifier": membership_id,
            "trainedModelArn": model_arn,
            "maxResults": PAGE_SIZE,
        }
        if next_token:
            params["nextToken"] = next_token
        op = Operation.LIST_TRAINED_MODEL_INFERENCE_JOBS
        method = self._cleanroomsml.list_trained_model_inference_jobs
        return to_page(op, await self._call(op, method, params), "trainedModelInferenceJobs")

    @staticmethod
    async def _call(op: Operation, method: Any, params: dict[str, Any]) -> Mapping[str, Any]:
        try:
            response: Mapping[str, Any] = await method(**params)
        except ResponseTooLargeError as exc:
            raise MalformedResponseError(op, "ResponseTooLarge", str(exc)) from exc
        except SDK_ERRORS as exc:
            raise translate_error(op, exc) from exc
        except _PARSER_ERRORS as exc:
            if not is_parser_failure(exc):
                raise
            raise translate_error(op, exc) from exc
        return response


# operation -> (the client's method, the request member naming the resource's ARN)
_RELATED_READS: dict[Operation, tuple[str, str]] = {
    Operation.GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION: (
        "get_configured_model_algorithm_association",
        "configuredModelAlgorithmAssociationArn",
    ),
    Operation.GET_CONFIGURED_MODEL_ALGORITHM: (
        "get_configured_model_algorithm",
        "configuredModelAlgorithmArn",
    ),
    Operation.GET_ML_INPUT_CHANNEL: ("get_ml_input_channel", "mlInputChannelArn"),
    Operation.GET_TRAINED_MODEL_INFERENCE_JOB: (
        "get_trained_model_inference_job",
        "trainedModelInferenceJobArn",
    ),
}


def _parse_timestamp(value: Any) -> datetime:
    # botocore's default goes through dateutil (~0.1 ms a field, a fifth of a crawl's CPU);
    # ISO 8601 as AWS sends it parses in C, anything else takes botocore's own path
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed


def _use_fast_timestamps(session: aioboto3.Session) -> None:
    botocore_session = getattr(session, "_session", None)
    if botocore_session is not None:
        factory = botocore_session.get_component("response_parser_factory")
        factory.set_parser_defaults(timestamp_parser=_parse_timestamp)


async def _remember_credentials(session: aioboto3.Session) -> None:
    """Register the credentials the session will sign with, so nothing prints them.

    When the credential chain fails here it will fail the same way on the first call,
    which reports it; there is nothing to remember meanwhile.
    """
    try:
        credentials = await session.get_credentials()
        if credentials is None:
            return
        frozen = await credentials.get_frozen_credentials()
    except SDK_ERRORS as exc:
        log.debug("credentials not resolved before the scan: %s", type(exc).__name__)
        return
    redact.remember((frozen.access_key, frozen.secret_key, frozen.token))


def _keep_wire_bodies(client: Any, operations: tuple[Operation, ...]) -> None:
    """Hand each of ``operations``' bodies to ``keep_wire_body`` before botocore parses it."""
    service_id = client.meta.service_model.service_id.hyphenize()
    for operation in operations:
        client.meta.events.register(f"before-parse.{service_id}.{operation}", keep_wire_body)


def _freeze_user_agent(client: Any) -> None:
    # botocore rebuilds the User-Agent header twice a request, sanitising every component
    # each time (~10% of a call's CPU); the string only varies by per-request feature ids,
    # which are telemetry, so it is built once per client
    creator = getattr(client, "_user_agent_creator", None)
    if creator is not None and callable(getattr(creator, "to_string", None)):
        user_agent: str = creator.to_string()
        creator.to_string = lambda: user_agent


@asynccontextmanager
async def open_aws_api(
    *,
    session: aioboto3.Session | None = None,
    profile_name: str | None = None,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    cleanroomsml_endpoint_url: str | None = None,
    max_pool_connections: int = 32,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
) -> AsyncIterator[AwsCleanRoomsApi]:
    """The real API for one region, its HTTP pools closed on exit.

    ``endpoint_url`` / ``cleanroomsml_endpoint_url`` are explicit overrides only (a CLI flag);
    without them the SDK's own endpoint configuration applies. Raises ``UsageError`` when no
    region is given or configured.
    """
    if session is None:
        session = aioboto3.Session(profile_name=profile_name)
    # a session passed in (``auditor scan`` shares one across regions) needs it as much
    _use_fast_timestamps(session)
    # botocore reads AWS_DEFAULT_REGION but not AWS_REGION, which every other AWS SDK and
    # the AWS CLI v2 honour; fall back to it so `AWS_REGION=... auditor scan` works
    redact.install()
    await _remember_credentials(session)
    region = region_name or session.region_name or os.environ.get("AWS_REGION")
    if not region:
        raise UsageError("no AWS region: pass --region or set AWS_REGION / a profile region")
    config = client_config(
        max_pool_connections=max_pool_connections,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    overrides_cr: dict[str, Any] = {"endpoint_url": endpoint_url} if endpoint_url else {}
    ml_url = cleanroomsml_endpoint_url or endpoint_url
    overrides_ml: dict[str, Any] = {"endpoint_url": ml_url} if ml_url else {}
    async with AsyncExitStack() as stack:
        cleanrooms = await stack.enter_async_context(
            session.client("cleanrooms", region_name=region, config=config, **overrides_cr)
        )
        cleanroomsml = await stack.enter_async_context(
            session.client("cleanroomsml", region_name=region, config=config, **overrides_ml)
        )
        _freeze_user_agent(cleanrooms)
        _freeze_user_agent(cleanroomsml)
        _keep_wire_bodies(cleanrooms, (Operation.LIST_MEMBERSHIPS,))
        _keep_wire_bodies(
            cleanroomsml,
            (
                Operation.GET_TRAINED_MODEL,
                Operation.LIST_TRAINED_MODELS,
                Operation.LIST_TRAINED_MODEL_VERSIONS,
                Operation.LIST_COLLABORATION_TRAINED_MODELS,
                Operation.GET_COLLABORATION_TRAINED_MODEL,
                *RELATED_OPERATIONS,
            ),
        )
        yield AwsCleanRoomsApi(region=region, cleanrooms=cleanrooms, cleanroomsml=cleanroomsml)
