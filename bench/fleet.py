"""A seeded generator of realistic GetTrainedModel responses, compliant and not."""

from __future__ import annotations

import random
import uuid
from typing import Any

ALLOWED_TYPES = ["ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.g5.xlarge"]
OTHER_TYPES = ["ml.p5.48xlarge", "ml.p4d.24xlarge", "ml.g6e.48xlarge", "ml.trn1.32xlarge"]
STATUSES = ["ACTIVE"] * 12 + ["CREATE_FAILED", "DELETE_FAILED", "CREATE_IN_PROGRESS", "INACTIVE"]


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def trained_model(rng: random.Random, *, compliant_rate: float = 0.6) -> dict[str, Any]:
    """One GetTrainedModel response; about ``compliant_rate`` of them break nothing."""
    account = f"{rng.randrange(10**11, 10**12):012d}"
    region = rng.choice(["us-east-1", "us-west-2", "eu-west-1"])
    membership = _uuid(rng)
    arn = f"arn:aws:cleanrooms-ml:{region}:{account}:membership/{membership}/trained-model/{_uuid(rng)}"
    tags = {
        "owner": rng.choice(["ml-team", "ads", "risk"]),
        "cost-center": str(rng.randrange(1000, 9999)),
    }
    if rng.random() < 0.5:
        tags["project"] = rng.choice(["lookalike", "churn", "propensity"])
    document: dict[str, Any] = {
        "membershipIdentifier": membership,
        "collaborationIdentifier": _uuid(rng),
        "trainedModelArn": arn,
        "versionIdentifier": _uuid(rng),
        "name": f"model-{rng.randrange(10**6)}",
        "description": "Trained in the demo collaboration",
        "status": "ACTIVE",
        "configuredModelAlgorithmAssociationArn": arn.replace(
            "trained-model", "configured-model-algorithm-association"
        ),
        "resourceConfig": {
            "instanceType": rng.choice(ALLOWED_TYPES),
            "instanceCount": rng.choice([1, 1, 2]),
            "volumeSizeInGB": rng.choice([50, 100, 200]),
        },
        "trainingInputMode": "File",
        "stoppingCondition": {"maxRuntimeInSeconds": rng.choice([3600, 7200, 86400])},
        "metricsStatus": "PUBLISH_SUCCEEDED",
        "logsStatus": "PUBLISH_SUCCEEDED",
        "trainingContainerImageDigest": "sha256:" + _hex(rng, 64),
        "createTime": "2025-01-02T03:04:05.123000+00:00",
        "updateTime": "2025-01-02T05:04:05.123000+00:00",
        "hyperparameters": {"epochs": str(rng.randrange(1, 50)), "learning_rate": "0.01"},
        "environment": {"LOG_LEVEL": "info"},
        "kmsKeyArn": f"arn:aws:kms:{region}:{account}:key/{_uuid(rng)}",
        "tags": tags,
        "dataChannels": [
            {
                "channelName": "train",
                "mlInputChannelArn": arn + "/ml-input-channel/x",
                "s3DataDistributionType": "FullyReplicated",
            }
        ],
    }
    if rng.random() < compliant_rate:
        return document
    for _ in range(rng.randint(1, 3)):
        _break_one(rng, document)
    return document


def _break_one(rng: random.Random, document: dict[str, Any]) -> None:
    match rng.randrange(12):
        case 0:
            document.pop("kmsKeyArn", None)
        case 1:
            document["tags"].pop("cost-center", None)
        case 2:
            document["tags"]["aws:" + rng.choice(["owner", "team"])] = "x"
        case 3:
            document["resourceConfig"]["instanceType"] = rng.choice(OTHER_TYPES)
        case 4:
            document["stoppingCondition"]["maxRuntimeInSeconds"] = rng.choice([86401, 2419200])
        case 5:
            document["status"] = rng.choice(STATUSES)
        case 6:
            document["logsStatus"] = "PUBLISH_FAILED"
        case 7:
            document["environment"]["AWS_ENDPOINT_URL"] = "https://example.test"
        case 8:
            document["trainingContainerImageDigest"] = "latest"
        case 9:
            document["resourceConfig"]["instanceCount"] = 5
        case 10:
            document["tags"]["note;bad"] = "x" * rng.choice([10, 300])
        case _:
            document["kmsKeyArn"] = document.get(
                "kmsKeyArn", "arn:aws:kms:us-east-1:111122223333:key/x"
            ).replace(":key/", ":alias/")


def fleet(count: int, seed: int = 20250101) -> list[dict[str, Any]]:
    """``count`` documents, the same for the same seed."""
    rng = random.Random(seed)
    return [trained_model(rng) for _ in range(count)]
