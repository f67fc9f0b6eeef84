"""Report writers: one pure ``render`` per output format; only the CLI writes files.

``render(report, fmt)`` gives a format's bytes; ``iter_render`` gives them in chunks (report.json
streams, so a two-million-result report never has to sit in memory whole). Options that only
some formats use: ``history`` (past runs: report.html's trend), ``root`` (the repository root
that report.sarif names pack files relative to; the CLI passes the current directory) and
``notices`` (a list a writer appends a line to when it had to leave something out, for the
CLI to print: report.sarif within GitHub's upload limits).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import assert_never

from auditor.errors import UsageError
from auditor.models import Report, RunPoint


class Format(StrEnum):
    """An output format the CLI can write."""

    JSON = "json"
    HTML = "html"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    CSV = "csv"
    ASFF = "asff"
    OCSF = "ocsf"


FILENAMES: dict[Format, str] = {
    Format.JSON: "report.json",
    Format.HTML: "report.html",
    Format.SARIF: "report.sarif",
    Format.JUNIT: "report.junit.xml",
    Format.MARKDOWN: "report.md",
    Format.CSV: "report.csv",
    Format.ASFF: "report.asff.json",
    Format.OCSF: "report.ocsf.json",
}

DEFAULT_FORMATS = (Format.JSON, Format.HTML)


def render(
    report: Report,
    fmt: Format,
    *,
    history: Sequence[RunPoint] = (),
    root: str | os.PathLike[str] | None = None,
    notices: list[str] | None = None,
) -> bytes:
    """The whole file of one format (see the module docstring for the options)."""
    # Imported here so that loading one writer does not load them all (jinja2 for html).
    if fmt is Format.JSON:
        from auditor.reports.json import render_json

        return render_json(report)
    if fmt is Format.HTML:
        from auditor.reports.html import render_html

        return render_html(report, history)
    if fmt is Format.SARIF:
        from auditor.reports.sarif import render_sarif

        return render_sarif(report, root=root, notices=notices)
    if fmt is Format.JUNIT:
        from auditor.reports.junit import render_junit

        return render_junit(report)
    if fmt is Format.MARKDOWN:
        from auditor.reports.markdown import render_markdown

        return render_markdown(report)
    if fmt is Format.CSV:
        from auditor.reports.csv import render_csv

        return render_csv(report)
    if fmt is Format.ASFF:
        from auditor.reports.asff import render_asff

        return render_asff(report)
    if fmt is Format.OCSF:
        from auditor.reports.ocsf import render_ocsf

        return render_ocsf(report)
    assert_never(fmt)


def iter_render(
    report: Report,
    fmt: Format,
    *,
    history: Sequence[RunPoint] = (),
    root: str | os.PathLike[str] | None = None,
    notices: list[str] | None = None,
) -> Iterator[bytes]:
    """One format's file in chunks; write them in order (report.json and report.html stream
    version by version). The options are ``render``'s."""
    if fmt is Format.JSON:
        from auditor.reports.json import iter_json

        yield from iter_json(report)
    elif fmt is Format.HTML:
        from auditor.reports.html import iter_html

        yield from iter_html(report, history)
    elif fmt is Format.ASFF:
        from auditor.reports.asff import iter_asff

        yield from iter_asff(report)
    elif fmt is Format.OCSF:
        from auditor.reports.ocsf import iter_ocsf

        yield from iter_ocsf(report)
    else:
        yield render(report, fmt, history=history, root=root, notices=notices)


def parse_formats(text: str) -> tuple[Format, ...]:
    """``"json,html"`` -> formats, in order, without repeats; ``all`` means every format.

    Raises ``UsageError`` naming any unknown format and listing the known ones.
    """
    formats: list[Format] = []
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError("--format needs at least one format: " + ", ".join(Format) + ", all")
    for name in names:
        if name == "all":
            candidates = list(Format)
        elif name in Format.__members__.values():
            candidates = [Format(name)]
        else:
            aliases = {"md": Format.MARKDOWN, "xml": Format.JUNIT, "junit-xml": Format.JUNIT}
            if name not in aliases:
                raise UsageError(
                    f"unknown report format {name!r}; choose from {', '.join(Format)} or all"
                )
            candidates = [aliases[name]]
        formats += [fmt for fmt in candidates if fmt not in formats]
    return tuple(formats)
