"""Small text helpers every writer shares: how a version is named, what a failure says."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from auditor.models import EvidenceKind, Report, Resource, ResourceType, Result, Severity

SEVERITIES = tuple(Severity)  # most severe first


def version_label(resource: Resource) -> str:
    """``arn@version``: how a single trained model version is named in flat formats; a
    resource of another type than ``trained-model`` says so (``arn@version
    [collaboration-trained-model]``)."""
    label = f"{resource.arn}@{resource.version_identifier or '-'}"
    return label + type_suffix(resource)


def type_suffix(resource: Resource) -> str:
    """`` [collaboration-trained-model]`` for a resource that is not this account's own trained
    model version (the default type, left unmarked), else ``""``."""
    if resource.type is ResourceType.TRAINED_MODEL:
        return ""
    return f" [{resource.type}]"


def failure_message(result: Result) -> str:
    """The evidence messages of a result, joined; the policy title when there is no evidence.

    A value that could not be read is marked ``[missing]`` or ``[wrong-type]``: the resource
    was not shown compliant, which is not the same as breaking the rule.
    """
    messages = [
        item.message if item.kind is EvidenceKind.VIOLATED else f"[{item.kind}] {item.message}"
        for item in result.evidence
        if item.message
    ]
    return "; ".join(messages) if messages else result.policy.title


def evidence_kinds(result: Result) -> str:
    """The kinds of a result's evidence, each once, in order: ``missing, violated``."""
    return ", ".join(dict.fromkeys(str(item.kind) for item in result.evidence))


# Unicode categories of characters that change how text around them displays without showing
# themselves: controls (NUL, C1), format controls (bidi overrides and isolates, zero-width
# characters, tags) and the line/paragraph separators; surrogates cannot be shown either.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
_WHITESPACE = frozenset("\t\n\r")  # shown as the whitespace they are; they reorder nothing


def visible(text: str) -> str:
    """``text`` with every character that could change how it displays (a bidi override
    that reverses a name, a zero-width joiner, NUL) shown as ``<U+202E>`` instead of applied."""
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(
        f"<U+{ord(char):04X}>"
        if char not in _WHITESPACE and unicodedata.category(char) in _HIDDEN_CATEGORIES
        else char
        for char in text
    )


def count_list(parts: Sequence[str]) -> str:
    """``["1 high", "2 low"]`` -> ``"1 high and 2 low"``; three or more with commas."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _by_severity(counts: Counter[Severity], severities: Sequence[Severity]) -> str:
    return count_list([f"{counts[sev]:,} {sev}" for sev in severities if counts[sev]])


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """What the gate decided and what lies below it, in words, and how loud to say it:
    ``clear`` (passed; no failure, waived or not, and no error), ``findings`` (passed, with
    failures below the threshold, waived ones or errors) or ``failed``."""

    passed: bool
    state: str
    sentence: str


def gate_verdict(report: Report) -> GateVerdict:
    """ "Gate passed at critical; 1,589 high and 2,004 medium failures below the threshold."."""
    summary = report.summary()
    fail_on = report.gate.fail_on
    unwaived: Counter[Severity] = Counter(summary.fail_by_severity)
    gating: Counter[Severity] = Counter(r.severity for r in report.gating_failures())
    at_or_above = [sev for sev in SEVERITIES if sev.at_least(fail_on)]
    below = [sev for sev in SEVERITIES if not sev.at_least(fail_on)]
    not_new = Counter({sev: unwaived[sev] - gating[sev] for sev in at_or_above})
    tail = []
    if not summary.gate_passed:
        noun = "failure" if sum(gating.values()) == 1 else "failures"
        new = " new" if report.gate.new_only else ""
        reasons = []
        if +gating:
            reasons.append(
                f"{_by_severity(gating, at_or_above)}{new} {noun} at or above the threshold"
            )
        # with --fail-on-new-only, a baseline failure nobody re-checked still holds the gate
        unchecked = sum(1 for _ in report.gating_prior_failures())
        if unchecked:
            plural = "" if unchecked == 1 else "s"
            reasons.append(
                f"{unchecked:,} baseline failure{plural} at or above it not re-checked in this run"
            )
        head = f"Gate failed at {fail_on}: " + " and ".join(reasons)
    else:
        head = f"Gate passed at {fail_on}"
    if +not_new:
        tail.append(
            f"{_by_severity(not_new, at_or_above)} unchanged since the baseline at or above it"
        )
    if any(unwaived[sev] for sev in below):
        noun = "failure" if sum(unwaived[sev] for sev in below) == 1 else "failures"
        tail.append(f"{_by_severity(unwaived, below)} {noun} below the threshold")
    if summary.waived:
        tail.append(f"{summary.waived:,} waived")
    if summary.errors:
        tail.append(f"{summary.errors:,} error{'' if summary.errors == 1 else 's'}")
    if not tail and summary.gate_passed:
        tail.append("no failures")
    sentence = head + ("; " + "; ".join(tail) if tail else "") + "."
    if not summary.gate_passed:
        state = "failed"
    elif summary.failed or summary.errors or not report.scan.complete:
        state = "findings"
    else:
        state = "clear"
    return GateVerdict(passed=summary.gate_passed, state=state, sentence=sentence)
