"""Baselines and diffs: how this run's failures compare with an earlier report's.

Failures are matched by their stable result id (policy + model ARN + version), so a baseline
from any earlier run of the same estate works, whatever order it was written in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from auditor.models import BaselineState, Report, ResolvedFailure, Result, Severity
from auditor.reports._text import version_label


def _failing(report: Report) -> dict[str, Result]:
    return {result.id: result for result in report.failures()}


def _resolved(result: Result) -> ResolvedFailure:
    return ResolvedFailure(
        id=result.id, policy_id=result.policy_id, severity=result.severity, resource=result.resource
    )


def apply_baseline(report: Report, baseline: Report, source: str) -> Report:
    """A copy of ``report`` with every failure marked new or unchanged against ``baseline``,
    the baseline's failures that are gone listed as ``resolved``, and ``baseline_path`` set."""
    before = _failing(baseline)
    now: set[str] = set()
    verdicts = []
    for verdict in report.verdicts:
        failures = []
        for result in verdict.failures:
            result_id = result.id
            now.add(result_id)
            state = BaselineState.UNCHANGED if result_id in before else BaselineState.NEW
            failures.append(dataclasses.replace(result, baseline=state))
        verdicts.append(dataclasses.replace(verdict, failures=tuple(failures)))
    resolved = tuple(_resolved(result) for key, result in before.items() if key not in now)
    return dataclasses.replace(
        report, verdicts=tuple(verdicts), baseline_path=source, resolved=resolved
    )


@dataclass(frozen=True, slots=True)
class Diff:
    """Failures of a new report compared with an old one (waived ones included)."""

    new: tuple[Result, ...]
    resolved: tuple[ResolvedFailure, ...]
    unchanged: tuple[Result, ...]

    @property
    def changed(self) -> bool:
        return bool(self.new or self.resolved)


def diff_reports(old: Report, new: Report) -> Diff:
    """What failures ``new`` added, resolved and kept compared with ``old``."""
    before = _failing(old)
    after = _failing(new)
    return Diff(
        new=tuple(result for key, result in after.items() if key not in before),
        resolved=tuple(_resolved(result) for key, result in before.items() if key not in after),
        unchanged=tuple(result for key, result in after.items() if key in before),
    )


def _line(severity: Severity, policy_id: str, label: str, waived: bool = False) -> str:
    return f"  {severity:<8} {policy_id}  {label}" + ("  (waived)" if waived else "")


def render_diff_text(diff: Diff) -> str:
    """A plain-text summary of a diff, most severe first, for ``auditor diff OLD NEW``."""
    lines = [
        f"{len(diff.new)} new, {len(diff.resolved)} resolved, "
        f"{len(diff.unchanged)} unchanged failures"
    ]
    order = {severity: rank for rank, severity in enumerate(Severity)}
    if diff.new:
        lines.append("")
        lines.append("New failures:")
        for result in sorted(
            diff.new, key=lambda r: (order[r.severity], r.policy_id, version_label(r.resource))
        ):
            lines.append(
                _line(
                    result.severity,
                    result.policy_id,
                    version_label(result.resource),
                    result.waiver is not None,
                )
            )
    if diff.resolved:
        lines.append("")
        lines.append("Resolved failures:")
        for item in sorted(diff.resolved, key=lambda r: (order[r.severity], r.policy_id)):
            lines.append(_line(item.severity, item.policy_id, version_label(item.resource)))
    return "\n".join(_printable(line) for line in lines) + "\n"


def _printable(text: str) -> str:
    # ARNs and versions come from AWS: never let them move the cursor or recolour a terminal.
    return "".join(char if char.isprintable() or char == " " else "\ufffd" for char in text)
