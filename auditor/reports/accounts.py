"""Per-account summary rows: what each account contributed (report.json and report.html)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.models import Report, Severity


@dataclass(slots=True)
class AccountSummary:
    """One account's counts; ``account`` is None for versions and errors that name none."""

    account: str | None
    regions: set[str] = field(default_factory=set)
    versions: int = 0
    passed: int = 0
    failed: int = 0  # every failing result, as summary.fail counts them
    waived: int = 0  # of which waived
    skipped: int = 0
    errors: int = 0
    fail_by_severity: dict[Severity, int] = field(
        default_factory=lambda: dict.fromkeys(Severity, 0)
    )

    def to_json(self) -> dict[str, object]:
        return {
            "account": self.account,
            "regions": sorted(self.regions),
            "versions": self.versions,
            "pass": self.passed,
            "fail": self.failed,
            "waived": self.waived,
            "skip": self.skipped,
            "errors": self.errors,
            "fail_by_severity": {str(s): self.fail_by_severity[s] for s in Severity},
        }


def account_summaries(report: Report) -> list[AccountSummary]:
    """One row per account of the scan (those that yielded nothing included), by account id."""
    rows: dict[str | None, AccountSummary] = {a: AccountSummary(a) for a in report.scan.accounts}

    def row(account: str | None) -> AccountSummary:
        found = rows.get(account)
        if found is None:
            found = rows[account] = AccountSummary(account)
        return found

    for verdict in report.verdicts:
        summary = row(verdict.resource.account)
        if verdict.resource.region:
            summary.regions.add(verdict.resource.region)
        summary.versions += 1
        summary.passed += verdict.statuses.count(0)
        summary.skipped += verdict.statuses.count(2)
        for result in verdict.failures:
            summary.failed += 1
            if result.waiver is None:
                summary.fail_by_severity[result.severity] += 1
            else:
                summary.waived += 1
    for error in report.errors:
        summary = row(error.account)
        summary.errors += 1
        if error.region:
            summary.regions.add(error.region)
    return sorted(rows.values(), key=lambda s: (s.account is None, s.account or ""))
