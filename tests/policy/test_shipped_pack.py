"""The shipped baseline pack: its mission controls, its examples, its documents' verdicts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from auditor.models import ResourceType, Status
from auditor.policy import (
    ExampleOutcome,
    MissingExamples,
    default_pack_path,
    list_policies,
    load_packs,
    run_examples,
)
from auditor.policy.policyset import PolicySet

MISSION_CONTROLS = {
    "kms-key-present": {"path": "kmsKeyArn", "op": "present"},
    "required-tags": {"path": "tags", "op": "has-keys", "value": {"param": "required_tags"}},
    "allowed-instance-types": {
        "path": "resourceConfig.instanceType",
        "op": "in",
        "value": {"param": "allowed_instance_types"},
    },
    "max-training-runtime": {
        "path": "stoppingCondition.maxRuntimeInSeconds",
        "op": "le",
        "value": {"param": "max_runtime_seconds"},
    },
    "no-reserved-tag-prefix": {
        "path": "tags",
        "op": "keys",
        "check": {"op": "not-regex", "value": "(?i)^aws:"},
    },
}


@pytest.fixture(scope="module")
def baseline() -> PolicySet:
    return load_packs([default_pack_path()])


def statuses(policy_set: PolicySet, document: dict[str, Any]) -> dict[str, Status]:
    verdict = policy_set.evaluate_document(document)
    return {info.id: verdict.status_of(index) for index, info in enumerate(policy_set.infos)}


def test_default_pack_is_the_top_level_policies_file() -> None:
    import yaml

    path = default_pack_path()
    top_level = path.parents[2] / "policies" / "cleanrooms-ml-baseline.yaml"

    assert path.is_file()
    assert path.read_bytes() == top_level.read_bytes()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    checks = {policy["id"]: policy["check"] for policy in raw["policies"]}
    for policy_id, check in MISSION_CONTROLS.items():
        assert checks[policy_id] == check
    assert raw["params"]["max_runtime_seconds"] == 86400


def test_every_example_in_the_shipped_pack_behaves_as_declared(baseline: PolicySet) -> None:
    outcomes = run_examples(baseline)

    failures = [outcome.describe() for outcome in outcomes if not outcome.ok]
    warnings = [outcome for outcome in outcomes if isinstance(outcome, MissingExamples)]
    assert failures == []
    assert warnings == []
    assert {outcome.policy_id for outcome in outcomes} == {policy.id for policy in baseline}


def test_every_shipped_policy_is_documented(baseline: PolicySet) -> None:
    for info in baseline.infos:
        assert info.description, info.id
        assert info.remediation, info.id
        assert info.references, info.id
        assert all(ref.startswith("https://docs.aws.amazon.com/") for ref in info.references)
        assert info.frameworks.get("NIST-800-53"), info.id
    assert len(baseline.infos) >= 15


def test_compliant_model_passes_every_policy(
    baseline: PolicySet, compliant: dict[str, Any]
) -> None:
    assert set(statuses(baseline, compliant).values()) == {Status.PASS}


def test_noncompliant_model_fails_the_mission_controls(
    baseline: PolicySet, noncompliant: dict[str, Any]
) -> None:
    verdict = baseline.evaluate_document(noncompliant)

    failed = {result.policy_id for result in verdict.failures}
    assert failed >= set(MISSION_CONTROLS)
    messages = {
        result.policy_id: [e.message for e in result.evidence] for result in verdict.failures
    }
    assert messages["required-tags"] == [
        "tags has no keys 'owner', 'cost-center' (required: owner, cost-center)"
    ]
    assert messages["no-reserved-tag-prefix"] == ["tags key 'aws:created-by' matches (?i)^aws:"]
    assert messages["max-training-runtime"] == [
        "stoppingCondition.maxRuntimeInSeconds is 86401; expected <= 86400"
    ]


def test_status_checks_apply_only_to_active_models(
    baseline: PolicySet, compliant: dict[str, Any]
) -> None:
    failed_model = {**compliant, "status": "CREATE_FAILED", "logsStatus": None}

    result = statuses(baseline, failed_model)

    assert result["training-logs-published"] is Status.SKIP
    assert result["training-image-pinned"] is Status.SKIP
    assert result["not-left-failed"] is Status.FAIL


@pytest.mark.parametrize(
    ("override", "document_runtime", "expected"),
    [
        ({}, 86400, Status.PASS),
        ({}, 86401, Status.FAIL),
        ({"max_runtime_seconds": 100000}, 86401, Status.PASS),
    ],
)
def test_runtime_param_can_be_overridden(
    compliant: dict[str, Any], override: dict[str, Any], document_runtime: int, expected: Status
) -> None:
    policy_set = load_packs([default_pack_path()], override)
    compliant["stoppingCondition"]["maxRuntimeInSeconds"] = document_runtime

    assert statuses(policy_set, compliant)["max-training-runtime"] is expected


def test_listing_shows_every_policy(baseline: PolicySet) -> None:
    rows = list_policies(baseline)

    assert [row.id for row in rows] == [policy.id for policy in baseline]
    assert all(row.examples >= 2 and row.line for row in rows)


def test_failing_example_is_reported_with_policy_and_index(baseline: PolicySet) -> None:
    from auditor.policy import load_pack_document

    pack = {
        "version": 1,
        "policies": [
            {
                "id": "p",
                "title": "P",
                "severity": "low",
                "check": {"path": "a", "op": "present"},
                "examples": {"pass": [{"a": 1}, {}]},
            },
            {"id": "q", "title": "Q", "severity": "low", "check": {"path": "a", "op": "present"}},
        ],
    }

    outcomes = run_examples(load_pack_document(pack))

    bad = [o for o in outcomes if isinstance(o, ExampleOutcome) and not o.ok]
    assert [o.describe() for o in bad] == ["p examples.pass[1]: expected pass, got fail"]
    assert bad[0].evidence[0].message.startswith("a is missing")
    warnings = [o.describe() for o in outcomes if isinstance(o, MissingExamples)]
    assert warnings == ["p: warning: no fail example", "q: warning: no pass and fail example"]


def gone(*path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A copy of a document without the value at ``path``."""

    def change(document: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(document)
        here = changed
        for key in path[:-1]:
            here = here[key]
        del here[path[-1]]
        return changed

    return change


def put(value: Any, *path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A copy of a document with ``value`` at ``path``."""

    def change(document: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(document)
        here = changed
        for key in path[:-1]:
            here = here[key]
        here[path[-1]] = value
        return changed

    return change


FAIL, PASS, SKIP = Status.FAIL, Status.PASS, Status.SKIP
# Each shipped policy, on the compliant model with the data it reads taken away and with it
# mistyped: never a pass for what cannot be shown compliant. The passes on missing data are
# the ones the pack documents (a missing collection has nothing to violate; metricsStatus and
# instanceCount have compliant API defaults).
MISSING_AND_MISTYPED: dict[str, list[tuple[Callable[[dict[str, Any]], dict[str, Any]], Status]]] = {
    # present answers existence (the spec's mission control): a mistyped key is present, and
    # kms-key-arn-well-formed below fails it
    "kms-key-present": [
        (gone("kmsKeyArn"), FAIL),
        (put(None, "kmsKeyArn"), FAIL),
        (put([], "kmsKeyArn"), FAIL),
        (put(123, "kmsKeyArn"), PASS),
    ],
    "required-tags": [(put(None, "tags"), FAIL), (put(["owner", "cost-center"], "tags"), FAIL)],
    "allowed-instance-types": [
        (gone("resourceConfig", "instanceType"), FAIL),
        (put([{"instanceType": "ml.m5.xlarge"}], "resourceConfig"), FAIL),
    ],
    "max-training-runtime": [
        (put(None, "stoppingCondition"), FAIL),
        (put("3600", "stoppingCondition", "maxRuntimeInSeconds"), FAIL),
        (put(True, "stoppingCondition", "maxRuntimeInSeconds"), FAIL),
    ],
    "no-reserved-tag-prefix": [(gone("tags"), PASS), (put(["aws:x"], "tags"), FAIL)],
    "tag-count-limit": [
        (gone("tags"), PASS),
        (put("owner=a", "tags"), FAIL),
        (put(["a"], "tags"), FAIL),
    ],
    "tag-length-limits": [
        (put({"owner": None}, "tags"), FAIL),
        (put({"owner": ["ml-team"]}, "tags"), FAIL),
        (put(7, "tags"), FAIL),
    ],
    "tag-allowed-characters": [
        (put({"owner": None}, "tags"), FAIL),
        (put({"owner": 1}, "tags"), FAIL),
    ],
    "kms-key-arn-well-formed": [(put(None, "kmsKeyArn"), SKIP), (put(123, "kmsKeyArn"), FAIL)],
    "no-reserved-environment-prefix": [
        (gone("environment"), PASS),
        (put(["A=1"], "environment"), FAIL),
    ],
    "no-reserved-hyperparameter-prefix": [
        (gone("hyperparameters"), PASS),
        (put("epochs=1", "hyperparameters"), FAIL),
    ],
    "training-image-pinned": [
        (gone("trainingContainerImageDigest"), FAIL),
        (put(1, "trainingContainerImageDigest"), FAIL),
    ],
    "training-logs-published": [
        (put(None, "logsStatus"), FAIL),
        (put(["PUBLISH_SUCCEEDED"], "logsStatus"), FAIL),
    ],
    "training-metrics-published": [(gone("metricsStatus"), PASS), (put(1, "metricsStatus"), FAIL)],
    "max-instance-count": [
        (gone("resourceConfig", "instanceCount"), PASS),
        (put("1", "resourceConfig", "instanceCount"), FAIL),
        (put([{"instanceCount": 1}], "resourceConfig"), FAIL),
    ],
    "max-volume-size": [
        (gone("resourceConfig", "volumeSizeInGB"), FAIL),
        (put("100", "resourceConfig", "volumeSizeInGB"), FAIL),
    ],
    "not-left-failed": [(gone("status"), FAIL), (put(["ACTIVE"], "status"), FAIL)],
}


def test_missing_and_mistyped_data_never_pass_a_shipped_policy(
    baseline: PolicySet, compliant: dict[str, Any]
) -> None:
    assert set(MISSING_AND_MISTYPED) == {
        policy.id for policy in baseline if policy.info.resource_type is ResourceType.TRAINED_MODEL
    }
    for policy_id, cases in MISSING_AND_MISTYPED.items():
        policy = baseline.get(policy_id)
        assert policy is not None
        assert policy.judge(compliant)[0] is Status.PASS, policy_id
        for change, expected in cases:
            document = change(compliant)

            status, evidence = policy.judge(document)

            assert status is expected, (policy_id, change)
            assert bool(evidence) is (expected is Status.FAIL)
