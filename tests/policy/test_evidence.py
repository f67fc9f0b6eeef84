"""Evidence reads like a reviewer's sentence and names the offending path, key or element."""

from __future__ import annotations

from typing import Any

from auditor.models import Evidence, EvidenceKind

from .conftest import pack_with


def evidence_for(
    check: dict[str, Any], document: dict[str, Any], **params: Any
) -> tuple[Evidence, ...]:
    status, evidence = pack_with(check, params=params or None).policies[0].judge(document)
    assert status.value == "fail"
    return evidence


def test_disallowed_instance_type_lists_the_allowed_ones() -> None:
    (item,) = evidence_for(
        {"path": "resourceConfig.instanceType", "op": "in", "value": {"param": "allowed"}},
        {"resourceConfig": {"instanceType": "ml.p5.48xlarge"}},
        allowed=["ml.m5.xlarge", "ml.c5.xlarge"],
    )

    assert (
        item.message
        == "resourceConfig.instanceType is 'ml.p5.48xlarge'; allowed: ml.m5.xlarge, ml.c5.xlarge"
    )
    assert item.path == "resourceConfig.instanceType"
    assert item.actual == "ml.p5.48xlarge"
    assert item.expected == "one of: ml.m5.xlarge, ml.c5.xlarge"


def test_missing_tag_names_the_key_and_the_required_set() -> None:
    (item,) = evidence_for(
        {"path": "tags", "op": "has-keys", "value": ["owner", "cost-center"]},
        {"tags": {"owner": "x"}},
    )

    assert item.message == "tags has no key 'cost-center' (required: owner, cost-center)"


def test_reserved_prefix_names_each_offending_key() -> None:
    evidence = evidence_for(
        {"path": "tags", "op": "keys", "check": {"op": "not-regex", "value": "(?i)^aws:"}},
        {"tags": {"aws:owner": "a", "fine": "b", "AWS:x": "c"}},
    )

    assert [item.message for item in evidence] == [
        "tags key 'aws:owner' matches (?i)^aws:",
        "tags key 'AWS:x' matches (?i)^aws:",
    ]
    assert [item.actual for item in evidence] == ["aws:owner", "AWS:x"]


def test_values_and_items_name_the_element() -> None:
    (by_value,) = evidence_for(
        {"path": "tags", "op": "values", "check": {"op": "max-items", "value": 2}},
        {"tags": {"a.b": "long"}},
    )
    (by_item,) = evidence_for(
        {"path": "chans", "op": "items", "check": {"path": "name", "op": "present"}},
        {"chans": [{"name": "a"}, {"name": ""}]},
    )

    assert by_value.message == 'tags["a.b"] has 4 characters; expected at most 2'
    assert by_item.message == "chans[1].name is empty ('')"
    assert by_item.path == "chans[1].name"


def test_boundary_value_reads_as_a_comparison() -> None:
    (item,) = evidence_for(
        {"path": "stoppingCondition.maxRuntimeInSeconds", "op": "le", "value": 86400},
        {"stoppingCondition": {"maxRuntimeInSeconds": 86401}},
    )

    assert item.message == "stoppingCondition.maxRuntimeInSeconds is 86401; expected <= 86400"


def test_missing_and_null_are_told_apart() -> None:
    (missing,) = evidence_for({"path": "kmsKeyArn", "op": "present"}, {})
    (null,) = evidence_for({"path": "kmsKeyArn", "op": "present"}, {"kmsKeyArn": None})

    assert missing.message == "kmsKeyArn is missing; expected present (not null, not empty)"
    assert null.message == "kmsKeyArn is null; expected present (not null, not empty)"
    assert missing.actual is None


def test_not_failure_says_what_held() -> None:
    (item,) = evidence_for(
        {"not": {"path": "status", "op": "glob", "value": "*_FAILED"}}, {"status": "CREATE_FAILED"}
    )

    assert item.message == "must not hold, but does: status 'CREATE_FAILED' matches *_FAILED"


def test_any_failure_reports_every_alternative() -> None:
    evidence = evidence_for(
        {"any": [{"path": "a", "op": "present"}, {"path": "b", "op": "eq", "value": 1}]},
        {"b": 2},
    )

    assert [item.message for item in evidence] == [
        "none of 2 alternatives holds; alternative 1: a is missing; expected present (not null, not empty)",
        "none of 2 alternatives holds; alternative 2: b is 2; expected 1",
    ]


def test_long_actual_values_are_cut() -> None:
    (item,) = evidence_for({"path": "v", "op": "eq", "value": "x"}, {"v": "y" * 1000})

    assert isinstance(item.actual, str)
    assert len(item.actual) == 201
    assert item.actual.endswith("…")
    assert len(item.message) < 300


def test_schema_condition_points_inside_the_value() -> None:
    (item,) = evidence_for(
        {"path": "resourceConfig", "schema": {"properties": {"volumeSizeInGB": {"maximum": 10}}}},
        {"resourceConfig": {"volumeSizeInGB": 11}},
    )

    assert item.path == "resourceConfig.volumeSizeInGB"
    assert item.message == "resourceConfig.volumeSizeInGB: 11 is greater than the maximum of 10"


def test_each_evidence_item_says_whether_the_rule_broke_or_the_value_was_unreadable() -> None:
    (violated,) = evidence_for({"path": "v", "op": "le", "value": 4}, {"v": 5})
    (missing,) = evidence_for({"path": "v", "op": "le", "value": 4}, {"v": None})
    (mistyped,) = evidence_for({"path": "v", "op": "le", "value": 4}, {"v": "3"})

    assert violated.kind is EvidenceKind.VIOLATED
    assert missing.kind is EvidenceKind.MISSING
    assert missing.message == "v is null; expected <= 4"
    assert mistyped.kind is EvidenceKind.WRONG_TYPE


def test_an_unknown_under_not_reports_the_unreadable_value_not_what_held() -> None:
    (item,) = evidence_for(
        {"not": {"path": "kmsKeyArn", "op": "glob", "value": "*:alias/aws/*"}}, {}
    )
    (typed,) = evidence_for(
        {"not": {"path": "kmsKeyArn", "op": "glob", "value": "*:alias/aws/*"}}, {"kmsKeyArn": 123}
    )

    assert item.kind is EvidenceKind.MISSING
    assert item.message == "kmsKeyArn is missing; expected not matching *:alias/aws/*"
    assert item.expected == "not matching *:alias/aws/*"
    assert typed.kind is EvidenceKind.WRONG_TYPE
    assert typed.message == "kmsKeyArn is 123, a number; glob needs a string"


def test_a_parent_that_is_not_an_object_is_named_with_its_value() -> None:
    (item,) = evidence_for(
        {"path": "resourceConfig.instanceCount", "op": "le", "value": 4, "missing": "pass"},
        {"resourceConfig": [{"instanceCount": 8}]},
    )

    assert item.kind is EvidenceKind.WRONG_TYPE
    assert item.path == "resourceConfig.instanceCount"
    assert item.actual == [{"instanceCount": 8}]
    assert item.message == (
        'resourceConfig is [{"instanceCount": 8}], an array, not an object, '
        "so resourceConfig.instanceCount cannot be read"
    )


def test_a_quantifier_names_the_elements_it_could_not_judge() -> None:
    evidence = evidence_for(
        {"path": "tags", "op": "values", "check": {"not": {"op": "glob", "value": "*secret*"}}},
        {"tags": {"owner": "ml", "count": 3, "flag": True}},
    )

    assert [(item.path, item.kind, item.message) for item in evidence] == [
        ("tags.count", EvidenceKind.WRONG_TYPE, "tags.count is 3, a number; glob needs a string"),
        ("tags.flag", EvidenceKind.WRONG_TYPE, "tags.flag is true, a boolean; glob needs a string"),
    ]


def test_a_false_element_is_reported_and_unknown_ones_are_not_needed() -> None:
    evidence = evidence_for(
        {"path": "tags", "op": "values", "check": {"op": "regex", "value": "^[a-z]+$"}},
        {"tags": {"a": "OK", "b": 3}},
    )

    assert [(item.path, item.kind) for item in evidence] == [("tags.a", EvidenceKind.VIOLATED)]


def test_an_unknown_any_reports_each_alternative_with_its_kind() -> None:
    evidence = evidence_for(
        {
            "any": [
                {"path": "kmsKeyArn", "op": "regex", "value": "^arn:aws:kms:"},
                {"not": {"path": "tags.exempt", "op": "eq", "value": "true"}},
            ]
        },
        {"tags": {"exempt": "true"}},
    )

    assert [(item.kind, item.message) for item in evidence] == [
        (
            EvidenceKind.MISSING,
            "none of 2 alternatives holds; alternative 1: kmsKeyArn is missing; "
            "expected matching ^arn:aws:kms:",
        ),
        (
            EvidenceKind.VIOLATED,
            "none of 2 alternatives holds; alternative 2: must not hold, but does: "
            "tags.exempt is 'true'",
        ),
    ]
