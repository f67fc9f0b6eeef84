"""The emulator's aiohttp application: routing, the read operations, knobs and faults."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

from auditor.emulator.catalog import (
    Catalog,
    CatalogCollaborationModel,
    CatalogMembership,
    CatalogModel,
    build_catalog,
)
from auditor.emulator.config import EmulatorConfig, Fault, FaultKind
from auditor.emulator.counters import Counters
from auditor.emulator.paging import Pager, PagingError
from auditor.emulator.throttle import Clock, Throttle
from auditor.emulator.wire import (
    CLEANROOMS,
    CLEANROOMS_ML,
    Caller,
    aws_operation_name,
    error_response,
    json_response,
    list_body,
    parse_authorization,
)
from auditor.fleet import Fleet

log = logging.getLogger(__name__)

LIST_MEMBERSHIPS = "ListMemberships"
LIST_TRAINED_MODELS = "ListTrainedModels"
LIST_TRAINED_MODEL_VERSIONS = "ListTrainedModelVersions"
GET_TRAINED_MODEL = "GetTrainedModel"
LIST_TAGS_FOR_RESOURCE = "ListTagsForResource"
LIST_COLLABORATION_TRAINED_MODELS = "ListCollaborationTrainedModels"
GET_COLLABORATION_TRAINED_MODEL = "GetCollaborationTrainedModel"
GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION = "GetConfiguredModelAlgorithmAssociation"
GET_CONFIGURED_MODEL_ALGORITHM = "GetConfiguredModelAlgorithm"
GET_ML_INPUT_CHANNEL = "GetMLInputChannel"
LIST_TRAINED_MODEL_INFERENCE_JOBS = "ListTrainedModelInferenceJobs"
GET_TRAINED_MODEL_INFERENCE_JOB = "GetTrainedModelInferenceJob"
RELATED_READS = frozenset(
    {
        GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION,
        GET_CONFIGURED_MODEL_ALGORITHM,
        GET_ML_INPUT_CHANNEL,
        GET_TRAINED_MODEL_INFERENCE_JOB,
    }
)
READ_OPERATIONS = frozenset(
    {
        LIST_MEMBERSHIPS,
        LIST_TRAINED_MODELS,
        LIST_TRAINED_MODEL_VERSIONS,
        GET_TRAINED_MODEL,
        LIST_TAGS_FOR_RESOURCE,
        LIST_COLLABORATION_TRAINED_MODELS,
        GET_COLLABORATION_TRAINED_MODEL,
        LIST_TRAINED_MODEL_INFERENCE_JOBS,
        *RELATED_READS,
    }
)
# path segment under /memberships/{id}/ -> the Get operation of one resource there
_MEMBERSHIP_READS = {
    "configured-model-algorithm-associations": GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION,
    "ml-input-channels": GET_ML_INPUT_CHANNEL,
    "trained-model-inference-jobs": GET_TRAINED_MODEL_INFERENCE_JOB,
}
UNKNOWN_OPERATION = "Unknown"
ADMIN_PREFIX = "/_emulator/"
INVALID_TOKEN = "The security token included in the request is invalid."
_ACCOUNT_XML = re.compile(r"<Account>\s*(\d{12})\s*</Account>")


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    supported: bool
    membership_id: str = ""
    arn: str = ""
    collaboration_id: str = ""


class ApiFailure(Exception):
    """A request the API answers with an error; ``resource`` is still counted."""

    def __init__(self, status: int, code: str, message: str, resource: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.resource = resource


@dataclass(frozen=True, slots=True)
class Served:
    body: bytes
    resource: str | None
    fault_keys: tuple[str, ...]


def route(method: str, path: str, service: str | None) -> Route:
    """Which operation ``method path`` is; labels arrive percent-encoded and are decoded here."""
    parts = path.rstrip("/").split("/")
    ml = service != CLEANROOMS
    if method == "GET":
        if parts == ["", "memberships"] and service != CLEANROOMS_ML:
            return Route(LIST_MEMBERSHIPS, supported=True)
        if len(parts) >= 4 and parts[1] == "memberships" and parts[3] == "trained-models" and ml:
            membership_id = unquote(parts[2])
            if len(parts) == 4:
                return Route(LIST_TRAINED_MODELS, True, membership_id)
            if len(parts) == 5:
                return Route(GET_TRAINED_MODEL, True, membership_id, unquote(parts[4]))
            if len(parts) == 6 and parts[5] == "versions":
                return Route(LIST_TRAINED_MODEL_VERSIONS, True, membership_id, unquote(parts[4]))
        # GET /collaborations/{collaborationIdentifier}/trained-models[/{trainedModelArn}]
        if len(parts) in (4, 5) and parts[1] == "collaborations" and parts[3] == "trained-models":
            collaboration_id = unquote(parts[2])
            if len(parts) == 4 and ml:
                return Route(LIST_COLLABORATION_TRAINED_MODELS, True, "", "", collaboration_id)
            if len(parts) == 5 and ml:
                arn = unquote(parts[4])
                return Route(GET_COLLABORATION_TRAINED_MODEL, True, "", arn, collaboration_id)
        if len(parts) >= 4 and parts[1] == "memberships" and ml:
            related = _MEMBERSHIP_READS.get(parts[3])
            membership_id = unquote(parts[2])
            if related is not None and len(parts) == 5:
                return Route(related, True, membership_id, unquote(parts[4]))
            if parts[3] == "trained-model-inference-jobs" and len(parts) == 4:
                return Route(LIST_TRAINED_MODEL_INFERENCE_JOBS, True, membership_id)
        if len(parts) == 3 and parts[1] == "configured-model-algorithms" and ml:
            return Route(GET_CONFIGURED_MODEL_ALGORITHM, True, arn=unquote(parts[2]))
        if len(parts) == 3 and parts[1] == "tags":
            return Route(LIST_TAGS_FOR_RESOURCE, True, arn=unquote(parts[2]))
    name = aws_operation_name(method, path, service)
    return Route(name or UNKNOWN_OPERATION, supported=False)


class Emulator:
    """Serves one fleet; owns the counters, buckets, RNGs and fault budgets of one server."""

    def __init__(
        self,
        fleet: Fleet | Catalog,
        config: EmulatorConfig | None = None,
        counters: Counters | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.catalog = fleet if isinstance(fleet, Catalog) else build_catalog(fleet)
        self.config = config or EmulatorConfig()
        self.counters = counters or Counters()
        self._throttle = Throttle(self.config, clock)
        self._pager = Pager(self.config.page_cap)
        self._error_rng = random.Random(self.config.seed)  # noqa: S311 - fault injection
        self._latency_rng = random.Random(self.config.seed + 1)  # noqa: S311
        self._fault_uses: Counter[str] = Counter()
        self._identities: dict[str, asyncio.Task[str | None]] = {}
        self._fault_started: dict[str, float] = {}
        self._key_uses: Counter[str] = Counter()
        self._clock = clock

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        if path.startswith(ADMIN_PREFIX):
            return self._admin(request.method, path)
        caller = parse_authorization(request.headers.get("Authorization"))
        found = route(request.method, path, caller.service if caller else None)
        operation = found.operation
        if caller is None:
            self.counters.record(operation, 403, refused=True)
            return error_response(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        if self._expired(caller):
            self.counters.record(operation, 403, caller=caller.key)
            return error_response(
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
        config = self.config
        account: str | None = None
        if config.account_scoped:
            account = await self._account_of(caller.access_key_id)
        if (config.account_scoped and account is None) or caller.region in config.disabled_regions:
            # what AWS answers for an unknown key, and for any key in a region not enabled
            self.counters.record(operation, 403, caller=caller.key, refused=True)
            return error_response(403, "UnrecognizedClientException", INVALID_TOKEN)
        if not found.supported:
            refusal = _refusal(operation, caller, request.method, path)
            self.counters.record(
                operation, refusal.status, caller=caller.key, refused=True, account=account
            )
            return refusal
        if account is not None and account in config.deny_accounts:
            self.counters.record(operation, 403, caller=caller.key, refused=True, account=account)
            return error_response(
                403,
                "AccessDeniedException",
                f"User: arn:aws:sts::{account}:assumed-role/auditor is not authorized to "
                f"perform: {caller.service}:{operation} with an explicit deny",
            )
        if config.latency_ms or config.jitter_ms:
            jitter = self._latency_rng.uniform(-config.jitter_ms, config.jitter_ms)
            await asyncio.sleep(max(0.0, config.latency_ms + jitter) / 1000)
        if not self._throttle.admit(operation, account, caller.region):
            self.counters.record(operation, 429, caller=caller.key, throttled=True, account=account)
            return error_response(429, "ThrottlingException", "Rate exceeded")
        if config.error_rate and self._error_rng.random() < config.error_rate:
            self.counters.record(operation, 500, caller=caller.key, account=account)
            return error_response(500, "InternalServerException", "Internal server error")
        try:
            served = self._serve(found, caller, request, account)
        except ApiFailure as failure:
            self.counters.record(
                operation,
                failure.status,
                resource=failure.resource,
                caller=caller.key,
                account=account,
            )
            return error_response(failure.status, failure.code, failure.message)
        except Exception:
            # An emulator bug must still look like AWS to the client under test.
            log.exception("emulator failed serving %s %s", request.method, path)
            self.counters.record(operation, 500, caller=caller.key, account=account)
            return error_response(500, "InternalServerException", "Emulator failure")
        fault = self._fault_for(served.fault_keys, operation, "nextToken" in request.query)
        if fault is not None and fault.kind in _ERROR_FAULTS:
            status, code, message = _ERROR_FAULTS[fault.kind]
            self.counters.record(
                operation, status, resource=served.resource, caller=caller.key, faulted=True
            )
            return error_response(status, code, message)
        self.counters.record(
            operation,
            200,
            resource=served.resource,
            caller=caller.key,
            faulted=fault is not None,
            account=account,
        )
        if fault is None:
            return json_response(served.body)
        if fault.kind is FaultKind.HUGE_CHUNKED:
            return await self._chunked_response(request, operation, fault, served.body)
        return await _faulty_response(request, fault, served.body)

    async def _chunked_response(
        self, request: web.Request, operation: str, fault: Fault, body: bytes
    ) -> web.StreamResponse:
        """``body`` padded to ``fault.huge_bytes``, written in chunks without a
        Content-Length; counts what was written before the end or the client's hang-up."""
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        try:
            head = body[:-1] + b',"padding":"'  # body is one JSON object: ends with "}"
            await response.write(head)
            sent += len(head)
            filler = b"x" * _CHUNK_BYTES
            while sent + _CHUNK_BYTES < fault.huge_bytes:
                await response.write(filler)
                sent += _CHUNK_BYTES
            await response.write(b'"}')
            sent += 2
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped reading: what it was sent is counted below
        finally:
            self.counters.record_streamed(operation, sent)
        return response

    async def _account_of(self, access_key_id: str) -> str | None:
        """The account an access key belongs to: the static map, else STS (asked once a key)."""
        account = self.config.accounts.get(access_key_id)
        if account is not None or self.config.identity_url is None:
            return account
        lookup = self._identities.get(access_key_id)
        if lookup is None:
            lookup = asyncio.ensure_future(_caller_account(self.config.identity_url, access_key_id))
            self._identities[access_key_id] = lookup
        try:
            return await asyncio.shield(lookup)
        except (aiohttp.ClientError, TimeoutError):
            log.warning("emulator: STS at %s did not answer", self.config.identity_url)
            self._identities.pop(access_key_id, None)
            return None

    def _admin(self, method: str, path: str) -> web.Response:
        if method == "GET" and path == ADMIN_PREFIX + "counters":
            return json_response(json.dumps(self.counters.snapshot()).encode())
        if method == "POST" and path == ADMIN_PREFIX + "reset":
            self.counters.reset()
            return json_response(b"{}")
        return error_response(404, "UnknownOperationException", f"No admin endpoint {path}")

    def _expired(self, caller: Caller) -> bool:
        """Whether ``caller``'s credentials have run out (``expire_credentials``)."""
        allowed = self.config.expire_credentials.get(caller.access_key_id)
        if allowed is None:
            return False
        self._key_uses[caller.access_key_id] += 1
        return self._key_uses[caller.access_key_id] > allowed

    def _fault_for(
        self, keys: tuple[str, ...], operation: str, has_token: bool = False
    ) -> Fault | None:
        faults = self.config.faults
        if not faults:
            return None
        for key in (*keys, operation):
            fault = faults.get(key)
            if fault is None:
                continue
            if fault.kind in _TOKEN_FAULTS and not has_token:
                return None  # only follow-up pages are refused; the first page is served
            if fault.duration_s is not None:
                started = self._fault_started.setdefault(key, self._clock())
                if self._clock() - started > fault.duration_s:
                    return None
            if fault.times is not None:
                if self._fault_uses[key] >= fault.times:
                    return None
                self._fault_uses[key] += 1
            return fault
        return None

    # -- operations -------------------------------------------------------------------------

    def _serve(
        self, found: Route, caller: Caller, request: web.Request, account: str | None = None
    ) -> Served:
        query = request.query
        operation = found.operation
        if operation == GET_TRAINED_MODEL:
            return self._get_trained_model(found, caller, query.get("versionIdentifier"), account)
        if operation == LIST_TRAINED_MODEL_VERSIONS:
            model = self._model(found, caller, account)
            status = query.get("status")
            items = [v.summary for v in model.versions if status is None or v.status == status]
            body = self._page(operation, f"{model.arn}|{status}", items, query, model.arn)
            return Served(body, model.arn, (model.arn, model.membership_id))
        if operation == LIST_TRAINED_MODELS:
            membership = self._membership(
                found.membership_id, caller, resource=found.membership_id, account=account
            )
            items = [m.latest.summary for m in membership.models]
            body = self._page(operation, membership.id, items, query, membership.id)
            return Served(body, membership.id, (membership.id,))
        if operation == LIST_MEMBERSHIPS:
            status = query.get("status")
            items = [
                m.summary
                for m in self.catalog.memberships
                if self._visible(m, caller, account) and (status is None or m.status == status)
            ]
            scope = f"{account}|{caller.region}|{status}"
            body = self._page(operation, scope, items, query, None, "membershipSummaries")
            return Served(body, None, ())
        if operation == LIST_TAGS_FOR_RESOURCE:
            return self._list_tags(found.arn)
        if operation == LIST_COLLABORATION_TRAINED_MODELS:
            collaboration = found.collaboration_id
            models = self._collaboration(collaboration, caller, collaboration, account)
            items = [v.summary for m in models for v in m.versions]
            field = "collaborationTrainedModels"
            body = self._page(operation, collaboration, items, query, collaboration, field)
            return Served(body, collaboration, (collaboration,))
        if operation == GET_COLLABORATION_TRAINED_MODEL:
            return self._get_collaboration_trained_model(
                found, caller, query.get("versionIdentifier"), account
            )
        if operation in RELATED_READS:
            return self._get_related(found, caller, account)
        if operation == LIST_TRAINED_MODEL_INFERENCE_JOBS:
            membership = self._membership(
                found.membership_id, caller, resource=found.membership_id, account=account
            )
            model_arn = query.get("trainedModelArn")
            version_id = query.get("trainedModelVersionIdentifier")
            items = [
                job.summary
                for job in self.catalog.jobs.get(membership.id, ())
                if model_arn in (None, job.model_arn)
                and version_id in (None, job.version_identifier)
            ]
            scope = f"{membership.id}|{model_arn}|{version_id}"
            resource = model_arn or membership.id
            body = self._page(operation, scope, items, query, resource, "trainedModelInferenceJobs")
            return Served(body, resource, (resource, membership.id))
        raise AssertionError(operation)  # pragma: no cover - route() only marks these supported

    def _page(
        self,
        operation: str,
        scope: str,
        items: list[bytes],
        query: Any,
        resource: str | None,
        field: str = "trainedModels",
    ) -> bytes:
        try:
            page = self._pager.page(
                operation, scope, len(items), query.get("maxResults"), query.get("nextToken")
            )
        except PagingError as exc:
            raise ApiFailure(400, "ValidationException", str(exc), resource) from exc
        return list_body(field, items[page.start : page.stop], page.next_token)

    def _visible(
        self, membership: CatalogMembership, caller: Caller, account: str | None = None
    ) -> bool:
        if account is not None and membership.account != account:
            return False
        return not self.config.region_scoped or membership.region == caller.region

    def _membership(
        self, membership_id: str, caller: Caller, resource: str, account: str | None = None
    ) -> CatalogMembership:
        membership = self.catalog.membership_by_id.get(membership_id)
        if membership is None or not self._visible(membership, caller, account):
            raise ApiFailure(
                404, "ResourceNotFoundException", f"Membership {membership_id} not found", resource
            )
        if membership_id in self.config.deny_memberships:
            raise ApiFailure(
                403,
                "AccessDeniedException",
                f"User: {caller.access_key_id} is not authorized to access membership "
                f"{membership_id}",
                resource,
            )
        return membership

    def _model(self, found: Route, caller: Caller, account: str | None = None) -> CatalogModel:
        self._membership(found.membership_id, caller, resource=found.arn, account=account)
        model = self.catalog.model_by_arn.get(found.arn)
        if model is None or model.membership_id != found.membership_id:
            raise ApiFailure(
                404, "ResourceNotFoundException", f"Trained model {found.arn} not found", found.arn
            )
        return model

    def _get_trained_model(
        self, found: Route, caller: Caller, version_id: str | None, account: str | None = None
    ) -> Served:
        requested = f"{found.arn}#{version_id}" if version_id else found.arn
        try:
            model = self._model(found, caller, account)
        except ApiFailure as failure:
            failure.resource = requested
            raise
        version = model.by_version.get(version_id) if version_id else model.latest
        if version is None:
            raise ApiFailure(
                404,
                "ResourceNotFoundException",
                f"Trained model {found.arn} has no version {version_id}",
                requested,
            )
        vanished = self.config.vanish_models
        if vanished and (model.arn in vanished or version.key in vanished):
            raise ApiFailure(
                404,
                "ResourceNotFoundException",
                f"Trained model {model.arn} not found",
                version.key,
            )
        return Served(version.body, version.key, (version.key, model.arn, model.membership_id))

    def _collaboration(
        self, collaboration_id: str, caller: Caller, resource: str, account: str | None = None
    ) -> tuple[CatalogCollaborationModel, ...]:
        """Every member's models of a collaboration the caller is a member of (a visible
        membership in it); else AccessDeniedException, as for a collaboration in
        ``deny_collaborations``."""
        member = any(
            m.collaboration_id == collaboration_id and self._visible(m, caller, account)
            for m in self.catalog.memberships
        )
        if not member or collaboration_id in self.config.deny_collaborations:
            raise ApiFailure(
                403,
                "AccessDeniedException",
                f"User: {caller.access_key_id} is not authorized to access collaboration "
                f"{collaboration_id}",
                resource,
            )
        return self.catalog.collaboration_models.get(collaboration_id, ())

    def _get_collaboration_trained_model(
        self, found: Route, caller: Caller, version_id: str | None, account: str | None = None
    ) -> Served:
        requested = f"{found.arn}#{version_id}" if version_id else found.arn
        models = self._collaboration(found.collaboration_id, caller, requested, account)
        model = next((m for m in models if m.arn == found.arn), None)
        if model is None or found.arn in self.config.vanish_models:
            raise ApiFailure(
                404, "ResourceNotFoundException", f"Trained model {found.arn} not found", requested
            )
        version = model.by_version.get(version_id) if version_id else model.latest
        if version is None:
            raise ApiFailure(
                404,
                "ResourceNotFoundException",
                f"Trained model {found.arn} has no version {version_id}",
                requested,
            )
        return Served(version.body, version.key, (version.key, model.arn, model.collaboration_id))

    def _get_related(self, found: Route, caller: Caller, account: str | None) -> Served:
        """One related resource: in its membership, or (an algorithm) in its account."""
        operation = found.operation
        arn = found.arn
        if operation == GET_CONFIGURED_MODEL_ALGORITHM:
            owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
            if owner not in self.catalog.accounts or (account is not None and owner != account):
                raise ApiFailure(
                    403,
                    "AccessDeniedException",
                    f"User: {caller.access_key_id} is not authorized to perform: "
                    f"cleanrooms-ml:{operation} on resource: {arn}",
                    arn,
                )
        else:
            self._membership(found.membership_id, caller, resource=arn, account=account)
        related = self.catalog.related.get(operation, {}).get(arn)
        if related is None or (
            operation != GET_CONFIGURED_MODEL_ALGORITHM
            and related.membership_id != found.membership_id
        ):
            raise ApiFailure(404, "ResourceNotFoundException", f"{arn} not found", arn)
        return Served(related.body, arn, (arn, related.membership_id))

    def _list_tags(self, arn: str) -> Served:
        model = self.catalog.model_by_arn.get(arn)
        if model is not None and arn not in self.config.vanish_models:
            return Served(model.tags_body, arn, (arn,))
        if arn in self.catalog.membership_by_arn:
            return Served(b'{"tags":{}}', arn, (arn,))
        raise ApiFailure(404, "ResourceNotFoundException", f"Resource {arn} not found", arn)


async def _caller_account(identity_url: str, access_key_id: str) -> str | None:
    """``sts:GetCallerIdentity`` as the holder of ``access_key_id`` (moto reads the key from
    the credential scope and does not check the signature); None for no account in the answer."""
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key_id}/20250101/us-east-1/sts/"
        "aws4_request, SignedHeaders=host, Signature=0",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(
            identity_url, data="Action=GetCallerIdentity&Version=2011-06-15", headers=headers
        ) as response,
    ):
        text = await response.text()
    found = _ACCOUNT_XML.search(text) if response.status == 200 else None
    return found.group(1) if found else None


def _refusal(operation: str, caller: Caller, method: str, path: str) -> web.Response:
    if operation == UNKNOWN_OPERATION:
        return error_response(404, "UnknownOperationException", f"No operation at {method} {path}")
    # A real AWS operation the emulator does not serve (every mutating one): answer as IAM
    # would for the auditor's read-only role.
    return error_response(
        403,
        "AccessDeniedException",
        f"User: {caller.access_key_id} is not authorized to perform: "
        f"{caller.service}:{operation} (the emulator serves read operations only)",
    )


# -- faults ---------------------------------------------------------------------------------

_ERROR_FAULTS: dict[FaultKind, tuple[int, str, str]] = {
    FaultKind.SERVER_ERROR: (503, "ServiceUnavailableException", "Service unavailable"),
    FaultKind.REJECT_TOKEN: (400, "ValidationException", "Invalid pagination token"),
}


_TOKEN_FAULTS = frozenset({FaultKind.REJECT_TOKEN, FaultKind.REPEAT_TOKEN})
_CHUNK_BYTES = 64 * 1024


def _wrong_types(value: Any, key: str = "") -> Any:
    """Strings become numbers and booleans strings, which botocore's rest-json parser passes
    through; timestamps and numbers are left alone because botocore would fail converting them
    (raising a bare ``ValueError`` out of the client call)."""
    if isinstance(value, dict):
        return {k: _wrong_types(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrong_types(v, key) for v in value]
    if key in ("createTime", "updateTime", "nextToken"):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return len(value)
    return value


def _set_path(document: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    here = document
    for name in parents:
        child = here.get(name)
        if not isinstance(child, dict):
            child = here[name] = {}
        here = child
    here[last] = value


def _padded(body: bytes, size: int) -> bytes:
    document = json.loads(body)
    filler = "x" * max(0, size - len(body))
    if "description" in document or "trainedModelArn" in document:
        document["description"] = filler
    else:
        document["padding"] = filler
    return json.dumps(document).encode()


async def _faulty_response(request: web.Request, fault: Fault, body: bytes) -> web.StreamResponse:
    kind = fault.kind
    if kind is FaultKind.SLOW:
        await asyncio.sleep(fault.delay_s)
        return json_response(body)
    if kind is FaultKind.NOT_JSON:
        return web.Response(
            body=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            content_type="text/html",
        )
    if kind is FaultKind.CUT_JSON:
        return json_response(body[: len(body) // 2])
    if kind is FaultKind.WRONG_TYPES:
        document = json.loads(body)
        if fault.fields is None:
            return json_response(json.dumps(_wrong_types(document)).encode())
        for dotted, value in fault.fields.items():
            _set_path(document, dotted, value)
        return json_response(json.dumps(document).encode())
    if kind is FaultKind.HUGE:
        return json_response(_padded(body, fault.huge_bytes))
    if kind is FaultKind.REPEAT_TOKEN:
        document = json.loads(body)
        document["nextToken"] = request.query["nextToken"]  # the page it was asked for, again
        return json_response(json.dumps(document).encode())
    # RESET and TRUNCATED: promise the whole body, send half, then cut the connection.
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    transport = request.transport
    if transport is not None:
        if kind is FaultKind.RESET:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # SO_LINGER 0: close() sends RST instead of FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return response
