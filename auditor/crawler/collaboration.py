"""The collaboration view: models other members trained, read with the collaboration APIs.

``auditor scan --collaboration-models`` adds two stages beside the crawl's own pipeline::

    each collaboration of a listed membership (ListMemberships' ``collaborationId``; with
    ``--membership``, ListMemberships is read only to find those memberships' collaborations)
      -> ListCollaborationTrainedModels (paged; once per collaboration per scan)
      -> GetCollaborationTrainedModel (each model version listed, other members' only)
      -> ModelVersion (resource type ``collaboration-trained-model``) | ScanError

A model whose ``membershipIdentifier`` is the scanned membership (or whose
``creatorAccountId`` is the scanned account) is this account's own: the crawl already reads
it with GetTrainedModel, so it is skipped here. Every call goes through the crawl's
``_call`` (pacer, in-flight limit, retries without limit on throttling) and ``_each_page``
(nextToken refused -> restart once, nextToken loop -> error); what exhausts its failure
budget is deferred to the crawl's next pass like any other listing or read, so a fault
costs time, never data. What cannot be read becomes a ``ScanError`` with scope
``collaboration`` (the listing; ``resource_arn`` is the collaboration's ARN) or
``collaboration-model`` (one version).

A collaboration several scanned memberships share (one per account of an ``--accounts``
scan) is read once: the first crawl to find it claims it in the scan's shared
``CollaborationClaims``.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from auditor.crawler.api import CleanRoomsApi, Operation, Page
from auditor.crawler.cursor import Cursor
from auditor.crawler.redact import redact
from auditor.crawler.stats import CrawlStats
from auditor.documents import COLLABORATION_OPERATION, MALFORMED_RESPONSE, check_document
from auditor.errors import ApiError, MalformedResponseError
from auditor.models import ErrorScope, ModelVersion, Resource, ResourceType, ScanError

if TYPE_CHECKING:
    from auditor.crawler.crawl import CrawlItem


class CollaborationClaims:
    """The collaborations a scan has started reading, shared by every crawl of the scan (all
    run on one event loop), so a collaboration is read once however many memberships share
    it."""

    def __init__(self) -> None:
        self._claimed: set[str] = set()
        # the accounts the scan reads itself (``--accounts``/``--org``): their models are
        # audited as their own trained models, so the view skips them
        self.scanned_accounts: set[str] = set()

    def claim(self, collaboration_id: str) -> bool:
        """True for the first caller of a collaboration id, False for every later one."""
        if collaboration_id in self._claimed:
            return False
        self._claimed.add(collaboration_id)
        return True

    def __len__(self) -> int:
        return len(self._claimed)


@dataclass(frozen=True, slots=True)
class CollaborationListing:
    """ListCollaborationTrainedModels of one collaboration, found through ``membership_id``
    (the scanned account's membership in it)."""

    collaboration_id: str
    membership_id: str
    account: str | None = None
    collaboration_arn: str | None = None
    cursor: Cursor = field(default_factory=Cursor)


@dataclass(frozen=True, slots=True)
class CollaborationRead:
    """One GetCollaborationTrainedModel to make; ``spent``: attempts used in earlier passes."""

    listing: CollaborationListing
    arn: str
    version_identifier: str | None  # None: the latest, whatever it is
    spent: int = 0


CollaborationUnit = CollaborationListing | CollaborationRead


class CollaborationHost(Protocol):
    """What the view uses of the crawl (``auditor.crawler.crawl._Crawler``)."""

    api: CleanRoomsApi
    stats: CrawlStats
    out: MemoryObjectSendStream[CrawlItem]

    async def _call(self, op: Operation, request: Callable[[], Awaitable[Any]]) -> Any: ...

    async def _each_page(
        self,
        op: Operation,
        cursor: Cursor,
        page_of: Callable[[str | None], Awaitable[Page]],
        on_page: Callable[[Page], Awaitable[None]],
    ) -> None: ...

    def _defer_collaboration(self, unit: CollaborationUnit) -> bool: ...

    def _redrive_note(self, unit_cursor: Cursor | None) -> str | None: ...


class CollaborationView:
    """The two collaboration stages of one crawl (one account, one region)."""

    def __init__(self, host: CollaborationHost, claims: CollaborationClaims) -> None:
        self.host = host
        self.claims = claims
        self.seen: set[tuple[str, str]] = set()  # (model ARN, version) passed on to read

    async def found(
        self,
        listing: CollaborationListing,
        send: MemoryObjectSendStream[CollaborationListing],
    ) -> None:
        """A scanned membership's collaboration: listed unless this scan already claimed it."""
        if self.claims.claim(listing.collaboration_id):
            await send.send(listing)

    # --- stage: ListCollaborationTrainedModels -----------------------------------------------

    async def listing_worker(
        self,
        receive: MemoryObjectReceiveStream[CollaborationListing],
        send: MemoryObjectSendStream[CollaborationRead],
    ) -> None:
        async with receive, send:
            async for listing in receive:
                await self._list(listing, send)

    async def _list(
        self, listing: CollaborationListing, send: MemoryObjectSendStream[CollaborationRead]
    ) -> None:
        host = self.host
        op = Operation.LIST_COLLABORATION_TRAINED_MODELS

        async def page_of(token: str | None) -> Page:
            return await host.api.list_collaboration_trained_models(
                listing.collaboration_id, next_token=token
            )

        async def on_page(page: Page) -> None:
            for item in page.items:
                arn = item.get("trainedModelArn")
                if not isinstance(arn, str) or not arn:
                    malformed = _malformed(op, "summary has no trainedModelArn")
                    await self._fail(ErrorScope.COLLABORATION, op, malformed, listing)
                    continue
                if _own(item, listing, self.claims.scanned_accounts):
                    continue
                version = _str_or_none(item.get("versionIdentifier"))
                if version is not None:
                    if (arn, version) in self.seen:  # also what a restarted listing offers again
                        continue
                    self.seen.add((arn, version))
                host.stats.versions_discovered += 1
                await send.send(CollaborationRead(listing, arn, version))

        try:
            await host._each_page(op, listing.cursor, page_of, on_page)
        except ApiError as error:
            await self._unreadable(listing, op, error)

    # --- stage: GetCollaborationTrainedModel -------------------------------------------------

    async def read_worker(
        self, receive: MemoryObjectReceiveStream[CollaborationRead], _: None
    ) -> None:
        async with receive:
            async for read in receive:
                if await self._read(read):
                    self.host.stats.versions_done += 1

    async def _read(self, read: CollaborationRead) -> bool:
        """Read one version into the output; False when it was deferred to a later pass."""
        host = self.host
        op = Operation.GET_COLLABORATION_TRAINED_MODEL
        try:
            record = await host._call(
                op,
                lambda: host.api.get_collaboration_trained_model(
                    read.listing.collaboration_id,
                    read.arn,
                    version_identifier=read.version_identifier,
                ),
            )
        except ApiError as error:
            return not await self._unreadable(read, op, error)
        checked = check_document(record, COLLABORATION_OPERATION)
        document = checked.document
        read_version = _str_or_none(document.get("versionIdentifier"))
        if read.version_identifier is None and read_version is not None:
            if (read.arn, read_version) in self.seen:
                return True
            self.seen.add((read.arn, read_version))
            read = replace(read, version_identifier=read_version)
        await host.out.send(
            ModelVersion(resource=_resource(document, read, host.api.region), document=document)
        )
        if not checked.conforms:
            malformed = MalformedResponseError(str(op), MALFORMED_RESPONSE, redact(checked.message))
            await self._fail(ErrorScope.COLLABORATION_MODEL, op, malformed, read.listing, read)
        return True

    # --- deferral and errors ---------------------------------------------------------------

    async def _unreadable(self, unit: CollaborationUnit, op: Operation, error: ApiError) -> bool:
        """Defer ``unit`` to the crawl's next pass when a retry may mend ``error`` and a pass
        is left (True), else report it (False)."""
        if error.retryable:
            spent = unit.spent if isinstance(unit, CollaborationRead) else unit.cursor.spent
            if isinstance(unit, CollaborationRead):
                deferred: CollaborationUnit = replace(unit, spent=spent + error.attempts)
            else:
                unit.cursor.spent += error.attempts
                deferred = unit
            if self.host._defer_collaboration(deferred):
                return True
            note = self.host._redrive_note(
                None if isinstance(unit, CollaborationRead) else unit.cursor
            )
            if note is not None:
                error.attempts += spent
                error.message = f"{error.message} ({note})"
        if isinstance(unit, CollaborationRead):
            await self._fail(ErrorScope.COLLABORATION_MODEL, op, error, unit.listing, unit)
        else:
            await self._fail(ErrorScope.COLLABORATION, op, error, unit)
        return False

    async def _fail(
        self,
        scope: ErrorScope,
        op: Operation,
        error: ApiError,
        listing: CollaborationListing,
        read: CollaborationRead | None = None,
    ) -> None:
        host = self.host
        host.stats.errors += 1
        arn = read.arn if read is not None else listing.collaboration_arn
        await host.out.send(
            ScanError(
                scope=scope,
                operation=str(op),
                code=error.code,
                message=f"collaboration {listing.collaboration_id}: {error.message}",
                attempts=error.attempts,
                account=listing.account,
                region=host.api.region,
                membership_id=listing.membership_id,
                resource_arn=arn,
                version_identifier=read.version_identifier if read is not None else None,
            )
        )


def _own(item: Mapping[str, Any], listing: CollaborationListing, scanned: set[str]) -> bool:
    """A model the scanned account (or another account of the scan) trained itself: read by
    the crawl with GetTrainedModel."""
    if item.get("membershipIdentifier") == listing.membership_id:
        return True
    creator = item.get("creatorAccountId")
    if not isinstance(creator, str) or not creator:
        return False  # no creator to tell by: read it (its record is checked)
    return creator == listing.account or creator in scanned


def _resource(document: Mapping[str, Any], read: CollaborationRead, region: str) -> Resource:
    arn = _str_or_none(document.get("trainedModelArn")) or read.arn
    if arn != read.arn:  # the listing named the model; a body naming another is untrusted
        arn = read.arn
    return Resource(
        arn=arn,
        version_identifier=_str_or_none(document.get("versionIdentifier"))
        or read.version_identifier,
        name=_interned(document.get("name")),
        membership_id=_str_or_none(document.get("membershipIdentifier")),
        collaboration_id=read.listing.collaboration_id,
        # the scanned account that saw it (its reports and findings are that account's);
        # the member that trained it is ``creator_account``
        account=read.listing.account or _interned(_arn_field(arn, 4)),
        region=region,
        status=_interned(document.get("status")),
        type=ResourceType.COLLABORATION_TRAINED_MODEL,
        creator_account=_interned(document.get("creatorAccountId")),
    )


def _arn_field(arn: str, index: int) -> str | None:
    parts = arn.split(":")
    return parts[index] or None if len(parts) > index else None


def _interned(value: object) -> str | None:
    return sys.intern(value) if isinstance(value, str) and value else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _malformed(op: Operation, message: str) -> MalformedResponseError:
    return MalformedResponseError(str(op), "MalformedResponse", message)


__all__ = [
    "CollaborationClaims",
    "CollaborationListing",
    "CollaborationRead",
    "CollaborationView",
]
