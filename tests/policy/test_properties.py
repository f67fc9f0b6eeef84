"""Properties over arbitrary JSON: evaluation never raises and is deterministic."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.policy import default_pack_path, load_packs

from .conftest import COMPLIANT

BASELINE = load_packs([default_pack_path()])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
documents = st.dictionaries(st.text(max_size=12), json_values, max_size=6)
# Realistic shape, arbitrary values: each top-level field of a real response replaced by any JSON.
mutated = st.fixed_dictionaries(
    {},
    optional={key: json_values for key in COMPLIANT},
).map(lambda changes: {**copy.deepcopy(COMPLIANT), **changes})


@settings(max_examples=150, deadline=None)
@given(st.one_of(documents, mutated))
def test_baseline_never_raises_and_is_deterministic(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)

    first = BASELINE.evaluate_document(document)
    second = BASELINE.evaluate_document(document)

    assert first == second
    assert len(first.statuses) == len(BASELINE.infos)
    assert all(result.evidence for result in first.failures)
    assert document == before


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_top_level_json_value_is_judged_without_raising(value: Any) -> None:
    for policy in BASELINE.policies:
        policy.judge({"tags": value, "environment": value, "resourceConfig": value})
