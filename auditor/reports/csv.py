"""report.csv: one row per result, for spreadsheets; cells cannot start a formula."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator

from auditor.models import Report, Resource, Result
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
    "evidence",
    "evidence_kind",
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
    return "".join(_lines(report)).encode("utf-8", "replace")


class _Encoder:
    """CSV text of a few cells at a time, quoted by the csv module."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="")

    def __call__(self, cells: list[str]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(cells)
        return self.buffer.getvalue()


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


def _lines(report: Report) -> Iterator[str]:
    # Quoting two million rows one by one is slow; the constant parts of a row (policy columns,
    # resource columns) are encoded once each and the rows assembled from those fragments.
    encode = _Encoder()
    yield encode(list(COLUMNS)) + "\r\n"
    policy_cells = [
        [cell(policy.id), cell(policy.title), str(policy.severity)] for policy in report.policies
    ]
    policy_texts = [encode(cells) for cells in policy_cells]
    hashers = [hashlib.sha256(f"{policy.id}\x1f".encode()) for policy in report.policies]
    middles = (",pass,no,,,,,", "", ",skip,no,,,,,")
    for verdict in report.verdicts:
        resource = verdict.resource
        suffix = f"{resource.arn}\x1f{resource.version_identifier or ''}".encode()
        resource_cells = _resource_cells(resource)
        resource_text = encode(resource_cells)
        failures = iter(verdict.failures)
        for index, code in enumerate(verdict.statuses):
            if code == 1:
                row = _failure_row(next(failures), policy_cells[index], resource_cells)
                yield encode(row) + "\r\n"
            else:
                hasher = hashers[index].copy()
                hasher.update(suffix)
                yield f"{hasher.hexdigest()[:32]},{policy_texts[index]}{middles[code]}{resource_text},,\r\n"


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
