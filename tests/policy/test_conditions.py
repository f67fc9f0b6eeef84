"""Every op, combinator and the schema escape hatch, on plain dicts: true, false and unknown."""

from __future__ import annotations

import copy

import pytest

from auditor.errors import PackError
from auditor.models import EvidenceKind, Status
from auditor.policy.truth import FALSE, TRUE, UNKNOWN

from .condition_cases import CASES, Case
from .conftest import pack_with

UNREADABLE = {EvidenceKind.MISSING, EvidenceKind.WRONG_TYPE}


def _has_negated_missing_pass(condition: object, negated: bool = False) -> bool:
    """Whether wrapping ``condition`` in one more ``not`` puts a ``missing: pass`` under an odd
    number of them (which the loader refuses)."""
    if isinstance(condition, dict):
        if condition.get("missing") == "pass" and not negated:
            return True
        return any(
            _has_negated_missing_pass(child, not negated if key == "not" else negated)
            for key, child in condition.items()
        )
    if isinstance(condition, list):
        return any(_has_negated_missing_pass(child, negated) for child in condition)
    return False


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_condition_outcome(case: Case) -> None:
    policy = pack_with(case.condition).policies[0]
    document = copy.deepcopy(case.document)

    truth = policy.check.truth(document)
    status, evidence = policy.judge(document)

    assert truth is case.truth
    assert status is (Status.PASS if case.truth is TRUE else Status.FAIL)
    assert document == case.document  # never mutated
    if case.truth is FALSE:
        assert evidence, "a failure always carries evidence"
        assert {item.kind for item in evidence} == {EvidenceKind.VIOLATED}
    if case.truth is UNKNOWN:
        assert evidence, "an unknown fails with evidence of what could not be read"
        assert {item.kind for item in evidence} & UNREADABLE
    assert all(item.message for item in evidence)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_not_inverts_true_and_false_and_keeps_unknown(case: Case) -> None:
    negated = {"not": case.condition}
    if _has_negated_missing_pass(case.condition):
        with pytest.raises(PackError, match="missing: pass' under an odd number of 'not'"):
            pack_with(negated)
        return
    policy = pack_with(negated).policies[0]

    truth = policy.check.truth(case.document)
    status, evidence = policy.judge(case.document)

    assert truth is case.truth.negated()
    assert (status is Status.PASS) is (case.truth is FALSE)
    if case.truth is TRUE:  # the negation fails because the inner condition holds
        assert evidence
        assert {item.kind for item in evidence} == {EvidenceKind.VIOLATED}
        if "not" not in case.condition:  # (a double negation reads as the plain condition)
            assert all(item.message.startswith("must not hold") for item in evidence)
    if case.truth is UNKNOWN:  # still unknown: the evidence names what could not be read
        assert {item.kind for item in evidence} & UNREADABLE
        assert not any(
            item.message.startswith("must not hold") for item in evidence if item.kind in UNREADABLE
        )


def test_wrong_types_never_raise_and_say_so() -> None:
    policy = pack_with({"path": "v", "op": "lt", "value": 5}).policies[0]

    status, evidence = policy.judge({"v": "3"})

    assert status is Status.FAIL
    assert evidence[0].message == "v is '3', a string; lt needs a number"
    assert evidence[0].kind is EvidenceKind.WRONG_TYPE


def test_boolean_under_lt_is_the_wrong_type() -> None:
    _, evidence = pack_with({"path": "v", "op": "lt", "value": 5}).policies[0].judge({"v": True})

    assert evidence[0].message == "v is true, a boolean; lt needs a number"
    assert evidence[0].kind is EvidenceKind.WRONG_TYPE


def test_list_under_regex_is_the_wrong_type() -> None:
    _, evidence = (
        pack_with({"path": "v", "op": "regex", "value": "x"}).policies[0].judge({"v": ["x"]})
    )

    assert evidence[0].message == 'v is ["x"], an array; regex needs a string'


def test_quantifier_check_may_omit_path_but_top_level_may_not() -> None:
    with pytest.raises(PackError, match="needs a path"):
        pack_with({"op": "present"})


def test_a_quantifier_remembering_string_elements_judges_every_document_as_a_fresh_one() -> None:
    # One compiled policy judges a whole fleet; its quantifiers remember each short string's
    # outcome. Judged in any order, with the same strings in other documents and unknowns among
    # them, every verdict must equal that of a policy compiled for that document alone.
    check = {
        "path": "tags",
        "op": "values",
        "check": {"all": [{"op": "type", "value": "string"}, {"op": "max-items", "value": 3}]},
    }
    documents = [
        {"tags": {"a": "ok", "b": "long-value"}},
        {"tags": {"c": "ok"}},
        {"tags": {"d": "ok", "e": None}},
        {"tags": {"f": "ok", "g": 7}},
        {"tags": {"h": "long-value"}},
        {"tags": ["ok"]},
        {"tags": {"i": "ok"}},
    ]
    shared = pack_with(check).get("p")
    assert shared is not None
    for document in documents + documents[::-1]:
        fresh = pack_with(check).get("p")
        assert fresh is not None
        assert shared.judge(document) == fresh.judge(document), document
    assert [shared.judge(d)[0] for d in documents] == [
        Status.FAIL,  # "long-value" is over 3 characters
        Status.PASS,
        Status.FAIL,  # a null tag value is missing: unknown, never a pass
        Status.FAIL,  # 7 is not a string
        Status.FAIL,
        Status.FAIL,  # a list is not an object: unknown
        Status.PASS,
    ]
