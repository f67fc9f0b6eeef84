"""report.html: one self-contained page a security reviewer can read offline and trust.

The page fetches nothing (a Content-Security-Policy forbids it) and runs only its own script
(allowed by hash). Result data travels as JSON in a ``<script type="application/json">`` block
with ``<``, ``>`` and ``&`` escaped, and the script renders it a page of rows at a time with
``textContent``, so no AWS value is ever parsed as markup. Characters that would change how
text displays (bidi overrides, zero-width and other format controls, NUL) are shown escaped,
as ``<U+202E>``, never applied: by the template's ``finalize`` for every value it prints, and
by the script's ``visible`` for every value it shows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import markupsafe

from auditor.models import (
    PolicyInfo,
    PriorFailure,
    PriorOutcome,
    Report,
    RunPoint,
    Severity,
    VersionVerdict,
    Waiver,
)
from auditor.reports._text import SEVERITIES, gate_verdict, visible
from auditor.reports.accounts import account_summaries
from auditor.reports.json import dump_value, json_safe

MAX_SERVER_ROWS = 1000  # errors, baseline failures not failing now: beyond this, report.json
PAGE_SIZE = 100


def _shown(value: Any) -> Any:
    """Every value the template prints: text made visible; markup of our own (``|safe``: the
    page's style, script and data block) left as it is."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return visible(value)
    return value


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("auditor.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )


@cache
def _asset(name: str) -> str:
    return resources.files("auditor.reports").joinpath(f"templates/{name}").read_text("utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str, allow_nan=False)


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: nothing in it can end the element."""
    return _script_safe(_dumps(value))


def _policy_entries(report: Report) -> list[list[Any]]:
    return [
        [policy.id, policy.title, str(policy.severity), policy.pack_id, policy.description or ""]
        for policy in report.policies
    ]


def _resource_entry(verdict: VersionVerdict) -> list[str]:
    resource = verdict.resource
    return [
        resource.arn,
        resource.version_identifier or "",
        resource.name or "",
        resource.membership_id or "",
        resource.account or "",
        resource.region or "",
        resource.status or "",
        str(resource.type),
    ]


class _FailureEntries:
    """The failures of versions, numbered in report order, and the waivers they name."""

    def __init__(self, report: Report) -> None:
        self.position = {policy.id: index for index, policy in enumerate(report.policies)}
        self.waiver_index: dict[Waiver, int] = {}

    def of(self, number: int, verdict: VersionVerdict) -> Iterator[list[Any]]:
        for result in verdict.failures:
            waiver = -1
            if result.waiver is not None:
                waiver = self.waiver_index.setdefault(result.waiver, len(self.waiver_index))
            yield [
                number,
                self.position[result.policy_id],
                [
                    [
                        item.path,
                        dump_value(item.actual),
                        dump_value(item.expected),
                        item.message,
                        str(item.kind),
                    ]
                    for item in result.evidence
                ],
                waiver,
                "" if result.baseline is None else str(result.baseline),
                result.id,
            ]

    def waivers(self) -> list[list[str]]:
        return [
            [waiver.reason, waiver.approved_by, waiver.expires.isoformat(), waiver.policy]
            for waiver in self.waiver_index
        ]


def _statuses(report: Report) -> str:
    return (
        b"".join(verdict.statuses for verdict in report.verdicts)
        .translate(_STATUS_DIGITS)
        .decode("ascii")
    )


def page_data(report: Report) -> dict[str, Any]:
    """Everything the page's script needs, in compact arrays (one entry per version, not per
    result: passes are rebuilt in the browser from a status string)."""
    failures = _FailureEntries(report)
    failure_entries = [
        entry
        for number, verdict in enumerate(report.verdicts)
        for entry in failures.of(number, verdict)
    ]
    return {
        "policies": _policy_entries(report),
        "resources": [_resource_entry(verdict) for verdict in report.verdicts],
        "statuses": _statuses(report),
        "failures": failure_entries,
        "waivers": failures.waivers(),
        "baseline": report.baseline_path is not None,
        "pageSize": PAGE_SIZE,
    }


def _iter_page_data(report: Report, versions_per_chunk: int = 1000) -> Iterator[str]:
    """``script_json(page_data(report))`` in pieces, never all of it in memory at once
    (tens of megabytes at 100,000 versions, and several copies of it on the way)."""
    verdicts = report.verdicts
    yield '{"policies":' + _script_safe(_dumps(_policy_entries(report))) + ',"resources":['
    for start in range(0, len(verdicts), versions_per_chunk):
        rows = [
            _resource_entry(verdict) for verdict in verdicts[start : start + versions_per_chunk]
        ]
        yield ("," if start else "") + _script_safe(_dumps(rows)[1:-1])
    yield '],"statuses":' + _dumps(_statuses(report)) + ',"failures":['
    failures = _FailureEntries(report)
    separator = ""
    for start in range(0, len(verdicts), versions_per_chunk):
        entries = [
            entry
            for number, verdict in enumerate(
                verdicts[start : start + versions_per_chunk], start=start
            )
            for entry in failures.of(number, verdict)
        ]
        if entries:
            yield separator + _script_safe(_dumps(entries)[1:-1])
            separator = ","
    yield (
        '],"waivers":' + _script_safe(_dumps(failures.waivers()))
        + ',"baseline":' + _dumps(report.baseline_path is not None)
        + ',"pageSize":' + _dumps(PAGE_SIZE) + "}"
    )  # fmt: skip


_STATUS_DIGITS = bytes.maketrans(b"\x00\x01\x02", b"012")


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """One policy's counts, for the summary table and chart."""

    policy: PolicyInfo
    passed: int
    failed: int
    waived: int
    skipped: int


def _policy_rows(report: Report) -> list[PolicyRow]:
    counts = [[0, 0, 0] for _ in report.policies]
    for verdict in report.verdicts:
        for index, code in enumerate(verdict.statuses):
            counts[index][code] += 1
    unwaived: Counter[str] = Counter()
    waived: Counter[str] = Counter()
    for result in report.failures():
        (unwaived if result.waiver is None else waived)[result.policy_id] += 1
    rows = [
        PolicyRow(
            policy=policy,
            passed=counts[index][0],
            failed=unwaived[policy.id],
            waived=waived[policy.id],
            skipped=counts[index][2],
        )
        for index, policy in enumerate(report.policies)
    ]
    rows.sort(key=lambda row: (-row.failed, -row.policy.severity.rank, row.policy.id))
    return rows


def trend_chart(points: Sequence[RunPoint], width: int = 640, height: int = 220) -> dict[str, Any]:
    """Geometry of the trend chart: one polyline per severity over the runs, oldest first."""
    left, right, top, bottom = 48, width - 110, 12, height - 28
    highest = max([max(p.fail_by_severity.values(), default=0) for p in points] + [1])
    step = (right - left) / max(1, len(points) - 1)

    def x(index: int) -> float:
        return round(left + index * step if len(points) > 1 else (left + right) / 2, 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / highest, 1)

    series = [
        (
            str(sev),
            " ".join(
                f"{x(i)},{y(p.fail_by_severity.get(str(sev), 0))}" for i, p in enumerate(points)
            ),
        )
        for sev in Severity
    ]
    every = max(1, len(points) // 6)
    labels = [
        (x(i), p.finished_at[5:16].replace("T", " "))
        for i, p in enumerate(points)
        if i % every == 0 or i == len(points) - 1
    ]
    legend = [(str(sev), right + 16, top + 10 + 18 * n) for n, sev in enumerate(Severity)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "top": top,
        "bottom": bottom,
        "max": highest,
        "series": series,
        "labels": labels,
        "legend": legend,
        "points": list(points),
    }


_PRIOR_ORDER = {PriorOutcome.NOT_RECHECKED: 0, PriorOutcome.GONE: 1, PriorOutcome.RESOLVED: 2}


def _prior_rows(report: Report) -> list[PriorFailure]:
    """Baseline failures not failing now: not re-checked first, then gone, then resolved."""
    return sorted(
        report.prior_failures,
        key=lambda item: (_PRIOR_ORDER[item.outcome], -item.severity.rank, item.policy_id),
    )


def render_html(report: Report, history: Sequence[RunPoint] = ()) -> bytes:
    """report.html as UTF-8 bytes; ``history`` (past runs and this one) draws the trend."""
    return b"".join(iter_html(report, history))


def iter_html(report: Report, history: Sequence[RunPoint] = ()) -> Iterator[bytes]:
    """report.html in chunks: the page, its data block a thousand versions at a time."""
    summary = report.summary()
    script = _asset("report.js")
    style = _asset("report.css")
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )
    severity_counts = [(sev, summary.fail_by_severity[sev]) for sev in SEVERITIES]
    policy_rows = _policy_rows(report)
    template = _environment().get_template("report.html.j2")
    # stands in for the data block while the template renders, so the block can be streamed;
    # random, so that no value shown on the page can be taken for it
    mark = f"\x00report-data-{secrets.token_hex(16)}\x00"
    html = template.render(
        report=report,
        scan=report.scan,
        summary=summary,
        gate=report.gate,
        verdict=gate_verdict(report),
        severity_counts=severity_counts,
        severity_max=max([count for _, count in severity_counts] + [1]),
        policy_rows=policy_rows,
        policy_max=max([row.failed + row.waived for row in policy_rows] + [1]),
        params=json.dumps(json_safe(report.scan.params), indent=2, ensure_ascii=False, default=str),
        errors=report.errors[:MAX_SERVER_ROWS],
        # failing versions (the blast radius) first
        lineage=sorted(report.lineage, key=lambda item: not item.failing)[:MAX_SERVER_ROWS],
        prior_failures=_prior_rows(report)[:MAX_SERVER_ROWS],
        baseline_counts=report.baseline_counts(),
        gating_prior=sum(1 for _ in report.gating_prior_failures()),
        max_rows=MAX_SERVER_ROWS,
        severities=[str(sev) for sev in Severity],
        severity_enum=list(Severity),
        accounts=account_summaries(report),
        trend=trend_chart(history) if history else None,
        data=mark,
        script=script,
        style=style,
        csp=csp,
    )
    before, after = html.split(mark)
    yield before.encode("utf-8", "replace")
    for piece in _iter_page_data(report):
        yield piece.encode("ascii")
    yield after.encode("utf-8", "replace")
