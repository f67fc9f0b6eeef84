"""Baselines and diffs: how this run's failures compare with an earlier report's.

Failures are matched by their stable result id (policy + model ARN + version), so a baseline
from any earlier run of the same estate works, whatever order it was written in.

A baseline failure this run does not fail is accounted for as one of three things, and only
one of them says it was fixed (``PriorOutcome``):

- ``resolved``: this run read the version and the policy passes or skips now;
- ``gone``: this run was told the model or version does not exist (ResourceNotFound), or
  listed its membership in full (``scan.memberships_read``) and the version was not there;
- ``not-rechecked``: anything else. This run did not read it: an error, a denied membership,
  ``--timeout``, an interruption, or a narrower scope (``--membership``, ``--model``,
  ``--latest-only``, another region, account or shard). A report that does not record which
  memberships it listed in full (older ones, ``evaluate``) proves nothing gone by absence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.models import (
    BaselineState,
    ErrorScope,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    Result,
    ScanError,
    Severity,
    Status,
    Waiver,
)
from auditor.reports._text import version_label
from auditor.waivers import matches

NOT_FOUND = "ResourceNotFoundException"
_MODEL_SCOPES = (ErrorScope.TRAINED_MODEL, ErrorScope.VERSION)


def _failing(report: Report) -> dict[str, Result]:
    return {result.id: result for result in report.failures()}


class _Recheck:
    """What one run read, indexed to account for each baseline failure it does not fail."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.position = {policy.id: index for index, policy in enumerate(report.policies)}
        self.read = {verdict.resource.key: verdict for verdict in report.verdicts}
        self.models_seen = {verdict.resource.arn for verdict in report.verdicts}
        self.model_errors: dict[tuple[str, str | None], ScanError] = {}
        self.membership_errors: dict[str, ScanError] = {}
        self.wide_errors: list[ScanError] = []
        for error in report.errors:
            if error.resource_arn and error.scope in _MODEL_SCOPES:
                self.models_seen.add(error.resource_arn)
                key = (error.resource_arn, error.version_identifier)
                known = self.model_errors.get(key)
                # a ResourceNotFound says most: keep it over any other error for the same key
                if known is None or (error.code == NOT_FOUND and known.code != NOT_FOUND):
                    self.model_errors[key] = error
            elif error.membership_id and error.scope is ErrorScope.MEMBERSHIP:
                self.membership_errors.setdefault(error.membership_id, error)
            elif error.scope in (ErrorScope.REGION, ErrorScope.ACCOUNT):
                self.wide_errors.append(error)
        scan = report.scan
        # An interrupted run may have listed a membership and then lost some of its reads
        # without an error: nothing it did not read is proven gone by its absence.
        self.listed_in_full = (
            {}
            if scan.interrupted
            else {(m.membership_id, m.region): m for m in scan.memberships_read}
        )

    def account_for(self, before: Result, waivers: Sequence[Waiver]) -> PriorFailure:
        outcome, reason = self._outcome(before)
        policy_index = self.position.get(before.policy_id)
        severity = (
            self.report.policies[policy_index].severity
            if policy_index is not None
            else before.severity
        )
        item = PriorFailure(
            id=before.id,
            policy_id=before.policy_id,
            severity=severity,
            resource=before.resource,
            outcome=outcome,
            reason=reason,
        )
        if outcome is PriorOutcome.NOT_RECHECKED:
            waiver = next((w for w in waivers if matches(w, item)), None)
            if waiver is not None:
                item = dataclasses.replace(item, waiver=waiver)
        return item

    def _outcome(self, before: Result) -> tuple[PriorOutcome, str]:
        resource = before.resource
        verdict = self.read.get(resource.key)
        if verdict is not None:
            index = self.position.get(before.policy_id)
            if index is None:
                return PriorOutcome.NOT_RECHECKED, "this run's packs have no such policy"
            status = verdict.status_of(index)
            if status is Status.FAIL:  # the same id fails now: not a prior failure at all
                raise AssertionError(f"{before.id} fails in this run")
            word = "passes" if status is Status.PASS else "is skipped"
            return PriorOutcome.RESOLVED, f"read in this run; the policy {word} now"
        error = self.model_errors.get(resource.key) or self.model_errors.get((resource.arn, None))
        if error is not None:
            if error.code == NOT_FOUND:
                return PriorOutcome.GONE, f"{error.operation} answered {NOT_FOUND}"
            return PriorOutcome.NOT_RECHECKED, f"{error.operation} failed: {error.code}"
        membership = resource.membership_id
        error = self.membership_errors.get(membership or "")
        if error is not None:
            return (
                PriorOutcome.NOT_RECHECKED,
                f"membership {membership} not read: {error.operation} failed: {error.code}",
            )
        if self._listed_in_full(resource):
            if self.report.scan.filters.latest_only and resource.arn in self.models_seen:
                return (
                    PriorOutcome.NOT_RECHECKED,
                    "--latest-only: this run read only the model's latest version",
                )
            return (
                PriorOutcome.GONE,
                f"no longer listed by membership {membership}, which this run listed in full",
            )
        for error in self.wide_errors:
            if _same(error.account, resource.account) and _same(error.region, resource.region):
                where = " ".join(
                    f"{name} {value}"
                    for name, value in (("account", error.account), ("region", error.region))
                    if value
                )
                return (
                    PriorOutcome.NOT_RECHECKED,
                    f"{where} not read: {error.operation} failed: {error.code}",
                )
        return PriorOutcome.NOT_RECHECKED, self._unread_because(resource)

    def _listed_in_full(self, resource: Resource) -> bool:
        if resource.membership_id is None:
            return False
        listed = self.listed_in_full.get((resource.membership_id, resource.region))
        if listed is None:
            listed = self.listed_in_full.get((resource.membership_id, None))
        return listed is not None and _same(listed.account, resource.account)

    def _unread_because(self, resource: Resource) -> str:
        scan = self.report.scan
        filters = scan.filters
        if scan.mode == "evaluate":
            return "not in this run's input"
        if filters.models and resource.arn not in filters.models:
            return "outside this run's scope (--model)"
        if filters.memberships and resource.membership_id not in filters.memberships:
            return "outside this run's scope (--membership)"
        if resource.region and scan.regions and resource.region not in scan.regions:
            return f"region {resource.region} was not scanned in this run"
        if resource.account and scan.accounts and resource.account not in scan.accounts:
            return f"account {resource.account} was not scanned in this run"
        if scan.shard is not None:
            return f"not read by this shard ({scan.shard})"
        if scan.interrupted:
            return "the run was interrupted before it was read"
        if filters.latest_only:
            return "--latest-only: this run read only each model's latest version"
        return "not read in this run, and its membership was not listed in full"


def _same(known: str | None, value: str | None) -> bool:
    """Whether two possibly unknown names agree (an unknown one agrees with anything)."""
    return known is None or value is None or known == value


def account_for_baseline(
    before: Iterable[Result], report: Report, waivers: Sequence[Waiver] = ()
) -> tuple[PriorFailure, ...]:
    """Each of ``before`` (a baseline's failures) that ``report`` does not fail, as resolved,
    gone or not re-checked (in that order); ``waivers`` (live ones) may cover a not
    re-checked one."""
    failing = {result.id for result in report.failures()}
    recheck = _Recheck(report)
    items = [recheck.account_for(result, waivers) for result in before if result.id not in failing]
    order = {outcome: rank for rank, outcome in enumerate(PriorOutcome)}
    return tuple(sorted(items, key=lambda item: order[item.outcome]))  # as report.json lists them


def apply_baseline(
    report: Report, baseline: Report, source: str, waivers: Sequence[Waiver] = ()
) -> Report:
    """A copy of ``report`` with every failure marked new or unchanged against ``baseline``,
    each baseline failure not failing now accounted for (``prior_failures``), and
    ``baseline_path`` set. ``waivers`` are this run's live waivers."""
    before = _failing(baseline)
    verdicts = []
    for verdict in report.verdicts:
        failures = []
        for result in verdict.failures:
            state = BaselineState.UNCHANGED if result.id in before else BaselineState.NEW
            failures.append(dataclasses.replace(result, baseline=state))
        verdicts.append(dataclasses.replace(verdict, failures=tuple(failures)))
    prior = account_for_baseline(before.values(), report, waivers)
    return dataclasses.replace(
        report, verdicts=tuple(verdicts), baseline_path=source, prior_failures=prior
    )


@dataclass(frozen=True, slots=True)
class Diff:
    """Failures of a new report compared with an old one (waived ones included); each old
    failure the new report does not fail is in ``prior``, as resolved, gone or not re-checked."""

    new: tuple[Result, ...]
    unchanged: tuple[Result, ...]
    prior: tuple[PriorFailure, ...]

    def of(self, outcome: PriorOutcome) -> tuple[PriorFailure, ...]:
        return tuple(item for item in self.prior if item.outcome is outcome)

    @property
    def resolved(self) -> tuple[PriorFailure, ...]:
        return self.of(PriorOutcome.RESOLVED)

    @property
    def gone(self) -> tuple[PriorFailure, ...]:
        return self.of(PriorOutcome.GONE)

    @property
    def not_rechecked(self) -> tuple[PriorFailure, ...]:
        return self.of(PriorOutcome.NOT_RECHECKED)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.resolved or self.gone)


def diff_reports(old: Report, new: Report) -> Diff:
    """What failures ``new`` added and kept compared with ``old``, and what became of the rest."""
    before = _failing(old)
    after = _failing(new)
    return Diff(
        new=tuple(result for key, result in after.items() if key not in before),
        unchanged=tuple(result for key, result in after.items() if key in before),
        prior=account_for_baseline(before.values(), new),
    )


def _line(severity: Severity, policy_id: str, label: str, waived: bool = False) -> str:
    return f"  {severity:<8} {policy_id}  {label}" + ("  (waived)" if waived else "")


_SECTIONS = (
    (PriorOutcome.RESOLVED, "Resolved failures (read in this run, passing now):"),
    (PriorOutcome.GONE, "Gone (the model or version no longer exists):"),
    (
        PriorOutcome.NOT_RECHECKED,
        "Not re-checked (not read in the new run; still failing as far as anyone knows):",
    ),
)


def diff_counts(diff: Diff) -> str:
    """``2 new, 1 resolved, 0 gone, 3 not re-checked, 4 unchanged failures``."""
    return (
        f"{len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.gone)} gone, "
        f"{len(diff.not_rechecked)} not re-checked, {len(diff.unchanged)} unchanged failures"
    )


def render_diff_text(diff: Diff) -> str:
    """A plain-text summary of a diff, most severe first, for ``auditor diff OLD NEW``."""
    lines = [diff_counts(diff)]
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
    for outcome, heading in _SECTIONS:
        items = diff.of(outcome)
        if not items:
            continue
        lines.append("")
        lines.append(heading)
        for item in sorted(
            items, key=lambda r: (order[r.severity], r.policy_id, version_label(r.resource))
        ):
            line = _line(item.severity, item.policy_id, version_label(item.resource))
            lines.append(f"{line}  ({item.reason})")
    return "\n".join(_printable(line) for line in lines) + "\n"


def diff_json(diff: Diff) -> dict[str, list[dict[str, Any]]]:
    """``auditor diff --json``: the failures by what became of them."""

    def entry(result: Result) -> dict[str, Any]:
        return {
            "id": result.id,
            "policy_id": result.policy_id,
            "severity": result.severity.value,
            "arn": result.resource.arn,
            "version_identifier": result.resource.version_identifier,
            "waived": result.waiver is not None,
        }

    def prior(item: PriorFailure) -> dict[str, Any]:
        return {
            "id": item.id,
            "policy_id": item.policy_id,
            "severity": item.severity.value,
            "arn": item.resource.arn,
            "version_identifier": item.resource.version_identifier,
            "reason": item.reason,
        }

    return {
        "new": [entry(r) for r in diff.new],
        "resolved": [prior(r) for r in diff.resolved],
        "gone": [prior(r) for r in diff.gone],
        "not_rechecked": [prior(r) for r in diff.not_rechecked],
        "unchanged": [entry(r) for r in diff.unchanged],
    }


def _printable(text: str) -> str:
    # ARNs and versions come from AWS: never let them move the cursor or recolour a terminal.
    return "".join(char if char.isprintable() or char == " " else "\ufffd" for char in text)
