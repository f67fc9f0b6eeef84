from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape
from typing import Any

from auditor.models import Gate, Report, Severity, Status
from auditor.reports.html import iter_html, page_data, render_html, script_json
from tests.reports.canned import (
    DISPLAY_CONTROLS,
    HOSTILE,
    POLICIES,
    SPOOF_SHOWN,
    fail,
    make_report,
    make_spoofed_report,
    resource,
    verdict,
)


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"k": HOSTILE + "&"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert "\u2028" not in text
    assert json.loads(text) == {"k": HOSTILE + "&"}


def test_hostile_report_has_only_its_own_two_scripts(hostile_report: Report) -> None:
    html = render_html(hostile_report).decode()
    assert html.lower().count("<script") == 2
    assert "<img" not in html
    assert "{{7*7}}" in html.replace("&#34;", '"')  # shown, never evaluated


def test_page_fetches_nothing_and_runs_only_hashed_script(report: Report) -> None:
    html = render_html(report).decode()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "url(" not in html
    assert "@import" not in html
    policy = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)[1])  # type: ignore[index]
    assert "default-src 'none'" in policy
    assert "script-src 'sha256-" in policy


def test_page_data_rebuilds_every_result(report: Report) -> None:
    data = page_data(report)
    assert len(data["statuses"]) == len(report.verdicts) * len(report.policies)
    assert data["statuses"].count("1") == len(data["failures"]) == report.summary().failed
    assert sum(1 for f in data["failures"] if f[3] >= 0) == report.summary().waived


def test_html_shows_gate_counts_scope_packs_and_waivers(report: Report) -> None:
    html = render_html(report).decode()
    assert "Gate failed" in html
    assert 'id="count-fail">6<' in html
    assert "ab" * 32 in html
    assert "packs/baseline.yaml" in html
    assert "membership m-9 (AccessDeniedException)" in html
    assert html.count('class="tag bad">expired') == 1
    assert html.count('class="tag warn">unmatched') == 1
    assert html.count('class="tag ok">applied') == 1
    assert "&#34;max_hours&#34;: 24" in html


def test_baselined_html_shows_resolved_gone_and_not_rechecked_with_counts(
    baselined_report: Report,
) -> None:
    html = render_html(baselined_report).decode()
    assert "baseline/report.json" in html
    counts = html.split('id="baseline-counts">')[1].split("</dl>")[0]
    assert "<dt>Resolved</dt><dd>1</dd>" in counts
    assert "<dt>Gone</dt><dd>1</dd>" in counts
    assert "<dt>Not re-checked</dt><dd>1</dd>" in counts
    table = html.split('id="prior-table">')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    states = [row.split('">')[1].split("<")[0] for row in rows]
    assert states == ["not re-checked", "gone", "resolved"]  # the unproven first
    assert "ListTrainedModels failed: AccessDeniedException" in rows[0]


def test_the_streamed_data_block_is_page_data_as_script_json(
    report: Report, hostile_report: Report
) -> None:
    for each in (report, hostile_report, replace(report, verdicts=report.verdicts * 1500)):
        html = render_html(each).decode()
        block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
        assert block is not None
        assert block[1] == script_json(page_data(each))


def test_a_large_page_is_written_in_pieces(report: Report) -> None:
    large = replace(report, verdicts=report.verdicts * 3000)
    chunks = list(iter_html(large))
    assert b"".join(chunks) == render_html(large)
    assert max(len(chunk) for chunk in chunks) < sum(len(chunk) for chunk in chunks) / 4


def test_display_controls_never_reach_the_page_raw() -> None:
    """Bidi overrides, zero-width characters and NUL from AWS are shown as <U+...> wherever the
    server prints them, and travel in the data block only as JSON escapes."""
    html = render_html(make_spoofed_report()).decode("utf-8")
    for char in DISPLAY_CONTROLS:
        assert char not in html, repr(char)
    assert html.count(SPOOF_SHOWN.replace("<", "&lt;").replace(">", "&gt;")) >= 3
    data = re.search(r'id="report-data">(.*?)</script>', html)
    assert data is not None
    assert "\\u202e" in data[1]  # the script shows it escaped (see test_html_browser)


def _gate_report(failures: dict[Severity, int], *, errors: bool = False, **changes: Any) -> Report:
    """Versions failing one policy of the given severity each; complete unless ``errors``."""
    base = make_report()
    by_severity = {policy.severity: policy for policy in POLICIES}
    verdicts = []
    number = 0
    for severity, count in failures.items():
        index = POLICIES.index(by_severity[severity])
        for _ in range(count):
            where = resource(number)
            statuses = [Status.PASS] * len(POLICIES)
            statuses[index] = Status.FAIL
            verdicts.append(verdict(where, statuses, [fail(by_severity[severity], where)]))
            number += 1
    return replace(
        base,
        verdicts=tuple(verdicts) or (verdict(resource(99), [Status.PASS] * 5, []),),
        errors=base.errors if errors else (),
        scan=replace(base.scan, complete=not errors),
        **changes,
    )


def _banner(html: str) -> tuple[str, str]:
    match = re.search(
        r'<header id="verdict" class="([^"]*)".*?id="verdict-detail">([^<]*)<', html, re.S
    )
    assert match is not None
    return match[1], match[2]


def test_a_pass_with_failures_below_the_threshold_says_so_in_amber() -> None:
    report = _gate_report(
        {Severity.HIGH: 1589, Severity.MEDIUM: 2004}, gate=Gate(fail_on=Severity.CRITICAL)
    )
    classes, sentence = _banner(render_html(report).decode())
    assert sentence == (
        "Gate passed at critical; 1,589 high and 2,004 medium failures below the threshold."
    )
    assert classes.split() == ["verdict", "passed", "findings"]


def test_green_only_with_no_failure_and_no_error() -> None:
    classes, sentence = _banner(render_html(_gate_report({})).decode())
    assert classes.split() == ["verdict", "passed", "clear"]
    assert sentence == "Gate passed at high; no failures."
    classes, sentence = _banner(render_html(_gate_report({}, errors=True)).decode())
    assert classes.split() == ["verdict", "passed", "findings"]
    assert sentence == "Gate passed at high; 2 errors."
    low_only = _gate_report({Severity.INFO: 1})
    classes, sentence = _banner(render_html(low_only).decode())
    assert classes.split() == ["verdict", "passed", "findings"]
    assert sentence == "Gate passed at high; 1 info failure below the threshold."


def test_a_failed_gate_names_what_fails_it_and_what_lies_below(report: Report) -> None:
    classes, sentence = _banner(render_html(report).decode())
    assert classes.split() == ["verdict", "failed"]
    assert sentence == (
        "Gate failed at high: 1 critical and 2 high failures at or above the threshold; "
        "1 medium, 1 low and 1 info failures below the threshold; 1 waived; 2 errors."
    )
