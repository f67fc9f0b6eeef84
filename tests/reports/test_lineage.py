"""Lineage and blast radius in report.json (schema, read back), HTML (a tree, escaped, no
network) and Markdown."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape

from auditor.models import InferenceJobUse, Lineage, Report
from auditor.reports.html import render_html
from auditor.reports.json import render_json
from auditor.reports.load import load_report
from auditor.reports.markdown import render_markdown
from tests.reports.canned import HOSTILE, make_report, resource, validate_report_json

BASE = "arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/m/trained-model/base"
JOB = "arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/m/trained-model-inference-job/j1"


def _with_lineage(job_name: str = "nightly") -> Report:
    report = make_report()
    failing = resource(1)
    passing = resource(3)
    return replace(
        report,
        lineage=(
            Lineage(
                arn=failing.arn,
                version_identifier=failing.version_identifier,
                bases=((BASE, "b2"), (BASE + "-root", "b1")),
                jobs=(
                    InferenceJobUse(
                        arn=JOB, status="ACTIVE", name=job_name, output_members=("444455556666",)
                    ),
                ),
                jobs_read=True,
                failing=("kms-key-present",),
            ),
            Lineage(
                arn=passing.arn,
                version_identifier=passing.version_identifier,
                bases=((BASE, "b2"),),
                jobs=(),
                jobs_read=False,
            ),
        ),
    )


def test_report_json_lists_each_failing_versions_jobs_and_reads_back() -> None:
    report = _with_lineage()
    document = json.loads(render_json(report))
    validate_report_json(document)
    first = document["lineage"][0]
    assert first["failing"] == ["kms-key-present"]
    assert first["bases"] == [
        {"arn": BASE, "version_identifier": "b2"},
        {"arn": BASE + "-root", "version_identifier": "b1"},
    ]
    assert first["inference_jobs"] == [
        {"arn": JOB, "status": "ACTIVE", "name": "nightly", "output_members": ["444455556666"]}
    ]
    assert document["lineage"][1]["inference_jobs_read"] is False
    again = load_report(render_json(report), "report.json")
    assert again.lineage == report.lineage
    assert [item.arn for item in again.blast_radius()] == [resource(1).arn]


def test_a_report_without_context_has_no_lineage_key() -> None:
    assert "lineage" not in json.loads(render_json(make_report()))


def test_html_draws_the_chain_as_a_nested_tree_failing_first() -> None:
    html = render_html(_with_lineage()).decode()
    section = html[html.index('id="lineage"') : html.index('id="errors"')]
    first_tree = section[section.index('<ul class="tree failing">') :]
    # farthest base, then nearest, then the model, then its job: each nested in the previous
    positions = [
        first_tree.index(text) for text in (BASE + "-root", BASE + "<", resource(1).arn, JOB)
    ]
    assert positions == sorted(positions)
    assert section.count('<ul class="tree') == 2
    assert "inference jobs not read" in section
    opened = len(re.findall(r"<ul[ >]", section))
    assert opened == section.count("</ul>")  # the tree is well formed


def test_html_lineage_escapes_hostile_text_and_fetches_nothing() -> None:
    html = render_html(_with_lineage(job_name=HOSTILE)).decode()
    assert html.lower().count("<script") == 2
    assert "<img" not in html
    report = replace(
        _with_lineage(),
        lineage=(replace(_with_lineage().lineage[0], arn=HOSTILE),),
    )
    html = render_html(report).decode()
    assert html.lower().count("<script") == 2
    assert HOSTILE.replace('"', "&#34;").replace("<", "&lt;").replace(">", "&gt;").split(" ")[
        0
    ] in html.replace("&#39;", "'")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    policy = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)[1])  # type: ignore[index]
    assert "default-src 'none'" in policy


def test_markdown_blast_radius_lists_job_status_and_output_members() -> None:
    text = render_markdown(_with_lineage()).decode()
    assert "### Blast radius (1 failing versions in use)" in text
    row = next(line for line in text.splitlines() if JOB in line)
    assert "ACTIVE" in row
    assert "444455556666" in row
    assert "kms-key-present" in row
    assert f"| {BASE} vb2 \\(\\+1 earlier\\) |" in row  # Markdown-escaped
