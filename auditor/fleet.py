"""Synthetic estates of trained models: what the emulator serves and the benchmarks scan.

A ``Fleet`` is memberships, their trained models and every version, each version a
GetTrainedModel response body (timestamps as ISO 8601 UTC strings, as policies see them).
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
class Fleet:
    memberships: tuple[FleetMembership, ...]
    models: tuple[FleetModel, ...] = field(default=())

    def models_of(self, membership_id: str) -> tuple[FleetModel, ...]:
        return tuple(m for m in self.models if m.membership_id == membership_id)

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
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a fleet file: {exc}") from exc
    return Fleet(memberships=memberships, models=models)


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
) -> Fleet:
    """A deterministic fleet: ``models`` spread round-robin over ``memberships``.

    Each version is non-compliant with probability ``noncompliant_share``, breaking one or
    two mission controls (recorded in ``FleetVersion.violations``).
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
    return Fleet(memberships=fleet_memberships, models=tuple(fleet_models))
