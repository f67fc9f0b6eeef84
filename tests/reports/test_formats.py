from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from auditor.errors import UsageError
from auditor.models import Report, Severity
from auditor.reports import FILENAMES, Format, iter_render, parse_formats, render
from auditor.reports.csv import cell
from auditor.reports.markdown import md
from tests.reports.canned import HOSTILE, WAIVER, load_sarif_schema


def test_every_format_has_a_file_name_and_renders(report: Report) -> None:
    assert set(FILENAMES) == set(Format)
    assert FILENAMES[Format.MARKDOWN] == "report.md"
    assert FILENAMES[Format.JUNIT] == "report.junit.xml"
    for fmt in Format:
        assert render(report, fmt)
        assert b"".join(iter_render(report, fmt)) == render(report, fmt)


def test_parse_formats_accepts_lists_aliases_and_all() -> None:
    assert parse_formats("json,html") == (Format.JSON, Format.HTML)
    assert parse_formats(" md , json,json") == (Format.MARKDOWN, Format.JSON)
    assert parse_formats("all") == tuple(Format)


@pytest.mark.parametrize("text", ["pdf", "json,nope", "", " , "])
def test_parse_formats_rejects_unknown_names(text: str) -> None:
    with pytest.raises(UsageError, match="format"):
        parse_formats(text)


# -- counts agree across formats -------------------------------------------------------------


def _junit(report: Report) -> ET.Element:
    return ET.fromstring(render(report, Format.JUNIT))


def test_junit_counts_equal_the_summary(report: Report) -> None:
    summary = report.summary()
    root = _junit(report)
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {p.id for p in report.policies} | {"errors"}
    cases = [case for name, suite in suites.items() if name != "errors" for case in suite]
    assert len(cases) == summary.passed + summary.failed + summary.skipped
    failures = [case for case in cases if case.find("failure") is not None]
    assert len(failures) == summary.failed - summary.waived
    skipped = [case for case in cases if case.find("skipped") is not None]
    assert len(skipped) == summary.skipped + summary.waived
    assert len(suites["errors"].findall("testcase/error")) == summary.errors
    assert int(root.get("failures", "-1")) == summary.failed - summary.waived
    for suite in suites.values():
        assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped", "-1")) == len(suite.findall("testcase/skipped"))
    messages = [c.find("skipped").get("message", "") for c in skipped]  # type: ignore[union-attr]
    assert sum(m.startswith("waived until 2027-01-31: Legacy") for m in messages) == 1


def test_junit_testcases_name_policy_and_version(report: Report) -> None:
    case = _junit(report).find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "encryption-at-rest"
    assert case.get("name", "").endswith("/trained-model/tm-1@v1")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "critical"
    assert "actual: " in (failure.text or "")


def _sarif(report: Report) -> dict:
    return json.loads(render(report, Format.SARIF))


def test_sarif_validates_against_the_sarif_2_1_0_schema(
    report: Report, baselined_report: Report, hostile_report: Report
) -> None:
    schema = load_sarif_schema()
    for item in (report, baselined_report, hostile_report):
        jsonschema.Draft4Validator(schema).validate(_sarif(item))


def test_sarif_has_one_unsuppressed_result_per_unwaived_failure(report: Report) -> None:
    summary = report.summary()
    run = _sarif(report)["runs"][0]
    unsuppressed = [r for r in run["results"] if not r.get("suppressions")]
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert len(unsuppressed) == summary.failed - summary.waived
    assert len(suppressed) == summary.waived
    assert suppressed[0]["suppressions"][0]["justification"].startswith("Legacy models")
    assert {r["partialFingerprints"]["auditorResultId/v1"] for r in run["results"]} == {
        r.id for r in report.failures()
    }


def test_sarif_rules_carry_severity_help_and_tags(report: Report) -> None:
    driver = _sarif(report)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "auditor"
    rule = driver["rules"][0]
    assert rule["id"] == "encryption-at-rest"
    assert rule["properties"]["security-severity"] == "9.5"
    assert "cis:3.1" in rule["properties"]["tags"]
    assert rule["help"]["text"] == "Retrain with a kmsKeyArn."
    assert rule["helpUri"].startswith("https://")
    assert rule["defaultConfiguration"]["level"] == "error"
    levels = {r["ruleId"]: r["level"] for r in _sarif(report)["runs"][0]["results"]}
    assert levels["required-tags"] == "warning"
    assert levels["training-time-limit"] == levels["description-present"] == "note"


def test_sarif_locations_are_physical_and_name_the_model_version(report: Report) -> None:
    location = _sarif(report)["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "packs/baseline.yaml"
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("tm-1@v1")


def _csv_rows(report: Report) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render(report, Format.CSV).decode())))


def test_csv_has_one_row_per_result_with_status_waiver_and_baseline(
    baselined_report: Report,
) -> None:
    rows = _csv_rows(baselined_report)
    summary = baselined_report.summary()
    assert len(rows) == summary.passed + summary.failed + summary.skipped
    assert sum(row["status"] == "fail" for row in rows) == summary.failed
    assert sum(row["waived"] == "yes" for row in rows) == summary.waived
    assert {row["baseline"] for row in rows if row["status"] == "fail"} == {"new", "unchanged"}
    assert [row["id"] for row in rows] == [r.id for r in baselined_report.results()]


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_cannot_start_a_formula(value: str) -> None:
    assert cell(value) == "'" + value


def test_csv_escapes_hostile_values(hostile_report: Report) -> None:
    rows = _csv_rows(hostile_report)
    assert rows[1]["name"] == "N " + HOSTILE
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_markdown_has_verdict_counts_failures_and_errors(report: Report) -> None:
    text = render(report, Format.MARKDOWN).decode()
    assert "Gate failed" in text
    assert "| critical | 1 |" in text
    assert "Scan incomplete" in text
    assert "required-tags" in text
    assert "AccessDeniedException" in text


def test_markdown_says_how_many_more_are_in_report_json(report: Report) -> None:
    from auditor.reports.markdown import render_markdown

    text = render_markdown(report, max_failures=2).decode()
    assert "…and 4 more in report.json." in text
    assert text.index("| critical |", text.index("### Failures")) < text.index(
        "| high |", text.index("### Failures")
    )


def test_markdown_escapes_everything_aws_controls(hostile_report: Report) -> None:
    text = render(hostile_report, Format.MARKDOWN).decode()
    body = text.split("### Top failing policies")[1]
    assert "<script>" not in body
    assert "<img" not in body
    assert "[x](y)" not in body
    for line in body.splitlines():
        if line.startswith("| high"):
            assert line.count(" | ") + 1 == len(line.strip("|").split(" | "))
            assert line.replace("\\|", "").count("|") == 6
    assert "\u2028" not in text


def test_md_escape_covers_pipes_mentions_and_links() -> None:
    assert md("a|b") == "a\\|b"
    assert md("@team") == "&#64;team"
    assert md("[x](http://e)") == r"\[x\]\(http://e\)"
    assert md("`x`") == "\\`x\\`"
    assert md("<b>") == "&lt;b&gt;"


def test_junit_and_sarif_survive_hostile_and_illegal_xml_characters(hostile_report: Report) -> None:
    import dataclasses

    error = dataclasses.replace(hostile_report.errors[0], message="bell \x07 nul \x00 " + HOSTILE)
    report = dataclasses.replace(hostile_report, errors=(error,))
    root = ET.fromstring(render(report, Format.JUNIT))
    messages = [e.get("message", "") for e in root.iter("error")]
    assert messages[0].startswith("bell \ufffd nul \ufffd <script>")
    names = [c.get("name", "") for c in root.iter("testcase")]
    assert any(HOSTILE in name for name in names)


def test_summary_counts_agree_across_json_csv_junit_sarif(report: Report) -> None:
    document = json.loads(render(report, Format.JSON))
    rows = _csv_rows(report)
    sarif_results = _sarif(report)["runs"][0]["results"]
    junit_failures = len(list(_junit(report).iter("failure")))
    unwaived = sum(document["summary"]["fail_by_severity"].values())
    assert unwaived == junit_failures == sum(1 for r in sarif_results if "suppressions" not in r)
    assert document["summary"]["fail"] == sum(row["status"] == "fail" for row in rows)
    assert document["summary"]["fail_by_severity"][Severity.CRITICAL] == 1


def test_markdown_shows_waived_failures_with_reason_and_waivers_to_review(report: Report) -> None:
    text = render(report, Format.MARKDOWN).decode()
    waived = text.split("### Waived failures (1)")[1].split("###")[0]
    assert md(WAIVER.reason) in waived
    assert md(WAIVER.approved_by) in waived
    review = text.split("### Waivers to review")[1].split("###")[0]
    assert "| expired |" in review
    assert "| matched nothing |" in review
