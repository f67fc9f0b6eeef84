"""report.junit.xml as its real readers see it: the Jenkins xUnit ``junit-10.xsd`` and
junitparser."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import junitparser
import pytest
import xmlschema

from auditor.models import Report
from auditor.reports.junit import render_junit
from tests.reports.canned import HOSTILE, SCHEMAS


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(SCHEMAS / "junit-10.xsd"))


def _parsed(report: Report, tmp_path: Path) -> junitparser.JUnitXml:
    path = tmp_path / "report.junit.xml"
    path.write_bytes(render_junit(report))
    parsed = junitparser.JUnitXml.fromfile(str(path))
    assert isinstance(parsed, junitparser.JUnitXml)
    return parsed


def test_junit_is_valid_against_the_jenkins_xunit_junit_10_xsd(
    junit_schema: xmlschema.XMLSchema10,
    report: Report,
    baselined_report: Report,
    hostile_report: Report,
) -> None:
    for each in (report, baselined_report, hostile_report):
        junit_schema.validate(render_junit(each).decode("utf-8"))


def test_testsuites_carries_no_attribute_the_xsd_rejects(
    junit_schema: xmlschema.XMLSchema10, report: Report
) -> None:
    text = render_junit(report).decode("utf-8")
    root_tag = text.split("<testsuites", 1)[1].split(">", 1)[0]
    assert "skipped=" not in root_tag
    assert junit_schema.is_valid(text)


def test_junitparser_counts_suites_cases_and_failures_as_the_report_does(
    report: Report, tmp_path: Path
) -> None:
    summary = report.summary()
    parsed = _parsed(report, tmp_path)
    suites = {suite.name: suite for suite in parsed}
    assert set(suites) == {policy.id for policy in report.policies} | {"errors"}
    cases = [case for name, suite in suites.items() if name != "errors" for case in suite]
    assert len(cases) == summary.passed + summary.failed + summary.skipped
    failed = [c for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)]
    skipped = [c for c in cases if any(isinstance(r, junitparser.Skipped) for r in c.result)]
    assert len(failed) == summary.failed - summary.waived
    assert len(skipped) == summary.skipped + summary.waived
    errors = [case for case in suites["errors"] if case.result]
    assert len(errors) == summary.errors
    assert all(isinstance(case.result[0], junitparser.Error) for case in errors)
    for suite in suites.values():
        members = list(suite)
        assert suite.tests == len(members)
        assert suite.failures == sum(
            isinstance(r, junitparser.Failure) for case in members for r in case.result
        )
        assert suite.skipped == sum(
            isinstance(r, junitparser.Skipped) for case in members for r in case.result
        )
    assert parsed.tests == len(cases) + summary.errors
    assert parsed.failures == summary.failed - summary.waived
    assert parsed.errors == summary.errors


def test_junitparser_reads_hostile_names_and_messages_literally(
    hostile_report: Report, tmp_path: Path
) -> None:
    error = dataclasses.replace(hostile_report.errors[0], message="nul \x00 " + HOSTILE)
    parsed = _parsed(dataclasses.replace(hostile_report, errors=(error,)), tmp_path)
    names = [case.name for suite in parsed for case in suite]
    assert any(HOSTILE in name for name in names)
    messages = [r.message for suite in parsed for case in suite for r in case.result]
    assert "nul \ufffd " + HOSTILE in messages
