"""Related resources: what a trained model version is trained and used with, read once a scan.

A policy may read a version's context (``auditor.policy.context``): its configured model
algorithm association, that association's algorithm, its ML input channels, its incremental
training base versions and the inference jobs that use it. ``RelatedReader`` fetches exactly
the roots the enabled policies name, each related resource **at most once per scan** (per
crawl of an account-region: the shares of one split over ``--workers`` each read it; keyed
by ARN, so a hundred versions sharing an association cost one call; concurrent readers of
the same resource wait for the one call in flight), through the crawl's own ``call`` (its
pacers, concurrency limit and retries).

A failure that a later pass may mend (5xx, timeouts) is not final: the version that needed
it is deferred with its error (``DeferRelated``) and re-driven with the crawl's other
deferred work, and the resource is fetched again in that pass. Anything else, or a failure
in the last pass, makes the resource ``Unreadable`` for every version that refers to it, and
is reported once as a ``ScanError`` of scope ``related``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio

from auditor.crawler.api import CleanRoomsApi, Operation, Page
from auditor.errors import ApiError, MalformedResponseError
from auditor.models import BaseVersion, ErrorScope, ScanError, Unreadable
from auditor.policy.context import (
    ALGORITHM,
    ASSOCIATION,
    BASE_MODELS,
    INFERENCE_JOBS,
    INPUT_CHANNELS,
)

#: How deep an incremental-training chain is followed (a base of a base of ...).
MAX_CHAIN_DEPTH = 8

_MEMBERSHIP_IN_ARN = re.compile(r":membership/([^/]+)/")

Call = Callable[[Operation, Callable[[], Awaitable[Any]]], Awaitable[Any]]
Report = Callable[[ScanError], Awaitable[None]]


class DeferRelated(Exception):
    """A related resource failed in a way a later pass may mend: defer the version."""

    def __init__(self, operation: Operation, error: ApiError) -> None:
        super().__init__(error.message)
        self.operation = operation
        self.error = error


@dataclass(slots=True)
class _Entry:
    """One related resource: its value once read (a body, a list, an ``Unreadable``)."""

    done: anyio.Event = field(default_factory=anyio.Event)
    value: Any = None
    deferred: ApiError | None = None


@dataclass(slots=True)
class RelatedStats:
    """What the related reads found: resources read, and each kind's count."""

    resources: int = 0
    unreadable: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)


class RelatedReader:
    """Builds ``ModelVersion.context`` for the ``roots`` the enabled policies read."""

    def __init__(
        self,
        api: CleanRoomsApi,
        roots: frozenset[str],
        *,
        call: Call,
        report: Report,
        deferring: Callable[[], bool],
    ) -> None:
        self.api = api
        self.roots = roots
        self._call = call
        self._report = report
        self._deferring = deferring
        self._entries: dict[tuple[str, str], _Entry] = {}
        # attempts earlier passes spent on a read they deferred, and how many passes
        self._spent: dict[tuple[str, str], tuple[int, int]] = {}
        self.stats = RelatedStats()

    def next_pass(self) -> None:
        """Forget the reads deferred in the pass that ended: the next pass reads them again."""
        for key, entry in list(self._entries.items()):
            if entry.deferred is not None:
                attempts, passes = self._spent.get(key, (0, 0))
                self._spent[key] = (attempts + entry.deferred.attempts, passes + 1)
                del self._entries[key]

    async def context_for(
        self, document: Mapping[str, Any], membership_id: str, model_arn: str, depth: int = 0
    ) -> dict[str, Any]:
        """The context roots of one version. Raises ``DeferRelated`` (see the module)."""
        roots = self.roots
        context: dict[str, Any] = {}
        if ASSOCIATION in roots or ALGORITHM in roots:
            association = await self._association(document, membership_id)
            if ASSOCIATION in roots:
                context[ASSOCIATION] = association
            if ALGORITHM in roots:
                context[ALGORITHM] = await self._algorithm(association)
        if INPUT_CHANNELS in roots:
            context[INPUT_CHANNELS] = await self._channels(document, membership_id)
        if INFERENCE_JOBS in roots:
            context[INFERENCE_JOBS] = await self._inference_jobs(document, membership_id, model_arn)
        if BASE_MODELS in roots:
            context[BASE_MODELS] = await self._base_models(document, membership_id, depth)
        return context

    # --- each root ---------------------------------------------------------------------------

    async def _association(self, document: Mapping[str, Any], membership_id: str) -> Any:
        arn = _text(document.get("configuredModelAlgorithmAssociationArn"))
        if arn is None:
            return None
        return await self._get(
            Operation.GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION, arn, membership_id
        )

    async def _algorithm(self, association: Any) -> Any:
        if not isinstance(association, Mapping):
            return association  # None, or the association's Unreadable: not located either
        arn = _text(association.get("configuredModelAlgorithmArn"))
        if arn is None:
            return None
        return await self._get(Operation.GET_CONFIGURED_MODEL_ALGORITHM, arn, None)

    async def _channels(self, document: Mapping[str, Any], membership_id: str) -> Any:
        channels = document.get("dataChannels")
        if not isinstance(channels, list):
            return None
        arns = [
            _text(channel.get("mlInputChannelArn")) if isinstance(channel, Mapping) else None
            for channel in channels
        ]
        return await self._each(Operation.GET_ML_INPUT_CHANNEL, arns, membership_id)

    async def _inference_jobs(
        self, document: Mapping[str, Any], membership_id: str, model_arn: str
    ) -> Any:
        version = _text(document.get("versionIdentifier"))
        listing = await self._listing(
            ("jobs", model_arn),
            Operation.LIST_TRAINED_MODEL_INFERENCE_JOBS,
            model_arn,
            lambda token: self.api.list_trained_model_inference_jobs(
                membership_id, model_arn, next_token=token
            ),
        )
        if not isinstance(listing, list):
            return listing  # Unreadable
        arns = [
            _text(job.get("trainedModelInferenceJobArn"))
            for job in listing
            if job.get("trainedModelVersionIdentifier") == version
        ]
        return await self._each(Operation.GET_TRAINED_MODEL_INFERENCE_JOB, arns, membership_id)

    async def _base_models(
        self, document: Mapping[str, Any], membership_id: str, depth: int
    ) -> Any:
        channels = document.get("incrementalTrainingDataChannels")
        if channels is None:
            return []
        if not isinstance(channels, list):
            return None
        bases: list[Any] = []
        for channel in channels:
            if not isinstance(channel, Mapping):
                bases.append(None)
                continue
            name = _text(channel.get("modelName"))
            version = _text(channel.get("versionIdentifier"))
            bases.append(await self._base(membership_id, name, version, depth))
        return bases

    async def _base(
        self, membership_id: str, name: str | None, version: str | None, depth: int
    ) -> BaseVersion | None:
        if name is None:
            return None
        models = await self._listing(
            ("models", membership_id),
            Operation.LIST_TRAINED_MODELS,
            membership_id,
            lambda token: self.api.list_trained_models(membership_id, next_token=token),
        )
        if not isinstance(models, list):
            return BaseVersion(arn=None, model_name=name, version=version, unreadable=models)
        arn = next((_text(m.get("trainedModelArn")) for m in models if m.get("name") == name), None)
        if arn is None:
            missing = Unreadable(
                f"{membership_id}/{name}",
                str(Operation.LIST_TRAINED_MODELS),
                "ResourceNotFoundException",
                f"no trained model named {name!r} in membership {membership_id}",
            )
            return BaseVersion(arn=None, model_name=name, version=version, unreadable=missing)
        key = f"{arn}#{version or ''}"
        document = await self._fetch(
            Operation.GET_TRAINED_MODEL,
            key,
            lambda: self.api.get_trained_model(membership_id, arn, version_identifier=version),
        )
        if not isinstance(document, Mapping):
            return BaseVersion(arn=arn, model_name=name, version=version, unreadable=document)
        read_version = _text(document.get("versionIdentifier")) or version
        context: Mapping[str, Any] = {}
        if depth + 1 < MAX_CHAIN_DEPTH:
            context = await self.context_for(document, membership_id, arn, depth + 1)
        return BaseVersion(
            arn=arn, model_name=name, version=read_version, document=document, context=context
        )

    # --- reading once ------------------------------------------------------------------------

    async def _each(
        self, op: Operation, arns: Sequence[str | None], membership_id: str
    ) -> list[Any]:
        values: list[Any] = [None] * len(arns)
        deferred: list[DeferRelated] = []

        async def one(index: int, arn: str) -> None:
            try:
                values[index] = await self._get(op, arn, membership_id)
            except DeferRelated as defer:
                deferred.append(defer)

        async with anyio.create_task_group() as tg:
            for index, arn in enumerate(arns):
                if arn is not None:
                    tg.start_soon(one, index, arn)
        if deferred:
            raise deferred[0]
        return values

    async def _get(self, op: Operation, arn: str, membership_id: str | None) -> Any:
        membership = _membership_of(arn) or membership_id

        async def request() -> Mapping[str, Any]:
            return await self.api.get_related(op, arn, membership_id=membership)

        return await self._fetch(op, arn, request)

    async def _listing(
        self,
        key: tuple[str, str],
        op: Operation,
        resource: str,
        page_of: Callable[[str | None], Awaitable[Page]],
    ) -> Any:
        async def request() -> list[Mapping[str, Any]]:
            items: list[Mapping[str, Any]] = []
            followed: set[str] = set()
            token: str | None = None
            while True:
                page = await self._call(op, partial(page_of, token))
                items.extend(page.items)
                if page.next_token is None:
                    return items
                if page.next_token in followed:
                    raise MalformedResponseError(
                        str(op), "PaginationLoop", f"{op} returned a nextToken twice"
                    )
                followed.add(page.next_token)
                token = page.next_token

        return await self._once(key, op, resource, request, paged=True)

    async def _fetch(self, op: Operation, arn: str, request: Callable[[], Awaitable[Any]]) -> Any:
        return await self._once((str(op), arn), op, arn, request)

    async def _once(
        self,
        key: tuple[str, str],
        op: Operation,
        resource: str,
        request: Callable[[], Awaitable[Any]],
        *,
        paged: bool = False,
    ) -> Any:
        entry = self._entries.get(key)
        if entry is not None:
            await entry.done.wait()
        else:
            entry = self._entries[key] = _Entry()
            try:
                entry.value = await (request() if paged else self._call(op, request))
                self.stats.resources += 1
                self.stats.by_operation[str(op)] = self.stats.by_operation.get(str(op), 0) + 1
            except ApiError as error:
                if error.retryable and self._deferring():
                    entry.deferred = error
                else:
                    attempts, passes = self._spent.get(key, (0, 0))
                    message = error.message
                    if passes:
                        message = f"{message} (still failing after {passes + 1} passes)"
                    entry.value = Unreadable(resource, str(op), error.code, message)
                    self.stats.unreadable += 1
                    await self._report(
                        ScanError(
                            scope=ErrorScope.RELATED,
                            operation=str(op),
                            code=error.code,
                            message=message,
                            attempts=error.attempts + attempts,
                            account=_arn_field(resource, 4),
                            region=_arn_field(resource, 3),
                            membership_id=_membership_of(resource),
                            resource_arn=resource,
                        )
                    )
            finally:
                entry.done.set()
        if entry.deferred is not None:
            raise DeferRelated(op, entry.deferred)
        return entry.value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _membership_of(arn: str) -> str | None:
    found = _MEMBERSHIP_IN_ARN.search(arn)
    return found.group(1) if found else None


def _arn_field(arn: str, index: int) -> str | None:
    parts = arn.split(":")
    return (parts[index] or None) if arn.startswith("arn:") and len(parts) > index else None
