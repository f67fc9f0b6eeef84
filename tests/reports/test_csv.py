"""report.csv as spreadsheets and data tools read it: the csv module and pandas.

Every hostile value must stay in its own cell, each result on exactly one row, and no cell may
start with a character a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date

import pandas
import pytest

from auditor.models import Evidence, Report, Result, Status, Waiver
from auditor.reports.csv import COLUMNS, cell, render_csv
from tests.reports.canned import POLICIES, make_report, resource, verdict

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# What a hostile account can name things: formula starts, line breaks (the row-splitting
# attack: "\n=1+1"), quotes, commas, NUL, bidi controls and a CRLF pair.
CORPUS = (
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=tab",
    "\r=cr",
    "\n=1+1",
    "name\n=1+1",
    "name\r\n@SUM(1)",
    'say "hi", then, =2',
    "nul\x00byte",
    "\u202egnp.exe",
    "\u2066isolate\u2069",
    'a\r\n"b",\n-c',
)


def _hostile_report() -> Report:
    waiver = Waiver(
        policy="required-tags",
        resource="*",
        version="*",
        reason="Legacy models\nretired in Q1\r\n=HYPERLINK(1)",
        expires=date(2099, 1, 1),
        approved_by="@security",
    )
    verdicts = []
    for number, value in enumerate(CORPUS):
        where = dataclasses.replace(
            resource(number, version=value, name=value),
            membership_id=value,
            status=value,
        )
        failures = [
            Result(
                policy=POLICIES[0],
                resource=where,
                status=Status.FAIL,
                evidence=(Evidence(path="name", actual=value, expected="x", message=value),),
            ),
            Result(
                policy=POLICIES[2],
                resource=where,
                status=Status.FAIL,
                evidence=(Evidence(path="tags", actual=None, expected="x", message=value),),
                waiver=waiver,
            ),
        ]
        statuses = [Status.FAIL, Status.PASS, Status.FAIL, Status.SKIP, Status.PASS]
        verdicts.append(verdict(where, statuses, failures))
    return make_report(verdicts=tuple(verdicts))


@pytest.fixture(scope="module")
def hostile_csv() -> tuple[Report, bytes]:
    report = _hostile_report()
    return report, render_csv(report)


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for value in row:
            assert not value.startswith(FORMULA_STARTS), (value, row)


def test_csv_module_reads_one_row_per_result(hostile_csv: tuple[Report, bytes]) -> None:
    report, data = hostile_csv
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    body = rows[1:]
    assert len(body) == sum(1 for _ in report.results()) == len(CORPUS) * len(POLICIES)
    assert all(len(row) == len(COLUMNS) for row in body)
    assert [row[0] for row in body] == [result.id for result in report.results()]
    _assert_no_formula(body)
    name = COLUMNS.index("name")
    assert [row[name] for row in body[:: len(POLICIES)]] == [cell(value) for value in CORPUS]


def test_a_multi_line_waiver_reason_stays_in_one_cell(hostile_csv: tuple[Report, bytes]) -> None:
    _, data = hostile_csv
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    reasons = {row["waiver_reason"] for row in rows if row["waived"] == "yes"}
    assert reasons == {"Legacy models\nretired in Q1\r\n=HYPERLINK(1)"}
    assert {row["waiver_approved_by"] for row in rows if row["waived"] == "yes"} == {"'@security"}


def test_pandas_reads_one_row_per_result(hostile_csv: tuple[Report, bytes]) -> None:
    report, data = hostile_csv
    frame = pandas.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == len(CORPUS) * len(POLICIES)
    assert list(frame["id"]) == [result.id for result in report.results()]
    assert list(frame["status"]) == [str(result.status) for result in report.results()]
    _assert_no_formula(frame.to_numpy().tolist())
    assert frame["name"].iloc[:: len(POLICIES)].tolist() == [cell(value) for value in CORPUS]


def test_no_physical_line_break_outside_quotes(hostile_csv: tuple[Report, bytes]) -> None:
    """Quoting is what keeps a line break inside its cell: every value holding CR or LF is
    quoted, so the file has exactly one unquoted CRLF per row."""
    _, data = hostile_csv
    text = data.decode("utf-8")
    inside = False
    row_ends = 0
    for index, char in enumerate(text):
        if char == '"':
            inside = not inside
        elif not inside and char in "\r\n":
            assert text[index : index + 2] == "\r\n" or text[index - 1 : index + 1] == "\r\n"
            row_ends += char == "\n"
    assert not inside
    assert row_ends == 1 + len(CORPUS) * len(POLICIES)
