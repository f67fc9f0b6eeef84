"""Reading report.json from a file: auditor's own layout a result line at a time, any other
layout of the same JSON whole, with the same report and the same errors either way."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.errors import ReportInputError
from auditor.models import Report
from auditor.reports import json as report_json
from auditor.reports.json import render_json
from auditor.reports.load import load_report, read_report


def _read(data: bytes) -> Report:
    return read_report(io.BytesIO(data), "r.json")


def _largest_parse(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every text ``json.loads`` is given while reading."""
    sizes: list[int] = []
    real = json.loads

    def loads(text: Any, **kwargs: Any) -> Any:
        sizes.append(len(text))
        return real(text, **kwargs)

    monkeypatch.setattr(report_json.json, "loads", loads)
    return sizes


def test_own_layout_is_parsed_a_result_at_a_time(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = render_json(report)
    lines = data.count(b"\n")
    report_json.report_schema()  # loaded once per process: not part of reading a report
    sizes = _largest_parse(monkeypatch)
    loaded = _read(data)
    assert render_json(loaded) == data
    # one parse for the frame (everything but the results), then one per result line
    assert len(sizes) == 1 + sum(len(v.statuses) for v in report.verdicts)
    result_sizes = sizes[1:]
    assert max(result_sizes) < len(data) / 10
    assert sizes[0] + sum(result_sizes) < len(data)
    assert lines > len(result_sizes)


@pytest.mark.parametrize("indent", [None, 2])
def test_any_other_layout_of_the_same_json_reads_the_same(
    report: Report, indent: int | None
) -> None:
    data = render_json(report)
    other = json.dumps(json.loads(data), indent=indent).encode()
    assert render_json(_read(other)) == data


def test_two_results_on_one_line_is_json_but_not_the_layout(report: Report) -> None:
    data = render_json(report)
    joined = data.replace(b"},\n{", b"}, {", 1)
    assert joined != data
    assert render_json(_read(joined)) == data


def test_a_trailing_comma_is_not_json(report: Report) -> None:
    data = render_json(report)
    broken = data.replace(b"}\n],\n", b"},\n],\n", 1)
    assert broken != data
    with pytest.raises(ReportInputError, match=r"r\.json: not JSON"):
        _read(broken)


def test_a_broken_result_line_is_not_json(report: Report) -> None:
    data = render_json(report)
    broken = data.replace(b'"status":"pass"', b'"status":', 1)
    with pytest.raises(ReportInputError, match=r"r\.json: not JSON"):
        _read(broken)


def test_a_bad_result_line_is_named_by_its_place(report: Report) -> None:
    data = render_json(report)
    broken = data.replace(b'"status":"pass"', b'"status":"maybe"', 1)
    number = next(
        n for n, item in enumerate(json.loads(data)["results"]) if item["status"] == "pass"
    )
    with pytest.raises(ReportInputError, match=rf"at results/{number}/status"):
        _read(broken)


def test_a_problem_after_the_results_is_named_before_any_result(report: Report) -> None:
    data = render_json(report)
    results, separator, tail = data.partition(b"\n],\n")
    scope = json.loads(data)["errors"][0]["scope"]
    tail = tail.replace(f'"scope": "{scope}"'.encode(), b'"scope": "galaxy"', 1)
    broken = results + separator + tail
    assert json.loads(broken)["errors"][0]["scope"] == "galaxy"
    # a bad result as well: the problem outside the results is still the one named
    with pytest.raises(ReportInputError, match=r"at errors/0/scope"):
        _read(broken.replace(b'"status":"pass"', b'"status":"maybe"', 1))


def test_load_report_and_read_report_agree(report: Report, baselined_report: Report) -> None:
    for original in (report, baselined_report):
        data = render_json(original)
        assert render_json(load_report(data, "a.json")) == render_json(_read(data))


def test_cli_reads_a_report_from_a_pipe(report: Report, tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    data = render_json(report)

    def feed() -> None:
        with fifo.open("wb") as writer:
            writer.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        code = main(["report", "--input", str(fifo), "--output-dir", str(tmp_path / "out")])
    finally:
        writer.join(timeout=10)
    assert code == 0
    assert (tmp_path / "out" / "report.json").read_bytes() == data
