"""Context roots: policies reading a version's related resources ($association, ...)."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.errors import PackError
from auditor.models import EvidenceKind, ModelVersion, Resource, Unreadable
from auditor.policy import load_pack_document

EXPORT_PATH = "$association.privacyConfiguration.policies.trainedModelExports.maxSize.value"
ASSOCIATION_ARN = "arn:aws:cleanrooms-ml:us-east-1:444455556666:membership/m/configured-model-algorithm-association/x"
DENIED = Unreadable(
    arn=ASSOCIATION_ARN,
    operation="GetConfiguredModelAlgorithmAssociation",
    code="AccessDeniedException",
    message="not authorized",
)


def _pack(*checks: dict[str, Any], enabled: tuple[bool, ...] = ()) -> dict[str, Any]:
    return {
        "version": 1,
        "params": {"max_export_gb": 1},
        "policies": [
            {
                "id": f"p{index}",
                "title": "T",
                "severity": "high",
                "check": check,
                **({"enabled": enabled[index]} if enabled else {}),
            }
            for index, check in enumerate(checks)
        ],
    }


def _exports(value: Any) -> dict[str, Any]:
    return {
        "privacyConfiguration": {"policies": {"trainedModelExports": {"maxSize": {"value": value}}}}
    }


def _statuses(verdict: Any) -> list[str]:
    return [verdict.status_of(index).value for index in range(len(verdict.statuses))]


EXPORT_CHECK = {"path": EXPORT_PATH, "op": "le", "value": {"param": "max_export_gb"}}
CHANNELS_CHECK = {
    "path": "$inputChannels",
    "op": "items",
    "missing": "fail",
    "check": {"path": "kmsKeyArn", "op": "present"},
}


def test_loader_knows_the_roots_the_enabled_policies_read() -> None:
    policy_set = load_pack_document(
        _pack(
            EXPORT_CHECK,
            CHANNELS_CHECK,
            {"path": "kmsKeyArn", "op": "present"},
            enabled=(True, False, True),
        )
    )
    assert policy_set.context_roots == {"$association"}


def test_a_pack_without_context_reads_no_roots() -> None:
    assert (
        load_pack_document(_pack({"path": "kmsKeyArn", "op": "present"})).context_roots
        == frozenset()
    )


def test_paths_inside_a_quantifier_are_element_relative() -> None:
    check = {"path": "tags", "op": "values", "check": {"path": "$association", "op": "present"}}
    assert load_pack_document(_pack(check)).context_roots == frozenset()


def test_an_unknown_context_root_is_refused_with_its_location() -> None:
    with pytest.raises(PackError) as caught:
        load_pack_document(_pack({"path": "$asociation.name", "op": "present"}))
    assert "unknown context root '$asociation'" in str(caught.value)
    assert "$.policies[0].check.path" in str(caught.value)


@pytest.mark.parametrize(
    "check",
    [
        EXPORT_CHECK,  # in check
        {"all": [{"path": "status", "op": "present"}, CHANNELS_CHECK]},  # nested
        {"path": ["$algorithm", "name"], "op": "present"},  # a list path
    ],
)
def test_a_context_root_in_a_collaboration_model_policy_is_refused(check: dict[str, Any]) -> None:
    pack = _pack(check)
    pack["policies"][0]["resource"] = "collaboration-trained-model"
    with pytest.raises(PackError) as caught:
        load_pack_document(pack)
    message = str(caught.value)
    assert "exist only for trained-model policies" in message
    assert "policies[0].check" in message
    assert "p0" in message


def test_a_context_root_in_a_collaboration_model_where_is_refused() -> None:
    pack = _pack({"path": "status", "op": "present"})
    policy = pack["policies"][0]
    policy["resource"] = "collaboration-trained-model"
    policy["where"] = {"path": "$association.name", "op": "present"}
    with pytest.raises(PackError) as caught:
        load_pack_document(pack)
    assert "$.policies[0].where.path" in str(caught.value)


def test_collaboration_model_policies_may_still_read_dollar_keys_inside_elements() -> None:
    # inside a quantifier a path starts from the element: `$` names no root there
    check = {"path": "tags", "op": "values", "check": {"path": "$association", "op": "present"}}
    pack = _pack(check, {"path": "$association.name", "op": "present"})
    pack["policies"][0]["resource"] = "collaboration-trained-model"
    policy_set = load_pack_document(pack)
    assert policy_set.context_roots == {"$association"}  # the trained-model policy's only


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"$association": _exports(0.5)}, "pass"),
        ({"$association": _exports(5)}, "fail"),
        ({"$association": _exports("5")}, "fail"),  # wrong type: unknown
        ({"$association": {}}, "fail"),  # missing: unknown
        ({"$association": None}, "fail"),  # the version names no association
        ({"$association": DENIED}, "fail"),  # unreadable: unknown
    ],
)
def test_association_export_cap(context: dict[str, Any], expected: str) -> None:
    policy_set = load_pack_document(_pack(EXPORT_CHECK))
    verdict = policy_set.evaluate(ModelVersion(Resource("arn:m", "v1"), {}, context=context))
    assert _statuses(verdict) == [expected]


def test_unreadable_association_fails_closed_naming_arn_and_error() -> None:
    policy_set = load_pack_document(_pack(EXPORT_CHECK))
    verdict = policy_set.evaluate(
        ModelVersion(Resource("arn:m", "v1"), {}, context={"$association": DENIED})
    )
    (failure,) = verdict.failures
    (evidence,) = failure.evidence
    assert evidence.kind is EvidenceKind.MISSING
    assert ASSOCIATION_ARN in evidence.message
    assert "AccessDeniedException" in evidence.message
    assert evidence.path == EXPORT_PATH


@pytest.mark.parametrize(
    "check",
    [
        {"path": "$association", "op": "present"},
        {"path": "$association", "op": "ne", "value": "x"},
        {"not": {"path": "$association", "op": "absent"}},
        {"path": "$association", "op": "type", "value": "object"},
        {
            "any": [
                {"path": "$association", "op": "absent"},
                {"path": "$association.name", "op": "eq", "value": "n"},
            ]
        },
        {"schema": {"type": "object"}, "path": "$association"},
        {"not": {"path": "$association.name", "op": "eq", "value": "n"}},
    ],
)
def test_an_unreadable_root_never_passes(check: dict[str, Any]) -> None:
    policy_set = load_pack_document(_pack(check))
    verdict = policy_set.evaluate(
        ModelVersion(Resource("arn:m", "v1"), {}, context={"$association": DENIED})
    )
    assert _statuses(verdict) == ["fail"]
    assert any(ASSOCIATION_ARN in e.message for e in verdict.failures[0].evidence)


def test_one_unreadable_channel_among_readable_ones_fails_closed() -> None:
    policy_set = load_pack_document(_pack(CHANNELS_CHECK))
    channels = [{"kmsKeyArn": "arn:aws:kms:us-east-1:1:key/k"}, DENIED]
    verdict = policy_set.evaluate(
        ModelVersion(Resource("arn:m", "v1"), {}, context={"$inputChannels": channels})
    )
    assert _statuses(verdict) == ["fail"]
    (evidence,) = verdict.failures[0].evidence
    assert evidence.path == "$inputChannels[1].kmsKeyArn"
    assert ASSOCIATION_ARN in evidence.message


def test_element_check_without_path_on_an_unreadable_item_fails() -> None:
    check = {"path": "$inputChannels", "op": "items", "check": {"op": "present"}}
    policy_set = load_pack_document(_pack(check))
    verdict = policy_set.evaluate(
        ModelVersion(Resource("arn:m", "v1"), {}, context={"$inputChannels": [DENIED]})
    )
    assert _statuses(verdict) == ["fail"]


def test_a_response_key_cannot_stand_in_for_a_context_root() -> None:
    hostile = {"$association": _exports(0.1)}
    policy_set = load_pack_document(_pack(EXPORT_CHECK))
    verdict = policy_set.evaluate(
        ModelVersion(Resource("arn:m", "v1"), hostile, context={"$association": DENIED})
    )
    assert _statuses(verdict) == ["fail"]


BASE_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/m/trained-model/base"
INHERIT = {
    "path": "$baseModels",
    "op": "items",
    "missing": "fail",
    "check": {
        "path": "failing",
        "op": "items",
        "missing": "fail",
        "check": {"op": "not-glob", "value": ["critical: *", "high: *"]},
    },
}
KMS = {"path": "kmsKeyArn", "op": "present"}


def _base(document: dict[str, Any], *bases: Any, version: str = "b1", arn: str = BASE_ARN) -> Any:
    from auditor.models import BaseVersion

    return BaseVersion(
        arn=arn,
        model_name="base",
        version=version,
        document=document,
        context={"$baseModels": list(bases)},
    )


def _inherit_verdict(*bases: Any) -> Any:
    policy_set = load_pack_document(_pack(KMS, INHERIT))
    version = ModelVersion(
        Resource("arn:m", "v1"), {"kmsKeyArn": "k"}, context={"$baseModels": list(bases)}
    )
    return policy_set.evaluate(version)


def test_a_version_on_a_failing_base_inherits_its_failure() -> None:
    verdict = _inherit_verdict(_base({"name": "no-key"}))
    assert _statuses(verdict) == ["pass", "fail"]
    (evidence,) = verdict.failures[0].evidence
    assert f"inherited from {BASE_ARN} vb1: p0 fails" in evidence.message


def test_a_version_on_a_compliant_base_passes() -> None:
    assert _statuses(_inherit_verdict(_base({"kmsKeyArn": "k"}))) == ["pass", "pass"]
    assert _statuses(_inherit_verdict()) == ["pass", "pass"]  # no incremental training


def test_inheritance_follows_the_chain() -> None:
    root = _base({"name": "no-key"}, arn=BASE_ARN + "-root", version="r1")
    middle = _base({"kmsKeyArn": "k"}, root)  # compliant itself, built on a failing root
    verdict = _inherit_verdict(middle)
    assert _statuses(verdict) == ["pass", "fail"]
    (evidence,) = verdict.failures[0].evidence
    assert f"inherited from {BASE_ARN} vb1: p1 fails" in evidence.message


def test_an_unreadable_base_fails_closed_naming_it() -> None:
    from auditor.models import BaseVersion

    missing = BaseVersion(
        arn=BASE_ARN,
        model_name="base",
        version="b1",
        unreadable=Unreadable(BASE_ARN + "#b1", "GetTrainedModel", "AccessDeniedException", "no"),
    )
    verdict = _inherit_verdict(missing)
    assert _statuses(verdict) == ["pass", "fail"]
    assert any(
        BASE_ARN in e.message and "AccessDenied" in e.message for e in verdict.failures[0].evidence
    )


def test_base_verdicts_are_readable_by_policy_id() -> None:
    check = {
        "path": "$baseModels",
        "op": "items",
        "check": {"path": ["verdicts", "p0"], "op": "eq", "value": "pass"},
    }
    policy_set = load_pack_document(_pack(KMS, check))
    version = ModelVersion(
        Resource("arn:m", "v1"), {"kmsKeyArn": "k"}, context={"$baseModels": [_base({"name": "x"})]}
    )
    assert _statuses(policy_set.evaluate(version)) == ["pass", "fail"]
