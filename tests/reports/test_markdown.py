"""report.md as GitHub shows it: a job summary or a pull-request comment."""

from __future__ import annotations

import dataclasses

from auditor.models import Gate, Report, Severity
from auditor.reports.markdown import md, render_markdown
from tests.reports.canned import DISPLAY_CONTROLS, SPOOF, make_spoofed_report


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
