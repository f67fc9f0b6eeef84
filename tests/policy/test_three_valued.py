"""The engine's three-valued outcomes against a small, independent reference evaluator of the
spec ("Fail closed: true, false, unknown"), over generated condition trees (every op, nested
all/any/not and quantifiers, explicit and default ``missing``) and generated documents with
missing, null and mistyped values and parents that are not objects.

Properties: the engine's outcome equals the reference's; a policy passes only when its check
is true and skips only when its ``where`` is false (an unknown never yields a pass); ``not``
swaps true and false and keeps unknown; ``missing: pass`` under an odd number of ``not``s is
refused at load, and nothing else is.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.errors import PackError
from auditor.models import EvidenceKind, Status
from auditor.policy import Truth, load_pack_document

# -- the reference: the spec, read literally, written without the engine's code -------------

T, F, U = "true", "false", "unknown"
QUANTIFIERS = ("keys", "values", "items")


def _find(subject: Any, path: str | list[str] | None) -> tuple[str, Any]:
    """("value", v), ("missing", None) or ("blocked", None) for a parent that is no object."""
    if path is None:
        return ("missing", None) if subject is None else ("value", subject)
    keys = path.split(".") if isinstance(path, str) else path
    here = subject
    for key in keys:
        if here is None:
            return "missing", None
        if not isinstance(here, dict):
            return "blocked", None
        if key not in here:
            return "missing", None
        here = here[key]
    return ("missing", None) if here is None else ("value", here)


def _canon(value: Any) -> Any:
    """A form in which == is JSON equality: 1 == 1.0, but 1 != true."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, list):
        return ("array", tuple(_canon(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canon(item)) for key, item in value.items()))
    return (type(value).__name__, value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_types(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {"boolean"}
    if _is_number(value):
        whole = isinstance(value, int) or (math.isfinite(value) and value == int(value))
        return {"number", "integer"} if whole else {"number"}
    return {str: {"string"}, dict: {"object"}, list: {"array"}}.get(type(value), set())


def _known(holds: bool) -> str:
    return T if holds else F


def _kleene_all(outcomes: list[str]) -> str:
    return F if F in outcomes else U if U in outcomes else T


def _kleene_any(outcomes: list[str]) -> str:
    return T if T in outcomes else U if U in outcomes else F


def _on_value(condition: dict[str, Any], value: Any) -> str:
    op, operand = condition["op"], condition.get("value")
    if op == "present":
        return _known(not (isinstance(value, str | list | dict) and len(value) == 0))
    if op == "absent":
        return _known(isinstance(value, str | list | dict) and len(value) == 0)
    if op in ("eq", "ne"):
        return _known((_canon(value) == _canon(operand)) is (op == "eq"))
    if op in ("in", "not-in"):
        member = any(_canon(value) == _canon(option) for option in operand)
        return _known(member is (op == "in"))
    if op in ("glob", "not-glob", "regex", "not-regex"):
        if not isinstance(value, str):
            return U
        if op.endswith("glob"):
            patterns = [operand] if isinstance(operand, str) else operand
            matched = any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)
        else:
            matched = re.search(operand, value) is not None
        return _known(matched is not op.startswith("not-"))
    if op in ("lt", "le", "gt", "ge"):
        if not _is_number(value):
            return U
        return _known(
            {"lt": value < operand, "le": value <= operand, "gt": value > operand}.get(
                op, value >= operand
            )
        )
    if op == "has-keys":
        return _known(all(key in value for key in operand)) if isinstance(value, dict) else U
    if op in ("min-items", "max-items"):
        if not isinstance(value, str | list | dict):
            return U
        return _known(len(value) >= operand if op == "min-items" else len(value) <= operand)
    if op == "type":
        wanted = {operand} if isinstance(operand, str) else set(operand)
        return _known(bool(wanted & _json_types(value)))
    # quantifiers
    if op == "items":
        if not isinstance(value, list):
            return U
        elements = value
    else:
        if not isinstance(value, dict):
            return U
        elements = list(value) if op == "keys" else list(value.values())
    return _kleene_all([reference(condition["check"], element) for element in elements])


def _on_missing(condition: dict[str, Any]) -> str:
    op, missing = condition["op"], condition.get("missing")
    if op == "present":
        return T if missing == "pass" else F
    if op == "absent":
        return F if missing == "fail" else T
    if op == "type":
        if missing is not None:
            return T if missing == "pass" else F
        types = condition["value"]
        return _known("null" in ([types] if isinstance(types, str) else types))
    if op in QUANTIFIERS:
        return U if missing == "fail" else T
    return T if missing == "pass" else U


def reference(condition: dict[str, Any], subject: Any) -> str:
    """The spec's outcome of ``condition`` on ``subject``: "true", "false" or "unknown"."""
    if "all" in condition:
        return _kleene_all([reference(child, subject) for child in condition["all"]])
    if "any" in condition:
        return _kleene_any([reference(child, subject) for child in condition["any"]])
    if "not" in condition:
        return {T: F, F: T, U: U}[reference(condition["not"], subject)]
    state, value = _find(subject, condition.get("path"))
    if state == "blocked":
        return U
    if state == "missing":
        return _on_missing(condition)
    return _on_value(condition, value)


def refused(condition: Any, negated: bool = False) -> bool:
    """Whether the spec's loader refuses: ``missing: pass`` under an odd number of ``not``s."""
    if isinstance(condition, list):
        return any(refused(child, negated) for child in condition)
    if not isinstance(condition, dict):
        return False
    if negated and condition.get("missing") == "pass":
        return True
    return any(
        refused(child, not negated if key == "not" else negated)
        for key, child in condition.items()
        if key in ("all", "any", "not", "check")
    )


# -- generated conditions ---------------------------------------------------------------------

PATHS = ["a", "a.b", "t", "t.x", "l", "n", ["t", "x.y"]]
text = st.sampled_from(["", "x", "ml.m5", "aws:owner", "AWS:x", "CREATE_FAILED", "true", "1"])
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([1.0, 2.5]) | text
REGEXES = ["^ml\\.", "(?i)^aws:", "x", "^[a-z0-9_:.-]{1,8}$", "_FAILED"]


def leaf(
    op: str, value: st.SearchStrategy[Any] | None, *, in_element: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {"op": st.just(op)}
    optional: dict[str, st.SearchStrategy[Any]] = {"missing": st.sampled_from(["pass", "fail"])}
    if value is not None:
        fields["value"] = value
    if in_element:
        optional["path"] = st.sampled_from(["a", "x", "a.b"])
    else:
        fields["path"] = st.sampled_from(PATHS)
    return st.fixed_dictionaries(fields, optional=optional)


def leaves(in_element: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    def one(op: str, value: st.SearchStrategy[Any] | None) -> st.SearchStrategy[dict[str, Any]]:
        return leaf(op, value, in_element=in_element)

    return st.one_of(
        one("present", None),
        one("absent", None),
        one("eq", scalars),
        one("ne", scalars),
        one("in", st.lists(scalars, min_size=1, max_size=3)),
        one("not-in", st.lists(scalars, min_size=1, max_size=3)),
        one("glob", st.sampled_from(["*", "ml.*", "*_FAILED", "aws:*"]) | st.just(["x", "a*"])),
        one("not-glob", st.sampled_from(["*", "ml.*", "*_FAILED"])),
        one("regex", st.sampled_from(REGEXES)),
        one("not-regex", st.sampled_from(REGEXES)),
        one("lt", st.integers(-2, 2)),
        one("le", st.integers(-2, 2)),
        one("gt", st.integers(-2, 2)),
        one("ge", st.sampled_from([0, 1.5])),
        one("has-keys", st.lists(st.sampled_from(["x", "b", "x.y"]), max_size=2)),
        one("min-items", st.integers(0, 2)),
        one("max-items", st.integers(0, 2)),
        one(
            "type",
            st.sampled_from(["string", "number", "integer", "boolean", "object", "array", "null"])
            | st.just(["object", "null"]),
        ),
    )


def combine(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return (
        st.lists(children, min_size=1, max_size=3).map(lambda items: {"all": items})
        | st.lists(children, min_size=1, max_size=3).map(lambda items: {"any": items})
        | children.map(lambda child: {"not": child})
    )


element_checks = st.recursive(leaves(in_element=True), combine, max_leaves=4)
quantifiers = st.fixed_dictionaries(
    {
        "op": st.sampled_from(QUANTIFIERS),
        "path": st.sampled_from(PATHS),
        "check": element_checks,
    },
    optional={"missing": st.sampled_from(["pass", "fail"])},
)
conditions = st.recursive(leaves() | quantifiers, combine, max_leaves=6)

# -- generated documents: missing, null, mistyped values and parents that are not objects ------

values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "x", "x.y", "aws:k"]), children, max_size=3)
    ),
    max_leaves=8,
)
documents = st.dictionaries(st.sampled_from(["a", "t", "l", "n", "other"]), values, max_size=5)


def pack(check: dict[str, Any], where: dict[str, Any] | None = None) -> dict[str, Any]:
    policy: dict[str, Any] = {"id": "p", "title": "P", "severity": "high", "check": check}
    if where is not None:
        policy["where"] = where
    return {"version": 1, "policies": [policy]}


def load_or_refuse(data: dict[str, Any]) -> Any:
    """The compiled policy, or the refusal's message."""
    try:
        return load_pack_document(data).policies[0]
    except PackError as exc:
        return exc.detail


SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(conditions, documents)
def test_the_engine_agrees_with_the_reference_evaluator(
    check: dict[str, Any], document: dict[str, Any]
) -> None:
    policy = load_or_refuse(pack(check))
    if refused(check):
        assert isinstance(policy, str)
        assert "'missing: pass' under an odd number of 'not's" in policy
        return
    assert not isinstance(policy, str), policy
    before = copy.deepcopy(document)

    truth = policy.check.truth(document)

    assert truth.value == reference(check, document)
    assert document == before


@SETTINGS
@given(conditions, st.none() | conditions, documents)
def test_an_unknown_never_yields_a_pass(
    check: dict[str, Any], where: dict[str, Any] | None, document: dict[str, Any]
) -> None:
    policy = load_or_refuse(pack(check, where))
    if isinstance(policy, str):
        assert refused(check) or refused(where)
        return

    status, evidence = policy.judge(document)

    scope = T if where is None else reference(where, document)
    outcome = reference(check, document)
    if scope == F:
        assert status is Status.SKIP
    elif outcome == T:
        assert status is Status.PASS
    else:  # false, or unknown: a fail with evidence, and an unknown says what it could not read
        assert status is Status.FAIL
        assert evidence
        if outcome == U:
            unreadable = {EvidenceKind.MISSING, EvidenceKind.WRONG_TYPE}
            assert {item.kind for item in evidence} & unreadable


@SETTINGS
@given(conditions, documents)
def test_not_swaps_true_and_false_and_keeps_unknown(
    check: dict[str, Any], document: dict[str, Any]
) -> None:
    plain = load_or_refuse(pack(check))
    negated = load_or_refuse(pack({"not": check}))
    if isinstance(plain, str) or isinstance(negated, str):
        assert refused(check) or refused({"not": check})
        return

    inner = plain.check.truth(document)
    outer = negated.check.truth(document)

    assert outer is inner.negated()
    assert (outer is Truth.UNKNOWN) is (inner is Truth.UNKNOWN)
    assert negated.judge(document)[0] is (Status.PASS if inner is Truth.FALSE else Status.FAIL)
