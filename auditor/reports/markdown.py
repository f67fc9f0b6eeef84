"""report.md: a short summary for a GitHub step summary or a pull-request comment."""

from __future__ import annotations

import re
from collections import Counter

from auditor.models import BaselineState, Report, Result
from auditor.reports._text import SEVERITIES, failure_message, gate_verdict, visible

MAX_FAILURES = 50
MAX_ERRORS = 20
MAX_POLICIES = 10

# Markdown punctuation is backslash-escaped; characters that start HTML, entities, mentions or
# issue links become numeric entities, so no AWS value can inject markup or ping anyone.
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "@": "&#64;", "#": "&#35;"}
_SPECIAL = re.compile(r"[\\`*_{}\[\]()+!|~<>&@#]|[\r\n\u2028\u2029\t]")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ENTITIES:
        return _ENTITIES[char]
    if char in "\r\n\u2028\u2029\t":
        return " "
    return "\\" + char


def md(value: object) -> str:
    """Text shown literally in Markdown, safe in a table cell; characters that would change
    how it displays (bidi overrides, format controls, NUL) are shown as ``<U+202E>``."""
    return _SPECIAL.sub(_escape_char, visible(str(value))) if value is not None else ""


def render_markdown(report: Report, max_failures: int = MAX_FAILURES) -> bytes:
    """report.md as UTF-8 bytes."""
    summary = report.summary()
    scan = report.scan
    lines: list[str] = []
    gate = report.gate
    gate_words = gate_verdict(report)
    icon = {"clear": "✅", "findings": "⚠️", "failed": "❌"}[gate_words.state]
    head, _, rest = gate_words.sentence.partition(" at ")
    verdict = f"{icon} **{head}** at `{gate.fail_on}`{rest.removeprefix(str(gate.fail_on))}"
    if gate.new_only:
        verdict += " (new failures only)"
    lines += ["## auditor: Clean Rooms ML model audit", "", verdict, ""]
    if not scan.complete:
        lines += [
            f"⚠️ **Scan incomplete**: {summary.errors} error(s); the verdict covers only "
            "what could be read.",
            "",
        ]
    lines.append(
        f"{summary.versions} model versions, {summary.passed} passed, {summary.failed} failed "
        f"({summary.waived} waived), {summary.skipped} skipped, {summary.errors} errors."
    )
    filters = scan.filters
    if filters.narrowed:
        parts = [f"membership {md(m)}" for m in filters.memberships]
        parts += [f"model {md(m)}" for m in filters.models]
        if filters.latest_only:
            parts.append("each model's latest version only")
        lines += ["", f"Narrowed scan: {'; '.join(parts)}."]
    lines += ["", "| Severity | Unwaived failures |", "| --- | ---: |"]
    lines += [f"| {sev} | {summary.fail_by_severity[sev]} |" for sev in SEVERITIES]

    failures = [result for result in report.failures() if result.waiver is None]
    by_policy = Counter(result.policy_id for result in failures)
    if by_policy:
        titles = {policy.id: policy for policy in report.policies}
        lines += ["", "### Top failing policies", "", "| Policy | Severity | Failures |"]
        lines.append("| --- | --- | ---: |")
        for policy_id, count in by_policy.most_common(MAX_POLICIES):
            policy = titles[policy_id]
            lines.append(f"| {md(policy.id)}: {md(policy.title)} | {policy.severity} | {count} |")

    if failures:
        failures.sort(key=lambda result: -result.severity.rank)
        shown = failures[:max_failures]
        lines += ["", f"### Failures ({len(failures)} unwaived)", ""]
        lines += [
            "| Severity | Policy | Model | Version | Evidence |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [_failure_row(result) for result in shown]
        if len(failures) > len(shown):
            lines += ["", f"…and {len(failures) - len(shown)} more in report.html."]

    waived = [result for result in report.failures() if result.waiver is not None]
    if waived:
        lines += ["", f"### Waived failures ({len(waived)})", ""]
        lines += [
            "| Severity | Policy | Model | Version | Reason | Approved by | Expires |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for result in waived[:max_failures]:
            waiver = result.waiver
            assert waiver is not None
            resource = result.resource
            lines.append(
                f"| {result.severity} | {md(result.policy_id)} "
                f"| {md(resource.name or resource.arn)} | {md(resource.version_identifier or '-')} "
                f"| {md(waiver.reason)} | {md(waiver.approved_by)} | {waiver.expires.isoformat()} |"
            )
        if len(waived) > max_failures:
            lines += ["", f"…and {len(waived) - max_failures} more in report.html."]
    stale = [use for use in report.waivers if use.expired or not use.matched]
    if stale:
        lines += ["", "### Waivers to review", ""]
        lines += [
            "| Policy | Resource | State | Reason | Expires |",
            "| --- | --- | --- | --- | --- |",
        ]
        for use in stale:
            state = "expired" if use.expired else "matched nothing"
            lines.append(
                f"| {md(use.waiver.policy)} | {md(use.waiver.resource)} | {state} "
                f"| {md(use.waiver.reason)} | {use.waiver.expires.isoformat()} |"
            )

    if report.errors:
        lines += ["", f"### Errors ({len(report.errors)})", ""]
        lines += [
            "| Scope | Operation | Code | Resource | Message |",
            "| --- | --- | --- | --- | --- |",
        ]
        for error in report.errors[:MAX_ERRORS]:
            where = error.resource_arn or error.membership_id or error.region or ""
            lines.append(
                f"| {error.scope} | {md(error.operation)} | {md(error.code)} | {md(where)} "
                f"| {md(error.message)} |"
            )
        if len(report.errors) > MAX_ERRORS:
            lines += ["", f"…and {len(report.errors) - MAX_ERRORS} more in report.html."]

    if report.baseline_path is not None:
        new = sum(1 for result in failures if result.baseline is BaselineState.NEW)
        lines += [
            "",
            f"Compared with baseline: {new} new unwaived failure(s), "
            f"{len(report.resolved)} resolved.",
        ]
    lines += [
        "",
        f"<sub>auditor {md(report.tool_version)}, scan finished {md(scan.finished_at)}</sub>",
        "",
    ]
    return "\n".join(lines).encode("utf-8", "replace")


def _failure_row(result: Result) -> str:
    resource = result.resource
    return (
        f"| {result.severity} | {md(result.policy_id)} | {md(resource.name or resource.arn)} "
        f"| {md(resource.version_identifier or '-')} | {md(failure_message(result))} |"
    )
