"""Pack params, ``{param: NAME}`` and ``--param NAME=VALUE`` overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.errors import PackError
from auditor.policy import load_packs, parse_param_override

from .conftest import pack_with

CHECK = {"path": "n", "op": "le", "value": {"param": "limit"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("limit=5", ("limit", 5)),
        ("limit=5.5", ("limit", 5.5)),
        ("flag=true", ("flag", True)),
        ('tags=["a", "b"]', ("tags", ["a", "b"])),
        ("tags=owner,cost-center", ("tags", ["owner", "cost-center"])),
        ("tags=owner, cost-center,", ("tags", ["owner", "cost-center"])),
        ("name=owner", ("name", "owner")),
        ('name="5"', ("name", "5")),
        ("expr=a=b", ("expr", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_parse_param_override(text: str, expected: tuple[str, Any]) -> None:
    assert parse_param_override(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=5", "  =x"])
def test_parse_param_override_needs_a_name_and_equals(text: str) -> None:
    with pytest.raises(PackError, match="expected NAME=VALUE"):
        parse_param_override(text)


def test_param_default_is_used() -> None:
    policy_set = pack_with(CHECK, params={"limit": 10})

    assert policy_set.evaluate_document({"n": 10}).statuses == b"\x00"
    assert policy_set.evaluate_document({"n": 11}).statuses == b"\x01"
    assert policy_set.params == {"limit": 10}


def test_override_replaces_the_default_and_is_reported() -> None:
    policy_set = pack_with(CHECK, params={"limit": 10}, overrides={"limit": 20})

    assert policy_set.evaluate_document({"n": 11}).statuses == b"\x00"
    assert policy_set.params == {"limit": 20}


def test_float_override_of_an_integer_default_is_fine() -> None:
    policy_set = pack_with(CHECK, params={"limit": 10}, overrides={"limit": 10.5})

    assert policy_set.evaluate_document({"n": 10.25}).statuses == b"\x00"


def test_override_of_another_json_type_is_refused() -> None:
    with pytest.raises(PackError) as caught:
        pack_with(CHECK, params={"limit": 10}, overrides={"limit": ["a"]})

    assert caught.value.json_path == "$.params.limit"
    assert "is an array, but the pack's default 10 is a number" in caught.value.detail


def test_override_of_an_unknown_param_is_refused() -> None:
    with pytest.raises(PackError, match="--param nope: no loaded pack defines this param"):
        pack_with(CHECK, params={"limit": 10}, overrides={"nope": 1})


def test_param_of_a_type_the_op_cannot_use_is_refused() -> None:
    with pytest.raises(PackError) as caught:
        pack_with({"path": "t", "op": "in", "value": {"param": "allowed"}}, params={"allowed": "x"})

    assert caught.value.json_path == "$.policies[0].check.value.param"
    assert "param 'allowed' is 'x', which op 'in' cannot use" in caught.value.detail


def test_undefined_param_is_refused() -> None:
    with pytest.raises(PackError, match="unknown param 'limit' \\(this pack defines: other\\)"):
        pack_with(CHECK, params={"other": 1})


def test_same_param_in_two_packs_is_overridden_in_both(
    write_pack: Callable[..., Path],
) -> None:
    template = "version: 1\nparams: {{limit: {limit}}}\npolicies:\n  - id: {id}\n    title: T\n    severity: low\n    check: {{path: n, op: le, value: {{param: limit}}}}\n"
    first = write_pack(template.format(limit=1, id="a"), "a.yaml")
    second = write_pack(template.format(limit=2, id="b"), "b.yaml")

    plain = load_packs([first, second])
    overridden = load_packs([first, second], {"limit": 5})

    assert plain.params == {"a:limit": 1, "b:limit": 2}
    assert overridden.params == {"limit": 5}
    assert overridden.evaluate_document({"n": 5}).statuses == b"\x00\x00"


IN_CHECK = {"path": "n", "op": "in", "value": {"param": "allowed"}}


def test_one_plain_value_for_a_list_param_is_a_list_of_one() -> None:
    _, value = parse_param_override("allowed=owner")
    policy_set = pack_with(
        {"path": "tags", "op": "has-keys", "value": {"param": "allowed"}},
        params={"allowed": ["owner", "cost-center"]},
        overrides={"allowed": value},
    )

    assert policy_set.params == {"allowed": ["owner"]}
    assert policy_set.evaluate_document({"tags": {"owner": "x"}}).statuses == b"\x00"


def test_comma_list_for_a_list_of_numbers_is_read_as_numbers() -> None:
    _, value = parse_param_override("allowed=1,3")
    policy_set = pack_with(IN_CHECK, params={"allowed": [1, 2]}, overrides={"allowed": value})

    assert policy_set.params == {"allowed": [1, 3]}
    assert policy_set.evaluate_document({"n": 3}).statuses == b"\x00"
    assert policy_set.evaluate_document({"n": 2}).statuses == b"\x01"


def test_comma_item_that_is_not_a_number_is_refused_for_a_list_of_numbers() -> None:
    _, value = parse_param_override("allowed=1,x")
    with pytest.raises(PackError, match="'x' is not a number"):
        pack_with(IN_CHECK, params={"allowed": [1, 2]}, overrides={"allowed": value})
