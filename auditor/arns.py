"""Reading what a Clean Rooms ML ARN says: partition, region, account, membership, model."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.models import Resource

_TRAINED_MODEL_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):cleanrooms-ml:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"membership/(?P<membership>[^/]+)/trained-model/(?P<model>[^/].*)$"
)


@dataclass(frozen=True, slots=True)
class TrainedModelArn:
    arn: str
    partition: str
    region: str
    account: str
    membership_id: str
    model_id: str


def parse_trained_model_arn(arn: str) -> TrainedModelArn | None:
    """The parts of a trained model ARN, or None when it is not one."""
    match = _TRAINED_MODEL_ARN.match(arn)
    if match is None:
        return None
    return TrainedModelArn(
        arn=arn,
        partition=match["partition"],
        region=match["region"],
        account=match["account"],
        membership_id=match["membership"],
        model_id=match["model"],
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def resource_from_document(
    document: Mapping[str, Any], *, account: str | None = None, region: str | None = None
) -> Resource:
    """Identify a GetTrainedModel body; account and region come from its ARN when not given.

    Raises ``ValueError`` when the body has no ``trainedModelArn`` string.
    """
    arn = _text(document.get("trainedModelArn"))
    if arn is None:
        raise ValueError("record has no trainedModelArn string")
    parsed = parse_trained_model_arn(arn)
    return Resource(
        arn=arn,
        version_identifier=_text(document.get("versionIdentifier")),
        name=_text(document.get("name")),
        membership_id=_text(document.get("membershipIdentifier"))
        or (parsed.membership_id if parsed else None),
        collaboration_id=_text(document.get("collaborationIdentifier")),
        account=account or (parsed.account if parsed else None),
        region=region or (parsed.region if parsed else None),
        status=_text(document.get("status")),
    )
