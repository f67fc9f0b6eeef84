"""report.html in a real headless Chromium: it works offline, and hostile data stays text."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from auditor.models import Gate, Report, Severity, Status
from auditor.reports.html import render_html
from tests.reports.canned import (
    DISPLAY_CONTROLS,
    HOSTILE,
    POLICIES,
    SPOOF,
    SPOOF_SHOWN,
    fail,
    make_report,
    make_spoofed_report,
    resource,
    verdict,
)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("AUDITOR_SKIP_BROWSER") == "1":
            pytest.skip("AUDITOR_SKIP_BROWSER=1 and no Chromium")
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get update && apt-get install -y "
            "chromium`, or set AUDITOR_SKIP_BROWSER=1 to skip the browser tests"
        )

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


class Page:
    """An opened report with what it asked the network for and what it logged."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.url = path.as_uri()
        self.page = browser.new_page()
        self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.goto(self.url)

    def _route(self, route: Any) -> None:
        self.requests.append(route.request.url)
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def cells(self, name: str) -> list[str]:
        return [
            str(text) for text in self.page.locator(f"#results-body td.{name}").all_inner_texts()
        ]

    def rows(self) -> int:
        return int(self.page.locator("#results-body tr.result-row").count())


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Iterator[Any]:
    pages: list[Page] = []

    def opener(report: Report) -> Page:
        path = tmp_path / f"report-{len(pages)}.html"
        path.write_bytes(render_html(report))
        page = Page(browser, path)
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.page.close()


def test_page_loads_offline_with_no_console_errors(open_report: Any, report: Report) -> None:
    page = open_report(report)
    assert page.page.locator("#verdict h1").inner_text().endswith("Gate failed")
    assert page.rows() == 7
    assert page.problems == []
    assert page.requests == [page.url]


def test_sorting_by_severity_reorders_rows(open_report: Any, report: Report) -> None:
    page = open_report(report)
    severities = page.page.locator("#results-body tr.result-row td:first-child").all_inner_texts()
    assert severities[0] == "critical"
    assert severities[-1] == "info"
    page.page.click("button[data-sort=severity]")
    severities = page.page.locator("#results-body tr.result-row td:first-child").all_inner_texts()
    assert severities[0] == "info"
    assert severities[-1] == "critical"
    page.page.click("button[data-sort=name]")
    names = page.cells("name")
    assert names == sorted(names)


def test_filtering_by_policy_and_text_narrows_rows(open_report: Any, report: Report) -> None:
    page = open_report(report)
    page.page.select_option("#filter-policy", "required-tags")
    assert page.rows() == 2
    page.page.select_option("#filter-status", "waived")
    assert page.rows() == 1
    page.page.select_option("#filter-status", "")
    page.page.select_option("#filter-policy", "")
    page.page.fill("#filter-text", "model-2")
    expect(page.page.locator("#results-body tr.result-row")).to_have_count(1)
    assert page.cells("name") == ["model-2"]
    page.page.fill("#filter-text", "failed on model-1")
    expect(page.page.locator("#results-body tr.result-row")).to_have_count(6)
    assert page.problems == []


def test_opening_evidence_shows_it(open_report: Any, report: Report) -> None:
    page = open_report(report)
    assert page.page.locator("tr.detail").count() == 0
    page.page.locator("button.evidence").first.click()
    detail = page.page.locator("tr.detail")
    assert detail.count() == 1
    text = detail.inner_text()
    assert "encryption-at-rest failed on model-1" in text
    assert '"data-classification"' in text
    page.page.locator("button.evidence").first.click()
    assert page.page.locator("tr.detail").count() == 0


def test_passes_toggle_shows_passes_and_skips(open_report: Any, report: Report) -> None:
    page = open_report(report)
    assert page.page.locator("#results-body tr.status-pass").count() == 0
    page.page.check("#show-passes")
    assert page.rows() == 20
    assert page.page.locator("#results-body tr.status-pass").count() == 12
    assert page.page.locator("#results-body tr.status-skip").count() == 1


def _large_report(versions: int) -> Report:
    verdicts = []
    for number in range(versions):
        where = resource(number, name=f"model-{number:05d}")
        statuses = [Status.FAIL, Status.PASS, Status.FAIL, Status.PASS, Status.PASS]
        verdicts.append(
            verdict(where, statuses, [fail(POLICIES[0], where), fail(POLICIES[2], where)])
        )
    return make_report(verdicts=tuple(verdicts))


def test_paging_works_with_a_large_report(open_report: Any) -> None:
    page = open_report(_large_report(20_000))
    assert page.rows() == 100
    assert page.page.locator("#page-info").inner_text() == "Page 1 of 400"
    first_page = page.cells("name")
    page.page.click("#page-next")
    assert page.page.locator("#page-info").inner_text() == "Page 2 of 400"
    assert page.cells("name") != first_page
    page.page.click("#page-last")
    assert page.page.locator("#page-info").inner_text() == "Page 400 of 400"
    page.page.check("#show-passes")
    assert page.page.locator("#page-info").inner_text() == "Page 1 of 1000"
    page.page.fill("#filter-text", "model-01234")
    # The page's CSP forbids eval, so wait through locators rather than wait_for_function.
    expect(page.page.locator("#page-info")).to_have_text("Page 1 of 1")
    assert page.rows() == 5
    assert page.problems == []


def test_hostile_values_are_shown_literally_and_never_run(
    open_report: Any, hostile_report: Report
) -> None:
    page = open_report(hostile_report)
    assert page.page.evaluate("typeof window.__pwned") == "undefined"
    assert page.page.locator("script").count() == 2
    assert page.page.locator("img").count() == 0
    assert page.page.title() == "auditor report: gate failed"
    assert page.page.locator("#results-table").count() == 1
    # U+2028 (a line separator) is shown escaped, as every invisible control is
    shown = HOSTILE.replace("\u2028", "<U+2028>")
    assert page.cells("name") == ["N " + shown]
    page.page.locator("button.evidence").first.click()
    detail = page.page.locator("tr.detail").inner_text()
    assert "E " + shown in detail
    page.page.select_option("#filter-policy", "hostile-" + HOSTILE)
    assert page.rows() == 1
    errors = page.page.locator("#errors-table tbody").inner_text()
    assert "X " + shown in errors
    policy_table = page.page.locator("#policy-table").inner_text()
    assert "T " + shown in policy_table
    assert "49" not in page.page.locator("body").inner_text()
    assert page.page.evaluate("typeof window.__pwned") == "undefined"
    assert page.problems == []
    assert page.requests == [page.url]


def test_a_bidi_override_in_a_name_is_shown_escaped_never_applied(open_report: Any) -> None:
    """The rendered text of a name holding U+202E reads "invoice<U+202E>gnp.exe", not the
    reversed "invoiceexe.png"; so do evidence, errors, waivers and the filter options."""
    page = open_report(make_spoofed_report())
    assert page.cells("name") == [SPOOF_SHOWN] * 2  # a failure and a waived one
    assert page.cells("membership") == ["m-" + SPOOF_SHOWN] * 2
    page.page.locator("button.evidence").first.click()
    detail = page.page.locator("tr.detail").inner_text()
    assert "E " + SPOOF_SHOWN in detail
    assert '"k": "' + SPOOF_SHOWN.replace("<U+0000>", "\\u0000") in detail
    membership_options = page.page.locator("#filter-membership option").all_inner_texts()
    assert "m-" + SPOOF_SHOWN in membership_options
    page.page.select_option("#filter-membership", "m-" + SPOOF)  # the value stays the real id
    assert page.rows() == 2
    assert "X " + SPOOF_SHOWN in page.page.locator("#errors-table").inner_text()
    assert "R " + SPOOF_SHOWN in page.page.locator("#waivers-table").inner_text()
    text = page.page.locator("body").inner_text()
    for char in DISPLAY_CONTROLS:
        assert char not in text, repr(char)
    page.page.select_option("#filter-status", "waived")
    badge_title = page.page.locator("#results-body .tag.ok").first.get_attribute("title")
    assert badge_title is not None
    assert badge_title.startswith("R " + SPOOF_SHOWN)
    assert page.problems == []


def test_the_banner_is_green_only_when_all_is_clear(open_report: Any, report: Report) -> None:
    clear = make_report(verdicts=(verdict(resource(1), [Status.PASS] * 5, []),), errors=())
    clear = dataclasses.replace(clear, scan=dataclasses.replace(clear.scan, complete=True))
    below = dataclasses.replace(clear, verdicts=report.verdicts[2:], gate=Gate(Severity.CRITICAL))
    colours = {}
    for name, each in (("clear", clear), ("below", below), ("failed", report)):
        banner = open_report(each).page.locator("#verdict")
        colours[name] = banner.evaluate("e => getComputedStyle(e).backgroundColor")
        if name == "below":
            assert banner.inner_text().endswith(
                "Gate passed at critical; 1 high failure below the threshold."
            )
    assert colours == {
        "clear": "rgb(26, 127, 55)",  # green
        "below": "rgb(154, 103, 0)",  # amber: failures exist, the gate let them through
        "failed": "rgb(207, 34, 46)",  # red
    }


def test_a_collaboration_model_is_marked_with_its_type(open_report: Any) -> None:
    from auditor.models import ResourceType

    own = resource(1)
    partner = dataclasses.replace(
        resource(2, name="partner-model"),
        type=ResourceType.COLLABORATION_TRAINED_MODEL,
        creator_account="444455556666",
    )
    statuses = [Status.FAIL, Status.PASS, Status.PASS, Status.PASS, Status.PASS]
    report = make_report(
        verdicts=(
            verdict(own, statuses, [fail(POLICIES[0], own)]),
            verdict(partner, statuses, [fail(POLICIES[0], partner)]),
        )
    )
    page = open_report(report)
    names = page.cells("name")
    assert sorted(names) == sorted(["model-1", "partner-model collaboration-trained-model"])
    badges = page.page.locator("#results-body .resource-type").all_inner_texts()
    assert badges == ["collaboration-trained-model"]
    page.page.fill("#filter-text", "collaboration-trained-model")
    expect(page.page.locator("#results-body tr.result-row")).to_have_count(1)
    assert page.problems == []
