from __future__ import annotations

import dataclasses
import json
import math
from datetime import date

import pytest

from auditor.errors import ReportInputError
from auditor.models import Evidence, Report, Status, fingerprint
from auditor.reports.json import dump_value, render_json
from auditor.reports.load import load_report
from tests.reports.canned import (
    HOSTILE,
    POLICIES,
    fail,
    make_report,
    resource,
    validate_report_json,
    verdict,
)


def _document(report: Report) -> dict:
    return json.loads(render_json(report))


def test_report_json_validates_against_the_published_schema(report: Report) -> None:
    validate_report_json(_document(report))


def test_baselined_and_hostile_reports_validate_too(
    baselined_report: Report, hostile_report: Report
) -> None:
    validate_report_json(_document(baselined_report))
    validate_report_json(_document(hostile_report))


def test_contract_fields_have_the_contract_names(report: Report) -> None:
    document = _document(report)
    assert document["schema_version"] == 1
    assert document["tool"] == {"name": "auditor", "version": "0.1.0"}
    assert {
        "started_at",
        "finished_at",
        "complete",
        "regions",
        "accounts",
        "packs",
        "params",
    } <= set(document["scan"])
    assert document["scan"]["packs"][0]["sha256"] == "ab" * 32
    summary = document["summary"]
    assert (summary["versions"], summary["pass"], summary["fail"], summary["skip"]) == (4, 12, 7, 1)
    assert summary["errors"] == 2
    assert summary["waived"] == 1
    assert summary["fail_by_severity"] == {
        "critical": 1,
        "high": 2,
        "medium": 1,
        "low": 1,
        "info": 1,
    }
    assert summary["gate"] == {"fail_on": "high", "passed": False, "new_only": False}


def test_one_result_per_policy_and_version_with_resource_and_stable_id(report: Report) -> None:
    results = _document(report)["results"]
    assert len(results) == 4 * len(POLICIES)
    first = results[0]
    assert first["id"] == fingerprint(first["policy_id"], first["resource"]["arn"], "v1")
    assert first["resource"] == dataclasses.asdict(resource(1))
    assert first["evidence"][0] == {
        "path": "tags",
        "actual": {"owner": None, "nested": [1, 2.5, True]},
        "expected": ["owner", "data-classification"],
        "message": "encryption-at-rest failed on model-1",
        "kind": "violated",
    }
    waived = [r for r in results if r["waiver"] is not None]
    assert [(r["policy_id"], r["waiver"]["expires"]) for r in waived] == [
        ("required-tags", "2027-01-31")
    ]
    passes = [r for r in results if r["status"] == "pass"]
    assert all(r["evidence"] == [] and r["waiver"] is None for r in passes)
    assert all("baseline" not in r for r in results)


def test_results_match_the_models_materialised_results(report: Report) -> None:
    expected = [(r.id, r.policy_id, str(r.status)) for r in report.results()]
    actual = [(r["id"], r["policy_id"], r["status"]) for r in _document(report)["results"]]
    assert actual == expected


def test_baseline_marks_failures_and_lists_resolved_gone_and_not_rechecked_apart(
    baselined_report: Report,
) -> None:
    document = _document(baselined_report)
    marks = {(r["policy_id"], r["status"], r["baseline"]) for r in document["results"]}
    assert ("no-public-output", "fail", "unchanged") in marks
    assert ("required-tags", "fail", "new") in marks
    assert ("required-tags", "pass", None) in marks
    listed = {
        key: [(item["resource"]["name"], item["reason"]) for item in document[key]]
        for key in ("resolved", "gone", "not_rechecked")
    }
    assert listed == {
        "resolved": [("model-1", "read in this run; the policy passes now")],
        "gone": [("model-5", "GetTrainedModel answered ResourceNotFoundException")],
        "not_rechecked": [
            (
                "model-6",
                "membership m-6 not read: ListTrainedModels failed: AccessDeniedException",
            )
        ],
    }
    counts = document["summary"]["baseline"]
    assert (counts["resolved"], counts["gone"], counts["not_rechecked"]) == (1, 1, 1)
    assert counts["unchanged"] + counts["new"] == document["summary"]["fail"]
    assert counts["unchanged"] == sum(
        1 for r in document["results"] if r.get("baseline") == "unchanged"
    )
    assert document["scan"]["baseline"] == "baseline/report.json"


def test_errors_carry_contract_fields_and_extensions(report: Report) -> None:
    error = _document(report)["errors"][1]
    assert error["scope"] == "version"
    assert error["resource_arn"].endswith("tm-4")
    assert (error["version_identifier"], error["attempts"], error["line"]) == ("v7", 3, None)


def test_waiver_uses_list_matched_expired_and_unmatched(report: Report) -> None:
    uses = [(w["policy"], w["matched"], w["expired"]) for w in _document(report)["waivers"]]
    assert uses == [
        ("required-tags", 1, False),
        ("encryption-at-rest", 0, True),
        ("nothing-*", 0, False),
    ]


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        {("tuple", "key"): 1},
        {1, 2},
        date(2025, 1, 1),
        object(),
        b"\xff bytes",
    ],
)
def test_evidence_values_json_cannot_hold_become_strings(value: object) -> None:
    json.loads(dump_value(value))
    where = resource(1)
    bad = dataclasses.replace(
        fail(POLICIES[0], where), evidence=(Evidence("p", value, value, "m"),)
    )
    report = make_report(policies=POLICIES[:1], verdicts=(verdict(where, [Status.FAIL], [bad]),))
    validate_report_json(_document(report))


def test_self_referencing_evidence_does_not_crash() -> None:
    loop: list[object] = []
    loop.append(loop)
    json.loads(dump_value(loop))


def test_hostile_strings_survive_exactly_and_cannot_break_lines(hostile_report: Report) -> None:
    data = render_json(hostile_report)
    assert "\u2028".encode() not in data
    document = json.loads(data)
    result = document["results"][1]
    assert result["resource"]["name"] == "N " + HOSTILE
    assert result["evidence"][0]["actual"] == {"k" + HOSTILE: HOSTILE}


def test_round_trip_render_load_render_is_byte_identical(
    report: Report, baselined_report: Report, hostile_report: Report
) -> None:
    for original in (report, baselined_report, hostile_report):
        data = render_json(original)
        loaded = load_report(data, "report.json")
        assert render_json(loaded) == data
        assert loaded.summary() == original.summary()


def test_loaded_report_equals_the_original_records(report: Report) -> None:
    loaded = load_report(render_json(report), "r.json")
    assert loaded.policies == report.policies
    assert loaded.errors == report.errors
    assert loaded.waivers == report.waivers
    assert loaded.scan == report.scan
    assert list(loaded.results()) == list(report.results())


def test_report_without_policies_extension_is_still_readable(report: Report) -> None:
    document = _document(report)
    del document["policies"]
    loaded = load_report(json.dumps(document).encode(), "old.json")
    assert [p.id for p in loaded.policies] == [p.id for p in POLICIES]
    assert loaded.summary() == report.summary()


def _broken(report: Report, change: str) -> bytes:
    document = _document(report)
    if change == "schema_version":
        document["schema_version"] = 2
    elif change == "status":
        document["results"][0]["status"] = "maybe"
    elif change == "missing-field":
        del document["results"][3]["resource"]["arn"]
    elif change == "unknown-policy":
        document["results"][0]["policy_id"] = "nope"
    elif change == "duplicate":
        document["results"].append(document["results"][0])
    elif change == "missing-result":
        document["results"].pop()
    elif change == "id":
        document["results"][0]["id"] = "f" * 32
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("schema_version", "schema_version"),
        ("status", "results/0/status"),
        ("missing-field", "results/3/resource"),
        ("unknown-policy", "unknown policy 'nope'"),
        ("duplicate", "second result"),
        ("missing-result", "has no result for description-present"),
        ("id", "id does not match"),
    ],
)
def test_invalid_report_input_names_source_and_place(
    report: Report, change: str, message: str
) -> None:
    with pytest.raises(ReportInputError, match=r"shard-3\.json") as caught:
        load_report(_broken(report, change), "shard-3.json")
    assert message in str(caught.value)


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"[]", b'"report"'])
def test_non_report_bytes_raise_report_input_error(data: bytes) -> None:
    with pytest.raises(ReportInputError, match=r"in\.json"):
        load_report(data, "in.json")


def test_summary_counts_agree_with_results_and_per_account_rows(report: Report) -> None:
    document = json.loads(render_json(report))
    summary = document["summary"]
    failing = [r for r in document["results"] if r["status"] == "fail"]
    assert summary["fail"] == len(failing)
    assert summary["waived"] == sum(1 for r in failing if r["waiver"] is not None)
    unwaived = sum(summary["fail_by_severity"].values())
    assert unwaived == summary["fail"] - summary["waived"]
    assert sum(row["fail"] for row in summary["accounts"]) == summary["fail"]
    assert sum(row["waived"] for row in summary["accounts"]) == summary["waived"]
