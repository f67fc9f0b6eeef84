"""Properties over generated packs and hostile pack files (extends ``test_properties``, which
covers the shipped pack on arbitrary documents).

* any valid pack, any JSON document: evaluation never raises, is deterministic, and passes
  only a check that is true (``test_three_valued`` checks the outcomes against a reference);
* a pack file of any shape (arbitrary YAML/JSON structures, near-valid packs with one part
  replaced, arbitrary text): ``load_packs`` returns or raises ``PackError`` with a message,
  nothing else; ``auditor policies validate`` exits 0 or 2 and never prints a traceback.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.cli import main
from auditor.errors import PackError
from auditor.models import Status
from auditor.policy import Truth, load_pack_document, load_packs

from .conftest import COMPLIANT

# -- documents ---------------------------------------------------------------------------------

KEYS = ["tags", "name", "resourceConfig", "instanceType", "a", "b", "owner", "aws:x", "n"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["ml.m5.xlarge", "{{7*7}}", ".*", "owner", "aws:owner", ""])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=16,
)
documents = st.one_of(
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=6),
    st.fixed_dictionaries({}, optional=dict.fromkeys(KEYS, json_values)).map(
        lambda changes: {**copy.deepcopy(COMPLIANT), **changes}
    ),
)

# -- valid packs -------------------------------------------------------------------------------

paths = st.sampled_from(
    ["tags", "tags.owner", "name", "resourceConfig.instanceType", "resourceConfig", "a.b", "n"]
)
plain_text = st.text(
    alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=8
)
plain_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | plain_text
safe_regexes = st.sampled_from(["^ml\\.", "(?i)^aws:", "x", "^[a-z0-9-]{1,63}$", ".*"]) | (
    plain_text.map(re.escape)
)
numbers = st.integers(-100, 100) | st.floats(-100, 100, allow_nan=False)
missing = st.sampled_from([None, "pass", "fail"])


def leaf(op: str, value: st.SearchStrategy[Any] | None) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {"op": st.just(op), "path": paths}
    if value is not None:
        fields["value"] = value
    return st.fixed_dictionaries(fields, optional={"missing": st.sampled_from(["pass", "fail"])})


leaves = st.one_of(
    leaf("present", None),
    leaf("absent", None),
    leaf("eq", plain_scalars),
    leaf("ne", plain_scalars),
    leaf("in", st.lists(plain_scalars, min_size=1, max_size=3)),
    leaf("not-in", st.lists(plain_scalars, min_size=1, max_size=3)),
    leaf("glob", plain_text | st.lists(plain_text, min_size=1, max_size=2)),
    leaf("not-glob", plain_text),
    leaf("regex", safe_regexes),
    leaf("not-regex", safe_regexes),
    leaf("lt", numbers),
    leaf("ge", numbers),
    leaf("has-keys", st.lists(plain_text, max_size=3)),
    leaf("min-items", st.integers(0, 3)),
    leaf("max-items", st.integers(0, 3)),
    leaf("type", st.sampled_from(["string", "object", "array", "number", "integer", "boolean"])),
)
conditions = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, min_size=1, max_size=3).map(lambda cs: {"all": cs})
        | st.lists(children, min_size=1, max_size=3).map(lambda cs: {"any": cs})
        | children.map(lambda c: {"not": c})
        | st.tuples(st.sampled_from(["keys", "values", "items"]), paths, children).map(
            lambda t: {"op": t[0], "path": t[1], "check": t[2]}
        )
    ),
    max_leaves=6,
)


def one_policy_pack(check: dict[str, Any]) -> dict[str, Any]:
    policies = [{"id": "p", "title": "P", "severity": "high", "check": check}]
    return {"version": 1, "policies": policies}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, documents)
def test_any_valid_pack_on_any_document_never_raises_is_deterministic_and_fails_closed(
    check: dict[str, Any], document: dict[str, Any]
) -> None:
    refusal = None
    try:
        policy_set = load_pack_document(one_policy_pack(check))
    except PackError as exc:  # the one refusal this generator can hit
        refusal = exc.detail
    if refusal is not None:
        assert "'missing: pass' under an odd number of 'not's" in refusal
        return
    before = copy.deepcopy(document)

    first = policy_set.evaluate_document(document)
    second = policy_set.evaluate_document(document)
    truth = policy_set.policies[0].check.truth(document)

    assert first == second
    assert [info.id for info in policy_set.infos] == ["p"]
    assert (first.status_of(0) is Status.PASS) is (truth is Truth.TRUE)
    assert all(result.evidence for result in first.failures)
    assert document == before


# -- hostile pack files ------------------------------------------------------------------------

VALID_PACK: dict[str, Any] = {
    "version": 1,
    "pack": {"id": "generated", "title": "Generated"},
    "params": {"tags": ["owner"]},
    "policies": [
        {
            "id": "tagged",
            "title": "Tagged",
            "severity": "high",
            "check": {"path": "tags", "op": "has-keys", "value": {"param": "tags"}},
        },
        {
            "id": "typed",
            "title": "Typed",
            "severity": "low",
            "check": {"all": [{"path": "name", "op": "regex", "value": "^m"}]},
        },
    ],
}
LOCATIONS = [
    (),
    ("version",),
    ("pack",),
    ("pack", "id"),
    ("params",),
    ("params", "tags"),
    ("policies",),
    ("policies", 0),
    ("policies", 0, "check"),
    ("policies", 0, "check", "value"),
    ("policies", 1, "check", "all"),
    ("policies", 1, "check", "all", 0, "value"),
    ("policies", 1, "severity"),
]
anything = st.recursive(
    scalars | st.sampled_from(["(a+)+$", "{undefined}", "[", "present", "not"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["op", "path", "value", "check", "all", "not", "id", "param"])
            | st.text(max_size=5),
            children,
            max_size=3,
        )
    ),
    max_leaves=10,
)


def mutate(location: tuple[str | int, ...], value: Any) -> Any:
    pack = copy.deepcopy(VALID_PACK)
    if not location:
        return value
    here: Any = pack
    for step in location[:-1]:
        here = here[step]
    here[location[-1]] = value
    return pack


structures = st.one_of(
    anything,
    st.tuples(st.sampled_from(LOCATIONS), anything).map(lambda t: mutate(*t)),
)


def render(structure: Any, style: str) -> str:
    if style == "json":
        return json.dumps(structure)
    return yaml.safe_dump(structure, allow_unicode=True)


def load_text(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"pack{suffix}"
        path.write_text(text, encoding="utf-8")
        message = "loaded"
        try:
            load_packs([path])
        except PackError as exc:
            message = exc.detail
        assert message.strip(), "a PackError must say what is wrong"


@settings(max_examples=300, deadline=None)
@given(structures, st.sampled_from(["yaml", "json"]))
def test_any_pack_structure_loads_or_is_a_pack_error(structure: Any, style: str) -> None:
    load_text(render(structure, style), ".json" if style == "json" else ".yaml")


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=200)
    | st.sampled_from(
        [
            "version: 1\npolicies: !!python/object/apply:os.system ['true']\n",
            "a: &a [*a]\n",
            "[" * 1200,
            "{" * 400 + "}" * 400,
            "version: 1\n\tpolicies: []\n",
            "\ufeffversion: 1\n",
            "--- 1\n--- 2\n",
        ]
    ),
    st.sampled_from([".yaml", ".json"]),
)
def test_any_text_loads_or_is_a_pack_error(text: str, suffix: str) -> None:
    load_text(text, suffix)


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\npolicies: !!python/object/apply:os.system ['true']\n",
        "version: 1\npack: &x [*x]\n",
        "x: " + "[" * 1200 + "]" * 1200 + "\n",
        "version: 1\npolicies: [{id: p, title: P, severity: high, check: {op: regex, path: a,"
        " value: '(a)\\1'}}]\n",
        "\x00\x01 not yaml ::: [",
    ],
)
def test_policies_validate_exits_2_with_a_message_and_no_traceback(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")

    assert main(["policies", "validate", str(path)]) == 2

    out, err = capsys.readouterr()
    assert err.startswith(f"auditor: error: {path}")
    assert "Traceback" not in out + err
