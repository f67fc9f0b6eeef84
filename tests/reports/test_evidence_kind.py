"""Every report format tells "broke the rule" from "could not be shown compliant": each
evidence item's kind (violated, missing, wrong-type) reaches report.json and back, the CSV
(a column), SARIF (result properties and message), JUnit (failure text) and Markdown."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

from auditor.models import Evidence, EvidenceKind, Report, Result, Status
from auditor.reports import Format, render
from auditor.reports.json import load_report
from tests.reports.canned import POLICIES, make_report, resource, verdict
from tests.reports.test_html_browser import browser, open_report  # noqa: F401 (fixtures)

KINDS = (
    Evidence("kmsKeyArn", None, "present", "kmsKeyArn is missing; expected x", EvidenceKind.MISSING),
    Evidence("tags", "a", "an object", "tags is 'a', a string; keys needs an object",
             EvidenceKind.WRONG_TYPE),
    Evidence("status", "CREATE_FAILED", "not x", "status 'CREATE_FAILED' matches *_FAILED"),
)  # fmt: skip


def kinds_report() -> Report:
    where = resource(1)
    failure = Result(policy=POLICIES[0], resource=where, status=Status.FAIL, evidence=KINDS)
    statuses = [Status.FAIL] + [Status.PASS] * (len(POLICIES) - 1)
    return make_report(verdicts=(verdict(where, statuses, [failure]),), waivers=())


def test_report_json_carries_each_kind_and_reads_it_back() -> None:
    report = kinds_report()
    data = render(report, Format.JSON)

    (written,) = [r for r in json.loads(data)["results"] if r["status"] == "fail"]
    (read,) = list(load_report(data, "report.json").failures())

    assert [item["kind"] for item in written["evidence"]] == ["missing", "wrong-type", "violated"]
    assert read.evidence == KINDS


def test_csv_has_an_evidence_kind_column() -> None:
    rows = list(csv.DictReader(io.StringIO(render(kinds_report(), Format.CSV).decode())))

    failing = [row for row in rows if row["status"] == "fail"]
    passing = [row for row in rows if row["status"] == "pass"]
    assert [row["evidence_kind"] for row in failing] == ["missing, wrong-type, violated"]
    assert failing[0]["evidence"].startswith("[missing] kmsKeyArn is missing; expected x; ")
    assert "[wrong-type] tags is 'a'" in failing[0]["evidence"]
    assert passing
    assert all(row["evidence_kind"] == "" for row in passing)


def test_sarif_markdown_and_junit_show_the_kind() -> None:
    report = kinds_report()

    sarif = json.loads(render(report, Format.SARIF))
    (result,) = sarif["runs"][0]["results"]
    junit = ET.fromstring(render(report, Format.JUNIT))
    (failure,) = junit.iter("failure")
    markdown = render(report, Format.MARKDOWN).decode()

    assert [item["kind"] for item in result["properties"]["evidence"]] == [
        "missing",
        "wrong-type",
        "violated",
    ]
    assert "[missing] kmsKeyArn is missing" in result["message"]["text"]
    assert "kind: missing" in (failure.text or "")
    assert "kind: wrong-type" in (failure.text or "")
    assert "[missing] kmsKeyArn is missing" in (failure.get("message") or "")
    assert "| \\[missing\\] kmsKeyArn is missing; expected x; \\[wrong-type\\] tags is" in markdown


def test_html_carries_the_kind_of_each_evidence_item() -> None:
    html = render(kinds_report(), Format.HTML).decode()

    assert '"wrong-type"' in html
    assert '"Kind"' in html


def test_the_html_evidence_table_shows_the_kind(open_report: Any) -> None:  # noqa: F811
    page = open_report(kinds_report())

    page.page.locator("button.evidence").first.click()

    text = page.page.locator("tr.detail").inner_text()
    assert "Kind" in text
    assert "missing" in text
    assert "wrong-type" in text
    assert "violated" in text
    assert page.problems == []
