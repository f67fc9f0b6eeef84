"""Reading report.json back is exactly as strict as the published schema, however it gets there.

``validate_report_document`` checks everything but the results with jsonschema, and each result
with a fast check (``unproven_results``) that only accepts results it can prove valid; the rest
go to jsonschema one at a time. These tests hold the fast check to the schema: whatever it
accepts, the schema accepts; whatever the schema refuses, the loader refuses with the message a
whole-document validation gives.
"""

from __future__ import annotations

import copy
import gc
import json
from datetime import date
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.errors import ReportInputError
from auditor.models import Report, Severity, Status
from auditor.reports import load as report_load
from auditor.reports.json import render_json
from auditor.reports.load import (
    load_report,
    report_schema,
    result_validator,
    unproven_results,
    validate_report_document,
)
from tests.reports.canned import make_report

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# -- strategies: valid results with the exact types json.loads gives, and damaged ones --------

texts = st.text(max_size=6)
nullable_texts = st.none() | texts
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
resources = st.fixed_dictionaries(
    {
        "arn": texts,
        "version_identifier": nullable_texts,
        "name": nullable_texts,
        "membership_id": nullable_texts,
        "collaboration_id": nullable_texts,
        "account": nullable_texts,
        "region": nullable_texts,
        "status": nullable_texts,
    }
)
evidence_items = st.fixed_dictionaries(
    {
        "path": texts,
        "actual": json_values,
        "expected": json_values,
        "message": texts,
        "kind": st.sampled_from(["violated", "missing", "wrong-type"]),
    }
)
waivers = st.fixed_dictionaries(
    {
        "policy": texts,
        "resource": texts,
        "version": texts,
        "reason": texts,
        "expires": st.dates().map(date.isoformat),
        "approved_by": texts,
    },
    optional={"index": st.integers(0, 1000)},
)
valid_results = st.fixed_dictionaries(
    {
        "id": texts,
        "policy_id": texts,
        "title": texts,
        "severity": st.sampled_from([str(severity) for severity in Severity]),
        "status": st.sampled_from([str(status) for status in Status]),
        "resource": resources,
        "evidence": st.lists(evidence_items, max_size=2),
        "waiver": st.none() | waivers,
    },
    optional={"baseline": st.sampled_from(["new", "unchanged", None])},
)

# Values that sit on an edge of some constraint of the schema.
TRICKY: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    -1.0,
    2.5,
    "",
    "x",
    "pass",
    "fail",
    "skip",
    "high",
    "HIGH",
    "new",
    "unchanged",
    "2026-01-01",
    "2026-01-01\n",
    "2026-1-01",
    "12026-01-01",
    "\u0662\u0660\u0662\u0666-01-01",
    [],
    {},
    ["x"],
    {"x": 1},
]
EXTRA_KEYS = ["extra", "baseline", "index", "arn", "path", "matched", ""]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def damaged_results(draw: st.DrawFn) -> Any:
    """A valid result with one to three things changed: most are invalid, some still valid."""
    result: Any = draw(valid_results)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(result)))
        target = _at(result, path)
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        # a copy: the draws below may change it in place, and TRICKY must stay as it is
        new_value = draw(st.sampled_from(TRICKY).map(copy.deepcopy) | json_values)
        if action == "replace" or (not path and not isinstance(target, dict)):
            if not path:
                result = new_value
            else:
                _at(result, path[:-1])[path[-1]] = new_value
        elif action == "delete" and path:
            parent = _at(result, path[:-1])
            if isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent.pop(path[-1])
        elif isinstance(target, dict):
            target[draw(st.sampled_from(EXTRA_KEYS) | texts)] = new_value
    return result


def _schema_accepts(result: Any) -> bool:
    return bool(result_validator().is_valid(result))


def _document_with(results: list[Any]) -> dict[str, Any]:
    document = json.loads(render_json(make_report()))
    document["results"] = results
    return document


def _whole_document_message(document: Any, source: str) -> str | None:
    """What validating the whole document in one go (as the loader did before) says."""
    validator = jsonschema.Draft202012Validator(report_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{source}: not a valid auditor report at {where}: {error.message}"


def _loader_message(document: Any, source: str) -> str | None:
    try:
        validate_report_document(document, source)
    except ReportInputError as exc:
        return str(exc)
    return None


# -- the fast check and the schema ---------------------------------------------------------


@PROPERTY_SETTINGS
@given(valid_results)
def test_fast_check_accepts_valid_results_and_so_does_the_schema(result: Any) -> None:
    assert _schema_accepts(result)
    assert list(unproven_results([result])) == []


@PROPERTY_SETTINGS
@given(damaged_results())
def test_whatever_the_fast_check_accepts_the_schema_accepts(result: Any) -> None:
    if not list(unproven_results([result])):
        assert _schema_accepts(result), result


@PROPERTY_SETTINGS
@given(st.lists(valid_results, min_size=1, max_size=3), st.data())
def test_a_damaged_copy_of_a_proven_resource_is_not_waved_through(
    results: list[Any], data: st.DataObject
) -> None:
    # Results of one version repeat their resource, and the fast check takes an equal copy of
    # the last proven resource as proven: a changed copy must still be looked at.
    shared = results[0]["resource"]
    for result in results[1:]:
        result["resource"] = copy.deepcopy(shared)
    damaged = data.draw(damaged_results())
    results.append(damaged)
    flagged = set(unproven_results(results))
    for number, result in enumerate(results):
        if not _schema_accepts(result):
            assert number in flagged


@PROPERTY_SETTINGS
@given(st.lists(valid_results | damaged_results(), min_size=1, max_size=3))
def test_loader_validation_refuses_what_the_schema_refuses_naming_the_first_bad_result(
    results: list[Any],
) -> None:
    document = _document_with(results)
    message = _loader_message(document, "r.json")
    refused = [number for number, result in enumerate(results) if not _schema_accepts(result)]
    assert (message is None) == (not refused)
    if refused:
        # The first bad result, with the message validating the whole document gives for it
        # (with several bad results, that would name the last of them instead).
        first = refused[0]
        assert f" at results/{first}" in message
        alone = _document_with(results[: first + 1])
        assert message == _whole_document_message(alone, "r.json")


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"index": 1.0}, True),  # an integer to JSON Schema; the fast check leaves it to jsonschema
        ({"index": True}, False),
        ({"index": -1}, False),
        ({"expires": "2026-01-01\n"}, True),  # "$" matches before a final newline, as in re
        ({"expires": "\u0662\u0660\u0662\u0666-01-01"}, False),  # [0-9] is ASCII only
        ({"matched": 1}, False),  # only the waivers list carries matched/expired
    ],
)
def test_waiver_edges_agree_with_the_schema(change: dict[str, Any], valid: bool) -> None:
    document = json.loads(render_json(make_report()))
    failing = next(r for r in document["results"] if r["waiver"] is not None)
    failing["waiver"].update(change)
    assert _schema_accepts(failing) is valid
    assert _loader_message(document, "r.json") == _whole_document_message(document, "r.json")


def test_fast_check_knows_the_schema_it_stands_in_for() -> None:
    # When the schema's result definition changes, the fast check must change with it: until
    # then it would leave every result to jsonschema, correct but slow.
    defs = report_schema()["$defs"]
    result = defs["result"]
    assert set(result["required"]) == report_load._RESULT_KEYS
    assert set(result["properties"]) == report_load._RESULT_KEYS_WITH_BASELINE
    assert result["additionalProperties"] is False
    assert set(result["properties"]["status"]["enum"]) == report_load._STATUSES
    assert set(result["properties"]["baseline"]["enum"]) == report_load._BASELINES
    assert set(defs["severity"]["enum"]) == report_load._SEVERITIES
    assert set(defs["resource"]["required"]) == report_load._RESOURCE_KEYS
    assert set(defs["resource"]["properties"]) == report_load._RESOURCE_KEYS_WITH_TYPE
    assert set(defs["resource_type"]["enum"]) == report_load._RESOURCE_TYPES
    assert set(defs["evidence"]["required"]) == report_load._EVIDENCE_KEYS
    assert set(defs["waiver"]["required"]) == report_load._WAIVER_KEYS
    assert set(defs["waiver"]["properties"]) == report_load._WAIVER_KEYS_WITH_INDEX
    assert defs["waiver"]["properties"]["expires"]["pattern"] == report_load._EXPIRES.pattern


def test_every_result_the_renderer_writes_passes_the_fast_check(
    report: Report, baselined_report: Report, hostile_report: Report
) -> None:
    for original in (report, baselined_report, hostile_report):
        results = json.loads(render_json(original))["results"]
        assert results
        assert list(unproven_results(results)) == []


def test_valid_report_is_not_validated_result_by_result_with_jsonschema(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise AssertionError("jsonschema asked about a result the fast check should prove")

    monkeypatch.setattr(report_load, "result_validator", refuse)
    load_report(render_json(report), "r.json")


def test_first_invalid_result_is_named_even_when_later_ones_are_invalid_too(
    report: Report,
) -> None:
    document = json.loads(render_json(report))
    document["results"][2]["severity"] = "urgent"
    document["results"][5]["status"] = "maybe"
    with pytest.raises(ReportInputError, match=r"at results/2/severity: 'urgent' is not one of"):
        load_report(json.dumps(document).encode(), "r.json")


def test_results_that_are_not_a_list_are_refused(report: Report) -> None:
    document = json.loads(render_json(report))
    document["results"] = {"0": document["results"][0]}
    with pytest.raises(ReportInputError, match=r"at results: .* is not of type 'array'"):
        load_report(json.dumps(document).encode(), "r.json")


# -- the garbage collector is paused while reading, and only then --------------------------


def test_load_report_leaves_the_collector_as_it_found_it(report: Report) -> None:
    data = render_json(report)
    assert gc.isenabled()
    load_report(data, "r.json")
    assert gc.isenabled()
    with pytest.raises(ReportInputError):
        load_report(b"{", "r.json")
    assert gc.isenabled()
    gc.disable()
    try:
        load_report(data, "r.json")
        assert not gc.isenabled()
    finally:
        gc.enable()
