"""report.junit.xml: a test suite per policy, a test case per model version, and a suite of
scan errors, for CI systems that show test results."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from auditor.models import Report, Result
from auditor.reports._text import failure_message, version_label
from auditor.reports.json import dump_value

# Characters XML 1.0 cannot hold at all, even escaped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return _ILLEGAL_XML.sub("\ufffd", text)


def attr(value: object) -> str:
    """A quoted, escaped XML attribute value."""
    return quoteattr(clean(str(value)), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def text(value: object) -> str:
    return escape(clean(str(value)))


def render_junit(report: Report) -> bytes:
    """report.junit.xml as UTF-8 bytes."""
    policies = report.policies
    counts = [[0, 0, 0] for _ in policies]  # pass, fail, skip per policy
    waived = [0] * len(policies)
    for verdict in report.verdicts:
        for index, code in enumerate(verdict.statuses):
            counts[index][code] += 1
    index_of = {policy.id: index for index, policy in enumerate(policies)}
    for result in report.failures():
        if result.waiver is not None:
            waived[index_of[result.policy_id]] += 1
    names = [attr(version_label(verdict.resource)) for verdict in report.verdicts]

    total_tests = sum(sum(row) for row in counts) + len(report.errors)
    total_failures = sum(row[1] for row in counts) - sum(waived)
    # ``<testsuites>`` has no ``skipped`` in the Jenkins xUnit junit-10.xsd (it rejects the
    # file); each ``<testsuite>`` carries its own.
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<testsuites name="auditor" tests="{total_tests}" failures="{total_failures}" '
        f'errors="{len(report.errors)}">\n',
    ]
    for index, policy in enumerate(policies):
        passed, failed, skipped = counts[index]
        classname = attr(policy.id)
        parts.append(
            f"<testsuite name={classname} tests={attr(passed + failed + skipped)} "
            f'failures="{failed - waived[index]}" errors="0" '
            f'skipped="{skipped + waived[index]}">\n'
        )
        for number, verdict in enumerate(report.verdicts):
            code = verdict.statuses[index]
            if code == 0:
                parts.append(f"<testcase classname={classname} name={names[number]}/>\n")
            elif code == 2:
                parts.append(
                    f"<testcase classname={classname} name={names[number]}>"
                    '<skipped message="not applicable"/></testcase>\n'
                )
            else:
                result = _failure_of(verdict.failures, policy.id)
                parts.append(f"<testcase classname={classname} name={names[number]}>")
                parts.append(_failure_body(result))
                parts.append("</testcase>\n")
        parts.append("</testsuite>\n")
    parts.append(
        f'<testsuite name="errors" tests="{len(report.errors)}" failures="0" '
        f'errors="{len(report.errors)}" skipped="0">\n'
    )
    for error in report.errors:
        where = error.resource_arn or error.membership_id or error.region or error.account or ""
        if error.version_identifier:
            where += f"@{error.version_identifier}"
        if error.line is not None:
            where += f" (line {error.line})"
        detail = (
            f"{error.scope} {where}: {error.operation} failed with {error.code} "
            f"after {error.attempts} attempt(s): {error.message}"
        )
        parts.append(
            f"<testcase classname={attr('errors.' + str(error.scope))} "
            f"name={attr(f'{error.operation} {where}'.strip())}>"
            f"<error message={attr(error.message)} type={attr(error.code)}>{text(detail)}</error>"
            "</testcase>\n"
        )
    parts.append("</testsuite>\n</testsuites>\n")
    return "".join(parts).encode("utf-8")


def _failure_of(failures: tuple[Result, ...], policy_id: str) -> Result:
    for result in failures:
        if result.policy_id == policy_id:
            return result
    raise ValueError(f"verdict marks {policy_id} failing but holds no result for it")


def _failure_body(result: Result) -> str:
    if result.waiver is not None:
        waiver = result.waiver
        return f"<skipped message={attr(f'waived until {waiver.expires}: {waiver.reason}')}/>"
    lines = [
        f"{item.path}: {item.message}\n  actual: {dump_value(item.actual)}\n"
        f"  expected: {dump_value(item.expected)}\n  kind: {item.kind}"
        for item in result.evidence
    ]
    details = "\n".join(lines) or result.policy.title
    return (
        f"<failure message={attr(failure_message(result))} type={attr(result.severity)}>"
        f"{text(details)}</failure>"
    )
