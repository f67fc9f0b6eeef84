"""report.sarif: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One ``result`` per failure: unwaived failures are plain results (so there is exactly one
unsuppressed result per unwaived failure, as the contract says); waived failures are results
with an external ``suppression`` carrying the waiver's reason, which is how SARIF records an
accepted exception (GitHub shows them as closed, not as open alerts). Passes and skips are not
results.

What GitHub code scanning needs, and how this file gives it:
- A physical location on every result: the policy pack file that defines the rule, at the
  policy's line (``region.startLine``), next to a logical location naming the model version
  (``arn@version``). The URI is relative to the repository (the current directory) when the
  pack lies under it; otherwise it is the pack's file name under a ``uriBaseId`` that
  ``originalUriBaseIds`` resolves to ``auditor-pack://<pack-id>/``, so no machine-specific path
  (a runner's virtualenv) ever reaches the file and an alert's location does not move with it.
- ``partialFingerprints.primaryLocationLineHash`` from policy id + model ARN + version only
  (the result id), so an alert keeps its identity across runs, machines and pack edits.
- ``security-severity`` on every rule, on GitHub's numeric scale.
- Its upload limits: at most 25,000 results in a run, 20 runs in a file, 10 MB gzip-compressed.
  All failures fit in one run as a rule; then the run has no ``automationDetails`` and the
  upload's ``category`` names it. Beyond 25,000, the failures are split into one run per
  severity (more for a severity above 25,000), each with its own ``automationDetails.id``.
  What still does not fit is left out, lowest severity first (waived failures before any
  unwaived one), and every run says so in a notification pointing to report.json.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from auditor.models import PackRef, PolicyInfo, Report, Result, ScanError, Severity
from auditor.reports._text import SEVERITIES, failure_message, version_label
from auditor.reports.json import json_safe

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/auditor/auditor"
FINGERPRINT_KEY = "auditorResultId/v1"
PRIMARY_FINGERPRINT = "primaryLocationLineHash"
PACK_SCHEME = "auditor-pack"
PACK_BASE_PREFIX = "AUDITOR_PACK_"
MAX_TAGS = 20  # GitHub rejects a rule with more tags
MAX_ERROR_NOTIFICATIONS = 1000  # the rest are in report.json

# GitHub's numeric security-severity: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
# 0.1-3.9 low; 0.0 gives no security severity (info is not a security alert level).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


@dataclass(frozen=True, slots=True)
class SarifLimits:
    """GitHub code scanning's upload limits (documented under "SARIF results exceed limits"
    and "SARIF file is too large"); ``gzip_bytes`` keeps a margin below the 10 MB limit for
    the run frames and for the upload action's own re-serialisation."""

    results_per_run: int = 25_000
    runs: int = 20
    gzip_bytes: int = 9_000_000


GITHUB_LIMITS = SarifLimits()


@dataclass(frozen=True, slots=True)
class Omitted:
    """What report.sarif left out to stay within the limits."""

    total: int  # failures (waived ones included) in the report
    kept: int
    unwaived: Mapping[Severity, int]
    waived: Mapping[Severity, int]
    limits: SarifLimits = GITHUB_LIMITS

    @property
    def count(self) -> int:
        return self.total - self.kept

    def notice(self) -> str:
        """One line for the SARIF notification and the console."""
        parts = [
            f"{self.unwaived[sev]:,} {sev}"
            for sev in reversed(SEVERITIES)
            if self.unwaived.get(sev)
        ]
        waived = sum(self.waived.values())
        if waived:
            parts.append(f"{waived:,} waived")
        return (
            f"report.sarif leaves out {self.count:,} of {self.total:,} failures to stay within "
            f"GitHub code scanning's upload limits ({self.limits.results_per_run:,} results per "
            f"run, {self.limits.runs} runs per file, 10 MB gzipped), lowest severity first: "
            f"{', '.join(parts)}. "
            "Every failure is in report.json."
        )


def render_sarif(
    report: Report,
    *,
    root: str | os.PathLike[str] | None = None,
    limits: SarifLimits | None = None,
    notices: list[str] | None = None,
) -> bytes:
    """report.sarif as UTF-8 bytes.

    ``root`` is the repository root (the CLI passes the current directory): a pack under it is
    named by its path relative to it. Without it, a relative pack path is taken as relative to
    the repository. ``limits`` defaults to GitHub's. When failures had to be left out, a line
    saying so is appended to ``notices``.
    """
    limits = limits or GITHUB_LIMITS
    locations, base_ids = _pack_locations(report.scan.packs, report.policies, root)
    rule_index = {policy.id: index for index, policy in enumerate(report.policies)}
    kept, omitted = _select(report, rule_index, locations, limits)
    if omitted is not None and notices is not None:
        notices.append(omitted.notice())
    runs = _runs(kept, limits)
    frame = _Frame(report, base_ids, omitted)
    parts = [f'{{"$schema":"{SARIF_SCHEMA}","version":"2.1.0","runs":[']
    for number, (automation_id, texts) in enumerate(runs):
        head = frame.run(automation_id, with_errors=number == 0)
        parts.append(("," if number else "") + head[:-1] + ',"results":[')
        parts.append(",".join(texts))
        parts.append("]}")
    parts.append("]}")
    return "".join(parts).encode("utf-8")


# -- what goes in, and in which run ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kept:
    severity: Severity
    text: str


def _select(
    report: Report,
    rule_index: Mapping[str, int],
    locations: Mapping[str, dict[str, str]],
    limits: SarifLimits,
) -> tuple[list[_Kept], Omitted | None]:
    """The failures that fit, most severe first (unwaived before waived), serialised; and what
    was left out, if anything."""
    failures = sorted(
        report.failures(), key=lambda result: (result.waiver is not None, -result.severity.rank)
    )
    kept: list[_Kept] = []
    per_severity: Counter[Severity] = Counter()
    budget = _GzipBudget(limits.gzip_bytes)
    batch: list[_Kept] = []
    full = False
    for result in failures:
        per_severity[result.severity] += 1
        if _runs_needed(per_severity, limits) > limits.runs:
            break
        text = json.dumps(
            _result(result, rule_index[result.policy_id], locations),
            separators=(",", ":"),
            default=str,
            allow_nan=False,
        )
        batch.append(_Kept(result.severity, text))
        if len(batch) == 256:
            full = not budget.fill(batch, kept)
            batch = []
            if full:
                break
    if batch and not full:
        budget.fill(batch, kept)
    if len(kept) == len(failures):
        return kept, None
    left_out = failures[len(kept) :]
    return kept, Omitted(
        total=len(failures),
        kept=len(kept),
        unwaived=Counter(r.severity for r in left_out if r.waiver is None),
        waived=Counter(r.severity for r in left_out if r.waiver is not None),
        limits=limits,
    )


def _runs_needed(per_severity: Mapping[Severity, int], limits: SarifLimits) -> int:
    """Runs for these many results: one, or (split) one per severity and more for a severity
    above the per-run limit; a split file keeps an empty run for each severity, so that an
    upload closes the alerts of a severity that no longer fails."""
    if sum(per_severity.values()) <= limits.results_per_run:
        return 1
    return sum(max(1, -(-per_severity.get(sev, 0) // limits.results_per_run)) for sev in SEVERITIES)


class _GzipBudget:
    """How large the results are gzip-compressed, measured by compressing them as they come;
    a batch that would overrun the budget is refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        self.size = 0

    def fill(self, batch: Sequence[_Kept], kept: list[_Kept]) -> bool:
        """Move ``batch`` to ``kept`` while it fits (whole, or else one by one); False when
        the budget is spent."""
        if self.take(item.text for item in batch):
            kept += batch
            return True
        for item in batch:
            if not self.take((item.text,)):
                return False
            kept.append(item)
        return True

    def take(self, texts: Iterable[str]) -> bool:
        trial = self.compressor.copy()
        size = self.size
        for text in texts:
            size += len(trial.compress(text.encode("utf-8") + b","))
        size += len(trial.flush(zlib.Z_SYNC_FLUSH))
        if size > self.limit:
            return False
        self.compressor, self.size = trial, size
        return True


def _runs(kept: Sequence[_Kept], limits: SarifLimits) -> list[tuple[str | None, list[str]]]:
    """``(automationDetails.id, results)`` per run: one run without an id (the upload's
    category names it) when everything fits in one; else one per severity, in parts."""
    if len(kept) <= limits.results_per_run:
        return [(None, [item.text for item in kept])]
    runs: list[tuple[str | None, list[str]]] = []
    for sev in SEVERITIES:
        texts = [item.text for item in kept if item.severity is sev]
        for part, start in enumerate(range(0, max(1, len(texts)), limits.results_per_run)):
            automation_id = f"auditor/{sev}/" + (f"part-{part + 1}/" if part else "")
            runs.append((automation_id, texts[start : start + limits.results_per_run]))
    return runs


# -- where a result points -------------------------------------------------------------------


def _pack_locations(
    packs: Sequence[PackRef],
    policies: Sequence[PolicyInfo],
    root: str | os.PathLike[str] | None,
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The ``artifactLocation`` of each policy's pack, by pack id, and the
    ``originalUriBaseIds`` the packs outside the repository need."""
    locations: dict[str, dict[str, str]] = {}
    base_ids: dict[str, dict[str, str]] = {}
    for pack in packs:
        relative = repository_path(pack.path, root)
        if relative is not None:
            locations[pack.id] = {"uri": quote(relative, safe="/")}
            continue
        base_id, location = _outside_location(pack.id, PurePath(pack.path).name or pack.id)
        locations[pack.id] = location
        base_ids[base_id] = {"uri": f"{PACK_SCHEME}://{quote(pack.id, safe='')}/"}
    # A report read back from an older file may name a pack it does not list.
    for pack_id in {policy.pack_id for policy in policies} - set(locations):
        name = pack_id or "unknown"
        base_id, location = _outside_location(name, name)
        locations[pack_id] = location
        base_ids[base_id] = {"uri": f"{PACK_SCHEME}://{quote(name, safe='')}/"}
    return locations, base_ids


def _outside_location(pack_id: str, file_name: str) -> tuple[str, dict[str, str]]:
    """A pack outside the repository: its file name under the pack's own base URI."""
    base_id = PACK_BASE_PREFIX + pack_id
    return base_id, {"uri": quote(file_name, safe=""), "uriBaseId": base_id}


def repository_path(path: str, root: str | os.PathLike[str] | None) -> str | None:
    """``path`` relative to ``root``, with ``/`` separators, when it lies under it; else None.

    A relative ``path`` is relative to ``root`` (the directory the scan ran in); without a
    ``root``, only a relative path that stays inside counts.
    """
    if root is None:
        if os.path.isabs(path):
            return None
        relative = os.path.normpath(path)
    else:
        base = os.path.normpath(os.path.abspath(root))
        full = os.path.normpath(os.path.join(base, path))
        if os.path.splitdrive(full)[0] != os.path.splitdrive(base)[0]:
            return None
        relative = os.path.relpath(full, base)
    if relative == os.curdir or relative.split(os.sep, 1)[0] == os.pardir:
        return None
    return relative.replace(os.sep, "/")


# -- the JSON of runs, rules and results -----------------------------------------------------


class _Frame:
    """Everything of a run but its results."""

    def __init__(
        self, report: Report, base_ids: Mapping[str, dict[str, str]], omitted: Omitted | None
    ) -> None:
        self.report = report
        self.base_ids = dict(base_ids)
        self.rules = [_rule(policy) for policy in report.policies]
        self.omitted = omitted
        self.errors = [
            {"level": "error", "message": {"text": _error_text(error)}}
            for error in report.errors[:MAX_ERROR_NOTIFICATIONS]
        ]
        if len(report.errors) > MAX_ERROR_NOTIFICATIONS:
            more = len(report.errors) - MAX_ERROR_NOTIFICATIONS
            self.errors.append(
                {"level": "error", "message": {"text": f"…and {more:,} more errors in report.json"}}
            )

    def run(self, automation_id: str | None, *, with_errors: bool) -> str:
        report = self.report
        notifications: list[dict[str, Any]] = []
        if self.omitted is not None:
            notifications.append(
                {
                    "level": "warning",
                    "descriptor": {"id": "auditor/results-left-out"},
                    "message": {"text": self.omitted.notice()},
                }
            )
        if with_errors:
            notifications += self.errors
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "auditor",
                    "version": report.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": self.rules,
                }
            },
            "invocations": [
                {
                    "executionSuccessful": report.scan.complete,
                    "startTimeUtc": report.scan.started_at,
                    "endTimeUtc": report.scan.finished_at,
                    "toolExecutionNotifications": notifications,
                }
            ],
        }
        if self.base_ids:
            run["originalUriBaseIds"] = self.base_ids
        if automation_id is not None:
            run["automationDetails"] = {"id": automation_id}
        if self.omitted is not None:
            run["properties"] = {
                "auditor": {
                    "resultsLeftOut": self.omitted.count,
                    "leftOutBySeverity": {
                        str(sev): self.omitted.unwaived.get(sev, 0) for sev in SEVERITIES
                    },
                    "waivedLeftOut": sum(self.omitted.waived.values()),
                    "allResultsIn": "report.json",
                }
            }
        return json.dumps(run, separators=(",", ":"), default=str, allow_nan=False)


def _error_text(error: ScanError) -> str:
    where = error.resource_arn or error.membership_id or error.region or ""
    return f"{error.scope} {where}: {error.operation} failed with {error.code}: {error.message}"


def _rule(policy: PolicyInfo) -> dict[str, Any]:
    frameworks = sorted(
        {f"{name}:{ref}" for name, refs in policy.frameworks.items() for ref in refs}
    )
    rule: dict[str, Any] = {
        "id": policy.id,
        "name": _rule_name(policy.id),
        "shortDescription": {"text": policy.title},
        "fullDescription": {"text": policy.description or policy.title},
        "help": {"text": policy.remediation or policy.description or policy.title},
        "defaultConfiguration": {"level": LEVEL[policy.severity]},
        "properties": {
            "tags": ["security", *frameworks][:MAX_TAGS],
            "security-severity": SECURITY_SEVERITY[policy.severity],
            "severity": str(policy.severity),
            "pack": policy.pack_id,
        },
    }
    if policy.references:
        rule["helpUri"] = policy.references[0]
    return rule


def _rule_name(policy_id: str) -> str:
    """A rule's ``name`` in SARIF's PascalCase convention: required-tags -> RequiredTags."""
    words = [word for word in policy_id.replace("_", "-").split("-") if word]
    return "".join(word[:1].upper() + word[1:] for word in words) or policy_id


def _result(
    result: Result, rule_index: int, locations: Mapping[str, dict[str, str]]
) -> dict[str, Any]:
    resource = result.resource
    policy = result.policy
    artifact = locations[policy.pack_id]
    sarif_result: dict[str, Any] = {
        "ruleId": result.policy_id,
        "ruleIndex": rule_index,
        "level": LEVEL[result.severity],
        "message": {"text": f"{resource.name or resource.arn}: {failure_message(result)}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": {"startLine": policy.line or 1},
                },
                "logicalLocations": [
                    {"fullyQualifiedName": version_label(resource), "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {PRIMARY_FINGERPRINT: result.id, FINGERPRINT_KEY: result.id},
        "properties": {
            "arn": resource.arn,
            "versionIdentifier": resource.version_identifier,
            "membershipId": resource.membership_id,
            "account": resource.account,
            "region": resource.region,
            "resourceType": str(resource.type),
            "creatorAccountId": resource.creator_account,
            "evidence": [
                {
                    "path": item.path,
                    "actual": json_safe(item.actual),
                    "expected": json_safe(item.expected),
                    "message": item.message,
                    "kind": str(item.kind),
                }
                for item in result.evidence
            ],
        },
    }
    if result.baseline is not None:
        sarif_result["baselineState"] = str(result.baseline)
    if result.waiver is not None:
        waiver = result.waiver
        sarif_result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{waiver.reason} (approved by {waiver.approved_by}, "
                f"expires {waiver.expires.isoformat()})",
            }
        ]
    return sarif_result
