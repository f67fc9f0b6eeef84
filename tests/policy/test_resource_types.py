"""Policies per resource type: each judges only its own type's documents.

A ``trained-model`` policy never fails a collaboration model (whose GetCollaborationTrainedModel
body has no kmsKeyArn, tags, ...) and a ``collaboration-trained-model`` policy never judges a
trained model; the shipped collaboration policies never pass missing or mistyped data.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from auditor.documents import COLLABORATION_OPERATION, check_document
from auditor.errors import PackError
from auditor.models import ModelVersion, Resource, ResourceType, Status
from auditor.policy import PolicySet, default_pack_path, list_policies, load_packs

from .conftest import COLLABORATION_COMPLIANT, COMPLIANT
from .test_shipped_pack import FAIL, PASS, SKIP, gone, put

COLLABORATION = ResourceType.COLLABORATION_TRAINED_MODEL
TRAINED = ResourceType.TRAINED_MODEL
BOTH = frozenset(ResourceType)

MISSING_AND_MISTYPED = {
    "collaboration-trusted-creator": [
        (gone("creatorAccountId"), FAIL),
        (put(444455556666, "creatorAccountId"), FAIL),
        (put("999988887777", "creatorAccountId"), FAIL),
    ],
    "collaboration-allowed-instance-types": [
        (gone("resourceConfig", "instanceType"), FAIL),
        (put([{"instanceType": "ml.m5.xlarge"}], "resourceConfig"), FAIL),
    ],
    "collaboration-max-training-runtime": [
        (gone("stoppingCondition"), FAIL),
        (put("3600", "stoppingCondition", "maxRuntimeInSeconds"), FAIL),
        (put(True, "stoppingCondition", "maxRuntimeInSeconds"), FAIL),
    ],
    "collaboration-model-not-failed": [
        (gone("status"), FAIL),
        (put(["ACTIVE"], "status"), FAIL),
        (put("DELETE_FAILED", "status"), FAIL),
    ],
    "collaboration-image-pinned": [
        (gone("trainingContainerImageDigest"), FAIL),
        (put(1, "trainingContainerImageDigest"), FAIL),
        (put("CREATE_FAILED", "status"), SKIP),
    ],
}


@pytest.fixture(scope="module")
def shipped() -> PolicySet:
    return load_packs([default_pack_path()])


def version(document: dict[str, Any], kind: ResourceType) -> ModelVersion:
    resource = Resource(arn=str(document["trainedModelArn"]), version_identifier="v", type=kind)
    return ModelVersion(resource=resource, document=document)


def by_id(policy_set: PolicySet, item: ModelVersion) -> dict[str, Status]:
    verdict = policy_set.evaluate(item)
    return {info.id: verdict.status_of(i) for i, info in enumerate(policy_set.infos)}


def test_the_compliant_collaboration_record_is_what_the_api_documents() -> None:
    assert check_document(COLLABORATION_COMPLIANT, COLLABORATION_OPERATION).conforms
    # and it is not a GetTrainedModel record: nothing of the owner's own settings
    assert "kmsKeyArn" not in COLLABORATION_COMPLIANT
    assert "tags" not in COLLABORATION_COMPLIANT


def test_every_shipped_policy_declares_its_type(shipped: PolicySet) -> None:
    kinds = {policy.info.resource_type for policy in shipped}
    assert kinds == BOTH
    assert set(MISSING_AND_MISTYPED) == {
        policy.id for policy in shipped if policy.info.resource_type is COLLABORATION
    }
    rows = {row.id: row.resource_type for row in list_policies(shipped)}
    assert rows == {policy.id: policy.info.resource_type for policy in shipped}


def test_a_plain_run_evaluates_trained_model_policies_only(shipped: PolicySet) -> None:
    assert {info.resource_type for info in shipped.infos} == {TRAINED}
    both = shipped.with_resource_types(BOTH)
    assert {info.resource_type for info in both.infos} == BOTH
    assert both.for_type(COLLABORATION) == tuple(
        info for info in both.infos if info.resource_type is COLLABORATION
    )


def test_a_collaboration_model_is_judged_by_its_own_policies_only(shipped: PolicySet) -> None:
    both = shipped.with_resource_types(BOTH)
    statuses = by_id(both, version(copy.deepcopy(COLLABORATION_COMPLIANT), COLLABORATION))
    for info in both.infos:
        # no kmsKeyArn or tags, yet no trained-model policy fails it: none is applied
        expected = PASS if info.resource_type is COLLABORATION else SKIP
        assert statuses[info.id] is expected, info.id


def test_a_noncompliant_collaboration_model_fails_with_evidence(shipped: PolicySet) -> None:
    both = shipped.with_resource_types(BOTH)
    document = copy.deepcopy(COLLABORATION_COMPLIANT)
    document["creatorAccountId"] = "777788889999"
    document["resourceConfig"]["instanceType"] = "ml.p5.48xlarge"
    verdict = both.evaluate(version(document, COLLABORATION))
    failed = {result.policy_id for result in verdict.failures}
    assert failed == {"collaboration-trusted-creator", "collaboration-allowed-instance-types"}
    for result in verdict.failures:
        assert result.evidence
        assert result.resource.type is COLLABORATION


def test_a_trained_model_is_never_judged_by_collaboration_policies(shipped: PolicySet) -> None:
    both = shipped.with_resource_types(BOTH)
    # an own model has no creatorAccountId: a collaboration policy would fail it
    statuses = by_id(both, version(copy.deepcopy(COMPLIANT), TRAINED))
    for info in both.infos:
        expected = PASS if info.resource_type is TRAINED else SKIP
        assert statuses[info.id] is expected, info.id


def test_missing_and_mistyped_data_never_pass_a_collaboration_policy(shipped: PolicySet) -> None:
    for policy_id, cases in MISSING_AND_MISTYPED.items():
        policy = shipped.get(policy_id)
        assert policy is not None
        assert policy.judge(COLLABORATION_COMPLIANT)[0] is PASS, policy_id
        for change, expected in cases:
            status, evidence = policy.judge(change(COLLABORATION_COMPLIANT))
            assert status is expected, (policy_id, change)
            assert bool(evidence) is (expected is FAIL)


def test_an_unknown_resource_type_is_refused_with_its_place(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 1\n"
        "policies:\n"
        "  - id: x\n"
        "    title: X\n"
        "    severity: low\n"
        "    resource: membership\n"
        "    check: {path: name, op: present}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError) as caught:
        load_packs([pack])
    error = caught.value
    assert error.policy_id == "x"
    assert error.json_path == "$.policies[0].resource"
    assert "collaboration-trained-model" in error.detail


def test_validate_counts_the_policies_of_every_type(capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    assert main(["policies", "validate", str(default_pack_path())]) == 0
    shipped = load_packs([default_pack_path()])
    enabled = sum(1 for policy in shipped if policy.enabled)
    assert f"{enabled} policies valid" in capsys.readouterr().out
    assert enabled > len(shipped.infos)  # the collaboration policies are counted too
