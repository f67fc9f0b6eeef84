"""The seam between the crawler and AWS: one method per read operation, parsed pages out.

``CleanRoomsApi`` is all the pipeline knows about AWS. ``auditor.crawler.aws`` implements it
over aioboto3; ``auditor.crawler.fake`` serves a ``Fleet`` from memory for tests. Every method
raises only ``auditor.errors.ApiError`` subclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Operation(StrEnum):
    """The only AWS operations the crawler may ever call: all of them read-only."""

    LIST_MEMBERSHIPS = "ListMemberships"
    LIST_TRAINED_MODELS = "ListTrainedModels"
    LIST_TRAINED_MODEL_VERSIONS = "ListTrainedModelVersions"
    GET_TRAINED_MODEL = "GetTrainedModel"
    # the collaboration view (``--collaboration-models``): models other members trained
    LIST_COLLABORATION_TRAINED_MODELS = "ListCollaborationTrainedModels"
    GET_COLLABORATION_TRAINED_MODEL = "GetCollaborationTrainedModel"
    # related resources, read only when an enabled policy names their context root
    GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION = "GetConfiguredModelAlgorithmAssociation"
    GET_CONFIGURED_MODEL_ALGORITHM = "GetConfiguredModelAlgorithm"
    GET_ML_INPUT_CHANNEL = "GetMLInputChannel"
    LIST_TRAINED_MODEL_INFERENCE_JOBS = "ListTrainedModelInferenceJobs"
    GET_TRAINED_MODEL_INFERENCE_JOB = "GetTrainedModelInferenceJob"


READ_OPERATIONS = frozenset(Operation)
#: The operations that read a version's related resources (``auditor.crawler.context``).
RELATED_OPERATIONS = frozenset(
    {
        Operation.GET_CONFIGURED_MODEL_ALGORITHM_ASSOCIATION,
        Operation.GET_CONFIGURED_MODEL_ALGORITHM,
        Operation.GET_ML_INPUT_CHANNEL,
        Operation.LIST_TRAINED_MODEL_INFERENCE_JOBS,
        Operation.GET_TRAINED_MODEL_INFERENCE_JOB,
    }
)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paged list call: the summaries and the token for the next page, if any."""

    items: tuple[Mapping[str, Any], ...]
    next_token: str | None = None


class CleanRoomsApi(Protocol):
    """Read access to Clean Rooms memberships and Clean Rooms ML trained models in one region."""

    @property
    def region(self) -> str: ...

    async def list_memberships(self, *, status: str | None, next_token: str | None) -> Page:
        """One page of ``ListMemberships`` (``membershipSummaries``), optionally by status."""
        ...

    async def list_trained_models(self, membership_id: str, *, next_token: str | None) -> Page:
        """One page of ``ListTrainedModels``: the latest version of each model."""
        ...

    async def list_trained_model_versions(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        """One page of ``ListTrainedModelVersions``: every version of one model."""
        ...

    async def get_trained_model(
        self, membership_id: str, model_arn: str, *, version_identifier: str | None
    ) -> Mapping[str, Any]:
        """The ``GetTrainedModel`` body as parsed JSON, untrusted (no ``ResponseMetadata``);
        the crawl checks it with ``auditor.documents.check_document``.

        Without ``version_identifier`` the service returns the latest version.
        """
        ...

    async def list_collaboration_trained_models(
        self, collaboration_id: str, *, next_token: str | None
    ) -> Page:
        """One page of ``ListCollaborationTrainedModels`` (``collaborationTrainedModels``):
        the models every member of one collaboration trained."""
        ...

    async def get_collaboration_trained_model(
        self, collaboration_id: str, model_arn: str, *, version_identifier: str | None
    ) -> Mapping[str, Any]:
        """The ``GetCollaborationTrainedModel`` body as parsed JSON, untrusted; the crawl
        checks it against that operation's output shape."""
        ...

    async def get_related(
        self, operation: Operation, arn: str, *, membership_id: str | None
    ) -> Mapping[str, Any]:
        """The body of one related-resource read, as parsed JSON, untrusted: ``operation`` is
        GetConfiguredModelAlgorithmAssociation, GetMLInputChannel or
        GetTrainedModelInferenceJob (in ``membership_id``), or GetConfiguredModelAlgorithm
        (``membership_id`` unused)."""
        ...

    async def list_trained_model_inference_jobs(
        self, membership_id: str, model_arn: str, *, next_token: str | None
    ) -> Page:
        """One page of ``ListTrainedModelInferenceJobs`` for one trained model."""
        ...
