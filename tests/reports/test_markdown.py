"""report.md as GitHub shows it: a job summary or a pull-request comment."""

from __future__ import annotations

import dataclasses
import re

from auditor.models import Gate, Report, ScanFilters, Severity, Status, WaiverUse
from auditor.reports.markdown import md, render_markdown
from tests.reports.canned import (
    DISPLAY_CONTROLS,
    POLICIES,
    SPOOF,
    WAIVER,
    fail,
    make_report,
    make_spoofed_report,
    resource,
    verdict,
)


def test_display_controls_are_shown_escaped_never_applied() -> None:
    text = render_markdown(make_spoofed_report()).decode("utf-8")
    for char in DISPLAY_CONTROLS:
        assert char not in text, repr(char)
    # "<", ">" become entities and "+" is backslash-escaped: GitHub shows a literal <U+202E>
    shown = r"invoice&lt;U\+202E&gt;gnp.exe &lt;U\+2066&gt;iso&lt;U\+2069&gt;"
    assert text.count(shown) >= 3  # the failure row, the waived row, the error row
    assert md("a\u202eb") == r"a&lt;U\+202E&gt;b"
    assert md(SPOOF).count("&lt;U") == 7


def test_the_verdict_says_what_lies_below_the_threshold(report: Report) -> None:
    passed = dataclasses.replace(
        report, gate=Gate(fail_on=Severity.CRITICAL), verdicts=report.verdicts[2:]
    )
    text = render_markdown(passed).decode("utf-8")
    assert "⚠️ **Gate passed** at `critical`; 1 high failure below the threshold; 2 errors." in text
    assert "✅" not in text


GITHUB_JOB_SUMMARY_LIMIT = 1024 * 1024  # bytes


def _huge_report() -> Report:
    """Far more than a job summary can hold: 20,000 failing versions, 3,000 errors, 2,000
    waivers to review, 5,000 memberships named in the scope; every AWS value long and full of
    characters Markdown must escape (each grows fivefold)."""
    long = "<@#>" * 1500
    base = make_report()
    verdicts = []
    for number in range(20_000):
        where = dataclasses.replace(resource(number, name=f"{number} {long}"), membership_id=long)
        statuses = [Status.FAIL, Status.PASS, Status.PASS, Status.PASS, Status.PASS]
        verdicts.append(verdict(where, statuses, [fail(POLICIES[0], where, message=long)]))
    errors = tuple(
        dataclasses.replace(base.errors[0], message=f"{number} {long}") for number in range(3000)
    )
    stale = tuple(
        WaiverUse(dataclasses.replace(WAIVER, reason=long, index=n), matched=0, expired=True)
        for n in range(2000)
    )
    scan = dataclasses.replace(
        base.scan, filters=ScanFilters(memberships=tuple(f"m-{n}-{long}" for n in range(5000)))
    )
    return dataclasses.replace(
        base, verdicts=tuple(verdicts), errors=errors, waivers=stale, scan=scan
    )


def test_a_huge_report_stays_within_githubs_job_summary_limit() -> None:
    data = render_markdown(_huge_report())
    assert len(data) <= GITHUB_JOB_SUMMARY_LIMIT
    text = data.decode("utf-8")
    assert "### Failures (20000 unwaived)" in text
    assert re.search(r"…and [\d,]+ more in report\.json\.\n\n### Waivers to review", text)
    assert re.search(r"…and [\d,]+ more in report\.json\.\n\n### Errors \(3000\)", text)
    assert re.search(r"…and [\d,]+ more in report\.json\.\n\n<sub>", text)
    assert "4,980 more in report.json" in text  # memberships in the scope line
    rows = [line for line in text.splitlines() if line.startswith("| critical | encryption")]
    assert len(rows) == 50  # failures are still listed, each value cut short
    assert all(line.count(" | ") == 4 for line in rows)
    assert max(len(line.encode()) for line in text.splitlines()) < 50_000  # cells are cut


def test_lists_are_halved_until_the_summary_fits() -> None:
    data = render_markdown(_huge_report(), max_bytes=60_000)
    assert len(data) <= 60_000
    text = data.decode("utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| critical | encryption")]
    assert 0 < len(rows) < 50
    assert f"…and {20_000 - len(rows):,} more in report.json." in text


def test_an_ordinary_report_keeps_its_fifty_rows(report: Report) -> None:
    many = dataclasses.replace(report, verdicts=report.verdicts * 30)
    text = render_markdown(many).decode("utf-8")
    failures = text.split("### Failures")[1].split("###")[0]
    assert sum(line.startswith("| ") for line in failures.splitlines()) == 2 + 50
    assert "…and 130 more in report.json." in failures
