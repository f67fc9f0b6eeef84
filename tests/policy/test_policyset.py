"""PolicySet.evaluate: one status per enabled policy, results for failures, never a mutation."""

from __future__ import annotations

import copy
from typing import Any

from auditor.models import ModelVersion, Resource, Status

from .conftest import ARN, pack_with


def test_where_that_does_not_hold_skips_the_policy() -> None:
    policy_set = pack_with(
        {"path": "logsStatus", "op": "eq", "value": "PUBLISH_SUCCEEDED"},
        where={"path": "status", "op": "eq", "value": "ACTIVE"},
    )

    assert policy_set.evaluate_document({"status": "CREATE_FAILED"}).status_of(0) is Status.SKIP
    assert policy_set.evaluate_document({"status": "ACTIVE"}).status_of(0) is Status.FAIL
    assert (
        policy_set.evaluate_document(
            {"status": "ACTIVE", "logsStatus": "PUBLISH_SUCCEEDED"}
        ).status_of(0)
        is Status.PASS
    )


def test_evaluate_returns_results_for_failures_only(noncompliant: dict[str, Any]) -> None:
    policy_set = pack_with({"path": "kmsKeyArn", "op": "present"})
    resource = Resource(arn=ARN, version_identifier="v1")

    failing = policy_set.evaluate(ModelVersion(resource=resource, document=noncompliant))
    passing = policy_set.evaluate(ModelVersion(resource=resource, document={"kmsKeyArn": "k"}))

    assert failing.statuses == b"\x01"
    (result,) = failing.failures
    assert result.resource is resource
    assert result.policy is policy_set.infos[0]
    assert result.status is Status.FAIL
    assert result.evidence[0].path == "kmsKeyArn"
    assert passing.failures == ()
    assert [r.status for r in passing.results(policy_set.infos)] == [Status.PASS]


def test_evaluation_never_mutates_the_document(
    compliant: dict[str, Any], noncompliant: dict[str, Any]
) -> None:
    from auditor.policy import default_pack_path, load_packs

    policy_set = load_packs([default_pack_path()])
    for document in (compliant, noncompliant):
        before = copy.deepcopy(document)
        policy_set.evaluate_document(document)
        assert document == before


def test_evaluate_document_takes_identity_from_the_document(compliant: dict[str, Any]) -> None:
    verdict = pack_with({"path": "name", "op": "present"}).evaluate_document(compliant)

    assert verdict.resource.arn == ARN
    assert verdict.resource.version_identifier == compliant["versionIdentifier"]
    assert verdict.resource.status == "ACTIVE"
