"""Canned GetTrainedModel documents and helpers for policy tests."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from auditor.policy import PolicySet, load_pack_document

ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/11111111-2222-3333-4444-555555555555/trained-model/abcd"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DIGEST = "sha256:" + "ab" * 32

COMPLIANT: dict[str, Any] = {
    "membershipIdentifier": "11111111-2222-3333-4444-555555555555",
    "collaborationIdentifier": "66666666-7777-8888-9999-000000000000",
    "trainedModelArn": ARN,
    "versionIdentifier": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "name": "lookalike-v1",
    "status": "ACTIVE",
    "configuredModelAlgorithmAssociationArn": ARN.replace(
        "trained-model", "configured-model-algorithm-association"
    ),
    "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1, "volumeSizeInGB": 100},
    "stoppingCondition": {"maxRuntimeInSeconds": 86400},
    "logsStatus": "PUBLISH_SUCCEEDED",
    "metricsStatus": "PUBLISH_SUCCEEDED",
    "trainingContainerImageDigest": DIGEST,
    "createTime": "2025-01-02T03:04:05Z",
    "updateTime": "2025-01-02T04:04:05Z",
    "hyperparameters": {"epochs": "10"},
    "environment": {"LOG_LEVEL": "info"},
    "kmsKeyArn": KEY_ARN,
    "tags": {"owner": "ml-team", "cost-center": "4711"},
    "dataChannels": [{"channelName": "train", "mlInputChannelArn": ARN + "/input"}],
}

#: Breaks every mission control at once.
NONCOMPLIANT: dict[str, Any] = {
    **COMPLIANT,
    "kmsKeyArn": None,
    "tags": {"Owner": "ml-team", "aws:created-by": "someone"},
    "resourceConfig": {"instanceType": "ml.p5.48xlarge", "instanceCount": 5, "volumeSizeInGB": 100},
    "stoppingCondition": {"maxRuntimeInSeconds": 86401},
}


# What GetCollaborationTrainedModel returns for a compliant model another member trained.
COLLABORATION_COMPLIANT: dict[str, Any] = {
    "membershipIdentifier": "22222222-2222-3333-4444-555555555555",
    "collaborationIdentifier": "66666666-7777-8888-9999-000000000000",
    "trainedModelArn": COMPLIANT["trainedModelArn"].replace("111122223333", "444455556666"),
    "versionIdentifier": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "name": "partner-model",
    "status": "ACTIVE",
    "configuredModelAlgorithmAssociationArn": COMPLIANT["configuredModelAlgorithmAssociationArn"],
    "resourceConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1, "volumeSizeInGB": 100},
    "stoppingCondition": {"maxRuntimeInSeconds": 3600},
    "trainingContainerImageDigest": COMPLIANT["trainingContainerImageDigest"],
    "createTime": "2025-01-02T03:04:05Z",
    "updateTime": "2025-01-02T04:04:05Z",
    "creatorAccountId": "444455556666",
}


@pytest.fixture
def compliant() -> dict[str, Any]:
    return copy.deepcopy(COMPLIANT)


@pytest.fixture
def noncompliant() -> dict[str, Any]:
    return copy.deepcopy(NONCOMPLIANT)


def pack_with(
    check: Mapping[str, Any],
    *,
    params: Mapping[str, Any] | None = None,
    where: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> PolicySet:
    """A one-policy pack (id ``p``) around ``check``, validated and compiled like any pack."""
    policy: dict[str, Any] = {"id": "p", "title": "P", "severity": "high", "check": check}
    if where is not None:
        policy["where"] = where
    data: dict[str, Any] = {"version": 1, "policies": [policy]}
    if params is not None:
        data["params"] = dict(params)
    return load_pack_document(data, overrides=overrides)


@pytest.fixture
def write_pack(tmp_path: Path) -> Callable[..., Path]:
    """Write pack text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "pack.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
