"""The fleet as the wire sees it: every body and list item serialised once, at startup."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor.documents import COLLABORATION_OPERATION, output_shape
from auditor.fleet import (
    INFERENCE_JOB_SUMMARY_FIELDS,
    Fleet,
    FleetCollaborationModel,
    FleetMembership,
    FleetModel,
    FleetVersion,
)

# Clean Rooms timestamps carry no timestampFormat, so rest-json uses epoch seconds;
# Clean Rooms ML declares iso8601, which the fleet's documents already hold.
MEMBERSHIP_CREATED = datetime(2025, 12, 1, tzinfo=UTC)
MEMBERSHIP_UPDATED = datetime(2025, 12, 1, 1, tzinfo=UTC)

_SUMMARY_FIELDS = (
    "createTime",
    "updateTime",
    "trainedModelArn",
    "versionIdentifier",
    "incrementalTrainingDataChannels",
    "name",
    "description",
    "membershipIdentifier",
    "collaborationIdentifier",
    "status",
    "configuredModelAlgorithmAssociationArn",
)


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def membership_summary(membership: FleetMembership) -> dict[str, Any]:
    """A ``MembershipSummary`` with every required member."""
    return {
        "id": membership.id,
        "arn": membership.arn,
        "collaborationArn": membership.collaboration_arn,
        "collaborationId": membership.collaboration_id,
        "collaborationCreatorAccountId": membership.account,
        "collaborationCreatorDisplayName": "collaboration-creator",
        "collaborationName": membership.collaboration_name,
        "createTime": MEMBERSHIP_CREATED.timestamp(),
        "updateTime": MEMBERSHIP_UPDATED.timestamp(),
        "status": membership.status,
        "memberAbilities": ["CAN_QUERY", "CAN_RECEIVE_RESULTS"],
        "paymentConfiguration": {"queryCompute": {"isResponsible": True}},
    }


def trained_model_summary(document: Mapping[str, Any]) -> dict[str, Any]:
    """A ``TrainedModelSummary`` (also the item of ListTrainedModelVersions) of one version."""
    return {key: document[key] for key in _SUMMARY_FIELDS if key in document}


@dataclass(frozen=True, slots=True)
class CatalogVersion:
    key: str  # "<model ARN>#<version id>": the counters' and faults' resource key
    version_identifier: str
    status: str
    body: bytes  # the GetTrainedModel response
    summary: bytes  # one ListTrainedModels / ListTrainedModelVersions item


@dataclass(frozen=True, slots=True)
class CatalogModel:
    arn: str
    membership_id: str
    versions: tuple[CatalogVersion, ...]
    by_version: Mapping[str, CatalogVersion]
    tags_body: bytes

    @property
    def latest(self) -> CatalogVersion:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class CatalogMembership:
    id: str
    arn: str
    region: str
    status: str
    summary: bytes
    models: tuple[CatalogModel, ...]
    account: str = ""
    collaboration_id: str = ""


@dataclass(frozen=True, slots=True)
class CatalogCollaborationModel:
    """A model as the collaboration APIs serve it: each version's body is a
    GetCollaborationTrainedModel response, its summary a ListCollaborationTrainedModels item."""

    arn: str
    collaboration_id: str
    versions: tuple[CatalogVersion, ...]
    by_version: Mapping[str, CatalogVersion]

    @property
    def latest(self) -> CatalogVersion:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class CatalogRelated:
    """One related resource's Get* body and the membership it lives in ("" for none)."""

    arn: str
    membership_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class CatalogJob:
    """One inference job, as ListTrainedModelInferenceJobs lists it."""

    model_arn: str
    version_identifier: str
    summary: bytes


@dataclass(frozen=True, slots=True)
class Catalog:
    memberships: tuple[CatalogMembership, ...]
    membership_by_id: Mapping[str, CatalogMembership]
    model_by_arn: Mapping[str, CatalogModel]
    membership_by_arn: Mapping[str, CatalogMembership]
    # by collaboration id: every member's models, the members' own included (as AWS lists them)
    collaboration_models: Mapping[str, tuple[CatalogCollaborationModel, ...]] = field(
        default_factory=dict
    )
    #: by operation, then ARN: the related resources' Get* bodies
    related: Mapping[str, Mapping[str, CatalogRelated]] = field(default_factory=dict)
    #: by membership id: its inference jobs, in creation order
    jobs: Mapping[str, tuple[CatalogJob, ...]] = field(default_factory=dict)
    #: the accounts the fleet's memberships belong to (another's algorithm is refused)
    accounts: frozenset[str] = frozenset()


def _related(fleet: Fleet) -> dict[str, dict[str, CatalogRelated]]:
    context = fleet.context
    kinds = (
        (
            "GetConfiguredModelAlgorithmAssociation",
            "configuredModelAlgorithmAssociationArn",
            context.associations,
        ),
        ("GetConfiguredModelAlgorithm", "configuredModelAlgorithmArn", context.algorithms),
        ("GetMLInputChannel", "mlInputChannelArn", context.input_channels),
        ("GetTrainedModelInferenceJob", "trainedModelInferenceJobArn", context.inference_jobs),
    )
    return {
        operation: {
            str(body[key]): CatalogRelated(
                str(body[key]), str(body.get("membershipIdentifier", "")), dumps(body)
            )
            for body in bodies
        }
        for operation, key, bodies in kinds
    }


def _jobs(fleet: Fleet) -> dict[str, tuple[CatalogJob, ...]]:
    collaborations = {m.id: m.collaboration_id for m in fleet.memberships}
    jobs: dict[str, list[CatalogJob]] = {}
    for body in fleet.context.inference_jobs:
        membership_id = str(body["membershipIdentifier"])
        summary = {key: body[key] for key in INFERENCE_JOB_SUMMARY_FIELDS if key in body}
        summary["collaborationIdentifier"] = collaborations.get(membership_id, "")
        jobs.setdefault(membership_id, []).append(
            CatalogJob(
                str(body["trainedModelArn"]),
                str(body.get("trainedModelVersionIdentifier", "")),
                dumps(summary),
            )
        )
    return {membership_id: tuple(items) for membership_id, items in jobs.items()}


def _model(model: FleetModel) -> CatalogModel:
    versions = tuple(
        CatalogVersion(
            key=f"{model.arn}#{v.version_identifier}",
            version_identifier=v.version_identifier,
            status=str(v.document.get("status", "")),
            body=dumps(v.document),
            summary=dumps(trained_model_summary(v.document)),
        )
        for v in model.versions
    )
    return CatalogModel(
        arn=model.arn,
        membership_id=model.membership_id,
        versions=versions,
        by_version={v.version_identifier: v for v in versions},
        tags_body=dumps({"tags": dict(model.latest.document.get("tags", {}))}),
    )


_COLLABORATION_SUMMARY_FIELDS = (*_SUMMARY_FIELDS, "creatorAccountId")


def collaboration_body(document: Mapping[str, Any], creator_account: str) -> dict[str, Any]:
    """A GetCollaborationTrainedModel body from a fleet document: only the members that
    operation's output shape documents (a GetTrainedModel body's ``kmsKeyArn``, ``tags``,
    ``hyperparameters``... are not shared with other members), with ``creatorAccountId``."""
    members = output_shape(COLLABORATION_OPERATION).members
    body = {key: value for key, value in document.items() if key in members}
    body.setdefault("creatorAccountId", creator_account)
    return body


def _collaboration_model(
    arn: str, collaboration_id: str, creator: str, fleet_versions: tuple[FleetVersion, ...]
) -> CatalogCollaborationModel:
    versions = []
    for version in fleet_versions:
        body = collaboration_body(version.document, creator)
        versions.append(
            CatalogVersion(
                key=f"{arn}#{version.version_identifier}",
                version_identifier=version.version_identifier,
                status=str(body.get("status", "")),
                body=dumps(body),
                summary=dumps({k: body[k] for k in _COLLABORATION_SUMMARY_FIELDS if k in body}),
            )
        )
    return CatalogCollaborationModel(
        arn=arn,
        collaboration_id=collaboration_id,
        versions=tuple(versions),
        by_version={v.version_identifier: v for v in versions},
    )


def _collaboration_models(fleet: Fleet) -> dict[str, tuple[CatalogCollaborationModel, ...]]:
    by_collaboration: dict[str, list[CatalogCollaborationModel]] = {}
    membership_of = {m.id: m for m in fleet.memberships}
    for model in fleet.models:
        membership = membership_of.get(model.membership_id)
        if membership is None or not model.versions:
            continue
        by_collaboration.setdefault(membership.collaboration_id, []).append(
            _collaboration_model(
                model.arn, membership.collaboration_id, membership.account, model.versions
            )
        )
    for other in fleet.collaboration_models:
        if other.versions:
            by_collaboration.setdefault(other.collaboration_id, []).append(_other(other))
    return {key: tuple(models) for key, models in by_collaboration.items()}


def _other(model: FleetCollaborationModel) -> CatalogCollaborationModel:
    return _collaboration_model(
        model.arn, model.collaboration_id, model.creator_account, model.versions
    )


def build_catalog(fleet: Fleet) -> Catalog:
    """Serialise every response body of ``fleet`` once; models without versions are skipped."""
    models = [_model(m) for m in fleet.models if m.versions]
    memberships = tuple(
        CatalogMembership(
            id=m.id,
            arn=m.arn,
            region=m.region,
            status=m.status,
            summary=dumps(membership_summary(m)),
            models=tuple(model for model in models if model.membership_id == m.id),
            account=m.account,
            collaboration_id=m.collaboration_id,
        )
        for m in fleet.memberships
    )
    return Catalog(
        memberships=memberships,
        membership_by_id={m.id: m for m in memberships},
        model_by_arn={m.arn: m for m in models},
        membership_by_arn={m.arn: m for m in memberships},
        # a fleet with no other members' models serves no collaboration listing at all (its
        # own models are not converted either: that would cost a big benchmark fleet's startup)
        collaboration_models=_collaboration_models(fleet) if fleet.collaboration_models else {},
        related=_related(fleet),
        jobs=_jobs(fleet),
        accounts=frozenset(m.account for m in fleet.memberships),
    )
