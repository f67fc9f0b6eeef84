"""Context roots: the related documents a policy on a trained model version may read.

A path whose first key is one of ``CONTEXT_ROOTS`` reads a related resource instead of the
GetTrainedModel response: ``$association.privacyConfiguration.policies...``. The crawler
fetches a root only when an enabled policy names it (``PolicySet.context_roots``) and hands
it over in ``ModelVersion.context``; the engine sees one document holding both.

A root the scan could not read holds an ``Unreadable``: every path into it is unknown
(paths treat it like a parent that is not an object), and evidence names its ARN and error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.models import Evidence, EvidenceKind, Unreadable
from auditor.policy.paths import Locus

ASSOCIATION = "$association"
ALGORITHM = "$algorithm"
INPUT_CHANNELS = "$inputChannels"
BASE_MODELS = "$baseModels"
INFERENCE_JOBS = "$inferenceJobs"

#: Every context root, with the API call that fills it.
CONTEXT_ROOTS: Mapping[str, str] = {
    ASSOCIATION: "GetConfiguredModelAlgorithmAssociation",
    ALGORITHM: "GetConfiguredModelAlgorithm",
    INPUT_CHANNELS: "GetMLInputChannel, one per data channel (a list)",
    BASE_MODELS: "each incremental-training base version, with this scan's verdicts (a list)",
    INFERENCE_JOBS: "GetTrainedModelInferenceJob for each job using this version (a list)",
}


def is_context_key(key: str) -> bool:
    return key.startswith("$")


def with_context(document: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The document a policy sees: the version's response and its context roots.

    The roots come last, so a response that itself holds a ``$``-key cannot stand in for
    a related resource the scan read.
    """
    return {**document, **context}


def unreadable_in(value: Any) -> Unreadable | None:
    return value if value.__class__ is Unreadable else None


def unreadable_evidence(unreadable: Unreadable, here: Locus, expected: Any) -> Evidence:
    """Evidence for a leaf whose value lies in a related resource the scan could not read."""
    message = (
        f"{here.phrase} is unknown: the related resource could not be read "
        f"({unreadable.describe()})"
    )
    return Evidence(
        path=here.path,
        actual=None,
        expected=expected,
        message=message,
        kind=EvidenceKind.MISSING,
    )
