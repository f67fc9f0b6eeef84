"""An in-memory ``CleanRoomsApi`` serving a ``Fleet``, with scriptable failures, for tests.

Like the real API it pages (``page_size``), hides memberships it denies and models that
vanished, and can throttle each operation with a token bucket on the event loop's clock.
``calls`` records every call as ``(operation, key)``; ``reads`` counts GetTrainedModel
successes per ``(arn, version)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from auditor.crawler.api import Operation, Page
from auditor.emulator.config import RateLimit
from auditor.emulator.throttle import TokenBucket
from auditor.errors import AccessDeniedError, ApiError, NotFoundError, ThrottledError
from auditor.fleet import Fleet, FleetModel

# Called before each call with (operation, key); return an error to raise it instead.
FaultHook = Callable[[Operation, str], ApiError | None]


@dataclass
class FakeCleanRoomsApi:
    """Serves ``fleet`` from memory; every knob is off by default."""

    fleet: Fleet
    region: str = "us-east-1"
    page_size: int = 100
    deny_memberships: frozenset[str] = frozenset()
    vanish_models: frozenset[str] = frozenset()
    rate_limits: Mapping[Operation, tuple[float, float]] = field(default_factory=dict)
    latency: float = 0.0
    fault: FaultHook | None = None
    calls: list[tuple[Operation, str]] = field(default_factory=list)
    reads: Counter[tuple[str, str]] = field(default_factory=Counter)
    _buckets: dict[Operation, TokenBucket] = field(default_factory=dict)

    async def list_memberships(self, *, status: str | None, next_token: str | None) -> Page:
        await self._enter(Operation.LIST_MEMBERSHIPS, status or "")
        items = [
            {
                "id": m.id,
                "arn": m.arn,
                "collaborationId": m.collaboration_id,
                "collaborationArn": m.collaboration_arn,
                "collaborationName": m.collaboration_name,
                "status": m.status,
            }
            for m in self.fleet.memberships
            if status is None or m.status == status
        ]
        return self._page(items, next_token)

    async def list_trained_models(self, membership_id: str, *, next_token: str | None) -> Page:
        await self._enter(Operation.LIST_TRAINED_MODELS, membership_id)
        if membership_id in self.deny_memberships:
            raise AccessDeniedError(
                Operation.LIST_TRAINED_MODELS, "AccessDeniedException", "denied"
            )
        items = [
            _summary(model.latest.document)
            for model in self.fleet.models_of(membership_id)
            if model.arn not in self.vanish_models
        ]
        return self._page(items, next_token)

    async def list_trained_model_versions(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        op = Operation.LIST_TRAINED_MODEL_VERSIONS
        await self._enter(op, model_arn)
        model = self._model(op, membership_id, model_arn)
        return self._page([_summary(v.document) for v in model.versions], next_token)

    async def get_trained_model(
        self, membership_id: str, model_arn: str, *, version_identifier: str | None
    ) -> Mapping[str, Any]:
        op = Operation.GET_TRAINED_MODEL
        await self._enter(op, f"{model_arn}#{version_identifier or ''}")
        model = self._model(op, membership_id, model_arn)
        for version in model.versions:
            if version_identifier in (None, version.version_identifier):
                if version_identifier is None:
                    version = model.latest
                self.reads[(model_arn, version.version_identifier)] += 1
                return dict(version.document)
        raise NotFoundError(op, "ResourceNotFoundException", "no such version")

    async def list_collaboration_trained_models(
        self, collaboration_id: str, *, next_token: str | None
    ) -> Page:
        op = Operation.LIST_COLLABORATION_TRAINED_MODELS
        await self._enter(op, collaboration_id)
        items = [
            _summary(version.document) | {"creatorAccountId": model.creator_account}
            for model in self.fleet.collaboration_models_of(collaboration_id)
            for version in model.versions
        ]
        return self._page(items, next_token)

    async def get_collaboration_trained_model(
        self, collaboration_id: str, model_arn: str, *, version_identifier: str | None
    ) -> Mapping[str, Any]:
        op = Operation.GET_COLLABORATION_TRAINED_MODEL
        await self._enter(op, f"{model_arn}#{version_identifier or ''}")
        for model in self.fleet.collaboration_models_of(collaboration_id):
            if model.arn != model_arn:
                continue
            for version in model.versions:
                if version_identifier in (None, version.version_identifier):
                    version = model.versions[-1] if version_identifier is None else version
                    self.reads[(model_arn, version.version_identifier)] += 1
                    return dict(version.document)
        raise NotFoundError(op, "ResourceNotFoundException", f"{model_arn} not found")

    async def get_related(
        self, operation: Operation, arn: str, *, membership_id: str | None
    ) -> Mapping[str, Any]:
        await self._enter(operation, arn)
        context = self.fleet.context
        bodies = {
            Operation.GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION: (
                context.associations,
                "configuredModelAlgorithmAssociationArn",
            ),
            Operation.GET_CONFIGURED_MODEL_ALGORITHM: (
                context.algorithms,
                "configuredModelAlgorithmArn",
            ),
            Operation.GET_ML_INPUT_CHANNEL: (context.input_channels, "mlInputChannelArn"),
            Operation.GET_TRAINED_MODEL_INFERENCE_JOB: (
                context.inference_jobs,
                "trainedModelInferenceJobArn",
            ),
        }[operation]
        found, key = bodies
        for body in found:
            if body[key] == arn:
                return dict(body)
        if operation is Operation.GET_CONFIGURED_MODEL_ALGORITHM:
            raise AccessDeniedError(operation, "AccessDeniedException", f"{arn}: denied")
        raise NotFoundError(operation, "ResourceNotFoundException", f"{arn} not found")

    async def list_trained_model_inference_jobs(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        await self._enter(Operation.LIST_TRAINED_MODEL_INFERENCE_JOBS, model_arn)
        items = [
            dict(job)
            for job in self.fleet.context.inference_jobs
            if job["trainedModelArn"] == model_arn
        ]
        return self._page(items, next_token)

    async def _enter(self, op: Operation, key: str) -> None:
        self.calls.append((op, key))
        if self.latency:
            await anyio.sleep(self.latency)
        if op in self.rate_limits:
            bucket = self._buckets.get(op)
            if bucket is None:
                rate, burst = self.rate_limits[op]
                limit = RateLimit(rate=rate, burst=max(1, int(burst)))
                bucket = self._buckets[op] = TokenBucket(limit, clock=anyio.current_time)
            if not bucket.try_take():
                raise ThrottledError(op, "ThrottlingException", "Rate exceeded", status=429)
        if self.fault is not None:
            error = self.fault(op, key)
            if error is not None:
                raise error

    def _model(self, op: Operation, membership_id: str, model_arn: str) -> FleetModel:
        for model in self.fleet.models_of(membership_id):
            if model.arn == model_arn and model.arn not in self.vanish_models:
                return model
        raise NotFoundError(op, "ResourceNotFoundException", f"{model_arn} not found")

    def _page(self, items: list[dict[str, Any]], next_token: str | None) -> Page:
        start = int(next_token or 0)
        end = start + self.page_size
        return Page(
            items=tuple(items[start:end]), next_token=str(end) if end < len(items) else None
        )


def _summary(document: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "trainedModelArn",
        "versionIdentifier",
        "name",
        "membershipIdentifier",
        "collaborationIdentifier",
        "status",
        "createTime",
        "updateTime",
        "configuredModelAlgorithmAssociationArn",
    )
    return {key: document[key] for key in keys if key in document}
