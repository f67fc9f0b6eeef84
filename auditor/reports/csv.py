"""report.csv: one row per result, for spreadsheets; cells cannot start a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from auditor.models import Report, Resource, Result, fingerprint
from auditor.reports._text import failure_message

COLUMNS = (
    "id",
    "policy_id",
    "title",
    "severity",
    "status",
    "waived",
    "waiver_reason",
    "waiver_expires",
    "waiver_approved_by",
    "baseline",
    "arn",
    "version_identifier",
    "name",
    "membership_id",
    "collaboration_id",
    "account",
    "region",
    "resource_status",
    "evidence",
)

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str | None) -> str:
    """A value made safe for a spreadsheet cell: a leading formula character gets a quote."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(report: Report) -> bytes:
    """report.csv as UTF-8 bytes (with a header row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(report))
    return buffer.getvalue().encode("utf-8", "replace")


def _resource_cells(resource: Resource) -> list[str]:
    return [
        cell(resource.arn),
        cell(resource.version_identifier),
        cell(resource.name),
        cell(resource.membership_id),
        cell(resource.collaboration_id),
        cell(resource.account),
        cell(resource.region),
        cell(resource.status),
    ]


def _rows(report: Report) -> Iterator[list[str]]:
    policy_cells = [
        [cell(policy.id), cell(policy.title), str(policy.severity)] for policy in report.policies
    ]
    policy_ids = [policy.id for policy in report.policies]
    statuses = ("pass", "fail", "skip")
    for verdict in report.verdicts:
        resource = verdict.resource
        resource_cells = _resource_cells(resource)
        failures = iter(verdict.failures)
        for index, code in enumerate(verdict.statuses):
            if code == 1:
                yield _failure_row(next(failures), policy_cells[index], resource_cells)
            else:
                yield [
                    fingerprint(policy_ids[index], resource.arn, resource.version_identifier),
                    *policy_cells[index],
                    statuses[code],
                    "no",
                    "",
                    "",
                    "",
                    "",
                    *resource_cells,
                    "",
                ]


def _failure_row(result: Result, policy_cells: list[str], resource_cells: list[str]) -> list[str]:
    waiver = result.waiver
    return [
        result.id,
        *policy_cells,
        "fail",
        "no" if waiver is None else "yes",
        "" if waiver is None else cell(waiver.reason),
        "" if waiver is None else waiver.expires.isoformat(),
        "" if waiver is None else cell(waiver.approved_by),
        "" if result.baseline is None else str(result.baseline),
        *resource_cells,
        cell(failure_message(result)),
    ]
