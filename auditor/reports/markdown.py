"""report.md: a short summary for a GitHub step summary or a pull-request comment, always within
GitHub's 1 MiB job-summary limit."""

from __future__ import annotations

import re
from collections import Counter

from auditor.models import BaselineState, PriorOutcome, Report, Result
from auditor.reports._text import SEVERITIES, failure_message, gate_verdict, type_suffix, visible

MAX_FAILURES = 50
MAX_ERRORS = 20
MAX_POLICIES = 10
MAX_FILTERS = 20
MAX_CELL = 300  # characters of one value; the rest is in report.json
MAX_BYTES = 1_000_000  # GitHub refuses a job summary over 1 MiB (1,048,576 bytes)

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


def render_markdown(
    report: Report, max_failures: int = MAX_FAILURES, max_bytes: int = MAX_BYTES
) -> bytes:
    """report.md as UTF-8 bytes, never more than ``max_bytes``: GitHub refuses a job summary
    over 1 MiB. Long values are cut at ``MAX_CELL`` characters, and when the file would still
    be too large every list is shortened (halved until it fits), each with a note pointing to
    report.json."""
    rows = max_failures
    while True:
        data = _render(report, max_rows=rows).encode("utf-8", "replace")
        if len(data) <= max_bytes or rows == 0:
            return data
        rows //= 2


def cell(value: object) -> str:
    """``md(value)``, cut to ``MAX_CELL`` characters first (an AWS value can be long)."""
    if value is None:
        return ""
    text = str(value)
    return md(text[:MAX_CELL] + "…" if len(text) > MAX_CELL else text)


def _more(total: int, shown: int) -> list[str]:
    return ["", f"…and {total - shown:,} more in report.json."] if total > shown else []


def _render(report: Report, max_rows: int) -> str:
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
        if next(report.gating_prior_failures(), None) is not None:
            verdict += ", and baseline failures this run did not re-check"
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
        parts = [f"membership {cell(m)}" for m in filters.memberships]
        parts += [f"model {cell(m)}" for m in filters.models]
        named = len(parts)
        parts = parts[:MAX_FILTERS]
        if named > len(parts):
            parts.append(f"{named - len(parts):,} more in report.json")
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
        for policy_id, count in by_policy.most_common(min(MAX_POLICIES, max(max_rows, 1))):
            policy = titles[policy_id]
            lines.append(
                f"| {cell(policy.id)}: {cell(policy.title)} | {policy.severity} | {count} |"
            )

    if failures:
        failures.sort(key=lambda result: -result.severity.rank)
        shown = failures[:max_rows]
        lines += ["", f"### Failures ({len(failures)} unwaived)", ""]
        lines += [
            "| Severity | Policy | Model | Version | Evidence |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [_failure_row(result) for result in shown]
        lines += _more(len(failures), len(shown))

    waived = [result for result in report.failures() if result.waiver is not None]
    if waived:
        lines += ["", f"### Waived failures ({len(waived)})", ""]
        lines += [
            "| Severity | Policy | Model | Version | Reason | Approved by | Expires |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for result in waived[:max_rows]:
            waiver = result.waiver
            assert waiver is not None
            resource = result.resource
            lines.append(
                f"| {result.severity} | {cell(result.policy_id)} "
                f"| {cell((resource.name or resource.arn) + type_suffix(resource))} "
                f"| {cell(resource.version_identifier or '-')} "
                f"| {cell(waiver.reason)} | {cell(waiver.approved_by)} "
                f"| {waiver.expires.isoformat()} |"
            )
        lines += _more(len(waived), min(len(waived), max_rows))
    stale = [use for use in report.waivers if use.expired or not use.matched]
    if stale:
        lines += ["", "### Waivers to review", ""]
        lines += [
            "| Policy | Resource | State | Reason | Expires |",
            "| --- | --- | --- | --- | --- |",
        ]
        for use in stale[:max_rows]:
            state = "expired" if use.expired else "matched nothing"
            lines.append(
                f"| {cell(use.waiver.policy)} | {cell(use.waiver.resource)} | {state} "
                f"| {cell(use.waiver.reason)} | {use.waiver.expires.isoformat()} |"
            )
        lines += _more(len(stale), min(len(stale), max_rows))

    if report.errors:
        lines += ["", f"### Errors ({len(report.errors)})", ""]
        lines += [
            "| Scope | Operation | Code | Resource | Message |",
            "| --- | --- | --- | --- | --- |",
        ]
        shown_errors = report.errors[: min(MAX_ERRORS, max_rows)]
        for error in shown_errors:
            where = error.resource_arn or error.membership_id or error.region or ""
            lines.append(
                f"| {error.scope} | {cell(error.operation)} | {cell(error.code)} | {cell(where)} "
                f"| {cell(error.message)} |"
            )
        lines += _more(len(report.errors), len(shown_errors))

    blast = list(report.blast_radius())
    if blast:
        lines += ["", f"### Blast radius ({len(blast)} failing versions in use)", ""]
        lines += [
            "| Version | Fails | Base chain | Inference job | Status | Output to |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        jobs_shown = 0
        for item in blast:
            chain = ""
            if item.bases:  # the nearest base; the whole chain is in report.json and the HTML
                arn, version = item.bases[0]
                chain = f"{arn or '?'} v{version or '?'}"
                if len(item.bases) > 1:
                    chain += f" (+{len(item.bases) - 1} earlier)"
            for job in item.jobs:
                if jobs_shown >= max_rows:
                    break
                jobs_shown += 1
                lines.append(
                    f"| {cell(item.arn)} v{cell(item.version_identifier or '?')} "
                    f"| {cell(', '.join(item.failing))} | {cell(chain)} | {cell(job.arn)} "
                    f"| {cell(job.status or '')} | {cell(', '.join(job.output_members))} |"
                )
        lines += _more(sum(len(item.jobs) for item in blast), jobs_shown)

    if report.baseline_path is not None:
        lines += _baseline_lines(report, failures, max_rows)
    lines += [
        "",
        f"<sub>auditor {cell(report.tool_version)}, scan finished {cell(scan.finished_at)}</sub>",
        "",
    ]
    return "\n".join(lines)


_PRIOR_ORDER = (PriorOutcome.NOT_RECHECKED, PriorOutcome.GONE, PriorOutcome.RESOLVED)
_PRIOR_WORDS = {
    PriorOutcome.NOT_RECHECKED: "not re-checked",
    PriorOutcome.GONE: "gone",
    PriorOutcome.RESOLVED: "resolved",
}


def _baseline_lines(report: Report, unwaived: list[Result], max_rows: int) -> list[str]:
    counts = report.baseline_counts()
    new = sum(1 for result in unwaived if result.baseline is BaselineState.NEW)
    lines = [
        "",
        "### Compared with the baseline",
        "",
        f"{new} new unwaived failure(s). Of the baseline's failures not failing now: "
        f"{counts.resolved} resolved (read in this run, passing now), {counts.gone} gone "
        f"(the model or version no longer exists), {counts.not_rechecked} not re-checked "
        "(not read in this run, so still failing as far as anyone knows).",
        "",
        "| New | Unchanged | Resolved | Gone | Not re-checked |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {counts.new} | {counts.unchanged} | {counts.resolved} | {counts.gone} "
        f"| {counts.not_rechecked} |",
    ]
    gating = sum(1 for _ in report.gating_prior_failures())
    if gating:
        lines += ["", f"{gating} not re-checked failure(s) count against this gate."]
    items = [item for outcome in _PRIOR_ORDER for item in report.prior(outcome)]
    if items:
        lines += [
            "",
            "| State | Severity | Policy | Model | Version | Why |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for item in items[:max_rows]:
            resource = item.resource
            state = _PRIOR_WORDS[item.outcome] + (" (waived)" if item.waiver else "")
            lines.append(
                f"| {state} | {item.severity} | {md(item.policy_id)} "
                f"| {md((resource.name or resource.arn) + type_suffix(resource))} "
                f"| {md(resource.version_identifier or '-')} "
                f"| {md(item.reason)} |"
            )
        if len(items) > max_rows:
            lines += ["", f"…and {len(items) - max_rows} more in report.json."]
    return lines


def _failure_row(result: Result) -> str:
    resource = result.resource
    return (
        f"| {result.severity} | {cell(result.policy_id)} "
        f"| {cell((resource.name or resource.arn) + type_suffix(resource))} "
        f"| {cell(resource.version_identifier or '-')} | {cell(failure_message(result))} |"
    )
