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
class Fleet:
    memberships: tuple[FleetMembership, ...]
    models: tuple[FleetModel, ...] = field(default=())
    collaboration_models: tuple[FleetCollaborationModel, ...] = field(default=())

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
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a fleet file: {exc}") from exc
    return Fleet(memberships=memberships, models=models, collaboration_models=collaboration_models)


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
) -> Fleet:
    """A deterministic fleet: ``models`` spread round-robin over ``memberships``.

    Each version is non-compliant with probability ``noncompliant_share``, breaking one or
    two mission controls (recorded in ``FleetVersion.violations``). ``collaboration_models``
    models trained by ``other_members`` are spread round-robin over the memberships'
    collaborations (see ``collaboration_fleet_models``); they use their own random stream, so
    the rest of the fleet is the same with or without them.
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
    return Fleet(
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
