"""report.html: one self-contained page a security reviewer can read offline and trust.

The page fetches nothing (a Content-Security-Policy forbids it) and runs only its own script
(allowed by hash). Result data travels as JSON in a ``<script type="application/json">`` block
with ``<``, ``>`` and ``&`` escaped, and the script renders it a page of rows at a time with
``textContent``, so no AWS value is ever parsed as markup.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

from auditor.models import PolicyInfo, Report, Severity, Waiver
from auditor.reports._text import SEVERITIES
from auditor.reports.accounts import account_summaries
from auditor.reports.json import dump_value, json_safe

if TYPE_CHECKING:
    from auditor.history import RunPoint

MAX_SERVER_ROWS = 1000  # errors, resolved failures: beyond this, see report.json
PAGE_SIZE = 100


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("auditor.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _asset(name: str) -> str:
    return resources.files("auditor.reports").joinpath(f"templates/{name}").read_text("utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: nothing in it can end the element."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_data(report: Report) -> dict[str, Any]:
    """Everything the page's script needs, in compact arrays (one entry per version, not per
    result: passes are rebuilt in the browser from a status string)."""
    waiver_index: dict[Waiver, int] = {}
    failures: list[list[Any]] = []
    position = {policy.id: index for index, policy in enumerate(report.policies)}
    for number, verdict in enumerate(report.verdicts):
        for result in verdict.failures:
            waiver = -1
            if result.waiver is not None:
                waiver = waiver_index.setdefault(result.waiver, len(waiver_index))
            failures.append(
                [
                    number,
                    position[result.policy_id],
                    [
                        [
                            item.path,
                            dump_value(item.actual),
                            dump_value(item.expected),
                            item.message,
                        ]
                        for item in result.evidence
                    ],
                    waiver,
                    "" if result.baseline is None else str(result.baseline),
                    result.id,
                ]
            )
    return {
        "policies": [
            [
                policy.id,
                policy.title,
                str(policy.severity),
                policy.pack_id,
                policy.description or "",
            ]
            for policy in report.policies
        ],
        "resources": [
            [
                resource.arn,
                resource.version_identifier or "",
                resource.name or "",
                resource.membership_id or "",
                resource.account or "",
                resource.region or "",
                resource.status or "",
            ]
            for resource in (verdict.resource for verdict in report.verdicts)
        ],
        "statuses": b"".join(verdict.statuses for verdict in report.verdicts)
        .translate(_STATUS_DIGITS)
        .decode("ascii"),
        "failures": failures,
        "waivers": [
            [waiver.reason, waiver.approved_by, waiver.expires.isoformat(), waiver.policy]
            for waiver in waiver_index
        ],
        "baseline": report.baseline_path is not None,
        "pageSize": PAGE_SIZE,
    }


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


def render_html(report: Report, history: Sequence[RunPoint] = ()) -> bytes:
    """report.html as UTF-8 bytes; ``history`` (past runs and this one) draws the trend."""
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
    html = template.render(
        report=report,
        scan=report.scan,
        summary=summary,
        gate=report.gate,
        severity_counts=severity_counts,
        severity_max=max([count for _, count in severity_counts] + [1]),
        policy_rows=policy_rows,
        policy_max=max([row.failed + row.waived for row in policy_rows] + [1]),
        params=json.dumps(json_safe(report.scan.params), indent=2, ensure_ascii=False, default=str),
        errors=report.errors[:MAX_SERVER_ROWS],
        resolved=report.resolved[:MAX_SERVER_ROWS],
        max_rows=MAX_SERVER_ROWS,
        severities=[str(sev) for sev in Severity],
        severity_enum=list(Severity),
        accounts=account_summaries(report),
        trend=trend_chart(history) if history else None,
        data=script_json(page_data(report)),
        script=script,
        style=style,
        csp=csp,
    )
    return html.encode("utf-8", "replace")
