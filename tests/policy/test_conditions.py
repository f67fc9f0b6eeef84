"""Every op, combinator and the schema escape hatch, on plain dicts."""

from __future__ import annotations

import copy

import pytest

from .condition_cases import CASES, Case
from .conftest import pack_with


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_condition_outcome(case: Case) -> None:
    policy = pack_with(case.condition).policies[0]
    document = copy.deepcopy(case.document)

    outcome = policy.check.evaluate(document)

    assert outcome.passed is case.holds
    assert document == case.document  # never mutated
    if not case.holds:
        assert outcome.evidence, "a failure always carries evidence"
        assert all(item.message for item in outcome.evidence)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_not_inverts_every_case_and_explains_both_ways(case: Case) -> None:
    negated = pack_with({"not": case.condition}).policies[0]

    outcome = negated.check.evaluate(case.document)

    assert outcome.passed is not case.holds
    if case.holds:
        assert outcome.evidence
        assert all(item.message.startswith("must not hold") for item in outcome.evidence)


def test_wrong_types_never_raise_and_say_so() -> None:
    policy = pack_with({"path": "v", "op": "lt", "value": 5}).policies[0]

    status, evidence = policy.judge({"v": "3"})

    assert status.value == "fail"
    assert evidence[0].message == "v is '3', a string; lt needs a number"


def test_boolean_under_lt_is_the_wrong_type() -> None:
    _, evidence = pack_with({"path": "v", "op": "lt", "value": 5}).policies[0].judge({"v": True})

    assert evidence[0].message == "v is true, a boolean; lt needs a number"


def test_list_under_regex_is_the_wrong_type() -> None:
    _, evidence = (
        pack_with({"path": "v", "op": "regex", "value": "x"}).policies[0].judge({"v": ["x"]})
    )

    assert evidence[0].message == 'v is ["x"], an array; regex needs a string'


def test_quantifier_check_may_omit_path_but_top_level_may_not() -> None:
    from auditor.errors import PackError

    with pytest.raises(PackError, match="needs a path"):
        pack_with({"op": "present"})
