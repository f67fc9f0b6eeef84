"""Synthetic estates of trained models: what the emulator serves and the benchmarks scan.

A ``Fleet`` is memberships, their trained models and every version, each version a
GetTrainedModel response body (timestamps as ISO 8601 UTC strings, as policies see them),
and the models other members trained in those memberships' collaborations, each version a
GetCollaborationTrainedModel response body (``collaboration_models``).
``generate_fleet`` builds one from a seed, deterministically; each non-compliant version
records the mission controls it was built to violate, so tests know the expected verdicts.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"

REQUIRED_TAGS = ("owner", "cost-center")
ALLOWED_INSTANCE_TYPES = ("ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.xlarge", "ml.c5.2xlarge")
DISALLOWED_INSTANCE_TYPES = ("ml.p5.48xlarge", "ml.p4d.24xlarge", "ml.g5.48xlarge")
MAX_RUNTIME_SECONDS = 86_400

# Mission-control ids (the shipped pack's) that ``Violation`` values break.
KMS_KEY_PRESENT = "kms-key-present"
REQUIRED_TAGS_ID = "required-tags"
ALLOWED_INSTANCE_TYPES_ID = "allowed-instance-types"
MAX_TRAINING_RUNTIME = "max-training-runtime"
NO_RESERVED_TAG_PREFIX = "no-reserved-tag-prefix"
MISSION_CONTROLS = (
    KMS_KEY_PRESENT,
    REQUIRED_TAGS_ID,
    ALLOWED_INSTANCE_TYPES_ID,
    MAX_TRAINING_RUNTIME,
    NO_RESERVED_TAG_PREFIX,
)

# The other members of the generated collaborations; the first two are the partners the
# shipped pack's ``trusted_creator_accounts`` param is set to in the demo.
OTHER_MEMBER_ACCOUNTS = ("444455556666", "555566667777", "777788889999")
TRUSTED_CREATOR_ACCOUNTS = OTHER_MEMBER_ACCOUNTS[:2]
# Collaboration-model controls (the shipped pack's ``collaboration-trained-model`` policies)
# that a generated collaboration model version may break.
COLLABORATION_INSTANCE_TYPES_ID = "collaboration-allowed-instance-types"
COLLABORATION_MAX_RUNTIME_ID = "collaboration-max-training-runtime"
COLLABORATION_NOT_FAILED_ID = "collaboration-model-not-failed"
COLLABORATION_TRUSTED_CREATOR_ID = "collaboration-trusted-creator"
COLLABORATION_CONTROLS = (
    COLLABORATION_INSTANCE_TYPES_ID,
    COLLABORATION_MAX_RUNTIME_ID,
    COLLABORATION_NOT_FAILED_ID,
)


@dataclass(frozen=True, slots=True)
class FleetMembership:
    id: str
    collaboration_id: str
    collaboration_name: str
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    status: str = "ACTIVE"

    @property
    def arn(self) -> str:
        return f"arn:aws:cleanrooms:{self.region}:{self.account}:membership/{self.id}"

    @property
    def collaboration_arn(self) -> str:
        return (
            f"arn:aws:cleanrooms:{self.region}:{self.account}:collaboration/{self.collaboration_id}"
        )


@dataclass(frozen=True, slots=True)
class FleetVersion:
    """One trained model version: its GetTrainedModel body and the controls it violates."""

    document: Mapping[str, Any]
    violations: tuple[str, ...] = ()

    @property
    def version_identifier(self) -> str:
        return str(self.document["versionIdentifier"])


@dataclass(frozen=True, slots=True)
class FleetModel:
    arn: str
    membership_id: str
    versions: tuple[FleetVersion, ...]

    @property
    def latest(self) -> FleetVersion:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class FleetCollaborationModel:
    """A model another member trained in a collaboration: each version's body is a
    GetCollaborationTrainedModel response (``creatorAccountId`` is the member's account)."""

    arn: str
    collaboration_id: str
    creator_account: str
    versions: tuple[FleetVersion, ...]


@dataclass(frozen=True, slots=True)
class FleetContext:
    """The resources trained model versions refer to, as their Get* response bodies.

    ``associations`` (GetConfiguredModelAlgorithmAssociation), ``algorithms``
    (GetConfiguredModelAlgorithm: only those the fleet's accounts own; an algorithm ARN in
    another account is refused), ``input_channels`` (GetMLInputChannel), ``inference_jobs``
    (GetTrainedModelInferenceJob). ``risks`` names, by resource ARN, what each was built to
    get wrong (``CONTEXT_RISKS``), so tests know the expected verdicts.
    """

    associations: tuple[Mapping[str, Any], ...] = ()
    algorithms: tuple[Mapping[str, Any], ...] = ()
    input_channels: tuple[Mapping[str, Any], ...] = ()
    inference_jobs: tuple[Mapping[str, Any], ...] = ()
    risks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "associations": list(self.associations),
            "algorithms": list(self.algorithms),
            "input_channels": list(self.input_channels),
            "inference_jobs": list(self.inference_jobs),
            "risks": {arn: list(risks) for arn, risks in self.risks.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FleetContext:
        return cls(
            associations=tuple(raw.get("associations", ())),
            algorithms=tuple(raw.get("algorithms", ())),
            input_channels=tuple(raw.get("input_channels", ())),
            inference_jobs=tuple(raw.get("inference_jobs", ())),
            risks={arn: tuple(risks) for arn, risks in raw.get("risks", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Fleet:
    memberships: tuple[FleetMembership, ...]
    models: tuple[FleetModel, ...] = field(default=())
    collaboration_models: tuple[FleetCollaborationModel, ...] = field(default=())
    context: FleetContext = field(default_factory=FleetContext)

    def models_of(self, membership_id: str) -> tuple[FleetModel, ...]:
        return tuple(m for m in self.models if m.membership_id == membership_id)

    def collaboration_models_of(self, collaboration_id: str) -> tuple[FleetCollaborationModel, ...]:
        """The models other members trained in one collaboration."""
        return tuple(m for m in self.collaboration_models if m.collaboration_id == collaboration_id)

    def versions(self) -> Iterator[FleetVersion]:
        for model in self.models:
            yield from model.versions

    @property
    def version_count(self) -> int:
        return sum(len(m.versions) for m in self.models)

    def to_json(self) -> str:
        return json.dumps(
            {
                "memberships": [
                    {
                        "id": m.id,
                        "collaboration_id": m.collaboration_id,
                        "collaboration_name": m.collaboration_name,
                        "account": m.account,
                        "region": m.region,
                        "status": m.status,
                    }
                    for m in self.memberships
                ],
                "models": [
                    {
                        "arn": model.arn,
                        "membership_id": model.membership_id,
                        "versions": [
                            {"document": v.document, "violations": list(v.violations)}
                            for v in model.versions
                        ],
                    }
                    for model in self.models
                ],
                "collaboration_models": [
                    {
                        "arn": model.arn,
                        "collaboration_id": model.collaboration_id,
                        "creator_account": model.creator_account,
                        "versions": [
                            {"document": v.document, "violations": list(v.violations)}
                            for v in model.versions
                        ],
                    }
                    for model in self.collaboration_models
                ],
                "context": self.context.to_dict(),
            },
            indent=1,
        )


def load_fleet(path: Path) -> Fleet:
    """Read a fleet written by ``Fleet.to_json``; raises ``ValueError`` on a malformed file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        memberships = tuple(FleetMembership(**m) for m in raw["memberships"])
        models = tuple(
            FleetModel(
                arn=model["arn"],
                membership_id=model["membership_id"],
                versions=tuple(
                    FleetVersion(document=v["document"], violations=tuple(v.get("violations", ())))
                    for v in model["versions"]
                ),
            )
            for model in raw["models"]
        )
        collaboration_models = tuple(
            FleetCollaborationModel(
                arn=model["arn"],
                collaboration_id=model["collaboration_id"],
                creator_account=model["creator_account"],
                versions=tuple(
                    FleetVersion(document=v["document"], violations=tuple(v.get("violations", ())))
                    for v in model["versions"]
                ),
            )
            for model in raw.get("collaboration_models", ())
        )
        context = FleetContext.from_dict(raw.get("context", {}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a fleet file: {exc}") from exc
    return Fleet(
        memberships=memberships,
        models=models,
        collaboration_models=collaboration_models,
        context=context,
    )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def compliant_document(
    rng: random.Random,
    *,
    membership: FleetMembership,
    model_arn: str,
    name: str,
    version_identifier: str,
    created: datetime,
) -> dict[str, Any]:
    """A GetTrainedModel body that passes every control of the shipped pack."""
    account, region = membership.account, membership.region
    return {
        "membershipIdentifier": membership.id,
        "collaborationIdentifier": membership.collaboration_id,
        "trainedModelArn": model_arn,
        "versionIdentifier": version_identifier,
        "name": name,
        "description": f"Propensity model {name}",
        "status": "ACTIVE",
        "configuredModelAlgorithmAssociationArn": (
            f"arn:aws:cleanrooms-ml:{region}:{account}:membership/{membership.id}"
            f"/configured-model-algorithm-association/{_uuid(rng)}"
        ),
        "resourceConfig": {
            "instanceType": rng.choice(ALLOWED_INSTANCE_TYPES),
            "instanceCount": rng.randint(1, 2),
            "volumeSizeInGB": rng.choice((50, 100, 200)),
        },
        "trainingInputMode": "File",
        "stoppingCondition": {"maxRuntimeInSeconds": rng.choice((3600, 14_400, 43_200, 86_400))},
        "metricsStatus": "PUBLISH_SUCCEEDED",
        "logsStatus": "PUBLISH_SUCCEEDED",
        "trainingContainerImageDigest": f"sha256:{rng.getrandbits(256):064x}",
        "createTime": _iso(created),
        "updateTime": _iso(created + timedelta(hours=rng.randint(1, 30))),
        "hyperparameters": {"epochs": str(rng.randint(5, 50)), "learning_rate": "0.01"},
        "environment": {"LOG_LEVEL": "INFO"},
        "kmsKeyArn": f"arn:aws:kms:{region}:{account}:key/{_uuid(rng)}",
        "tags": {
            "owner": rng.choice(("ml-platform", "data-science", "ads-measurement")),
            "cost-center": f"cc-{rng.randint(1000, 9999)}",
            "environment": rng.choice(("prod", "staging")),
        },
        "dataChannels": [
            {
                "mlInputChannelArn": (
                    f"arn:aws:cleanrooms-ml:{region}:{account}:membership/{membership.id}"
                    f"/ml-input-channel/{_uuid(rng)}"
                ),
                "channelName": "train",
            }
        ],
    }


def _violate(rng: random.Random, document: dict[str, Any], control: str) -> None:
    tags = document["tags"]
    if control == KMS_KEY_PRESENT:
        del document["kmsKeyArn"]
    elif control == REQUIRED_TAGS_ID:
        del tags[rng.choice(REQUIRED_TAGS)]
    elif control == ALLOWED_INSTANCE_TYPES_ID:
        document["resourceConfig"]["instanceType"] = rng.choice(DISALLOWED_INSTANCE_TYPES)
    elif control == MAX_TRAINING_RUNTIME:
        document["stoppingCondition"]["maxRuntimeInSeconds"] = MAX_RUNTIME_SECONDS + rng.choice(
            (1, 3600, 604_800)
        )
    elif control == NO_RESERVED_TAG_PREFIX:
        tags[rng.choice(("aws:owner", "AWS:team", "aWs:cost"))] = "squatter"
    else:  # pragma: no cover - programming error in this module
        raise AssertionError(control)


def generate_fleet(
    *,
    seed: int = 7,
    memberships: int = 3,
    models: int = 30,
    versions_per_model: tuple[int, int] = (1, 3),
    noncompliant_share: float = 0.3,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    accounts: Sequence[str] | None = None,
    collaboration_models: int = 0,
    other_members: Sequence[str] = OTHER_MEMBER_ACCOUNTS,
    context: bool = False,
) -> Fleet:
    """A deterministic fleet: ``models`` spread round-robin over ``memberships``.

    Each version is non-compliant with probability ``noncompliant_share``, breaking one or
    two mission controls (recorded in ``FleetVersion.violations``). ``collaboration_models``
    models trained by ``other_members`` are spread round-robin over the memberships'
    collaborations (see ``collaboration_fleet_models``); they use their own random stream, so
    the rest of the fleet is the same with or without them. ``context``: also the resources
    the versions refer to (``with_context``).
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    member_accounts = tuple(accounts) if accounts else (account,)
    fleet_memberships = tuple(
        FleetMembership(
            id=_uuid(rng),
            collaboration_id=_uuid(rng),
            collaboration_name=f"collaboration-{index}",
            account=member_accounts[index % len(member_accounts)],
            region=region,
        )
        for index in range(memberships)
    )
    fleet_models: list[FleetModel] = []
    low, high = versions_per_model
    for index in range(models):
        membership = fleet_memberships[index % len(fleet_memberships)]
        name = f"model-{index:05d}"
        model_arn = (
            f"arn:aws:cleanrooms-ml:{membership.region}:{membership.account}:membership/"
            f"{membership.id}/trained-model/{_uuid(rng)}"
        )
        created = _EPOCH + timedelta(minutes=index)
        versions: list[FleetVersion] = []
        for number in range(rng.randint(low, high)):
            document = compliant_document(
                rng,
                membership=membership,
                model_arn=model_arn,
                name=name,
                version_identifier=_uuid(rng),
                created=created + timedelta(days=number),
            )
            violations: tuple[str, ...] = ()
            if rng.random() < noncompliant_share:
                violations = tuple(sorted(rng.sample(MISSION_CONTROLS, rng.choice((1, 1, 2)))))
                for control in violations:
                    _violate(rng, document, control)
            versions.append(FleetVersion(document=document, violations=violations))
        fleet_models.append(
            FleetModel(arn=model_arn, membership_id=membership.id, versions=tuple(versions))
        )
    fleet = Fleet(
        memberships=fleet_memberships,
        models=tuple(fleet_models),
        collaboration_models=collaboration_fleet_models(
            random.Random(seed + 1),  # noqa: S311 - synthetic data, not secrets
            fleet_memberships,
            count=collaboration_models,
            other_members=other_members,
            noncompliant_share=noncompliant_share,
        ),
    )
    return with_context(fleet, seed=seed) if context else fleet


# What a related resource of the generated context can get wrong (the context pack's ids).
LOGS_SHARED_RAW = "training-logs-not-shared-raw"
METRICS_NOISE = "training-metrics-noised"
EXPORTS_CAPPED = "model-exports-capped"
INFERENCE_OUTPUT_CAPPED = "inference-output-capped"
ARTIFACT_SIZE_CAPPED = "artifact-size-capped"
CHANNEL_ENCRYPTED = "input-channels-encrypted"
CHANNEL_RETENTION = "input-channel-retention-capped"
FOREIGN_ALGORITHM = "foreign-algorithm"  # owned by another account: reading it is refused
CONTEXT_RISKS = (
    LOGS_SHARED_RAW,
    METRICS_NOISE,
    EXPORTS_CAPPED,
    INFERENCE_OUTPUT_CAPPED,
    ARTIFACT_SIZE_CAPPED,
    CHANNEL_ENCRYPTED,
    CHANNEL_RETENTION,
)
FOREIGN_ACCOUNT = "999988887777"
CONTEXT_MAX_EXPORT_GB = 1.0
CONTEXT_MAX_INFERENCE_OUTPUT_GB = 5.0
CONTEXT_MAX_ARTIFACT_GB = 5.0
CONTEXT_MAX_RETENTION_DAYS = 14


def _gb(value: float) -> dict[str, Any]:
    return {"unit": "GB", "value": value}


def _privacy(rng: random.Random, own_account: str, risks: list[str]) -> dict[str, Any]:
    """A ``PrivacyConfiguration``; each risk taken with a small probability."""
    logs: dict[str, Any] = {"allowedAccountIds": [own_account], "logType": "ERROR_SUMMARY"}
    if rng.random() < 0.25:
        logs = {"allowedAccountIds": [own_account, FOREIGN_ACCOUNT], "logType": "ALL"}
        risks.append(LOGS_SHARED_RAW)
    elif rng.random() < 0.3:
        logs = {
            "allowedAccountIds": [FOREIGN_ACCOUNT],
            "logType": "ALL",
            "logRedactionConfiguration": {
                "entitiesToRedact": ["ALL_PERSONALLY_IDENTIFIABLE_INFORMATION"]
            },
        }
    noise = rng.choice(("HIGH", "MEDIUM", "LOW"))
    if rng.random() < 0.15:
        noise = "NONE"
        risks.append(METRICS_NOISE)
    artifact = rng.choice((1.0, 2.0, 5.0))
    if rng.random() < 0.1:
        artifact = 10.0
        risks.append(ARTIFACT_SIZE_CAPPED)
    policies: dict[str, Any] = {
        "trainedModels": {
            "containerLogs": [logs],
            "containerMetrics": {"noiseLevel": noise},
            "maxArtifactSize": _gb(artifact),
        }
    }
    if rng.random() < 0.6:
        exports: dict[str, Any] = {"maxSize": _gb(0.5), "filesToExport": ["MODEL"]}
        if rng.random() < 0.2:
            exports = {"maxSize": _gb(10.0), "filesToExport": ["MODEL", "OUTPUT"]}
            risks.append(EXPORTS_CAPPED)
        policies["trainedModelExports"] = exports
    output = rng.choice((1.0, 5.0))
    if rng.random() < 0.1:
        output = 50.0
        risks.append(INFERENCE_OUTPUT_CAPPED)
    policies["trainedModelInferenceJobs"] = {
        "containerLogs": [{"allowedAccountIds": [own_account], "logType": "ERROR_SUMMARY"}],
        "maxOutputSize": _gb(output),
    }
    return {"policies": policies}


def with_context(fleet: Fleet, *, seed: int = 7) -> Fleet:
    """``fleet`` with what its versions refer to: one configured model algorithm
    association per model (some with risky privacy configurations), algorithms (some owned
    by another account), a pool of ML input channels per membership (some unencrypted or
    kept long), incremental chains (a model trained on an earlier model's version) and
    inference jobs (on failing versions too). Deterministic for a seed; the versions'
    ``violations`` are unchanged (context findings are in ``FleetContext.risks``).
    """
    rng = random.Random(seed * 7919 + 17)  # noqa: S311 - synthetic data, not secrets
    associations: list[Mapping[str, Any]] = []
    algorithms: list[Mapping[str, Any]] = []
    channels: list[Mapping[str, Any]] = []
    jobs: list[Mapping[str, Any]] = []
    risks: dict[str, tuple[str, ...]] = {}
    memberships = {m.id: m for m in fleet.memberships}
    algorithm_arns: dict[str, list[str]] = {}
    channel_arns: dict[str, list[str]] = {}
    created = _iso(_EPOCH)
    for membership in fleet.memberships:
        own = []
        for index in range(2):
            arn = (
                f"arn:aws:cleanrooms-ml:{membership.region}:{membership.account}:"
                f"configured-model-algorithm/{_uuid(rng)}"
            )
            own.append(arn)
            algorithms.append(
                {
                    "createTime": created,
                    "updateTime": created,
                    "configuredModelAlgorithmArn": arn,
                    "name": f"algorithm-{index}",
                    "trainingContainerConfig": {
                        "imageUri": f"{membership.account}.dkr.ecr.{membership.region}."
                        f"amazonaws.com/train@sha256:{rng.getrandbits(256):064x}"
                    },
                    "roleArn": f"arn:aws:iam::{membership.account}:role/cleanrooms-ml-algorithm",
                    "kmsKeyArn": f"arn:aws:kms:{membership.region}:{membership.account}:key/"
                    f"{_uuid(rng)}",
                }
            )
        foreign = (
            f"arn:aws:cleanrooms-ml:{membership.region}:{FOREIGN_ACCOUNT}:"
            f"configured-model-algorithm/{_uuid(rng)}"
        )
        risks[foreign] = (FOREIGN_ALGORITHM,)
        algorithm_arns[membership.id] = [*own, foreign]
        pool = []
        for index in range(5):
            arn = (
                f"arn:aws:cleanrooms-ml:{membership.region}:{membership.account}:membership/"
                f"{membership.id}/ml-input-channel/{_uuid(rng)}"
            )
            pool.append(arn)
            channel_risks: list[str] = []
            channel: dict[str, Any] = {
                "membershipIdentifier": membership.id,
                "collaborationIdentifier": membership.collaboration_id,
                "mlInputChannelArn": arn,
                "name": f"channel-{index}",
                "configuredModelAlgorithmAssociations": [],
                "status": "ACTIVE",
                "retentionInDays": rng.choice((7, 14)),
                "numberOfRecords": rng.randint(10_000, 5_000_000),
                "createTime": created,
                "updateTime": created,
                "inputChannel": {
                    "dataSource": {
                        "protectedQueryInputParameters": {
                            "sqlParameters": {"queryString": "SELECT * FROM audience"},
                            "resultFormat": "PARQUET",
                        }
                    },
                    "roleArn": f"arn:aws:iam::{membership.account}:role/cleanrooms-ml-channel",
                },
                "kmsKeyArn": f"arn:aws:kms:{membership.region}:{membership.account}:key/"
                f"{_uuid(rng)}",
            }
            if rng.random() < 0.3:
                del channel["kmsKeyArn"]
                channel_risks.append(CHANNEL_ENCRYPTED)
            if rng.random() < 0.2:
                channel["retentionInDays"] = 30
                channel_risks.append(CHANNEL_RETENTION)
            if channel_risks:
                risks[arn] = tuple(channel_risks)
            channels.append(channel)
        channel_arns[membership.id] = pool
    models: list[FleetModel] = []
    by_membership: dict[str, list[FleetModel]] = {}
    for model in fleet.models:
        membership = memberships[model.membership_id]
        association_arn = (
            f"arn:aws:cleanrooms-ml:{membership.region}:{membership.account}:membership/"
            f"{membership.id}/configured-model-algorithm-association/{_uuid(rng)}"
        )
        association_risks: list[str] = []
        privacy = _privacy(rng, membership.account, association_risks)
        algorithm = rng.choice(algorithm_arns[membership.id])
        associations.append(
            {
                "createTime": created,
                "updateTime": created,
                "configuredModelAlgorithmAssociationArn": association_arn,
                "membershipIdentifier": membership.id,
                "collaborationIdentifier": membership.collaboration_id,
                "configuredModelAlgorithmArn": algorithm,
                "name": f"association-{model.arn.rsplit('/', 1)[-1][:8]}",
                "privacyConfiguration": privacy,
            }
        )
        if association_risks:
            risks[association_arn] = tuple(association_risks)
        earlier = by_membership.setdefault(model.membership_id, [])
        base = rng.choice(earlier) if earlier and rng.random() < 0.3 else None
        base_version = rng.choice(base.versions) if base is not None else None
        versions = []
        for version in model.versions:
            document = dict(version.document)
            document["configuredModelAlgorithmAssociationArn"] = association_arn
            document["dataChannels"] = [
                {"mlInputChannelArn": arn, "channelName": f"train-{index}"}
                for index, arn in enumerate(
                    rng.sample(channel_arns[model.membership_id], rng.choice((1, 1, 2)))
                )
            ]
            if base is not None and base_version is not None:
                document["incrementalTrainingDataChannels"] = [
                    {
                        "channelName": "base",
                        "versionIdentifier": base_version.version_identifier,
                        "modelName": base_version.document["name"],
                    }
                ]
            job_chance = 0.6 if version.violations else 0.25
            for _ in range(rng.choice((1, 2)) if rng.random() < job_chance else 0):
                jobs.append(_inference_job(rng, membership, document, association_arn))
            versions.append(FleetVersion(document=document, violations=version.violations))
        updated = FleetModel(model.arn, model.membership_id, tuple(versions))
        earlier.append(updated)
        models.append(updated)
    return Fleet(
        memberships=fleet.memberships,
        models=tuple(models),
        collaboration_models=fleet.collaboration_models,
        context=FleetContext(
            associations=tuple(associations),
            algorithms=tuple(algorithms),
            input_channels=tuple(channels),
            inference_jobs=tuple(jobs),
            risks=risks,
        ),
    )


def collaboration_document(
    rng: random.Random,
    *,
    collaboration_id: str,
    creator_membership_id: str,
    creator_account: str,
    region: str,
    model_arn: str,
    name: str,
    version_identifier: str,
    created: datetime,
) -> dict[str, Any]:
    """A GetCollaborationTrainedModel body (every member the service model documents for
    it) that passes every ``collaboration-trained-model`` control of the shipped pack when
    ``creator_account`` is trusted."""
    return {
        "membershipIdentifier": creator_membership_id,
        "collaborationIdentifier": collaboration_id,
        "trainedModelArn": model_arn,
        "versionIdentifier": version_identifier,
        "name": name,
        "description": f"Lookalike model {name}",
        "status": "ACTIVE",
        "configuredModelAlgorithmAssociationArn": (
            f"arn:aws:cleanrooms-ml:{region}:{creator_account}:membership/{creator_membership_id}"
            f"/configured-model-algorithm-association/{_uuid(rng)}"
        ),
        "resourceConfig": {
            "instanceType": rng.choice(ALLOWED_INSTANCE_TYPES),
            "instanceCount": 1,
            "volumeSizeInGB": rng.choice((50, 100)),
        },
        "trainingInputMode": "File",
        "stoppingCondition": {"maxRuntimeInSeconds": rng.choice((3600, 43_200, 86_400))},
        "metricsStatus": "PUBLISH_SUCCEEDED",
        "logsStatus": "PUBLISH_SUCCEEDED",
        "trainingContainerImageDigest": f"sha256:{rng.getrandbits(256):064x}",
        "createTime": _iso(created),
        "updateTime": _iso(created + timedelta(hours=rng.randint(1, 30))),
        "creatorAccountId": creator_account,
    }


def _violate_collaboration(rng: random.Random, document: dict[str, Any], control: str) -> None:
    if control == COLLABORATION_INSTANCE_TYPES_ID:
        document["resourceConfig"]["instanceType"] = rng.choice(DISALLOWED_INSTANCE_TYPES)
    elif control == COLLABORATION_MAX_RUNTIME_ID:
        document["stoppingCondition"]["maxRuntimeInSeconds"] = MAX_RUNTIME_SECONDS + 3600
    elif control == COLLABORATION_NOT_FAILED_ID:
        document["status"] = "CREATE_FAILED"
        document["statusDetails"] = {"statusCode": "TrainingFailed", "message": "training failed"}
    else:  # pragma: no cover - programming error in this module
        raise AssertionError(control)


def collaboration_fleet_models(
    rng: random.Random,
    memberships: Sequence[FleetMembership],
    *,
    count: int,
    other_members: Sequence[str] = OTHER_MEMBER_ACCOUNTS,
    noncompliant_share: float = 0.3,
    versions_per_model: tuple[int, int] = (1, 2),
) -> tuple[FleetCollaborationModel, ...]:
    """``count`` models trained by ``other_members`` in the collaborations of
    ``memberships`` (round-robin over both). A version breaks one collaboration control with
    probability ``noncompliant_share``; every version by a member outside
    ``TRUSTED_CREATOR_ACCOUNTS`` breaks ``collaboration-trusted-creator`` as well."""
    collaborations = list(dict.fromkeys((m.collaboration_id, m.region) for m in memberships))
    if not collaborations or not other_members or count <= 0:
        return ()
    member_ids: dict[tuple[str, str], str] = {}  # (collaboration, member) -> its membership
    out: list[FleetCollaborationModel] = []
    low, high = versions_per_model
    for index in range(count):
        collaboration_id, region = collaborations[index % len(collaborations)]
        creator = other_members[(index // len(collaborations)) % len(other_members)]
        creator_membership = member_ids.setdefault((collaboration_id, creator), _uuid(rng))
        arn = (
            f"arn:aws:cleanrooms-ml:{region}:{creator}:membership/{creator_membership}"
            f"/trained-model/{_uuid(rng)}"
        )
        created = _EPOCH + timedelta(hours=index)
        versions: list[FleetVersion] = []
        for number in range(rng.randint(low, high)):
            document = collaboration_document(
                rng,
                collaboration_id=collaboration_id,
                creator_membership_id=creator_membership,
                creator_account=creator,
                region=region,
                model_arn=arn,
                name=f"partner-model-{index:04d}",
                version_identifier=_uuid(rng),
                created=created + timedelta(days=number),
            )
            violations: list[str] = []
            if rng.random() < noncompliant_share:
                control = rng.choice(COLLABORATION_CONTROLS)
                _violate_collaboration(rng, document, control)
                violations.append(control)
            if creator not in TRUSTED_CREATOR_ACCOUNTS:
                violations.append(COLLABORATION_TRUSTED_CREATOR_ID)
            versions.append(FleetVersion(document=document, violations=tuple(sorted(violations))))
        out.append(
            FleetCollaborationModel(
                arn=arn,
                collaboration_id=collaboration_id,
                creator_account=creator,
                versions=tuple(versions),
            )
        )
    return tuple(out)


def _inference_job(
    rng: random.Random,
    membership: FleetMembership,
    document: Mapping[str, Any],
    association_arn: str,
) -> dict[str, Any]:
    """A GetTrainedModelInferenceJob body for a job using ``document``'s version."""
    arn = (
        f"arn:aws:cleanrooms-ml:{membership.region}:{membership.account}:membership/"
        f"{membership.id}/trained-model-inference-job/{_uuid(rng)}"
    )
    receiver = rng.choice((membership.account, FOREIGN_ACCOUNT))
    created = _iso(_EPOCH + timedelta(days=rng.randint(1, 60)))
    return {
        "createTime": created,
        "updateTime": created,
        "trainedModelInferenceJobArn": arn,
        "configuredModelAlgorithmAssociationArn": association_arn,
        "name": f"inference-{arn.rsplit('/', 1)[-1][:8]}",
        "status": rng.choice(("ACTIVE", "ACTIVE", "INACTIVE", "CREATE_IN_PROGRESS")),
        "trainedModelArn": document["trainedModelArn"],
        "trainedModelVersionIdentifier": document["versionIdentifier"],
        "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1},
        "outputConfiguration": {"accept": "text/csv", "members": [{"accountId": receiver}]},
        "membershipIdentifier": membership.id,
        "dataSource": {"mlInputChannelArn": document["dataChannels"][0]["mlInputChannelArn"]},
        "kmsKeyArn": f"arn:aws:kms:{membership.region}:{membership.account}:key/{_uuid(rng)}",
    }


INFERENCE_JOB_SUMMARY_FIELDS = (
    "trainedModelInferenceJobArn",
    "configuredModelAlgorithmAssociationArn",
    "membershipIdentifier",
    "trainedModelArn",
    "trainedModelVersionIdentifier",
    "status",
    "outputConfiguration",
    "name",
    "description",
    "metricsStatus",
    "metricsStatusDetails",
    "logsStatus",
    "logsStatusDetails",
    "createTime",
    "updateTime",
)
