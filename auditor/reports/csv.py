"""report.csv: one row per result, for spreadsheets; cells cannot start a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from auditor.models import Report, Resource, Result, ResultIds, version_material
from auditor.reports._text import evidence_kinds, failure_message

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
    "resource_type",
    "creator_account",
    "evidence",
    "evidence_kind",
)

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection); a leading
# LF is not one of them, but neutralising it too costs nothing.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: str | None) -> str:
    """A value made safe for a spreadsheet cell: a leading formula character gets a quote."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(report: Report) -> bytes:
    """report.csv as UTF-8 bytes (with a header row); CRLF line ends, as RFC 4180 has them."""
    return "".join(_chunks(report)).encode("utf-8", "replace")


def _chunks(report: Report, versions_per_chunk: int = 1000) -> Iterator[str]:
    # The csv module does all the quoting: any value holding a comma, a quote, CR or LF is
    # quoted, so a line break inside a value never starts a new row.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    policy_cells = [
        [cell(policy.id), cell(policy.title), str(policy.severity)] for policy in report.policies
    ]
    ids = ResultIds(policy.id for policy in report.policies)
    unfailed = (("pass", "no", "", "", "", ""), (), ("skip", "no", "", "", "", ""))
    for number, verdict in enumerate(report.verdicts, start=1):
        resource = verdict.resource
        version = version_material(resource.arn, resource.version_identifier)
        resource_cells = _resource_cells(resource)
        failures = iter(verdict.failures)
        for index, code in enumerate(verdict.statuses):
            if code == 1:
                writer.writerow(_failure_row(next(failures), policy_cells[index], resource_cells))
            else:
                writer.writerow(
                    (
                        ids.of(index, version),
                        *policy_cells[index],
                        *unfailed[code],
                        *resource_cells,
                        "",
                        "",
                    )
                )
        if number % versions_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


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
        str(resource.type),
        cell(resource.creator_account),
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
        evidence_kinds(result),
    ]
